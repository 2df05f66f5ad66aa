//! The job queue's table: enqueue (idempotent by key), claim (respecting prerequisites and a
//! per-server concurrency limit), record attempts, save results as soon as they are known,
//! and send jobs whose runner died back to the queue.
//!
//! Times in this table are RFC 3339 UTC with milliseconds (`2026-11-01T09:00:00.000Z`), one
//! format so that they compare as text.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use crate::{Result, StoreError};

pub const STATES: &[&str] = &[
    "queued",
    "running",
    "succeeded",
    "failed",
    "dead",
    "cancelled",
];

#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub key: &'a str,
    pub server_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub site_id: Option<i64>,
    pub payload: &'a Value,
    pub max_attempts: i64,
    pub deps: &'a [i64],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub key: String,
    pub server_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub site_id: Option<i64>,
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub payload: Value,
    #[cfg_attr(feature = "specta", specta(type = String))]
    pub result: Value,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: String,
    pub lease_until: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
    pub deps: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub attempt: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
}

const COLUMNS: &str =
    "id, kind, state, idempotency_key, server_id, subscription_id, site_id, payload, \
     result, attempts, max_attempts, run_after, lease_until, last_error, created_at, updated_at, \
     finished_at, (SELECT group_concat(depends_on) FROM job_deps d WHERE d.job_id = jobs.id)";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let json = |i: usize| -> rusqlite::Result<Value> {
        let s: String = r.get(i)?;
        serde_json::from_str(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
        })
    };
    let deps: Option<String> = r.get(17)?;
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        state: r.get(2)?,
        key: r.get(3)?,
        server_id: r.get(4)?,
        subscription_id: r.get(5)?,
        site_id: r.get(6)?,
        payload: json(7)?,
        result: json(8)?,
        attempts: r.get(9)?,
        max_attempts: r.get(10)?,
        run_after: r.get(11)?,
        lease_until: r.get(12)?,
        last_error: r.get(13)?,
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        finished_at: r.get(16)?,
        deps: deps
            .map(|d| d.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default(),
    })
}

/// Adds a job, or returns the existing one with the same idempotency key: enqueueing twice
/// (a retried order, a re-run) never makes two jobs. Returns (id, created).
pub fn enqueue(conn: &Connection, j: &NewJob<'_>, at: &str) -> Result<(i64, bool)> {
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM jobs WHERE idempotency_key = ?1",
            [j.key],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok((id, false));
    }
    conn.prepare_cached(
        "INSERT INTO jobs (kind, idempotency_key, server_id, subscription_id, site_id, payload,
                           max_attempts, run_after, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8)",
    )?
    .execute(params![
        j.kind,
        j.key,
        j.server_id,
        j.subscription_id,
        j.site_id,
        j.payload.to_string(),
        j.max_attempts,
        at
    ])?;
    let id = conn.last_insert_rowid();
    for d in j.deps {
        conn.execute(
            "INSERT INTO job_deps (job_id, depends_on) VALUES (?1, ?2)",
            params![id, d],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                StoreError::not_found("job", d)
            }
            e => StoreError::Sqlite(e),
        })?;
    }
    Ok((id, true))
}

pub fn get(conn: &Connection, id: i64) -> Result<Job> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("job", id))
}

/// Newest first, optionally one state and/or one server.
pub fn list(
    conn: &Connection,
    state: Option<&str>,
    server_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR server_id = ?2)
          ORDER BY id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(params![state, server_id, limit, offset], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets one field of a queued job's payload (before it ever ran: e.g. in the transaction that
/// queued it).
pub fn set_payload_field(conn: &Connection, id: i64, field: &str, value: &Value) -> Result<()> {
    conn.execute(
        "UPDATE jobs SET payload = json_set(payload, '$.' || ?2, json(?3))
          WHERE id = ?1 AND state = 'queued' AND attempts = 0",
        params![id, field, value.to_string()],
    )?;
    Ok(())
}

/// Files a job just queued under another subscription (a demo package's group on a shared
/// site belongs to the demo's subscription, not to the site's).
pub fn set_subscription(conn: &Connection, id: i64, subscription_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE jobs SET subscription_id = ?2 WHERE id = ?1 AND state = 'queued' AND attempts = 0",
        params![id, subscription_id],
    )?;
    Ok(())
}

