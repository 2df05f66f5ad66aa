#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
//! Domains through the real queue (`build_runner`): registration against the faithful Namecheap
//! fake (taken after payment: credited back; a lost reply: found, not paid twice), the zone on a
//! REAL PowerDNS (`apt install pdns-server pdns-backend-sqlite3`), an owned domain verified
//! through that PowerDNS before its site is created, renewals, and the expiring-soon list.
//! Alone: `cargo test -p hostdesk-app --test domains`.

mod common;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hostdesk_app::billing::invoices;
use hostdesk_app::core::catalog::{
    ChoiceDraft, DomainMode, OptionDraft, PriceDraft, ProductDraft, SslLevel,
};
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::domains::{self, DnsSettings, RegistrantContact, RegistrarSettings};
use hostdesk_app::orders::{self, OrderRequest};
use hostdesk_app::provisioning::ServerOptions;
use hostdesk_app::remote::dns::{PowerDns, PowerDnsConfig, RecordSet, Resolver};
use hostdesk_app::runner::RunReport;
use hostdesk_app::secrets::{MemoryStore, Secret};
use hostdesk_app::servers::{self, ServerDraft};
use hostdesk_app::{catalog, clients, settings, Clock, Workspace};
use hostdesk_testkit::{FakeNamecheap, Fault, PebbleOptions, RealCaddy, RealPebble, RealPowerDns};

struct Env {
    _dir: tempfile::TempDir,
    path: PathBuf,
    ws: Workspace,
    secrets: Arc<MemoryStore>,
    registrar: FakeNamecheap,
    pdns: RealPowerDns,
    client: i64,
}

fn price(amount: &str) -> PriceDraft {
    PriceDraft {
        currency: "EUR".into(),
        period: None,
        amount: amount.into(),
    }
}

async fn env() -> Env {
    env_with(Clock::System).await
}

