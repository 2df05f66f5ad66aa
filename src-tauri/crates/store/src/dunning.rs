//! Dunning: unpaid issued invoices past their due date and the steps taken on each.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::Result;

/// An issued invoice with money still due, past `due_on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    pub invoice_id: i64,
    pub client_id: i64,
    pub due_on: String,
}

/// Issued or partially paid invoices whose due date is before `today` (a date).
pub fn overdue_invoices(conn: &Connection, today: &str) -> Result<Vec<Overdue>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, client_id, due_on FROM invoices
          WHERE status IN ('issued', 'partially_paid') AND due_on IS NOT NULL AND due_on < ?1
            AND total_minor > paid_minor
          ORDER BY due_on, id",
    )?;
    let rows = stmt.query_map([today], |r| {
        Ok(Overdue {
            invoice_id: r.get(0)?,
            client_id: r.get(1)?,
            due_on: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DunningRow {
    pub invoice_id: i64,
    pub invoice_number: Option<String>,
    pub client_id: i64,
    pub client_name: String,
    pub stage: String,
    /// The steps taken, e.g. `reminder:3`, `retry:1`, `suspend`.
    pub done: Vec<String>,
    pub started_on: String,
    pub balance_minor: i64,
    pub currency: String,
    pub updated_at: String,
}

/// The invoice's dunning row, created (stage `overdue`) if it has none.
pub fn open(
    conn: &Connection,
    invoice_id: i64,
    client_id: i64,
    due_on: &str,
    at: &str,
) -> Result<DunningRow> {
    conn.execute(
        "INSERT INTO dunning (invoice_id, client_id, stage, started_on, updated_at)
         VALUES (?1, ?2, 'overdue', ?3, ?4) ON CONFLICT (invoice_id) DO NOTHING",
        params![invoice_id, client_id, due_on, at],
    )?;
    get(conn, invoice_id).map(|r| r.expect("the row was just written"))
}

const SELECT: &str =
    "SELECT d.invoice_id, i.number, d.client_id, c.name, d.stage, d.done, d.started_on,
        i.total_minor - i.paid_minor, i.currency, d.updated_at
   FROM dunning d JOIN invoices i ON i.id = d.invoice_id JOIN clients c ON c.id = d.client_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DunningRow> {
    let done: String = r.get(5)?;
    Ok(DunningRow {
        invoice_id: r.get(0)?,
        invoice_number: r.get(1)?,
        client_id: r.get(2)?,
        client_name: r.get(3)?,
        stage: r.get(4)?,
        done: serde_json::from_str(&done).unwrap_or_default(),
        started_on: r.get(6)?,
        balance_minor: r.get(7)?,
        currency: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

pub fn get(conn: &Connection, invoice_id: i64) -> Result<Option<DunningRow>> {
    Ok(conn
        .query_row(
            &format!("{SELECT} WHERE d.invoice_id = ?1"),
            [invoice_id],
            from_row,
        )
        .optional()?)
}

/// Rows not settled (or every row with `include_settled`), oldest first.
pub fn list(conn: &Connection, include_settled: bool) -> Result<Vec<DunningRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE ?1 OR d.stage <> 'settled' ORDER BY d.started_on, d.invoice_id"
    ))?;
    let rows = stmt.query_map([include_settled], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records a step as taken; false if it was taken before (each step happens once).
pub fn mark_done(conn: &Connection, invoice_id: i64, step: &str, at: &str) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE dunning SET done = json_insert(done, '$[#]', ?2), updated_at = ?3
          WHERE invoice_id = ?1 AND NOT EXISTS (SELECT 1 FROM json_each(done) WHERE value = ?2)",
        params![invoice_id, step, at],
    )?;
    Ok(changed > 0)
}

pub fn set_stage(conn: &Connection, invoice_id: i64, stage: &str, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE dunning SET stage = ?2, updated_at = ?3 WHERE invoice_id = ?1",
        params![invoice_id, stage, at],
    )?;
    Ok(())
}

/// Other unsettled dunning rows of the client (an invoice settling does not lift a suspension
/// another unpaid invoice caused).
pub fn other_open(conn: &Connection, client_id: i64, invoice_id: i64) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM dunning WHERE client_id = ?1 AND invoice_id <> ?2
            AND stage IN ('suspended', 'terminated')",
        params![client_id, invoice_id],
        |r| r.get(0),
    )?)
}
