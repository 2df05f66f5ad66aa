#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Provisioning through the real queue: the runner built by `build_runner`, the provisioning
//! handler, the drivers, against FakeAegir / FakeWhm (fault injection, request counts) and a
//! real Caddy. Secrets come from the in-memory store.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_app::domains;
use hostdesk_app::jobs::{self, JobSpec};
use hostdesk_app::provisioning::{
    self, build_runner, ProvisioningConfig, ServerOptions, SiteAction, SiteQuery,
};
use hostdesk_app::remote::{install_crypto_provider, HttpConfig};
use hostdesk_app::runner::{RunReport, Until};
use hostdesk_app::secrets::{MemoryStore, Secret, SecretStore};
use hostdesk_app::servers::{self, ServerDraft, ServerHealth};
use hostdesk_app::store::jobs::Job;
use hostdesk_app::{Clock, ErrorCode, Workspace};
use hostdesk_testkit::{FakeAegir, FakeWhm, Fault, PlainTextServer, RealCaddy, TaskOutcome};
use serde_json::{json, Value};

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prov.db");
    let ws = Workspace::open(&path, Clock::System).unwrap();
    Env {
        _dir: dir,
        path,
        ws,
        secrets: Arc::new(MemoryStore::new()),
    }
}

/// A client, a product and a subscription (once), then a queued site with this domain.
fn local_site(ws: &Workspace, domain: &str, platform: &str, profile: &str) -> i64 {
    let at = "2026-01-01T00:00:00Z";
    let c = ws.conn();
    c.execute(
        "INSERT OR IGNORE INTO clients (id, name, email, currency, timezone, created_at, updated_at)
         VALUES (1, 'Acme Ltd', 'owner@acme.test', 'EUR', 'Europe/Paris', ?1, ?1)",
        [at],
    )
    .unwrap();
    c.execute(
        "INSERT OR IGNORE INTO products (id, code, name, kind, profile, platform, created_at)
         VALUES (1, 'site', 'Site', 'site', ?2, ?3, ?1)",
        [at, profile, platform],
    )
    .unwrap();
    c.execute(
        "INSERT OR IGNORE INTO subscriptions (id, client_id, product_id, currency, period,
                price_minor, state, anchor_day, started_on, created_at, updated_at)
         VALUES (1, 1, 1, 'EUR', 'month', 995, 'active', 1, '2026-01-01', ?1, ?1)",
        [at],
    )
    .unwrap();
    c.execute(
        "INSERT INTO sites (subscription_id, domain, platform, profile, status, created_at, updated_at)
         VALUES (1, ?2, ?3, ?4, 'queued', ?1, ?1)",
        [at, domain, platform, profile],
    )
    .unwrap();
    c.last_insert_rowid()
}

fn set_status(ws: &Workspace, site: i64, status: &str) {
    ws.conn()
        .execute("UPDATE sites SET status = ?2 WHERE id = ?1", (site, status))
        .unwrap();
}

fn draft(name: &str, kind: &str, url: &str) -> ServerDraft {
    ServerDraft {
        name: name.into(),
        kind: kind.into(),
        base_url: url.into(),
        ..Default::default()
    }
}

fn add_whm(e: &mut Env, name: &str, fake: &FakeWhm) -> i64 {
    let mut d = draft(name, "whm", &fake.base_url());
    d.user = fake.user();
    servers::add(&mut e.ws, &*e.secrets, &d, Some(&Secret::new(fake.token()))).unwrap()
}

fn add_aegir(e: &mut Env, name: &str, fake: &FakeAegir) -> i64 {
    let mut d = draft(name, "aegir", &fake.base_url());
    d.master_domain = fake.master_domain();
    d.platforms = vec!["drupal7".into()];
    servers::add(
        &mut e.ws,
        &*e.secrets,
        &d,
        Some(&Secret::new(fake.api_key())),
    )
    .unwrap()
}

fn add_sandbox(e: &mut Env, name: &str, concurrency: i64) -> i64 {
    let mut d = draft(name, "sandbox", "");
    d.concurrency = Some(concurrency);
    servers::add(&mut e.ws, &*e.secrets, &d, None).unwrap()
}

fn fast_http() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(400),
    }
}

fn prov() -> ProvisioningConfig {
    ProvisioningConfig {
        http: fast_http(),
        poll_interval: Duration::from_millis(10),
        poll_budget: Duration::from_millis(400),
        task_deadline: Duration::from_secs(60),
        offline_patience: Duration::from_secs(3600),
        sandbox_delay_ms: Some(0..1),
        ..Default::default()
    }
}

/// Runs the queue until nothing is left to do; returns the report and the event log.
async fn drain(e: &Env, config: ProvisioningConfig) -> (RunReport, Vec<String>) {
    let secrets: Arc<dyn SecretStore> = e.secrets.clone();
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
                wait_for_retries: true,
            },
            |ev| log.lock().unwrap().push(format!("{ev:?}")),
        ),
    )
    .await
    .expect("the queue drains")
    .unwrap();
    (report, log.into_inner().unwrap())
}

fn job(ws: &Workspace, id: i64) -> Job {
    jobs::show(ws, id).unwrap().job
}

