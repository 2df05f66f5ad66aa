//! Invoices, their lines, numbering series, payments, credit notes, usage records and client
//! credit. The immutability of issued invoices is enforced by the schema's triggers too.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub billing_date: String,
    pub currency: String,
    pub status: String,
    pub number: Option<String>,
    pub issued_at: Option<String>,
    pub due_on: Option<String>,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub notes: Vec<String>,
    /// The client as invoiced (JSON snapshot taken at issue).
    pub buyer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub id: i64,
    pub key: String,
    pub subscription_id: Option<i64>,
    pub kind: String,
    pub description: String,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub net_minor: i64,
    pub tax_rate_bps: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// The frozen usage rate, as JSON text.
    pub facts: Option<String>,
    pub flagged: bool,
}

/// A line to store (amounts already computed by the core).
pub struct NewLine<'a> {
    pub key: &'a str,
    pub subscription_id: Option<i64>,
    pub kind: &'a str,
    pub description: &'a str,
    pub period_from: String,
    pub period_to: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub net_minor: i64,
    pub tax_rate_bps: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub facts: Option<String>,
    pub flagged: bool,
}

const COLUMNS: &str =
    "i.id, i.client_id, c.name, i.billing_date, i.currency, i.status, i.number, i.issued_at, \
     i.due_on, i.net_minor, i.tax_minor, i.total_minor, i.paid_minor, i.notes, i.buyer";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Invoice> {
    let notes: String = r.get(13)?;
    Ok(Invoice {
        id: r.get(0)?,
        client_id: r.get(1)?,
        client_name: r.get(2)?,
        billing_date: r.get(3)?,
        currency: r.get(4)?,
        status: r.get(5)?,
        number: r.get(6)?,
        issued_at: r.get(7)?,
        due_on: r.get(8)?,
        net_minor: r.get(9)?,
        tax_minor: r.get(10)?,
        total_minor: r.get(11)?,
        paid_minor: r.get(12)?,
        notes: serde_json::from_str(&notes).unwrap_or_default(),
        buyer: r.get(14)?,
    })
}

/// The draft invoice of a client for a billing date and currency, created if missing:
/// (id, created).
pub fn draft_for(
    conn: &Connection,
    client_id: i64,
    billing_date: &str,
    currency: &str,
    at: &str,
) -> Result<(i64, bool)> {
    if let Some(id) = conn
        .prepare_cached(
            "SELECT id FROM invoices WHERE client_id = ?1 AND billing_date = ?2 AND currency = ?3 AND status = 'draft'")?
        .query_row(params![client_id, billing_date, currency],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok((id, false));
    }
    Ok((
        insert_draft(conn, client_id, billing_date, currency, at)?,
        true,
    ))
}

/// A new, empty draft invoice (the caller knows there is none for this client, date and
/// currency: see [`drafts_between`]).
pub fn insert_draft(
    conn: &Connection,
    client_id: i64,
    billing_date: &str,
    currency: &str,
    at: &str,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO invoices (client_id, billing_date, currency, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![client_id, billing_date, currency, at])?;
    Ok(conn.last_insert_rowid())
}

/// A draft invoice found by [`drafts_between`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftKey {
    pub client_id: i64,
    pub billing_date: String,
    pub currency: String,
    pub id: i64,
}

/// The draft invoices of the clients with ids in `first..=last` (one query for a bill run's
/// batch; drafts are few, the bill run issues what it drafts).
pub fn drafts_between(conn: &Connection, first: i64, last: i64) -> Result<Vec<DraftKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_id, billing_date, currency, id FROM invoices
          WHERE status = 'draft' AND client_id BETWEEN ?1 AND ?2",
    )?;
    let rows = stmt.query_map(params![first, last], |r| {
        Ok(DraftKey {
            client_id: r.get(0)?,
            billing_date: r.get(1)?,
            currency: r.get(2)?,
            id: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Adds a line unless a line with its key exists anywhere (a re-run adds nothing twice).
/// Returns whether it was added.
pub fn add_line(conn: &Connection, invoice_id: i64, l: &NewLine<'_>) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO invoice_lines (invoice_id, key, subscription_id, kind, description, period_from,
                period_to, quantity, unit_price_minor, net_minor, tax_rate_bps, tax_minor, total_minor, facts, flagged)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![
            invoice_id,
            l.key,
            l.subscription_id,
            l.kind,
            l.description,
            l.period_from,
            l.period_to,
            l.quantity,
            l.unit_price_minor,
            l.net_minor,
            l.tax_rate_bps,
            l.tax_minor,
            l.total_minor,
            l.facts,
            l.flagged
        ])?;
    Ok(n == 1)
}

/// Sets a new draft's totals, computed by the caller from the lines it just added.
pub fn set_totals(
    conn: &Connection,
    invoice_id: i64,
    net: i64,
    tax: i64,
    total: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE invoices SET net_minor = ?2, tax_minor = ?3, total_minor = ?4 WHERE id = ?1 AND status = 'draft'",
    )?
    .execute(params![invoice_id, net, tax, total])?;
    Ok(())
}

/// Deletes an empty draft (nothing was added to it after all).
pub fn delete_empty_draft(conn: &Connection, invoice_id: i64) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM invoices WHERE id = ?1 AND status = 'draft'
            AND NOT EXISTS (SELECT 1 FROM invoice_lines WHERE invoice_id = ?1)",
    )?
    .execute([invoice_id])?;
    Ok(())
}

