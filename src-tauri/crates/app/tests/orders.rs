#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! The order workflow end to end through the real queue (`build_runner`): the fake Aegir
//! (hosting_saas contract), the real localstripe (PyPI) for the stored card, the real aiosmtpd
//! (PyPI) for the mail, and the sandbox server for step-by-step failures. Also the price preview,
//! plan changes and cancellation, and dunning.

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use hostdesk_app::access::{self, TrackerDraft};
use hostdesk_app::billing::bill_run::{self, BillRunOptions};
use hostdesk_app::billing::changes::{self, ChangeRequest};
use hostdesk_app::billing::charge::{self, GatewaySettings};
use hostdesk_app::billing::dunning::{self, DunningPolicy};
use hostdesk_app::billing::invoices;
use hostdesk_app::core::catalog::AccessGrant;
use hostdesk_app::core::catalog::{
    ChoiceDraft, OptionDraft, PriceDraft, ProductDraft, QuotaValue, TierDraft,
};
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::mail::{smtp, Security, SmtpSettingsInput};
use hostdesk_app::orders::{self, OrderRequest};
use hostdesk_app::remote::{install_crypto_provider, PaymentToken};
use hostdesk_app::runner::RunReport;
use hostdesk_app::secrets::{MemoryStore, Secret};
use hostdesk_app::servers::{self, ServerDraft};
use hostdesk_app::{catalog, clients, settings, Clock, ErrorCode, Workspace};
use hostdesk_testkit::{FakeAegir, FakeAuthnet, FakeRedmine, Fault, LocalStripe, RealSmtp};
use serde_json::Value;

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
}

fn env_at(now: Option<&str>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.db");
    let clock = now.map(|n| Clock::fixed(n).unwrap()).unwrap_or_default();
    let mut ws = Workspace::open(&path, clock).unwrap();
    settings::set(&mut ws, "seller_country", "FR").unwrap();
    settings::set(&mut ws, "seller_name", "Atrium Hosting SAS").unwrap();
    catalog::add_product(
        &mut ws,
        &ProductDraft {
            code: "atrium".into(),
            name: "Open Atrium site".into(),
            kind: Some("site".parse().unwrap()),
            profile: "openatrium".into(),
            platform: "drupal7".into(),
            prices: vec![price("EUR", "20.00")],
            ..Default::default()
        },
    )
    .unwrap();
    catalog::add_option(
        &mut ws,
        &OptionDraft {
            product_code: "atrium".into(),
            code: "users".into(),
            name: "Users".into(),
            choices: vec![
                choice("10", "10 users", "0.00", Some(10)),
                choice("50", "50 users", "5.00", Some(50)),
                choice("200", "200 users", "15.00", Some(200)),
            ],
        },
    )
    .unwrap();
    catalog::add_option(
        &mut ws,
        &OptionDraft {
            product_code: "atrium".into(),
            code: "disk".into(),
            name: "Disk".into(),
            choices: vec![ChoiceDraft {
                code: "5g".into(),
                name: "5 GB".into(),
                quota: Some(QuotaValue {
                    resource: "disk_mb".parse().unwrap(),
                    limit: Some(5000),
                }),
                ..Default::default()
            }],
        },
    )
    .unwrap();
    catalog::add_tier(
        &mut ws,
        &TierDraft {
            code: "business".into(),
            name: "Business".into(),
            hours: Some("8x5".parse().unwrap()),
            channels: vec!["email".parse().unwrap()],
            response_hours: Some(8),
            prices: vec![price("EUR", "10.00")],
            grants: Vec::new(),
        },
    )
    .unwrap();
    catalog::add_tier(
        &mut ws,
        &TierDraft {
            code: "tracker".into(),
            name: "Business with tracker".into(),
            hours: Some("8x5".parse().unwrap()),
            channels: vec!["forum".parse().unwrap()],
            response_hours: Some(8),
            prices: vec![price("EUR", "10.00")],
            grants: vec![AccessGrant {
                target: "issue-tracker".into(),
                role: "customer".into(),
            }],
        },
    )
    .unwrap();
    Env {
        _dir: dir,
        path,
        ws,
        secrets: Arc::new(MemoryStore::new()),
    }
}

fn price(currency: &str, amount: &str) -> PriceDraft {
    PriceDraft {
        currency: currency.into(),
        period: None,
        amount: amount.into(),
    }
}

fn choice(code: &str, name: &str, modifier: &str, users: Option<i64>) -> ChoiceDraft {
    ChoiceDraft {
        code: code.into(),
        name: name.into(),
        prices: vec![price("EUR", modifier)],
        quota: users.map(|n| QuotaValue {
            resource: "users".parse().unwrap(),
            limit: Some(n),
        }),
        ..Default::default()
    }
}

fn client(ws: &mut Workspace, email: &str, billing_day: i64) -> i64 {
    clients::add(
        ws,
        &ClientDraft {
            name: "Lumière SARL".into(),
            email: email.into(),
            country: "FR".into(),
            currency: "EUR".into(),
            timezone: "Europe/Paris".into(),
            billing_day: Some(billing_day),
            ..Default::default()
        },
        &[],
    )
    .unwrap()
}