fn enqueue(
    ws: &mut Workspace,
    kind: &str,
    key: &str,
    server: i64,
    site: Option<i64>,
    payload: Value,
    max: i64,
) -> i64 {
    jobs::enqueue(
        ws,
        &JobSpec {
            kind: kind.into(),
            key: key.into(),
            server_id: Some(server),
            site_id: site,
            payload,
            max_attempts: Some(max),
            ..Default::default()
        },
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sandbox_servers_take_the_same_site_jobs_and_say_they_are_simulated() {
    let mut e = env();
    let sb = add_sandbox(&mut e, "sandbox", 4);
    let site = local_site(&e.ws, "shop.sites.example.net", "Drupal 10", "standard");
    provisioning::place_site(&mut e.ws, site, sb).unwrap();
    let create = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    let user = provisioning::enqueue_site_action(
        &mut e.ws,
        site,
        &SiteAction::CreateUser {
            email: "owner@acme.test".into(),
            name: "Owner".into(),
            role: None,
        },
    )
    .unwrap();
    assert_eq!(
        job(&e.ws, user).deps,
        vec![create],
        "the user waits for the site"
    );
    let (report, _) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 2);
    let j = job(&e.ws, create);
    assert_eq!(j.result["simulated"], true);
    assert_eq!(j.result["remoteId"], "shop.sites.example.net");
    let s = provisioning::find_site(&e.ws, "shop.sites.example.net").unwrap();
    assert_eq!(
        (s.status.as_str(), s.remote_id.as_deref()),
        ("active", Some("shop.sites.example.net"))
    );
    let users: String =
        e.ws.conn()
            .query_row(
                "SELECT users FROM sandbox_sites WHERE name = 'shop.sites.example.net'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    let users: Value = serde_json::from_str(&users).unwrap();
    assert_eq!(users[0]["role"], "manager");
    assert_ne!(users[0]["uid"], 1, "a client is never uid 1");

    // Suspend twice: one job. Unsuspend waits for it.
    let s1 =
        provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Suspend { reason: None })
            .unwrap();
    let s2 =
        provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Suspend { reason: None })
            .unwrap();
    assert_eq!(s1, s2);
    let un = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Unsuspend).unwrap();
    assert_eq!(job(&e.ws, un).deps, vec![s1]);
    drain(&e, prov()).await;
    assert_eq!(
        provisioning::find_site(&e.ws, &site.to_string())
            .unwrap()
            .status,
        "active"
    );
    let view = servers::get(&e.ws, sb).unwrap();
    assert!(view.simulated);
    assert_eq!(view.health, ServerHealth::Ok);

    // A login link is handed out once, from memory; the job's result does not hold it.
    let link = provisioning::enqueue_site_action(
        &mut e.ws,
        site,
        &SiteAction::LoginLink { service: None },
    )
    .unwrap();
    let secrets: Arc<dyn SecretStore> = e.secrets.clone();
    let waited = provisioning::run_until_done(
        &e.path,
        Clock::System,
        secrets,
        &[link],
        provisioning::WaitOptions {
            timeout: Duration::from_secs(20),
            runner: common::fast_runner(),
            provisioning: prov(),
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(waited.jobs[0].state, "succeeded");
    let url = waited.login_links.take(link).unwrap();
    assert!(url.expose().starts_with("https://shop.sites.example.net/"));
    assert!(!waited.jobs[0].result.to_string().contains(url.expose()));
    assert!(waited.login_links.take(link).is_none());
}

#[tokio::test]
async fn aegir_site_is_created_once_even_when_the_reply_is_lost() {
    let mut e = env();
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(3);
    let server = add_aegir(&mut e, "aegir1", &fake);
    let site = local_site(&e.ws, "shop.hosting.test", "drupal7", "standard");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    // The task is created, then the reply never comes (the client times out).
    fake.fail_next("task.create", 1, Fault::DropReply);
    let id = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    assert_eq!(
        fake.count_task_posts("install"),
        1,
        "one POST, whose reply was lost"
    );
    assert_eq!(
        fake.count_tasks("install"),
        1,
        "the site was created exactly once"
    );
    let remote = fake.site("shop.hosting.test").unwrap();
    assert_eq!(remote.site_status, 1);
    let j = job(&e.ws, id);
    assert_eq!(j.attempts, 2);
    assert_eq!(j.result["remoteId"], remote.nid.to_string());
    assert!(
        j.result.get("task").is_none(),
        "a finished task is not kept: {}",
        j.result
    );
    let s = provisioning::find_site(&e.ws, "shop.hosting.test").unwrap();
    assert_eq!(s.status, "active");
    assert_eq!(s.remote_id, Some(remote.nid.to_string()));
}

#[tokio::test]
async fn a_long_aegir_task_is_saved_then_polled_by_later_attempts_without_using_them_up() {
    let mut e = env();
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(30);
    let server = add_aegir(&mut e, "aegir1", &fake);
    let site = local_site(&e.ws, "slow.hosting.test", "drupal7", "standard");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    let id = enqueue(
        &mut e.ws,
        "site.create",
        "slow",
        server,
        Some(site),
        json!({}),
        2,
    );
    let config = ProvisioningConfig {
        poll_budget: Duration::from_millis(60),
        ..prov()
    };
    let (report, log) = drain(&e, config).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    let j = job(&e.ws, id);
    assert!(j.attempts > 2, "several attempts waited: {}", j.attempts);
    assert!(
        j.max_attempts >= j.attempts,
        "waiting did not use up attempts"
    );
    assert_eq!(
        fake.count_task_posts("install"),
        1,
        "later attempts only polled"
    );
    let d = jobs::show(&e.ws, id).unwrap();
    assert!(d.attempts[0]
        .error
        .as_deref()
        .unwrap()
        .starts_with("waiting: aegir task install"));
    assert_eq!(
        provisioning::find_site(&e.ws, "slow.hosting.test")
            .unwrap()
            .status,
        "active"
    );
}

#[tokio::test]
async fn an_aegir_task_that_fails_makes_the_job_dead_with_the_reason() {
    let mut e = env();
    let fake = FakeAegir::start().await;
    fake.set_task_outcome("install", TaskOutcome::Error);
    let server = add_aegir(&mut e, "aegir1", &fake);
    let site = local_site(&e.ws, "bad.hosting.test", "drupal7", "standard");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    let id = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    drain(&e, prov()).await;
    let j = job(&e.ws, id);
    assert_eq!(j.state, "dead");
    let err = j.last_error.unwrap();
    assert!(
        err.contains("aegir1") && err.contains("ended in error"),
        "{err}"
    );
    assert_eq!(fake.count_task_posts("install"), 1);
    assert!(j.result.get("task").is_none(), "a staff retry starts over");
}

#[tokio::test]
async fn whm_account_is_created_once_when_the_reply_is_lost() {
    let mut e = env();
    let fake = FakeWhm::start().await;
    let server = add_whm(&mut e, "whm1", &fake);
    let site = local_site(&e.ws, "acme.test", "", "basic");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    fake.fail_next("createacct", 1, Fault::DropReply);
    let id = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    assert_eq!(
        fake.count("createacct"),
        1,
        "createacct reached the server once"
    );
    let accounts = fake.accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].domain, "acme.test");
    assert_eq!(accounts[0].email, "owner@acme.test");
    assert_eq!(accounts[0].plan, "basic");
    let j = job(&e.ws, id);
    assert_eq!(j.result["remoteId"], accounts[0].user);
    assert_eq!(
        j.result["alreadyExisted"], true,
        "the retry found the account"
    );
    let s = provisioning::find_site(&e.ws, "acme.test").unwrap();
    assert_eq!(
        (s.status.as_str(), s.remote_id.as_deref()),
        ("active", Some(accounts[0].user.as_str()))
    );

    // Suspend, quota, package, login link: each effect once.
    for action in [
        SiteAction::Suspend {
            reason: Some("unpaid".into()),
        },
        SiteAction::SetQuota {
            disk_mb: Some(2048),
            bandwidth_mb: None,
        },
        SiteAction::ChangePackage {
            package: "pro".into(),
        },
    ] {
        provisioning::enqueue_site_action(&mut e.ws, site, &action).unwrap();
    }
    fake.fail_next("suspendacct", 1, Fault::Status(503));
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 3, "{log:#?}");
    let a = fake.account(&accounts[0].user).unwrap();
    assert!(a.suspended);
    assert_eq!(a.suspend_reason, "unpaid");
    assert_eq!((a.quota_mb, a.plan.as_str()), (2048, "pro"));
    assert_eq!(fake.count("suspendacct"), 2, "one 503, one effect");
    assert_eq!(
        provisioning::find_site(&e.ws, "acme.test").unwrap().status,
        "disabled"
    );
}

