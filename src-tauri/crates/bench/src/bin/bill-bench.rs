//! A bill run at scale: 100,000 clients, 250,000 subscriptions, 1,000,000 usage records.
//! Prints the wall time and peak memory of the run, and beside them the floor: the time to
//! bulk-insert the same number of invoice lines into SQLite in one transaction.
//! Goal on 2 cores: under 10 s, under 500 MB, within 3x of the floor.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use hostdesk_app::billing::bill_run::{self, BillRunOptions};
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

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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
    let mut ws =
        Workspace::open(&path, Clock::fixed("2026-11-10T09:00:00Z").expect("clock")).expect("open");
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

    ws.set_clock(Clock::fixed("2026-12-02T09:00:00Z").expect("clock"));
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

    // The floor: the same number of lines bulk-inserted in one transaction.
    let lines = report.lines;
    let t = Instant::now();
    ws.write(|tx, _| {
        tx.execute_batch("CREATE TEMP TABLE floor_lines AS SELECT * FROM invoice_lines WHERE 0; CREATE UNIQUE INDEX temp.floor_key ON floor_lines(key);")?;
        let mut ins = tx.prepare(
            "INSERT INTO floor_lines (invoice_id, key, subscription_id, kind, description, period_from, period_to, quantity,
                                      unit_price_minor, net_minor, tax_rate_bps, tax_minor, total_minor, facts, flagged)
             VALUES (1, ?1, ?2, 'recurring', 'Open Atrium site: 2026-12-01 to 2027-01-01', '2026-12-01', '2027-01-01', 1, 995, 995, 2000, 199, 1194, NULL, 0)",
        )?;
        for i in 0..lines {
            ins.execute(rusqlite::params![format!("sub:{i}/2026-12-01/recurring"), i])?;
        }
        Ok(())
    })
    .expect("floor");
    let floor = t.elapsed().as_secs_f64();
    println!("bill-bench ({n_clients} clients, {n_subs} subscriptions, {n_usage} usage records)");
    println!(
        "  bill run: {} invoices, {lines} lines for {} clients",
        report.invoices.len(),
        report.clients_billed
    );
    println!("  wall {wall:.2} s (goal < 10 s)   peak memory {peak:.0} MB (at start {rss_before:.0} MB; goal < 500 MB)");
    println!("  floor: {lines} lines bulk-inserted in one transaction in {floor:.2} s   ratio {:.1}x (goal <= 3x)", wall / floor);
}
