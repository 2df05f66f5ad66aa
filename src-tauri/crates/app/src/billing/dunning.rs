//! Dunning: a state machine over unpaid issued invoices past their due date, driven by a
//! configurable policy (setting `dunning_policy`, JSON). Each sweep takes, per invoice, every
//! step whose day has come and that was not taken before (each step once, recorded in the
//! invoice's dunning row in the same transaction as the jobs it queues):
//!
//! - `reminder:D`: a reminder mail D days after the due date;
//! - `retry:D`: a new charge of the stored payment method D days after (when the client has one);
//! - `suspend`: after the grace days, the client's subscriptions are suspended and a
//!   `site.suspend` job per site is queued (stage `suspended`);
//! - `terminate`: after `terminateAfterDays`, the subscriptions are cancelled (stage
//!   `terminated`); their sites stay disabled for staff to back up and delete.
//!
//! A payment that settles the invoice ends its dunning and re-enables what it suspended
//! ([`super::settle`]).

use chrono::NaiveDate;
use hostdesk_store::orders as store_orders;
use hostdesk_store::settings as store_settings;
use hostdesk_store::{clients, dunning, invoices, subscriptions, Connection};
use serde::{Deserialize, Serialize};

use super::charge;
use super::issue::client_billing;
use super::seller;
use crate::provisioning::{queue_site_action, SiteAction};
use crate::{AppError, Ctx, Result, Workspace};

/// Settings key of the policy.
pub const POLICY: &str = "dunning_policy";

/// Days are counted from the invoice's due date, in the client's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct DunningPolicy {
    pub reminder_days: Vec<u32>,
    pub retry_days: Vec<u32>,
    /// Suspend after this many days (0: never suspend).
    pub grace_days: u32,
    /// Cancel the subscriptions after this many days (0: never).
    pub terminate_after_days: u32,
}

impl Default for DunningPolicy {
    fn default() -> Self {
        DunningPolicy {
            reminder_days: vec![1, 7],
            retry_days: vec![3, 10],
            grace_days: 14,
            terminate_after_days: 60,
        }
    }
}

impl DunningPolicy {
    pub fn check(&self) -> Result<()> {
        let too_far = |d: &u32| *d > 365;
        if self.reminder_days.iter().any(too_far) || self.retry_days.iter().any(too_far) {
            return Err(AppError::invalid("policy", "days are between 0 and 365"));
        }
        if self.grace_days > 365 || self.terminate_after_days > 730 {
            return Err(AppError::invalid(
                "policy",
                "grace days are at most 365 and termination at most 730 days",
            ));
        }
        if self.terminate_after_days > 0
            && self.grace_days > 0
            && self.terminate_after_days <= self.grace_days
        {
            return Err(AppError::invalid(
                "terminateAfterDays",
                "must come after the grace days",
            ));
        }
        Ok(())
    }
}

pub fn policy(conn: &Connection) -> Result<DunningPolicy> {
    match store_settings::get(conn, POLICY)? {
        None => Ok(DunningPolicy::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::invalid("policy", format!("the stored dunning policy: {e}"))),
    }
}

pub fn set_policy(ws: &mut Workspace, p: &DunningPolicy) -> Result<()> {
    p.check()?;
    let text = serde_json::to_string(p).map_err(|e| AppError::invalid("policy", e.to_string()))?;
    ws.write(|tx, ctx| {
        let before = store_settings::get(tx, POLICY)?;
        store_settings::set(tx, POLICY, &text)?;
        ctx.audit(tx, "setting", None, POLICY, before.as_ref(), Some(p))
    })
}

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DunningReport {
    pub overdue: i64,
    pub reminders: i64,
    pub retries: i64,
    pub suspended: i64,
    pub terminated: i64,
    /// Subscriptions whose cancellation date came.
    pub cancelled: i64,
    pub jobs: Vec<i64>,
}

/// Takes every dunning step that is due today (each client's today, from the clock).
pub fn run(ws: &mut Workspace) -> Result<DunningReport> {
    let now = ws.clock().now();
    let p = policy(ws.conn())?;
    let seller = seller::load(ws.conn())?;
    // A client's today is within a day of UTC's: the widest bound finds every candidate.
    let bound = (now.date_naive() + chrono::Duration::days(1)).to_string();
    let candidates = dunning::overdue_invoices(ws.conn(), &bound)?;
    ws.write(|tx, ctx| {
        let mut report = DunningReport::default();
        for o in candidates {
            let client = clients::get(tx, o.client_id)?;
            let today = client_billing(&client, &seller, now)?.today;
            let due = NaiveDate::parse_from_str(&o.due_on, "%Y-%m-%d")
                .map_err(|_| AppError::invalid("dueOn", format!("bad due date {}", o.due_on)))?;
            let days = (today - due).num_days();
            if days <= 0 {
                continue;
            }
            report.overdue += 1;
            step_invoice(
                tx,
                ctx,
                &p,
                o.invoice_id,
                o.client_id,
                &o.due_on,
                days,
                &mut report,
            )?;
        }
        // Cancellations at the period end whose day has come.
        let today = now.date_naive().to_string();
        report.cancelled = subscriptions::end_cancelled(tx, &today, &ctx.at)?.len() as i64;
        Ok(report)
    })
}

