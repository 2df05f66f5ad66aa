#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The clients table's page query (which walks `client_products` when filtered by product)
//! returns exactly what the straightforward query returns, for every sort, direction, filter and
//! offset, also after the clients and subscriptions it mirrors have changed.

use hostdesk_core::catalog::{Period, PriceDraft, ProductDraft};
use hostdesk_core::client::{ClientDraft, ClientStatus};
use hostdesk_store::clients::{self, ClientQuery, ClientRow, ClientSort};
use hostdesk_store::subscriptions::{self, NewSubscription};
use hostdesk_store::{catalog, Connection, Store};

const AT: &str = "2026-11-01T09:00:00Z";

/// A small deterministic generator (the same database on every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn seed(conn: &Connection) -> Vec<i64> {
    let products: Vec<i64> = ["oa", "drupal", "reseller"]
        .iter()
        .map(|code| {
            let p = ProductDraft {
                code: (*code).into(),
                name: format!("Product {code}"),
                profile: "standard".into(),
                prices: vec![PriceDraft {
                    currency: "EUR".into(),
                    period: Some(Period::Month),
                    amount: "9.95".into(),
                }],
                ..Default::default()
            }
            .validate()
            .unwrap();
            catalog::insert_product(conn, &p, AT).unwrap()
        })
        .collect();
    let mut r = Lcg(11);
    // Few distinct names and e-mails, in mixed case: many ties under NOCASE, broken by id.
    let first = ["anna", "Anna", "ben", "BEN", "Camille", "david", "Émile"];
    let last = ["Martin", "martin", "Keller", "Ito"];
    for i in 0..300 {
        let name = format!(
            "{} {}",
            first[r.below(first.len() as u64) as usize],
            last[r.below(last.len() as u64) as usize]
        );
        let email = format!(
            "{}{}@Example.com",
            ["a", "B", "c"][r.below(3) as usize],
            i % 40
        );
        let mut c = ClientDraft {
            name,
            email,
            currency: "EUR".into(),
            timezone: "Europe/Paris".into(),
            ..Default::default()
        }
        .validate(1)
        .unwrap();
        c.status = match r.below(6) {
            0 => ClientStatus::Suspended,
            1 => ClientStatus::Closed,
            _ => ClientStatus::Active,
        };
        let id = clients::insert(conn, &c, AT).unwrap();
        // 0 to 3 subscriptions, sometimes twice the same product, some not active
        for _ in 0..r.below(4) {
            let sub = NewSubscription {
                client_id: id,
                product_id: products[r.below(3) as usize],
                kit_id: None,
                tier_id: None,
                currency: "EUR",
                period: "month",
                price_minor: 995,
                state: ["active", "active", "cancelled", "pending"][r.below(4) as usize],
                anchor_day: 1,
                started_on: "2026-11-01",
                next_due_on: Some("2026-12-01"),
                expires_on: None,
                choices: &[],
                quotas: &[],
            };
            subscriptions::insert(conn, &sub, AT).unwrap();
        }
    }
    products
}

