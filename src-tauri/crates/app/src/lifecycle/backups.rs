//! Backups: on a schedule per product (each site at its own minute of the day or the week, see
//! `hostdesk_core::retention::slot_on`), on demand, and the last one before an expired site is
//! deleted; retention by a grandfather-father-son policy per product (else the workspace
//! default, setting `backup_policy`); restore from a chosen backup.
//!
//! [`run_due`] queues, for every active site whose product backs up on a schedule, the backup of
//! its latest slot (today's if its minute has passed, else the one before) unless that slot's
//! backup was queued already: run it every few minutes (the app does; from cron:
//! `hostdesk backup run --due`), and each site backs up close to its own minute, once per slot.
//! [`prune`] queues a `site.backup_delete` job for every done backup the policy does not keep
//! (a `final` backup is never pruned).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use hostdesk_core::retention::{self, KeptFor, RetentionPolicy, Schedule, Taken};
use hostdesk_remote::Operation;
use hostdesk_store::backups::{self as store_backups, BackupRow};
use hostdesk_store::servers::{self as store_servers, SiteRow};
use hostdesk_store::{catalog, jobs as store_jobs, settings as store_settings, Connection};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::jobs::{SITE_BACKUP, SITE_BACKUP_DELETE, SITE_RESTORE};
use crate::jobs::{enqueue_in, JobSpec};
use crate::provisioning::{capabilities, find_site};
use crate::{AppError, Ctx, ErrorCode, Result, Workspace};

/// Settings key of the workspace's default schedule and retention (JSON [`BackupDefaults`]).
pub const POLICY: &str = "backup_policy";

/// The schedule and retention of products that have none of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct BackupDefaults {
    pub schedule: Schedule,
    pub retention: RetentionPolicy,
}

impl Default for BackupDefaults {
    fn default() -> Self {
        BackupDefaults {
            schedule: Schedule::Daily,
            retention: RetentionPolicy::default(),
        }
    }
}

pub fn defaults(conn: &Connection) -> Result<BackupDefaults> {
    match store_settings::get(conn, POLICY)? {
        None => Ok(BackupDefaults::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| AppError::invalid("policy", format!("the stored backup policy: {e}"))),
    }
}

/// A product's schedule and retention (its own, else the workspace default).
pub fn policy_of_product(
    conn: &Connection,
    product_id: i64,
) -> Result<(Schedule, RetentionPolicy)> {
    let d = defaults(conn)?;
    let own = store_backups::product_lifecycle(conn, product_id)?;
    let schedule = match own.backup_schedule.as_deref() {
        Some(s) => s
            .parse()
            .map_err(|m: String| AppError::new(ErrorCode::Database, m))?,
        None => d.schedule,
    };
    Ok((schedule, own.keep.unwrap_or(d.retention)))
}

/// A schedule and retention as staff see it: the workspace default (no product) or a product's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BackupPolicyView {
    pub product_code: Option<String>,
    pub schedule: Schedule,
    pub retention: RetentionPolicy,
    /// Whether the product sets them itself (else it follows the default).
    pub own_schedule: bool,
    pub own_retention: bool,
}

/// What to change: the default (no product) or a product's; `reset` makes a product follow the
/// default again.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct BackupPolicyRequest {
    pub product: Option<String>,
    pub schedule: Option<Schedule>,
    pub retention: Option<RetentionPolicy>,
    pub reset: bool,
}

fn check_retention(r: &RetentionPolicy) -> Result<()> {
    r.check().map_err(|m| AppError::invalid("retention", m))
}

/// The default and every product with a policy of its own.
pub fn policies(ws: &Workspace) -> Result<Vec<BackupPolicyView>> {
    let d = defaults(ws.conn())?;
    let mut out = vec![BackupPolicyView {
        product_code: None,
        schedule: d.schedule,
        retention: d.retention,
        own_schedule: true,
        own_retention: true,
    }];
    for p in store_backups::product_lifecycles(ws.conn())? {
        if p.backup_schedule.is_none() && p.keep.is_none() {
            continue;
        }
        out.push(product_view(ws.conn(), p.product_id)?);
    }
    Ok(out)
}

fn product_view(conn: &Connection, product_id: i64) -> Result<BackupPolicyView> {
    let own = store_backups::product_lifecycle(conn, product_id)?;
    let (schedule, retention) = policy_of_product(conn, product_id)?;
    Ok(BackupPolicyView {
        product_code: Some(own.product_code),
        schedule,
        retention,
        own_schedule: own.backup_schedule.is_some(),
        own_retention: own.keep.is_some(),
    })
}

