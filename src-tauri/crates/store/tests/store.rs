#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
use hostdesk_core::catalog::{Period, Price, PriceDraft, ProductDraft};
use hostdesk_core::client::{ClientDraft, ContactDraft, ContactRole};
use hostdesk_core::{Currency, Money};
use hostdesk_store::clients::{self, ClientQuery, ClientSort};
use hostdesk_store::subscriptions::{self, NewSubscription};
use hostdesk_store::{catalog, migrations, Store, StoreError};

const AT: &str = "2026-11-01T09:00:00Z";

fn client(name: &str, email: &str) -> hostdesk_core::client::ClientFields {
    ClientDraft {
        name: name.into(),
        email: email.into(),
        currency: "EUR".into(),
        timezone: "Europe/Paris".into(),
        ..Default::default()
    }
    .validate(1)
    .unwrap()
}

#[test]
fn a_new_database_is_at_the_latest_version_with_foreign_keys_on() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::LATEST);
    let fk: i64 = store
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    // a contact for a client that does not exist is refused
    let err = store.conn().execute(
        "INSERT INTO contacts (client_id, name, email, role) VALUES (999, 'x', 'x@y.z', 'owner')",
        [],
    );
    assert!(err.is_err());
}

#[test]
fn a_file_database_uses_wal_and_a_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/dir/hd.db")).unwrap();
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let timeout: i64 = store
        .conn()
        .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
        .unwrap();
    assert_eq!(timeout, 5000);
}

#[test]
fn a_database_made_by_schema_version_1_opens_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let v1 = Store::open_at_version(&path, 1).unwrap();
        assert_eq!(v1.schema_version().unwrap(), 1);
        // written the way a version-1 binary wrote it
        v1.conn()
            .execute_batch(
                "INSERT INTO clients (name, email, currency, timezone, created_at, updated_at)
                 VALUES ('Old Timer Ltd', 'old@timer.example', 'GBP', 'Europe/London', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z');
                 INSERT INTO contacts (client_id, name, email, role) VALUES (1, 'Winnie', 'winnie@timer.example', 'billing');
                 INSERT INTO settings (key, value) VALUES ('staff_name', 'Ada');",
            )
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::LATEST);
    let c = clients::get(store.conn(), 1).unwrap();
    assert_eq!(
        (c.name.as_str(), c.currency.as_str()),
        ("Old Timer Ltd", "GBP")
    );
    // the search index added in a later version covers the old rows, contacts included
    let hits = clients::search(store.conn(), "winnie", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].name, "Old Timer Ltd");
}

#[test]
fn a_database_newer_than_this_binary_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(Store::open(&path).unwrap());
    let future = migrations::LATEST + 3;
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {future}"))
        .unwrap();
    let err = Store::open(&path)
        .err()
        .expect("a newer database must be refused");
    assert!(matches!(err, StoreError::TooNew { found, .. } if found == future));
    assert!(err.to_string().contains("newer Hostdesk"), "{err}");
    let v: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, future);
}

