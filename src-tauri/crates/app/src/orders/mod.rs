//! Orders: a price preview, then placing the order in one transaction — the subscription, its
//! site, the first invoice (prorated to the client's billing day) and how it is paid — and, on
//! payment (or at once for products that start immediately, or on approval), the chain of
//! provisioning jobs ([`chain`]).
//!
//! - `--pay stored`: a `payment.charge` job charges the client's stored payment method; the
//!   chain starts when the charge succeeds; a decline leaves no site and mails the client.
//! - `--pay manual`: the invoice waits for a bank transfer or cash, recorded by staff; the chain
//!   starts when the invoice is paid.
//! - `--pay later`: only for products that start at once (or a free first period).

pub mod chain;
pub(crate) mod quote;

use hostdesk_store::jobs::{self as store_jobs, Job};
use hostdesk_store::orders::{self as store_orders, NewOrder, Order};
use hostdesk_store::subscriptions::{self, NewSubscription};
use hostdesk_store::{invoices, servers as store_servers};
use serde::Serialize;

pub use quote::{OrderRequest, Quote, QuotePart};

use crate::billing::bill_run::IssuedInvoice;
use crate::billing::{charge, issue, seller};
use crate::{AppError, ErrorCode, Result, Workspace};

/// The price preview of an order; nothing is written.
pub fn quote(ws: &Workspace, req: &OrderRequest) -> Result<Quote> {
    quote::resolve(ws.conn(), req, ws.clock().now())?.quote()
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlacedOrder {
    pub order_id: i64,
    pub subscription_id: i64,
    pub site_id: Option<i64>,
    pub invoice: Option<IssuedInvoice>,
    pub state: String,
    /// The jobs queued now: the charge, or the provisioning chain.
    pub jobs: Vec<i64>,
    pub quote: Quote,
}

/// Places an order: everything it writes lands together, or nothing does.
pub fn place(ws: &mut Workspace, req: &OrderRequest) -> Result<PlacedOrder> {
    let now = ws.clock().now();
    let r = quote::resolve(ws.conn(), req, now)?;
    let q = r.quote()?;
    let seller = seller::load(ws.conn())?;
    ws.write(|tx, ctx| {
        let started_on = r.order_date.to_string();
        let next_due = r.first.to.to_string();
        let sub_id = subscriptions::insert(
            tx,
            &NewSubscription {
                client_id: r.client.id,
                product_id: r.product_id,
                kit_id: r.kit_id,
                tier_id: r.tier_id,
                currency: &r.client.currency,
                period: r.period.as_str(),
                price_minor: r.price.minor,
                state: "pending",
                anchor_day: r.client.billing_day,
                started_on: &started_on,
                next_due_on: Some(&next_due),
                expires_on: None,
                choices: &r.choices,
                quotas: &r.quotas,
            },
            &ctx.at,
        )?;
        // A product with a trial length: the subscription ends that many days from today.
        crate::lifecycle::expiry::start_trial(tx, ctx, sub_id, r.product_id, r.order_date)?;
        let site_id = match r.shared_site_id {
            Some(shared) => shared,
            None => {
                let id = subscriptions::insert_site(
                    tx,
                    sub_id,
                    &r.domain,
                    &r.platform,
                    &r.profile,
                    "queued",
                    &ctx.at,
                )?;
                store_servers::set_site_server(tx, id, r.server.id, &ctx.at)?;
                id
            }
        };
        let line = r.first_line(sub_id)?;
        // Nothing to charge (a free product or demo): no invoice.
        let invoice = if line.total.minor == 0 {
            None
        } else {
            issue::issue_lines(
                tx,
                ctx,
                &seller,
                &r.client,
                &r.billing,
                r.order_date,
                &[(line, Some(sub_id))],
            )?
        };
        let paid = match &invoice {
            None => true,
            Some(i) => invoices::get(tx, i.invoice_id)?.status == "paid",
        };
        let state = if r.activation == "approval" {
            "awaiting_approval"
        } else {
            "awaiting_payment"
        };
        let quote_json = serde_json::to_string(&q).unwrap_or_default();
        let order_id = store_orders::insert(
            tx,
            &NewOrder {
                client_id: r.client.id,
                subscription_id: sub_id,
                site_id: Some(site_id),
                invoice_id: invoice.as_ref().map(|i| i.invoice_id),
                domain: &r.domain,
                pay: &r.pay,
                state,
                quote: &quote_json,
            },
            &ctx.at,
        )?;
        if r.shared_site_id.is_none() {
            // The domain (subdomain, owned or registered) and the certificate level.
            let chosen = crate::domains::order_domain(
                tx,
                r.product_id,
                &r.choices,
                &r.client.currency,
                r.period,
                &ctx.at,
            )?;
            crate::domains::record_order_domain(
                tx,
                ctx,
                &chosen,
                &r.domain,
                (r.client.id, sub_id, site_id, order_id),
                invoice.as_ref().map(|i| i.invoice_id),
                (r.order_date, r.client.billing_day as u32, r.period),
                r.domain_years,
            )?;
        }
        ctx.audit(tx, "order", Some(order_id), "place", None::<&()>, Some(&q))?;
        if let Some(b) = &r.quota_breach {
            crate::usage::quota::record_override(tx, ctx, order_id, b)?;
        }
        let mut jobs = Vec::new();
        if r.activation == "immediate" || (paid && r.activation == "on_payment") {
            jobs.extend(chain::start(tx, ctx, order_id)?);
        }
        if let (Some(inv), false) = (&invoice, paid) {
            if r.pay == "stored" {
                jobs.push(charge::enqueue_charge(tx, ctx, inv.invoice_id, "first")?);
            }
        }
        let order = store_orders::get(tx, order_id)?;
        Ok(PlacedOrder {
            order_id,
            subscription_id: sub_id,
            site_id: Some(site_id),
            invoice,
            state: order.state,
            jobs,
            quote: q.clone(),
        })
    })
}

/// An order with its invoice status and its jobs.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order: Order,
    pub invoice_status: Option<String>,
    pub jobs: Vec<Job>,
    /// Jobs succeeded / all: provisioning is complete when they are equal.
    pub jobs_done: i64,
    pub jobs_total: i64,
    /// `completed` once every job succeeded, `failed` if one is dead, else the stored state.
    pub progress: String,
}

