//! Backups Hostdesk asked for (table `backups`), and the per-product trial length, backup
//! schedule and retention (table `product_lifecycle`).

use hostdesk_core::retention::RetentionPolicy;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

/// A backup as Hostdesk records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BackupRow {
    pub id: i64,
    pub site_id: i64,
    pub domain: String,
    /// scheduled, manual or final (the last one before an expired site was deleted: kept).
    pub reason: String,
    pub description: String,
    /// The server's id of the backup (Aegir bid); None until known.
    pub remote_id: Option<String>,
    /// requested, done, failed, deleting or deleted.
    pub state: String,
    pub taken_at: Option<String>,
    pub size_bytes: Option<i64>,
    pub job_id: Option<i64>,
    pub delete_job_id: Option<i64>,
    pub created_at: String,
}

const SELECT: &str = "SELECT b.id, b.site_id, st.domain, b.reason, b.description, b.remote_id,
        b.state, b.taken_at, b.size_bytes, b.job_id, b.delete_job_id, b.created_at
   FROM backups b JOIN sites st ON st.id = b.site_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<BackupRow> {
    Ok(BackupRow {
        id: r.get(0)?,
        site_id: r.get(1)?,
        domain: r.get(2)?,
        reason: r.get(3)?,
        description: r.get(4)?,
        remote_id: r.get(5)?,
        state: r.get(6)?,
        taken_at: r.get(7)?,
        size_bytes: r.get(8)?,
        job_id: r.get(9)?,
        delete_job_id: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// Records a backup to ask for; returns its id, or the existing row's id when a backup with
/// this description was recorded before (the schedule's slot was already taken).
pub fn insert(
    conn: &Connection,
    site_id: i64,
    reason: &str,
    description: &str,
    at: &str,
) -> Result<(i64, bool)> {
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM backups WHERE description = ?1",
            [description],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok((id, false));
    }
    conn.prepare_cached(
        "INSERT INTO backups (site_id, reason, description, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![site_id, reason, description, at])?;
    Ok((conn.last_insert_rowid(), true))
}

pub fn get(conn: &Connection, id: i64) -> Result<BackupRow> {
    conn.prepare_cached(&format!("{SELECT} WHERE b.id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("backup", id))
}

/// A site's backups, newest first; deleted ones only with `include_deleted`.
pub fn for_site(conn: &Connection, site_id: i64, include_deleted: bool) -> Result<Vec<BackupRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE b.site_id = ?1 AND (?2 OR b.state <> 'deleted')
          ORDER BY coalesce(b.taken_at, b.created_at) DESC, b.id DESC"
    ))?;
    let rows = stmt.query_map(params![site_id, include_deleted], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every backup not deleted, newest first (at most `limit`).
pub fn list(conn: &Connection, limit: i64) -> Result<Vec<BackupRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE b.state <> 'deleted'
          ORDER BY coalesce(b.taken_at, b.created_at) DESC, b.id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_job(conn: &Connection, id: i64, job_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE backups SET job_id = ?2 WHERE id = ?1",
        params![id, job_id],
    )?;
    Ok(())
}

/// The server made the backup.
pub fn mark_done(
    conn: &Connection,
    id: i64,
    remote_id: Option<&str>,
    taken_at: &str,
    size_bytes: Option<i64>,
    at: &str,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE backups SET state = 'done', remote_id = coalesce(?2, remote_id), taken_at = ?3,
                size_bytes = coalesce(?4, size_bytes), updated_at = ?5
          WHERE id = ?1 AND state IN ('requested', 'failed', 'done')",
    )?
    .execute(params![id, remote_id, taken_at, size_bytes, at])?;
    Ok(())
}

/// The backup job died: the row stays, marked failed.
pub fn mark_failed(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE backups SET state = 'failed', updated_at = ?2 WHERE id = ?1 AND state = 'requested'",
        params![id, at],
    )?;
    Ok(())
}

/// Retention dropped it: a `site.backup_delete` job is queued.
pub fn mark_deleting(conn: &Connection, id: i64, job_id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE backups SET state = 'deleting', delete_job_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, job_id, at],
    )?;
    Ok(())
}

