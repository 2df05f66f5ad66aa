//! Domains, DNS and certificates.
//!
//! - **Domains**: an order's site answers on a subdomain of the server's master domain, on a
//!   domain the client owns (the records to set are shown, and a `domain.verify` job waits until
//!   they point at the server before the site is created), or on a domain registered for the
//!   client through the registrar (`domain.register`, then `dns.zone` on the reseller's PowerDNS,
//!   both before `site.create`). A registration refused after payment (the name was taken
//!   meanwhile) credits the domain's part of the first invoice back and is never retried; a
//!   failure whose outcome is unknown (a lost reply, a 5xx) is retried, and the retry first asks
//!   the registrar whether the domain is already in the account: never lost, never paid twice.
//!   Renewals are billed with the subscription; `domain.renew` jobs renew at the registrar
//!   before the expiry ([`renew_due`]).
//! - **Certificates**: the subscription's SSL level (none, automatic, bundled) becomes an
//!   `ssl.set` job after `site.create` (Caddy: ACME policy or loaded bundle); `ssl.check` jobs
//!   read the certificate the site serves and fail, visibly, when it nears its expiry without
//!   having been renewed ([`check_certificates`]).
//! - **Secrets** (keyring entries): `registrar:namecheap` (API key), `dns:powerdns` (API key),
//!   `ssl:<domain>` (a bundle's private key). Never in SQLite.
//!
//! [`expiring`] lists registered domains and certificates that end soon (the "expiring soon"
//! view).

mod dns;
mod jobs;
mod register;
mod settings;
mod ssl;

use chrono::{Duration as Days, NaiveDate};
use hostdesk_core::billing::first_charge;
use hostdesk_core::catalog::Period;
use hostdesk_core::Money;
use hostdesk_remote::registrar::{split_domain, Registrar};
use hostdesk_store::catalog as store_catalog;
use hostdesk_store::domains::{
    self as store, Certificate, Domain, DomainFilter, Expiring, NewDomain,
};
use hostdesk_store::servers::{self as store_servers, Server};
use hostdesk_store::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::jobs::{enqueue_in, JobSpec};
use crate::secrets::{Secret, SecretStore};
use crate::{AppError, Ctx, ErrorCode, Result, Workspace};

pub use jobs::{register, DomainJobs};
pub use settings::{
    acme_settings, dns_settings, registrar_settings, set_acme, set_dns, set_registrar,
    AcmeSettings, DnsSettings, DnsSettingsView, RegistrantContact, RegistrarSettings,
    RegistrarSettingsView,
};
pub use ssl::{upload_bundle, BundleUpload};

pub const DOMAIN_REGISTER: &str = "domain.register";
pub const DOMAIN_RENEW: &str = "domain.renew";
pub const DOMAIN_VERIFY: &str = "domain.verify";
pub const DNS_ZONE: &str = "dns.zone";
pub const SSL_SET: &str = "ssl.set";
pub const SSL_CHECK: &str = "ssl.check";

/// Every job kind this module runs.
pub const KINDS: &[&str] = &[
    DOMAIN_REGISTER,
    DOMAIN_RENEW,
    DOMAIN_VERIFY,
    DNS_ZONE,
    SSL_SET,
    SSL_CHECK,
];

/// Days before a registration ends when its renewal is queued.
pub const RENEW_DAYS_BEFORE: i64 = 30;
/// A certificate that ends within this many days was not renewed in time: its check fails.
pub const CERT_RENEWAL_ALARM_DAYS: i64 = 14;

/// The keyring entry of a bundle's private key.
pub fn key_entry(domain: &str) -> String {
    format!("ssl:{domain}")
}

fn today(ws: &Workspace) -> NaiveDate {
    ws.clock().now().date_naive()
}

// ---------------------------------------------------------------------------------------------
// Orders: the domain and SSL choices
// ---------------------------------------------------------------------------------------------

