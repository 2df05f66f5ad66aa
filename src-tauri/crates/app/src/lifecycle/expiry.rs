//! The end of trials and fixed terms (`subscriptions.expires_on`), walked by an idempotent
//! sweep ([`expire_check`], `hostdesk site expire-check`) under the workspace's [`TermPolicy`]
//! (setting `term_policy`). Days are the client's calendar days. Each step is taken once,
//! recorded in the subscription's term row in the same transaction as the jobs and mails it
//! queues (the rules: `hostdesk_core::term`):
//!
//! - `remind:D`: D days before the end, an `expiry_reminder` mail (when several are due at once,
//!   after a sweep was missed, only the nearest is mailed);
//! - `expire`: on the end date the subscription becomes `expired`, its active sites are
//!   disabled (`site.suspend`) and the client gets a `trial_expired` mail once they are;
//! - `backup` then `delete`, `grace_days` later: a last (`final`) backup of each site, and its
//!   deletion queued after it — the deletion runs only once the backup succeeded. A site whose
//!   server cannot back up is not deleted: the report says so, for staff.
//!
//! Registered domains and certificates that do not renew by themselves (from
//! [`crate::domains::expiring`]) get the same reminders, each once (the outbox's dedupe key).
//!
//! [`convert`] turns a trial (or a fixed term) into an ongoing subscription and keeps the site:
//! the end date goes, a site the expiry disabled is enabled again, and an optional change of
//! product (a paid one) follows the plan-change rules.

use chrono::NaiveDate;
use chrono_tz::Tz;
use hostdesk_core::billing::local_date;
use hostdesk_core::term::{due_steps, TermPolicy, TermStep};
use hostdesk_store::backups as store_backups;
use hostdesk_store::lifecycle::{self as store_lifecycle, Candidate};
use hostdesk_store::servers::{self as store_servers, SiteRow};
use hostdesk_store::{clients, settings as store_settings, subscriptions, Connection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::backups::{can_back_up, queue_backup};
use crate::billing::changes::{self, ChangeReport, ChangeRequest};
use crate::mail::outbox::{enqueue, OutgoingMail};
use crate::mail::templates::{render, MailKind, MailVars};
use crate::provisioning::{
    can_run, queue_site_action, SiteAction, SITE_DELETE, SITE_SUSPEND, SITE_UNSUSPEND,
};
use crate::{AppError, Ctx, ErrorCode, Result, Workspace};

/// Settings key of the policy (JSON [`TermPolicy`]).
pub const POLICY: &str = "term_policy";

pub fn policy(conn: &Connection) -> Result<TermPolicy> {
    match store_settings::get(conn, POLICY)? {
        None => Ok(TermPolicy::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::invalid("policy", format!("the stored term policy: {e}"))),
    }
}

pub fn set_policy(ws: &mut Workspace, p: &TermPolicy) -> Result<TermPolicy> {
    p.check()
        .map_err(|(field, m)| AppError::invalid(field, m))?;
    let text = serde_json::to_string(p).map_err(|e| AppError::invalid("policy", e.to_string()))?;
    ws.write(|tx, ctx| {
        let before = policy(tx)?;
        store_settings::set(tx, POLICY, &text)?;
        ctx.audit(tx, "setting", None, POLICY, Some(&before), Some(p))
    })?;
    Ok(p.clone())
}

/// What a sweep did.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ExpiryReport {
    /// Subscriptions with a step taken.
    pub subscriptions: i64,
    pub reminders: i64,
    pub expired: i64,
    /// Last backups queued before deletion.
    pub backed_up: i64,
    /// Sites whose deletion was queued.
    pub deleted: i64,
    /// Reminders about registered domains and certificates that do not renew by themselves.
    pub domain_reminders: i64,
    /// What the sweep could not do and staff should (a server that cannot back up, ...).
    pub held: Vec<String>,
    pub jobs: Vec<i64>,
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("date", format!("'{s}' is not a date (YYYY-MM-DD)")))
}

