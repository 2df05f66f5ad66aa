#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk tracker …` and `hostdesk access list` against a fake Redmine, as scripts see them:
//! the API key only from the environment or standard input, JSON replies, exit codes, and no
//! key in the output or the database file.

mod common;

use common::{err_text, file_holds, ok_json};

use std::path::Path;
use std::process::Output;

use hostdesk_testkit::FakeRedmine;

async fn run(db: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    common::hostdesk_async(
        db,
        args,
        env,
        &[
            "HOSTDESK_SECRETS",
            "HOSTDESK_TRACKER_KEY",
            "HOSTDESK_TOKEN_TRACKER_REDMINE",
        ],
        stdin,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracker_is_set_tested_and_its_grants_listed_without_the_key_showing() {
    let fake = FakeRedmine::start().await;
    let key = fake.api_key();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let url = fake.base_url();
    let mut seen: Vec<String> = Vec::new();
    let mut keep = |o: &Output| {
        seen.push(String::from_utf8_lossy(&o.stdout).into_owned());
        seen.push(String::from_utf8_lossy(&o.stderr).into_owned());
    };

    // Never from the command line.
    let out = run(
        &db,
        &[
            "tracker",
            "set",
            "--url",
            &url,
            "--project",
            "support",
            "--key",
            &key,
        ],
        &[],
        None,
    )
    .await;
    assert!(err_text(&out, "--key").contains("unexpected argument"));
    // The environment store never writes: the error names the variable to export.
    let out = run(
        &db,
        &[
            "tracker",
            "set",
            "--url",
            &url,
            "--project",
            "support",
            "--key-stdin",
        ],
        &[("HOSTDESK_SECRETS", "env")],
        Some(&format!("{key}\n")),
    )
    .await;
    keep(&out);
    let err = err_text(&out, "env store write");
    assert!(err.contains("HOSTDESK_TOKEN_TRACKER_REDMINE"), "{err}");
    // Bad settings: one line, the field named.
    let out = run(
        &db,
        &[
            "--json",
            "tracker",
            "set",
            "--url",
            "ftp://x",
            "--project",
            "support",
        ],
        &[("HOSTDESK_SECRETS", "env")],
        None,
    )
    .await;
    let err = err_text(&out, "bad url");
    assert!(err.contains("\"field\":\"url\""), "{err}");

    // The address and project; the key comes from the environment store.
    let env = [
        ("HOSTDESK_SECRETS", "env"),
        ("HOSTDESK_TOKEN_TRACKER_REDMINE", key.as_str()),
    ];
    let out = run(
        &db,
        &[
            "--json",
            "tracker",
            "set",
            "--url",
            &url,
            "--project",
            "support",
        ],
        &env,
        None,
    )
    .await;
    keep(&out);
    let s = ok_json(&out, "tracker set");
    assert_eq!(s["project"], "support");
    assert_eq!(s["keyStored"], true);
    let out = run(&db, &["--json", "tracker", "test"], &env, None).await;
    keep(&out);
    let t = ok_json(&out, "tracker test");
    assert_eq!(t["login"], "admin");
    assert_eq!(t["projectName"], "Customer support");
    assert_eq!(
        t["roles"],
        serde_json::json!(["Manager", "Developer", "Reporter", "Customer"])
    );
    let out = run(&db, &["tracker", "test"], &env, None).await;
    keep(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("connected as admin"));
    // A plain user's key: said clearly, non-zero exit.
    let plain = fake.user_key();
    let out = run(
        &db,
        &["tracker", "test"],
        &[
            ("HOSTDESK_SECRETS", "env"),
            ("HOSTDESK_TOKEN_TRACKER_REDMINE", plain.as_str()),
        ],
        None,
    )
    .await;
    let err = err_text(&out, "plain key");
    assert!(err.contains("not a Redmine administrator"), "{err}");
    assert!(!err.contains(&plain));

    // A grant job queued by hand (a support script) with the self-contained payload, run.
    let out = run(
        &db,
        &[
            "--json",
            "jobs",
            "add",
            "--kind",
            "access.grant",
            "--key",
            "support/marc",
            "--payload",
            r#"{"target":"issue-tracker","role":"Customer","email":"marc@lumiere.fr","name":"Marc Lumière"}"#,
        ],
        &env,
        None,
    )
    .await;
    let job = ok_json(&out, "jobs add")["id"].as_i64().unwrap();
    let out = run(
        &db,
        &["--json", "jobs", "run", "--until-idle", "--wait-retries"],
        &env,
        None,
    )
    .await;
    keep(&out);
    ok_json(&out, "jobs run");
    let out = run(
        &db,
        &["--json", "jobs", "show", &job.to_string()],
        &env,
        None,
    )
    .await;
    keep(&out);
    let shown = ok_json(&out, "jobs show");
    assert_eq!(shown["job"]["state"], "succeeded", "{shown}");
    assert_eq!(fake.memberships("support").len(), 1);

    // Grants as planned by an order: listed, filtered.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        let at = "2026-01-01T00:00:00Z";
        c.execute_batch(&format!(
            "INSERT INTO clients (id, name, email, currency, timezone, created_at, updated_at)
               VALUES (1, 'Atelier Lumière', 'marc@lumiere.fr', 'EUR', 'Europe/Paris', '{at}', '{at}');
             INSERT INTO products (id, code, name, kind, created_at)
               VALUES (1, 'site', 'Site', 'site', '{at}');
             INSERT INTO subscriptions (id, client_id, product_id, currency, period, price_minor,
                    state, anchor_day, started_on, created_at, updated_at)
               VALUES (1, 1, 1, 'EUR', 'month', 995, 'active', 1, '2026-01-01', '{at}', '{at}');
             INSERT INTO access_grants (subscription_id, client_id, target, role, state, job_id,
                    remote_user_id, remote_login, created_at, updated_at)
               VALUES (1, 1, 'issue-tracker', 'customer', 'granted', {job}, '3', 'marc@lumiere.fr', '{at}', '{at}');"
        ))
        .unwrap();
    }
    let out = run(
        &db,
        &["--json", "access", "list", "--client", "1"],
        &[],
        None,
    )
    .await;
    keep(&out);
    let list = ok_json(&out, "access list");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["state"], "granted");
    assert_eq!(list[0]["jobState"], "succeeded");
    assert_eq!(list[0]["remoteLogin"], "marc@lumiere.fr");
    let out = run(
        &db,
        &["--json", "access", "list", "--subscription", "2"],
        &[],
        None,
    )
    .await;
    assert_eq!(ok_json(&out, "other subscription"), serde_json::json!([]));
    let out = run(&db, &["access", "list"], &[], None).await;
    keep(&out);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("Atelier Lumière") && text.contains("granted"),
        "{text}"
    );
    let out = run(&db, &["access", "list", "--state", "bogus"], &[], None).await;
    assert!(err_text(&out, "bad state").contains("pending, granted, failed, revoked"));

    for s in &seen {
        assert!(!s.contains(&key), "the key leaked into: {s}");
    }
    assert!(
        file_holds(&db, &key).is_none(),
        "the key is in the database"
    );
}