/// What an order's choices say about its domain and certificate.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrderDomain {
    /// subdomain (default), owned or registered.
    pub mode: String,
    /// none, automatic or bundled; `None`: the product has no SSL option.
    pub ssl: Option<String>,
    /// The domain choice's price per period, when it has one in the client's currency.
    pub price: Option<Money>,
}

/// Reads the chosen choices' `domain_mode` and `ssl`.
pub(crate) fn order_domain(
    conn: &Connection,
    product_id: i64,
    choices: &[(i64, i64)],
    currency: &str,
    period: Period,
    at: &str,
) -> Result<OrderDomain> {
    let mut out = OrderDomain {
        mode: "subdomain".into(),
        ..Default::default()
    };
    let options = store_catalog::options_for(conn, Some(product_id), at)?;
    for (_, choice_id) in choices {
        let Some(c) = options
            .iter()
            .flat_map(|o| o.choices.iter())
            .find(|c| c.id == *choice_id)
        else {
            continue;
        };
        if let Some(m) = &c.domain_mode {
            out.mode = m.clone();
            out.price = c
                .prices
                .iter()
                .find(|p| p.currency == currency && p.period == period.as_str())
                .map(|p| crate::billing::money(p.amount_minor, currency))
                .transpose()?;
        }
        if let Some(s) = &c.ssl {
            out.ssl = Some(s.clone());
        }
    }
    Ok(out)
}

/// Refuses a domain that cannot work with the chosen mode: an owned or registered domain must
/// be a full name outside the server's master domain, and a registered one a registrable name.
pub(crate) fn check_order_domain(mode: &str, domain: &str, server: &Server) -> Result<()> {
    let master = server.master_domain.trim().to_lowercase();
    let under_master =
        !master.is_empty() && (domain == master || domain.ends_with(&format!(".{master}")));
    match mode {
        "owned" | "registered" if under_master => Err(AppError::invalid(
            "domain",
            format!(
                "{domain} is under the server's master domain {master}: choose the subdomain option, or give the client's own domain"
            ),
        )),
        "registered" if split_domain(domain).is_none() => Err(AppError::invalid(
            "domain",
            format!("{domain} cannot be registered: give a name and its TLD, e.g. lumiere.fr"),
        )),
        _ => Ok(()),
    }
}

/// Records an order's domain (and its certificate level) in the order's transaction.
/// `ids`: (client, subscription, site, order); `first`: (order date, billing day, period) of
/// the first charge, whose domain part a refused registration credits back; `years`: the
/// registration term of a registered domain.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_order_domain(
    tx: &Connection,
    ctx: &Ctx,
    plan: &OrderDomain,
    domain: &str,
    ids: (i64, i64, i64, i64),
    invoice_id: Option<i64>,
    first: (NaiveDate, u32, Period),
    years: u32,
) -> Result<()> {
    let (client_id, subscription_id, site_id, order_id) = ids;
    let (order_date, billing_day, period) = first;
    if store::find(tx, domain)?.is_none() {
        // The domain's part of the first charge: what a refused registration credits back.
        let refund = match (&plan.price, plan.mode.as_str()) {
            (Some(p), "registered") if p.minor > 0 => {
                first_charge(order_date, billing_day, period, *p)?
                    .amount
                    .minor
            }
            _ => 0,
        };
        let state = if plan.mode == "subdomain" {
            "active"
        } else {
            "pending"
        };
        let registrar = (plan.mode == "registered")
            .then(|| settings::registrar_kind(tx).ok())
            .flatten();
        store::insert(
            tx,
            &NewDomain {
                name: domain,
                mode: &plan.mode,
                client_id: Some(client_id),
                subscription_id: Some(subscription_id),
                site_id: Some(site_id),
                order_id: Some(order_id),
                state,
                registrar: registrar.as_deref(),
                years: i64::from(years),
                invoice_id,
                refund_minor: refund,
                target_ip: None,
            },
            &ctx.at,
        )?;
    }
    if let Some(level) = &plan.ssl {
        store::upsert_certificate(tx, site_id, domain, level, None, &ctx.at)?;
    }
    Ok(())
}