fn product_id(conn: &Connection, code: &str) -> Result<i64> {
    catalog::product_id(conn, code.trim()).map_err(|e| match e {
        hostdesk_store::StoreError::NotFound { .. } => {
            AppError::invalid("product", format!("no product with code '{}'", code.trim()))
        }
        e => e.into(),
    })
}

pub fn set_policy(ws: &mut Workspace, req: &BackupPolicyRequest) -> Result<BackupPolicyView> {
    if let Some(r) = &req.retention {
        check_retention(r)?;
    }
    match req
        .product
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => {
            if req.reset {
                return Err(AppError::invalid(
                    "reset",
                    "name the product that should follow the workspace default again",
                ));
            }
            let before = defaults(ws.conn())?;
            let after = BackupDefaults {
                schedule: req.schedule.unwrap_or(before.schedule),
                retention: req.retention.unwrap_or(before.retention),
            };
            let text = serde_json::to_string(&after)
                .map_err(|e| AppError::invalid("policy", e.to_string()))?;
            ws.write(|tx, ctx| {
                store_settings::set(tx, POLICY, &text)?;
                ctx.audit(tx, "setting", None, POLICY, Some(&before), Some(&after))
            })?;
            Ok(policies(ws)?.remove(0))
        }
        Some(code) => {
            let id = product_id(ws.conn(), code)?;
            let before = store_backups::product_lifecycle(ws.conn(), id)?;
            let (schedule, keep) = if req.reset {
                (None, None)
            } else {
                (
                    req.schedule
                        .map(|s| s.as_str().to_owned())
                        .or(before.backup_schedule.clone()),
                    req.retention.or(before.keep),
                )
            };
            ws.write(|tx, ctx| {
                store_backups::set_backup_policy(tx, id, schedule.as_deref(), keep, &ctx.at)?;
                let after = store_backups::product_lifecycle(tx, id)?;
                ctx.audit(
                    tx,
                    "product",
                    Some(id),
                    "backup_policy",
                    Some(&before),
                    Some(&after),
                )
            })?;
            product_view(ws.conn(), id)
        }
    }
}

/// Whether a server of this kind can back sites up / restore them.
pub fn can_back_up(server_kind: &str) -> bool {
    capabilities(server_kind).supports(Operation::Backup)
}

pub fn can_restore(server_kind: &str) -> bool {
    capabilities(server_kind).supports(Operation::Restore)
}

/// A backup as the site's backup panel shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BackupView {
    pub backup: BackupRow,
    /// The state of its backup job (a dead job leaves the backup `requested`).
    pub job_state: Option<String>,
    /// Why retention keeps it (None: it is not a done, prunable backup, or it will be pruned).
    pub kept_for: Option<KeptFor>,
    /// Retention will drop it at the next prune.
    pub prunable: bool,
    pub restorable: bool,
}

fn taken(b: &BackupRow) -> Option<Taken> {
    let at = b.taken_at.as_deref()?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some(Taken { id: b.id, at })
}

/// The backups retention decides about: done, not final, with an id on the server.
fn prunable(b: &BackupRow) -> bool {
    b.state == "done" && b.reason != "final" && b.remote_id.is_some()
}

fn views(conn: &Connection, site: &SiteRow, rows: Vec<BackupRow>) -> Result<Vec<BackupView>> {
    let product = store_backups::product_of_site(conn, site.id)?;
    let (_, retention) = policy_of_product(conn, product)?;
    let candidates: Vec<Taken> = rows
        .iter()
        .filter(|b| prunable(b))
        .filter_map(taken)
        .collect();
    let kept = retention::select(&retention, &candidates);
    let restore_ok =
        site.status != "deleted" && site.server_kind.as_deref().is_some_and(can_restore);
    rows.into_iter()
        .map(|b| {
            let job_state = match b.job_id {
                Some(j) => Some(store_jobs::get(conn, j)?.state),
                None => None,
            };
            let is_candidate = prunable(&b) && b.taken_at.is_some();
            Ok(BackupView {
                kept_for: kept.get(&b.id).copied(),
                prunable: is_candidate && !kept.contains_key(&b.id),
                restorable: restore_ok && b.state == "done" && b.remote_id.is_some(),
                job_state,
                backup: b,
            })
        })
        .collect()
}