fn sites_of(tx: &Connection, subscription_id: i64) -> Result<Vec<SiteRow>> {
    let mut stmt =
        tx.prepare_cached("SELECT id FROM sites WHERE subscription_id = ?1 ORDER BY id")?;
    let ids: Vec<i64> = stmt
        .query_map([subscription_id], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    ids.into_iter()
        .map(|id| Ok(store_servers::get_site(tx, id)?))
        .collect()
}

fn site_url(sites: &[SiteRow]) -> String {
    sites
        .iter()
        .find(|s| s.status != "deleted")
        .or(sites.first())
        .map(|s| format!("https://{}", s.domain))
        .unwrap_or_else(|| "your account".into())
}

#[allow(clippy::too_many_arguments)]
fn mail(
    tx: &Connection,
    ctx: &Ctx,
    c: &Candidate,
    kind: MailKind,
    key: String,
    pairs: &[(&str, String)],
    after: Vec<i64>,
) -> Result<i64> {
    let client = clients::get(tx, c.client_id)?;
    let mut vars: MailVars = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    vars.insert("client_name".into(), client.name.clone());
    vars.insert("product_name".into(), c.product_name.clone());
    let rendered = render(tx, Some(c.product_id), kind, &vars)?;
    let mut m = OutgoingMail::new(&client.email, &client.name, kind, key, rendered);
    m.client_id = Some(client.id);
    m.after = after;
    m.subscription_id = Some(c.subscription_id);
    Ok(enqueue(tx, &m, &ctx.at)?.job_id)
}

/// Takes every step that is due today (each client's today, from the clock).
pub fn expire_check(ws: &mut Workspace) -> Result<ExpiryReport> {
    let now = ws.clock().now();
    let p = policy(ws.conn())?;
    // A client's today is within a day of UTC's; reminders reach ahead.
    let ahead = i64::from(p.reminder_days.iter().copied().max().unwrap_or(0)) + 1;
    let bound = (now.date_naive() + chrono::Duration::days(ahead)).to_string();
    let candidates = store_lifecycle::candidates(ws.conn(), &bound)?;
    ws.write(|tx, ctx| {
        let mut report = ExpiryReport::default();
        for c in &candidates {
            let tz: Tz = c.timezone.parse().map_err(|_| {
                AppError::new(
                    ErrorCode::Database,
                    format!("bad time zone '{}'", c.timezone),
                )
            })?;
            let today = local_date(now, tz);
            let ends = parse_date(&c.expires_on)?;
            let days = (today - ends).num_days();
            let steps = due_steps(&p, days);
            if steps.is_empty() {
                continue;
            }
            store_lifecycle::open(
                tx,
                c.subscription_id,
                c.kind.as_deref().unwrap_or("term"),
                &ctx.at,
            )?;
            // Reminders missed by a skipped sweep are recorded, only the nearest is mailed.
            let nearest = steps
                .iter()
                .filter_map(|s| match s {
                    TermStep::Remind(d) => Some(*d),
                    _ => None,
                })
                .min();
            let mut took = false;
            for step in steps {
                if !store_lifecycle::mark_done(tx, c.subscription_id, &step.key(), &ctx.at)? {
                    continue;
                }
                took = true;
                if matches!(step, TermStep::Remind(d) if Some(d) != nearest) {
                    continue;
                }
                take(tx, ctx, &p, c, step, ends, days, &mut report)?;
            }
            if took {
                report.subscriptions += 1;
            }
        }
        remind_domains(tx, ctx, &p, now.date_naive(), &mut report)?;
        Ok(report)
    })
}

/// Reminders about registered domains and certificates that end soon and do not renew by
/// themselves: the nearest reminder day that has come, once per item and expiry date.
fn remind_domains(
    tx: &Connection,
    ctx: &Ctx,
    p: &TermPolicy,
    today: NaiveDate,
    report: &mut ExpiryReport,
) -> Result<()> {
    let Some(widest) = p.reminder_days.iter().copied().max() else {
        return Ok(());
    };
    for d in crate::domains::expiring(tx, today, i64::from(widest))? {
        let Some(client_id) = d.client_id.filter(|_| !d.renews) else {
            continue;
        };
        let day: String = d.expires.chars().take(10).collect();
        let Ok(ends) = parse_date(&day) else {
            continue;
        };
        let left = (ends - today).num_days();
        let Some(step) = p
            .reminder_days
            .iter()
            .copied()
            .filter(|r| left >= 0 && left <= i64::from(*r))
            .min()
        else {
            continue;
        };
        let what = if d.kind == "certificate" {
            format!("SSL certificate of {}", d.name)
        } else {
            format!("domain name {}", d.name)
        };
        let client = clients::get(tx, client_id)?;
        let vars: MailVars = [
            ("client_name", client.name.clone()),
            ("product_name", what),
            ("site_url", format!("https://{}", d.name)),
            ("expires_on", day.clone()),
            ("days_left", left.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let rendered = render(tx, None, MailKind::ExpiryReminder, &vars)?;
        let mut m = OutgoingMail::new(
            &client.email,
            &client.name,
            MailKind::ExpiryReminder,
            format!("expiry:{}:{}:{day}:remind:{step}", d.kind, d.id),
            rendered,
        );
        m.client_id = Some(client.id);
        m.site_id = d.site_id;
        let queued = enqueue(tx, &m, &ctx.at)?;
        if queued.created {
            report.domain_reminders += 1;
            report.jobs.push(queued.job_id);
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn take(
    tx: &Connection,
    ctx: &Ctx,
    p: &TermPolicy,
    c: &Candidate,
    step: TermStep,
    ends: NaiveDate,
    days: i64,
    report: &mut ExpiryReport,
) -> Result<()> {
    let sub = c.subscription_id;
    let sites = sites_of(tx, sub)?;
    let delete_on = (ends + chrono::Duration::days(i64::from(p.grace_days))).to_string();
    match step {
        TermStep::Remind(d) => {
            report.jobs.push(mail(
                tx,
                ctx,
                c,
                MailKind::ExpiryReminder,
                format!("term:{sub}:{}:remind:{d}", c.expires_on),
                &[
                    ("site_url", site_url(&sites)),
                    ("expires_on", c.expires_on.clone()),
                    ("days_left", (-days).to_string()),
                ],
                Vec::new(),
            )?);
            report.reminders += 1;
        }
        TermStep::Expire => {
            if matches!(c.state.as_str(), "active" | "suspended") {
                subscriptions::set_state(tx, sub, "expired", &ctx.at)?;
            }
            let reason = format!(
                "the {} ended on {}",
                if c.kind.as_deref() == Some("trial") {
                    "trial"
                } else {
                    "term"
                },
                c.expires_on
            );
            let mut suspended = Vec::new();
            for s in sites.iter().filter(|s| s.status == "active") {
                match s.server_kind.as_deref() {
                    Some(k) if can_run(k, SITE_SUSPEND) => {
                        suspended.push(queue_site_action(
                            tx,
                            ctx,
                            s.id,
                            &SiteAction::Suspend {
                                reason: Some(reason.clone()),
                            },
                        )?);
                    }
                    _ => report.held.push(format!(
                        "site {}: its server cannot disable it; disable it by hand ({reason})",
                        s.domain
                    )),
                }
            }
            report.jobs.extend(&suspended);
            report.jobs.push(mail(
                tx,
                ctx,
                c,
                MailKind::TrialExpired,
                format!("term:{sub}:{}:expired", c.expires_on),
                &[
                    ("site_url", site_url(&sites)),
                    ("expired_on", c.expires_on.clone()),
                    ("delete_on", delete_on.clone()),
                ],
                suspended,
            )?);
            store_lifecycle::set_stage(tx, sub, "expired", Some(&c.expires_on), &ctx.at)?;
            ctx.audit(
                tx,
                "subscription",
                Some(sub),
                "expire",
                Some(&c.state),
                Some(&json!({ "expiresOn": c.expires_on, "deleteOn": delete_on })),
            )?;
            report.expired += 1;
        }
        TermStep::Backup => {
            for s in sites.iter().filter(|s| s.status != "deleted") {
                let kind = s.server_kind.as_deref().unwrap_or_default();
                if s.server_id.is_none() || !can_back_up(kind) {
                    report.held.push(format!(
                        "site {}: its server cannot back it up, so it is not deleted; back it up and delete it by hand",
                        s.domain
                    ));
                    continue;
                }
                let description = format!(
                    "Hostdesk last backup of site {} before deletion (ended {})",
                    s.id, c.expires_on
                );
                if let Some(q) = queue_backup(tx, ctx, s, "final", &description)? {
                    report.jobs.push(q.job_id);
                    report.backed_up += 1;
                }
            }
        }
        TermStep::Delete => {
            for s in sites.iter().filter(|s| s.status != "deleted") {
                let has_final = store_backups::for_site(tx, s.id, false)?
                    .iter()
                    .any(|b| b.reason == "final" && b.state != "failed");
                let kind = s.server_kind.as_deref().unwrap_or_default();
                if !has_final || !can_run(kind, SITE_DELETE) {
                    continue;
                }
                // Runs after the site's unfinished jobs, the last backup among them: a backup
                // that fails leaves the site in place.
                report
                    .jobs
                    .push(queue_site_action(tx, ctx, s.id, &SiteAction::Delete)?);
                report.deleted += 1;
            }
            store_lifecycle::set_stage(tx, sub, "deleted", None, &ctx.at)?;
            ctx.audit(
                tx,
                "subscription",
                Some(sub),
                "delete_sites",
                None::<&()>,
                Some(&sites.iter().map(|s| &s.domain).collect::<Vec<_>>()),
            )?;
        }
    }
    Ok(())
}

/// What [`convert`] did.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConvertReport {
    pub subscription_id: i64,
    pub state: String,
    /// Sites enabled again (`site.unsuspend` jobs).
    pub jobs: Vec<i64>,
    /// The change of product, when one was asked for.
    pub change: Option<ChangeReport>,
}

/// Turns a trial or fixed term into an ongoing subscription; the site stays. With `product`, the
/// subscription then moves to that (paid) product.
pub fn convert(ws: &mut Workspace, id: i64, product: Option<&str>) -> Result<ConvertReport> {
    let sub = subscriptions::get(ws.conn(), id)?;
    let term = store_lifecycle::get(ws.conn(), id)?;
    let stage = term.as_ref().map(|t| t.stage.as_str());
    if sub.expires_on.is_none() && stage != Some("expired") {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("subscription {id} has no end date: there is no trial or term to convert"),
        ));
    }
    if stage == Some("deleted") {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "subscription {id} ended and its site was deleted after its last backup: place a new order (the last backup is kept)"
            ),
        ));
    }
    if !matches!(
        sub.state.as_str(),
        "pending" | "active" | "suspended" | "expired"
    ) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("subscription {id} is {}", sub.state),
        ));
    }
    let product = product
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    ws.batch(|ws| {
        let jobs = ws.write(|tx, ctx| {
            store_lifecycle::set_expires_on(tx, id, None, &ctx.at)?;
            let kind = term.as_ref().map(|t| t.kind.as_str()).unwrap_or("term");
            store_lifecycle::open(tx, id, kind, &ctx.at)?;
            store_lifecycle::convert(tx, id, &ctx.at)?;
            let mut jobs = Vec::new();
            if sub.state == "expired" {
                subscriptions::set_state(tx, id, "active", &ctx.at)?;
            }
            if stage == Some("expired") {
                // The expiry disabled its sites: enable them again (after the pending suspend).
                for s in sites_of(tx, id)? {
                    let disabled = s.status == "disabled"
                        || store_servers::pending_site_jobs(tx, s.id)?
                            .iter()
                            .any(|(_, k)| k == SITE_SUSPEND);
                    if disabled
                        && s.server_kind
                            .as_deref()
                            .is_some_and(|k| can_run(k, SITE_UNSUSPEND))
                    {
                        jobs.push(queue_site_action(tx, ctx, s.id, &SiteAction::Unsuspend)?);
                    }
                }
            }
            ctx.audit(
                tx,
                "subscription",
                Some(id),
                "convert",
                Some(&json!({ "expiresOn": sub.expires_on, "state": sub.state })),
                Some(&json!({ "product": product, "jobs": jobs })),
            )?;
            Ok(jobs)
        })?;
        let change = match &product {
            Some(p) if *p != sub.product_code => Some(changes::change(
                ws,
                id,
                &ChangeRequest {
                    product: Some(p.clone()),
                    ..Default::default()
                },
            )?),
            _ => None,
        };
        let state = subscriptions::get(ws.conn(), id)?.state;
        Ok(ConvertReport {
            subscription_id: id,
            state,
            jobs,
            change,
        })
    })
}