/// Recomputes a draft's totals from its lines (total = sum of lines).
pub fn refresh_totals(conn: &Connection, invoice_id: i64, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE invoices SET
            net_minor = (SELECT coalesce(sum(net_minor), 0) FROM invoice_lines WHERE invoice_id = ?1),
            tax_minor = (SELECT coalesce(sum(tax_minor), 0) FROM invoice_lines WHERE invoice_id = ?1),
            total_minor = (SELECT coalesce(sum(total_minor), 0) FROM invoice_lines WHERE invoice_id = ?1),
            updated_at = ?2
          WHERE id = ?1 AND status = 'draft'",
    )?
    .execute(params![invoice_id, at])?;
    Ok(())
}

/// Takes the next number of a series for a year: gapless, because it is taken in the same
/// transaction that issues the invoice (a rollback gives the number back).
pub fn next_number(conn: &Connection, series: &str, year: i32) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached(
            "INSERT INTO number_series (series, year, next) VALUES (?1, ?2, 2)
             ON CONFLICT (series, year) DO UPDATE SET next = next + 1
             RETURNING next - 1",
        )?
        .query_row(params![series, year], |r| r.get(0))?;
    Ok(n as u64)
}

/// Takes `count` consecutive numbers of a series for a year at once and returns the first.
/// Gapless only if the caller issues all `count` invoices in this same transaction.
pub fn reserve_numbers(conn: &Connection, series: &str, year: i32, count: u64) -> Result<u64> {
    let count =
        i64::try_from(count).map_err(|_| StoreError::Conflict("too many numbers".into()))?;
    let first: i64 = conn
        .prepare_cached(
            "INSERT INTO number_series (series, year, next) VALUES (?1, ?2, ?3 + 1)
             ON CONFLICT (series, year) DO UPDATE SET next = next + ?3
             RETURNING next - ?3",
        )?
        .query_row(params![series, year, count], |r| r.get(0))?;
    Ok(first as u64)
}

pub fn issue(
    conn: &Connection,
    invoice_id: i64,
    number: &str,
    issued_at: &str,
    due_on: &str,
    notes: &[String],
    buyer: &str,
) -> Result<()> {
    let n = conn.prepare_cached(
        "UPDATE invoices SET status = 'issued', number = ?2, issued_at = ?3, due_on = ?4, notes = ?5,
                buyer = ?6, updated_at = ?3
          WHERE id = ?1 AND status = 'draft'",
        )?
    .execute(params![invoice_id, number, issued_at, due_on, serde_json::json!(notes).to_string(), buyer],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "invoice {invoice_id} is not a draft"
        )));
    }
    Ok(())
}

/// What [`issue_with_totals`] writes on a draft.
pub struct Issue<'a> {
    pub number: &'a str,
    pub issued_at: &'a str,
    pub due_on: &'a str,
    /// The legal notes as a JSON array.
    pub notes_json: &'a str,
    pub buyer: &'a str,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

/// Issues a draft whose totals the caller computed from the lines it just added (one update
/// instead of [`set_totals`] then [`issue`]).
pub fn issue_with_totals(conn: &Connection, invoice_id: i64, i: &Issue<'_>) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE invoices SET status = 'issued', number = ?2, issued_at = ?3, due_on = ?4, notes = ?5,
                    buyer = ?6, net_minor = ?7, tax_minor = ?8, total_minor = ?9, updated_at = ?3
              WHERE id = ?1 AND status = 'draft'",
        )?
        .execute(params![
            invoice_id,
            i.number,
            i.issued_at,
            i.due_on,
            i.notes_json,
            i.buyer,
            i.net_minor,
            i.tax_minor,
            i.total_minor
        ])?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "invoice {invoice_id} is not a draft"
        )));
    }
    Ok(())
}

