#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Kill `hostdesk bill run` at random moments, many times, then let it finish: the result is
//! exactly what an uninterrupted run produces — nothing duplicated, nothing missing, numbers
//! gapless — and `PRAGMA integrity_check` is ok.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const NOW: &str = "2031-12-02T09:00:00Z"; // five years of periods to bill

fn ok(db: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_hostdesk"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Everything billed, as comparable text: every line key with its amounts and invoice number.
fn billed(db: &Path) -> (Vec<String>, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT i.number || ' ' || i.client_id || ' ' || i.billing_date || ' ' || l.key || ' ' || l.net_minor || ' ' || l.tax_minor
               FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id ORDER BY l.key",
        )
        .unwrap();
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let invoices: i64 = conn
        .query_row("SELECT count(*) FROM invoices", [], |r| r.get(0))
        .unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let max_seq: i64 = conn
        .query_row(
            "SELECT coalesce(sum(next - 1), 0) FROM number_series",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        max_seq, invoices,
        "numbers are gapless: as many taken as invoices issued"
    );
    (lines, invoices, max_seq)
}

#[test]
fn killing_a_bill_run_at_random_points_changes_nothing_in_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    let crashed = dir.path().join("crashed.db");
    ok(
        &reference,
        &["--now", "2026-11-10T09:00:00Z", "init", "--demo"],
    );
    std::fs::copy(&reference, &crashed).unwrap();
    ok(&reference, &["--now", NOW, "bill", "run"]);

    let mut rng = fastrand::Rng::with_seed(5);
    let mut kills = 0;
    for _ in 0..25 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hostdesk"))
            .arg("--db")
            .arg(&crashed)
            .args(["--now", NOW, "bill", "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.u64(3..60)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(kills >= 5, "killed mid-run only {kills} times");
    ok(&crashed, &["--now", NOW, "bill", "run"]);
    let (want, n, _) = billed(&reference);
    let (got, m, _) = billed(&crashed);
    assert!(
        n > 500,
        "a big enough run to be killed in the middle: {n} invoices"
    );
    assert_eq!(m, n);
    // the same lines with the same amounts; numbers may be given in another order after a crash
    let strip = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|l| l.split_once(' ').unwrap().1.to_string())
            .collect()
    };
    assert_eq!(strip(&got), strip(&want));
    eprintln!(
        "{kills} kills during the run; {n} invoices, {} lines, identical",
        want.len()
    );
}
