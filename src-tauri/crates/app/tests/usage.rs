#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Quotas and usage through the real queue (`build_runner`): collection from the fake WHM and
//! Aegir and from the real Caddy's access log, the overage billed from collected usage,
//! enforcement of the site quota with and without a staff override, limits pushed to the WHM
//! fake once per change, alerts and their mails, and the sandbox's simulated usage.

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use hostdesk_app::billing::bill_run::{self, BillRunOptions};
use hostdesk_app::billing::changes::{self, ChangeRequest};
use hostdesk_app::billing::{invoices, usage as billing_usage};
use hostdesk_app::core::catalog::{ChoiceDraft, OptionDraft, PriceDraft, ProductDraft, QuotaValue};
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::orders::{self, OrderRequest};
use hostdesk_app::provisioning::{self, ServerOptions, SiteAction};
use hostdesk_app::remote::install_crypto_provider;
use hostdesk_app::runner::RunReport;
use hostdesk_app::secrets::{MemoryStore, Secret};
use hostdesk_app::servers::{self, ServerDraft};
use hostdesk_app::store::subscriptions::{self as subs, NewSubscription};
use hostdesk_app::usage::{self, alerts, collect, quota};
use hostdesk_app::{catalog, clients, demo, settings, Clock, ErrorCode, Workspace};
use hostdesk_testkit::{FakeAegir, FakeWhm, RealCaddy};

const MIB: u64 = 1024 * 1024;

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
}

fn env(now: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.db");
    let clock = if now.is_empty() {
        Clock::System
    } else {
        Clock::fixed(now).unwrap()
    };
    let mut ws = Workspace::open(&path, clock).unwrap();
    settings::set(&mut ws, "seller_country", "FR").unwrap();
    settings::set(&mut ws, "seller_name", "Atrium Hosting SAS").unwrap();
    Env {
        _dir: dir,
        path,
        ws,
        secrets: Arc::new(MemoryStore::new()),
    }
}

fn at(e: &mut Env, now: &str) -> Clock {
    let c = Clock::fixed(now).unwrap();
    e.ws.set_clock(c);
    c
}

/// Runs the queue on `clock` until nothing is ready (retries are not waited for).
async fn drain(e: &Env, clock: Clock) -> RunReport {
    common::drain(&e.path, clock, e.secrets.clone(), false).await
}

/// Queues a collection of every server now and runs it.
async fn collect_all(e: &mut Env, clock: Clock) -> Vec<i64> {
    e.ws.set_clock(clock);
    let ids = collect::collect_now(&mut e.ws, None).unwrap();
    assert!(!ids.is_empty());
    drain(e, clock).await;
    for id in &ids {
        let j = hostdesk_app::jobs::show(&e.ws, *id).unwrap().job;
        assert_eq!(j.state, "succeeded", "{:?}", j.last_error);
    }
    ids
}

