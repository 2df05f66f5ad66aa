//! Hosting servers (`servers`), the sites their last sync reported (`server_sites`), and the
//! queries provisioning needs on `sites` and `jobs` per server.
//!
//! No function here takes or returns a token: a server's API token lives in the OS keyring.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use crate::{Result, StoreError};

/// The driver kinds a server may have.
pub const KINDS: &[&str] = &["aegir", "whm", "caddy", "sandbox"];

/// Error codes that mean "the server could not be reached at all" (nothing happened there).
pub const UNREACHABLE_CODES: &[&str] = &["dns", "connect"];

/// Error codes of a network failure: the server is shown as offline.
pub const OFFLINE_CODES: &[&str] = &["dns", "connect", "timeout"];

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub id: i64,
    pub name: String,
    /// aegir, whm, caddy or sandbox.
    pub kind: String,
    pub base_url: String,
    pub username: String,
    pub master_domain: String,
    pub concurrency: i64,
    pub platforms: Vec<String>,
    pub profiles: Vec<String>,
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub options: Value,
    pub last_synced_at: Option<String>,
    pub last_seen_ok_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_code: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What staff set on a server (validated by the app before it gets here).
#[derive(Debug, Clone)]
pub struct ServerFields<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub base_url: &'a str,
    pub username: &'a str,
    pub master_domain: &'a str,
    pub concurrency: i64,
    pub platforms: &'a [String],
    pub profiles: &'a [String],
    pub options: &'a Value,
}

const COLUMNS: &str = "id, name, kind, base_url, username, master_domain, concurrency, platforms, \
     profiles, options, last_synced_at, last_seen_ok_at, last_attempt_at, last_error, \
     last_error_code, created_at, updated_at";

fn json_col<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    serde_json::from_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Server> {
    Ok(Server {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        base_url: r.get(3)?,
        username: r.get(4)?,
        master_domain: r.get(5)?,
        concurrency: r.get(6)?,
        platforms: json_col(r, 7)?,
        profiles: json_col(r, 8)?,
        options: json_col(r, 9)?,
        last_synced_at: r.get(10)?,
        last_seen_ok_at: r.get(11)?,
        last_attempt_at: r.get(12)?,
        last_error: r.get(13)?,
        last_error_code: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
    })
}

fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub fn insert(conn: &Connection, s: &ServerFields<'_>, at: &str) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO servers (name, kind, base_url, username, master_domain, concurrency,
                              platforms, profiles, options, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
    )?
    .execute(params![
        s.name,
        s.kind,
        s.base_url,
        s.username,
        s.master_domain,
        s.concurrency,
        to_json(&s.platforms),
        to_json(&s.profiles),
        s.options.to_string(),
        at
    ])
    .map_err(|e| {
        StoreError::unique_or(e, || format!("a server named '{}' already exists", s.name))
    })?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, id: i64, s: &ServerFields<'_>, at: &str) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE servers SET name = ?2, kind = ?3, base_url = ?4, username = ?5,
                    master_domain = ?6, concurrency = ?7, platforms = ?8, profiles = ?9,
                    options = ?10, updated_at = ?11
              WHERE id = ?1",
        )?
        .execute(params![
            id,
            s.name,
            s.kind,
            s.base_url,
            s.username,
            s.master_domain,
            s.concurrency,
            to_json(&s.platforms),
            to_json(&s.profiles),
            s.options.to_string(),
            at
        ])
        .map_err(|e| {
            StoreError::unique_or(e, || format!("a server named '{}' already exists", s.name))
        })?;
    if n == 0 {
        return Err(StoreError::not_found("server", id));
    }
    Ok(())
}

/// Marks the server as changed (its token was replaced): drivers built from it are rebuilt.
pub fn touch(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE servers SET updated_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: i64) -> Result<Server> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM servers WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("server", id))
}

/// By name, ignoring case.
pub fn find_by_name(conn: &Connection, name: &str) -> Result<Option<Server>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM servers WHERE name = ?1"))?
        .query_row([name.trim()], from_row)
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Server>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM servers ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The concurrency limit of every server, for the job runner.
pub fn concurrency_limits(conn: &Connection) -> Result<HashMap<i64, usize>> {
    let mut stmt = conn.prepare_cached("SELECT id, concurrency FROM servers")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, n) = row?;
        out.insert(id, usize::try_from(n).unwrap_or(1).max(1));
    }
    Ok(out)
}