/// What to set: the last day of service (the end date) of a fixed term.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct TermRequest {
    /// YYYY-MM-DD.
    pub expires_on: String,
}

/// Gives a subscription a fixed term ending on `expires_on` (or moves its end date): the sweep
/// starts over for the new date. A term that has ended is converted instead ([`convert`]).
pub fn set_term(
    ws: &mut Workspace,
    id: i64,
    expires_on: &str,
) -> Result<subscriptions::Subscription> {
    let date = parse_date(expires_on).map_err(|_| {
        AppError::invalid(
            "expiresOn",
            format!("'{expires_on}' is not a date (YYYY-MM-DD)"),
        )
    })?;
    let sub = subscriptions::get(ws.conn(), id)?;
    let term = store_lifecycle::get(ws.conn(), id)?;
    if term
        .as_ref()
        .is_some_and(|t| t.stage == "expired" || t.stage == "deleted")
        || sub.state == "expired"
    {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("subscription {id} has ended: convert it to keep its site (subscription convert {id})"),
        ));
    }
    if !matches!(sub.state.as_str(), "pending" | "active" | "suspended") {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("subscription {id} is {}", sub.state),
        ));
    }
    let date = date.to_string();
    ws.write(|tx, ctx| {
        store_lifecycle::set_expires_on(tx, id, Some(&date), &ctx.at)?;
        let kind = match &term {
            Some(t) if t.kind == "trial" && t.stage == "running" => "trial",
            _ => "term",
        };
        store_lifecycle::restart(tx, id, kind, &ctx.at)?;
        ctx.audit(
            tx,
            "subscription",
            Some(id),
            "term",
            sub.expires_on.as_ref(),
            Some(&date),
        )
    })?;
    Ok(subscriptions::get(ws.conn(), id)?)
}