fn job(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    key: String,
    d: &Domain,
    server_id: Option<i64>,
    after: Vec<i64>,
) -> Result<i64> {
    enqueue_in(
        tx,
        ctx,
        &JobSpec {
            kind: kind.into(),
            key,
            server_id,
            subscription_id: d.subscription_id,
            site_id: d.site_id,
            payload: json!({ "domainId": d.id, "domain": d.name }),
            max_attempts: None,
            after,
        },
    )
}

/// The jobs an order's domain needs before its site is created: register + zone, or verify.
/// Called by the order's chain before `site.create` (which waits for the site's jobs).
pub(crate) fn plan_before_site(
    tx: &Connection,
    ctx: &Ctx,
    order_id: i64,
    site_id: i64,
) -> Result<Vec<i64>> {
    let Some(d) = store::for_site(tx, site_id)? else {
        return Ok(Vec::new());
    };
    if d.order_id != Some(order_id) {
        return Ok(Vec::new());
    }
    let mut ids = Vec::new();
    match d.mode.as_str() {
        "registered" => {
            let reg = job(
                tx,
                ctx,
                DOMAIN_REGISTER,
                format!("order:{order_id}:domain.register"),
                &d,
                None,
                Vec::new(),
            )?;
            ids.push(reg);
            ids.push(job(
                tx,
                ctx,
                DNS_ZONE,
                format!("order:{order_id}:dns.zone"),
                &d,
                None,
                vec![reg],
            )?);
        }
        "owned" => {
            ids.push(job(
                tx,
                ctx,
                DOMAIN_VERIFY,
                format!("order:{order_id}:domain.verify"),
                &d,
                None,
                Vec::new(),
            )?);
        }
        _ => {}
    }
    Ok(ids)
}

/// The `ssl.set` job of a site whose subscription bought a certificate, after the site's jobs.
pub(crate) fn plan_ssl(tx: &Connection, ctx: &Ctx, site_id: i64) -> Result<Option<i64>> {
    let Some(cert) = store::certificate_for_site(tx, site_id)? else {
        return Ok(None);
    };
    if cert.level == "none" {
        return Ok(None);
    }
    queue_ssl_set(tx, ctx, &cert).map(Some)
}

fn queue_ssl_set(tx: &Connection, ctx: &Ctx, cert: &Certificate) -> Result<i64> {
    let site = store_servers::get_site(tx, cert.site_id)?;
    let pending: Vec<i64> = store_servers::pending_site_jobs(tx, site.id)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let last = store_servers::last_site_job(tx, site.id)?;
    enqueue_in(
        tx,
        ctx,
        &JobSpec {
            kind: SSL_SET.into(),
            key: format!("site:{}:ssl.set:{}:after:{last}", site.id, cert.level),
            server_id: site.server_id,
            subscription_id: Some(site.subscription_id),
            site_id: Some(site.id),
            payload: json!({ "certificateId": cert.id, "siteId": site.id, "domain": cert.domain, "level": cert.level }),
            max_attempts: None,
            after: pending,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Use cases
// ---------------------------------------------------------------------------------------------

/// A domain with what staff need beside it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DomainDetail {
    pub domain: Domain,
    /// Owned domains: the records the client sets at their DNS host.
    pub records: Vec<RecordToSet>,
    pub certificate: Option<Certificate>,
}

/// A DNS record the client must set for an owned domain.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecordToSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub value: String,
}

pub fn list(
    ws: &Workspace,
    client_id: Option<i64>,
    mode: Option<&str>,
    state: Option<&str>,
) -> Result<Vec<Domain>> {
    if let Some(m) = mode.filter(|m| !store::MODES.contains(m)) {
        return Err(AppError::invalid(
            "mode",
            format!("'{m}' is not one of: {}", store::MODES.join(", ")),
        ));
    }
    if let Some(s) = state.filter(|s| !store::STATES.contains(s)) {
        return Err(AppError::invalid(
            "state",
            format!("'{s}' is not one of: {}", store::STATES.join(", ")),
        ));
    }
    Ok(store::list(
        ws.conn(),
        &DomainFilter {
            client_id,
            mode,
            state,
            limit: 1000,
        },
    )?)
}

fn find(ws: &Workspace, name: &str) -> Result<Domain> {
    store::find(ws.conn(), name)?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("no domain {name}")))
}