pub fn mark_deleted(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE backups SET state = 'deleted', updated_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// Sites with more done, prunable backups (not final, with a server id) than `at_least`:
/// those retention may have something to drop.
pub fn sites_to_prune(conn: &Connection, at_least: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT b.site_id FROM backups b JOIN sites st ON st.id = b.site_id
          WHERE b.state = 'done' AND b.reason <> 'final' AND b.remote_id IS NOT NULL
            AND st.status IN ('active', 'disabled')
          GROUP BY b.site_id HAVING count(*) > ?1 ORDER BY b.site_id",
    )?;
    let rows = stmt.query_map([at_least], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A site that may be backed up on schedule, with its product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledSite {
    pub site_id: i64,
    pub product_id: i64,
    pub server_kind: String,
    pub created_at: String,
}

/// Active sites on a server whose subscription is active.
pub fn active_sites(conn: &Connection) -> Result<Vec<ScheduledSite>> {
    let mut stmt = conn.prepare_cached(
        "SELECT st.id, s.product_id, sv.kind, st.created_at FROM sites st
           JOIN subscriptions s ON s.id = st.subscription_id
           JOIN servers sv ON sv.id = st.server_id
          WHERE st.status = 'active' AND s.state = 'active' ORDER BY st.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ScheduledSite {
            site_id: r.get(0)?,
            product_id: r.get(1)?,
            server_kind: r.get(2)?,
            created_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The product of a site.
pub fn product_of_site(conn: &Connection, site_id: i64) -> Result<i64> {
    conn.query_row(
        "SELECT s.product_id FROM sites st JOIN subscriptions s ON s.id = st.subscription_id
          WHERE st.id = ?1",
        [site_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("site", site_id))
}

/// A product's own trial length, backup schedule and retention (None: the workspace default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductLifecycle {
    pub product_id: i64,
    pub product_code: String,
    pub trial_days: Option<i64>,
    pub backup_schedule: Option<String>,
    pub keep: Option<RetentionPolicy>,
}

fn lifecycle_from_row(r: &Row<'_>) -> rusqlite::Result<ProductLifecycle> {
    let d: Option<u32> = r.get(4)?;
    let w: Option<u32> = r.get(5)?;
    let m: Option<u32> = r.get(6)?;
    Ok(ProductLifecycle {
        product_id: r.get(0)?,
        product_code: r.get(1)?,
        trial_days: r.get(2)?,
        backup_schedule: r.get(3)?,
        keep: match (d, w, m) {
            (Some(daily), Some(weekly), Some(monthly)) => Some(RetentionPolicy {
                daily,
                weekly,
                monthly,
            }),
            _ => None,
        },
    })
}

const LIFECYCLE_SELECT: &str =
    "SELECT p.id, p.code, l.trial_days, l.backup_schedule, l.keep_daily, l.keep_weekly,
        l.keep_monthly
   FROM products p LEFT JOIN product_lifecycle l ON l.product_id = p.id";

pub fn product_lifecycle(conn: &Connection, product_id: i64) -> Result<ProductLifecycle> {
    conn.prepare_cached(&format!("{LIFECYCLE_SELECT} WHERE p.id = ?1"))?
        .query_row([product_id], lifecycle_from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("product", product_id))
}

/// Products with settings of their own.
pub fn product_lifecycles(conn: &Connection) -> Result<Vec<ProductLifecycle>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{LIFECYCLE_SELECT} WHERE l.product_id IS NOT NULL ORDER BY p.code"
    ))?;
    let rows = stmt.query_map([], lifecycle_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn ensure_row(conn: &Connection, product_id: i64, at: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO product_lifecycle (product_id, updated_at) VALUES (?1, ?2)
         ON CONFLICT (product_id) DO NOTHING",
        params![product_id, at],
    )?;
    Ok(())
}

pub fn set_trial_days(
    conn: &Connection,
    product_id: i64,
    days: Option<i64>,
    at: &str,
) -> Result<()> {
    ensure_row(conn, product_id, at)?;
    conn.execute(
        "UPDATE product_lifecycle SET trial_days = ?2, updated_at = ?3 WHERE product_id = ?1",
        params![product_id, days, at],
    )?;
    Ok(())
}

/// Sets (Some) or clears back to the default (None) a product's schedule and retention.
pub fn set_backup_policy(
    conn: &Connection,
    product_id: i64,
    schedule: Option<&str>,
    keep: Option<RetentionPolicy>,
    at: &str,
) -> Result<()> {
    ensure_row(conn, product_id, at)?;
    let (d, w, m) = match keep {
        Some(k) => (Some(k.daily), Some(k.weekly), Some(k.monthly)),
        None => (None, None, None),
    };
    conn.execute(
        "UPDATE product_lifecycle SET backup_schedule = ?2, keep_daily = ?3, keep_weekly = ?4,
                keep_monthly = ?5, updated_at = ?6
          WHERE product_id = ?1",
        params![product_id, schedule, d, w, m, at],
    )?;
    Ok(())
}
