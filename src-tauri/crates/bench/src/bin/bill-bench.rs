//! A bill run at scale: 100,000 clients, 250,000 subscriptions, 1,000,000 usage records.
//! Prints the wall time and peak memory of the run, and beside them the floor: the time to
//! bulk-insert the lines the run wrote into SQLite in one transaction (the same table with its
//! indexes and triggers, in a copy of the database taken just before the run).
//! Goal on 2 cores: under 10 s, under 500 MB, within 3x of the floor.
//!
//! Environment: CLIENTS, SUBSCRIPTIONS, USAGE (sizes); KEEP_DB=path keeps the seeded database,
//! SEEDED=path starts from one kept before (same sizes, skips the seeding); FLOOR_NO_TRIGGER=1
//! also prints the floor without the immutability trigger.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use hostdesk_app::billing::bill_run::{self, BillRunOptions};
use hostdesk_app::store::Store;
use hostdesk_app::{settings, Clock, Workspace};
use hostdesk_bench::seed;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// A stored line: key, subscription, kind, description, from, to, quantity, unit price, net,
/// tax rate, tax, total, facts, flagged.
type LineRow = (
    String,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<String>,
    [i64; 6],
    Option<String>,
    bool,
);

/// Every line the run wrote, in the order it wrote them.
fn read_lines(path: &Path) -> Vec<LineRow> {
    let conn = rusqlite::Connection::open(path).expect("open");
    let mut stmt = conn
        .prepare(
            "SELECT key, subscription_id, kind, description, period_from, period_to, quantity,
                    unit_price_minor, net_minor, tax_rate_bps, tax_minor, total_minor, facts, flagged
               FROM invoice_lines ORDER BY id",
        )
        .expect("lines");
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                [
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ],
                r.get(12)?,
                r.get(13)?,
            ))
        })
        .expect("lines");
    rows.collect::<Result<_, _>>().expect("lines")
}

