#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The site lifecycle through the real queue (`build_runner`): a trial walked with the sandbox
//! test clock (reminder, disable at expiry, grace, last backup, deletion), converting a trial
//! (the site stays), scheduled backups and retention (exactly the backups the policy names are
//! kept, on the sandbox's simulated server), restore of a chosen backup, and the same backups
//! against the fake Aegir (hosting_saas `backup`, `backup-delete`, `restore`).

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use hostdesk_app::core::catalog::{PriceDraft, ProductDraft};
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::core::retention::{RetentionPolicy, Schedule};
use hostdesk_app::core::term::TermPolicy;
use hostdesk_app::lifecycle::backups::{self, BackupPolicyRequest};
use hostdesk_app::lifecycle::{self, expiry};
use hostdesk_app::orders::{self, OrderRequest};
use hostdesk_app::provisioning::{self, SiteAction};
use hostdesk_app::runner::RunReport;
use hostdesk_app::secrets::{MemoryStore, Secret};
use hostdesk_app::servers::{self, ServerDraft};
use hostdesk_app::store::jobs as store_jobs;
use hostdesk_app::{
    catalog, clients, settings, subscriptions, test_clock, Clock, ErrorCode, Workspace,
};
use hostdesk_testkit::{FakeAegir, Fault};
use serde_json::Value;

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
}

fn price(amount: &str) -> PriceDraft {
    PriceDraft {
        currency: "EUR".into(),
        period: None,
        amount: amount.into(),
    }
}

fn product(ws: &mut Workspace, code: &str, amount: &str) {
    catalog::add_product(
        ws,
        &ProductDraft {
            code: code.into(),
            name: format!("Open Atrium {code}"),
            kind: Some("site".parse().unwrap()),
            profile: "openatrium".into(),
            platform: "drupal7".into(),
            prices: vec![price(amount)],
            ..Default::default()
        },
    )
    .unwrap();
    orders::set_activation(ws, code, "immediate").unwrap();
}

fn env_at(now: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lifecycle.db");
    let mut ws = Workspace::open(&path, Clock::fixed(now).unwrap()).unwrap();
    settings::set(&mut ws, "seller_country", "FR").unwrap();
    settings::set(&mut ws, "seller_name", "Atrium Hosting SAS").unwrap();
    product(&mut ws, "trial", "0.00");
    product(&mut ws, "atrium", "20.00");
    Env {
        _dir: dir,
        path,
        ws,
        secrets: Arc::new(MemoryStore::new()),
    }
}

fn client(ws: &mut Workspace) -> i64 {
    clients::add(
        ws,
        &ClientDraft {
            name: "Lumière SARL".into(),
            email: "owner@lumiere.test".into(),
            country: "FR".into(),
            currency: "EUR".into(),
            timezone: "Europe/Paris".into(),
            billing_day: Some(1),
            ..Default::default()
        },
        &[],
    )
    .unwrap()
}

fn add_sandbox(e: &mut Env) {
    servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "sandbox".into(),
            kind: "sandbox".into(),
            master_domain: "sites.test".into(),
            ..Default::default()
        },
        None,
    )
    .unwrap();
}

