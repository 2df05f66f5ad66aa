#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Support-tier access grants through the real queue: `plan_grants`, the runner built by
//! `build_runner`, the `access.grant` handler, against FakeRedmine (faults, request counts) and
//! the sandbox server (the hosting handover path). Secrets come from the in-memory store.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_app::access::{self, GrantQuery, TrackerDraft, TrackerProbe};
use hostdesk_app::catalog;
use hostdesk_app::clients;
use hostdesk_app::core::catalog::{AccessGrant, Channel, TierDraft};
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::jobs;
use hostdesk_app::provisioning::{self, build_runner, ProvisioningConfig, SiteAction};
use hostdesk_app::remote::HttpConfig;
use hostdesk_app::runner::{RunReport, Until};
use hostdesk_app::secrets::{MemoryStore, Secret, SecretStore};
use hostdesk_app::servers::{self, ServerDraft};
use hostdesk_app::store::access::Grant;
use hostdesk_app::store::jobs::Job;
use hostdesk_app::{Clock, ErrorCode, Workspace};
use hostdesk_testkit::{FakeRedmine, Fault};
use serde_json::Value;

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.db");
    let ws = Workspace::open(&path, Clock::System).unwrap();
    Env {
        _dir: dir,
        path,
        ws,
        secrets: Arc::new(MemoryStore::new()),
    }
}

/// A client, a tier granting `grants`, a product and an active subscription to both; returns
/// the subscription's id.
fn subscription(ws: &mut Workspace, grants: &[(&str, &str)]) -> i64 {
    let client = clients::add(
        ws,
        &ClientDraft {
            name: "Atelier Lumière".into(),
            email: "marc@lumiere.fr".into(),
            currency: "EUR".into(),
            timezone: "Europe/Paris".into(),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    let tier = catalog::add_tier(
        ws,
        &TierDraft {
            code: "business".into(),
            name: "Business 8x5".into(),
            channels: vec![Channel::Email],
            grants: grants
                .iter()
                .map(|(t, r)| AccessGrant {
                    target: (*t).into(),
                    role: (*r).into(),
                })
                .collect(),
            ..Default::default()
        },
    )
    .unwrap();
    let at = "2026-01-01T00:00:00Z";
    let c = ws.conn();
    c.execute(
        "INSERT INTO products (code, name, kind, profile, created_at)
         VALUES ('site', 'Site', 'site', 'standard', ?1)",
        [at],
    )
    .unwrap();
    let product = c.last_insert_rowid();
    c.execute(
        "INSERT INTO subscriptions (client_id, product_id, tier_id, currency, period,
                price_minor, state, anchor_day, started_on, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'EUR', 'month', 5900, 'active', 1, '2026-01-01', ?4, ?4)",
        (client, product, tier, at),
    )
    .unwrap();
    c.last_insert_rowid()
}

fn set_tracker(e: &mut Env, fake: &FakeRedmine) {
    access::set_tracker(
        &mut e.ws,
        &*e.secrets,
        &TrackerDraft {
            url: fake.base_url(),
            project: "support".into(),
        },
        Some(&Secret::new(fake.api_key())),
    )
    .unwrap();
}

fn plan(ws: &mut Workspace, sub: i64, after: &[i64]) -> Vec<i64> {
    ws.write(|tx, ctx| access::plan_grants_after(tx, sub, &ctx.at, after))
        .unwrap()
}

fn prov() -> ProvisioningConfig {
    ProvisioningConfig {
        http: HttpConfig {
            connect_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(400),
        },
        poll_interval: Duration::from_millis(10),
        poll_budget: Duration::from_millis(400),
        offline_patience: Duration::from_secs(3600),
        sandbox_delay_ms: Some(0..1),
        ..Default::default()
    }
}

/// Runs the queue until nothing is left to do; returns the report and the event log.
async fn drain(e: &Env, wait_for_retries: bool) -> (RunReport, Vec<String>) {
    let secrets: Arc<dyn SecretStore> = e.secrets.clone();
    let (runner, _p) = build_runner(
        &e.path,
        Clock::System,
        secrets,
        common::fast_runner(),
        prov(),
    )
    .unwrap();
    let log = Mutex::new(Vec::new());
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        runner.run(Until::Idle { wait_for_retries }, |ev| {
            log.lock().unwrap().push(format!("{ev:?}"))
        }),
    )
    .await
    .expect("the queue drains")
    .unwrap();
    (report, log.into_inner().unwrap())
}