/// The IP address a site's domain should point at: the server's `publicIp` option, else the
/// DNS settings' default address.
pub(crate) fn target_ip(conn: &Connection, server: Option<&Server>) -> Result<Option<String>> {
    if let Some(ip) = server
        .and_then(|s| s.options.get("publicIp"))
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        return Ok(Some(ip.to_owned()));
    }
    settings::dns_default_ip(conn)
}

/// The records an owned domain needs: its A record (and `www`) pointing at the server.
pub(crate) fn records_for(conn: &Connection, d: &Domain) -> Result<Vec<RecordToSet>> {
    if d.mode != "owned" {
        return Ok(Vec::new());
    }
    let server = match d.site_id {
        Some(id) => store_servers::get_site(conn, id)?
            .server_id
            .map(|s| store_servers::get(conn, s))
            .transpose()?,
        None => None,
    };
    let ip = match d.target_ip.clone() {
        Some(ip) => Some(ip),
        None => target_ip(conn, server.as_ref())?,
    };
    let value = ip.unwrap_or_else(|| {
        "(the server's address: set dns default-ip or the server's publicIp)".into()
    });
    Ok(vec![
        RecordToSet {
            name: d.name.clone(),
            rtype: "A".into(),
            value,
        },
        RecordToSet {
            name: format!("www.{}", d.name),
            rtype: "CNAME".into(),
            value: format!("{}.", d.name),
        },
    ])
}

pub fn show(ws: &Workspace, name: &str) -> Result<DomainDetail> {
    let domain = find(ws, name)?;
    let records = records_for(ws.conn(), &domain)?;
    let certificate = match domain.site_id {
        Some(s) => store::certificate_for_site(ws.conn(), s)?,
        None => None,
    };
    Ok(DomainDetail {
        domain,
        records,
        certificate,
    })
}

/// The domain and certificate of a site (the site page's panels).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteTls {
    pub site_id: i64,
    pub domain: Option<Domain>,
    pub records: Vec<RecordToSet>,
    pub certificate: Option<Certificate>,
}

pub fn for_site(ws: &Workspace, site_id: i64) -> Result<SiteTls> {
    let domain = store::for_site(ws.conn(), site_id)?;
    let records = match &domain {
        Some(d) => records_for(ws.conn(), d)?,
        None => Vec::new(),
    };
    Ok(SiteTls {
        site_id,
        domain,
        records,
        certificate: store::certificate_for_site(ws.conn(), site_id)?,
    })
}

/// Registered domains and certificates that end within `within_days` of `today`, soonest
/// first (past ones included): the "expiring soon" view.
pub fn expiring(conn: &Connection, today: NaiveDate, within_days: i64) -> Result<Vec<Expiring>> {
    let until = today + Days::days(within_days.clamp(0, 3650));
    Ok(store::expiring(conn, &until.to_string())?)
}

/// [`expiring`] as of the workspace's clock.
pub fn expiring_soon(ws: &Workspace, within_days: i64) -> Result<Vec<Expiring>> {
    expiring(ws.conn(), today(ws), within_days)
}

/// What staff ask to register outside an order.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct RegisterRequest {
    pub domain: String,
    pub years: u32,
    pub client_id: i64,
    /// The subscription whose renewal pays for it (renewed with it).
    pub subscription_id: Option<i64>,
    /// Create its zone on the reseller's DNS server too.
    pub zone: bool,
}

