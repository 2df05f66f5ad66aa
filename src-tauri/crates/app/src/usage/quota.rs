//! Enforcing quotas: an order beyond the client's quota is refused (or placed with a staff
//! override, written to the audit log); staff change a subscription's limit; limits are pushed
//! to the servers that enforce them, once per change.
//!
//! # Pushing limits
//! `site_limits` keeps, per site and resource, the limit last queued to its server. A
//! subscription's disk and bandwidth quotas are compared with it whenever they may have changed
//! (an order's chain, an upgrade, `quota set`, and every collection, which catches a downgrade
//! the bill run adopted at a renewal): a `quota.set` job is queued only for what differs, and
//! what it pushes is recorded in the same transaction. So a change is pushed exactly once, and
//! asking again pushes nothing. Unlimited is pushed as 0 (WHM's convention), except to a site
//! that never had a limit pushed (the server's package decides).

use hostdesk_core::catalog::Resource;
use hostdesk_store::servers::{self as store_servers, SiteRow};
use hostdesk_store::usage as store;
use hostdesk_store::{clients, subscriptions, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::json;

use super::{alerts, collect, parse_resource};
use crate::jobs::{self, JobSpec};
use crate::provisioning::{can_run, SiteAction, QUOTA_SET};
use crate::{AppError, Ctx, ErrorCode, Result, Workspace};

/// An order that would take a client beyond its quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaBreach {
    pub client_id: i64,
    pub client_name: String,
    pub resource: String,
    /// The client's limit over its subscriptions, the order's own quota included.
    pub limit: i64,
    /// In use now.
    pub current: i64,
    /// With the order.
    pub after: i64,
}

impl QuotaBreach {
    pub fn message(&self) -> String {
        format!(
            "client {} is at its {} quota: {} of {} in use, and this order would make {}. \
             Raise the quota (hostdesk quota set), or place the order with an explicit override \
             (--override-quota), which the audit log records",
            self.client_name, self.resource, self.current, self.limit, self.after
        )
    }

    /// The refusal: `invalid` on the field `quota`.
    pub fn error(&self) -> AppError {
        AppError::invalid("quota", self.message())
    }
}

/// Whether an order (with these quotas of its own, adding a site or not) fits the client's
/// quotas: `Some` breach when it does not. Today the sites are checked: the client's sites
/// (not deleted, of live subscriptions) against the sum of its subscriptions' site quotas
/// (none set, or one unlimited: no limit).
pub fn check_order(
    conn: &Connection,
    client_id: i64,
    order_quotas: &[(String, Option<i64>)],
    adds_site: bool,
) -> Result<Option<QuotaBreach>> {
    if !adds_site {
        return Ok(None);
    }
    let sites = Resource::Sites.as_str();
    let (mut n, mut unlimited, mut sum) = store::client_quota(conn, client_id, sites)?;
    if let Some((_, own)) = order_quotas.iter().find(|(r, _)| r == sites) {
        n += 1;
        match own {
            Some(l) => sum += l,
            None => unlimited = true,
        }
    }
    if n == 0 || unlimited {
        return Ok(None);
    }
    let current = store::client_sites(conn, client_id)?;
    let after = current + 1;
    if after <= sum {
        return Ok(None);
    }
    let client = clients::get(conn, client_id)?;
    Ok(Some(QuotaBreach {
        client_id,
        client_name: client.name,
        resource: sites.into(),
        limit: sum,
        current,
        after,
    }))
}

/// Records a staff override of a quota in the audit log (the order's own transaction).
pub fn record_override(
    tx: &Connection,
    ctx: &Ctx,
    order_id: i64,
    breach: &QuotaBreach,
) -> Result<()> {
    ctx.audit(
        tx,
        "order",
        Some(order_id),
        "quota_override",
        None::<&()>,
        Some(&json!({
            "resource": breach.resource, "limit": breach.limit,
            "current": breach.current, "after": breach.after,
            "message": breach.message(),
        })),
    )
}

/// What `quota set` did.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QuotaChange {
    pub subscription_id: i64,
    pub resource: String,
    /// The limit before (None: unlimited or none).
    pub before: Option<i64>,
    pub limit: Option<i64>,
    /// Used this period, and its share of the new limit.
    pub used: i64,
    pub percent: Option<i64>,
    /// The `quota.set` jobs that push it to the servers (none when no server enforces it or
    /// nothing changed).
    pub jobs: Vec<i64>,
}