fn count(ws: &Workspace, sql: &str) -> i64 {
    ws.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn client(ws: &mut Workspace, name: &str, tz: &str) -> i64 {
    clients::add(
        ws,
        &ClientDraft {
            name: name.into(),
            email: "owner@client.test".into(),
            country: "FR".into(),
            currency: "EUR".into(),
            timezone: tz.into(),
            billing_day: Some(1),
            ..Default::default()
        },
        &[],
    )
    .unwrap()
}

fn price(amount: &str) -> PriceDraft {
    PriceDraft {
        currency: "EUR".into(),
        period: None,
        amount: amount.into(),
    }
}

fn quota_choice(code: &str, resource: &str, limit: i64, modifier: &str) -> ChoiceDraft {
    ChoiceDraft {
        code: code.into(),
        name: code.into(),
        prices: vec![price(modifier)],
        quota: Some(QuotaValue {
            resource: resource.parse().unwrap(),
            limit: Some(limit),
        }),
        ..Default::default()
    }
}

fn product(
    ws: &mut Workspace,
    code: &str,
    kind: &str,
    profile: &str,
    options: &[(&str, Vec<ChoiceDraft>)],
) {
    catalog::add_product(
        ws,
        &ProductDraft {
            code: code.into(),
            name: format!("Product {code}"),
            kind: Some(kind.parse().unwrap()),
            profile: profile.into(),
            prices: vec![price("10.00")],
            ..Default::default()
        },
    )
    .unwrap();
    for (opt, choices) in options {
        catalog::add_option(
            ws,
            &OptionDraft {
                product_code: code.into(),
                code: (*opt).into(),
                name: (*opt).into(),
                choices: choices.clone(),
            },
        )
        .unwrap();
    }
}

/// An active monthly subscription billed up to `next_due` with a site placed on `server`.
fn subscription_with_site(
    ws: &mut Workspace,
    client_id: i64,
    server: i64,
    domain: &str,
    remote_id: Option<&str>,
    next_due: &str,
) -> (i64, i64) {
    let product: i64 = ws
        .conn()
        .query_row("SELECT id FROM products ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    ws.write(|tx, ctx| {
        let sub = subs::insert(
            tx,
            &NewSubscription {
                client_id,
                product_id: product,
                kit_id: None,
                tier_id: None,
                currency: "EUR",
                period: "month",
                price_minor: 1000,
                state: "active",
                anchor_day: 1,
                started_on: "2026-01-01",
                next_due_on: Some(next_due),
                expires_on: None,
                choices: &[],
                quotas: &[],
            },
            &ctx.at,
        )?;
        let site = subs::insert_site(tx, sub, domain, "", "basic", "active", &ctx.at)?;
        tx.execute(
            "UPDATE sites SET server_id = ?2, remote_id = ?3 WHERE id = ?1",
            (site, server, remote_id),
        )?;
        Ok((sub, site))
    })
    .unwrap()
}

fn add_whm(e: &mut Env, fake: &FakeWhm) -> i64 {
    let d = ServerDraft {
        name: "web1".into(),
        kind: "whm".into(),
        base_url: fake.base_url(),
        user: fake.user(),
        ..Default::default()
    };
    servers::add(&mut e.ws, &*e.secrets, &d, Some(&Secret::new(fake.token()))).unwrap()
}