/// The page as the plain query over `clients` finds it: (total, rows).
fn reference(conn: &Connection, q: &ClientQuery) -> (i64, Vec<ClientRow>) {
    let mut filter = String::from(" WHERE 1 = 1");
    if let Some(f) = clients::fts_query(&q.search) {
        filter.push_str(&format!(
            " AND c.id IN (SELECT rowid FROM client_search WHERE client_search MATCH '{f}')"
        ));
    }
    if let Some(s) = &q.status {
        filter.push_str(&format!(" AND c.status = '{s}'"));
    }
    if let Some(p) = &q.product {
        filter.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM subscriptions s JOIN products p ON p.id = s.product_id
                           WHERE s.client_id = c.id AND p.code = '{p}')"
        ));
    }
    let dir = if q.descending { "DESC" } else { "ASC" };
    let order = match q.sort {
        ClientSort::Name => format!("c.name COLLATE NOCASE {dir}, c.id {dir}"),
        ClientSort::Email => format!("c.email COLLATE NOCASE {dir}, c.id {dir}"),
        ClientSort::Created => format!("c.id {dir}"),
        ClientSort::Status => format!("c.status {dir}, c.name COLLATE NOCASE {dir}, c.id {dir}"),
    };
    let total = conn
        .query_row(
            &format!("SELECT count(*) FROM clients c{filter}"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT c.id, c.name, c.email, c.country, c.currency, c.status, c.created_at,
                    (SELECT count(*) FROM subscriptions s WHERE s.client_id = c.id)
               FROM clients c{filter} ORDER BY {order} LIMIT {} OFFSET {}",
            q.limit, q.offset
        ))
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok(ClientRow {
                id: r.get(0)?,
                name: r.get(1)?,
                email: r.get(2)?,
                country: r.get(3)?,
                currency: r.get(4)?,
                status: r.get(5)?,
                created_at: r.get(6)?,
                subscriptions: r.get(7)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (total, rows)
}

fn every_page_matches(conn: &Connection) -> usize {
    let mut compared = 0;
    let sorts = [
        ClientSort::Name,
        ClientSort::Email,
        ClientSort::Created,
        ClientSort::Status,
    ];
    for sort in sorts {
        for descending in [false, true] {
            for status in [None, Some("active"), Some("suspended"), Some("closed")] {
                for product in [
                    None,
                    Some("oa"),
                    Some("drupal"),
                    Some("reseller"),
                    Some("none"),
                ] {
                    for search in ["", "anna", "mar"] {
                        for offset in [0, 7, 40, 95, 400] {
                            let q = ClientQuery {
                                search: search.into(),
                                status: status.map(Into::into),
                                product: product.map(Into::into),
                                sort,
                                descending,
                                offset,
                                limit: 25,
                            };
                            let page = clients::query(conn, &q).unwrap();
                            let (total, rows) = reference(conn, &q);
                            assert_eq!(page.rows, rows, "{q:?}");
                            if offset == 0 {
                                assert_eq!(page.total, Some(total), "{q:?}");
                            }
                            compared += 1;
                        }
                    }
                }
            }
        }
    }
    compared
}

#[test]
fn a_filtered_page_is_exactly_the_straightforward_querys() {
    let store = Store::open_in_memory().unwrap();
    let conn = store.conn();
    let products = seed(conn);
    assert!(every_page_matches(conn) > 2_000);

    // What client_products mirrors changes: names, e-mails and statuses of clients, the product
    // of subscriptions (a plan change), subscriptions and clients deleted.
    conn.execute_batch(
        "UPDATE clients SET name = upper(name), status = 'closed' WHERE id % 7 = 0;
         UPDATE clients SET email = 'z' || email WHERE id % 11 = 0;
         UPDATE clients SET status = 'active' WHERE id % 13 = 0;",
    )
    .unwrap();
    conn.execute(
        "UPDATE subscriptions SET product_id = ?1 WHERE id % 5 = 0",
        [products[0]],
    )
    .unwrap();
    conn.execute(
        "UPDATE subscriptions SET client_id = client_id + 1 WHERE id % 9 = 0 AND client_id < 300",
        [],
    )
    .unwrap();
    conn.execute_batch(
        "DELETE FROM subscription_choices WHERE subscription_id % 4 = 0;
         DELETE FROM subscription_quotas WHERE subscription_id % 4 = 0;
         DELETE FROM subscriptions WHERE id % 4 = 0;
         DELETE FROM contacts WHERE client_id IN (SELECT id FROM clients WHERE id % 17 = 0);
         DELETE FROM clients WHERE id % 17 = 0 AND id NOT IN (SELECT client_id FROM subscriptions);",
    )
    .unwrap();
    every_page_matches(conn);

    let mirrored: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT DISTINCT product_id, client_id FROM subscriptions)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let kept: i64 = conn
        .query_row("SELECT count(*) FROM client_products", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, mirrored, "one row per client and product subscribed");
}
