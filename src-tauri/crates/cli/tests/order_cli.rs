#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk order …`, `subscription change|cancel`, `dunning …` and `clock …` as a script sees
//! them, in the demo workspace (its simulated sandbox server provisions the sites).

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

#[test]
fn an_order_is_quoted_placed_paid_provisioned_changed_and_cancelled_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    json(&db, &["init", "--demo"]);
    json(&db, &["settings", "set", "sandbox_delay_ms", "0-5"]);
    let client = json(
        &db,
        &[
            "client",
            "add",
            "--name",
            "Atelier Lumière",
            "--email",
            "marc@lumiere.test",
            "--currency",
            "EUR",
            "--tz",
            "Europe/Paris",
            "--country",
            "FR",
            "--billing-day",
            "1",
        ],
    )["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let order = [
        "--client",
        &client,
        "--product",
        "drupal-site",
        "--domain",
        "atelier",
        "--pay",
        "manual",
    ];

    let mut quote = vec!["order", "quote"];
    quote.extend_from_slice(&order);
    let q = json(&db, &quote);
    assert_eq!(q["domain"], "atelier.sites.example.net");
    assert_eq!(q["serverName"], "sandbox");
    assert_eq!(q["currency"], "EUR");

    let mut place = vec!["order", "place"];
    place.extend_from_slice(&order);
    let p = json(&db, &place);
    assert_eq!(p["state"], "awaiting_payment");
    assert_eq!(p["invoice"]["total"], q["firstTotal"]);
    let number = p["invoice"]["number"].as_str().unwrap().to_string();
    let id = p["orderId"].as_i64().unwrap().to_string();

    // The same domain again: a clear error on the field, exit code 1.
    let e = error(&db, &place);
    assert_eq!(e["code"], "invalid");
    assert!(e["message"].as_str().unwrap().contains("is taken"), "{e}");

    let total = q["firstTotal"].as_str().unwrap();
    json(
        &db,
        &[
            "payment",
            "record",
            "--invoice",
            &number,
            "--amount",
            total,
            "--reference",
            "VIR-1",
        ],
    );
    json(&db, &["jobs", "run", "--until-idle"]);
    let v = json(&db, &["order", "show", &id]);
    let states: Vec<(String, String)> = v["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["kind"].as_str().unwrap().to_string(),
                j["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        states.contains(&("site.create".into(), "succeeded".into())),
        "{states:?}"
    );
    assert!(states.contains(&("site.create_user".into(), "succeeded".into())));
    let sub = v["order"]["subscriptionId"].as_i64().unwrap().to_string();

    // At the period end: a cheaper plan waits; cancelling stops the renewal.
    let c = json(&db, &["subscription", "cancel", &sub]);
    assert_eq!(c["immediately"], false);
    let clock = json(&db, &["clock", "show"]);
    assert_eq!(clock["sandbox"], true, "the demo is a sandbox workspace");
    let moved = json(&db, &["clock", "advance", "--days", "45"]);
    assert_eq!(moved["offsetDays"], 45);
    let run = json(&db, &["bill", "run"]);
    let billed_sub = run["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["clientId"].as_i64().unwrap().to_string() == client);
    assert!(!billed_sub, "a cancelled subscription is not billed again");
    let d = json(&db, &["dunning", "run"]);
    assert!(d["cancelled"].as_i64().unwrap() >= 1);
    let s = json(&db, &["subscription", "show", &sub]);
    assert_eq!(s["state"], "cancelled");
    json(&db, &["clock", "reset"]);
    assert_eq!(json(&db, &["clock", "show"])["offsetDays"], 0);

    // Policy, and a bad one refused.
    let p = json(&db, &["dunning", "policy", "--grace-days", "20"]);
    assert_eq!(p["graceDays"], 20);
    let e = error(
        &db,
        &[
            "dunning",
            "policy",
            "--grace-days",
            "30",
            "--terminate-after-days",
            "10",
        ],
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("after the grace days"),
        "{e}"
    );
}
