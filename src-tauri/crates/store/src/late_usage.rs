//! Late usage: records that arrived after their period was invoiced (noted by the triggers of
//! migration 0014), and what was billed for a period's usage (the facts frozen on its lines).

use rusqlite::{params, Connection};

use crate::Result;

/// The late records of the subscriptions of clients `first..=last`: (subscription, instant).
pub fn between(conn: &Connection, first: i64, last: i64) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.subscription_id, l.at FROM late_usage l
           JOIN subscriptions s ON s.id = l.subscription_id
          WHERE s.client_id BETWEEN ?1 AND ?2 ORDER BY l.subscription_id, l.at",
    )?;
    let rows = stmt.query_map(params![first, last], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether any late usage waits (the bill run skips the per-batch query when none does).
pub fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM late_usage)", [], |r| r.get(0))?)
}

/// Forgets a late record once the bill run billed it.
pub fn clear(conn: &Connection, subscription_id: i64, at: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM late_usage WHERE subscription_id = ?1 AND at = ?2")?
        .execute(params![subscription_id, at])?;
    Ok(())
}

/// The usage facts (JSON) frozen on the lines that billed a subscription's usage for the period
/// starting on `period_start`: usage, overage and late-usage lines.
pub fn billed_facts(
    conn: &Connection,
    subscription_id: i64,
    period_start: &str,
) -> Result<Vec<String>> {
    let prefix = format!("sub:{subscription_id}/{period_start}/");
    let end = format!("sub:{subscription_id}/{period_start}0");
    let mut stmt = conn.prepare_cached(
        "SELECT facts FROM invoice_lines
          WHERE key >= ?1 AND key < ?2 AND kind IN ('usage', 'overage', 'late_usage')
            AND facts IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![prefix, end], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
