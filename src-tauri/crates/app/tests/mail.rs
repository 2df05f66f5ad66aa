#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The mail outbox through the real queue (the runner `build_runner` makes) against the real
//! aiosmtpd SMTP server (`pip install aiosmtpd`), and the templates. Secrets come from the
//! in-memory store.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_app::mail::{
    self, outbox, smtp, templates, MailKind, MailVars, OutgoingMail, Security, SmtpSettingsInput,
    TemplateSource,
};
use hostdesk_app::provisioning::{build_runner, ProvisioningConfig};
use hostdesk_app::runner::{RunReport, Until};
use hostdesk_app::secrets::{MemoryStore, Secret, SecretStore};
use hostdesk_app::store::outbox::OutboxMail;
use hostdesk_app::{AppError, Clock, ErrorCode, Workspace};
use hostdesk_testkit::{RealSmtp, SmtpOptions};

const PASSWORD: &str = "smtp-Pa55word-9f3c2a71";

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mail.db");
    let ws = Workspace::open(&path, Clock::System).unwrap();
    Env {
        _dir: dir,
        path,
        ws,
        secrets: Arc::new(MemoryStore::new()),
    }
}

fn settings(port: u16, username: &str) -> SmtpSettingsInput {
    SmtpSettingsInput {
        host: "127.0.0.1".into(),
        port: Some(i64::from(port)),
        username: username.into(),
        from_addr: "billing@atrium.test".into(),
        from_name: "Atrium Hosting".into(),
        security: Security::None,
    }
}

fn configure(e: &mut Env, port: u16) {
    smtp::save_settings(&mut e.ws, &*e.secrets, &settings(port, ""), None, false).unwrap();
}

fn custom(to: &str, key: &str, subject: &str, body: &str) -> OutgoingMail {
    OutgoingMail {
        client_id: None,
        to_addr: to.into(),
        to_name: "Marc Lumière".into(),
        subject: subject.into(),
        body_text: body.into(),
        kind: MailKind::Custom,
        dedupe_key: key.into(),
        after: Vec::new(),
        subscription_id: None,
        site_id: None,
        max_attempts: None,
    }
}

/// Enqueues in a transaction of its own, as a use case would inside its own.
fn enqueue(ws: &mut Workspace, m: &OutgoingMail) -> mail::EnqueuedMail {
    ws.write(|tx, ctx| mail::enqueue(tx, m, &ctx.at)).unwrap()
}

/// Runs the queue until nothing is ready (and, with `wait`, no retry is scheduled).
async fn drain(e: &Env, wait: bool) -> (RunReport, Vec<String>) {
    let secrets: Arc<dyn SecretStore> = e.secrets.clone();
    let config = ProvisioningConfig {
        sandbox_delay_ms: Some(0..1),
        ..Default::default()
    };
    let (runner, _p) = build_runner(
        &e.path,
        Clock::System,
        secrets,
        common::fast_runner(),
        config,
    )
    .unwrap();
    let log = Mutex::new(Vec::new());
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        runner.run(
            Until::Idle {
                wait_for_retries: wait,
            },
            |ev| log.lock().unwrap().push(format!("{ev:?}")),
        ),
    )
    .await
    .expect("the queue drains")
    .unwrap();
    (report, log.into_inner().unwrap())
}