/// name, transient fault (n, fault), permanent fault, end state, text in the error, effect.
type Setup = (
    &'static str,
    Option<(u32, Fault)>,
    Option<Fault>,
    &'static str,
    &'static str,
    bool,
);

/// One job per fault, each on its own fake server: transient faults end in success with the
/// effect once; permanent ones end dead with a clear error. Nothing is left running or queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_fault_injection_every_job_ends_succeeded_or_dead_with_a_clear_error() {
    let mut e = env();
    struct Case {
        name: &'static str,
        fake: FakeWhm,
        job: i64,
        /// (state, text in the error) at the end.
        want: (&'static str, &'static str),
        effect: bool,
    }
    let mut cases = Vec::new();
    let setups: Vec<Setup> = vec![
        // name, transient fault (n, fault), permanent fault, end state, error text, effect
        (
            "http500-twice",
            Some((2, Fault::Status(500))),
            None,
            "succeeded",
            "",
            true,
        ),
        (
            "http500-always",
            None,
            Some(Fault::Status(500)),
            "dead",
            "[http]",
            false,
        ),
        (
            "timeout-twice",
            Some((2, Fault::Hang)),
            None,
            "succeeded",
            "",
            true,
        ),
        (
            "timeout-always",
            None,
            Some(Fault::Hang),
            "dead",
            "[timeout]",
            false,
        ),
        (
            "lost-reply",
            Some((1, Fault::DropReply)),
            None,
            "succeeded",
            "",
            true,
        ),
        (
            "garbage",
            None,
            Some(Fault::Garbage),
            "dead",
            "[protocol]",
            false,
        ),
        (
            "empty-body",
            None,
            Some(Fault::Empty),
            "dead",
            "[protocol]",
            false,
        ),
        ("refused-always", None, None, "dead", "[connect]", false),
    ];
    for (i, (name, transient, permanent, state, text, effect)) in setups.into_iter().enumerate() {
        let fake = FakeWhm::start().await;
        let server = add_whm(&mut e, name, &fake);
        if let Some((n, f)) = transient {
            fake.fail_next("createacct", n, f);
        }
        if let Some(f) = permanent {
            fake.fail("createacct", f);
        }
        if name == "refused-always" {
            fake.stop_listening();
        }
        let domain = format!("c{i}.example.com");
        let job = enqueue(
            &mut e.ws,
            "account.create",
            name,
            server,
            None,
            json!({ "username": format!("user{i}"), "domain": domain, "contactEmail": "owner@acme.test" }),
            4,
        );
        cases.push(Case {
            name,
            fake,
            job,
            want: (state, text),
            effect,
        });
    }
    // No offline patience here: a server that never answers ends its jobs too.
    let config = ProvisioningConfig {
        offline_patience: Duration::ZERO,
        ..prov()
    };
    let (report, log) = drain(&e, config).await;
    assert_eq!(report.waiting, 0, "{log:#?}");
    for c in &cases {
        let j = job(&e.ws, c.job);
        assert_eq!(j.state, c.want.0, "{}: {j:?}", c.name);
        if c.want.0 == "dead" {
            let err = j.last_error.clone().unwrap();
            assert!(
                err.contains(c.want.1) && err.contains(c.name),
                "{}: {err}",
                c.name
            );
        }
        let accounts = c.fake.accounts();
        assert_eq!(
            accounts.len(),
            usize::from(c.effect),
            "{}: {accounts:?}",
            c.name
        );
        let effects = c
            .fake
            .requests()
            .iter()
            .filter(|r| {
                r.endpoint == "createacct" && r.fault.as_deref().is_none_or(|f| f == "drop reply")
            })
            .count();
        assert_eq!(
            effects,
            usize::from(c.effect),
            "{}: createacct handled",
            c.name
        );
    }
    let garbage = cases.iter().find(|c| c.name == "garbage").unwrap();
    assert_eq!(
        job(&e.ws, garbage.job).attempts,
        1,
        "garbage is not retried by itself"
    );
    // Staff retry the dead job once the server is fixed: it runs, once.
    garbage.fake.clear_faults();
    jobs::retry(&mut e.ws, garbage.job).unwrap();
    drain(&e, prov()).await;
    assert_eq!(job(&e.ws, garbage.job).state, "succeeded");
    assert_eq!(garbage.fake.accounts().len(), 1);
}

