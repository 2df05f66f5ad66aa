//! Refunds of card payments (table `refunds`, migration 16): what a credit note gives back to
//! the card that paid the invoice.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::{Result, StoreError};

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    pub id: i64,
    pub payment_id: i64,
    pub credit_note_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    /// pending, succeeded or failed.
    pub state: String,
    pub gateway_ref: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
}

const SELECT: &str = "SELECT id, payment_id, credit_note_id, amount_minor, currency, state,
        gateway_ref, error, created_at FROM refunds";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Refund> {
    Ok(Refund {
        id: r.get(0)?,
        payment_id: r.get(1)?,
        credit_note_id: r.get(2)?,
        amount_minor: r.get(3)?,
        currency: r.get(4)?,
        state: r.get(5)?,
        gateway_ref: r.get(6)?,
        error: r.get(7)?,
        created_at: r.get(8)?,
    })
}

/// A card payment of an invoice and what of it can still go back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refundable {
    pub payment_id: i64,
    /// stripe or authnet.
    pub method: String,
    /// The gateway's charge id.
    pub gateway_ref: String,
    /// The payment less its refunds (pending or done).
    pub remaining_minor: i64,
}

/// The invoice's succeeded card payments, newest first, with what each can still refund.
pub fn refundable(conn: &Connection, invoice_id: i64) -> Result<Vec<Refundable>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.method, p.gateway_ref,
                p.amount_minor - coalesce((SELECT sum(r.amount_minor) FROM refunds r
                                            WHERE r.payment_id = p.id AND r.state <> 'failed'), 0)
           FROM payments p
          WHERE p.invoice_id = ?1 AND p.state = 'succeeded' AND p.gateway_ref IS NOT NULL
            AND (p.method = 'stripe' OR p.method = 'authnet')
          ORDER BY p.id DESC",
    )?;
    let rows = stmt.query_map([invoice_id], |r| {
        Ok(Refundable {
            payment_id: r.get(0)?,
            method: r.get(1)?,
            gateway_ref: r.get(2)?,
            remaining_minor: r.get(3)?,
        })
    })?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|p| p.remaining_minor > 0)
        .collect())
}

/// The gateway (stripe or authnet) and the charge id of a card payment.
pub fn charge_of(conn: &Connection, payment_id: i64) -> Result<(String, String)> {
    let (method, gateway_ref): (String, Option<String>) = conn
        .query_row(
            "SELECT method, gateway_ref FROM payments WHERE id = ?1",
            [payment_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found("payment", payment_id))?;
    let gateway_ref = gateway_ref.ok_or_else(|| {
        StoreError::Conflict(format!(
            "payment {payment_id} has no charge id at the gateway"
        ))
    })?;
    Ok((method, gateway_ref))
}

pub fn insert(
    conn: &Connection,
    payment_id: i64,
    credit_note_id: i64,
    amount_minor: i64,
    currency: &str,
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO refunds (payment_id, credit_note_id, amount_minor, currency, state, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
        params![payment_id, credit_note_id, amount_minor, currency, at],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> Result<Refund> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("refund", id))
}

/// The refunds of an invoice's credit notes, oldest first.
pub fn for_invoice(conn: &Connection, invoice_id: i64) -> Result<Vec<Refund>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE credit_note_id IN (SELECT id FROM credit_notes WHERE invoice_id = ?1) ORDER BY id"
    ))?;
    let rows = stmt.query_map([invoice_id], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Settles a pending refund (succeeded or failed); a settled one is left as it is. Returns
/// whether this call settled it.
pub fn settle(
    conn: &Connection,
    id: i64,
    state: &str,
    gateway_ref: Option<&str>,
    error: Option<&str>,
    at: &str,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE refunds SET state = ?2, gateway_ref = coalesce(?3, gateway_ref), error = ?4, updated_at = ?5
          WHERE id = ?1 AND state = 'pending'",
        params![id, state, gateway_ref, error, at],
    )?;
    Ok(n == 1)
}
