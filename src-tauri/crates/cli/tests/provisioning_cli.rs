#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk server …` and `hostdesk site …` against a fake WHM, as scripts see them: tokens
//! only from the environment or standard input, JSON replies, exit codes, and no token in the
//! output or the database file.

mod common;

use common::{err_text, file_holds, ok_json};

use std::path::Path;
use std::process::Output;

use hostdesk_testkit::FakeWhm;

/// Every run, kept for the final scan.
#[derive(Default)]
struct Transcript(Vec<String>);

impl Transcript {
    fn keep(&mut self, out: &Output) {
        self.0
            .push(String::from_utf8_lossy(&out.stdout).into_owned());
        self.0
            .push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
}

async fn run(db: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    common::hostdesk_async(
        db,
        args,
        env,
        &["HOSTDESK_SECRETS", "HOSTDESK_TOKEN_WHM1"],
        stdin,
    )
    .await
}

/// A client, product, subscription and a queued site, straight into the database.
fn local_site(db: &Path, domain: &str) {
    let c = rusqlite::Connection::open(db).unwrap();
    let at = "2026-01-01T00:00:00Z";
    c.execute_batch(&format!(
        "INSERT OR IGNORE INTO clients (id, name, email, currency, timezone, created_at, updated_at)
           VALUES (1, 'Acme Ltd', 'owner@acme.test', 'EUR', 'Europe/Paris', '{at}', '{at}');
         INSERT OR IGNORE INTO products (id, code, name, kind, profile, created_at)
           VALUES (1, 'hosting', 'Hosting', 'account', 'basic', '{at}');
         INSERT OR IGNORE INTO subscriptions (id, client_id, product_id, currency, period, price_minor,
                state, anchor_day, started_on, created_at, updated_at)
           VALUES (1, 1, 1, 'EUR', 'month', 995, 'active', 1, '2026-01-01', '{at}', '{at}');
         INSERT INTO sites (subscription_id, domain, profile, status, created_at, updated_at)
           VALUES (1, '{domain}', 'basic', 'queued', '{at}', '{at}');"
    ))
    .unwrap();
}

#[tokio::test]
async fn a_token_is_never_taken_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let out = run(
        &db,
        &[
            "server",
            "add",
            "web1",
            "--kind",
            "whm",
            "--url",
            "https://whm.example.com:2087",
            "--user",
            "root",
            "--token",
            "SECRET-TOKEN-ABC",
        ],
        &[],
        None,
    )
    .await;
    let err = err_text(&out, "--token");
    assert!(err.contains("unexpected argument"), "{err}");
    // With HOSTDESK_SECRETS=env, a token on stdin is refused: that store never writes.
    let out = run(
        &db,
        &[
            "server",
            "add",
            "web1",
            "--kind",
            "whm",
            "--url",
            "https://whm.example.com:2087",
            "--user",
            "root",
            "--token-stdin",
        ],
        &[("HOSTDESK_SECRETS", "env")],
        Some("SECRET-TOKEN-ABC\n"),
    )
    .await;
    let err = err_text(&out, "env store write");
    assert!(err.contains("export HOSTDESK_TOKEN_WEB1"), "{err}");
    assert!(!err.contains("SECRET-TOKEN-ABC"));
    let out = run(
        &db,
        &["server", "list"],
        &[("HOSTDESK_SECRETS", "bogus")],
        None,
    )
    .await;
    assert!(out.status.success(), "listing needs no secret store");
    assert!(file_holds(&db, "SECRET-TOKEN-ABC").is_none());
    let list = ok_json(
        &run(&db, &["--json", "server", "list"], &[], None).await,
        "list",
    );
    assert_eq!(list.as_array().unwrap().len(), 0, "nothing was added");
}