/// A subscription's jobs (its order's charge and provisioning chain), oldest first.
pub fn list_for_subscription(conn: &Connection, subscription_id: i64) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM jobs WHERE subscription_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([subscription_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn attempts(conn: &Connection, id: i64) -> Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT attempt, started_at, finished_at, outcome, error, duration_ms FROM job_attempts
          WHERE job_id = ?1 ORDER BY attempt",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Attempt {
            attempt: r.get(0)?,
            started_at: r.get(1)?,
            finished_at: r.get(2)?,
            outcome: r.get(3)?,
            error: r.get(4)?,
            duration_ms: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Claims up to `max` ready jobs (queued, or failed and due) whose prerequisites all succeeded,
/// never more than `limit(server)` running per server. Each claimed job is `running` with its
/// attempt counted and recorded. Call inside an IMMEDIATE transaction.
pub fn claim(
    conn: &Connection,
    now: &str,
    lease_until: &str,
    max: usize,
    limit: &dyn Fn(Option<i64>) -> usize,
) -> Result<Vec<Job>> {
    if max == 0 {
        return Ok(Vec::new());
    }
    let mut running: HashMap<Option<i64>, usize> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT server_id, count(*) FROM jobs WHERE state = 'running' GROUP BY server_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (server, n) = row?;
            running.insert(server, n as usize);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, j.server_id FROM jobs j
          WHERE j.state IN ('queued', 'failed') AND j.run_after <= ?1
            AND NOT EXISTS (SELECT 1 FROM job_deps d JOIN jobs p ON p.id = d.depends_on
                             WHERE d.job_id = j.id AND p.state <> 'succeeded')
          ORDER BY j.run_after, j.id LIMIT ?2",
    )?;
    let candidates: Vec<(i64, Option<i64>)> = stmt
        .query_map(params![now, (max * 20).max(200) as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut picked = Vec::new();
    for (id, server) in candidates {
        let n = running.entry(server).or_insert(0);
        if *n >= limit(server) {
            continue;
        }
        *n += 1;
        picked.push(id);
        if picked.len() == max {
            break;
        }
    }
    let mut upd = conn.prepare_cached(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?2, updated_at = ?3
          WHERE id = ?1",
    )?;
    let mut att = conn.prepare_cached(
        "INSERT INTO job_attempts (job_id, attempt, started_at)
         SELECT id, attempts, ?2 FROM jobs WHERE id = ?1",
    )?;
    let mut out = Vec::with_capacity(picked.len());
    for id in picked {
        upd.execute(params![id, lease_until, now])?;
        att.execute(params![id, now])?;
        out.push(get(conn, id)?);
    }
    Ok(out)
}

/// Merges `patch` (an object) into the job's saved result: remote ids are kept as soon as the
/// remote side returns them, so a retry reuses them.
pub fn save_result(conn: &Connection, id: i64, patch: &Value, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET result = json_patch(result, ?2), updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, patch.to_string(), at])?;
    Ok(())
}

fn finish_attempt(
    conn: &Connection,
    id: i64,
    outcome: &str,
    error: Option<&str>,
    at: &str,
    duration_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE job_attempts SET finished_at = ?2, outcome = ?3, error = ?4, duration_ms = ?5
          WHERE job_id = ?1 AND attempt = (SELECT attempts FROM jobs WHERE id = ?1)",
    )?
    .execute(params![id, at, outcome, error, duration_ms])?;
    Ok(())
}

pub fn succeed(
    conn: &Connection,
    id: i64,
    result: &Value,
    at: &str,
    duration_ms: i64,
) -> Result<()> {
    finish_attempt(conn, id, "succeeded", None, at, duration_ms)?;
    conn.prepare_cached(
        "UPDATE jobs SET state = 'succeeded', result = json_patch(result, ?2), lease_until = NULL,
                last_error = NULL, updated_at = ?3, finished_at = ?3
          WHERE id = ?1 AND state = 'running'",
    )?
    .execute(params![id, result.to_string(), at])?;
    Ok(())
}

