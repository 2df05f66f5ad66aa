//! Each subscription's usage in its current period against its quotas, and the alerts at 80%
//! and 100% of a quota: once per subscription, resource, period and threshold, shown in the app
//! until dismissed, and mailed to the client as the setting `quota_alert_mail` says (`off`, the
//! default; `over`: at 100%; `all`: at 80% and 100%).

use chrono::{DateTime, Utc};
use hostdesk_core::catalog::Resource;
use hostdesk_store::usage::{self as store, PeriodUsage, UsageAlert};
use hostdesk_store::{clients, settings as store_settings, subscriptions, Connection};

use super::{billed_usage, label, percent, period_at, unit};
use crate::mail::outbox::{enqueue, OutgoingMail};
use crate::mail::templates::{render, MailKind, MailVars};
use crate::{Ctx, Result, Workspace};

/// Settings key: which quota alerts are mailed to the client (`off`, `over`, `all`).
pub const MAIL_SETTING: &str = "quota_alert_mail";

/// The thresholds, in percent of the quota.
pub const THRESHOLDS: [i64; 2] = [80, 100];

fn mailed(conn: &Connection, threshold: i64) -> Result<bool> {
    Ok(
        match store_settings::get(conn, MAIL_SETTING)?
            .as_deref()
            .map(str::trim)
        {
            Some("all") => true,
            Some("over") => threshold >= 100,
            _ => false,
        },
    )
}

/// Brings a subscription's current period up to date (`usage_periods`: used, limit, share) and
/// raises the alerts it now deserves. Returns the period's rows.
pub fn refresh(
    tx: &Connection,
    ctx: &Ctx,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<PeriodUsage>> {
    let p = period_at(tx, id, now)?;
    let used = billed_usage(tx, id, &p)?;
    let quotas = store::quotas_of(tx, id)?;
    let mut rows = Vec::new();
    for r in Resource::ALL {
        let quota = quotas.iter().find(|(res, _)| res == r.as_str());
        let recorded = used
            .iter()
            .find(|(res, _)| res == r.as_str())
            .map(|(_, u)| *u);
        let Some(u) = recorded.or_else(|| quota.map(|_| 0)) else {
            continue;
        };
        let limit = quota.and_then(|(_, l)| *l);
        let row = PeriodUsage {
            subscription_id: id,
            resource: r.as_str().into(),
            period_start: p.start.to_string(),
            period_end: p.end.to_string(),
            used: u,
            limit,
            percent: percent(u, limit),
            at: ctx.at.clone(),
        };
        store::upsert_period(tx, &row)?;
        if let (Some(share), Some(l)) = (row.percent, limit) {
            for t in THRESHOLDS.into_iter().filter(|t| share >= *t) {
                let Some(alert) =
                    store::insert_alert(tx, id, r.as_str(), &row.period_start, t, u, l, &ctx.at)?
                else {
                    continue;
                };
                if mailed(tx, t)? {
                    let outbox = mail_client(tx, ctx, alert, &row, *r, share)?;
                    store::set_alert_outbox(tx, alert, outbox)?;
                }
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn mail_client(
    tx: &Connection,
    ctx: &Ctx,
    alert: i64,
    row: &PeriodUsage,
    r: Resource,
    share: i64,
) -> Result<i64> {
    let sub = subscriptions::get(tx, row.subscription_id)?;
    let client = clients::get(tx, sub.client_id)?;
    let product_id: i64 = tx.query_row(
        "SELECT product_id FROM subscriptions WHERE id = ?1",
        [sub.id],
        |x| x.get(0),
    )?;
    let vars: MailVars = [
        ("client_name", client.name.clone()),
        ("product_name", sub.product_name.clone()),
        ("resource", label(r).to_string()),
        ("used", format!("{} {}", row.used, unit(r))),
        ("limit", format!("{} {}", row.limit.unwrap_or(0), unit(r))),
        ("percent", share.to_string()),
        ("period_end", row.period_end.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let rendered = render(tx, Some(product_id), MailKind::QuotaAlert, &vars)?;
    let mut m = OutgoingMail::new(
        &client.email,
        &client.name,
        MailKind::QuotaAlert,
        format!("quota_alert:{alert}"),
        rendered,
    );
    m.client_id = Some(client.id);
    m.subscription_id = Some(sub.id);
    Ok(enqueue(tx, &m, &ctx.at)?.outbox_id)
}

/// Alerts, newest first: a client's or everyone's, open only unless `all`.
pub fn list(ws: &Workspace, client_id: Option<i64>, all: bool) -> Result<Vec<UsageAlert>> {
    Ok(store::alerts(ws.conn(), client_id, all, 500)?)
}

/// Dismisses an alert in the app (recorded in the audit log).
pub fn dismiss(ws: &mut Workspace, id: i64) -> Result<bool> {
    ws.write(|tx, ctx| {
        let changed = store::dismiss_alert(tx, id, &ctx.at)?;
        if changed {
            ctx.audit(
                tx,
                "usage_alert",
                Some(id),
                "dismiss",
                None::<&()>,
                None::<&()>,
            )?;
        }
        Ok(changed)
    })
}

/// Checks a setting value for [`MAIL_SETTING`].
pub fn valid_mail_setting(v: &str) -> bool {
    ["off", "over", "all"].contains(&v.trim())
}