fn collected(ws: &Workspace, sub: i64, resource: &str, at: &str) -> Option<i64> {
    ws.conn()
        .query_row(
            "SELECT quantity FROM usage_records WHERE subscription_id = ?1 AND resource = ?2
                AND at = ?3 AND source = 'collected'",
            (sub, resource, at),
            |r| r.get(0),
        )
        .ok()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whm_usage_is_collected_and_its_overage_billed() {
    install_crypto_provider();
    let whm = FakeWhm::start().await;
    let mut e = env("2026-02-01T09:00:00Z");
    product(&mut e.ws, "hosting", "account", "basic", &[]);
    let c = client(&mut e.ws, "Lumière SARL", "Europe/Berlin");
    let server = add_whm(&mut e, &whm);
    whm.add_account("shop1234", "shop.example.test", "basic");
    let (sub, _site) = subscription_with_site(
        &mut e.ws,
        c,
        server,
        "shop.example.test",
        Some("shop1234"),
        "2026-03-01",
    );
    // disk: 2.00 for 500 MB, 0.05 per MB over; bandwidth: 1000 MB free, 0.01 per MB over
    billing_usage::set_rate(&mut e.ws, sub, "disk_mb", Some(500), "2.00", "0.05").unwrap();
    billing_usage::set_rate(&mut e.ws, sub, "bandwidth_mb", Some(1000), "0", "0.01").unwrap();
    settings::set(&mut e.ws, alerts::MAIL_SETTING, "over").unwrap();
    // The client's February is [Jan 31 23:00Z, Feb 28 23:00Z) (Berlin).
    let feb = "2026-01-31T23:00:00Z";

    whm.set_disk_used("shop1234", 300);
    whm.set_bandwidth("shop1234", 2026, 2, 700 * MIB);
    let t1 = at(&mut e, "2026-02-10T12:00:00Z");
    collect_all(&mut e, t1).await;
    assert_eq!(whm.count("accountsummary"), 1);
    assert_eq!(whm.count("showbw"), 1);
    assert_eq!(collected(&e.ws, sub, "disk_mb", feb), Some(300));
    assert_eq!(collected(&e.ws, sub, "bandwidth_mb", feb), Some(700));
    // The limits were never pushed: the first collection pushes them (WHM enforces both).
    assert_eq!((whm.count("editquota"), whm.count("limitbw")), (1, 1));
    let acct = whm.account("shop1234").unwrap();
    assert_eq!((acct.quota_mb, acct.bwlimit_mb), (500, 1000));
    assert_eq!(
        count(&e.ws, "SELECT count(*) FROM usage_alerts"),
        0,
        "60% and 70%"
    );

    whm.set_disk_used("shop1234", 650);
    whm.set_bandwidth("shop1234", 2026, 2, 1300 * MIB);
    let t2 = at(&mut e, "2026-02-20T12:00:00Z");
    collect_all(&mut e, t2).await;
    assert_eq!(collected(&e.ws, sub, "disk_mb", feb), Some(650), "the peak");
    assert_eq!(
        collected(&e.ws, sub, "bandwidth_mb", feb),
        Some(1300),
        "the sum"
    );
    let bw_samples: Vec<(i64, i64)> = {
        let mut st = e
            .ws
            .conn()
            .prepare("SELECT quantity, bytes FROM usage_samples WHERE resource = 'bandwidth_mb' ORDER BY at")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        bw_samples,
        vec![(700, 700 * MIB as i64), (600, 600 * MIB as i64)]
    );
    // 130% of both quotas: 80% and 100% alerts, once each; the 100% ones mailed ("over").
    let open = alerts::list(&e.ws, Some(c), false).unwrap();
    let mut seen: Vec<(String, i64)> = open
        .iter()
        .map(|a| (a.resource.clone(), a.threshold))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("bandwidth_mb".into(), 80),
            ("bandwidth_mb".into(), 100),
            ("disk_mb".into(), 80),
            ("disk_mb".into(), 100)
        ]
    );
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM outbox WHERE kind = 'quota_alert'"
        ),
        2
    );
    let subject: String =
        e.ws.conn()
            .query_row(
                "SELECT subject FROM outbox WHERE kind = 'quota_alert' AND subject LIKE '%disk%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    assert!(
        subject.contains("130% of your disk space quota"),
        "{subject}"
    );
    let shown = usage::show_client(&e.ws, c).unwrap();
    let disk = shown.subscriptions[0]
        .resources
        .iter()
        .find(|r| r.resource == "disk_mb")
        .unwrap();
    assert_eq!(
        (disk.used, disk.limit, disk.percent),
        (650, Some(500), Some(130))
    );
    assert!(disk.measured && disk.enforced);
    let fleet = usage::fleet(&e.ws, 100, 10).unwrap();
    assert_eq!(fleet.rows.len(), 2);
    assert!(fleet
        .rows
        .iter()
        .all(|r| r.client_id == c && r.percent == 130));
    // Collecting again at the same moment changes nothing and raises nothing.
    collect_all(&mut e, t2).await;
    assert_eq!(count(&e.ws, "SELECT count(*) FROM usage_alerts"), 4);
    assert_eq!(collected(&e.ws, sub, "bandwidth_mb", feb), Some(1300));

    // March 1st, before the bill run: February's last hours are read from its final total.
    whm.set_disk_used("shop1234", 400);
    whm.set_bandwidth("shop1234", 2026, 2, 1500 * MIB);
    whm.set_bandwidth("shop1234", 2026, 3, 50 * MIB);
    let t3 = at(&mut e, "2026-03-01T06:00:00Z");
    collect_all(&mut e, t3).await;
    assert_eq!(collected(&e.ws, sub, "bandwidth_mb", feb), Some(1500));
    let mar = "2026-02-28T23:00:00Z";
    assert_eq!(collected(&e.ws, sub, "bandwidth_mb", mar), Some(50));
    assert_eq!(collected(&e.ws, sub, "disk_mb", mar), Some(400));
    assert_eq!(collected(&e.ws, sub, "disk_mb", feb), Some(650));

    // The bill run charges February's overage from the collected usage.
    at(&mut e, "2026-03-01T09:00:00Z");
    let run = bill_run::run(
        &mut e.ws,
        &BillRunOptions::default(),
        &AtomicBool::new(false),
        |_, _| {},
    )
    .unwrap();
    assert_eq!(run.invoices.len(), 1);
    let inv = invoices::show(&e.ws, &run.invoices[0].invoice_id.to_string()).unwrap();
    let mut lines: Vec<(String, i64, i64)> = inv
        .lines
        .iter()
        .map(|l| (l.kind.clone(), l.quantity, l.net_minor))
        .collect();
    lines.sort();
    // disk: A = 2.00 and (650 - 500) x 0.05 = 7.50; bandwidth: (1500 - 1000) x 0.01 = 5.00
    assert_eq!(
        lines,
        vec![
            ("overage".into(), 150, 750),
            ("recurring".into(), 1, 1000),
            ("usage".into(), 1, 200),
            ("usage".into(), 500, 500),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_pushed_to_whm_once_per_change() {
    install_crypto_provider();
    let whm = FakeWhm::start().await;
    let mut e = env("2026-02-10T09:00:00Z");
    product(
        &mut e.ws,
        "hosting",
        "account",
        "basic",
        &[
            (
                "disk",
                vec![
                    quota_choice("1g", "disk_mb", 1000, "0"),
                    quota_choice("5g", "disk_mb", 5000, "5.00"),
                ],
            ),
            (
                "bw",
                vec![
                    quota_choice("10g", "bandwidth_mb", 10_000, "0"),
                    quota_choice("50g", "bandwidth_mb", 50_000, "3.00"),
                ],
            ),
            (
                "users",
                vec![
                    quota_choice("10", "users", 10, "0"),
                    quota_choice("50", "users", 50, "1.00"),
                ],
            ),
        ],
    );
    orders::set_activation(&mut e.ws, "hosting", "immediate").unwrap();
    let c = client(&mut e.ws, "Atelier", "Europe/Paris");
    add_whm(&mut e, &whm);
    let clock = at(&mut e, "2026-02-10T09:00:00Z");
    let placed = orders::place(
        &mut e.ws,
        &OrderRequest {
            client_id: c,
            product: Some("hosting".into()),
            options: vec!["disk=1g".into(), "bw=10g".into(), "users=10".into()],
            domain: "atelier.example.test".into(),
            pay: Some("later".into()),
            ..Default::default()
        },
    )
    .unwrap();
    drain(&e, clock).await;
    let user = whm.accounts()[0].user.clone();
    let acct = whm.account(&user).unwrap();
    assert_eq!((acct.quota_mb, acct.bwlimit_mb), (1000, 10_000));
    assert_eq!((whm.count("editquota"), whm.count("limitbw")), (1, 1));
    let sub = placed.subscription_id;

    // An upgrade that changes the disk quota pushes the disk limit, once.
    let r = changes::change(
        &mut e.ws,
        sub,
        &ChangeRequest {
            set_options: vec!["disk=5g".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.when, "immediate");
    assert_eq!(r.jobs.len(), 1, "{:?}", r.jobs);
    drain(&e, clock).await;
    assert_eq!((whm.count("editquota"), whm.count("limitbw")), (2, 1));
    assert_eq!(whm.account(&user).unwrap().quota_mb, 5000);

    // An upgrade that changes no pushed quota pushes nothing.
    let r = changes::change(
        &mut e.ws,
        sub,
        &ChangeRequest {
            set_options: vec!["users=50".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.when, "immediate");
    assert!(r.jobs.is_empty(), "{:?}", r.jobs);

    // Staff set the bandwidth: pushed once; asking again pushes nothing.
    let q = quota::set_quota(&mut e.ws, sub, "bandwidth_mb", Some(20_000)).unwrap();
    assert_eq!(
        (q.before, q.limit, q.jobs.len()),
        (Some(10_000), Some(20_000), 1)
    );
    let again = quota::set_quota(&mut e.ws, sub, "bandwidth_mb", Some(20_000)).unwrap();
    assert!(again.jobs.is_empty());
    // A quota WHM does not enforce is not pushed.
    assert!(quota::set_quota(&mut e.ws, sub, "users", Some(80))
        .unwrap()
        .jobs
        .is_empty());
    drain(&e, clock).await;
    assert_eq!((whm.count("editquota"), whm.count("limitbw")), (2, 2));
    assert_eq!(whm.account(&user).unwrap().bwlimit_mb, 20_000);
    // A collection compares the limits again: nothing changed, nothing is pushed.
    whm.set_disk_used(&user, 100);
    collect_all(&mut e, clock).await;
    assert_eq!((whm.count("editquota"), whm.count("limitbw")), (2, 2));
    // Unlimited is pushed as 0.
    let q = quota::set_quota(&mut e.ws, sub, "disk_mb", None).unwrap();
    assert_eq!(q.jobs.len(), 1);
    drain(&e, clock).await;
    assert_eq!(
        (whm.count("editquota"), whm.account(&user).unwrap().quota_mb),
        (3, 0)
    );
    // Every change is in the audit log.
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM audit_log WHERE action = 'set_quota'"
        ),
        4
    );
    // Bad input changes nothing.
    let err = quota::set_quota(&mut e.ws, sub, "cpu", Some(1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let err = quota::set_quota(&mut e.ws, sub, "disk_mb", Some(-1)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
}

#[test]
fn an_order_beyond_the_site_quota_is_refused_or_placed_with_an_override() {
    let mut e = env("2026-02-10T09:00:00Z");
    product(
        &mut e.ws,
        "account",
        "account",
        "basic",
        &[("sites", vec![quota_choice("2", "sites", 2, "0")])],
    );
    product(&mut e.ws, "site", "site", "standard", &[]);
    servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "sandbox".into(),
            kind: "sandbox".into(),
            master_domain: "sites.example.net".into(),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let c = client(&mut e.ws, "Quota Co", "Europe/Paris");
    let order = |product: &str, domain: &str, override_quota: bool| OrderRequest {
        client_id: c,
        product: Some(product.into()),
        options: if product == "account" {
            vec!["sites=2".into()]
        } else {
            Vec::new()
        },
        domain: domain.into(),
        pay: Some("manual".into()),
        override_quota,
        ..Default::default()
    };
    // Without a site quota anywhere, nothing is limited.
    orders::place(&mut e.ws, &order("site", "free1", false)).unwrap();
    // The account allows 2 sites in all: its own and the one before.
    orders::place(&mut e.ws, &order("account", "main", false)).unwrap();
    let err = orders::quote(&e.ws, &order("site", "third", false)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert_eq!(err.fields[0].field, "quota");
    assert!(
        err.message
            .contains("sites quota: 2 of 2 in use, and this order would make 3"),
        "{}",
        err.message
    );
    let before = count(&e.ws, "SELECT count(*) FROM orders");
    let err = orders::place(&mut e.ws, &order("site", "third", false)).unwrap_err();
    assert_eq!(err.fields[0].field, "quota");
    assert_eq!(
        count(&e.ws, "SELECT count(*) FROM orders"),
        before,
        "nothing written"
    );
    // Staff's explicit override places it, and the audit log says so.
    let placed = orders::place(&mut e.ws, &order("site", "third", true)).unwrap();
    let (entity_id, after): (i64, String) =
        e.ws.conn()
            .query_row(
                "SELECT entity_id, after FROM audit_log WHERE action = 'quota_override'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
    assert_eq!(entity_id, placed.order_id);
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        (
            after["resource"].as_str(),
            after["limit"].as_i64(),
            after["after"].as_i64()
        ),
        (Some("sites"), Some(2), Some(3))
    );
    let shown = usage::show_client(&e.ws, c).unwrap();
    assert_eq!((shown.sites, shown.sites_limit), (3, Some(2)));
    // Raising the quota lets the next order through without an override.
    let account_sub: i64 =
        e.ws.conn()
            .query_row(
                "SELECT subscription_id FROM subscription_quotas WHERE resource = 'sites'",
                [],
                |r| r.get(0),
            )
            .unwrap();
    let q = quota::set_quota(&mut e.ws, account_sub, "sites", Some(5)).unwrap();
    assert!(q.jobs.is_empty(), "no server enforces a site count");
    orders::place(&mut e.ws, &order("site", "fourth", false)).unwrap();
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM audit_log WHERE action = 'quota_override'"
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aegir_counts_the_sites_it_has() {
    install_crypto_provider();
    let aegir = FakeAegir::start().await;
    let mut e = env("2026-02-10T09:00:00Z");
    product(&mut e.ws, "site", "site", "standard", &[]);
    let c = client(&mut e.ws, "Aegir Client", "Europe/Paris");
    let master = aegir.master_domain();
    let server = servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "aegir1".into(),
            kind: "aegir".into(),
            base_url: aegir.base_url(),
            master_domain: master.clone(),
            platforms: vec!["drupal7".into()],
            ..Default::default()
        },
        Some(&Secret::new(aegir.api_key())),
    )
    .unwrap();
    let (sub, _) = subscription_with_site(
        &mut e.ws,
        c,
        server,
        &format!("a.{master}"),
        None,
        "2026-03-01",
    );
    let more = |ws: &mut Workspace, name: &str| {
        ws.write(|tx, ctx| {
            let id = subs::insert_site(tx, sub, name, "", "standard", "active", &ctx.at)?;
            tx.execute(
                "UPDATE sites SET server_id = ?2 WHERE id = ?1",
                (id, server),
            )?;
            Ok(())
        })
        .unwrap();
    };
    more(&mut e.ws, &format!("b.{master}"));
    more(&mut e.ws, &format!("gone.{master}"));
    aegir.add_site(&format!("a.{master}"), "standard", 1);
    aegir.add_site(&format!("b.{master}"), "standard", -1); // disabled: still there
    aegir.add_site(&format!("gone.{master}"), "standard", -2); // deleted on the server
    quota::set_quota(&mut e.ws, sub, "sites", Some(2)).unwrap();
    let clock = at(&mut e, "2026-02-10T09:00:00Z");
    collect_all(&mut e, clock).await;
    assert_eq!(
        collected(&e.ws, sub, "sites", "2026-01-31T23:00:00Z"),
        Some(2)
    );
    let shown = usage::show_client(&e.ws, c).unwrap();
    let sites = shown.subscriptions[0]
        .resources
        .iter()
        .find(|r| r.resource == "sites")
        .unwrap();
    assert_eq!(
        (sites.used, sites.percent, sites.measured),
        (2, Some(100), true)
    );
    assert_eq!(
        alerts::list(&e.ws, Some(c), false).unwrap().len(),
        2,
        "80% and 100%"
    );
    assert_eq!(
        count(&e.ws, "SELECT count(*) FROM outbox"),
        0,
        "alert mails are off by default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_is_collected_from_the_real_caddys_access_log() {
    install_crypto_provider();
    let caddy = RealCaddy::require();
    let mut e = env("");
    product(&mut e.ws, "site", "site", "static", &[]);
    let c = client(&mut e.ws, "Static Co", "UTC");
    let root = caddy.site_dir("shop.example.test");
    // 1.5 MiB: two requests are 3 MiB, three MB counted
    std::fs::write(root.join("index.html"), vec![b'x'; 3 * MIB as usize / 2]).unwrap();
    let log = caddy.site_dir("logs").join("access.log");
    let server = servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "edge".into(),
            kind: "caddy".into(),
            base_url: caddy.admin_url(),
            user: RealCaddy::SERVER.into(),
            options: ServerOptions {
                sites_root: Some(root.parent().unwrap().to_str().unwrap().into()),
                access_log: Some(log.to_str().unwrap().into()),
                ..Default::default()
            },
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let (sub, site) = subscription_with_site(
        &mut e.ws,
        c,
        server,
        "shop.example.test",
        None,
        "2099-01-01",
    );
    e.ws.conn()
        .execute("UPDATE sites SET status = 'queued' WHERE id = ?1", [site])
        .unwrap();
    provisioning::enqueue_site_action(&mut e.ws, site, &SiteAction::Create).unwrap();
    drain(&e, Clock::System).await;
    let http = reqwest::Client::new();
    let mut served = 0;
    for _ in 0..2 {
        let r = http
            .get(format!("{}/", caddy.http_url()))
            .header(reqwest::header::HOST, "shop.example.test")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        served += r.bytes().await.unwrap().len() as i64;
    }
    assert_eq!(served, 3 * MIB as i64);
    // Caddy writes its log line after the response: wait for both.
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.matches("shop.example.test").count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    collect_all(&mut e, Clock::System).await;
    let (bytes, sites): (i64, i64) =
        e.ws.conn()
            .query_row(
                "SELECT (SELECT sum(bytes) FROM usage_samples WHERE resource = 'bandwidth_mb'),
                    (SELECT max(quantity) FROM usage_samples WHERE resource = 'sites')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
    assert_eq!((bytes, sites), (served, 1));
    let shown = usage::show_client(&e.ws, c).unwrap();
    let bw = shown.subscriptions[0]
        .resources
        .iter()
        .find(|r| r.resource == "bandwidth_mb")
        .unwrap();
    assert_eq!((bw.used, bw.measured), (3, true));
    let h = usage::history(&e.ws, sub, "bandwidth_mb", 30).unwrap();
    assert_eq!(h.points.last().map(|p| p.total), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_collects_simulated_usage_on_a_schedule() {
    let mut e = env("2026-11-10T09:00:00Z");
    demo::load(&mut e.ws).unwrap();
    let clock = at(&mut e, "2026-11-10T09:00:00Z");
    let queued = collect::schedule(&mut e.ws).unwrap();
    assert_eq!(queued.len(), 1, "one server: the sandbox");
    assert!(
        collect::schedule(&mut e.ws).unwrap().is_empty(),
        "once per slot"
    );
    drain(&e, clock).await;
    let j = hostdesk_app::jobs::show(&e.ws, queued[0]).unwrap().job;
    assert_eq!(j.state, "succeeded", "{:?}", j.last_error);
    assert_eq!(j.result["simulated"], true);
    assert!(
        count(
            &e.ws,
            "SELECT count(*) FROM usage_samples WHERE resource = 'disk_mb'"
        ) > 0
    );
    assert!(
        count(
            &e.ws,
            "SELECT count(*) FROM usage_samples WHERE resource = 'sites'"
        ) > 0
    );
    // Six hours later is the next slot.
    at(&mut e, "2026-11-10T15:00:01Z");
    assert_eq!(collect::schedule(&mut e.ws).unwrap().len(), 1);
    settings::set(&mut e.ws, collect::EVERY_HOURS, "0").unwrap();
    at(&mut e, "2026-11-11T15:00:01Z");
    assert!(collect::schedule(&mut e.ws).unwrap().is_empty(), "off");
    assert!(settings::set(&mut e.ws, collect::EVERY_HOURS, "-1").is_err());
    let f = usage::fleet(&e.ws, 0, 500).unwrap();
    assert!(f.last_collected.is_some());
}