/// A registration queued.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    pub domain: Domain,
    pub jobs: Vec<i64>,
}

/// Queues the registration of a domain for a client (`domain.register`, and `dns.zone`).
pub fn register_domain(ws: &mut Workspace, req: &RegisterRequest) -> Result<Queued> {
    let name =
        hostdesk_core::validate::domain(&req.domain).map_err(|m| AppError::invalid("domain", m))?;
    if split_domain(&name).is_none() {
        return Err(AppError::invalid(
            "domain",
            format!("{name} cannot be registered: give a name and its TLD, e.g. lumiere.fr"),
        ));
    }
    let years = if req.years == 0 { 1 } else { req.years };
    if !(1..=10).contains(&years) {
        return Err(AppError::invalid(
            "years",
            "a registration lasts 1 to 10 years",
        ));
    }
    hostdesk_store::clients::get(ws.conn(), req.client_id)
        .map_err(|_| AppError::invalid("clientId", format!("no client {}", req.client_id)))?;
    if let Some(d) = store::find(ws.conn(), &name)? {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "{name} is already recorded ({} domain, {})",
                d.mode, d.state
            ),
        ));
    }
    let registrar = settings::registrar_kind(ws.conn())?;
    ws.write(|tx, ctx| {
        let id = store::insert(
            tx,
            &NewDomain {
                name: &name,
                mode: "registered",
                client_id: Some(req.client_id),
                subscription_id: req.subscription_id,
                state: "pending",
                registrar: Some(&registrar),
                years: i64::from(years),
                ..Default::default()
            },
            &ctx.at,
        )?;
        let d = store::get(tx, id)?;
        let reg = job(
            tx,
            ctx,
            DOMAIN_REGISTER,
            format!("domain:{id}:register"),
            &d,
            None,
            Vec::new(),
        )?;
        let mut jobs = vec![reg];
        if req.zone {
            jobs.push(job(
                tx,
                ctx,
                DNS_ZONE,
                format!("domain:{id}:dns.zone"),
                &d,
                None,
                vec![reg],
            )?);
        }
        ctx.audit(
            tx,
            "domain",
            Some(id),
            "register",
            None::<&()>,
            Some(&json!({ "domain": name, "years": years })),
        )?;
        Ok(Queued {
            domain: store::get(tx, id)?,
            jobs,
        })
    })
}

/// Queues `domain.renew` for registered domains that end within [`RENEW_DAYS_BEFORE`] days and
/// renew with an active subscription (once per expiry date). Returns the job ids.
pub fn renew_due(ws: &mut Workspace) -> Result<Vec<i64>> {
    let until = (today(ws) + Days::days(RENEW_DAYS_BEFORE)).to_string();
    let due = store::renewals_due(ws.conn(), &until)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    ws.write(|tx, ctx| {
        let mut ids = Vec::new();
        for d in &due {
            let expires = d.expires_on.clone().unwrap_or_default();
            ids.push(job(
                tx,
                ctx,
                DOMAIN_RENEW,
                format!("domain:{}:renew:{expires}", d.id),
                d,
                None,
                Vec::new(),
            )?);
        }
        Ok(ids)
    })
}