fn job(ws: &Workspace, id: i64) -> Job {
    jobs::show(ws, id).unwrap().job
}

fn grants(ws: &Workspace, sub: i64) -> Vec<Grant> {
    access::list(
        ws,
        &GrantQuery {
            subscription_id: Some(sub),
            ..Default::default()
        },
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tier_granting_the_tracker_gives_one_redmine_user_one_membership_with_the_role() {
    let mut e = env();
    let fake = FakeRedmine::start().await;
    set_tracker(&mut e, &fake);
    let sub = subscription(&mut e.ws, &[("issue-tracker", "customer")]);
    let ids = plan(&mut e.ws, sub, &[]);
    assert_eq!(ids.len(), 1);
    let j = job(&e.ws, ids[0]);
    assert_eq!(j.kind, access::ACCESS_GRANT);
    assert_eq!(j.subscription_id, Some(sub));
    // The payload holds everything the job needs from the order.
    assert_eq!(j.payload["target"], "issue-tracker");
    assert_eq!(j.payload["role"], "customer");
    assert_eq!(j.payload["email"], "marc@lumiere.fr");
    assert_eq!(j.payload["login"], "marc@lumiere.fr");
    assert_eq!(j.payload["name"], "Atelier Lumière");
    let before = grants(&e.ws, sub);
    assert_eq!(before.len(), 1);
    assert_eq!(
        (before[0].state.as_str(), before[0].job_id),
        ("pending", Some(ids[0]))
    );
    // Planning again (a re-run of the order's chain) changes nothing.
    assert_eq!(plan(&mut e.ws, sub, &[]), ids);
    assert_eq!(grants(&e.ws, sub).len(), 1);

    let (report, log) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    let user = fake.user("marc@lumiere.fr").unwrap();
    assert_eq!(
        (user.firstname.as_str(), user.lastname.as_str()),
        ("Atelier", "Lumière")
    );
    assert_eq!(user.mails_sent, 1, "Redmine mails the account's details");
    let members = fake.memberships("support");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].user_id, user.id);
    assert_eq!(members[0].role_ids, vec![fake.role_id("Customer").unwrap()]);

    let g = &grants(&e.ws, sub)[0];
    assert_eq!(g.state, "granted");
    assert_eq!(g.remote_user_id, Some(user.id.to_string()));
    assert_eq!(g.remote_login.as_deref(), Some("marc@lumiere.fr"));
    assert_eq!(g.job_state.as_deref(), Some("succeeded"));
    assert!(g.error.is_none());
    let j = job(&e.ws, ids[0]);
    assert_eq!(j.result["userId"], user.id.to_string());
    assert_eq!(j.result["role"], "Customer");
    assert_eq!(j.result["membershipId"], members[0].id);
    // The new user's own API key came back in Redmine's reply: it is not kept.
    assert!(!j.result.to_string().contains(&user.api_key));

    // Listed by client too.
    let by_client = access::list(
        &e.ws,
        &GrantQuery {
            client_id: Some(g.client_id),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(by_client.len(), 1);
    assert_eq!(by_client[0].client_name, "Atelier Lumière");
}

async fn survives_a_fault_on_the_first_membership_post(fault: Fault) {
    let mut e = env();
    let fake = FakeRedmine::start().await;
    set_tracker(&mut e, &fake);
    let sub = subscription(&mut e.ws, &[("issue-tracker", "customer")]);
    let ids = plan(&mut e.ws, sub, &[]);
    fake.fail_next("memberships.create", 1, fault.clone());
    let (report, log) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1, "{fault:?}: {log:#?}");
    assert!(report.retried >= 1, "{fault:?}: {log:#?}");
    let j = job(&e.ws, ids[0]);
    assert_eq!(j.attempts, 2, "{fault:?}");
    assert_eq!(fake.count("users.create"), 1, "{fault:?}: one user");
    let users: Vec<_> = fake
        .users()
        .into_iter()
        .filter(|u| u.mail == "marc@lumiere.fr")
        .collect();
    assert_eq!(users.len(), 1, "{fault:?}");
    let members = fake.memberships("support");
    assert_eq!(members.len(), 1, "{fault:?}: one membership");
    assert_eq!(members[0].role_ids, vec![fake.role_id("Customer").unwrap()]);
    // The retry used the user id the first attempt saved: no second lookup by login.
    assert_eq!(j.result["userId"], users[0].id.to_string());
    assert_eq!(grants(&e.ws, sub)[0].state, "granted");
}

#[tokio::test]
async fn a_lost_reply_on_the_first_membership_post_is_retried_without_doubling() {
    survives_a_fault_on_the_first_membership_post(Fault::DropReply).await;
}

#[tokio::test]
async fn a_503_on_the_first_membership_post_is_retried_without_doubling() {
    survives_a_fault_on_the_first_membership_post(Fault::Status(503)).await;
}

#[tokio::test]
async fn an_unknown_role_fails_the_grant_with_the_roles_that_exist() {
    let mut e = env();
    let fake = FakeRedmine::start().await;
    set_tracker(&mut e, &fake);
    let sub = subscription(&mut e.ws, &[("issue-tracker", "auditor")]);
    let ids = plan(&mut e.ws, sub, &[]);
    let (report, log) = drain(&e, true).await;
    assert_eq!(report.dead, 1, "{log:#?}");
    let j = job(&e.ws, ids[0]);
    assert_eq!((j.state.as_str(), j.attempts), ("dead", 1), "not retried");
    let g = &grants(&e.ws, sub)[0];
    assert_eq!(g.state, "failed");
    let msg = g.error.clone().unwrap();
    assert!(msg.contains("no role named 'auditor'"), "{msg}");
    assert!(
        msg.contains("Manager, Developer, Reporter, Customer"),
        "{msg}"
    );
    assert_eq!(j.last_error.as_deref(), Some(msg.as_str()));
    assert_eq!(fake.count("users.create"), 0, "nothing created");
    assert!(fake.user("marc@lumiere.fr").is_none());
}

#[tokio::test]
async fn the_api_key_is_never_in_the_database_or_the_replies() {
    let mut e = env();
    let fake = FakeRedmine::start().await;
    let key = fake.api_key();
    set_tracker(&mut e, &fake);
    let sub = subscription(&mut e.ws, &[("issue-tracker", "customer")]);
    let ids = plan(&mut e.ws, sub, &[]);
    fake.fail_next("roles.index", 1, Fault::Status(500));
    let (report, log) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    let mut replies = vec![
        serde_json::to_string(&access::tracker_settings(&e.ws, &*e.secrets).unwrap()).unwrap(),
        serde_json::to_string(&grants(&e.ws, sub)).unwrap(),
        serde_json::to_string(&jobs::show(&e.ws, ids[0]).unwrap()).unwrap(),
    ];
    let probe = TrackerProbe::open(&e.ws, &*e.secrets, &prov().http).unwrap();
    replies.push(format!("{probe:?}"));
    let report = probe.test().await.unwrap();
    assert_eq!(report.roles.len(), 4);
    replies.push(serde_json::to_string(&report).unwrap());
    let settings = access::tracker_settings(&e.ws, &*e.secrets).unwrap();
    assert!(settings.key_stored);
    for text in log.iter().chain(replies.iter()) {
        assert!(!text.contains(&key), "the key leaked into: {text}");
    }
    // Where it does live: the secret store.
    assert_eq!(
        e.secrets
            .get(access::TRACKER_SECRET)
            .unwrap()
            .unwrap()
            .expose(),
        key
    );
    let created = fake.user("marc@lumiere.fr").unwrap();
    drop(e.ws);
    assert_file_lacks(&e.path, &key);
    assert_file_lacks(&e.path, &created.api_key);
}

fn assert_file_lacks(db: &Path, needle: &str) {
    let mut read = 0;
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(bytes) = std::fs::read(&p) {
            read += bytes.len();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds the key",
                p.display()
            );
        }
    }
    assert!(read > 0, "the database files were read");
}

