#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The `hostdesk` binary as a script or cron job sees it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn hostdesk(db: &Path, args: &[&str]) -> Output {
    common::hostdesk_run(db, args, &[], &[], None)
}

fn json(db: &Path, args: &[&str]) -> Value {
    common::ok_json(
        &hostdesk(db, &common::with_json(args)),
        &format!("{args:?}"),
    )
}

#[test]
fn init_demo_then_status_prints_the_counts_and_init_again_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let init = json(&db, &["init", "--demo"]);
    assert_eq!(init["demo"], "loaded");
    let s = json(&db, &["status"]);
    for key in [
        "clients",
        "subscriptions",
        "sites",
        "openInvoices",
        "queuedJobs",
        "schemaVersion",
    ] {
        assert!(s[key].is_i64(), "{key} missing from {s}");
    }
    assert!(s["clients"].as_i64().unwrap() >= 24);
    let again = json(&db, &["init", "--demo"]);
    assert_eq!(again["demo"], "already_loaded");
    assert_eq!(json(&db, &["init"])["schemaVersion"], s["schemaVersion"]);
    let s2 = json(&db, &["status"]);
    assert_eq!(s["clients"], s2["clients"]);
    assert_eq!(s["subscriptions"], s2["subscriptions"]);
}

#[test]
fn add_prints_the_new_id_and_list_show_search_find_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let p = json(
        &db,
        &[
            "product",
            "add",
            "--code",
            "oa",
            "--name",
            "Open Atrium",
            "--profile",
            "openatrium",
            "--price",
            "9.95",
            "--currency",
            "EUR",
            "--period",
            "month",
        ],
    );
    assert!(p["id"].as_i64().unwrap() > 0);
    let c = json(
        &db,
        &[
            "client",
            "add",
            "--name",
            "Atelier Lumière",
            "--email",
            "hi@lumiere.example",
            "--currency",
            "EUR",
            "--tz",
            "Europe/Paris",
            "--country",
            "FR",
            "--contact",
            "billing:Marc:marc@lumiere.example",
        ],
    );
    let id = c["id"].as_i64().unwrap();
    let shown = json(&db, &["client", "show", &id.to_string()]);
    assert_eq!(shown["client"]["name"], "Atelier Lumière");
    assert_eq!(shown["contacts"][0]["role"], "billing");
    let hits = json(&db, &["client", "search", "marc"]);
    assert_eq!(hits[0]["id"], id);
    let products = json(&db, &["product", "show", "oa"]);
    assert_eq!(products["product"]["prices"][0]["amountMinor"], 995);
}

#[test]
fn failures_exit_non_zero_with_one_line_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let out = hostdesk(
        &db,
        &[
            "client",
            "add",
            "--name",
            "X",
            "--email",
            "nope",
            "--currency",
            "EUR",
            "--tz",
            "Europe/Paris",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("email: 'nope' is not an e-mail address"),
        "{err}"
    );
    assert_eq!(json(&db, &["status"])["clients"], 0);
    // --json errors are JSON with a code
    let out = hostdesk(&db, &["--json", "product", "show", "missing"]);
    assert!(!out.status.success());
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["code"], "not_found");
}

#[test]
fn now_runs_the_command_as_of_another_instant() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    json(
        &db,
        &[
            "--now",
            "2031-02-03T04:05:06Z",
            "client",
            "add",
            "--name",
            "Future",
            "--email",
            "f@f.example",
            "--currency",
            "EUR",
            "--tz",
            "UTC",
        ],
    );
    let rows = json(&db, &["client", "list"]);
    assert_eq!(rows["rows"][0]["createdAt"], "2031-02-03T04:05:06Z");
    let out = hostdesk(&db, &["--now", "yesterday", "status"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
}

#[test]
fn import_and_export_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let file = dir.path().join("in.csv");
    std::fs::File::create(&file)
        .unwrap()
        .write_all(b"name,email,currency,timezone\nA,a@a.example,EUR,UTC\nB,bad,EUR,UTC\n")
        .unwrap();
    let out = hostdesk(&db, &["client", "import", file.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "all-or-nothing import with a bad row fails"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
    assert_eq!(json(&db, &["status"])["clients"], 0);
    let r = json(
        &db,
        &["client", "import", "--partial", file.to_str().unwrap()],
    );
    assert_eq!(r["imported"], 1);
    let export = dir.path().join("out.csv");
    json(
        &db,
        &["client", "export", "--out", export.to_str().unwrap()],
    );
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.starts_with("id,kind,name,email"));
    assert!(text.contains("a@a.example"));
    // to stdout too
    let out = Command::new(env!("CARGO_BIN_EXE_hostdesk"))
        .args(["--db", db.to_str().unwrap(), "subscription", "export"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("id,client_id"));
}