/// An order of a product with a trial length: the subscription ends that many days after the
/// order date. Called in the order's transaction.
pub(crate) fn start_trial(
    tx: &Connection,
    ctx: &Ctx,
    subscription_id: i64,
    product_id: i64,
    order_date: NaiveDate,
) -> Result<()> {
    let Some(days) = store_backups::product_lifecycle(tx, product_id)?.trial_days else {
        return Ok(());
    };
    let ends = (order_date + chrono::Duration::days(days)).to_string();
    store_lifecycle::set_expires_on(tx, subscription_id, Some(&ends), &ctx.at)?;
    store_lifecycle::restart(tx, subscription_id, "trial", &ctx.at)?;
    Ok(())
}

/// Something that ends soon: a trial, a fixed term, a registered domain or a certificate (those
/// two from [`crate::domains::expiring_soon`]).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringItem {
    /// trial, term, domain or certificate.
    pub kind: String,
    /// What ends: the product, or the domain.
    pub subject: String,
    pub client_id: Option<i64>,
    pub client_name: String,
    pub subscription_id: Option<i64>,
    /// The sites concerned (domains), comma-separated.
    pub sites: Option<String>,
    pub expires_on: String,
    /// Negative once it has ended.
    pub days_left: i64,
    /// Trials and terms: running (ends soon) or expired (disabled, waiting for deletion);
    /// domains and certificates: their state.
    pub stage: String,
    /// A domain that renews with its subscription, an automatic certificate.
    pub renews: bool,
}