async fn env_with(clock: Clock) -> Env {
    let pdns = RealPowerDns::require();
    let registrar = FakeNamecheap::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("domains.db");
    let mut ws = Workspace::open(&path, clock).unwrap();
    settings::set(&mut ws, "seller_country", "FR").unwrap();
    settings::set(&mut ws, "seller_name", "Atrium Hosting SAS").unwrap();
    catalog::add_product(
        &mut ws,
        &ProductDraft {
            code: "site".into(),
            name: "Drupal site".into(),
            kind: Some("site".parse().unwrap()),
            profile: "standard".into(),
            platform: "drupal7".into(),
            prices: vec![price("20.00")],
            ..Default::default()
        },
    )
    .unwrap();
    let dom = |code: &str, mode: DomainMode, p: &str| ChoiceDraft {
        code: code.into(),
        name: code.into(),
        domain_mode: Some(mode),
        prices: vec![price(p)],
        ..Default::default()
    };
    catalog::add_option(
        &mut ws,
        &OptionDraft {
            product_code: "site".into(),
            code: "domain".into(),
            name: "Domain".into(),
            choices: vec![
                dom("subdomain", DomainMode::Subdomain, "0.00"),
                dom("owned", DomainMode::Owned, "0.00"),
                dom("registered", DomainMode::Registered, "3.10"),
            ],
        },
    )
    .unwrap();
    let ssl = |code: &str, level: SslLevel| ChoiceDraft {
        code: code.into(),
        name: code.into(),
        ssl: Some(level),
        prices: vec![price("0.00")],
        ..Default::default()
    };
    catalog::add_option(
        &mut ws,
        &OptionDraft {
            product_code: "site".into(),
            code: "ssl".into(),
            name: "Security".into(),
            choices: vec![
                ssl("auto", SslLevel::Automatic),
                ssl("none", SslLevel::None),
            ],
        },
    )
    .unwrap();
    let secrets = Arc::new(MemoryStore::new());
    servers::add(
        &mut ws,
        &*secrets,
        &ServerDraft {
            name: "sandbox".into(),
            kind: "sandbox".into(),
            master_domain: "sites.test".into(),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    domains::set_registrar(
        &mut ws,
        &*secrets,
        &RegistrarSettings {
            kind: None,
            endpoint: Some(registrar.endpoint()),
            api_user: registrar.api_user(),
            client_ip: registrar.client_ip(),
            contact: Some(RegistrantContact {
                first_name: "Camille".into(),
                last_name: "Martin".into(),
                organization: "Atrium Hosting SAS".into(),
                address1: "3 quai Saint-Antoine".into(),
                city: "Lyon".into(),
                state_province: "Rhône".into(),
                postal_code: "69002".into(),
                country: "FR".into(),
                phone: "+33.478000000".into(),
                email: "domains@atrium.test".into(),
            }),
        },
        Some(Secret::new(registrar.api_key())),
    )
    .unwrap();
    domains::set_dns(
        &mut ws,
        &*secrets,
        &DnsSettings {
            api_url: Some(pdns.api_url()),
            nameservers: vec!["ns1.atrium.test".into(), "ns2.atrium.test".into()],
            default_ip: Some("203.0.113.10".into()),
            resolver: Some(pdns.dns_addr().to_string()),
        },
        Some(Secret::new(pdns.api_key())),
    )
    .unwrap();
    let client = clients::add(
        &mut ws,
        &ClientDraft {
            name: "Lumière SARL".into(),
            email: "compta@lumiere.test".into(),
            country: "FR".into(),
            currency: "EUR".into(),
            timezone: "Europe/Paris".into(),
            billing_day: Some(1),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    Env {
        _dir: dir,
        path,
        ws,
        secrets,
        registrar,
        pdns,
        client,
    }
}

fn order(client: i64, domain: &str, mode: &str) -> OrderRequest {
    OrderRequest {
        client_id: client,
        product: Some("site".into()),
        options: vec![format!("domain={mode}"), "ssl=auto".into()],
        domain: domain.into(),
        pay: Some("manual".into()),
        ..Default::default()
    }
}

async fn drain(e: &Env, wait_for_retries: bool) -> RunReport {
    common::drain(&e.path, e.ws.clock(), e.secrets.clone(), wait_for_retries).await
}

/// Places the order and pays its invoice by transfer: the chain starts.
fn place_and_pay(e: &mut Env, req: &OrderRequest) -> orders::PlacedOrder {
    let placed = orders::place(&mut e.ws, req).unwrap();
    let inv = placed.invoice.as_ref().unwrap();
    invoices::record_payment(&mut e.ws, &inv.invoice_id.to_string(), &inv.total, "TRF-1").unwrap();
    placed
}

fn job_states(ws: &Workspace, order_id: i64) -> Vec<(String, String)> {
    orders::show(ws, order_id)
        .unwrap()
        .jobs
        .into_iter()
        .map(|j| (j.kind, j.state))
        .collect()
}

/// Every job of the order succeeded but the welcome mail (no SMTP server in these tests).
fn all_but_mail_succeeded(ws: &Workspace, order_id: i64) {
    let states = job_states(ws, order_id);
    assert!(
        states
            .iter()
            .all(|(k, s)| k == "mail.send" || s == "succeeded"),
        "{states:?}"
    );
}

#[tokio::test]
async fn a_registered_domain_is_registered_zoned_then_served() {
    let mut e = env().await;
    let q = orders::quote(&e.ws, &order(e.client, "lumiere.com", "registered")).unwrap();
    assert_eq!(q.domain, "lumiere.com");
    // The subdomain option refuses nothing; the registered one needs a registrable name.
    let e1 = orders::quote(&e.ws, &order(e.client, "shop.sites.test", "registered")).unwrap_err();
    assert_eq!(e1.fields[0].field, "domain", "{e1:?}");

    let client = e.client;
    let placed = place_and_pay(&mut e, &order(client, "lumiere.com", "registered"));
    let d = domains::show(&e.ws, "lumiere.com").unwrap().domain;
    assert_eq!(
        (d.mode.as_str(), d.state.as_str()),
        ("registered", "pending")
    );
    assert!(d.refund_minor > 0 && d.refund_minor <= 310, "{d:?}");

    drain(&e, true).await;
    all_but_mail_succeeded(&e.ws, placed.order_id);
    let kinds: Vec<String> = job_states(&e.ws, placed.order_id)
        .into_iter()
        .map(|j| j.0)
        .collect();
    let pos = |k: &str| kinds.iter().position(|x| x == k).unwrap();
    assert!(
        pos("domain.register") < pos("dns.zone") && pos("dns.zone") < pos("site.create"),
        "{kinds:?}"
    );
    assert!(pos("ssl.set") > pos("site.create"));

    let d = domains::show(&e.ws, "lumiere.com").unwrap();
    assert_eq!(d.domain.state, "active");
    assert!(d.domain.registrar_id.is_some());
    assert_eq!(d.domain.expires_on.as_deref(), Some("2027-11-22"));
    assert_eq!(d.domain.cost_minor, Some(1088));
    assert_eq!(d.domain.dns_zone.as_deref(), Some("lumiere.com."));
    let cert = d.certificate.unwrap();
    assert_eq!(
        (cert.level.as_str(), cert.state.as_str()),
        ("automatic", "active")
    );
    assert!(cert.not_after.is_some());

    // At the registrar: the client as organization, our name servers.
    let held = e.registrar.domain("lumiere.com").unwrap();
    assert_eq!(held.registrant_email, "compta@lumiere.test");
    assert_eq!(held.nameservers, vec!["ns1.atrium.test", "ns2.atrium.test"]);
    assert_eq!(held.charges, vec![1088]);
    // On the DNS server: the zone answers.
    let dns = Resolver::Server(e.pdns.dns_addr());
    assert_eq!(
        dns.ipv4("lumiere.com").await.unwrap(),
        vec![Ipv4Addr::new(203, 0, 113, 10)]
    );
    assert_eq!(
        dns.ipv4("www.lumiere.com").await.unwrap(),
        vec![Ipv4Addr::new(203, 0, 113, 10)]
    );

    // Expiring soon: the domain within 400 days (not within 30).
    let today = e.ws.clock().now().date_naive();
    let soon = domains::expiring(e.ws.conn(), today, 400).unwrap();
    assert!(
        soon.iter()
            .any(|x| x.kind == "domain" && x.name == "lumiere.com" && x.renews),
        "{soon:?}"
    );
    assert!(
        soon.iter()
            .any(|x| x.kind == "certificate" && x.name == "lumiere.com"),
        "{soon:?}"
    );
    assert!(domains::expiring(e.ws.conn(), today, 30)
        .unwrap()
        .iter()
        .all(|x| x.kind != "domain"));
}

/// The order names the registration term: the registrar registers for those years and the
/// expiry follows; a term on a subdomain, or beyond 10 years, is refused next to the field.
#[tokio::test]
async fn a_registered_domain_is_registered_for_the_years_ordered() {
    let mut e = env().await;
    let client = e.client;
    let with_years = |domain: &str, mode: &str, years: u32| OrderRequest {
        domain_years: Some(years),
        ..order(client, domain, mode)
    };
    let err = orders::quote(&e.ws, &with_years("shop", "subdomain", 2)).unwrap_err();
    assert_eq!(err.fields[0].field, "domainYears", "{err:?}");
    let err = orders::quote(&e.ws, &with_years("lumiere.fr", "registered", 11)).unwrap_err();
    assert_eq!(err.fields[0].field, "domainYears", "{err:?}");

    let placed = place_and_pay(&mut e, &with_years("lumiere.fr", "registered", 3));
    drain(&e, true).await;
    all_but_mail_succeeded(&e.ws, placed.order_id);
    let held = e.registrar.domain("lumiere.fr").unwrap();
    assert_eq!((held.years, held.expires.as_str()), (3, "2029-11-22"));
    let d = domains::show(&e.ws, "lumiere.fr").unwrap().domain;
    assert_eq!(d.years, 3);
    assert_eq!(d.expires_on.as_deref(), Some("2029-11-22"));
}

#[tokio::test]
async fn a_name_taken_after_payment_is_credited_back_once() {
    let mut e = env().await;
    e.registrar.take("taken.com");
    let client = e.client;
    let placed = place_and_pay(&mut e, &order(client, "taken.com", "registered"));
    let r = drain(&e, true).await;
    assert_eq!(r.dead, 1);
    let d = domains::show(&e.ws, "taken.com").unwrap().domain;
    assert_eq!(d.state, "failed");
    let number = d.credit_note.clone().unwrap();
    let detail = invoices::show(
        &e.ws,
        &placed.invoice.as_ref().unwrap().invoice_id.to_string(),
    )
    .unwrap();
    let notes = &detail.credit_notes;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].number, number);
    assert_eq!(-notes[0].net_minor, d.refund_minor);
    assert!(notes[0].reason.contains("taken.com"));
    // Nothing was registered, the site waits (its prerequisite is dead), nothing was paid.
    assert!(e.registrar.domain("taken.com").is_none());
    assert_eq!(e.registrar.balance_cents(), 10_000);
    let states = job_states(&e.ws, placed.order_id);
    assert!(
        states.contains(&("domain.register".into(), "dead".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("site.create".into(), "queued".into())),
        "{states:?}"
    );
    assert_eq!(
        orders::show(&e.ws, placed.order_id).unwrap().progress,
        "failed"
    );

    // Staff retry it: still taken, no second credit note.
    let job = orders::show(&e.ws, placed.order_id)
        .unwrap()
        .jobs
        .into_iter()
        .find(|j| j.kind == "domain.register")
        .unwrap();
    hostdesk_app::jobs::retry(&mut e.ws, job.id).unwrap();
    drain(&e, true).await;
    let detail = invoices::show(
        &e.ws,
        &placed.invoice.as_ref().unwrap().invoice_id.to_string(),
    )
    .unwrap();
    assert_eq!(detail.credit_notes.len(), 1);
}

#[tokio::test]
async fn a_lost_reply_is_retried_and_found_not_paid_twice() {
    let mut e = env().await;
    e.registrar
        .fail_next("namecheap.domains.create", 1, Fault::DropReply);
    e.registrar
        .fail_next("namecheap.domains.check", 1, Fault::Status(503));
    let client = e.client;
    let placed = place_and_pay(&mut e, &order(client, "atelier.fr", "registered"));
    let r = drain(&e, true).await;
    all_but_mail_succeeded(&e.ws, placed.order_id);
    assert!(r.retried >= 2);
    let held = e.registrar.domain("atelier.fr").unwrap();
    assert_eq!(held.charges.len(), 1, "registered and paid once");
    assert_eq!(e.registrar.count("namecheap.domains.create"), 1);
    let d = domains::show(&e.ws, "atelier.fr").unwrap().domain;
    assert_eq!(d.state, "active");
    assert_eq!(d.registrar_id, Some(held.id.to_string()));
    assert!(d.credit_note.is_none());
}

#[tokio::test]
async fn an_owned_domain_waits_for_its_records() {
    let mut e = env().await;
    let client = e.client;
    let placed = place_and_pay(&mut e, &order(client, "client-owned.test", "owned"));
    let shown = domains::show(&e.ws, "client-owned.test").unwrap();
    assert_eq!(shown.records[0].rtype, "A");
    assert_eq!(shown.records[0].value, "203.0.113.10");
    // The client has not set the records: the site is not created.
    drain(&e, false).await;
    let states = job_states(&e.ws, placed.order_id);
    assert!(
        states.contains(&("domain.verify".into(), "failed".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("site.create".into(), "queued".into())),
        "{states:?}"
    );
    let d = domains::show(&e.ws, "client-owned.test").unwrap().domain;
    assert_eq!(d.state, "verifying");
    assert!(d.error.unwrap().contains("does not resolve"));

    // The client's DNS host (here the real PowerDNS) gets the record.
    let mut c = PowerDnsConfig::new(&e.pdns.api_url(), Secret::new(e.pdns.api_key())).unwrap();
    c.http = hostdesk_testkit::drivers::test_http();
    PowerDns::new(c)
        .unwrap()
        .ensure_zone(
            "client-owned.test",
            &["ns1.elsewhere.test".into(), "ns2.elsewhere.test".into()],
            &[RecordSet::new(
                "client-owned.test",
                "A",
                60,
                &["203.0.113.10"],
            )],
        )
        .await
        .unwrap();
    let v = domains::verify_probe(&e.ws, "client-owned.test")
        .unwrap()
        .run()
        .await
        .unwrap();
    assert!(v.verified, "{v:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    drain(&e, true).await;
    all_but_mail_succeeded(&e.ws, placed.order_id);
    let d = domains::show(&e.ws, "client-owned.test").unwrap().domain;
    assert_eq!(d.state, "active");
    assert!(d.verified_at.is_some());
}

#[tokio::test]
async fn renewals_are_queued_once_before_the_expiry() {
    let mut e = env_with(Clock::fixed("2027-11-01T09:00:00Z").unwrap()).await;
    e.registrar.add_domain("renewme.com", "2027-11-20");
    e.registrar.add_domain("later.com", "2028-06-01");
    for name in ["renewme.com", "later.com"] {
        let q = domains::register_domain(
            &mut e.ws,
            &domains::RegisterRequest {
                domain: name.into(),
                years: 1,
                client_id: e.client,
                subscription_id: None,
                zone: false,
            },
        )
        .unwrap();
        assert_eq!(q.jobs.len(), 1);
    }
    drain(&e, false).await;
    // Found in the account (registered earlier): recorded, not registered again.
    let d = domains::show(&e.ws, "renewme.com").unwrap().domain;
    assert_eq!(
        (d.state.as_str(), d.expires_on.as_deref()),
        ("active", Some("2027-11-20"))
    );
    assert!(e
        .registrar
        .domain("renewme.com")
        .unwrap()
        .charges
        .is_empty());

    let queued = domains::renew_due(&mut e.ws).unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        domains::renew_due(&mut e.ws).unwrap(),
        queued,
        "the same job, not a second"
    );
    drain(&e, false).await;
    let d = domains::show(&e.ws, "renewme.com").unwrap().domain;
    assert_eq!(d.expires_on.as_deref(), Some("2028-11-20"));
    assert_eq!(
        e.registrar.domain("renewme.com").unwrap().charges,
        vec![1088]
    );
    assert!(domains::renew_due(&mut e.ws).unwrap().is_empty());

    let soon = domains::expiring_soon(&e.ws, 60).unwrap();
    assert!(soon.is_empty(), "{soon:?}");
    let year = domains::expiring_soon(&e.ws, 400).unwrap();
    let names: Vec<&str> = year.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, vec!["later.com", "renewme.com"]);
}

/// An automatic certificate end to end through the queue: the order's `ssl.set` job gives the
/// site an ACME policy on a REAL Caddy, a REAL pebble issues the certificate (validating
/// through the REAL PowerDNS and Caddy's loopback ports), and `ssl.check` reads it from Caddy's
/// TLS handshake. Later, a certificate that is about to end unrenewed fails its check: a dead
/// job staff see.
#[tokio::test]
async fn an_automatic_certificate_from_pebble_is_checked_and_a_late_renewal_shows() {
    let mut e = env().await;
    let caddy = RealCaddy::start_https().unwrap_or_else(|x| panic!("{x}"));
    let mut c = PowerDnsConfig::new(&e.pdns.api_url(), Secret::new(e.pdns.api_key())).unwrap();
    c.http = hostdesk_testkit::drivers::test_http();
    PowerDns::new(c)
        .unwrap()
        .ensure_zone(
            "edge.test",
            &["ns1.atrium.test".into(), "ns2.atrium.test".into()],
            &[RecordSet::new("shop.edge.test", "A", 60, &["127.0.0.1"])],
        )
        .await
        .unwrap();
    let pebble = RealPebble::require(&PebbleOptions {
        always_valid: false,
        dns_server: Some(e.pdns.dns_addr()),
        http_port: caddy.http_port(),
        tls_port: caddy.https_port().unwrap(),
    });
    let root_file = caddy.dir().join("pebble-root.pem");
    std::fs::write(&root_file, pebble.issuing_root_pem().await.unwrap()).unwrap();
    domains::set_acme(
        &mut e.ws,
        &domains::AcmeSettings {
            ca: Some(pebble.directory_url()),
            email: Some("hostmaster@atrium.test".into()),
            trusted_roots: vec![pebble.https_ca_path().to_str().unwrap().into()],
            check_roots: Some(root_file.to_str().unwrap().into()),
        },
    )
    .unwrap();
    let sites = caddy.site_dir("all");
    std::fs::create_dir_all(sites.join("shop.edge.test")).unwrap();
    std::fs::write(sites.join("shop.edge.test/index.html"), "shop\n").unwrap();
    let server = servers::add(
        &mut e.ws,
        &*e.secrets,
        &ServerDraft {
            name: "edge".into(),
            kind: "caddy".into(),
            base_url: caddy.admin_url(),
            master_domain: "edge.test".into(),
            options: ServerOptions {
                sites_root: Some(sites.to_str().unwrap().into()),
                ..Default::default()
            },
            ..Default::default()
        },
        None,
    )
    .unwrap();
    // Where the site answers HTTPS (what `publicIp` / `httpsPort` tell the check).
    e.ws.conn()
        .execute(
            "UPDATE servers SET options = json_set(options, '$.publicIp', '127.0.0.1', '$.httpsPort', ?1) WHERE id = ?2",
            (i64::from(caddy.https_port().unwrap()), server),
        )
        .unwrap();
    let client = e.client;
    let mut req = order(client, "shop", "subdomain");
    req.server = Some("edge".into());
    let placed = place_and_pay(&mut e, &req);
    drain(&e, true).await;
    all_but_mail_succeeded(&e.ws, placed.order_id);
    let site = placed.site_id.unwrap();

    // The certificate is obtained in the background: check until Caddy serves it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let cert = loop {
        domains::check_certificate(&mut e.ws, site).unwrap();
        drain(&e, false).await;
        let cert = domains::for_site(&e.ws, site).unwrap().certificate.unwrap();
        if cert.state == "active" && cert.issuer.is_some() {
            break cert;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{cert:?}\n{}",
            caddy.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        cert.issuer.as_deref().unwrap().contains("Pebble"),
        "{cert:?}"
    );
    let not_after = cert.not_after.clone().unwrap();

    // Ten days before that expiry, still the same certificate: the renewal did not happen.
    let late =
        chrono::DateTime::parse_from_rfc3339(&not_after).unwrap() - chrono::Duration::days(10);
    e.ws.set_clock(Clock::fixed(&late.to_rfc3339()).unwrap());
    let job = domains::check_certificate(&mut e.ws, site).unwrap();
    let r = drain(&e, false).await;
    assert_eq!(r.dead, 1);
    let detail = hostdesk_app::jobs::show(&e.ws, job).unwrap();
    assert_eq!(detail.job.state, "dead");
    assert!(detail
        .job
        .last_error
        .unwrap_or_default()
        .contains("was not renewed"));
    let cert = domains::for_site(&e.ws, site).unwrap().certificate.unwrap();
    assert_eq!(cert.state, "failed");
    let soon = domains::expiring_soon(&e.ws, 30).unwrap();
    assert!(
        soon.iter()
            .any(|x| x.kind == "certificate" && x.name == "shop.edge.test"),
        "{soon:?}"
    );
}