pub fn get(conn: &Connection, id: i64) -> Result<Invoice> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.id = ?1"
        ),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("invoice", id))
}

pub fn by_number(conn: &Connection, number: &str) -> Result<Invoice> {
    let id: i64 = conn
        .query_row("SELECT id FROM invoices WHERE number = ?1", [number], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::not_found("invoice", number))?;
    get(conn, id)
}

pub fn lines(conn: &Connection, invoice_id: i64) -> Result<Vec<Line>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key, subscription_id, kind, description, period_from, period_to, quantity,
                unit_price_minor, net_minor, tax_rate_bps, tax_minor, total_minor, facts, flagged
           FROM invoice_lines WHERE invoice_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([invoice_id], |r| {
        Ok(Line {
            id: r.get(0)?,
            key: r.get(1)?,
            subscription_id: r.get(2)?,
            kind: r.get(3)?,
            description: r.get(4)?,
            period_from: r.get(5)?,
            period_to: r.get(6)?,
            quantity: r.get(7)?,
            unit_price_minor: r.get(8)?,
            net_minor: r.get(9)?,
            tax_rate_bps: r.get(10)?,
            tax_minor: r.get(11)?,
            total_minor: r.get(12)?,
            facts: r.get(13)?,
            flagged: r.get(14)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Invoices newest first, filtered by status, client and billing-date range.
pub fn list(
    conn: &Connection,
    status: Option<&str>,
    client_id: Option<i64>,
    from: Option<&str>,
    to: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Invoice>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM invoices i JOIN clients c ON c.id = i.client_id
          WHERE (?1 IS NULL OR i.status = ?1) AND (?2 IS NULL OR i.client_id = ?2)
            AND (?3 IS NULL OR i.billing_date >= ?3) AND (?4 IS NULL OR i.billing_date <= ?4)
          ORDER BY i.billing_date DESC, i.id DESC LIMIT ?5 OFFSET ?6"
    ))?;
    let rows = stmt.query_map(
        params![status, client_id, from, to, limit, offset],
        from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_status(
    conn: &Connection,
    id: i64,
    status: &str,
    paid_minor: i64,
    at: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE invoices SET status = ?2, paid_minor = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, status, paid_minor, at],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: i64,
    pub invoice_id: Option<i64>,
    pub method: String,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub state: String,
    pub gateway_ref: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
}

pub struct NewPayment<'a> {
    pub client_id: i64,
    pub invoice_id: Option<i64>,
    pub method: &'a str,
    pub reference: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub state: &'a str,
    pub key: &'a str,
}

/// Records a payment (phase one for gateways: `pending`, before the call). The key is unique:
/// recording the same payment twice returns the first one.
pub fn record_payment(conn: &Connection, p: &NewPayment<'_>, at: &str) -> Result<(i64, bool)> {
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM payments WHERE idempotency_key = ?1",
            [p.key],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok((id, false));
    }
    conn.execute(
        "INSERT INTO payments (client_id, invoice_id, method, reference, amount_minor, currency, state,
                               idempotency_key, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![p.client_id, p.invoice_id, p.method, p.reference, p.amount_minor, p.currency, p.state, p.key, at],
    )?;
    Ok((conn.last_insert_rowid(), true))
}

/// Phase two: what the gateway answered.
pub fn settle_payment(
    conn: &Connection,
    id: i64,
    state: &str,
    gateway_ref: Option<&str>,
    error: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE payments SET state = ?2, gateway_ref = coalesce(?3, gateway_ref), error = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, state, gateway_ref, error, at],
    )?;
    Ok(())
}