fn add_sandbox(e: &mut Env) -> i64 {
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
    .unwrap()
}

fn add_aegir(e: &mut Env, fake: &FakeAegir) -> i64 {
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
    .unwrap()
}

fn smtp_to(e: &mut Env, server: &RealSmtp) {
    smtp::save_settings(
        &mut e.ws,
        &*e.secrets,
        &SmtpSettingsInput {
            host: "127.0.0.1".into(),
            port: Some(i64::from(server.port())),
            username: String::new(),
            from_addr: "billing@atrium.test".into(),
            from_name: "Atrium Hosting".into(),
            security: Security::None,
        },
        None,
        false,
    )
    .unwrap();
}

/// Plays Stripe.js: a PaymentMethod id for a test card.
async fn stripe_card(ls: &LocalStripe, card: &str) -> String {
    install_crypto_provider();
    let v: Value = reqwest::Client::new()
        .post(format!("{}/v1/payment_methods", ls.base_url()))
        .bearer_auth(LocalStripe::SECRET_KEY)
        .form(&[
            ("type", "card"),
            ("card[number]", card),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap().to_owned()
}

async fn stripe_for(e: &mut Env, ls: &LocalStripe, client_id: i64, card: &str) {
    charge::set_gateway(
        &mut e.ws,
        &*e.secrets,
        &GatewaySettings {
            gateway: "stripe".into(),
            base_url: Some(ls.base_url()),
            login_id: None,
        },
        Some(Secret::new(LocalStripe::SECRET_KEY)),
    )
    .unwrap();
    let pm = stripe_card(ls, card).await;
    charge::add_payment_method(
        &mut e.ws,
        &*e.secrets,
        client_id,
        PaymentToken::stripe(pm),
        "visa",
    )
    .await
    .unwrap();
}

/// Authorize.net (the faithful fake) as the gateway, and a card stored for the client.
async fn authnet_for(e: &mut Env, fake: &FakeAuthnet, client_id: i64) {
    charge::set_gateway(
        &mut e.ws,
        &*e.secrets,
        &GatewaySettings {
            gateway: "authnet".into(),
            base_url: Some(fake.endpoint()),
            login_id: Some(fake.login()),
        },
        Some(Secret::new(fake.transaction_key())),
    )
    .unwrap();
    let nonce = fake.accept_nonce(hostdesk_testkit::authnet::VISA, "10001");
    charge::add_payment_method(
        &mut e.ws,
        &*e.secrets,
        client_id,
        PaymentToken::accept_nonce(nonce),
        "visa",
    )
    .await
    .unwrap();
}

async fn drain(e: &Env) -> RunReport {
    drain_at(e, Clock::System).await
}

/// Runs the queue on `clock` (jobs queued under a moved clock are due by that clock).
async fn drain_at(e: &Env, clock: Clock) -> RunReport {
    common::drain(&e.path, clock, e.secrets.clone(), true).await
}

fn request(client_id: i64, domain: &str, pay: &str) -> OrderRequest {
    OrderRequest {
        client_id,
        product: Some("atrium".into()),
        options: vec!["users=50".into()],
        tier: Some("business".into()),
        domain: domain.into(),
        pay: Some(pay.into()),
        ..Default::default()
    }
}

fn count(ws: &Workspace, sql: &str) -> i64 {
    ws.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn the_preview_prices_product_options_and_tier_prorated_to_the_billing_day_with_tax() {
    // 22 Nov (Paris): 8 days left of the 30-day period ending on the 1st.
    let mut e = env_at(Some("2026-11-22T09:00:00Z"));
    add_sandbox(&mut e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    let q = orders::quote(&e.ws, &request(c, "lumiere", "manual")).unwrap();
    let parts: Vec<(&str, &str)> = q
        .parts
        .iter()
        .map(|p| (p.kind.as_str(), p.amount.as_str()))
        .collect();
    assert_eq!(
        parts,
        vec![("product", "20.00"), ("option", "5.00"), ("tier", "10.00")]
    );
    assert_eq!(q.recurring, "35.00");
    assert_eq!(
        (q.first_from.as_str(), q.first_to.as_str()),
        ("2026-11-22", "2026-12-01")
    );
    assert_eq!((q.days, q.days_in_period), (9, 30));
    // 35.00 x 9/30 = 10.50; French VAT 20% = 2.10
    assert_eq!(
        (q.first_net.as_str(), q.first_tax.as_str()),
        ("10.50", "2.10")
    );
    assert_eq!(q.first_total, "12.60");
    assert_eq!(q.domain, "lumiere.sites.test");
    assert_eq!(
        count(&e.ws, "SELECT count(*) FROM subscriptions"),
        0,
        "a quote writes nothing"
    );

    // Bad input: a clear error on the field, nothing written.
    let mut r = request(c, "lumiere", "manual");
    r.options = vec!["users=9999".into()];
    let err = orders::place(&mut e.ws, &r).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(
        err.message.contains("no option users with a choice 9999"),
        "{}",
        err.message
    );
    let mut r = request(c, "lumiere", "manual");
    r.period = Some("year".into());
    let err = orders::place(&mut e.ws, &r).unwrap_err();
    assert!(
        err.message.contains("has no EUR price per year"),
        "{}",
        err.message
    );
    let err = orders::place(&mut e.ws, &request(c, "lumiere", "stored")).unwrap_err();
    assert!(
        err.message.contains("no stored payment method"),
        "{}",
        err.message
    );
    let err = orders::place(&mut e.ws, &request(c, "lumiere", "later")).unwrap_err();
    assert!(
        err.message.contains("provisioned after payment"),
        "{}",
        err.message
    );
    assert_eq!(count(&e.ws, "SELECT count(*) FROM subscriptions"), 0);
    assert_eq!(count(&e.ws, "SELECT count(*) FROM invoices"), 0);

    // Placed: subscription, site, first invoice with the prorated line; the domain is then taken.
    let p = orders::place(&mut e.ws, &request(c, "lumiere", "manual")).unwrap();
    assert_eq!(p.state, "awaiting_payment");
    assert!(
        p.jobs.is_empty(),
        "manual payment: nothing is provisioned before it is paid"
    );
    let inv = p.invoice.unwrap();
    assert_eq!((inv.total.as_str(), inv.lines), ("12.60", 1));
    let err = orders::place(&mut e.ws, &request(c, "lumiere", "manual")).unwrap_err();
    assert!(
        err.message.contains("lumiere.sites.test is taken"),
        "{}",
        err.message
    );

    // Recording the bank transfer starts the chain.
    invoices::record_payment(&mut e.ws, &inv.number, "12.60", "VIR-123").unwrap();
    let v = orders::show(&e.ws, p.order_id).unwrap();
    assert_eq!(v.order.state, "provisioning");
    let kinds: Vec<&str> = v.jobs.iter().map(|j| j.kind.as_str()).collect();
    // No disk or bandwidth quota was chosen: no quota.set.
    assert_eq!(kinds, vec!["site.create", "site.create_user", "mail.send"]);
    assert_eq!(v.invoice_status.as_deref(), Some("paid"));
    // Each step waits for the one before.
    assert_eq!(v.jobs[1].deps, vec![v.jobs[0].id]);
    assert!(v.jobs[2].deps.contains(&v.jobs[1].id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_ends_with_a_site_a_manager_one_welcome_mail() {
    let aegir = FakeAegir::start().await;
    let ls = LocalStripe::start();
    let smtp = RealSmtp::start();
    let redmine = FakeRedmine::start().await;
    let mut e = env_at(None);
    add_aegir(&mut e, &aegir);
    smtp_to(&mut e, &smtp);
    access::set_tracker(
        &mut e.ws,
        &*e.secrets,
        &TrackerDraft {
            url: redmine.base_url(),
            project: "support".into(),
        },
        Some(&Secret::new(redmine.api_key())),
    )
    .unwrap();
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    stripe_for(&mut e, &ls, c, "4242424242424242").await;

    let mut req = request(c, "lumiere", "stored");
    req.tier = Some("tracker".into());
    let p = orders::place(&mut e.ws, &req).unwrap();
    assert_eq!(p.state, "awaiting_payment");
    assert_eq!(p.jobs.len(), 1, "the charge first");
    assert_eq!(aegir.count_tasks("install"), 0);

    let report = drain(&e).await;
    assert_eq!(report.dead, 0, "{report:?}");
    let v = orders::show(&e.ws, p.order_id).unwrap();
    assert_eq!(v.progress, "completed", "{:?}", v.jobs);
    assert_eq!(v.invoice_status.as_deref(), Some("paid"));
    let kinds: Vec<&str> = v.jobs.iter().map(|j| j.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec!["payment.charge", "site.create", "mail.send", "access.grant"]
    );
    // The tier's access: one Redmine account with the role on the support project.
    let user = redmine
        .user("owner@lumiere.test")
        .expect("a Redmine account");
    let members = redmine.memberships("support");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].user_id, user.id);
    assert_eq!(
        members[0].role_ids,
        vec![redmine.role_id("Customer").unwrap()]
    );

    // The charge: two phases, one PaymentIntent, the invoice paid.
    let detail = invoices::show(&e.ws, &p.invoice.unwrap().number).unwrap();
    assert_eq!(detail.payments.len(), 1);
    assert_eq!(detail.payments[0].state, "succeeded");
    assert!(detail.payments[0]
        .gateway_ref
        .as_deref()
        .unwrap()
        .starts_with("pi_"));

    // The site on Aegir, handed over to the client's own user (not user 1: the handover makes
    // a new user with the configured role).
    let domain = format!("lumiere.{}", aegir.master_domain());
    let site = aegir.site(&domain).expect("the site exists on Aegir");
    assert_eq!(site.profile, "openatrium");
    assert_eq!(
        site.owner,
        Some(("owner@lumiere.test".into(), "Lumière SARL".into()))
    );
    assert_eq!(aegir.count_tasks("install"), 1);

    // One welcome mail with the site's URL and login link.
    let mails = smtp.wait_for(1, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(smtp.messages().len(), 1);
    assert!(mails[0].subject.to_lowercase().contains("welcome") || mails[0].body.contains(&domain));
    assert!(
        mails[0].body.contains(&format!("https://{domain}")),
        "{}",
        mails[0].body
    );
    assert!(mails[0]
        .body
        .contains(&format!("https://{domain}/user/login")));
    assert_eq!(mails[0].rcpt_tos, vec!["owner@lumiere.test".to_owned()]);

    // Running the queue again changes nothing.
    drain(&e).await;
    assert_eq!(aegir.count_tasks("install"), 1);
    assert_eq!(smtp.messages().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_creates_no_site_and_mails_the_client() {
    let aegir = FakeAegir::start().await;
    let ls = LocalStripe::start();
    let smtp = RealSmtp::start();
    let mut e = env_at(None);
    add_aegir(&mut e, &aegir);
    smtp_to(&mut e, &smtp);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    // Attaches to the customer; every charge is declined.
    stripe_for(&mut e, &ls, c, "4000000000000341").await;

    let p = orders::place(&mut e.ws, &request(c, "lumiere", "stored")).unwrap();
    drain(&e).await;
    let v = orders::show(&e.ws, p.order_id).unwrap();
    assert_eq!(v.order.state, "payment_failed");
    assert!(v.order.error.as_deref().unwrap().contains("card_declined"));
    assert_eq!(v.invoice_status.as_deref(), Some("issued"));
    assert_eq!(aegir.count_tasks("install"), 0, "no site");
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM jobs WHERE kind = 'site.create'"
        ),
        0
    );
    let mails = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body.contains("declined"), "{}", mails[0].body);
    let payments = invoices::show(&e.ws, &p.invoice.unwrap().number)
        .unwrap()
        .payments;
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].state, "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_user_failing_twice_is_retried_and_the_site_and_mail_happen_once() {
    let smtp = RealSmtp::start();
    let mut e = env_at(None);
    add_sandbox(&mut e);
    smtp_to(&mut e, &smtp);
    settings::set(&mut e.ws, "sandbox_fail_next", "create_user:2").unwrap();
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    let p = orders::place(&mut e.ws, &request(c, "lumiere", "manual")).unwrap();
    let inv = p.invoice.unwrap();
    invoices::record_payment(&mut e.ws, &inv.number, &inv.total, "VIR-1").unwrap();
    let report = drain(&e).await;
    assert_eq!(report.dead, 0);
    let v = orders::show(&e.ws, p.order_id).unwrap();
    assert_eq!(v.progress, "completed", "{:?}", v.jobs);
    let attempts: Vec<(&str, i64)> = v
        .jobs
        .iter()
        .map(|j| (j.kind.as_str(), j.attempts))
        .collect();
    assert_eq!(
        attempts,
        vec![
            ("site.create", 1),
            ("site.create_user", 3),
            ("mail.send", 1)
        ]
    );
    // One site, its manager is not uid 1.
    assert_eq!(count(&e.ws, "SELECT count(*) FROM sandbox_sites"), 1);
    let users: String =
        e.ws.conn()
            .query_row("SELECT users FROM sandbox_sites", [], |r| r.get(0))
            .unwrap();
    let users: Vec<Value> = serde_json::from_str(&users).unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["role"], "manager");
    assert!(users[0]["uid"].as_i64().unwrap() > 1);
    smtp.wait_for(1, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(smtp.messages().len(), 1, "one welcome mail");
}

#[test]
fn a_product_that_starts_at_once_provisions_before_payment_and_approval_waits_for_staff() {
    let mut e = env_at(Some("2026-11-22T09:00:00Z"));
    add_sandbox(&mut e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    orders::set_activation(&mut e.ws, "atrium", "immediate").unwrap();
    let p = orders::place(&mut e.ws, &request(c, "trial", "later")).unwrap();
    assert_eq!(p.state, "provisioning");
    assert_eq!(p.jobs.len(), 3);

    orders::set_activation(&mut e.ws, "atrium", "approval").unwrap();
    let p = orders::place(&mut e.ws, &request(c, "approved", "manual")).unwrap();
    assert_eq!(p.state, "awaiting_approval");
    assert!(p.jobs.is_empty());
    let v = orders::approve(&mut e.ws, p.order_id).unwrap();
    assert_eq!(v.order.state, "provisioning");
    let again = orders::approve(&mut e.ws, p.order_id).unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    let err = orders::set_activation(&mut e.ws, "atrium", "sometimes").unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
}

fn bill(ws: &mut Workspace, now: &str) -> bill_run::BillRunReport {
    ws.set_clock(Clock::fixed(now).unwrap());
    bill_run::run(
        ws,
        &BillRunOptions::default(),
        &AtomicBool::new(false),
        |_, _| {},
    )
    .unwrap()
}

/// A client on billing day 1 with an order placed on 1 Dec (a full period, paid).
fn december_subscription(e: &mut Env) -> (i64, i64) {
    add_sandbox(e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    e.ws.set_clock(Clock::fixed("2026-12-01T09:00:00Z").unwrap());
    let p = orders::place(&mut e.ws, &request(c, "lumiere", "manual")).unwrap();
    let inv = p.invoice.unwrap();
    assert_eq!(inv.total, "42.00", "35.00 + 20% VAT, a full month");
    invoices::record_payment(&mut e.ws, &inv.number, "42.00", "VIR-1").unwrap();
    (c, p.subscription_id)
}

#[test]
fn an_upgrade_credits_the_unused_old_price_and_charges_the_new_one_at_once() {
    let mut e = env_at(None);
    let (_, sub) = december_subscription(&mut e);
    // 17 Dec: 15 of 31 days left. Old 35.00, new 45.00 (users=200).
    e.ws.set_clock(Clock::fixed("2026-12-17T09:00:00Z").unwrap());
    let r = changes::change(
        &mut e.ws,
        sub,
        &ChangeRequest {
            set_options: vec!["users=200".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.when, "immediate");
    assert_eq!(
        (r.old_price.as_str(), r.new_price.as_str()),
        ("35.00", "45.00")
    );
    let inv = r.invoice.unwrap();
    let lines = invoices::show(&e.ws, &inv.number).unwrap().lines;
    let nets: Vec<(&str, i64)> = lines
        .iter()
        .map(|l| (l.kind.as_str(), l.net_minor))
        .collect();
    // 35.00 x 15/31 = 16.94 credited; 45.00 x 15/31 = 21.77 charged
    assert_eq!(nets, vec![("credit", -1694), ("proration", 2177)]);
    assert_eq!(inv.total_minor, (2177 - 1694) + (435 - 339));
    let s = hostdesk_app::subscriptions::show(&e.ws, sub).unwrap();
    assert_eq!(
        s.price_minor, 4500,
        "the recurring price follows the change"
    );
    assert!(s.choices.contains(&"users=200".to_string()));
    assert!(s
        .quotas
        .iter()
        .any(|q| q.resource == "users" && q.limit == Some(200)));
    // January bills the new price.
    let run = bill(&mut e.ws, "2027-01-01T09:00:00Z");
    assert_eq!(run.invoices.len(), 1);
    assert_eq!(run.invoices[0].total, "54.00");
}

#[test]
fn a_downgrade_waits_for_the_renewal_and_the_bill_run_adopts_it() {
    let mut e = env_at(None);
    let (_, sub) = december_subscription(&mut e);
    e.ws.set_clock(Clock::fixed("2026-12-17T09:00:00Z").unwrap());
    let r = changes::change(
        &mut e.ws,
        sub,
        &ChangeRequest {
            set_options: vec!["users=10".into()],
            tier: Some(String::new()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (r.when.as_str(), r.effective.as_str()),
        ("at_period_end", "2027-01-01")
    );
    assert!(r.invoice.is_none());
    let s = hostdesk_app::subscriptions::show(&e.ws, sub).unwrap();
    assert_eq!(s.price_minor, 3500, "unchanged until the renewal");
    let run = bill(&mut e.ws, "2027-01-01T09:00:00Z");
    // 20.00 + 0.00, no tier: 24.00 with VAT
    assert_eq!(run.invoices[0].total, "24.00");
    let s = hostdesk_app::subscriptions::show(&e.ws, sub).unwrap();
    assert_eq!(s.price_minor, 2000);
    assert!(s.choices.contains(&"users=10".to_string()));
}

#[test]
fn cancelling_at_the_period_end_stops_billing_and_now_credits_the_unused_part() {
    let mut e = env_at(None);
    let (c, sub) = december_subscription(&mut e);
    e.ws.set_clock(Clock::fixed("2026-12-10T09:00:00Z").unwrap());
    let r = changes::cancel(&mut e.ws, sub, false).unwrap();
    assert_eq!(r.ends_on, "2027-01-01");
    assert!(bill(&mut e.ws, "2027-01-02T09:00:00Z").invoices.is_empty());
    e.ws.set_clock(Clock::fixed("2027-01-02T09:00:00Z").unwrap());
    let d = dunning::run(&mut e.ws).unwrap();
    assert_eq!(d.cancelled, 1);
    assert_eq!(
        hostdesk_app::subscriptions::show(&e.ws, sub).unwrap().state,
        "cancelled"
    );

    // Another subscription of the client, cancelled at once on 10 Dec: 22 of 31 days unused.
    e.ws.set_clock(Clock::fixed("2026-12-01T09:00:00Z").unwrap());
    let p = orders::place(&mut e.ws, &request(c, "second", "manual")).unwrap();
    let number = p.invoice.unwrap().number;
    invoices::record_payment(&mut e.ws, &number, "42.00", "VIR-2").unwrap();
    e.ws.set_clock(Clock::fixed("2026-12-10T09:00:00Z").unwrap());
    let r = changes::cancel(&mut e.ws, p.subscription_id, true).unwrap();
    assert_eq!(r.ends_on, "2026-12-10");
    // 35.00 x 22/31 = 24.84 net
    assert_eq!(r.credit.as_deref(), Some("24.84"));
    let notes = invoices::show(&e.ws, &number).unwrap().credit_notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].net_minor, -2484);
    assert_eq!(
        r.jobs.len(),
        0,
        "the site was never created: nothing to disable"
    );
    let err = changes::cancel(&mut e.ws, p.subscription_id, true).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
}

#[test]
fn dunning_reminds_retries_suspends_and_a_payment_re_enables() {
    let mut e = env_at(None);
    add_sandbox(&mut e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    dunning::set_policy(
        &mut e.ws,
        &DunningPolicy {
            reminder_days: vec![1, 7],
            retry_days: vec![3],
            grace_days: 10,
            terminate_after_days: 0,
        },
    )
    .unwrap();
    // An active site, then an unpaid January invoice (due 15 Jan with 14 days' terms).
    e.ws.set_clock(Clock::fixed("2026-12-01T09:00:00Z").unwrap());
    orders::set_activation(&mut e.ws, "atrium", "immediate").unwrap();
    let p = orders::place(&mut e.ws, &request(c, "lumiere", "later")).unwrap();
    let dec = p.invoice.unwrap();
    invoices::record_payment(&mut e.ws, &dec.number, &dec.total, "VIR-D").unwrap();
    e.ws.conn()
        .execute("UPDATE sites SET status = 'active'", [])
        .unwrap();
    let run = bill(&mut e.ws, "2027-01-01T09:00:00Z");
    let jan = run.invoices[0].number.clone();
    let jan_total = run.invoices[0].total.clone();
    let due = invoices::find(&e.ws, &jan).unwrap().due_on.unwrap();
    assert_eq!(due, "2027-01-15");

    let at = |ws: &mut Workspace, now: &str| {
        ws.set_clock(Clock::fixed(now).unwrap());
        dunning::run(ws).unwrap()
    };
    let r = at(&mut e.ws, "2027-01-15T09:00:00Z");
    assert_eq!((r.overdue, r.reminders), (0, 0), "due today is not overdue");
    let r = at(&mut e.ws, "2027-01-16T09:00:00Z");
    assert_eq!(
        (r.overdue, r.reminders, r.retries, r.suspended),
        (1, 1, 0, 0)
    );
    let again = at(&mut e.ws, "2027-01-16T18:00:00Z");
    assert_eq!((again.reminders, again.suspended), (0, 0), "each step once");
    let r = at(&mut e.ws, "2027-01-26T09:00:00Z");
    // day 11: the day-7 reminder, no retry (no stored card), suspension after 10 days
    assert_eq!((r.reminders, r.retries, r.suspended), (1, 0, 1));
    let rows = dunning::list(&e.ws, false).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].stage, "suspended");
    assert_eq!(rows[0].done, vec!["reminder:1", "reminder:7", "suspend"]);
    // as the Dunning screen shows it: the balance written by the core, days past the due date
    let views = dunning::list_views(&e.ws, false).unwrap();
    assert_eq!(
        (views[0].balance.as_str(), views[0].days_overdue),
        (jan_total.as_str(), 11)
    );
    assert_eq!(
        hostdesk_app::subscriptions::show(&e.ws, p.subscription_id)
            .unwrap()
            .state,
        "suspended"
    );
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM jobs WHERE kind = 'site.suspend'"
        ),
        1
    );
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM outbox WHERE kind = 'payment_reminder'"
        ),
        2
    );
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM outbox WHERE kind = 'site_suspended'"
        ),
        1
    );

    // Paying lifts it: the site comes back, the subscription is active, dunning is settled.
    invoices::record_payment(&mut e.ws, &jan, &jan_total, "VIR-J").unwrap();
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM jobs WHERE kind = 'site.unsuspend'"
        ),
        1
    );
    assert_eq!(
        hostdesk_app::subscriptions::show(&e.ws, p.subscription_id)
            .unwrap()
            .state,
        "active"
    );
    assert!(dunning::list(&e.ws, false).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_whose_reply_is_lost_is_retried_without_charging_twice() {
    let fake = FakeAuthnet::start().await;
    let smtp = RealSmtp::start();
    let mut e = env_at(None);
    add_sandbox(&mut e);
    smtp_to(&mut e, &smtp);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    authnet_for(&mut e, &fake, c).await;
    assert_eq!(
        fake.profiles().len(),
        1,
        "the card is stored at the gateway (CIM)"
    );

    let p = orders::place(&mut e.ws, &request(c, "lumiere", "stored")).unwrap();
    // The gateway charges, then the reply is lost: the job cannot know whether it was charged.
    fake.fail_next("createTransactionRequest", 1, Fault::DropReply);
    let report = drain(&e).await;
    assert_eq!(report.dead, 0, "{report:?}");
    assert!(
        report.retried >= 1,
        "the lost reply was retried: {report:?}"
    );
    assert_eq!(
        fake.count_transactions("authCaptureTransaction"),
        1,
        "charged once"
    );
    let inv = invoices::show(&e.ws, &p.invoice.unwrap().number).unwrap();
    assert_eq!(inv.view.invoice.status, "paid");
    assert_eq!(
        inv.payments.len(),
        1,
        "one payment row across both attempts"
    );
    assert_eq!(inv.payments[0].state, "succeeded");
    assert_eq!(
        orders::show(&e.ws, p.order_id).unwrap().order.state,
        "provisioning"
    );
    // The key never reaches SQLite, the card number never reaches Hostdesk.
    let bytes = std::fs::read(&e.path).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    assert!(!hay.contains(&fake.transaction_key()));
    assert!(!hay.contains(hostdesk_testkit::authnet::VISA));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_package_creates_a_group_on_the_shared_site_instead_of_a_site() {
    let smtp = RealSmtp::start();
    let mut e = env_at(None);
    add_sandbox(&mut e);
    smtp_to(&mut e, &smtp);
    // The reseller's shared demo site, provisioned like any other.
    let owner = client(&mut e.ws, "demo-owner@atrium.test", 1);
    orders::set_activation(&mut e.ws, "atrium", "immediate").unwrap();
    orders::place(&mut e.ws, &request(owner, "demo", "later")).unwrap();
    drain(&e).await;
    let shared = "demo.sites.test";
    catalog::add_product(
        &mut e.ws,
        &ProductDraft {
            code: "atrium-demo".into(),
            name: "Open Atrium demo group".into(),
            kind: Some("site".parse().unwrap()),
            profile: "openatrium".into(),
            prices: vec![price("EUR", "0.00")],
            ..Default::default()
        },
    )
    .unwrap();
    let err =
        orders::set_shared_site(&mut e.ws, "atrium-demo", Some("nowhere.sites.test")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    orders::set_shared_site(&mut e.ws, "atrium-demo", Some(shared)).unwrap();

    let c = client(&mut e.ws, "prospect@lumiere.test", 1);
    let p = orders::place(
        &mut e.ws,
        &OrderRequest {
            client_id: c,
            product: Some("atrium-demo".into()),
            pay: Some("later".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.quote.domain, shared);
    assert!(p.invoice.is_none(), "a free demo issues no invoice");
    assert_eq!(p.state, "provisioning", "nothing to pay: it starts at once");
    drain(&e).await;
    let v = orders::show(&e.ws, p.order_id).unwrap();
    assert_eq!(v.progress, "completed", "{:?}", v.jobs);
    let kinds: Vec<&str> = v.jobs.iter().map(|j| j.kind.as_str()).collect();
    assert_eq!(kinds, vec!["site.create_user", "mail.send"]);
    assert_eq!(
        count(&e.ws, "SELECT count(*) FROM sandbox_sites"),
        1,
        "no new site"
    );
    let users: String =
        e.ws.conn()
            .query_row(
                "SELECT users FROM sandbox_sites WHERE name = ?1",
                [shared],
                |r| r.get(0),
            )
            .unwrap();
    let users: Vec<Value> = serde_json::from_str(&users).unwrap();
    let prospect = users
        .iter()
        .find(|u| u["email"] == "prospect@lumiere.test")
        .expect("the prospect's account on the shared site");
    assert_eq!(prospect["role"], "demo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_domain_is_checked_free_on_the_server_before_the_order() {
    let mut e = env_at(None);
    add_sandbox(&mut e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    // A site the server has that Hostdesk does not know (made by hand on the server).
    e.ws.conn()
        .execute(
            "INSERT INTO sandbox_sites (name, profile, status, created_at, updated_at)
             VALUES ('taken.sites.test', 'openatrium', 'enabled', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    let probe = orders::domain_probe(&e.ws, &*e.secrets, &request(c, "taken", "manual")).unwrap();
    let err = probe.check().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(
        err.message.contains("already exists on server sandbox"),
        "{}",
        err.message
    );
    let probe = orders::domain_probe(&e.ws, &*e.secrets, &request(c, "free", "manual")).unwrap();
    let ok = probe.check().await.unwrap();
    assert_eq!(
        (ok.domain.as_str(), ok.free),
        ("free.sites.test", Some(true))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dunning_retry_charges_the_stored_card_once_and_settles_the_invoice() {
    let ls = LocalStripe::start();
    let smtp = RealSmtp::start();
    let mut e = env_at(None);
    add_sandbox(&mut e);
    smtp_to(&mut e, &smtp);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    stripe_for(&mut e, &ls, c, "4242424242424242").await;
    // Placed with a bank transfer in mind, which never came.
    let p = orders::place(&mut e.ws, &request(c, "lumiere", "manual")).unwrap();
    let number = p.invoice.unwrap().number;
    let due = invoices::find(&e.ws, &number).unwrap().due_on.unwrap();
    let due = chrono::NaiveDate::parse_from_str(&due, "%Y-%m-%d").unwrap();
    let day3 = format!("{}T12:00:00Z", due + chrono::Duration::days(3));
    e.ws.set_clock(Clock::fixed(&day3).unwrap());
    let r = dunning::run(&mut e.ws).unwrap();
    assert_eq!((r.reminders, r.retries), (1, 1), "{r:?}");
    // A second sweep the same day queues nothing new.
    let again = dunning::run(&mut e.ws).unwrap();
    assert_eq!((again.reminders, again.retries), (0, 0));
    drain_at(&e, Clock::fixed(&day3).unwrap()).await;
    let inv = invoices::show(&e.ws, &number).unwrap();
    assert_eq!(inv.view.invoice.status, "paid");
    assert_eq!(inv.payments.len(), 1);
    let row = dunning::list(&e.ws, true).unwrap();
    assert_eq!(row[0].stage, "settled");
    // Paid: the order's chain ran.
    assert_eq!(
        orders::show(&e.ws, p.order_id).unwrap().progress,
        "completed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_sandbox_workspace_without_smtp_the_welcome_mail_is_kept_in_the_outbox_as_sent() {
    let mut e = env_at(None);
    add_sandbox(&mut e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    orders::set_activation(&mut e.ws, "atrium", "immediate").unwrap();
    let p = orders::place(&mut e.ws, &request(c, "lumiere", "later")).unwrap();
    let report = drain(&e).await;
    assert_eq!(report.dead, 0, "{report:?}");
    let v = orders::show(&e.ws, p.order_id).unwrap();
    assert_eq!(v.progress, "completed", "{:?}", v.jobs);
    let mail = v.jobs.iter().find(|j| j.kind == "mail.send").unwrap();
    assert_eq!(mail.result["simulated"], true);
    assert_eq!(
        count(
            &e.ws,
            "SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = 'welcome'"
        ),
        1
    );
}

/// A credit note with a refund gives the credited amount back to the card that paid: all of a
/// charge not settled yet is voided; after settlement, part of a charge is refunded, and a lost
/// reply is retried without refunding twice. Nothing goes to the client's credit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credit_note_refunds_the_card_once_even_when_the_reply_is_lost() {
    let fake = FakeAuthnet::start().await;
    let mut e = env_at(None);
    add_sandbox(&mut e);
    let c = client(&mut e.ws, "owner@lumiere.test", 1);
    authnet_for(&mut e, &fake, c).await;
    let p1 = orders::place(&mut e.ws, &request(c, "lumiere", "stored")).unwrap();
    let p2 = orders::place(&mut e.ws, &request(c, "atelier", "stored")).unwrap();
    assert_eq!(drain(&e).await.dead, 0);
    let (n1, n2) = (p1.invoice.unwrap().number, p2.invoice.unwrap().number);
    for n in [&n1, &n2] {
        assert_eq!(
            invoices::show(&e.ws, n).unwrap().view.invoice.status,
            "paid"
        );
    }

    // Before the nightly settlement: all of the first charge back, which voids it.
    let issued = invoices::credit_note(&mut e.ws, &n1, "order cancelled", &[], true).unwrap();
    assert_eq!(issued.settlement.refunds.len(), 1);
    assert_eq!(issued.settlement.to_credit, "0.00");
    assert_eq!(drain(&e).await.dead, 0);
    let d1 = invoices::show(&e.ws, &n1).unwrap();
    assert_eq!(d1.refunds.len(), 1);
    assert_eq!(d1.refunds[0].state, "succeeded");
    assert_eq!(d1.refunds[0].amount_minor, d1.view.invoice.total_minor);
    let charge1 = d1.payments[0].gateway_ref.clone().unwrap();
    assert_eq!(fake.transaction(&charge1).unwrap().status, "voided");
    assert_eq!(d1.refunds[0].gateway_ref.as_deref(), Some(charge1.as_str()));

    // Settled: part of the second charge, the refund's reply lost once.
    fake.settle_all();
    let key = invoices::show(&e.ws, &n2).unwrap().lines[0].key.clone();
    let issued = invoices::credit_note(
        &mut e.ws,
        &n2,
        "goodwill",
        &[invoices::CreditLineRequest {
            line_key: key,
            amount: Some("2.00".into()),
        }],
        true,
    )
    .unwrap();
    assert_eq!(issued.settlement.refunds[0].amount, "2.40");
    fake.fail_next("createTransactionRequest", 1, Fault::DropReply);
    let report = drain(&e).await;
    assert_eq!(report.dead, 0, "{report:?}");
    assert!(
        report.retried >= 1,
        "the lost reply was retried: {report:?}"
    );
    assert_eq!(
        fake.count_transactions("refundTransaction"),
        1,
        "refunded once"
    );
    let d2 = invoices::show(&e.ws, &n2).unwrap();
    assert_eq!(
        (
            d2.refunds.len(),
            d2.refunds[0].state.as_str(),
            d2.refunds[0].amount_minor
        ),
        (1, "succeeded", 240)
    );
    assert_eq!(
        hostdesk_app::store::invoices::credit_balance(e.ws.conn(), c, "EUR").unwrap(),
        0
    );
}