fn order(e: &mut Env, client: i64, product: &str, domain: &str) -> orders::PlacedOrder {
    orders::place(
        &mut e.ws,
        &OrderRequest {
            client_id: client,
            product: Some(product.into()),
            domain: domain.into(),
            pay: Some("later".into()),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Runs the queue as of the workspace's clock until nothing is ready (mails wait: no SMTP
/// server here, and under a fixed clock their retries are not waited for).
async fn drain(e: &Env) -> RunReport {
    common::drain(&e.path, e.ws.clock(), e.secrets.clone(), true).await
}

/// Mails wait for an SMTP server that is not there (and die once the clock moves past their
/// retries); every site job must have succeeded.
fn no_dead_site_jobs(ws: &Workspace) {
    let dead: Vec<(String, Option<String>)> =
        hostdesk_app::jobs::list(ws, Some("dead"), None, 0, 100)
            .unwrap()
            .into_iter()
            .filter(|j| j.kind != "mail.send")
            .map(|j| (j.kind, j.last_error))
            .collect();
    assert!(dead.is_empty(), "{dead:#?}");
}

fn count(ws: &Workspace, sql: &str) -> i64 {
    ws.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn text(ws: &Workspace, sql: &str) -> String {
    ws.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn job_kinds(ws: &Workspace, ids: &[i64]) -> Vec<String> {
    ids.iter()
        .map(|id| store_jobs::get(ws.conn(), *id).unwrap().kind)
        .collect()
}

fn mails(ws: &Workspace, kind: &str) -> i64 {
    count(
        ws,
        &format!("SELECT count(*) FROM outbox WHERE kind = '{kind}'"),
    )
}

/// A sandbox workspace with a 14-day trial placed on 2 March (ends 16 March).
async fn trial(e: &mut Env) -> (i64, i64) {
    add_sandbox(e);
    lifecycle::set_trial_days(&mut e.ws, "trial", Some(14)).unwrap();
    expiry::set_policy(
        &mut e.ws,
        &TermPolicy {
            reminder_days: vec![3],
            grace_days: 7,
        },
    )
    .unwrap();
    let c = client(&mut e.ws);
    let p = order(e, c, "trial", "lumiere");
    assert_eq!(p.state, "provisioning");
    let s = subscriptions::show(&e.ws, p.subscription_id).unwrap();
    assert_eq!(s.expires_on.as_deref(), Some("2026-03-16"));
    drain(e).await;
    no_dead_site_jobs(&e.ws);
    assert_eq!(text(&e.ws, "SELECT status FROM sandbox_sites"), "enabled");
    (p.subscription_id, p.site_id.unwrap())
}

#[tokio::test]
async fn a_trial_is_disabled_at_its_end_then_backed_up_and_deleted_after_the_grace_days() {
    let mut e = env_at("2026-03-02T09:00:00Z");
    let (sub, site) = trial(&mut e).await;
    assert!(test_clock::is_sandbox(e.ws.conn()).unwrap());

    // 13 March: three days before the end, one reminder (once, however often the sweep runs).
    test_clock::advance(&mut e.ws, 11).unwrap();
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!((r.reminders, r.expired), (1, 0));
    assert_eq!(expiry::expire_check(&mut e.ws).unwrap().reminders, 0);
    assert_eq!(mails(&e.ws, "expiry_reminder"), 1);
    let soon = expiry::expiring(&e.ws, 7).unwrap();
    assert_eq!(soon.len(), 1);
    assert_eq!((soon[0].kind.as_str(), soon[0].days_left), ("trial", 3));

    // 16 March, the end: the site is disabled and the client told, after the suspension.
    test_clock::advance(&mut e.ws, 3).unwrap();
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!(r.expired, 1);
    assert_eq!(job_kinds(&e.ws, &r.jobs), vec!["site.suspend", "mail.send"]);
    let mail_job = store_jobs::get(e.ws.conn(), r.jobs[1]).unwrap();
    assert_eq!(mail_job.deps, vec![r.jobs[0]]);
    assert_eq!(subscriptions::show(&e.ws, sub).unwrap().state, "expired");
    let body = text(
        &e.ws,
        "SELECT body_text FROM outbox WHERE kind = 'trial_expired'",
    );
    assert!(
        body.contains("2026-03-16") && body.contains("2026-03-23"),
        "{body}"
    );
    drain(&e).await;
    assert_eq!(text(&e.ws, "SELECT status FROM sandbox_sites"), "disabled");
    assert_eq!(
        provisioning::find_site(&e.ws, &site.to_string())
            .unwrap()
            .status,
        "disabled"
    );

    // Within the grace days nothing more happens.
    test_clock::advance(&mut e.ws, 6).unwrap();
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!(r.subscriptions, 0);
    assert_eq!(count(&e.ws, "SELECT count(*) FROM backups"), 0);

    // 23 March: the last backup, then the deletion, which waits for the backup.
    test_clock::advance(&mut e.ws, 1).unwrap();
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!((r.backed_up, r.deleted), (1, 1));
    assert_eq!(
        job_kinds(&e.ws, &r.jobs),
        vec!["site.backup", "site.delete"]
    );
    let delete = store_jobs::get(e.ws.conn(), r.jobs[1]).unwrap();
    assert!(delete.deps.contains(&r.jobs[0]), "{:?}", delete.deps);
    assert_eq!(expiry::expire_check(&mut e.ws).unwrap().subscriptions, 0);
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    assert_eq!(text(&e.ws, "SELECT status FROM sandbox_sites"), "deleted");
    assert_eq!(
        provisioning::find_site(&e.ws, &site.to_string())
            .unwrap()
            .status,
        "deleted"
    );
    // The backup was taken (on the simulated server) before the deletion, and is kept.
    assert_eq!(count(&e.ws, "SELECT count(*) FROM sandbox_backups"), 1);
    let list = backups::list(&e.ws, Some(&site.to_string()), false).unwrap();
    assert_eq!(list.len(), 1);
    let b = &list[0].backup;
    assert_eq!((b.reason.as_str(), b.state.as_str()), ("final", "done"));
    assert!(b.remote_id.is_some());
    let backup_done = store_jobs::get(e.ws.conn(), r.jobs[0])
        .unwrap()
        .finished_at
        .unwrap();
    let deleted_at = store_jobs::get(e.ws.conn(), r.jobs[1])
        .unwrap()
        .finished_at
        .unwrap();
    assert!(backup_done <= deleted_at);
    // Nothing to convert any more, and the view no longer lists it.
    let err = expiry::convert(&mut e.ws, sub, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(expiry::expiring(&e.ws, 30).unwrap().is_empty());
}

#[tokio::test]
async fn converting_a_trial_keeps_its_site() {
    let mut e = env_at("2026-03-02T09:00:00Z");
    let (sub, site) = trial(&mut e).await;
    let created = text(&e.ws, "SELECT created_at FROM sandbox_sites");
    // It ends, its site is disabled...
    test_clock::advance(&mut e.ws, 14).unwrap();
    assert_eq!(expiry::expire_check(&mut e.ws).unwrap().expired, 1);
    drain(&e).await;
    assert_eq!(text(&e.ws, "SELECT status FROM sandbox_sites"), "disabled");

    // ...then the client pays: converted to the paid product, the same site enabled again.
    let r = expiry::convert(&mut e.ws, sub, Some("atrium")).unwrap();
    assert_eq!(r.state, "active");
    assert_eq!(job_kinds(&e.ws, &r.jobs), vec!["site.unsuspend"]);
    let change = r.change.unwrap();
    assert_eq!(change.when, "immediate");
    // The free trial billed nothing to credit: the bill run bills the new price from the next
    // billing date.
    assert_eq!(
        (change.old_price.as_str(), change.new_price.as_str()),
        ("0.00", "20.00")
    );
    let s = subscriptions::show(&e.ws, sub).unwrap();
    assert_eq!((s.product_code.as_str(), s.expires_on), ("atrium", None));
    assert_eq!(s.price_minor, 2000);
    drain(&e).await;
    assert_eq!(count(&e.ws, "SELECT count(*) FROM sandbox_sites"), 1);
    assert_eq!(text(&e.ws, "SELECT status FROM sandbox_sites"), "enabled");
    assert_eq!(text(&e.ws, "SELECT created_at FROM sandbox_sites"), created);
    let after = provisioning::find_site(&e.ws, &site.to_string()).unwrap();
    assert_eq!((after.id, after.status.as_str()), (site, "active"));

    // Long after the grace days: nothing is backed up or deleted.
    test_clock::advance(&mut e.ws, 30).unwrap();
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!(r.subscriptions, 0);
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM jobs WHERE kind IN ('site.delete', 'site.backup')"
        ),
        0
    );
    // Converting again is refused: there is no end date any more.
    assert_eq!(
        expiry::convert(&mut e.ws, sub, None).unwrap_err().code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn a_fixed_term_ends_like_a_trial_and_can_be_moved() {
    let mut e = env_at("2026-03-02T09:00:00Z");
    add_sandbox(&mut e);
    let c = client(&mut e.ws);
    let p = order(&mut e, c, "atrium", "term");
    drain(&e).await;
    let s = expiry::set_term(&mut e.ws, p.subscription_id, "2026-03-10").unwrap();
    assert_eq!(s.expires_on.as_deref(), Some("2026-03-10"));
    let s = expiry::set_term(&mut e.ws, p.subscription_id, "2026-03-20").unwrap();
    assert_eq!(s.expires_on.as_deref(), Some("2026-03-20"));
    let err = expiry::set_term(&mut e.ws, p.subscription_id, "20 March").unwrap_err();
    assert_eq!(err.fields[0].field, "expiresOn");
    let soon = expiry::expiring(&e.ws, 30).unwrap();
    assert_eq!(soon[0].kind, "term");
    test_clock::advance(&mut e.ws, 18).unwrap();
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!(r.expired, 1);
    let err = expiry::set_term(&mut e.ws, p.subscription_id, "2026-04-30").unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
}

/// A site of the paid product on the sandbox, placed on 24 February.
async fn site_on_sandbox(e: &mut Env) -> i64 {
    add_sandbox(e);
    let c = client(&mut e.ws);
    let p = order(e, c, "atrium", "kept");
    drain(e).await;
    p.site_id.unwrap()
}

#[tokio::test]
async fn retention_keeps_exactly_the_backups_the_policy_names() {
    let mut e = env_at("2026-02-24T09:00:00Z");
    let site = site_on_sandbox(&mut e).await;
    backups::set_policy(
        &mut e.ws,
        &BackupPolicyRequest {
            product: Some("atrium".into()),
            schedule: Some(Schedule::Daily),
            retention: Some(RetentionPolicy {
                daily: 3,
                weekly: 2,
                monthly: 2,
            }),
            reset: false,
        },
    )
    .unwrap();
    // One scheduled backup a day, 25 February to 11 March (15 days), each at the site's own
    // minute; a second sweep the same day queues nothing.
    let mut day = chrono::NaiveDate::from_ymd_opt(2026, 2, 25).unwrap();
    let last = chrono::NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
    while day <= last {
        e.ws.set_clock(Clock::fixed(&format!("{day}T23:30:00Z")).unwrap());
        let due = backups::run_due(&mut e.ws).unwrap();
        assert_eq!(due.queued.len(), 1, "{day}");
        assert!(backups::run_due(&mut e.ws).unwrap().queued.is_empty());
        drain(&e).await;
        no_dead_site_jobs(&e.ws);
        day += chrono::Duration::days(1);
    }
    assert_eq!(count(&e.ws, "SELECT count(*) FROM sandbox_backups"), 15);
    let descriptions: Vec<String> = backups::list(&e.ws, Some("kept.sites.test"), false)
        .unwrap()
        .iter()
        .map(|b| b.backup.description.clone())
        .collect();
    let minute = hostdesk_app::core::retention::minute_of_day(site);
    let at = format!("{:02}:{:02} UTC", minute / 60, minute % 60);
    assert!(
        descriptions.iter().all(|d| d.ends_with(&at)),
        "{descriptions:?}"
    );

    // daily 3: 11, 10, 9 March; weekly 2: 11 March (week 11) and 8 March (week 10);
    // monthly 2: 11 March and 28 February. Every other backup is dropped.
    let dry = backups::prune(&mut e.ws, Some("kept.sites.test"), true).unwrap();
    assert_eq!((dry.kept, dry.deleting.len()), (5, 10));
    let r = backups::prune(&mut e.ws, None, false).unwrap();
    assert_eq!((r.sites, r.kept, r.deleting.len()), (1, 5, 10));
    assert!(backups::prune(&mut e.ws, None, false)
        .unwrap()
        .deleting
        .is_empty());
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    let mut kept: Vec<String> =
        e.ws.conn()
            .prepare("SELECT substr(taken_at, 1, 10) FROM sandbox_backups ORDER BY taken_at")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    kept.dedup();
    assert_eq!(
        kept,
        vec![
            "2026-02-28",
            "2026-03-08",
            "2026-03-09",
            "2026-03-10",
            "2026-03-11"
        ]
    );
    let states: Vec<(String, i64)> =
        e.ws.conn()
            .prepare("SELECT state, count(*) FROM backups GROUP BY state ORDER BY state")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    assert_eq!(states, vec![("deleted".into(), 10), ("done".into(), 5)]);
    let panel = backups::panel(&e.ws, site).unwrap();
    assert_eq!(panel.backups.len(), 5);
    assert!(panel
        .backups
        .iter()
        .all(|b| b.kept_for.is_some() && b.restorable));
    assert!(panel.next_backup_at.is_some());
}

#[tokio::test]
async fn restore_queues_a_restore_of_the_chosen_backup() {
    let mut e = env_at("2026-03-02T09:00:00Z");
    let site = site_on_sandbox(&mut e).await;
    let first = backups::back_up_now(&mut e.ws, "kept.sites.test").unwrap();
    drain(&e).await;
    // A second user, then a second backup.
    provisioning::enqueue_site_action(
        &mut e.ws,
        site,
        &SiteAction::CreateUser {
            email: "second@lumiere.test".into(),
            name: "Second".into(),
            role: None,
        },
    )
    .unwrap();
    e.ws.set_clock(Clock::fixed("2026-03-02T10:00:00Z").unwrap());
    let second = backups::back_up_now(&mut e.ws, &site.to_string()).unwrap();
    drain(&e).await;
    let users = |ws: &Workspace| -> usize {
        let u: String = ws
            .conn()
            .query_row("SELECT users FROM sandbox_sites", [], |r| r.get(0))
            .unwrap();
        serde_json::from_str::<Vec<Value>>(&u).unwrap().len()
    };
    assert_eq!(users(&e.ws), 2);

    let job = backups::restore(&mut e.ws, "kept.sites.test", first.backup_id).unwrap();
    // Asking again while it waits returns the same job.
    assert_eq!(
        backups::restore(&mut e.ws, "kept.sites.test", first.backup_id).unwrap(),
        job
    );
    let j = store_jobs::get(e.ws.conn(), job).unwrap();
    assert_eq!(j.kind, "site.restore");
    assert_eq!(j.payload["backupId"], first.backup_id);
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    let j = store_jobs::get(e.ws.conn(), job).unwrap();
    assert_eq!(j.state, "succeeded");
    assert_eq!(j.result["simulated"], true);
    // The site is as the first backup had it: one user.
    assert_eq!(users(&e.ws), 1);
    assert_ne!(first.backup_id, second.backup_id);

    // Another site's backup, an unknown one, a backup not done: refused.
    let err = backups::restore(&mut e.ws, "kept.sites.test", 999).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    let pending = backups::back_up_now(&mut e.ws, "kept.sites.test").unwrap();
    let err = backups::restore(&mut e.ws, "kept.sites.test", pending.backup_id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
}

#[tokio::test]
async fn backups_go_through_aegir_tasks_and_are_found_by_their_description() {
    let fake = FakeAegir::start().await;
    fake.set_polls_to_complete(1);
    let mut e = env_at("2026-03-02T09:00:00Z");
    servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "aegir".into(),
            kind: "aegir".into(),
            base_url: fake.base_url(),
            master_domain: fake.master_domain(),
            platforms: vec!["drupal7".into()],
            ..Default::default()
        },
        Some(&Secret::new(fake.api_key())),
    )
    .unwrap();
    let c = client(&mut e.ws);
    let p = order(&mut e, c, "atrium", "shop");
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    let domain = format!("shop.{}", fake.master_domain());
    assert_eq!(fake.site(&domain).unwrap().site_status, 1);

    let mut taken = Vec::new();
    for hour in 10..13 {
        e.ws.set_clock(Clock::fixed(&format!("2026-03-02T{hour}:00:00Z")).unwrap());
        taken.push(backups::back_up_now(&mut e.ws, &domain).unwrap());
        drain(&e).await;
        no_dead_site_jobs(&e.ws);
    }
    assert_eq!(fake.count_tasks("backup"), 3);
    // A lost reply: the server made the backup, the retry finds it by its description and
    // does not ask for a second one.
    fake.fail_next("task.create", 1, Fault::DropReply);
    e.ws.set_clock(Clock::fixed("2026-03-02T13:00:00Z").unwrap());
    taken.push(backups::back_up_now(&mut e.ws, &domain).unwrap());
    drain(&e).await;
    let job = store_jobs::get(e.ws.conn(), taken[3].job_id).unwrap();
    assert_eq!((job.state.as_str(), job.attempts), ("failed", 1), "{job:?}");
    // The retry is due a moment later.
    e.ws.set_clock(Clock::fixed("2026-03-02T13:01:00Z").unwrap());
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    assert_eq!(fake.count_task_posts("backup"), 4);
    assert_eq!(fake.count_tasks("backup"), 4);
    let job = store_jobs::get(e.ws.conn(), taken[3].job_id).unwrap();
    assert_eq!(
        (job.attempts, job.result["already"].as_bool()),
        (2, Some(true))
    );
    let bids = fake.site(&domain).unwrap().backups;
    let rows = backups::list(&e.ws, Some(&domain), false).unwrap();
    let mut remote: Vec<u64> = rows
        .iter()
        .map(|b| b.backup.remote_id.clone().unwrap().parse().unwrap())
        .collect();
    remote.sort_unstable();
    assert_eq!(remote, bids, "each row has its Aegir bid");

    // Restore the first: Aegir's restore task with its bid.
    let first_bid = backups::list(&e.ws, Some(&domain), false)
        .unwrap()
        .into_iter()
        .find(|b| b.backup.id == taken[0].backup_id)
        .unwrap()
        .backup
        .remote_id
        .unwrap();
    backups::restore(&mut e.ws, &domain, taken[0].backup_id).unwrap();
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    let post = fake
        .requests()
        .into_iter()
        .find(|r| r.param("type") == Some("restore"))
        .unwrap();
    assert_eq!(post.param("options[bid]"), Some(first_bid.as_str()));

    // Keep one: the other three go through backup-delete.
    backups::set_policy(
        &mut e.ws,
        &BackupPolicyRequest {
            retention: Some(RetentionPolicy {
                daily: 1,
                weekly: 0,
                monthly: 0,
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let r = backups::prune(&mut e.ws, Some(&domain), false).unwrap();
    assert_eq!(r.deleting.len(), 3);
    drain(&e).await;
    no_dead_site_jobs(&e.ws);
    assert_eq!(fake.count_tasks("backup-delete"), 3);
    let left = fake.site(&domain).unwrap().backups;
    assert_eq!(left.len(), 1);
    let kept = backups::list(&e.ws, Some(&domain), false).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].backup.id, taken[3].backup_id);
    assert_eq!(
        kept[0].backup.remote_id.clone().unwrap(),
        left[0].to_string()
    );
    let _ = p;
}

#[test]
fn policies_are_checked_and_products_follow_the_default() {
    let mut e = env_at("2026-03-02T09:00:00Z");
    let err = backups::set_policy(
        &mut e.ws,
        &BackupPolicyRequest {
            retention: Some(RetentionPolicy {
                daily: 0,
                weekly: 0,
                monthly: 0,
            }),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(err.fields[0].field, "retention");
    let v = backups::set_policy(
        &mut e.ws,
        &BackupPolicyRequest {
            product: Some("atrium".into()),
            schedule: Some(Schedule::Weekly),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(v.own_schedule && !v.own_retention);
    assert_eq!(backups::policies(&e.ws).unwrap().len(), 2);
    let v = backups::set_policy(
        &mut e.ws,
        &BackupPolicyRequest {
            product: Some("atrium".into()),
            reset: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(v.schedule, Schedule::Daily);
    assert_eq!(backups::policies(&e.ws).unwrap().len(), 1);
    let err = expiry::set_policy(
        &mut e.ws,
        &TermPolicy {
            reminder_days: vec![7],
            grace_days: 0,
        },
    )
    .unwrap_err();
    assert_eq!(err.fields[0].field, "graceDays");
    assert!(lifecycle::set_trial_days(&mut e.ws, "nope", Some(3)).is_err());
    assert!(lifecycle::set_trial_days(&mut e.ws, "trial", Some(0)).is_err());
}

#[test]
fn registered_domains_that_do_not_renew_by_themselves_get_reminders_once() {
    let mut e = env_at("2026-03-02T09:00:00Z");
    let c = client(&mut e.ws);
    for (name, auto_renew) in [("lumiere.fr", 0), ("renews.fr", 1)] {
        e.ws.conn()
            .execute(
                "INSERT INTO domains (name, mode, client_id, state, expires_on, auto_renew,
                                      created_at, updated_at)
                 VALUES (?1, 'registered', ?2, 'active', '2026-03-09', ?3, ?4, ?4)",
                (name, c, auto_renew, "2026-03-02T09:00:00Z"),
            )
            .unwrap();
    }
    let soon = expiry::expiring(&e.ws, 30).unwrap();
    let domains: Vec<(&str, bool, i64)> = soon
        .iter()
        .filter(|i| i.kind == "domain")
        .map(|i| (i.subject.as_str(), i.renews, i.days_left))
        .collect();
    assert_eq!(
        domains,
        vec![("lumiere.fr", false, 7), ("renews.fr", true, 7)]
    );

    // Seven days before: one reminder, for the domain that does not renew; once.
    let r = expiry::expire_check(&mut e.ws).unwrap();
    assert_eq!(r.domain_reminders, 1);
    assert_eq!(expiry::expire_check(&mut e.ws).unwrap().domain_reminders, 0);
    let body = text(
        &e.ws,
        "SELECT body_text FROM outbox WHERE kind = 'expiry_reminder'",
    );
    assert!(
        body.contains("domain name lumiere.fr") && body.contains("2026-03-09"),
        "{body}"
    );
    // The day before: the last reminder.
    e.ws.set_clock(Clock::fixed("2026-03-08T09:00:00Z").unwrap());
    assert_eq!(expiry::expire_check(&mut e.ws).unwrap().domain_reminders, 1);
    assert_eq!(mails(&e.ws, "expiry_reminder"), 2);
}