#[tokio::test]
async fn aegir_false_and_refusals_are_clear_errors() {
    let mut e = env();
    let fake = FakeAegir::start().await;
    let server = add_aegir(&mut e, "aegir1", &fake);
    let a = local_site(&e.ws, "one.hosting.test", "drupal7", "standard");
    let b = local_site(&e.ws, "two.elsewhere.test", "drupal7", "standard");
    for s in [a, b] {
        provisioning::place_site(&mut e.ws, s, server).unwrap();
    }
    fake.fail_next("task.create", 1, Fault::False);
    let ja = provisioning::enqueue_site_action(&mut e.ws, a, &SiteAction::Create).unwrap();
    let jb = provisioning::enqueue_site_action(&mut e.ws, b, &SiteAction::Create).unwrap();
    drain(&e, prov()).await;
    let ja = job(&e.ws, ja);
    assert_eq!(ja.state, "dead");
    assert!(ja.last_error.unwrap().contains("Aegir answered `false`"));
    let jb = job(&e.ws, jb);
    assert_eq!(jb.state, "dead");
    assert!(
        jb.last_error.unwrap().contains("master domain"),
        "refused before sending"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_server_keeps_its_jobs_queued_and_they_drain_when_it_answers() {
    let mut e = env();
    let fake = FakeWhm::start().await;
    let server = add_whm(&mut e, "web1", &fake);
    fake.stop_listening();
    let ids: Vec<i64> = (0..3)
        .map(|i| {
            enqueue(
                &mut e.ws,
                "account.create",
                &format!("acct-{i}"),
                server,
                None,
                json!({ "username": format!("shop{i}"), "domain": format!("shop{i}.example.com"), "contactEmail": "o@acme.test" }),
                2,
            )
        })
        .collect();
    // Run a while against the dead server: many attempts, none dead.
    let secrets: Arc<dyn SecretStore> = e.secrets.clone();
    let (runner, _p) = build_runner(
        &e.path,
        Clock::System,
        secrets,
        common::fast_runner(),
        prov(),
    )
    .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let _ = stop_tx.send(true);
    });
    runner.run(Until::Stopped(stop_rx), |_| {}).await.unwrap();
    for id in &ids {
        let j = job(&e.ws, *id);
        assert_eq!(j.state, "failed", "{j:?}");
        assert!(
            j.attempts > 2,
            "more attempts than its allowance of 2: {}",
            j.attempts
        );
        assert!(
            j.max_attempts > j.attempts,
            "offline attempts are not used up"
        );
        assert!(
            j.last_error
                .as_deref()
                .unwrap()
                .starts_with("offline: web1 [connect]"),
            "{:?}",
            j.last_error
        );
    }
    let off = servers::offline(&e.ws).unwrap();
    assert_eq!(off.len(), 1);
    assert_eq!(off[0].message, "offline — 3 jobs waiting for web1");
    assert_eq!(
        servers::get(&e.ws, server).unwrap().health,
        ServerHealth::Offline
    );

    // It answers again: a test connection brings the waiting jobs forward, and they drain.
    e.ws.conn()
        .execute(
            "UPDATE jobs SET run_after = '2999-01-01T00:00:00.000Z' WHERE state = 'failed'",
            [],
        )
        .unwrap();
    fake.resume_listening();
    let config = prov();
    let report = servers::test_connection_with(&mut e.ws, &*e.secrets, server, &config)
        .await
        .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.woke_jobs, 3);
    let (run, log) = drain(&e, prov()).await;
    assert_eq!(run.succeeded, 3, "{log:#?}");
    assert_eq!(fake.accounts().len(), 3);
    assert_eq!(fake.count("createacct"), 3, "each effect once");
    assert!(servers::offline(&e.ws).unwrap().is_empty());
    assert_eq!(servers::get(&e.ws, server).unwrap().status_text, "online");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_takes_each_servers_concurrency_limit_from_the_server() {
    let mut e = env();
    let one = add_sandbox(&mut e, "one-at-a-time", 1);
    let four = add_sandbox(&mut e, "four-at-a-time", 4);
    let mut ids = Vec::new();
    for (server, tag) in [(one, "a"), (four, "b")] {
        for i in 0..4 {
            ids.push((
                server,
                enqueue(
                    &mut e.ws,
                    "site.create",
                    &format!("{tag}{i}"),
                    server,
                    None,
                    json!({ "domain": format!("{tag}{i}.sites.example.net"), "profile": "standard" }),
                    3,
                ),
            ));
        }
    }
    let config = ProvisioningConfig {
        sandbox_delay_ms: Some(120..121),
        ..prov()
    };
    let (report, _) = drain(&e, config).await;
    assert_eq!(report.succeeded, 8);
    let spans = |server: i64| -> Vec<(String, String)> {
        ids.iter()
            .filter(|(s, _)| *s == server)
            .map(|(_, id)| {
                let a = &jobs::show(&e.ws, *id).unwrap().attempts[0];
                (a.started_at.clone(), a.finished_at.clone().unwrap())
            })
            .collect()
    };
    let overlaps = |v: &[(String, String)]| {
        let mut n = 0;
        for (i, a) in v.iter().enumerate() {
            for b in &v[i + 1..] {
                if a.0 < b.1 && b.0 < a.1 {
                    n += 1;
                }
            }
        }
        n
    };
    assert_eq!(overlaps(&spans(one)), 0, "limit 1: one at a time");
    assert!(overlaps(&spans(four)) > 0, "limit 4: together");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_job_makes_the_real_caddy_serve_the_sites_page() {
    install_crypto_provider();
    let caddy = RealCaddy::require();
    let mut e = env();
    let root = caddy.site_dir("blog.example.test");
    std::fs::write(root.join("index.html"), "<h1>Welcome to the blog</h1>\n").unwrap();
    let mut d = draft("caddy1", "caddy", &caddy.admin_url());
    d.user = RealCaddy::SERVER.into();
    d.options = ServerOptions {
        sites_root: Some(root.parent().unwrap().to_str().unwrap().into()),
        ..Default::default()
    };
    let server = servers::add(&mut e.ws, &*e.secrets, &d, None).unwrap();
    let site = local_site(&e.ws, "blog.example.test", "", "");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    let client = reqwest::Client::builder().build().unwrap();
    let fetch = |host: &'static str| {
        let client = client.clone();
        let url = format!("{}/", caddy.http_url());
        async move {
            let r = client
                .get(url)
                .header(reqwest::header::HOST, host)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(
        fetch("blog.example.test").await,
        (200, String::new()),
        "nothing served before the job (Caddy's empty 200 for unmatched hosts)"
    );

    provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}\n{}", caddy.log());
    let (status, body) = fetch("blog.example.test").await;
    assert_eq!(status, 200);
    assert!(body.contains("Welcome to the blog"), "{body}");
    let s = provisioning::find_site(&e.ws, "blog.example.test").unwrap();
    assert_eq!(s.status, "active");
    assert_eq!(
        s.remote_id.as_deref(),
        Some("hostdesk-site-blog.example.test")
    );

    provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Suspend { reason: None })
        .unwrap();
    drain(&e, prov()).await;
    assert_eq!(fetch("blog.example.test").await.0, 503);
    provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Unsuspend).unwrap();
    drain(&e, prov()).await;
    assert_eq!(fetch("blog.example.test").await.0, 200);

    let sync = servers::sync_with(&mut e.ws, &*e.secrets, server, &prov())
        .await
        .unwrap();
    assert!(sync.ok && sync.drift.is_empty(), "{sync:?}");
    assert_eq!(sync.remote_sites, 1);

    provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Delete).unwrap();
    drain(&e, prov()).await;
    assert_eq!(fetch("blog.example.test").await, (200, String::new()));
    assert_eq!(
        provisioning::find_site(&e.ws, "blog.example.test")
            .unwrap()
            .status,
        "deleted"
    );
    // Caddy has no quotas: the action is refused before anything is queued.
    let err = provisioning::enqueue_site_action(
        &mut e.ws,
        site,
        &SiteAction::SetQuota {
            disk_mb: Some(1),
            bandwidth_mb: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_says_exactly_what_failed() {
    let mut e = env();
    let good = FakeWhm::start().await;
    good.add_account("acme", "acme.test", "basic");
    let id = add_whm(&mut e, "good", &good);
    let config = prov();
    let r = servers::test_connection_with(&mut e.ws, &*e.secrets, id, &config)
        .await
        .unwrap();
    assert!(r.ok);
    assert_eq!(r.version.as_deref(), Some("11.130.0.5"));
    assert_eq!(r.sites, Some(1));
    assert_eq!(r.profiles, vec!["basic", "default", "pro"]);
    assert_eq!(
        servers::get(&e.ws, id).unwrap().profiles,
        vec!["basic", "default", "pro"]
    );

    // Wrong token: auth, with the status.
    let mut d = draft("badtoken", "whm", &good.base_url());
    d.user = "root".into();
    let bad = servers::add(
        &mut e.ws,
        &*e.secrets,
        &d,
        Some(&Secret::new("WRONG-TOKEN-0000")),
    )
    .unwrap();
    let r = servers::test_connection_with(&mut e.ws, &*e.secrets, bad, &config)
        .await
        .unwrap();
    let p = r.problem.unwrap();
    assert_eq!((p.code.as_str(), p.http_status), ("auth", Some(403)));
    assert!(p.what.starts_with("authentication"));
    assert_eq!(
        servers::get(&e.ws, bad).unwrap().health,
        ServerHealth::Error
    );

    // Nothing listens: connect (offline).
    let down = FakeWhm::start().await;
    let down_id = add_whm(&mut e, "down", &down);
    down.stop_listening();
    let p = servers::test_connection_with(&mut e.ws, &*e.secrets, down_id, &config)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.code, "connect");
    assert!(p.retryable);
    assert_eq!(
        servers::get(&e.ws, down_id).unwrap().health,
        ServerHealth::Offline
    );

    // TLS: https to something that is not TLS.
    let plain = PlainTextServer::start().await;
    let mut d = draft("notls", "whm", &plain.https_url());
    d.user = "root".into();
    let tls = servers::add(
        &mut e.ws,
        &*e.secrets,
        &d,
        Some(&Secret::new("TOKEN-TLS-1234")),
    )
    .unwrap();
    let p = servers::test_connection_with(&mut e.ws, &*e.secrets, tls, &config)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.code, "tls", "{p:?}");

    // DNS: a name that cannot resolve.
    let mut d = draft("nodns", "whm", "https://no-such-host.invalid:2087");
    d.user = "root".into();
    let dns = servers::add(
        &mut e.ws,
        &*e.secrets,
        &d,
        Some(&Secret::new("TOKEN-DNS-1234")),
    )
    .unwrap();
    // A slow resolver must not turn this into a connect timeout.
    let patient = ProvisioningConfig {
        http: HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
        },
        ..prov()
    };
    let p = servers::test_connection_with(&mut e.ws, &*e.secrets, dns, &patient)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.code, "dns", "{p:?}");

    // HTTP status and garbage.
    let odd = FakeWhm::start().await;
    let odd_id = add_whm(&mut e, "odd", &odd);
    odd.fail_next("version", 1, Fault::Status(502));
    let p = servers::test_connection_with(&mut e.ws, &*e.secrets, odd_id, &config)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!((p.code.as_str(), p.http_status), ("http", Some(502)));
    odd.fail_next("version", 1, Fault::Garbage);
    let p = servers::test_connection_with(&mut e.ws, &*e.secrets, odd_id, &config)
        .await
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(p.code, "protocol");

    // No token at all: a clear error naming how to set one.
    let mut d = draft("notoken", "whm", &good.base_url());
    d.user = "root".into();
    let nt = servers::add(&mut e.ws, &*e.secrets, &d, None).unwrap();
    let err = servers::test_connection_with(&mut e.ws, &*e.secrets, nt, &config)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("no API token for server notoken"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn sync_fills_the_cache_and_reports_drift() {
    let mut e = env();
    let fake = FakeWhm::start().await;
    fake.add_account("alpha", "alpha.test", "basic");
    fake.add_account("bravo", "bravo.test", "basic");
    fake.add_account("charlie", "charlie.test", "basic");
    let server = add_whm(&mut e, "whm1", &fake);
    let a = local_site(&e.ws, "alpha.test", "", "basic");
    let c = local_site(&e.ws, "charlie.test", "", "basic");
    let d = local_site(&e.ws, "delta.test", "", "basic");
    for s in [a, c, d] {
        provisioning::place_site(&mut e.ws, s, server).unwrap();
        set_status(&e.ws, s, "active");
    }
    // charlie is suspended on the server, not in Hostdesk.
    provisioning::enqueue_site_action(&mut e.ws, c, &SiteAction::Suspend { reason: None }).unwrap();
    drain(&e, prov()).await;
    set_status(&e.ws, c, "active");

    let r = servers::sync_with(&mut e.ws, &*e.secrets, server, &prov())
        .await
        .unwrap();
    assert!(r.ok);
    assert_eq!(r.remote_sites, 3);
    assert!(r.last_synced_at.is_some());
    let names = |v: &[_]| -> Vec<String> {
        v.iter()
            .map(|x: &hostdesk_app::store::servers::CachedSite| x.name.clone())
            .collect()
    };
    assert_eq!(names(&r.drift.remote_only), vec!["bravo.test"]);
    assert_eq!(r.drift.local_only.len(), 1);
    assert_eq!(r.drift.local_only[0].domain, "delta.test");
    assert_eq!(r.drift.status_differs.len(), 1);
    let diff = &r.drift.status_differs[0];
    assert_eq!(
        (
            diff.domain.as_str(),
            diff.local_status.as_str(),
            diff.remote_status.as_str()
        ),
        ("charlie.test", "active", "disabled")
    );
    // Drift is read from the cache, without the network.
    fake.stop_listening();
    assert_eq!(servers::drift(&e.ws, server).unwrap(), r.drift);
    let failed = servers::sync_with(&mut e.ws, &*e.secrets, server, &prov())
        .await
        .unwrap();
    assert!(!failed.ok);
    assert_eq!(failed.problem.unwrap().code, "connect");
    assert_eq!(failed.drift, r.drift, "the last good sync still shows");
    assert_eq!(failed.last_synced_at, r.last_synced_at);
}

#[test]
fn servers_are_validated_and_never_store_a_token_in_the_database() {
    let mut e = env();
    let token = Secret::new("TOPSECRET-whm-token-9f8e7d");
    let mut d = draft("web1", "whm", "https://whm.example.com:2087");
    d.user = "root".into();
    d.profiles = vec!["basic".into(), " basic ".into(), "pro".into()];
    let id = servers::add(&mut e.ws, &*e.secrets, &d, Some(&token)).unwrap();
    assert_eq!(e.secrets.get("web1").unwrap().unwrap(), token);
    let v = servers::get(&e.ws, id).unwrap();
    assert_eq!(v.profiles, vec!["basic", "pro"]);
    assert_eq!(v.concurrency, 4);
    assert!(v.operations.contains(&"suspend_site".to_owned()));
    // A duplicate name is a conflict; a bad URL is a field error; nothing is stored.
    assert_eq!(
        servers::add(&mut e.ws, &*e.secrets, &d, None)
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    let mut bad = d.clone();
    bad.name = "web2".into();
    bad.base_url = "http://whm.example.com".into();
    let err = servers::add(&mut e.ws, &*e.secrets, &bad, Some(&token)).unwrap_err();
    assert_eq!(err.fields[0].field, "baseUrl");
    assert!(e.secrets.get("web2").unwrap().is_none());
    // Renaming carries the token along.
    let mut renamed = d.clone();
    renamed.name = "web9".into();
    servers::edit(&mut e.ws, &*e.secrets, id, &renamed, None).unwrap();
    assert!(e.secrets.get("web1").unwrap().is_none());
    assert_eq!(e.secrets.get("web9").unwrap().unwrap(), token);
    // A new token replaces it.
    servers::set_token(&mut e.ws, &*e.secrets, id, &Secret::new("NEW-token-123456")).unwrap();
    assert_eq!(
        e.secrets.get("web9").unwrap().unwrap().expose(),
        "NEW-token-123456"
    );
    drop(e.ws);
    assert_file_lacks(&e.path, token.expose());
    assert_file_lacks(&e.path, "NEW-token-123456");
}

fn assert_file_lacks(db: &Path, needle: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(bytes) = std::fs::read(&p) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds the token",
                p.display()
            );
        }
    }
}

