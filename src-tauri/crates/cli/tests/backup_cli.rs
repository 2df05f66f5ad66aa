#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk backup …`, `site expire-check|expiring`, `subscription convert|term` and
//! `product trial` as a script sees them, in the demo workspace (its simulated sandbox server
//! backs the sites up) with the sandbox test clock.

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn hostdesk(db: &Path, args: &[&str]) -> Output {
    common::hostdesk_run(db, args, &[("HOSTDESK_SECRETS", "env")], &[], None)
}

fn json(db: &Path, args: &[&str]) -> Value {
    common::ok_json(
        &hostdesk(db, &common::with_json(args)),
        &format!("{args:?}"),
    )
}

fn error(db: &Path, args: &[&str]) -> Value {
    common::err_json(
        &hostdesk(db, &common::with_json(args)),
        &format!("{args:?}"),
    )
}

fn run_jobs(db: &Path) {
    let out = hostdesk(db, &["jobs", "run", "--until-idle"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn backups_are_taken_listed_pruned_and_restored_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    json(&db, &["init", "--demo"]);
    json(&db, &["settings", "set", "sandbox_delay_ms", "0-5"]);
    let site = "atelier-lumiere.sites.example.net";
    let policy = json(
        &db,
        &[
            "backup",
            "policy",
            "--daily",
            "1",
            "--weekly",
            "0",
            "--monthly",
            "0",
        ],
    );
    assert_eq!(policy["retention"]["daily"], 1);
    let first = json(&db, &["backup", "run", site]);
    run_jobs(&db);
    json(&db, &["backup", "run", site]);
    run_jobs(&db);
    let list = json(&db, &["backup", "list", site]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|b| b["backup"]["state"] == "done"));

    // Restoring needs --yes; then it is a job.
    let e = error(
        &db,
        &[
            "backup",
            "restore",
            site,
            "--backup",
            &first["backupId"].to_string(),
        ],
    );
    assert_eq!(e["code"], "invalid");
    let r = json(
        &db,
        &[
            "backup",
            "restore",
            site,
            "--backup",
            &first["backupId"].to_string(),
            "--yes",
        ],
    );
    assert!(r["jobId"].as_i64().unwrap() > 0);
    run_jobs(&db);

    // Keep one a day: of the two taken today, the older goes.
    let dry = json(&db, &["backup", "prune", "--dry-run"]);
    assert_eq!(dry["deleting"].as_array().unwrap().len(), 1);
    assert_eq!(dry["deleting"][0]["backupId"], first["backupId"]);
    let pruned = json(&db, &["backup", "prune"]);
    assert_eq!(pruned["deleting"].as_array().unwrap().len(), 1);
    run_jobs(&db);
    assert_eq!(
        json(&db, &["backup", "list", site])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        json(&db, &["backup", "list", site, "--all"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let due = json(&db, &["backup", "run", "--due"]);
    assert!(due["queued"].is_array());
}

#[test]
fn a_trial_ends_with_the_test_clock_and_a_converted_one_keeps_its_site() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    json(&db, &["init", "--demo"]);
    json(&db, &["settings", "set", "sandbox_delay_ms", "0-5"]);
    json(&db, &["product", "trial", "drupal-site", "14"]);
    json(&db, &["product", "activation", "drupal-site", "immediate"]);
    json(
        &db,
        &[
            "site",
            "expiry-policy",
            "--reminder-days",
            "3",
            "--grace-days",
            "7",
        ],
    );
    let placed = |domain: &str| {
        json(
            &db,
            &[
                "order",
                "place",
                "--client",
                "1",
                "--product",
                "drupal-site",
                "--domain",
                domain,
                "--pay",
                "later",
            ],
        )
    };
    let ends = placed("trial-ends");
    let kept = placed("trial-kept");
    run_jobs(&db);
    let soon = json(&db, &["site", "expiring", "--days", "30"]);
    let trials: Vec<&Value> = soon
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "trial")
        .collect();
    assert_eq!(trials.len(), 2);

    json(&db, &["clock", "advance", "--days", "14"]);
    let r = json(&db, &["site", "expire-check"]);
    assert_eq!(r["expired"], 2);
    run_jobs(&db);
    let kept_sub = kept["subscriptionId"].to_string();
    let c = json(&db, &["subscription", "convert", &kept_sub]);
    assert_eq!(c["state"], "active");
    run_jobs(&db);

    json(&db, &["clock", "advance", "--days", "7"]);
    let r = json(&db, &["site", "expire-check"]);
    assert_eq!(
        (r["backedUp"].as_i64(), r["deleted"].as_i64()),
        (Some(1), Some(1))
    );
    run_jobs(&db);
    let gone = json(&db, &["site", "show", "trial-ends.sites.example.net"]);
    assert_eq!(gone["status"], "deleted");
    let stays = json(&db, &["site", "show", "trial-kept.sites.example.net"]);
    assert_eq!(stays["status"], "active");
    let last = json(&db, &["backup", "list", "trial-ends.sites.example.net"]);
    assert_eq!(last[0]["backup"]["reason"], "final");
    let e = error(
        &db,
        &[
            "subscription",
            "convert",
            &ends["subscriptionId"].to_string(),
        ],
    );
    assert_eq!(e["code"], "conflict");
    let e = error(&db, &["subscription", "term", &kept_sub, "--until", "soon"]);
    assert_eq!(e["code"], "invalid");
}