/// The server answered as expected.
pub fn record_ok(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE servers SET last_seen_ok_at = ?2, last_attempt_at = ?2, last_error = NULL,
                last_error_code = NULL
          WHERE id = ?1",
    )?
    .execute(params![id, at])?;
    Ok(())
}

/// Talking to the server failed (`code` is the driver's error code).
pub fn record_error(conn: &Connection, id: i64, code: &str, message: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE servers SET last_attempt_at = ?2, last_error = ?3, last_error_code = ?4
          WHERE id = ?1",
    )?
    .execute(params![id, at, message, code])?;
    Ok(())
}

/// What a test connection found: the profiles (Aegir) or packages (WHM) the server offers.
pub fn set_profiles(conn: &Connection, id: i64, profiles: &[String]) -> Result<()> {
    conn.execute(
        "UPDATE servers SET profiles = ?2 WHERE id = ?1",
        params![id, to_json(&profiles)],
    )?;
    Ok(())
}

/// One site as a server reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CachedSite {
    pub name: String,
    pub remote_id: Option<String>,
    /// active, queued, suspended or deleted.
    pub status: String,
    pub plan: Option<String>,
    pub client: Option<String>,
}

/// Replaces the server's cached sites with what a sync just read, and stamps the sync.
pub fn replace_cache(
    conn: &Connection,
    server_id: i64,
    sites: &[CachedSite],
    at: &str,
) -> Result<()> {
    conn.execute("DELETE FROM server_sites WHERE server_id = ?1", [server_id])?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO server_sites (server_id, name, remote_id, status, plan, client, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (server_id, name) DO UPDATE SET remote_id = excluded.remote_id,
                status = excluded.status, plan = excluded.plan, client = excluded.client",
    )?;
    for s in sites {
        ins.execute(params![
            server_id,
            s.name,
            s.remote_id,
            s.status,
            s.plan,
            s.client,
            at
        ])?;
    }
    conn.execute(
        "UPDATE servers SET last_synced_at = ?2 WHERE id = ?1",
        params![server_id, at],
    )?;
    Ok(())
}

pub fn cached_sites(conn: &Connection, server_id: i64) -> Result<Vec<CachedSite>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, remote_id, status, plan, client FROM server_sites
          WHERE server_id = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([server_id], |r| {
        Ok(CachedSite {
            name: r.get(0)?,
            remote_id: r.get(1)?,
            status: r.get(2)?,
            plan: r.get(3)?,
            client: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Jobs of each server that are still to do (queued, running, or waiting to retry).
pub fn waiting_jobs(conn: &Connection) -> Result<HashMap<i64, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT server_id, count(*) FROM jobs
          WHERE server_id IS NOT NULL AND state IN ('queued', 'running', 'failed')
          GROUP BY server_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The server answers again: its jobs waiting for a retry run now instead of at the end of
/// their backoff. Returns how many were brought forward.
pub fn wake_waiting_jobs(conn: &Connection, server_id: i64, now: &str) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET run_after = ?2, updated_at = ?2
              WHERE server_id = ?1 AND state = 'failed' AND run_after > ?2",
        )?
        .execute(params![server_id, now])?)
}

/// Gives a job one more attempt: an attempt that could not reach the server at all (offline)
/// or found a remote task still running does not use up the job's allowance.
pub fn grant_extra_attempt(conn: &Connection, job_id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE jobs SET max_attempts = max_attempts + 1 WHERE id = ?1")?
        .execute([job_id])?;
    Ok(())
}

/// A local site with where it lives, for lists and provisioning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SiteRow {
    pub id: i64,
    pub subscription_id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub client_email: String,
    pub domain: String,
    pub server_id: Option<i64>,
    pub server_name: Option<String>,
    pub server_kind: Option<String>,
    pub platform: String,
    pub profile: String,
    pub remote_id: Option<String>,
    /// queued, active, disabled or deleted.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    /// Jobs of this site still to do.
    pub pending_jobs: i64,
}

