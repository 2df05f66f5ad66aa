#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! A bill run over several batches (one transaction each) on a database file bills exactly what
//! the same run bills in memory, a dry run writes nothing, a re-run adds nothing; and when
//! someone else writes to the database between two batches, what is billed is what the database
//! holds when the batch is written.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use hostdesk_app::billing::bill_run::{self, BillRunOptions, BillRunReport};
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::store::subscriptions::{self, NewSubscription};
use hostdesk_app::store::{catalog, clients, Connection};
use hostdesk_app::{demo, settings, Clock, Workspace};

const NOV: &str = "2026-11-10T09:00:00Z";
const DEC: &str = "2026-12-02T09:00:00Z";
/// Three batches (a batch is at least 1,000 clients).
const CLIENTS: i64 = 2_600;

fn seed(ws: &mut Workspace) {
    demo::load(ws).unwrap();
    settings::set(ws, "seller_name", "Test Hosting").unwrap();
    settings::set(ws, "seller_country", "FR").unwrap();
    ws.write(|tx, ctx| {
        let products: Vec<i64> = ["oa-site", "drupal-site", "reseller-account"]
            .iter()
            .map(|c| catalog::product_id(tx, c).unwrap())
            .collect();
        for i in 0..CLIENTS {
            let c = ClientDraft {
                name: format!("Client {i}"),
                email: format!("c{i}@example.com"),
                currency: "EUR".into(),
                timezone: ["Europe/Paris", "America/New_York", "Asia/Tokyo"][i as usize % 3]
                    .into(),
                country: ["FR", "DE", "US"][i as usize % 3].into(),
                ..Default::default()
            }
            .validate(1)
            .unwrap();
            let id = clients::insert(tx, &c, &ctx.at)?;
            for k in 0..(i % 4) {
                let sub = subscriptions::insert(
                    tx,
                    &NewSubscription {
                        client_id: id,
                        product_id: products[((i + k) % 3) as usize],
                        kit_id: None,
                        tier_id: None,
                        currency: "EUR",
                        period: ["month", "quarter"][(k % 2) as usize],
                        price_minor: 500 + i % 700,
                        state: "active",
                        anchor_day: 1,
                        started_on: "2026-09-01",
                        next_due_on: Some("2026-11-01"),
                        expires_on: None,
                        choices: &[],
                        quotas: &[],
                    },
                    &ctx.at,
                )?;
                if (i + k) % 5 == 0 {
                    subscriptions::set_rate(tx, sub, "bandwidth_mb", Some(1_000), 0, 2)?;
                    for day in 1..=9 {
                        tx.execute(
                            "INSERT INTO usage_records (subscription_id, resource, quantity, at, source)
                             VALUES (?1, 'bandwidth_mb', ?2, ?3, 'test')",
                            (sub, 100 + i % 200, format!("2026-10-0{day}T12:00:00Z")),
                        )?;
                    }
                }
            }
        }
        Ok(())
    })
    .unwrap();
}

fn run(ws: &mut Workspace, dry_run: bool, mut progress: impl FnMut(u64)) -> BillRunReport {
    ws.set_clock(Clock::fixed(DEC).unwrap());
    bill_run::run(
        ws,
        &BillRunOptions {
            through: None,
            dry_run,
        },
        &AtomicBool::new(false),
        |done, _| progress(done),
    )
    .unwrap()
}

/// Everything billed, comparable: each line with its invoice's number and client, the
/// subscriptions' next due dates, the numbering series and the audit of issues.
fn billed(conn: &Connection) -> Vec<String> {
    let list = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    let mut all = list(
        "SELECT i.number || ' ' || i.client_id || ' ' || i.billing_date || ' ' || i.total_minor || ' '
                || l.key || ' ' || l.net_minor || ' ' || l.tax_minor || ' ' || l.description
           FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id ORDER BY l.id",
    );
    all.extend(list(
        "SELECT id || ' ' || next_due_on || ' ' || price_minor FROM subscriptions ORDER BY id",
    ));
    all.extend(list(
        "SELECT series || ' ' || year || ' ' || next FROM number_series ORDER BY series, year",
    ));
    all.extend(list(
        "SELECT entity_id || ' ' || after FROM audit_log WHERE action = 'issue' ORDER BY id",
    ));
    all
}

fn open_file(path: &Path) -> Workspace {
    let mut ws = Workspace::open(path, Clock::fixed(NOV).unwrap()).unwrap();
    seed(&mut ws);
    ws
}

#[test]
fn a_run_in_batches_on_a_file_bills_what_the_run_in_memory_bills() {
    let mut memory = Workspace::open_in_memory(Clock::fixed(NOV).unwrap()).unwrap();
    seed(&mut memory);
    let reference = run(&mut memory, false, |_| {});
    assert!(
        reference.clients_billed > 1_900,
        "{}",
        reference.clients_billed
    );

    let dir = tempfile::tempdir().unwrap();
    let mut file = open_file(&dir.path().join("bill.db"));
    let before = billed(file.conn());
    let dry = run(&mut file, true, |_| {});
    assert_eq!(billed(file.conn()), before, "a dry run writes nothing");
    let mut seen = 0;
    let report = run(&mut file, false, |done| {
        assert_eq!(done, seen + 1, "progress counts every client once");
        seen = done;
    });
    assert_eq!(seen, reference.clients_due as u64);
    for r in [&dry, &report] {
        assert_eq!(r.clients_billed, reference.clients_billed);
        assert_eq!(r.lines, reference.lines);
        assert_eq!(r.invoices.len(), reference.invoices.len());
    }
    assert_eq!(billed(file.conn()), billed(memory.conn()));

    let again = run(&mut file, false, |_| {});
    assert_eq!(
        (again.clients_due, again.lines),
        (0, 0),
        "a re-run adds nothing"
    );
}

#[test]
fn a_write_by_someone_else_during_the_run_is_billed_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bill.db");
    let mut ws = open_file(&path);
    let last: i64 = ws
        .conn()
        .query_row(
            "SELECT max(client_id) FROM subscriptions WHERE state = 'active'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let other = Connection::open(&path).unwrap();
    let mut written = false;
    run(&mut ws, false, |done| {
        // the first batch is in; the client is in the last one
        if done == 1_000 && !written {
            other
                .execute(
                    "UPDATE subscriptions SET price_minor = 12345, renewal_price_minor = NULL
                      WHERE client_id = ?1",
                    [last],
                )
                .unwrap();
            written = true;
        }
    });
    assert!(written);
    let (lines, at_new_price): (i64, i64) = ws
        .conn()
        .query_row(
            "SELECT count(*), sum(l.unit_price_minor = 12345) FROM invoice_lines l
               JOIN invoices i ON i.id = l.invoice_id
              WHERE i.client_id = ?1 AND l.kind = 'recurring'",
            [last],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(lines > 0);
    assert_eq!(
        at_new_price, lines,
        "billed at the price the database holds"
    );
}
