//! The audit log: who changed what and when, with before/after snapshots.

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;

use crate::Result;

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What is being recorded; `at` and `actor` come from the use case's clock and settings.
pub struct Change<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub action: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub fn record(conn: &Connection, c: Change<'_>) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        c.at,
        c.actor,
        c.entity,
        c.entity_id,
        c.action,
        c.before.map(|v| v.to_string()),
        c.after.map(|v| v.to_string())
    ])?;
    Ok(())
}

/// The newest entries first; for one entity (and id) or for everything.
pub fn list(
    conn: &Connection,
    entity: Option<&str>,
    entity_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, entity, entity_id, action, before, after FROM audit_log
          WHERE (?1 IS NULL OR entity = ?1) AND (?2 IS NULL OR entity_id = ?2)
          ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![entity, entity_id, limit], |r| {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        Ok(AuditEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            entity: r.get(3)?,
            entity_id: r.get(4)?,
            action: r.get(5)?,
            before: parse(r.get(6)?),
            after: parse(r.get(7)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