#[tokio::test]
async fn no_tracker_set_fails_the_grant_saying_how_to_set_one() {
    let mut e = env();
    let sub = subscription(&mut e.ws, &[("issue-tracker", "customer")]);
    let ids = plan(&mut e.ws, sub, &[]);
    drain(&e, true).await;
    let j = job(&e.ws, ids[0]);
    assert_eq!(j.state, "dead");
    assert!(
        j.last_error
            .as_deref()
            .unwrap()
            .contains("hostdesk tracker set"),
        "{:?}",
        j.last_error
    );
    assert_eq!(grants(&e.ws, sub)[0].state, "failed");
}

#[tokio::test]
async fn an_unreachable_tracker_keeps_the_grant_waiting_then_it_goes_through() {
    let mut e = env();
    let fake = FakeRedmine::start().await;
    set_tracker(&mut e, &fake);
    let sub = subscription(&mut e.ws, &[("issue-tracker", "customer")]);
    let ids = plan(&mut e.ws, sub, &[]);
    fake.stop_listening();
    let (report, _) = drain(&e, false).await;
    assert_eq!((report.succeeded, report.dead), (0, 0));
    let j = job(&e.ws, ids[0]);
    assert_eq!(j.state, "failed", "waiting for a retry");
    assert_eq!(
        j.max_attempts,
        jobs::DEFAULT_MAX_ATTEMPTS + 1,
        "offline does not use up attempts"
    );
    let g = &grants(&e.ws, sub)[0];
    assert_eq!(g.state, "pending");
    assert!(g.error.as_deref().unwrap().starts_with("offline:"), "{g:?}");
    fake.resume_listening();
    let (report, log) = drain(&e, true).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    let g = &grants(&e.ws, sub)[0];
    assert_eq!(g.state, "granted");
    assert!(g.error.is_none());
    assert!(job(&e.ws, ids[0]).result["offlineSince"].is_null());
}

