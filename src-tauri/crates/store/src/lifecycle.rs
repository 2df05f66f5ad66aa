//! The end of trials and fixed terms: `subscriptions.expires_on` and the steps the expire-check
//! sweep took for each (table `subscription_terms`).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::Result;

/// A subscription's term as the sweep walks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TermRow {
    pub subscription_id: i64,
    /// trial or term.
    pub kind: String,
    /// running, expired, deleted or converted.
    pub stage: String,
    /// The steps taken: `remind:7`, `expire`, `backup`, `delete`.
    pub done: Vec<String>,
    pub expired_on: Option<String>,
    pub converted_at: Option<String>,
    pub updated_at: String,
}

fn term_from_row(r: &Row<'_>) -> rusqlite::Result<TermRow> {
    let done: String = r.get(3)?;
    Ok(TermRow {
        subscription_id: r.get(0)?,
        kind: r.get(1)?,
        stage: r.get(2)?,
        done: serde_json::from_str(&done).unwrap_or_default(),
        expired_on: r.get(4)?,
        converted_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub fn get(conn: &Connection, subscription_id: i64) -> Result<Option<TermRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT subscription_id, kind, stage, done, expired_on, converted_at, updated_at
               FROM subscription_terms WHERE subscription_id = ?1",
        )?
        .query_row([subscription_id], term_from_row)
        .optional()?)
}

/// The subscription's term row, created (stage `running`) if it has none.
pub fn open(conn: &Connection, subscription_id: i64, kind: &str, at: &str) -> Result<TermRow> {
    conn.execute(
        "INSERT INTO subscription_terms (subscription_id, kind, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?3) ON CONFLICT (subscription_id) DO NOTHING",
        params![subscription_id, kind, at],
    )?;
    get(conn, subscription_id).map(|r| r.expect("the row was just written"))
}

/// Records a step as taken; false if it was taken before (each step happens once).
pub fn mark_done(conn: &Connection, subscription_id: i64, step: &str, at: &str) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE subscription_terms SET done = json_insert(done, '$[#]', ?2), updated_at = ?3
          WHERE subscription_id = ?1
            AND NOT EXISTS (SELECT 1 FROM json_each(done) WHERE value = ?2)",
        params![subscription_id, step, at],
    )?;
    Ok(changed > 0)
}

pub fn set_stage(
    conn: &Connection,
    subscription_id: i64,
    stage: &str,
    expired_on: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE subscription_terms SET stage = ?2, expired_on = coalesce(?3, expired_on),
                updated_at = ?4
          WHERE subscription_id = ?1",
        params![subscription_id, stage, expired_on, at],
    )?;
    Ok(())
}

/// A converted trial: the steps are forgotten (a new expiry date starts afresh).
pub fn convert(conn: &Connection, subscription_id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE subscription_terms SET stage = 'converted', done = '[]', converted_at = ?2,
                updated_at = ?2
          WHERE subscription_id = ?1",
        params![subscription_id, at],
    )?;
    Ok(())
}

/// A new expiry date (staff set a fixed term, or extended it): the term runs again.
pub fn restart(conn: &Connection, subscription_id: i64, kind: &str, at: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO subscription_terms (subscription_id, kind, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (subscription_id) DO UPDATE SET stage = 'running', done = '[]',
             expired_on = NULL, updated_at = excluded.updated_at",
        params![subscription_id, kind, at],
    )?;
    Ok(())
}

pub fn set_expires_on(
    conn: &Connection,
    subscription_id: i64,
    expires_on: Option<&str>,
    at: &str,
) -> Result<()> {
    let n = conn.execute(
        "UPDATE subscriptions SET expires_on = ?2, updated_at = ?3 WHERE id = ?1",
        params![subscription_id, expires_on, at],
    )?;
    if n == 0 {
        return Err(crate::StoreError::not_found(
            "subscription",
            subscription_id,
        ));
    }
    Ok(())
}

/// A subscription with an expiry date the sweep may have work for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub subscription_id: i64,
    pub client_id: i64,
    pub timezone: String,
    pub product_id: i64,
    pub product_name: String,
    pub state: String,
    pub expires_on: String,
    /// None: no term row yet (a fixed term set outside Hostdesk's term commands).
    pub kind: Option<String>,
}

/// Subscriptions expiring on or before `until` whose term is not over (deleted) nor converted.
pub fn candidates(conn: &Connection, until: &str) -> Result<Vec<Candidate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.client_id, c.timezone, p.id, p.name, s.state, s.expires_on, t.kind
           FROM subscriptions s
           JOIN clients c ON c.id = s.client_id
           JOIN products p ON p.id = s.product_id
           LEFT JOIN subscription_terms t ON t.subscription_id = s.id
          WHERE s.expires_on IS NOT NULL AND s.expires_on <= ?1
            AND s.state IN ('active', 'suspended', 'expired')
            AND coalesce(t.stage, 'running') IN ('running', 'expired')
          ORDER BY s.expires_on, s.id",
    )?;
    let rows = stmt.query_map([until], |r| {
        Ok(Candidate {
            subscription_id: r.get(0)?,
            client_id: r.get(1)?,
            timezone: r.get(2)?,
            product_id: r.get(3)?,
            product_name: r.get(4)?,
            state: r.get(5)?,
            expires_on: r.get(6)?,
            kind: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A trial or fixed term that ends soon (or ended and waits for deletion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExpiringTerm {
    pub subscription_id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub product_code: String,
    /// trial or term.
    pub kind: String,
    /// running or expired.
    pub stage: String,
    pub state: String,
    pub expires_on: String,
    /// The subscription's sites (domains), comma-separated.
    pub sites: Option<String>,
}

/// Terms ending on or before `until` that are not over (deleted) nor converted, soonest first.
pub fn expiring(conn: &Connection, until: &str) -> Result<Vec<ExpiringTerm>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.client_id, c.name, p.code, coalesce(t.kind, 'term'),
                coalesce(t.stage, 'running'), s.state, s.expires_on,
                (SELECT group_concat(st.domain, ', ') FROM sites st
                  WHERE st.subscription_id = s.id AND st.status <> 'deleted')
           FROM subscriptions s
           JOIN clients c ON c.id = s.client_id
           JOIN products p ON p.id = s.product_id
           LEFT JOIN subscription_terms t ON t.subscription_id = s.id
          WHERE s.expires_on IS NOT NULL AND s.expires_on <= ?1
            AND s.state IN ('pending', 'active', 'suspended', 'expired')
            AND coalesce(t.stage, 'running') IN ('running', 'expired')
          ORDER BY s.expires_on, s.id",
    )?;
    let rows = stmt.query_map([until], |r| {
        Ok(ExpiringTerm {
            subscription_id: r.get(0)?,
            client_id: r.get(1)?,
            client_name: r.get(2)?,
            product_code: r.get(3)?,
            kind: r.get(4)?,
            stage: r.get(5)?,
            state: r.get(6)?,
            expires_on: r.get(7)?,
            sites: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