/// A failed attempt: retried at `retry_at`, or dead when that is None.
pub fn fail(
    conn: &Connection,
    id: i64,
    error: &str,
    retry_at: Option<&str>,
    at: &str,
    duration_ms: i64,
) -> Result<()> {
    let outcome = if retry_at.is_some() { "failed" } else { "dead" };
    finish_attempt(conn, id, outcome, Some(error), at, duration_ms)?;
    conn.prepare_cached(
        "UPDATE jobs SET state = ?2, last_error = ?3, run_after = coalesce(?4, run_after),
                lease_until = NULL, updated_at = ?5,
                finished_at = CASE WHEN ?4 IS NULL THEN ?5 END
          WHERE id = ?1 AND state = 'running'",
    )?
    .execute(params![id, outcome, error, retry_at, at])?;
    Ok(())
}

/// Jobs left `running` by a runner that is gone (crashed, killed, laptop closed) go back to
/// the queue at once; their attempt is recorded as interrupted. Returns how many.
pub fn recover_running(conn: &Connection, at: &str) -> Result<usize> {
    conn.prepare_cached(
        "UPDATE job_attempts SET finished_at = ?1, outcome = 'interrupted',
                error = 'interrupted: the runner stopped during this attempt'
          WHERE outcome IS NULL AND job_id IN (SELECT id FROM jobs WHERE state = 'running')",
    )?
    .execute([at])?;
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET state = 'queued', lease_until = NULL, run_after = ?1, updated_at = ?1,
                    last_error = 'interrupted: the runner stopped during the last attempt'
              WHERE state = 'running'",
        )?
        .execute([at])?)
}

/// Staff retry: a dead, failed or cancelled job runs again now, with a fresh allowance of
/// attempts (what it already used is kept in its history).
pub fn retry(conn: &Connection, id: i64, at: &str, extra_attempts: i64) -> Result<Job> {
    let job = get(conn, id)?;
    if !["dead", "failed", "cancelled"].contains(&job.state.as_str()) {
        return Err(StoreError::Conflict(format!(
            "job {id} is {}; only dead, failed or cancelled jobs can be retried",
            job.state
        )));
    }
    conn.execute(
        "UPDATE jobs SET state = 'queued', run_after = ?2, updated_at = ?2, finished_at = NULL,
                max_attempts = max(max_attempts, attempts + ?3)
          WHERE id = ?1",
        params![id, at, extra_attempts],
    )?;
    get(conn, id)
}

/// Staff cancel: a job that has not started (or is waiting to retry) never runs; jobs that
/// depend on it are cancelled too. Returns every cancelled id.
pub fn cancel(conn: &Connection, id: i64, at: &str) -> Result<Vec<i64>> {
    let job = get(conn, id)?;
    if !["queued", "failed"].contains(&job.state.as_str()) {
        return Err(StoreError::Conflict(format!(
            "job {id} is {}; only queued or retrying jobs can be cancelled",
            job.state
        )));
    }
    let mut cancelled = Vec::new();
    let mut todo = vec![id];
    while let Some(j) = todo.pop() {
        let n = conn.execute(
            "UPDATE jobs SET state = 'cancelled', updated_at = ?2, finished_at = ?2, lease_until = NULL
              WHERE id = ?1 AND state IN ('queued', 'failed')",
            params![j, at],
        )?;
        if n > 0 {
            cancelled.push(j);
            let mut stmt =
                conn.prepare_cached("SELECT job_id FROM job_deps WHERE depends_on = ?1")?;
            let dependents = stmt.query_map([j], |r| r.get::<_, i64>(0))?;
            for d in dependents {
                todo.push(d?);
            }
        }
    }
    Ok(cancelled)
}

/// How many jobs are in each state.
pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT state, count(*) FROM jobs GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the next waiting job becomes due (None if nothing waits).
pub fn next_due(conn: &Connection) -> Result<Option<String>> {
    Ok(conn.query_row(
        "SELECT min(run_after) FROM jobs WHERE state IN ('queued', 'failed')",
        [],
        |r| r.get(0),
    )?)
}

/// When the next job waiting for a later time becomes due (a scheduled retry).
pub fn next_due_after(conn: &Connection, now: &str) -> Result<Option<String>> {
    Ok(conn.query_row(
        "SELECT min(run_after) FROM jobs WHERE state IN ('queued', 'failed') AND run_after > ?1",
        [now],
        |r| r.get(0),
    )?)
}