/// A site's backup panel: what its server can do, its schedule and retention, its backups.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BackupPanel {
    pub site: SiteRow,
    pub can_back_up: bool,
    pub can_restore: bool,
    pub schedule: Schedule,
    pub retention: RetentionPolicy,
    /// When its next scheduled backup is due (RFC 3339), if it has a schedule.
    pub next_backup_at: Option<String>,
    pub backups: Vec<BackupView>,
}

/// The next slot of a site after `now`.
fn next_slot(schedule: Schedule, site_id: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (0..=8)
        .filter_map(|d| retention::slot_on(schedule, site_id, now.date_naive() + Duration::days(d)))
        .find(|t| *t > now)
}

/// The latest slot of a site at or before `now` (within a week).
fn latest_slot(schedule: Schedule, site_id: i64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (0..=7)
        .filter_map(|d| retention::slot_on(schedule, site_id, now.date_naive() - Duration::days(d)))
        .find(|t| *t <= now)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn panel(ws: &Workspace, site_id: i64) -> Result<BackupPanel> {
    let site = store_servers::get_site(ws.conn(), site_id)?;
    let product = store_backups::product_of_site(ws.conn(), site.id)?;
    let (schedule, retention) = policy_of_product(ws.conn(), product)?;
    let kind = site.server_kind.clone().unwrap_or_default();
    let rows = store_backups::for_site(ws.conn(), site.id, false)?;
    let next = (site.status == "active" && can_back_up(&kind))
        .then(|| next_slot(schedule, site.id, ws.clock().now()))
        .flatten()
        .map(stamp);
    Ok(BackupPanel {
        backups: views(ws.conn(), &site, rows)?,
        can_back_up: site.status != "deleted" && can_back_up(&kind),
        can_restore: site.status != "deleted" && can_restore(&kind),
        schedule,
        retention,
        next_backup_at: next,
        site,
    })
}

/// Backups of one site (id or domain), or of every site (newest first, at most 500).
pub fn list(ws: &Workspace, site: Option<&str>, include_deleted: bool) -> Result<Vec<BackupView>> {
    match site {
        Some(key) => {
            let s = find_site(ws, key)?;
            let rows = store_backups::for_site(ws.conn(), s.id, include_deleted)?;
            views(ws.conn(), &s, rows)
        }
        None => {
            let rows = store_backups::list(ws.conn(), 500)?;
            let mut by_site: HashMap<i64, Vec<BackupRow>> = HashMap::new();
            let mut order = Vec::new();
            for r in rows {
                if !by_site.contains_key(&r.site_id) {
                    order.push(r.site_id);
                }
                by_site.entry(r.site_id).or_default().push(r);
            }
            let mut out = Vec::new();
            for id in order {
                let s = store_servers::get_site(ws.conn(), id)?;
                out.extend(views(
                    ws.conn(),
                    &s,
                    by_site.remove(&id).unwrap_or_default(),
                )?);
            }
            Ok(out)
        }
    }
}

/// A backup queued: its row and its job.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QueuedBackup {
    pub backup_id: i64,
    pub job_id: i64,
    pub site_id: i64,
    pub domain: String,
}

/// Queues a backup of the site in the caller's transaction (after the site's unfinished jobs).
/// Returns None when a backup with this description was queued before.
pub(crate) fn queue_backup(
    tx: &Connection,
    ctx: &Ctx,
    site: &SiteRow,
    reason: &str,
    description: &str,
) -> Result<Option<QueuedBackup>> {
    let (Some(server_id), Some(kind)) = (site.server_id, site.server_kind.as_deref()) else {
        return Err(AppError::invalid(
            "site",
            format!("site {} is not placed on a server", site.domain),
        ));
    };
    if !can_back_up(kind) {
        return Err(AppError::invalid(
            "site",
            format!(
                "server {} ({kind}) cannot back up a site",
                site.server_name.as_deref().unwrap_or("?")
            ),
        ));
    }
    let (backup_id, created) = store_backups::insert(tx, site.id, reason, description, &ctx.at)?;
    if !created {
        return Ok(None);
    }
    let pending = store_servers::pending_site_jobs(tx, site.id)?;
    let job_id = enqueue_in(
        tx,
        ctx,
        &JobSpec {
            kind: SITE_BACKUP.into(),
            key: format!("backup:{backup_id}"),
            server_id: Some(server_id),
            subscription_id: Some(site.subscription_id),
            site_id: Some(site.id),
            payload: json!({
                "backupId": backup_id, "siteId": site.id, "site": site.domain, "reason": reason
            }),
            max_attempts: None,
            after: pending.iter().map(|(id, _)| *id).collect(),
        },
    )?;
    store_backups::set_job(tx, backup_id, job_id)?;
    Ok(Some(QueuedBackup {
        backup_id,
        job_id,
        site_id: site.id,
        domain: site.domain.clone(),
    }))
}