/// Queues `ssl.check` for certificates not checked for a day or ending within 30 days (once
/// per certificate and day). Returns the job ids.
pub fn check_certificates(ws: &mut Workspace) -> Result<Vec<i64>> {
    let now = ws.clock().now();
    let before = (now - Days::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let by = (now + Days::days(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let due = store::certificates_to_check(ws.conn(), &before, &by)?;
    let day = today(ws);
    ws.write(|tx, ctx| {
        let mut ids = Vec::new();
        for c in &due {
            let site = store_servers::get_site(tx, c.site_id)?;
            ids.push(enqueue_in(
                tx,
                ctx,
                &JobSpec {
                    kind: SSL_CHECK.into(),
                    key: format!("certificate:{}:check:{day}", c.id),
                    server_id: site.server_id,
                    subscription_id: Some(site.subscription_id),
                    site_id: Some(site.id),
                    payload: json!({ "certificateId": c.id, "siteId": site.id, "domain": c.domain }),
                    max_attempts: Some(4),
                    after: Vec::new(),
                },
            )?);
        }
        Ok(ids)
    })
}

/// Queues a check of one site's certificate now.
pub fn check_certificate(ws: &mut Workspace, site_id: i64) -> Result<i64> {
    let cert = store::certificate_for_site(ws.conn(), site_id)?.ok_or_else(|| {
        AppError::new(
            ErrorCode::NotFound,
            format!("site {site_id} has no certificate level"),
        )
    })?;
    let site = store_servers::get_site(ws.conn(), site_id)?;
    let stamp = ws.clock().stamp_millis();
    ws.write(|tx, ctx| {
        enqueue_in(
            tx,
            ctx,
            &JobSpec {
                kind: SSL_CHECK.into(),
                key: format!("certificate:{}:check:{stamp}", cert.id),
                server_id: site.server_id,
                subscription_id: Some(site.subscription_id),
                site_id: Some(site.id),
                payload: json!({ "certificateId": cert.id, "siteId": site.id, "domain": cert.domain }),
                max_attempts: Some(4),
                after: Vec::new(),
            },
        )
    })
}

/// Sets a site's certificate level and queues `ssl.set` (a bundle is uploaded with
/// [`upload_bundle`]).
pub fn set_ssl_level(ws: &mut Workspace, site_id: i64, level: &str) -> Result<i64> {
    if !["none", "automatic"].contains(&level) {
        return Err(AppError::invalid(
            "level",
            "give none or automatic (a bundle is uploaded with its certificate and key)",
        ));
    }
    let site = store_servers::get_site(ws.conn(), site_id)?;
    ws.write(|tx, ctx| {
        let id = store::upsert_certificate(tx, site.id, &site.domain, level, None, &ctx.at)?;
        let cert = store::certificate(tx, id)?;
        ctx.audit(tx, "site", Some(site.id), "ssl", None::<&()>, Some(&level))?;
        queue_ssl_set(tx, ctx, &cert)
    })
}

/// Whether a name is free at the registrar, with its price.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DomainAvailability {
    pub domain: String,
    pub available: bool,
    pub premium: bool,
    /// What the registrar charges the reseller for the registration (all the years).
    pub price: Option<String>,
    pub currency: Option<String>,
    pub years: u32,
    /// Hostdesk already has this domain.
    pub known: bool,
    pub note: Option<String>,
}

/// What a check needs, read from the workspace first (no lock is held while the registrar
/// answers).
pub struct CheckProbe {
    names: Vec<String>,
    known: Vec<String>,
    years: u32,
    registrar: std::sync::Arc<dyn Registrar>,
}

/// Prepares asking the registrar about these names.
pub fn check_probe(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    names: &[String],
    years: u32,
) -> Result<CheckProbe> {
    let years = if years == 0 { 1 } else { years };
    let mut clean = Vec::new();
    for n in names {
        let d = hostdesk_core::validate::domain(n).map_err(|m| AppError::invalid("domain", m))?;
        if split_domain(&d).is_none() {
            return Err(AppError::invalid(
                "domain",
                format!("{d} cannot be registered: give a name and its TLD, e.g. lumiere.fr"),
            ));
        }
        clean.push(d);
    }
    if clean.is_empty() {
        return Err(AppError::invalid("domain", "give at least one domain"));
    }
    let mut known = Vec::new();
    for d in &clean {
        if store::find(ws.conn(), d)?.is_some() {
            known.push(d.clone());
        }
    }
    let registrar =
        settings::build_registrar(ws.conn(), secrets, &hostdesk_remote::HttpConfig::default())?;
    Ok(CheckProbe {
        names: clean,
        known,
        years,
        registrar,
    })
}

impl CheckProbe {
    pub async fn run(self) -> Result<Vec<DomainAvailability>> {
        let remote = |e: hostdesk_remote::RemoteError| {
            AppError::new(ErrorCode::Remote, format!("registrar: {e}"))
        };
        let found = self.registrar.check(&self.names).await.map_err(remote)?;
        let mut out = Vec::new();
        for a in found {
            let tld = hostdesk_remote::registrar::tld_of(&a.domain);
            let price = if a.available {
                self.registrar
                    .price(&tld, self.years)
                    .await
                    .map_err(remote)?
            } else {
                None
            };
            out.push(DomainAvailability {
                known: self.known.contains(&a.domain),
                available: a.available,
                premium: a.premium,
                price: a
                    .premium_price
                    .clone()
                    .or(price.as_ref().map(|p| p.amount.clone())),
                currency: price.map(|p| p.currency),
                years: self.years,
                note: a.note,
                domain: a.domain,
            });
        }
        Ok(out)
    }
}

/// Checks an owned domain's records now and, when they point at the server, marks it verified.
pub struct VerifyProbe {
    domain: Domain,
    expected: Option<String>,
    resolver: hostdesk_remote::dns::Resolver,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub domain: String,
    pub expected: Option<String>,
    pub found: Vec<String>,
    pub verified: bool,
    pub message: String,
}

pub fn verify_probe(ws: &Workspace, name: &str) -> Result<VerifyProbe> {
    let domain = find(ws, name)?;
    let records = records_for(ws.conn(), &domain)?;
    let expected = records
        .iter()
        .find(|r| r.rtype == "A")
        .map(|r| r.value.clone())
        .filter(|v| v.parse::<std::net::Ipv4Addr>().is_ok());
    Ok(VerifyProbe {
        domain,
        expected,
        resolver: settings::resolver(ws.conn())?,
    })
}

impl VerifyProbe {
    pub async fn run(self) -> Result<Verification> {
        let found = self
            .resolver
            .ipv4(&self.domain.name)
            .await
            .map_err(|e| AppError::new(ErrorCode::Remote, e.to_string()))?;
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        let verified = self.expected.as_ref().is_some_and(|e| found.contains(e));
        let message = dns::verify_message(&self.domain.name, self.expected.as_deref(), &found);
        Ok(Verification {
            domain: self.domain.name,
            expected: self.expected,
            found,
            verified,
            message,
        })
    }
}

/// Records a verification's outcome (an owned domain seen pointing at the server).
pub fn record_verification(ws: &mut Workspace, v: &Verification) -> Result<Domain> {
    let d = find(ws, &v.domain)?;
    ws.write(|tx, ctx| {
        if v.verified {
            store::set_verified(tx, d.id, &ctx.at)?;
        } else {
            store::set_state(
                tx,
                d.id,
                if d.state == "active" {
                    "active"
                } else {
                    "verifying"
                },
                Some(&v.message),
                &ctx.at,
            )?;
        }
        Ok(store::get(tx, d.id)?)
    })
}

/// Turns the renewal on or off.
pub fn set_auto_renew(ws: &mut Workspace, name: &str, on: bool) -> Result<Domain> {
    let d = find(ws, name)?;
    ws.write(|tx, ctx| {
        store::set_auto_renew(tx, d.id, on, &ctx.at)?;
        ctx.audit(
            tx,
            "domain",
            Some(d.id),
            "auto_renew",
            Some(&d.auto_renew),
            Some(&on),
        )?;
        Ok(store::get(tx, d.id)?)
    })
}

/// Makes a secret from text read by the CLI or the UI (a convenience for adapters).
pub fn secret(text: &str) -> Secret {
    Secret::new(text.trim())
}