#[test]
fn search_finds_names_emails_contacts_and_domains_by_prefix() {
    let store = Store::open_in_memory().unwrap();
    let conn = store.conn();
    let a = clients::insert(
        conn,
        &client("Café Olé Roasters", "billing@cafeole.example"),
        AT,
    )
    .unwrap();
    let b = clients::insert(
        conn,
        &client("Northwind Cooperative", "ops@northwind.example"),
        AT,
    )
    .unwrap();
    let contact = ContactDraft {
        name: "Haruto Ito".into(),
        email: "haruto@sakura.example".into(),
        role: Some(ContactRole::Technical),
        ..Default::default()
    };
    clients::insert_contact(conn, b, &contact.validate().unwrap()).unwrap();

    let names = |q: &str| -> Vec<String> {
        clients::search(conn, q, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    assert_eq!(
        names("cafe"),
        ["Café Olé Roasters"],
        "diacritics are folded"
    );
    assert_eq!(names("ol"), ["Café Olé Roasters"], "prefix match");
    assert_eq!(names("northwind.exa"), ["Northwind Cooperative"]);
    assert_eq!(names("haruto"), ["Northwind Cooperative"], "contact names");
    assert_eq!(
        names("sakura"),
        ["Northwind Cooperative"],
        "contact e-mails"
    );
    assert!(names("zzz").is_empty());
    assert!(names("  @@ ").is_empty(), "nothing searchable typed");

    // a site's domain makes its client findable
    let pid = catalog::insert_product(conn, &product("p"), AT).unwrap();
    let sub = subscriptions::insert(conn, &sub(a, pid), AT).unwrap();
    subscriptions::insert_site(conn, sub, "intranet.lumiere.example", "", "", "active", AT)
        .unwrap();
    assert_eq!(names("lumiere"), ["Café Olé Roasters"]);

    // renaming re-indexes
    clients::update(
        conn,
        a,
        &client("Atelier Bleu", "billing@cafeole.example"),
        AT,
    )
    .unwrap();
    assert!(names("roasters").is_empty());
    assert_eq!(names("bleu"), ["Atelier Bleu"]);
}

fn product(code: &str) -> hostdesk_core::catalog::ProductFields {
    ProductDraft {
        code: code.into(),
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
    .unwrap()
}

fn sub(client_id: i64, product_id: i64) -> NewSubscription<'static> {
    NewSubscription {
        client_id,
        product_id,
        kit_id: None,
        tier_id: None,
        currency: "EUR",
        period: "month",
        price_minor: 995,
        state: "active",
        anchor_day: 1,
        started_on: "2026-11-01",
        next_due_on: Some("2026-12-01"),
        expires_on: None,
        choices: &[],
        quotas: &[],
    }
}

#[test]
fn the_client_page_query_sorts_filters_and_pages() {
    let store = Store::open_in_memory().unwrap();
    let conn = store.conn();
    let pid = catalog::insert_product(conn, &product("oa"), AT).unwrap();
    for i in 0..250 {
        let mut c = client(&format!("Client {i:03}"), &format!("c{i}@example.com"));
        if i % 5 == 0 {
            c.status = hostdesk_core::client::ClientStatus::Suspended;
        }
        let id = clients::insert(conn, &c, AT).unwrap();
        if i % 2 == 0 {
            subscriptions::insert(conn, &sub(id, pid), AT).unwrap();
        }
    }
    let q = |f: &dyn Fn(&mut ClientQuery)| {
        let mut query = ClientQuery {
            limit: 100,
            ..Default::default()
        };
        f(&mut query);
        clients::query(conn, &query).unwrap()
    };
    let page = q(&|_| {});
    assert_eq!(page.total, Some(250));
    assert!(!page.truncated);
    assert_eq!(page.rows.len(), 100);
    assert_eq!(page.rows[0].name, "Client 000");
    let last = q(&|x| x.offset = 200);
    assert_eq!(last.rows.len(), 50);
    assert_eq!(last.total, None, "later pages do not count again");
    assert_eq!(last.rows[49].name, "Client 249");
    let desc = q(&|x| x.descending = true);
    assert_eq!(desc.rows[0].name, "Client 249");
    let suspended = q(&|x| x.status = Some("suspended".into()));
    assert_eq!(suspended.total, Some(50));
    assert!(suspended.rows.iter().all(|r| r.status == "suspended"));
    let with_product = q(&|x| x.product = Some("oa".into()));
    assert_eq!(with_product.total, Some(125));
    assert!(with_product.rows.iter().all(|r| r.subscriptions == 1));
    let both = q(&|x| {
        x.product = Some("oa".into());
        x.status = Some("suspended".into());
        x.search = "client 1".into();
        x.sort = ClientSort::Email;
    });
    // "client" AND "1*": ids 100..=199 plus 1, 10-19 ... filtered to even & multiple of 5 → multiples of 10
    assert!(both
        .rows
        .iter()
        .all(|r| r.status == "suspended" && r.subscriptions == 1));
    assert!(both.total.unwrap() > 0);
}

#[test]
fn prices_are_versioned_and_history_is_kept() {
    let store = Store::open_in_memory().unwrap();
    let conn = store.conn();
    let id = catalog::insert_product(conn, &product("oa"), "2026-01-01T00:00:00Z").unwrap();
    let eur = Currency::from_code("EUR").unwrap();
    catalog::add_price(
        conn,
        "product",
        id,
        &Price {
            period: Period::Month,
            amount: Money::new(1295, eur),
        },
        "2026-06-01T00:00:00Z",
    )
    .unwrap();
    let at = |t: &str| catalog::prices_at(conn, "product", id, t).unwrap()[0].amount_minor;
    assert_eq!(at("2026-03-01T00:00:00Z"), 995);
    assert_eq!(at("2026-07-01T00:00:00Z"), 1295);
    assert_eq!(
        catalog::price_history(conn, "product", id).unwrap().len(),
        2
    );
    // codes are unique, with a human message
    let err = catalog::insert_product(conn, &product("oa"), AT).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}