/// Sets a subscription's limit of a resource (None: unlimited), pushes it to the servers that
/// enforce it, and brings the period's usage figures and alerts up to date.
pub fn set_quota(
    ws: &mut Workspace,
    id: i64,
    resource: &str,
    limit: Option<i64>,
) -> Result<QuotaChange> {
    let r = parse_resource(resource)?;
    if limit.is_some_and(|l| l < 0) {
        return Err(AppError::invalid(
            "limit",
            "a limit is 0 or more (or unlimited)",
        ));
    }
    let sub = subscriptions::get(ws.conn(), id)?;
    if !["pending", "active", "suspended"].contains(&sub.state.as_str()) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "subscription {id} is {}: its quotas no longer change",
                sub.state
            ),
        ));
    }
    let now = ws.clock().now();
    ws.write(|tx, ctx| {
        let before = store::set_quota_limit(tx, id, r.as_str(), limit)?;
        ctx.audit(
            tx,
            "subscription",
            Some(id),
            "set_quota",
            Some(&json!({ "resource": r.as_str(), "limit": before.flatten() })),
            Some(&json!({ "resource": r.as_str(), "limit": limit })),
        )?;
        let jobs = push_limits(tx, ctx, id)?;
        let rows = alerts::refresh(tx, ctx, id, now)?;
        let row = rows.iter().find(|p| p.resource == r.as_str());
        Ok(QuotaChange {
            subscription_id: id,
            resource: r.as_str().into(),
            before: before.flatten(),
            limit,
            used: row.map_or(0, |p| p.used),
            percent: row.and_then(|p| p.percent),
            jobs,
        })
    })
}

/// The resources a `quota.set` job carries.
const PUSHED: [Resource; 2] = [Resource::DiskMb, Resource::BandwidthMb];

/// Queues a `quota.set` job for each site of the subscription whose limits differ from what
/// was last pushed there (see the module docs). Returns the jobs queued.
pub fn push_limits(tx: &Connection, ctx: &Ctx, subscription_id: i64) -> Result<Vec<i64>> {
    let quotas = store::quotas_of(tx, subscription_id)?;
    let site_ids: Vec<i64> = tx
        .prepare_cached(
            "SELECT id FROM sites WHERE subscription_id = ?1 AND status <> 'deleted'
                AND server_id IS NOT NULL ORDER BY id",
        )?
        .query_map([subscription_id], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut jobs = Vec::new();
    for site_id in site_ids {
        let site = store_servers::get_site(tx, site_id)?;
        if let Some(job) = push_site(tx, ctx, &site, &quotas)? {
            jobs.push(job);
        }
    }
    Ok(jobs)
}

/// The limit to push for a quota row: None (no row: the server's package decides), or the
/// limit with 0 for unlimited.
fn target(quotas: &[(String, Option<i64>)], r: Resource) -> Option<i64> {
    quotas
        .iter()
        .find(|(res, _)| res == r.as_str())
        .map(|(_, l)| l.unwrap_or(0))
}

fn push_site(
    tx: &Connection,
    ctx: &Ctx,
    site: &SiteRow,
    quotas: &[(String, Option<i64>)],
) -> Result<Option<i64>> {
    let (Some(server_id), Some(kind)) = (site.server_id, site.server_kind.as_deref()) else {
        return Ok(None);
    };
    if !can_run(kind, QUOTA_SET) {
        return Ok(None);
    }
    let support = collect::support(kind);
    let pushed = store::pushed_limits(tx, site.id)?;
    let mut change: Vec<(Resource, i64)> = Vec::new();
    for r in PUSHED {
        if !support.enforces(r) {
            continue;
        }
        let Some(want) = target(quotas, r) else {
            continue;
        };
        let last = match pushed.iter().find(|(res, _, _)| res == r.as_str()) {
            Some((_, limit, job)) if !job_failed(tx, *job)? => Some(*limit),
            _ => None,
        };
        if last == Some(want) || (last.is_none() && want == 0) {
            continue;
        }
        change.push((r, want));
    }
    if change.is_empty() {
        return Ok(None);
    }
    let mb = |r: Resource| {
        change
            .iter()
            .find(|(x, _)| *x == r)
            .and_then(|(_, l)| u64::try_from(*l).ok())
    };
    let action = SiteAction::SetQuota {
        disk_mb: mb(Resource::DiskMb),
        bandwidth_mb: mb(Resource::BandwidthMb),
    };
    let pending = store_servers::pending_site_jobs(tx, site.id)?;
    let last = store_servers::last_site_job(tx, site.id)?;
    let shown = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |n| n.to_string());
    let job = jobs::enqueue_in(
        tx,
        ctx,
        &JobSpec {
            kind: QUOTA_SET.into(),
            key: format!(
                "site:{}:quota.set:disk={}:bw={}:after:{last}",
                site.id,
                shown(mb(Resource::DiskMb)),
                shown(mb(Resource::BandwidthMb))
            ),
            server_id: Some(server_id),
            subscription_id: Some(site.subscription_id),
            site_id: Some(site.id),
            payload: action.payload(site),
            max_attempts: None,
            // after the site's unfinished jobs (its creation first)
            after: pending.iter().map(|(id, _)| *id).collect(),
        },
    )?;
    for (r, limit) in &change {
        store::record_push(tx, site.id, r.as_str(), *limit, job, &ctx.at)?;
    }
    Ok(Some(job))
}

/// A push whose job died or was cancelled did not happen.
fn job_failed(tx: &Connection, job: Option<i64>) -> Result<bool> {
    let Some(id) = job else {
        return Ok(false);
    };
    let state: Option<String> = tx
        .prepare_cached("SELECT state FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    Ok(matches!(
        state.as_deref(),
        Some("dead" | "cancelled") | None
    ))
}