#[tokio::test]
async fn a_hosting_grant_creates_the_clients_user_with_the_role_on_its_site() {
    let mut e = env();
    let sub = subscription(
        &mut e.ws,
        &[("hosting", "editor"), ("issue-tracker", "customer")],
    );
    let sandbox = servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "sandbox".into(),
            kind: "sandbox".into(),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    e.ws.conn()
        .execute(
            "INSERT INTO sites (subscription_id, domain, profile, status, created_at, updated_at)
             VALUES (?1, 'lumiere.sites.example.net', 'standard', 'queued', ?2, ?2)",
            (sub, "2026-01-01T00:00:00Z"),
        )
        .unwrap();
    let site = e.ws.conn().last_insert_rowid();
    provisioning::place_site(&mut e.ws, site, sandbox).unwrap();
    let create = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    let ids = plan(&mut e.ws, sub, &[create]);
    assert_eq!(ids.len(), 2);
    let hosting = job(&e.ws, ids[0]);
    assert_eq!(hosting.deps, vec![create], "the grant waits for the site");
    assert_eq!(hosting.site_id, Some(site));
    assert_eq!(hosting.server_id, Some(sandbox));
    assert_eq!(hosting.payload["site"], "lumiere.sites.example.net");

    // No tracker is set: the tracker grant fails, the hosting one goes through.
    let (report, log) = drain(&e, true).await;
    assert_eq!(report.succeeded, 2, "{log:#?}");
    let users: String =
        e.ws.conn()
            .query_row(
                "SELECT users FROM sandbox_sites WHERE name = 'lumiere.sites.example.net'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    let users: Value = serde_json::from_str(&users).unwrap();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["email"], "marc@lumiere.fr");
    assert_eq!(users[0]["role"], "editor");
    let j = job(&e.ws, ids[0]);
    assert_eq!(j.result["simulated"], true);
    let list = grants(&e.ws, sub);
    let hosting = list.iter().find(|g| g.target == "hosting").unwrap();
    assert_eq!(hosting.state, "granted");
    assert_eq!(hosting.remote_user_id, Some(users[0]["uid"].to_string()));
    let tracker = list.iter().find(|g| g.target == "issue-tracker").unwrap();
    assert_eq!(tracker.state, "failed");
    // Staff set the tracker, then retry the job: it goes through.
    let fake = FakeRedmine::start().await;
    set_tracker(&mut e, &fake);
    jobs::retry(&mut e.ws, tracker.job_id.unwrap()).unwrap();
    drain(&e, true).await;
    let tracker = grants(&e.ws, sub)
        .into_iter()
        .find(|g| g.target == "issue-tracker")
        .unwrap();
    assert_eq!(tracker.state, "granted");
    assert_eq!(fake.memberships("support").len(), 1);
}

#[test]
fn tracker_settings_are_checked_and_the_key_goes_to_the_secret_store() {
    let mut e = env();
    let err = access::set_tracker(
        &mut e.ws,
        &*e.secrets,
        &TrackerDraft {
            url: "http://tracker.example.com".into(),
            project: "Support Desk".into(),
        },
        Some(&Secret::new("k-123456")),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["url", "project"]);
    assert!(e.secrets.get(access::TRACKER_SECRET).unwrap().is_none());
    let s = access::set_tracker(
        &mut e.ws,
        &*e.secrets,
        &TrackerDraft {
            url: "https://support.example.com/".into(),
            project: "support".into(),
        },
        Some(&Secret::new("k-123456")),
    )
    .unwrap();
    assert_eq!(s.url.as_deref(), Some("https://support.example.com"));
    assert_eq!(s.project.as_deref(), Some("support"));
    assert!(s.key_stored);
    assert!(!serde_json::to_string(&s).unwrap().contains("k-123456"));
    // Plans for a subscription without a tier: nothing.
    let client = clients::add(
        &mut e.ws,
        &ClientDraft {
            name: "Solo".into(),
            email: "solo@example.com".into(),
            currency: "EUR".into(),
            timezone: "UTC".into(),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    let at = "2026-01-01T00:00:00Z";
    e.ws.conn()
        .execute(
            "INSERT INTO products (code, name, kind, created_at) VALUES ('p', 'P', 'site', ?1)",
            [at],
        )
        .unwrap();
    let product = e.ws.conn().last_insert_rowid();
    e.ws.conn()
        .execute(
            "INSERT INTO subscriptions (client_id, product_id, currency, period, price_minor,
                    anchor_day, started_on, created_at, updated_at)
             VALUES (?1, ?2, 'EUR', 'month', 100, 1, '2026-01-01', ?3, ?3)",
            (client, product, at),
        )
        .unwrap();
    let sub = e.ws.conn().last_insert_rowid();
    assert!(plan(&mut e.ws, sub, &[]).is_empty());
    let missing =
        e.ws.write(|tx, ctx| access::plan_grants(tx, 999_999, &ctx.at))
            .unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
}