pub fn payments(conn: &Connection, invoice_id: i64) -> Result<Vec<Payment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, invoice_id, method, reference, amount_minor, currency, state, gateway_ref, error, created_at
           FROM payments WHERE invoice_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([invoice_id], |r| {
        Ok(Payment {
            id: r.get(0)?,
            invoice_id: r.get(1)?,
            method: r.get(2)?,
            reference: r.get(3)?,
            amount_minor: r.get(4)?,
            currency: r.get(5)?,
            state: r.get(6)?,
            gateway_ref: r.get(7)?,
            error: r.get(8)?,
            created_at: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn credit_balance(conn: &Connection, client_id: i64, currency: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT balance_minor FROM client_credit WHERE client_id = ?1 AND currency = ?2",
        )?
        .query_row(params![client_id, currency], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The clients with ids in `first..=last` that have a credit balance: (client id, currency).
pub fn credit_between(conn: &Connection, first: i64, last: i64) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_id, currency FROM client_credit
          WHERE client_id BETWEEN ?1 AND ?2 AND balance_minor > 0",
    )?;
    let rows = stmt.query_map(params![first, last], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn add_credit(
    conn: &Connection,
    client_id: i64,
    currency: &str,
    delta_minor: i64,
) -> Result<()> {
    if delta_minor < 0 {
        // spending credit: the balance must exist and cover it (CHECK balance >= 0)
        conn.execute(
            "UPDATE client_credit SET balance_minor = balance_minor + ?3 WHERE client_id = ?1 AND currency = ?2",
            params![client_id, currency, delta_minor],
        )?;
        return Ok(());
    }
    conn.execute(
        "INSERT INTO client_credit (client_id, currency, balance_minor) VALUES (?1, ?2, ?3)
         ON CONFLICT (client_id, currency) DO UPDATE SET balance_minor = balance_minor + excluded.balance_minor",
        params![client_id, currency, delta_minor],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CreditNote {
    pub id: i64,
    pub invoice_id: i64,
    pub number: String,
    pub reason: String,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub issued_at: String,
}

pub fn credit_notes(conn: &Connection, invoice_id: i64) -> Result<Vec<CreditNote>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, invoice_id, number, reason, net_minor, tax_minor, total_minor, issued_at
           FROM credit_notes WHERE invoice_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([invoice_id], |r| {
        Ok(CreditNote {
            id: r.get(0)?,
            invoice_id: r.get(1)?,
            number: r.get(2)?,
            reason: r.get(3)?,
            net_minor: r.get(4)?,
            tax_minor: r.get(5)?,
            total_minor: r.get(6)?,
            issued_at: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What has been credited so far on each line of an invoice: (line id, net, tax).
pub fn credited_by_line(conn: &Connection, invoice_id: i64) -> Result<Vec<(i64, i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.id, coalesce(sum(cl.net_minor), 0), coalesce(sum(cl.tax_minor), 0)
           FROM invoice_lines l LEFT JOIN credit_note_lines cl ON cl.line_id = l.id
          WHERE l.invoice_id = ?1 GROUP BY l.id ORDER BY l.id",
    )?;
    let rows = stmt.query_map([invoice_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_credit_note(
    conn: &Connection,
    invoice_id: i64,
    number: &str,
    reason: &str,
    totals: (i64, i64, i64),
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO credit_notes (invoice_id, number, reason, net_minor, tax_minor, total_minor, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![invoice_id, number, reason, totals.0, totals.1, totals.2, at],
    )?;
    Ok(conn.last_insert_rowid())
}

#[allow(clippy::too_many_arguments)]
pub fn insert_credit_note_line(
    conn: &Connection,
    credit_note_id: i64,
    line_id: i64,
    description: &str,
    net: i64,
    rate_bps: i64,
    tax: i64,
    total: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO credit_note_lines (credit_note_id, line_id, description, net_minor, tax_rate_bps, tax_minor, total_minor)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![credit_note_id, line_id, description, net, rate_bps, tax, total],
    )?;
    Ok(())
}

pub fn record_usage(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    quantity: i64,
    at: &str,
    source: &str,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO usage_records (subscription_id, resource, quantity, at, source) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![subscription_id, resource, quantity, at, source])?
        == 1)
}

/// Usage of one subscription in [from, to): the sum for bandwidth, the peak for the rest; by
/// resource name.
pub fn usage_in(
    conn: &Connection,
    subscription_id: i64,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>> {
    // The records come from the usage_records_period index alone, in time order; they are few
    // per period, so adding them up here beats a GROUP BY's temporary b-tree.
    let mut stmt = conn.prepare_cached(
        "SELECT resource, quantity FROM usage_records
          WHERE subscription_id = ?1 AND at >= ?2 AND at < ?3",
    )?;
    let mut rows = stmt.query(params![subscription_id, from, to])?;
    let mut used: Vec<(String, i64)> = Vec::new();
    while let Some(r) = rows.next()? {
        let resource = r.get_ref(0)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?;
        let quantity: i64 = r.get(1)?;
        match used.iter_mut().find(|(name, _)| name == resource) {
            Some((name, total)) if name == "bandwidth_mb" => {
                *total = total.checked_add(quantity).ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "usage of subscription {subscription_id} overflows"
                    ))
                })?;
            }
            Some((_, peak)) => *peak = (*peak).max(quantity),
            None => used.push((resource.to_string(), quantity)),
        }
    }
    used.sort();
    Ok(used)
}
