#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! `hostdesk mail` and `hostdesk outbox` as scripts see them, against the real aiosmtpd.
//! Secrets come from the environment store (`HOSTDESK_SECRETS=env`), which reads the SMTP
//! password from `HOSTDESK_SMTP_PASSWORD`.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use hostdesk_testkit::{RealSmtp, SmtpOptions};
use serde_json::Value;

const PASSWORD: &str = "cli-smtp-secret-7d1e";

fn hostdesk(db: &Path, args: &[&str]) -> Output {
    common::hostdesk_run(
        db,
        args,
        &[
            ("HOSTDESK_SECRETS", "env"),
            ("HOSTDESK_SMTP_PASSWORD", PASSWORD),
        ],
        &[],
        None,
    )
}

fn json(db: &Path, args: &[&str]) -> Value {
    common::ok_json(
        &hostdesk(db, &common::with_json(args)),
        &format!("{args:?}"),
    )
}

#[test]
fn settings_a_test_mail_jobs_run_and_the_outbox_commands() {
    let server = RealSmtp::start_with(SmtpOptions {
        credentials: Some(("atrium".into(), PASSWORD.into())),
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hd.db");
    let port = server.port().to_string();

    let s = json(&db, &["mail", "settings"]);
    assert_eq!(s["configured"], false);
    let s = json(
        &db,
        &[
            "mail",
            "settings",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "none",
            "--username",
            "atrium",
            "--from",
            "billing@atrium.test",
        ],
    );
    assert_eq!(s["configured"], true);
    assert_eq!(
        s["passwordSet"], true,
        "read from HOSTDESK_SMTP_PASSWORD: {s}"
    );
    assert!(!s.to_string().contains(PASSWORD));
    // The environment store never writes: a password given to it is refused, naming the variable.
    let out = hostdesk(&db, &["mail", "settings", "--password-env"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOSTDESK_SMTP_PASSWORD"));

    let q = json(&db, &["mail", "test", "--to", "owner@acme.test"]);
    let id = q["outboxId"].as_i64().unwrap().to_string();
    let bad = json(&db, &["mail", "test", "--to", "reject@acme.test"]);
    let bad_id = bad["outboxId"].as_i64().unwrap().to_string();
    let run = json(&db, &["jobs", "run", "--until-idle", "--wait-retries"]);
    assert_eq!(run["succeeded"], 1);
    assert_eq!(run["dead"], 1);
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, "Hostdesk test mail");
    assert_eq!(Value::String(got[0].message_id.clone()), q["messageId"]);

    let list = json(&db, &["outbox", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        json(&db, &["outbox", "list", "--state", "failed"])[0]["id"],
        bad["outboxId"]
    );
    let shown = json(&db, &["outbox", "show", &id]);
    assert_eq!(shown["mail"]["state"], "sent");
    assert_eq!(shown["job"]["state"], "succeeded");
    let failed = json(&db, &["outbox", "show", &bad_id]);
    assert!(failed["mail"]["lastError"]
        .as_str()
        .unwrap()
        .contains("550"));
    let again = json(&db, &["outbox", "retry", &bad_id]);
    assert_eq!(again["state"], "queued");
    let out = hostdesk(&db, &["--json", "outbox", "retry", &id]);
    assert!(!out.status.success(), "a sent mail is not retried");
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["code"], "conflict");

    // Templates: an unknown placeholder is refused with the field; a good one is stored.
    let body = dir.path().join("body.txt");
    std::fs::write(&body, "Hello {{ client_nme }}\n").unwrap();
    let body_arg = body.to_str().unwrap();
    let out = hostdesk(
        &db,
        &[
            "--json",
            "mail",
            "template",
            "set",
            "--kind",
            "welcome",
            "--subject",
            "Hi",
            "--body-file",
            body_arg,
        ],
    );
    assert!(!out.status.success());
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["fields"][0]["field"], "body");
    std::fs::write(&body, "Hello {{ client_name }}\n").unwrap();
    let t = json(
        &db,
        &[
            "mail",
            "template",
            "set",
            "--kind",
            "welcome",
            "--subject",
            "Hi",
            "--body-file",
            body_arg,
        ],
    );
    assert_eq!(t["source"], "workspace");
    assert_eq!(
        json(&db, &["mail", "template", "show", "--kind", "welcome"])["body"],
        "Hello {{ client_name }}\n"
    );
}