fn view(conn: &hostdesk_store::Connection, order: Order) -> Result<OrderView> {
    let jobs: Vec<Job> = store_jobs::list_for_subscription(conn, order.subscription_id)?;
    let done = jobs.iter().filter(|j| j.state == "succeeded").count() as i64;
    let total = jobs.len() as i64;
    let progress = if jobs.iter().any(|j| j.state == "dead") {
        "failed".to_string()
    } else if order.state == "provisioning"
        && total > 0
        && jobs
            .iter()
            .filter(|j| j.kind != charge::PAYMENT_CHARGE)
            .all(|j| j.state == "succeeded")
    {
        "completed".to_string()
    } else {
        order.state.clone()
    };
    let invoice_status = match order.invoice_id {
        Some(id) => Some(invoices::get(conn, id)?.status),
        None => None,
    };
    Ok(OrderView {
        order,
        invoice_status,
        jobs,
        jobs_done: done,
        jobs_total: total,
        progress,
    })
}

pub fn show(ws: &Workspace, id: i64) -> Result<OrderView> {
    let order = store_orders::get(ws.conn(), id)?;
    view(ws.conn(), order)
}

/// A client's orders (or all), newest first.
pub fn list(ws: &Workspace, client_id: Option<i64>) -> Result<Vec<OrderView>> {
    store_orders::list(ws.conn(), client_id, 200)?
        .into_iter()
        .map(|o| view(ws.conn(), o))
        .collect()
}

/// Staff approve an order of a product that starts on approval: the chain starts now.
pub fn approve(ws: &mut Workspace, id: i64) -> Result<OrderView> {
    let order = store_orders::get(ws.conn(), id)?;
    if order.state != "awaiting_approval" {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "order {id} is {}: only an order awaiting approval can be approved",
                order.state
            ),
        ));
    }
    ws.write(|tx, ctx| chain::start(tx, ctx, id))?;
    show(ws, id)
}

