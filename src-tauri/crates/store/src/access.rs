//! Access grants: what a subscription's support tier gives outside the client's site (an account
//! and a role on the issue tracker, a user on the hosting site), one row per (subscription,
//! target, role), with where the `access.grant` job that carries it out stands.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

pub const STATES: &[&str] = &["pending", "granted", "failed", "revoked"];

/// A grant to plan.
#[derive(Debug, Clone)]
pub struct NewGrant<'a> {
    pub subscription_id: i64,
    pub client_id: i64,
    pub target: &'a str,
    pub role: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub id: i64,
    pub subscription_id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub target: String,
    pub role: String,
    /// pending, granted, failed or revoked.
    pub state: String,
    pub job_id: Option<i64>,
    /// The job's state (queued, running, failed, dead, ...), when there is a job.
    pub job_state: Option<String>,
    pub remote_user_id: Option<String>,
    pub remote_login: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str = "SELECT g.id, g.subscription_id, g.client_id, c.name, g.target, g.role,
        g.state, g.job_id, j.state, g.remote_user_id, g.remote_login, g.error, g.created_at,
        g.updated_at
   FROM access_grants g JOIN clients c ON c.id = g.client_id
   LEFT JOIN jobs j ON j.id = g.job_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Grant> {
    Ok(Grant {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        client_id: r.get(2)?,
        client_name: r.get(3)?,
        target: r.get(4)?,
        role: r.get(5)?,
        state: r.get(6)?,
        job_id: r.get(7)?,
        job_state: r.get(8)?,
        remote_user_id: r.get(9)?,
        remote_login: r.get(10)?,
        error: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

/// Adds a pending grant, or finds the one already planned for (subscription, target, role).
/// Returns (id, created).
pub fn insert_pending(conn: &Connection, g: &NewGrant<'_>, at: &str) -> Result<(i64, bool)> {
    let n = conn
        .prepare_cached(
            "INSERT INTO access_grants (subscription_id, client_id, target, role, state,
                                        created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)
             ON CONFLICT (subscription_id, target, role) DO NOTHING",
        )?
        .execute(params![
            g.subscription_id,
            g.client_id,
            g.target,
            g.role,
            at
        ])
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                StoreError::not_found("subscription", g.subscription_id)
            }
            e => StoreError::Sqlite(e),
        })?;
    let id: i64 = conn.query_row(
        "SELECT id FROM access_grants WHERE subscription_id = ?1 AND target = ?2 AND role = ?3",
        params![g.subscription_id, g.target, g.role],
        |r| r.get(0),
    )?;
    Ok((id, n == 1))
}

/// Records the job that carries the grant out.
pub fn set_job(conn: &Connection, id: i64, job_id: i64, at: &str) -> Result<()> {
    changed(
        conn.execute(
            "UPDATE access_grants SET job_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, job_id, at],
        )?,
        id,
    )
}

pub fn get(conn: &Connection, id: i64) -> Result<Grant> {
    conn.prepare_cached(&format!("{SELECT} WHERE g.id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("access grant", id))
}

/// Which grants to list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter<'a> {
    pub client_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub state: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

/// Newest first.
pub fn list(conn: &Connection, f: &GrantFilter<'_>) -> Result<Vec<Grant>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT}
          WHERE (?1 IS NULL OR g.client_id = ?1) AND (?2 IS NULL OR g.subscription_id = ?2)
            AND (?3 IS NULL OR g.state = ?3)
          ORDER BY g.id DESC LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(
        params![f.client_id, f.subscription_id, f.state, f.limit, f.offset],
        from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The account exists on the target: its id and login, kept even if the role is still to come.
pub fn record_user(
    conn: &Connection,
    id: i64,
    remote_user_id: &str,
    remote_login: Option<&str>,
    at: &str,
) -> Result<()> {
    changed(
        conn.execute(
            "UPDATE access_grants SET remote_user_id = ?2,
                    remote_login = coalesce(?3, remote_login), updated_at = ?4
              WHERE id = ?1",
            params![id, remote_user_id, remote_login, at],
        )?,
        id,
    )
}

/// The role is given.
pub fn mark_granted(conn: &Connection, id: i64, at: &str) -> Result<()> {
    changed(
        conn.execute(
            "UPDATE access_grants SET state = 'granted', error = NULL, updated_at = ?2
              WHERE id = ?1",
            params![id, at],
        )?,
        id,
    )
}

/// An attempt failed: `failed` when no retry will come, else still `pending` with the error. A
/// revoked (or deleted) grant is left as it is.
pub fn record_error(conn: &Connection, id: i64, error: &str, last: bool, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE access_grants
            SET state = CASE WHEN ?3 THEN 'failed' ELSE state END, error = ?2, updated_at = ?4
          WHERE id = ?1 AND state <> 'revoked'",
        params![id, error, last, at],
    )?;
    Ok(())
}

fn changed(n: usize, id: i64) -> Result<()> {
    if n == 0 {
        Err(StoreError::not_found("access grant", id))
    } else {
        Ok(())
    }
}