/// Staff ask for a backup of a site now.
pub fn back_up_now(ws: &mut Workspace, site_key: &str) -> Result<QueuedBackup> {
    let site = find_site(ws, site_key)?;
    if site.status == "deleted" {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("site {} is deleted", site.domain),
        ));
    }
    ws.write(|tx, ctx| {
        // Unique even when two requests share an instant (a fixed clock).
        let n = store_backups::for_site(tx, site.id, true)?.len() + 1;
        let description = format!(
            "Hostdesk backup of site {} requested {} (#{n})",
            site.id, ctx.at_ms
        );
        let q = queue_backup(tx, ctx, &site, "manual", &description)?.ok_or_else(|| {
            AppError::new(ErrorCode::Conflict, "this backup was requested already")
        })?;
        ctx.audit(tx, "site", Some(site.id), "backup", None::<&()>, Some(&q))?;
        Ok(q)
    })
}

/// What [`run_due`] did.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DueReport {
    pub queued: Vec<QueuedBackup>,
    /// Active sites with a schedule whose server cannot back up.
    pub unsupported: i64,
}

/// Queues the scheduled backups that are due (each site's latest slot, once).
pub fn run_due(ws: &mut Workspace) -> Result<DueReport> {
    let now = ws.clock().now();
    let sites = store_backups::active_sites(ws.conn())?;
    let mut policies: HashMap<i64, Schedule> = HashMap::new();
    let mut due = Vec::new();
    let mut unsupported = 0;
    for s in sites {
        let schedule = match policies.get(&s.product_id) {
            Some(p) => *p,
            None => {
                let (p, _) = policy_of_product(ws.conn(), s.product_id)?;
                policies.insert(s.product_id, p);
                p
            }
        };
        if schedule == Schedule::Off {
            continue;
        }
        if !can_back_up(&s.server_kind) {
            unsupported += 1;
            continue;
        }
        let Some(slot) = latest_slot(schedule, s.site_id, now) else {
            continue;
        };
        // A site created after its slot waits for the next one.
        let created = DateTime::parse_from_rfc3339(&s.created_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        if created > slot {
            continue;
        }
        due.push((s.site_id, slot));
    }
    ws.write(|tx, ctx| {
        let mut report = DueReport {
            unsupported,
            ..Default::default()
        };
        for (site_id, slot) in due {
            let site = store_servers::get_site(tx, site_id)?;
            let description = format!(
                "Hostdesk scheduled backup of site {site_id} at {} UTC",
                slot.format("%Y-%m-%d %H:%M")
            );
            if let Some(q) = queue_backup(tx, ctx, &site, "scheduled", &description)? {
                report.queued.push(q);
            }
        }
        Ok(report)
    })
}

/// Queues a restore of the site from one of its backups; returns the job id. Asking again
/// while the same restore is the site's newest unfinished job returns that job.
pub fn restore(ws: &mut Workspace, site_key: &str, backup_id: i64) -> Result<i64> {
    let site = find_site(ws, site_key)?;
    let b = store_backups::get(ws.conn(), backup_id)?;
    if b.site_id != site.id {
        return Err(AppError::invalid(
            "backup",
            format!("backup {backup_id} is not a backup of {}", site.domain),
        ));
    }
    if site.status == "deleted" {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "site {} is deleted: create it again on its server, then restore",
                site.domain
            ),
        ));
    }
    let kind = site.server_kind.clone().unwrap_or_default();
    if !can_restore(&kind) {
        return Err(AppError::invalid(
            "site",
            format!(
                "server {} ({kind}) cannot restore a backup",
                site.server_name.clone().unwrap_or_default()
            ),
        ));
    }
    if b.state != "done" || b.remote_id.is_none() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "backup {backup_id} is {}{}: only a finished backup the server knows can be restored",
                b.state,
                if b.remote_id.is_none() { " (no id on the server)" } else { "" }
            ),
        ));
    }
    ws.write(|tx, ctx| {
        let pending = store_servers::pending_site_jobs(tx, site.id)?;
        if let Some((id, k)) = pending.last() {
            if k == SITE_RESTORE
                && store_jobs::get(tx, *id)?.payload["backupId"] == json!(backup_id)
            {
                return Ok(*id);
            }
        }
        let last = store_servers::last_site_job(tx, site.id)?;
        let job = enqueue_in(
            tx,
            ctx,
            &JobSpec {
                kind: SITE_RESTORE.into(),
                key: format!("site:{}:restore:{backup_id}:after:{last}", site.id),
                server_id: site.server_id,
                subscription_id: Some(site.subscription_id),
                site_id: Some(site.id),
                payload: json!({ "backupId": backup_id, "siteId": site.id, "site": site.domain }),
                max_attempts: None,
                after: pending.iter().map(|(id, _)| *id).collect(),
            },
        )?;
        ctx.audit(
            tx,
            "site",
            Some(site.id),
            "restore",
            None::<&()>,
            Some(&json!({ "backupId": backup_id, "takenAt": b.taken_at, "job": job })),
        )?;
        Ok(job)
    })
}