/// Makes a product a demo package: its orders create a group (the client's account with the
/// role `demo`) on this existing shared site instead of a site of their own. `None` undoes it.
pub fn set_shared_site(ws: &mut Workspace, product_code: &str, domain: Option<&str>) -> Result<()> {
    let id = hostdesk_store::catalog::product_id(ws.conn(), product_code)?;
    let domain = domain.map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = domain {
        let site = store_servers::find_site_by_domain(ws.conn(), d)?
            .ok_or_else(|| AppError::invalid("site", format!("no site {d}")))?;
        let kind = site.server_kind.clone().ok_or_else(|| {
            AppError::invalid("site", format!("site {d} is not placed on a server"))
        })?;
        if !crate::provisioning::can_run(&kind, crate::provisioning::SITE_CREATE_USER) {
            return Err(AppError::invalid(
                "site",
                format!("site {d} is on a {kind} server, which cannot create users on a site"),
            ));
        }
    }
    ws.write(|tx, ctx| {
        let before = store_orders::shared_site(tx, id)?;
        store_orders::set_shared_site(tx, id, domain)?;
        ctx.audit(
            tx,
            "product",
            Some(id),
            "shared_site",
            before.as_ref(),
            domain.as_ref(),
        )
    })
}

/// Sets how a product's subscriptions start: on_payment, immediate or approval.
pub fn set_activation(ws: &mut Workspace, product_code: &str, activation: &str) -> Result<()> {
    if !["on_payment", "immediate", "approval"].contains(&activation) {
        return Err(AppError::invalid(
            "activation",
            format!("'{activation}' is not one of: on_payment, immediate, approval"),
        ));
    }
    let id = hostdesk_store::catalog::product_id(ws.conn(), product_code)?;
    ws.write(|tx, ctx| {
        let before = store_orders::activation(tx, id)?;
        store_orders::set_activation(tx, id, activation)?;
        ctx.audit(
            tx,
            "product",
            Some(id),
            "activation",
            Some(&before),
            Some(&activation),
        )
    })
}

/// What the server said about the order's domain.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DomainCheck {
    pub domain: String,
    pub server_name: String,
    /// Some(true): free on the server; Some(false): taken; None: the server could not be asked
    /// (offline): the order may still be placed, and its site job will say if the name is taken.
    pub free: Option<bool>,
    pub message: String,
}

/// What asking the server needs, read from the workspace first so that no lock is held while
/// the server answers.
pub struct DomainProbe {
    domain: String,
    server_name: String,
    driver: Option<std::sync::Arc<dyn hostdesk_remote::HostingDriver>>,
}

/// Prepares the check of an order's domain on its server (a demo package's shared site is not
/// checked).
pub fn domain_probe(
    ws: &Workspace,
    secrets: &dyn crate::secrets::SecretStore,
    req: &OrderRequest,
) -> Result<DomainProbe> {
    let r = quote::resolve(ws.conn(), req, ws.clock().now())?;
    let driver = match r.shared_site_id {
        Some(_) => None,
        None => Some(
            crate::provisioning::build_driver(
                &r.server,
                secrets,
                &crate::provisioning::ProvisioningConfig::default(),
                ws.path(),
                ws.clock(),
                crate::settings::sandbox_delay(ws)?,
            )
            .map_err(|e| AppError::invalid("server", e.to_string()))?,
        ),
    };
    Ok(DomainProbe {
        domain: r.domain,
        server_name: r.server.name,
        driver,
    })
}

impl DomainProbe {
    /// Asks the server: a taken name is an error on `domain`; an unreachable server is not.
    pub async fn check(self) -> Result<DomainCheck> {
        let mut check = DomainCheck {
            domain: self.domain.clone(),
            server_name: self.server_name.clone(),
            free: Some(true),
            message: "a group on the shared site".into(),
        };
        let Some(driver) = self.driver else {
            return Ok(check);
        };
        match driver.find_site(&self.domain).await {
            Ok(None) => check.message = format!("{} is free on {}", self.domain, self.server_name),
            Ok(Some(_)) => {
                return Err(AppError::invalid(
                    "domain",
                    format!(
                        "{} already exists on server {}",
                        self.domain, self.server_name
                    ),
                ))
            }
            Err(e) => {
                check.free = None;
                check.message = format!(
                    "could not ask {} whether {} is free ({e}); the site job will tell",
                    self.server_name, self.domain
                );
            }
        }
        Ok(check)
    }
}