/// Inserts `lines` on one draft invoice of the database at `path` (opened as the app opens it)
/// in one transaction, commit included; returns the seconds it took.
fn insert_floor(path: &Path, lines: &[LineRow], drop_trigger: bool) -> f64 {
    let mut store = Store::open(path).expect("open the snapshot");
    let conn = store.conn_mut();
    if drop_trigger {
        conn.execute_batch("DROP TRIGGER invoice_lines_frozen_insert")
            .expect("drop");
    }
    let t = Instant::now();
    let tx = conn.savepoint().expect("transaction");
    tx.execute(
        "INSERT INTO invoices (client_id, billing_date, currency, created_at, updated_at)
         VALUES ((SELECT min(id) FROM clients), '2026-12-01', 'EUR', '', '')",
        [],
    )
    .expect("draft");
    let invoice = tx.last_insert_rowid();
    {
        let mut ins = tx
            .prepare(
                "INSERT INTO invoice_lines (invoice_id, key, subscription_id, kind, description, period_from,
                    period_to, quantity, unit_price_minor, net_minor, tax_rate_bps, tax_minor, total_minor, facts, flagged)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .expect("insert");
        for (key, sub, kind, description, from, to, n, facts, flagged) in lines {
            ins.execute(rusqlite::params![
                invoice,
                key,
                sub,
                kind,
                description,
                from,
                to,
                n[0],
                n[1],
                n[2],
                n[3],
                n[4],
                n[5],
                facts,
                flagged
            ])
            .expect("line");
        }
    }
    tx.commit().expect("commit");
    t.elapsed().as_secs_f64()
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A workspace of `n_clients` clients, `n_subs` subscriptions all due on Dec 1, a third of them
/// billing bandwidth over a quota, and `n_usage` usage records.
fn seeded(path: &Path, n_clients: usize, n_subs: usize, n_usage: usize) -> Workspace {
    let mut ws =
        Workspace::open(path, Clock::fixed("2026-11-10T09:00:00Z").expect("clock")).expect("open");
    let t = Instant::now();
    seed(&mut ws, n_clients, n_subs);
    // Every seeded subscription is due on Dec 1; a third of them bill bandwidth over a quota.
    ws.write(|tx, _| {
        tx.execute_batch(
            "UPDATE subscriptions SET next_due_on = '2026-12-01', started_on = '2026-10-01', anchor_day = 1, period = 'month', state = 'active';
             UPDATE clients SET billing_day = 1, timezone = 'Europe/Paris';
             INSERT OR REPLACE INTO subscription_quotas (subscription_id, resource, quota_limit, fee_minor, overage_minor)
               SELECT id, 'bandwidth_mb', 1000, 0, 1 FROM subscriptions WHERE id % 3 = 0;",
        )?;
        let subs: Vec<i64> = tx.prepare("SELECT id FROM subscriptions WHERE id % 3 = 0")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut ins = tx.prepare("INSERT INTO usage_records (subscription_id, resource, quantity, at, source) VALUES (?1, 'bandwidth_mb', ?2, ?3, 'bench')")?;
        for i in 0..n_usage {
            let sub = subs[i % subs.len()];
            ins.execute(rusqlite::params![sub, 100 + (i % 50) as i64, format!("2026-11-{:02}T{:02}:00:00Z", 1 + (i / subs.len()) % 28, i % 24)])?;
        }
        Ok(())
    })
    .expect("usage");
    settings::set(&mut ws, "seller_name", "Bench Hosting").expect("seller");
    settings::set(&mut ws, "seller_country", "FR").expect("seller");
    println!(
        "seeded {n_clients} clients, {n_subs} subscriptions, {n_usage} usage records in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    ws
}

fn main() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (n_clients, n_subs, n_usage) = (
        env("CLIENTS", 100_000),
        env("SUBSCRIPTIONS", 250_000),
        env("USAGE", 1_000_000),
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bill.db");
    let mut ws = match std::env::var("SEEDED") {
        // a database an earlier run kept with KEEP_DB (same sizes): skips the seeding
        Ok(seeded) => {
            std::fs::copy(&seeded, &path).expect("copy the seeded database");
            println!("reusing the seeded database {seeded}");
            Workspace::open(&path, Clock::fixed("2026-11-10T09:00:00Z").expect("clock"))
                .expect("open")
        }
        Err(_) => seeded(&path, n_clients, n_subs, n_usage),
    };
    // The database as the run finds it, for the floor.
    let snapshot = dir.path().join("floor.db");
    ws.conn()
        .execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])
        .expect("snapshot");
    if let Ok(keep) = std::env::var("KEEP_DB") {
        std::fs::copy(&snapshot, keep).expect("keep the seeded database");
    }
    ws.set_clock(Clock::fixed("2026-12-02T09:00:00Z").expect("clock"));
    // The copies written out to disk first: their write-back would otherwise run during the
    // timed part (and make the figures noisy).
    for f in [&path, &snapshot] {
        std::fs::File::open(f)
            .and_then(|f| f.sync_all())
            .expect("sync the databases");
    }
    reset_peak();
    let rss_before = peak_rss_mb();
    let t = Instant::now();
    let report = bill_run::run(
        &mut ws,
        &BillRunOptions::default(),
        &AtomicBool::new(false),
        |_, _| {},
    )
    .expect("bill run");
    let wall = t.elapsed().as_secs_f64();
    let peak = peak_rss_mb();

    drop(ws);

    // The floor: the same lines (same values, same keys, in the same order) bulk-inserted in
    // one transaction into the same table, with its indexes and triggers, of the database as
    // it was before the run.
    let lines = report.lines;
    let produced = read_lines(&path);
    assert_eq!(produced.len() as i64, lines);
    // disk space: the databases are a few hundred MB each
    remove_db(&path);
    // FLOOR_NO_TRIGGER=1: also the floor without the immutability trigger, on a copy
    let plain = std::env::var_os("FLOOR_NO_TRIGGER").map(|_| {
        let plain = dir.path().join("floor-no-trigger.db");
        std::fs::copy(&snapshot, &plain).expect("copy");
        plain
    });
    let floor = insert_floor(&snapshot, &produced, false);
    remove_db(&snapshot);
    let floor_no_trigger = plain.map(|p| insert_floor(&p, &produced, true));
    println!("bill-bench ({n_clients} clients, {n_subs} subscriptions, {n_usage} usage records)");
    println!(
        "  bill run: {} invoices, {lines} lines for {} clients",
        report.invoices.len(),
        report.clients_billed
    );
    println!("  wall {wall:.2} s (goal < 10 s)   peak memory {peak:.0} MB (at start {rss_before:.0} MB; goal < 500 MB)");
    println!("  floor: {lines} lines bulk-inserted in one transaction in {floor:.2} s   ratio {:.1}x (goal <= 3x)", wall / floor);
    if let Some(f) = floor_no_trigger {
        println!(
            "  (the same insert without the immutability trigger: {f:.2} s, ratio {:.1}x)",
            wall / f
        );
    }
}