#[allow(clippy::too_many_arguments)]
fn step_invoice(
    tx: &Connection,
    ctx: &Ctx,
    p: &DunningPolicy,
    invoice_id: i64,
    client_id: i64,
    due_on: &str,
    days: i64,
    report: &mut DunningReport,
) -> Result<()> {
    let row = dunning::open(tx, invoice_id, client_id, due_on, &ctx.at)?;
    if row.stage == "settled" {
        return Ok(());
    }
    for d in p.reminder_days.iter().filter(|d| i64::from(**d) <= days) {
        let step = format!("reminder:{d}");
        if dunning::mark_done(tx, invoice_id, &step, &ctx.at)? {
            report.jobs.push(crate::notify::payment_reminder(
                tx, ctx, invoice_id, &step, days,
            )?);
            report.reminders += 1;
        }
    }
    let has_method = store_orders::default_payment_method(tx, client_id)?.is_some();
    for d in &p.retry_days {
        if i64::from(*d) > days || !has_method {
            continue;
        }
        let step = format!("retry:{d}");
        if dunning::mark_done(tx, invoice_id, &step, &ctx.at)? {
            report.jobs.push(charge::enqueue_charge(
                tx,
                ctx,
                invoice_id,
                &format!("dunning-{d}"),
            )?);
            report.retries += 1;
        }
    }
    if p.grace_days > 0
        && days >= i64::from(p.grace_days)
        && dunning::mark_done(tx, invoice_id, "suspend", &ctx.at)?
    {
        let number = invoices::get(tx, invoice_id)?.number.unwrap_or_default();
        let reason = format!("invoice {number} is {days} days overdue");
        suspend_client(tx, ctx, client_id, invoice_id, &reason, report)?;
        dunning::set_stage(tx, invoice_id, "suspended", &ctx.at)?;
        ctx.audit(
            tx,
            "dunning",
            Some(invoice_id),
            "suspend",
            Some(&row.stage),
            Some(&reason),
        )?;
        report.suspended += 1;
    }
    if p.terminate_after_days > 0
        && days >= i64::from(p.terminate_after_days)
        && dunning::mark_done(tx, invoice_id, "terminate", &ctx.at)?
    {
        let mut stmt = tx.prepare(
            "SELECT id FROM subscriptions WHERE client_id = ?1 AND state IN ('active', 'suspended')",
        )?;
        let subs: Vec<i64> = stmt
            .query_map([client_id], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        for s in &subs {
            subscriptions::set_state(tx, *s, "cancelled", &ctx.at)?;
        }
        dunning::set_stage(tx, invoice_id, "terminated", &ctx.at)?;
        ctx.audit(
            tx,
            "dunning",
            Some(invoice_id),
            "terminate",
            None::<&()>,
            Some(&subs),
        )?;
        report.terminated += 1;
    }
    Ok(())
}

fn suspend_client(
    tx: &Connection,
    ctx: &Ctx,
    client_id: i64,
    invoice_id: i64,
    reason: &str,
    report: &mut DunningReport,
) -> Result<()> {
    let sites = subscriptions::sites_for_client(tx, client_id)?;
    let mut stmt = tx.prepare(
        "UPDATE subscriptions SET state = 'suspended', updated_at = ?2
          WHERE client_id = ?1 AND state = 'active' RETURNING id",
    )?;
    let subs: Vec<i64> = stmt
        .query_map((client_id, ctx.at.as_str()), |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    for site in sites.iter().filter(|s| {
        subs.contains(&s.subscription_id) && s.status == "active" && s.server_id.is_some()
    }) {
        let job = queue_site_action(
            tx,
            ctx,
            site.id,
            &SiteAction::Suspend {
                reason: Some(reason.to_string()),
            },
        )?;
        report.jobs.push(job);
        report.jobs.push(crate::notify::site_suspended(
            tx,
            ctx,
            site.id,
            &format!("dunning:{invoice_id}:suspend:site:{}", site.id),
            reason,
            vec![job],
        )?);
    }
    Ok(())
}

/// The invoices in dunning (not settled, unless `all`), oldest first.
pub fn list(ws: &Workspace, all: bool) -> Result<Vec<dunning::DunningRow>> {
    Ok(dunning::list(ws.conn(), all)?)
}

/// An invoice in dunning as the Dunning screen shows it: its balance written by the core and
/// how many days past its due date it is in the client's calendar.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DunningView {
    pub row: dunning::DunningRow,
    pub balance: String,
    pub days_overdue: i64,
}

/// [`list`], with each balance formatted and the days overdue as of the clock.
pub fn list_views(ws: &Workspace, all: bool) -> Result<Vec<DunningView>> {
    let now = ws.clock().now();
    let seller = seller::load(ws.conn())?;
    list(ws, all)?
        .into_iter()
        .map(|row| {
            let client = clients::get(ws.conn(), row.client_id)?;
            let today = client_billing(&client, &seller, now)?.today;
            let due = NaiveDate::parse_from_str(&row.started_on, "%Y-%m-%d").map_err(|_| {
                AppError::invalid("dueOn", format!("bad due date {}", row.started_on))
            })?;
            Ok(DunningView {
                balance: super::money(row.balance_minor, &row.currency)?.amount_string(),
                days_overdue: (today - due).num_days().max(0),
                row,
            })
        })
        .collect()
}