#[tokio::test]
async fn without_a_reachable_keyring_the_error_says_so_and_names_the_opt_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let out = run(
        &db,
        &[
            "server",
            "add",
            "web1",
            "--kind",
            "whm",
            "--url",
            "https://whm.example.com:2087",
            "--user",
            "root",
            "--token-stdin",
        ],
        // No session bus, no display to autolaunch one: no Secret Service.
        &[
            (
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/hostdesk-test-bus",
            ),
            ("DISPLAY", ""),
        ],
        Some("SECRET-TOKEN-XYZ\n"),
    )
    .await;
    let err = err_text(&out, "no keyring");
    assert!(err.contains("OS keyring"), "{err}");
    assert!(err.contains("HOSTDESK_SECRETS=env"), "{err}");
    assert!(!err.contains("SECRET-TOKEN-XYZ"));
    assert!(
        file_holds(&db, "SECRET-TOKEN-XYZ").is_none(),
        "no plaintext fallback"
    );
    let list = ok_json(
        &run(&db, &["--json", "server", "list"], &[], None).await,
        "list",
    );
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "a server whose token could not be stored is not added"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_site_commands_work_end_to_end_and_never_show_the_token() {
    let fake = FakeWhm::start().await;
    let token = fake.token();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let mut t = Transcript::default();
    let env_store = [("HOSTDESK_SECRETS", "env")];
    let with_token = [
        ("HOSTDESK_SECRETS", "env"),
        ("HOSTDESK_TOKEN_WHM1", token.as_str()),
    ];

    let out = run(&db, &["init"], &[], None).await;
    t.keep(&out);
    local_site(&db, "acme.test");

    let url = fake.base_url();
    let out = run(
        &db,
        &[
            "--json",
            "server",
            "add",
            "whm1",
            "--kind",
            "whm",
            "--url",
            &url,
            "--user",
            "root",
            "--concurrency",
            "2",
        ],
        &env_store,
        None,
    )
    .await;
    t.keep(&out);
    assert_eq!(ok_json(&out, "server add")["id"], 1);

    // Without the token in the environment: a clear error.
    let out = run(&db, &["server", "test", "whm1"], &env_store, None).await;
    t.keep(&out);
    let err = err_text(&out, "test without token");
    assert!(
        err.contains("no API token for server whm1 in the environment"),
        "{err}"
    );

    let out = run(
        &db,
        &["--json", "server", "test", "whm1"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    let report = ok_json(&out, "server test");
    assert_eq!(report["ok"], true);
    assert_eq!(report["version"], "11.130.0.5");
    let out = run(&db, &["server", "test", "whm1"], &with_token, None).await;
    t.keep(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("connected — 0 sites, version 11.130.0.5")
    );

    // A wrong token: exactly what failed.
    let out = run(
        &db,
        &["server", "test", "whm1"],
        &[
            ("HOSTDESK_SECRETS", "env"),
            ("HOSTDESK_TOKEN_WHM1", "WRONG-0000"),
        ],
        None,
    )
    .await;
    t.keep(&out);
    let err = err_text(&out, "wrong token");
    assert!(
        err.contains("authentication") && err.contains("403"),
        "{err}"
    );

    // Create the site (a WHM account) and wait for it.
    let out = run(
        &db,
        &[
            "--json",
            "site",
            "create",
            "acme.test",
            "--server",
            "whm1",
            "--wait",
            "--timeout",
            "60",
        ],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    let created = ok_json(&out, "site create --wait");
    assert_eq!(created["state"], "succeeded");
    assert_eq!(created["site"]["status"], "active");
    let accounts = fake.accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(created["site"]["remoteId"], accounts[0].user.as_str());

    let out = run(
        &db,
        &[
            "--json",
            "site",
            "suspend",
            "acme.test",
            "--reason",
            "unpaid",
            "--wait",
        ],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    assert_eq!(ok_json(&out, "suspend")["site"]["status"], "disabled");
    assert!(fake.account(&accounts[0].user).unwrap().suspended);

    let out = run(
        &db,
        &["--json", "site", "login-link", "acme.test"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    let link = ok_json(&out, "login-link");
    assert!(link["url"].as_str().unwrap().starts_with("http"), "{link}");

    // Queue without waiting, then run the queue.
    let out = run(
        &db,
        &["--json", "site", "unsuspend", "acme.test"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    let job = ok_json(&out, "unsuspend")["jobId"].as_i64().unwrap();
    let out = run(
        &db,
        &["--json", "jobs", "run", "--until-idle", "--wait-retries"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    assert_eq!(ok_json(&out, "jobs run")["succeeded"], 1);
    let out = run(
        &db,
        &["--json", "jobs", "show", &job.to_string()],
        &env_store,
        None,
    )
    .await;
    t.keep(&out);
    assert_eq!(ok_json(&out, "jobs show")["job"]["state"], "succeeded");
    assert!(!fake.account(&accounts[0].user).unwrap().suspended);

    let out = run(
        &db,
        &["--json", "server", "sync", "whm1"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    let sync = ok_json(&out, "sync");
    assert_eq!(sync["remoteSites"], 1);
    assert_eq!(sync["drift"]["remoteOnly"].as_array().unwrap().len(), 0);
    fake.add_account("other", "other.test", "basic");
    let out = run(&db, &["server", "sync", "whm1"], &with_token, None).await;
    t.keep(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("on the server only: other.test"));

    for args in [
        vec!["--json", "site", "list", "--server", "whm1"],
        vec!["site", "list"],
        vec!["--json", "site", "show", "acme.test"],
        vec!["--json", "server", "list"],
        vec!["server", "list"],
        vec!["--json", "server", "show", "whm1"],
        vec!["server", "offline"],
        vec!["--json", "jobs", "list"],
        vec!["--json", "server", "edit", "whm1", "--concurrency", "3"],
    ] {
        let out = run(&db, &args, &env_store, None).await;
        t.keep(&out);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Offline: the server stops answering; the job waits, the status says so.
    fake.stop_listening();
    let out = run(
        &db,
        &["site", "suspend", "acme.test", "--wait", "--timeout", "3"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    let err = err_text(&out, "offline wait");
    assert!(
        err.contains("stays queued") && err.contains("offline"),
        "{err}"
    );
    let out = run(&db, &["server", "offline"], &env_store, None).await;
    t.keep(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "offline — 1 job waiting for whm1"
    );
    // It answers again: a test connection wakes the waiting job, and the queue drains.
    fake.resume_listening();
    let out = run(
        &db,
        &["--json", "server", "test", "whm1"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    assert_eq!(ok_json(&out, "test again")["ok"], true);
    let out = run(
        &db,
        &["--json", "jobs", "run", "--until-idle", "--wait-retries"],
        &with_token,
        None,
    )
    .await;
    t.keep(&out);
    assert_eq!(ok_json(&out, "drain")["waiting"], 0);
    assert!(fake.account(&accounts[0].user).unwrap().suspended);
    assert_eq!(fake.count("createacct"), 1, "the account was created once");

    for (i, text) in t.0.iter().enumerate() {
        assert!(!text.contains(&token), "output {i} holds the token: {text}");
    }
    assert!(t.0.iter().any(|x| x.contains("whm1")));
    if let Some(p) = file_holds(&db, &token) {
        panic!("{} holds the token", p.display());
    }
}