/// The token never reaches the database file, the runner's log, job results and errors, or
/// any reply the use cases give the UI (JSON), even when the server fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_nowhere_in_the_database_the_logs_or_the_replies() {
    let mut e = env();
    let fake = FakeWhm::start().await;
    let token = fake.token();
    let server = add_whm(&mut e, "whm1", &fake);
    let site = local_site(&e.ws, "acme.test", "", "basic");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    let mut replies: Vec<String> = Vec::new();
    let mut ids =
        vec![provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap()];
    fake.fail_next("createacct", 1, Fault::Status(500));
    let (_, mut log) = drain(&e, prov()).await;
    // A garbage reply kills the suspension (no retry by itself)...
    ids.push(
        provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Suspend { reason: None })
            .unwrap(),
    );
    fake.fail_next("suspendacct", 1, Fault::Garbage);
    let (_, more) = drain(&e, prov()).await;
    log.extend(more);
    // ...then more work goes through.
    for a in [
        SiteAction::Suspend { reason: None },
        SiteAction::Unsuspend,
        SiteAction::LoginLink { service: None },
        SiteAction::SetQuota {
            disk_mb: Some(100),
            bandwidth_mb: Some(1000),
        },
    ] {
        ids.push(provisioning::enqueue_site_action(&mut e.ws, site, &a).unwrap());
    }
    let (_, more) = drain(&e, prov()).await;
    log.extend(more);
    let config = prov();
    replies.push(
        serde_json::to_string(
            &servers::test_connection_with(&mut e.ws, &*e.secrets, server, &config)
                .await
                .unwrap(),
        )
        .unwrap(),
    );
    replies.push(
        serde_json::to_string(
            &servers::sync_with(&mut e.ws, &*e.secrets, server, &config)
                .await
                .unwrap(),
        )
        .unwrap(),
    );
    // A server that is down leaves errors behind: still no token.
    fake.stop_listening();
    replies.push(
        serde_json::to_string(
            &servers::test_connection_with(&mut e.ws, &*e.secrets, server, &config)
                .await
                .unwrap(),
        )
        .unwrap(),
    );
    replies.push(serde_json::to_string(&servers::list(&e.ws).unwrap()).unwrap());
    replies.push(serde_json::to_string(&servers::get(&e.ws, server).unwrap()).unwrap());
    replies.push(serde_json::to_string(&servers::offline(&e.ws).unwrap()).unwrap());
    replies.push(
        serde_json::to_string(&provisioning::list_sites(&e.ws, &SiteQuery::default()).unwrap())
            .unwrap(),
    );
    for id in &ids {
        replies.push(serde_json::to_string(&jobs::show(&e.ws, *id).unwrap()).unwrap());
    }
    replies.push(format!(
        "{:?}",
        servers::probe_with(&e.ws, &*e.secrets, server, &config).unwrap()
    ));
    replies.push(format!("{:?}", e.secrets.get("whm1").unwrap()));
    assert!(
        log.iter().any(|l| l.contains("Failed")),
        "the log saw failures: {log:#?}"
    );
    for text in log.iter().chain(replies.iter()) {
        assert!(!text.contains(&token), "the token leaked into: {text}");
    }
    assert!(replies.iter().any(|r| r.contains("whm1")));
    drop(e.ws);
    assert_file_lacks(&e.path, &token);
}