fn row(ws: &Workspace, id: i64) -> OutboxMail {
    outbox::show(ws, id).unwrap().mail
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_mail_is_sent_once_with_its_subject_body_and_message_id() {
    let server = RealSmtp::start();
    let mut e = env();
    configure(&mut e, server.port());
    let body = "Bonjour Marc,\n\nVotre site est prêt : https://lumiere.sites.test\n";
    let q = enqueue(
        &mut e.ws,
        &custom("marc@lumiere.test", "test:1", "Votre site est prêt", body),
    );
    assert!(q.created);
    assert!(
        q.message_id.starts_with('<') && q.message_id.ends_with("@atrium.test>"),
        "{}",
        q.message_id
    );
    let before = row(&e.ws, q.outbox_id);
    assert_eq!((before.state.as_str(), before.attempts), ("queued", 0));
    assert_eq!(before.job_id, Some(q.job_id));

    let (report, _) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1);
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1, "exactly one message");
    let m = &got[0];
    assert_eq!(m.subject, "Votre site est prêt");
    // The wire adds a line break after the body (the message ends with CRLF before the dot).
    assert_eq!(m.body.trim_end(), body.trim_end(), "{}", m.raw);
    assert!(
        m.raw.contains("pr=C3=AAt"),
        "UTF-8 as quoted-printable: {}",
        m.raw
    );
    assert_eq!(m.message_id, q.message_id);
    assert_eq!(m.rcpt_tos, vec!["marc@lumiere.test".to_owned()]);
    assert_eq!(m.mail_from, "billing@atrium.test");
    assert!(m.header("From").unwrap().contains("Atrium Hosting"));
    assert!(m.header("To").unwrap().contains("Marc Lumière"));

    let sent = row(&e.ws, q.outbox_id);
    assert_eq!(sent.state, "sent");
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some() && sent.last_error.is_none());

    // The job runs again (a crash before the runner recorded its success): the row is `sent`,
    // so nothing goes to the server a second time.
    e.ws.conn()
        .execute(
            "UPDATE jobs SET state = 'queued', run_after = '2000-01-01T00:00:00.000Z' WHERE id = ?1",
            [q.job_id],
        )
        .unwrap();
    let (report, _) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1);
    let detail = outbox::show(&e.ws, q.outbox_id).unwrap();
    assert_eq!(detail.job.unwrap().result["alreadySent"], true);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.messages().len(), 1, "never sent twice");
    assert_eq!(row(&e.ws, q.outbox_id).attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_dedupe_key_twice_queues_and_sends_one_mail() {
    let server = RealSmtp::start();
    let mut e = env();
    configure(&mut e, server.port());
    let m = custom(
        "owner@acme.test",
        "welcome:subscription:7",
        "Welcome",
        "Hello\n",
    );
    let first = enqueue(&mut e.ws, &m);
    let mut again = m.clone();
    again.subject = "Welcome (again)".into();
    let second = enqueue(&mut e.ws, &again);
    assert!(first.created && !second.created);
    assert_eq!(
        (first.outbox_id, first.job_id, &first.message_id),
        (second.outbox_id, second.job_id, &second.message_id)
    );
    assert_eq!(outbox::list(&e.ws, None, None, 0, 50).unwrap().len(), 1);

    drain(&e, true).await;
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, "Welcome");
    // After it was sent, the same key is still a no-op.
    let third = enqueue(&mut e.ws, &m);
    assert!(!third.created);
    drain(&e, true).await;
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn a_mail_queued_in_a_transaction_that_fails_is_not_queued_at_all() {
    let mut e = env();
    let m = custom("owner@acme.test", "order:1:welcome", "Welcome", "Hello\n");
    let out: Result<(), AppError> = e.ws.write(|tx, ctx| {
        mail::enqueue(tx, &m, &ctx.at)?;
        Err(AppError::new(ErrorCode::Conflict, "the order failed"))
    });
    assert!(out.is_err());
    assert!(outbox::list(&e.ws, None, None, 0, 50).unwrap().is_empty());
    let jobs: i64 =
        e.ws.conn()
            .query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
            .unwrap();
    assert_eq!(jobs, 0);
    // And a bad address is refused before anything is written.
    let bad = custom("not-an-address", "k", "s", "b");
    let err = e.ws.write(|tx, ctx| mail::enqueue(tx, &bad, &ctx.at));
    assert_eq!(err.unwrap_err().fields[0].field, "toAddr");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_waits_while_the_smtp_server_is_down_and_is_sent_once_when_it_answers() {
    let port = RealSmtp::free_port();
    let mut e = env();
    configure(&mut e, port);
    let q = enqueue(
        &mut e.ws,
        &custom("owner@acme.test", "down:1", "Invoice", "Hello\n"),
    );
    let (report, _) = drain(&e, false).await;
    assert_eq!((report.retried, report.dead), (1, 0));
    let waiting = row(&e.ws, q.outbox_id);
    assert_eq!(waiting.state, "queued");
    assert_eq!(waiting.attempts, 1);
    let err = waiting.last_error.unwrap();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert_eq!(
        outbox::show(&e.ws, q.outbox_id).unwrap().job.unwrap().state,
        "failed"
    );

    let server = RealSmtp::start_with(SmtpOptions {
        port: Some(port),
        ..Default::default()
    });
    let (report, _) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1);
    let got = server.wait_for(1, Duration::from_secs(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message_id, q.message_id);
    let sent = row(&e.ws, q.outbox_id);
    assert_eq!((sent.state.as_str(), sent.attempts), ("sent", 2));
    assert!(sent.last_error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_rejection_fails_the_mail_with_the_reason_and_retry_requeues_it() {
    let server = RealSmtp::start();
    let mut e = env();
    configure(&mut e, server.port());
    let q = enqueue(
        &mut e.ws,
        &custom("reject-me@acme.test", "reject:1", "Hello", "Hi\n"),
    );
    let (report, _) = drain(&e, true).await;
    assert_eq!(
        (report.dead, report.retried),
        (1, 0),
        "a 5xx is not retried"
    );
    let failed = row(&e.ws, q.outbox_id);
    assert_eq!((failed.state.as_str(), failed.attempts), ("failed", 1));
    let reason = failed.last_error.unwrap();
    assert!(reason.contains("550"), "{reason}");
    assert!(reason.contains("mailbox unavailable"), "{reason}");
    assert!(server.messages().is_empty());
    let detail = outbox::show(&e.ws, q.outbox_id).unwrap();
    assert_eq!(detail.job.unwrap().state, "dead");
    assert_eq!(detail.attempts.len(), 1);

    // Retry: queued again, its job too; it is refused again (same recipient) and says so.
    let again = outbox::retry(&mut e.ws, q.outbox_id).unwrap();
    assert_eq!(again.state, "queued");
    assert_eq!(
        outbox::show(&e.ws, q.outbox_id).unwrap().job.unwrap().state,
        "queued"
    );
    let err = outbox::retry(&mut e.ws, q.outbox_id).unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::Conflict,
        "only failed mails are retried"
    );
    drain(&e, true).await;
    let failed = row(&e.ws, q.outbox_id);
    assert_eq!((failed.state.as_str(), failed.attempts), ("failed", 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_the_mail_and_after_fixing_it_a_retry_sends_it() {
    let server = RealSmtp::start_with(SmtpOptions {
        credentials: Some(("atrium".into(), PASSWORD.into())),
        ..Default::default()
    });
    let mut e = env();
    let input = settings(server.port(), "atrium");
    let wrong = Secret::new("not-the-password");
    smtp::save_settings(&mut e.ws, &*e.secrets, &input, Some(&wrong), false).unwrap();
    let q = enqueue(
        &mut e.ws,
        &custom("owner@acme.test", "auth:1", "Hello", "Hi\n"),
    );
    drain(&e, true).await;
    let failed = row(&e.ws, q.outbox_id);
    assert_eq!(failed.state, "failed");
    assert!(failed.last_error.as_deref().unwrap().contains("535"));

    let right = Secret::new(PASSWORD);
    smtp::save_settings(&mut e.ws, &*e.secrets, &input, Some(&right), false).unwrap();
    outbox::retry(&mut e.ws, q.outbox_id).unwrap();
    drain(&e, true).await;
    assert_eq!(row(&e.ws, q.outbox_id).state, "sent");
    assert_eq!(server.wait_for(1, Duration::from_secs(5)).len(), 1);
    assert_eq!(server.logins(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_refusal_is_retried_and_after_the_last_attempt_the_mail_is_failed() {
    let server = RealSmtp::start();
    let mut e = env();
    configure(&mut e, server.port());
    let mut m = custom("busy@acme.test", "busy:1", "Hello", "Hi\n");
    m.max_attempts = Some(3);
    let q = enqueue(&mut e.ws, &m);
    let (report, _) = drain(&e, true).await;
    assert_eq!((report.retried, report.dead), (2, 1));
    let failed = row(&e.ws, q.outbox_id);
    assert_eq!((failed.state.as_str(), failed.attempts), ("failed", 3));
    let reason = failed.last_error.unwrap();
    assert!(reason.contains("451"), "{reason}");
    assert!(reason.contains("gave up"), "{reason}");
    assert!(server.messages().is_empty());
}

#[test]
fn a_queued_mail_whose_job_was_cancelled_gets_its_job_back_on_retry() {
    let mut e = env();
    let q = enqueue(
        &mut e.ws,
        &custom("owner@acme.test", "cancelled:1", "Hello", "Hi\n"),
    );
    let err = outbox::retry(&mut e.ws, q.outbox_id).unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::Conflict,
        "queued with a live job: nothing to retry"
    );
    hostdesk_app::jobs::cancel(&mut e.ws, q.job_id).unwrap();
    let m = outbox::retry(&mut e.ws, q.outbox_id).unwrap();
    assert_eq!(m.state, "queued");
    let job = outbox::show(&e.ws, q.outbox_id).unwrap().job.unwrap();
    assert_eq!((job.id, job.state.as_str()), (q.job_id, "queued"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_settings_the_mail_waits_and_says_why() {
    let mut e = env();
    let q = enqueue(
        &mut e.ws,
        &custom("owner@acme.test", "unconfigured:1", "Hello", "Hi\n"),
    );
    let (report, _) = drain(&e, false).await;
    assert_eq!(report.retried, 1);
    let waiting = row(&e.ws, q.outbox_id);
    assert_eq!((waiting.state.as_str(), waiting.attempts), ("queued", 0));
    assert!(waiting
        .last_error
        .unwrap()
        .contains("SMTP is not configured"));
}

fn assert_file_lacks(db: &Path, needle: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(bytes) = std::fs::read(&p) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds the SMTP password",
                p.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smtp_password_is_only_in_the_secret_store() {
    let server = RealSmtp::start_with(SmtpOptions {
        credentials: Some(("atrium".into(), PASSWORD.into())),
        ..Default::default()
    });
    let mut e = env();
    let saved = smtp::save_settings(
        &mut e.ws,
        &*e.secrets,
        &settings(server.port(), "atrium"),
        Some(&Secret::new(PASSWORD)),
        false,
    )
    .unwrap();
    assert!(saved.password_set);
    assert_eq!(
        e.secrets.get(mail::SMTP_SECRET).unwrap().unwrap().expose(),
        PASSWORD
    );
    let ok = enqueue(
        &mut e.ws,
        &custom("owner@acme.test", "secret:1", "Hello", "Hi\n"),
    );
    let bad = enqueue(
        &mut e.ws,
        &custom("reject@acme.test", "secret:2", "Hello", "Hi\n"),
    );
    let (_, log) = drain(&e, true).await;
    assert_eq!(server.wait_for(1, Duration::from_secs(5)).len(), 1);
    assert_eq!(
        server.logins(),
        2,
        "both attempts logged in with the password"
    );
    assert_eq!(row(&e.ws, ok.outbox_id).state, "sent");
    assert_eq!(row(&e.ws, bad.outbox_id).state, "failed");

    // Nowhere in the database file, the runner's log, or any reply the UI gets.
    let _ = e.ws.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    assert_file_lacks(&e.path, PASSWORD);
    assert!(!log.join("\n").contains(PASSWORD));
    let replies = [
        serde_json::to_string(&smtp::settings(&e.ws, &*e.secrets).unwrap()).unwrap(),
        serde_json::to_string(&outbox::list(&e.ws, None, None, 0, 50).unwrap()).unwrap(),
        serde_json::to_string(&outbox::show(&e.ws, bad.outbox_id).unwrap()).unwrap(),
    ];
    for r in &replies {
        assert!(!r.contains(PASSWORD), "{r}");
    }
    let settings_rows = hostdesk_app::settings::list(&e.ws).unwrap();
    assert!(settings_rows.iter().all(|(_, v)| !v.contains(PASSWORD)));
}

#[test]
fn smtp_settings_are_checked_field_by_field() {
    let mut e = env();
    let input = SmtpSettingsInput {
        host: "".into(),
        port: Some(70000),
        username: "u".into(),
        from_addr: "nope".into(),
        from_name: "".into(),
        security: Security::Starttls,
    };
    let err = smtp::save_settings(&mut e.ws, &*e.secrets, &input, None, false).unwrap_err();
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["host", "port", "fromAddr"]);
    // A password in the clear across the network is refused; to this machine it is allowed.
    let mut plain = settings(25, "u");
    plain.host = "smtp.example.com".into();
    let err = smtp::save_settings(&mut e.ws, &*e.secrets, &plain, None, false).unwrap_err();
    assert_eq!(err.fields[0].field, "security");
    let s = smtp::save_settings(&mut e.ws, &*e.secrets, &settings(2525, "u"), None, false).unwrap();
    assert!(s.configured && !s.password_set);
    assert_eq!(s.port, 2525);
    // The default port follows the security.
    let mut tls = settings(0, "");
    tls.port = None;
    tls.host = "smtp.example.com".into();
    tls.security = Security::Tls;
    assert_eq!(
        smtp::save_settings(&mut e.ws, &*e.secrets, &tls, None, false)
            .unwrap()
            .port,
        465
    );
}

fn welcome_vars() -> MailVars {
    MailVars::from([
        ("client_name".into(), "Atelier Lumière".into()),
        ("product_name".into(), "Open Atrium site".into()),
        ("site_url".into(), "https://lumiere.sites.test".into()),
        (
            "login_url".into(),
            "https://lumiere.sites.test/user/login".into(),
        ),
    ])
}

#[test]
fn templates_fall_back_from_the_product_to_the_workspace_to_the_built_in_one() {
    let mut e = env();
    e.ws.conn()
        .execute(
            "INSERT INTO products (id, code, name, kind, created_at)
             VALUES (1, 'oa', 'Open Atrium site', 'site', '2026-01-01T00:00:00Z'),
                    (2, 'drupal', 'Drupal site', 'site', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    hostdesk_app::settings::set(&mut e.ws, "seller_name", "Atrium Hosting SARL").unwrap();
    let vars = welcome_vars();

    let r = mail::render(e.ws.conn(), Some(1), MailKind::Welcome, &vars).unwrap();
    assert_eq!(r.source, TemplateSource::BuiltIn);
    assert_eq!(
        r.subject,
        "Your Open Atrium site is ready: https://lumiere.sites.test"
    );
    assert!(r
        .body
        .contains("Sign in here: https://lumiere.sites.test/user/login"));
    assert!(r.body.ends_with("Atrium Hosting SARL\n"), "{}", r.body);

    templates::set(
        &mut e.ws,
        None,
        MailKind::Welcome,
        "Welcome, {{ client_name }}",
        "Your site: {{ site_url }}\n",
    )
    .unwrap();
    let r = mail::render(e.ws.conn(), Some(1), MailKind::Welcome, &vars).unwrap();
    assert_eq!(r.source, TemplateSource::Workspace);
    assert_eq!(r.subject, "Welcome, Atelier Lumière");

    templates::set(
        &mut e.ws,
        Some("oa"),
        MailKind::Welcome,
        "Your intranet {{ site_url }}",
        "{% if client_name %}Hello {{ client_name | upper }}{% endif %}\nSign in: {{ login_url }}\n",
    )
    .unwrap();
    let r = mail::render(e.ws.conn(), Some(1), MailKind::Welcome, &vars).unwrap();
    assert_eq!(r.source, TemplateSource::Product);
    assert_eq!(
        r.body,
        "Hello ATELIER LUMIÈRE\nSign in: https://lumiere.sites.test/user/login\n"
    );
    // Another product still gets the workspace default.
    let r = mail::render(e.ws.conn(), Some(2), MailKind::Welcome, &vars).unwrap();
    assert_eq!(r.source, TemplateSource::Workspace);
    // Reset: the next in line takes over.
    assert!(templates::reset(&mut e.ws, Some("oa"), MailKind::Welcome).unwrap());
    let r = mail::render(e.ws.conn(), Some(1), MailKind::Welcome, &vars).unwrap();
    assert_eq!(r.source, TemplateSource::Workspace);

    // Rendered mails go straight into the outbox.
    let m = OutgoingMail::new(
        "compta@lumiere.test",
        "Atelier Lumière",
        MailKind::Welcome,
        "welcome:subscription:1",
        r,
    );
    let q = enqueue(&mut e.ws, &m);
    let stored = row(&e.ws, q.outbox_id);
    assert_eq!(stored.kind, "welcome");
    assert_eq!(stored.subject, "Welcome, Atelier Lumière");
}

#[test]
fn a_template_with_an_unknown_placeholder_is_refused_when_it_is_saved() {
    let mut e = env();
    let err = templates::set(
        &mut e.ws,
        None,
        MailKind::PaymentReminder,
        "Invoice {{ invoice_number }}",
        "Pay {{ amount }} by {{ due_dat }}\n",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert_eq!(err.fields[0].field, "body");
    assert!(err.message.contains("{{ due_dat }}"), "{}", err.message);
    assert!(err.message.contains("due_date"), "{}", err.message);
    let err =
        templates::set(&mut e.ws, Some("nope"), MailKind::Welcome, "Hi", "Hello\n").unwrap_err();
    assert_eq!(err.fields[0].field, "product");
    // Nothing was stored: the built-in template still answers.
    let t = templates::get(&e.ws, None, MailKind::PaymentReminder).unwrap();
    assert_eq!(t.source, TemplateSource::BuiltIn);
}

#[test]
fn rendering_needs_every_variable_of_its_kind_and_no_other() {
    let e = env();
    let mut vars = welcome_vars();
    vars.remove("login_url");
    let err = mail::render(e.ws.conn(), None, MailKind::Welcome, &vars).unwrap_err();
    assert!(err.message.contains("login_url"), "{}", err.message);
    let mut vars = welcome_vars();
    vars.insert("site_ulr".into(), "x".into());
    let err = mail::render(e.ws.conn(), None, MailKind::Welcome, &vars).unwrap_err();
    assert!(err.message.contains("site_ulr"), "{}", err.message);
    assert!(mail::render(e.ws.conn(), None, MailKind::Custom, &MailVars::new()).is_err());
}
