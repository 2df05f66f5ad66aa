#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk usage collect|show|alerts` and `hostdesk quota set` on the demo workspace (its
//! sandbox server simulates usage), as cron and scripts see them.

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

const NOW: &str = "2026-11-10T09:00:00Z";

fn hostdesk(db: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--now", NOW];
    all.extend_from_slice(args);
    common::hostdesk_run(db, &all, &[("HOSTDESK_SECRETS", "env")], &[], None)
}

fn json(db: &Path, args: &[&str]) -> Value {
    common::ok_json(
        &hostdesk(db, &common::with_json(args)),
        &format!("{args:?}"),
    )
}

#[test]
fn collect_show_set_a_quota_and_see_the_alert() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    json(&db, &["init", "--demo"]);
    json(&db, &["settings", "set", "sandbox_delay_ms", "0-1"]);
    let c = json(&db, &["usage", "collect", "--timeout", "60"]);
    let jobs = c["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{c}");
    assert_eq!(jobs[0]["state"], "succeeded", "{c}");
    assert_eq!(jobs[0]["result"]["simulated"], true);
    assert!(jobs[0]["result"]["samples"].as_i64().unwrap() > 0, "{c}");

    // The first client with a site: its disk usage this period.
    let sub = active_subscription(&db);
    let client = sub_client(&db, sub);
    let shown = json(&db, &["usage", "show", "--client", &client.to_string()]);
    let s = shown["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subscriptionId"] == sub)
        .unwrap()
        .clone();
    let disk = s["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "disk_mb")
        .unwrap()
        .clone();
    let used = disk["used"].as_i64().unwrap();
    assert!(used > 0, "{s}");

    // A limit below the usage: over 100%, two alerts.
    let q = json(
        &db,
        &[
            "quota",
            "set",
            "--subscription",
            &sub.to_string(),
            "--resource",
            "disk_mb",
            "--limit",
            "10",
        ],
    );
    assert_eq!(q["limit"], 10);
    assert!(q["percent"].as_i64().unwrap() >= 100, "{q}");
    let alerts = json(&db, &["usage", "alerts", "--client", &client.to_string()]);
    let mine: Vec<&Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["subscriptionId"] == sub && a["resource"] == "disk_mb")
        .collect();
    assert_eq!(mine.len(), 2, "{alerts}");
    let id = mine[0]["id"].as_i64().unwrap();
    let d = json(&db, &["usage", "alerts", "--dismiss", &id.to_string()]);
    assert_eq!(d["dismissed"], true);
    let fleet = json(&db, &["usage", "fleet", "--min-percent", "100"]);
    assert!(fleet["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["subscriptionId"] == sub));

    let out = hostdesk(
        &db,
        &[
            "quota",
            "set",
            "--subscription",
            &sub.to_string(),
            "--resource",
            "disk_mb",
            "--limit",
            "lots",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a number or `unlimited`"));
    let unlimited = json(
        &db,
        &[
            "quota",
            "set",
            "--subscription",
            &sub.to_string(),
            "--resource",
            "disk_mb",
            "--limit",
            "unlimited",
        ],
    );
    assert_eq!(unlimited["limit"], Value::Null);
}

/// A live subscription with an active site (read with the CLI's own JSON).
fn active_subscription(db: &Path) -> i64 {
    let sites = json(db, &["site", "list", "--status", "active"]);
    sites.as_array().unwrap()[0]["subscriptionId"]
        .as_i64()
        .unwrap()
}

fn sub_client(db: &Path, sub: i64) -> i64 {
    json(db, &["subscription", "show", &sub.to_string()])["clientId"]
        .as_i64()
        .unwrap()
}