/// Trials and fixed terms ending within `within_days` (and those ended, not yet deleted), then
/// registered domains and certificates ending within it; soonest first.
pub fn expiring(ws: &Workspace, within_days: i64) -> Result<Vec<ExpiringItem>> {
    if !(0..=3660).contains(&within_days) {
        return Err(AppError::invalid("days", "between 0 and 3660"));
    }
    let today = ws.clock().now().date_naive();
    let until = (today + chrono::Duration::days(within_days)).to_string();
    let mut items = store_lifecycle::expiring(ws.conn(), &until)?
        .into_iter()
        .map(|t| {
            let ends = parse_date(&t.expires_on)?;
            Ok(ExpiringItem {
                kind: t.kind,
                subject: t.product_code,
                client_id: Some(t.client_id),
                client_name: t.client_name,
                subscription_id: Some(t.subscription_id),
                sites: t.sites,
                days_left: (ends - today).num_days(),
                expires_on: t.expires_on,
                stage: t.stage,
                renews: false,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for d in crate::domains::expiring_soon(ws, within_days)? {
        let day: String = d.expires.chars().take(10).collect();
        let Ok(ends) = parse_date(&day) else {
            continue;
        };
        items.push(ExpiringItem {
            kind: d.kind,
            sites: Some(d.name.clone()),
            subject: d.name,
            client_id: d.client_id,
            client_name: d.client_name.unwrap_or_default(),
            subscription_id: None,
            days_left: (ends - today).num_days(),
            expires_on: day,
            stage: d.state,
            renews: d.renews,
        });
    }
    items.sort_by(|a, b| a.expires_on.cmp(&b.expires_on).then(a.kind.cmp(&b.kind)));
    Ok(items)
}