const SITE_SELECT: &str = "SELECT st.id, st.subscription_id, c.id, c.name, c.email, st.domain,
        st.server_id, sv.name, sv.kind, st.platform, st.profile, st.remote_id, st.status,
        st.created_at, st.updated_at,
        (SELECT count(*) FROM jobs j WHERE j.site_id = st.id
           AND j.state IN ('queued', 'running', 'failed'))
   FROM sites st
   JOIN subscriptions s ON s.id = st.subscription_id
   JOIN clients c ON c.id = s.client_id
   LEFT JOIN servers sv ON sv.id = st.server_id";

fn site_from_row(r: &Row<'_>) -> rusqlite::Result<SiteRow> {
    Ok(SiteRow {
        id: r.get(0)?,
        subscription_id: r.get(1)?,
        client_id: r.get(2)?,
        client_name: r.get(3)?,
        client_email: r.get(4)?,
        domain: r.get(5)?,
        server_id: r.get(6)?,
        server_name: r.get(7)?,
        server_kind: r.get(8)?,
        platform: r.get(9)?,
        profile: r.get(10)?,
        remote_id: r.get(11)?,
        status: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        pending_jobs: r.get(15)?,
    })
}

/// Which sites to list.
#[derive(Debug, Clone, Default)]
pub struct SiteFilter<'a> {
    pub server_id: Option<i64>,
    pub client_id: Option<i64>,
    pub status: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

pub fn list_sites(conn: &Connection, f: &SiteFilter<'_>) -> Result<Vec<SiteRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SITE_SELECT}
          WHERE (?1 IS NULL OR st.server_id = ?1) AND (?2 IS NULL OR c.id = ?2)
            AND (?3 IS NULL OR st.status = ?3)
          ORDER BY st.domain LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(
        params![f.server_id, f.client_id, f.status, f.limit, f.offset],
        site_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get_site(conn: &Connection, id: i64) -> Result<SiteRow> {
    conn.prepare_cached(&format!("{SITE_SELECT} WHERE st.id = ?1"))?
        .query_row([id], site_from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("site", id))
}

pub fn find_site_by_domain(conn: &Connection, domain: &str) -> Result<Option<SiteRow>> {
    Ok(conn
        .prepare_cached(&format!("{SITE_SELECT} WHERE st.domain = ?1"))?
        .query_row([domain.trim()], site_from_row)
        .optional()?)
}

/// Records what the server did to a site: its new status and/or the remote id it gave it.
pub fn update_site(
    conn: &Connection,
    id: i64,
    status: Option<&str>,
    remote_id: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE sites SET status = coalesce(?2, status), remote_id = coalesce(?3, remote_id),
                updated_at = ?4
          WHERE id = ?1",
    )?
    .execute(params![id, status, remote_id, at])?;
    Ok(())
}

/// Places a site on a server (before its creation is queued).
pub fn set_site_server(conn: &Connection, id: i64, server_id: i64, at: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE sites SET server_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, server_id, at],
    )?;
    if n == 0 {
        return Err(StoreError::not_found("site", id));
    }
    Ok(())
}

/// A local site placed on a server, as drift compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedSite {
    pub id: i64,
    pub domain: String,
    pub status: String,
    pub remote_id: Option<String>,
}

/// The local sites placed on a server.
pub fn local_sites_of(conn: &Connection, server_id: i64) -> Result<Vec<PlacedSite>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, domain, status, remote_id FROM sites WHERE server_id = ?1 ORDER BY domain",
    )?;
    let rows = stmt.query_map([server_id], |r| {
        Ok(PlacedSite {
            id: r.get(0)?,
            domain: r.get(1)?,
            status: r.get(2)?,
            remote_id: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The newest job of a site that is still to do (queued, running or waiting to retry).
pub fn pending_site_jobs(conn: &Connection, site_id: i64) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind FROM jobs WHERE site_id = ?1 AND state IN ('queued', 'running', 'failed')
          ORDER BY id",
    )?;
    let rows = stmt.query_map([site_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The id of the newest job of a site (0 when it has none).
pub fn last_site_job(conn: &Connection, site_id: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT coalesce(max(id), 0) FROM jobs WHERE site_id = ?1",
        [site_id],
        |r| r.get(0),
    )?)
}