#[test]
fn site_actions_are_checked_before_they_are_queued() {
    let mut e = env();
    let site = local_site(&e.ws, "lonely.sites.example.net", "Drupal 10", "standard");
    let err = provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap_err();
    assert!(err.message.contains("not placed on a server"));
    let sb = add_sandbox(&mut e, "sb", 2);
    provisioning::place_site(&mut e.ws, site, sb).unwrap();
    let err = provisioning::enqueue_site_action(
        &mut e.ws,
        site,
        &SiteAction::CreateUser {
            email: "nope".into(),
            name: "X".into(),
            role: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.fields[0].field, "email");
    assert_eq!(
        provisioning::list_sites(
            &e.ws,
            &SiteQuery {
                server_id: Some(sb),
                ..Default::default()
            }
        )
        .unwrap()
        .len(),
        1
    );
    assert_eq!(
        provisioning::list_sites(
            &e.ws,
            &SiteQuery {
                status: Some("gone".into()),
                ..Default::default()
            }
        )
        .unwrap_err()
        .code,
        ErrorCode::Invalid
    );
    // A job kind the server's driver cannot run dies at once with a clear error.
    let caddy = servers::add(
        &mut e.ws,
        &*e.secrets,
        &draft("c1", "caddy", "http://127.0.0.1:1"),
        None,
    )
    .unwrap();
    let id = enqueue(
        &mut e.ws,
        "quota.set",
        "q",
        caddy,
        Some(site),
        json!({ "diskMb": 1 }),
        3,
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(drain(&e, prov()));
    let j = job(&e.ws, id);
    assert_eq!(j.state, "dead");
    assert!(j.last_error.unwrap().contains("cannot run quota.set"));
}

/// `ssl.set` through the servers' own SSL APIs. WHM: the automatic level turns AutoSSL on and
/// starts a check; an uploaded bundle is installed with `installssl` (its key read from the
/// keyring, never stored in SQLite). Aegir: the automatic level saves hosting_https's
/// `https_enabled` = 2 and waits for the verify; a bundle is refused at upload, next to the
/// field, since Aegir has no API for one.
#[tokio::test]
async fn certificates_through_whm_autossl_installssl_and_aegir_hosting_https() {
    install_crypto_provider();
    let mut e = env();
    let whm = FakeWhm::start().await;
    let server = add_whm(&mut e, "whm1", &whm);
    let site = local_site(&e.ws, "acme.test", "", "basic");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    let user = whm.accounts()[0].user.clone();

    let id = domains::set_ssl_level(&mut e.ws, site, "automatic").unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    assert_eq!(job(&e.ws, id).state, "succeeded");
    let a = whm.account(&user).unwrap();
    assert_eq!((a.autossl, a.autossl_checks), (Some(true), 1));

    let dir = tempfile::tempdir().unwrap();
    hostdesk_testkit::pebble::make_test_ca(dir.path(), &["acme.test"]).unwrap();
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let chain = format!("{}{}", read("cert.pem"), read("ca.pem"));
    let key = read("key.pem");
    let id = domains::upload_bundle(
        &mut e.ws,
        &*e.secrets,
        &domains::BundleUpload {
            site_id: site,
            certificate_pem: chain,
        },
        &Secret::new(key.clone()),
    )
    .unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    assert_eq!(job(&e.ws, id).state, "succeeded");
    let installed = whm.installed_ssl("acme.test").unwrap();
    assert_eq!(installed.user, user);
    assert_eq!(installed.crt.trim(), read("cert.pem").trim());
    assert_eq!(whm.account(&user).unwrap().autossl, Some(false));
    // The key went from the keyring to the server; nothing of it is in the database.
    assert_eq!(
        e.secrets
            .get(&domains::key_entry("acme.test"))
            .unwrap()
            .unwrap()
            .expose(),
        key
    );
    let db = std::fs::read(&e.path).unwrap();
    let needle = key.lines().nth(1).unwrap().as_bytes();
    assert!(!db.windows(needle.len()).any(|w| w == needle));

    // Aegir: hosting_https through the site update.
    let aegir = FakeAegir::start().await;
    let server = add_aegir(&mut e, "aegir1", &aegir);
    aegir.add_site("shop.hosting.test", "standard", 1);
    let site = local_site(&e.ws, "shop.hosting.test", "drupal7", "standard");
    provisioning::place_site(&mut e.ws, site, server).unwrap();
    set_status(&e.ws, site, "active");
    let id = domains::set_ssl_level(&mut e.ws, site, "automatic").unwrap();
    let (report, log) = drain(&e, prov()).await;
    assert_eq!(report.succeeded, 1, "{log:#?}");
    assert_eq!(job(&e.ws, id).state, "succeeded");
    assert_eq!(aegir.site("shop.hosting.test").unwrap().https_enabled, 2);
    assert_eq!(aegir.count_tasks("verify"), 1);

    let err = domains::upload_bundle(
        &mut e.ws,
        &*e.secrets,
        &domains::BundleUpload {
            site_id: site,
            certificate_pem: read("cert.pem"),
        },
        &Secret::new(key),
    )
    .unwrap_err();
    assert_eq!(err.fields[0].field, "certificatePem", "{err:?}");
    assert!(err.message.contains("no API to upload a bundle"), "{err}");
}