/// What [`prune`] did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PruneReport {
    pub dry_run: bool,
    pub sites: i64,
    pub kept: i64,
    /// The backups retention drops, with their delete jobs (0 in a dry run).
    pub deleting: Vec<QueuedBackup>,
}

/// Applies retention to one site (id or domain) or to every site that may have something to
/// drop: a `site.backup_delete` job per backup the policy does not keep.
pub fn prune(ws: &mut Workspace, site: Option<&str>, dry_run: bool) -> Result<PruneReport> {
    let site_ids = match site {
        Some(key) => vec![find_site(ws, key)?.id],
        None => store_backups::sites_to_prune(ws.conn(), 1)?,
    };
    let mut plan: Vec<(SiteRow, Vec<i64>, i64)> = Vec::new();
    for id in site_ids {
        let s = store_servers::get_site(ws.conn(), id)?;
        if s.status == "deleted" || !s.server_kind.as_deref().is_some_and(can_back_up) {
            continue;
        }
        let product = store_backups::product_of_site(ws.conn(), id)?;
        let (_, policy) = policy_of_product(ws.conn(), product)?;
        let rows = store_backups::for_site(ws.conn(), id, false)?;
        let candidates: Vec<Taken> = rows
            .iter()
            .filter(|b| prunable(b))
            .filter_map(taken)
            .collect();
        let drop = retention::prune(&policy, &candidates);
        let kept = (candidates.len() - drop.len()) as i64;
        plan.push((s, drop, kept));
    }
    let mut report = PruneReport {
        dry_run,
        sites: plan.len() as i64,
        kept: plan.iter().map(|(_, _, k)| k).sum(),
        deleting: Vec::new(),
    };
    if dry_run {
        report.deleting = plan
            .iter()
            .flat_map(|(s, drop, _)| {
                drop.iter().map(|b| QueuedBackup {
                    backup_id: *b,
                    job_id: 0,
                    site_id: s.id,
                    domain: s.domain.clone(),
                })
            })
            .collect();
        return Ok(report);
    }
    report.deleting = ws.write(|tx, ctx| {
        let mut out = Vec::new();
        for (s, drop, _) in &plan {
            for b in drop {
                let pending = store_servers::pending_site_jobs(tx, s.id)?;
                let job = enqueue_in(
                    tx,
                    ctx,
                    &JobSpec {
                        kind: SITE_BACKUP_DELETE.into(),
                        key: format!("backup-delete:{b}"),
                        server_id: s.server_id,
                        subscription_id: Some(s.subscription_id),
                        site_id: Some(s.id),
                        payload: json!({ "backupId": b, "siteId": s.id, "site": s.domain }),
                        max_attempts: None,
                        after: pending.iter().map(|(id, _)| *id).collect(),
                    },
                )?;
                store_backups::mark_deleting(tx, *b, job, &ctx.at)?;
                out.push(QueuedBackup {
                    backup_id: *b,
                    job_id: job,
                    site_id: s.id,
                    domain: s.domain.clone(),
                });
            }
        }
        if !out.is_empty() {
            ctx.audit(tx, "backup", None, "prune", None::<&()>, Some(&out))?;
        }
        Ok(out)
    })?;
    Ok(report)
}
