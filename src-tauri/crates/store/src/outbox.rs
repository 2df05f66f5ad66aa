//! The mail outbox and the mail templates.
//!
//! A row's life: `queued` → `sending` (an attempt is counted before the SMTP server is called)
//! → `sent`; or `failed` (rejected for good, or out of attempts) → `queued` again by staff.
//! Times are RFC 3339 UTC, as the caller gives them.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

pub const STATES: &[&str] = &["queued", "sending", "sent", "failed"];

#[derive(Debug, Clone)]
pub struct NewMail<'a> {
    pub client_id: Option<i64>,
    pub to_addr: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub kind: &'a str,
    pub dedupe_key: &'a str,
    pub message_id: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OutboxMail {
    pub id: i64,
    pub client_id: Option<i64>,
    pub to_addr: String,
    pub to_name: String,
    pub subject: String,
    pub body_text: String,
    pub kind: String,
    pub dedupe_key: String,
    pub message_id: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub updated_at: String,
    /// The `mail.send` job that sends it (key `mail:<id>`).
    pub job_id: Option<i64>,
}

const COLUMNS: &str = "id, client_id, to_addr, to_name, subject, body_text, kind, dedupe_key, \
     message_id, state, attempts, last_error, created_at, sent_at, updated_at, \
     (SELECT j.id FROM jobs j WHERE j.idempotency_key = 'mail:' || outbox.id)";

fn from_row(r: &Row<'_>) -> rusqlite::Result<OutboxMail> {
    Ok(OutboxMail {
        id: r.get(0)?,
        client_id: r.get(1)?,
        to_addr: r.get(2)?,
        to_name: r.get(3)?,
        subject: r.get(4)?,
        body_text: r.get(5)?,
        kind: r.get(6)?,
        dedupe_key: r.get(7)?,
        message_id: r.get(8)?,
        state: r.get(9)?,
        attempts: r.get(10)?,
        last_error: r.get(11)?,
        created_at: r.get(12)?,
        sent_at: r.get(13)?,
        updated_at: r.get(14)?,
        job_id: r.get(15)?,
    })
}

/// The job key of an outbox row's `mail.send` job.
pub fn job_key(outbox_id: i64) -> String {
    format!("mail:{outbox_id}")
}

/// Adds a mail, or returns the row that already has this dedupe key. Returns (row, created).
pub fn insert(conn: &Connection, m: &NewMail<'_>, at: &str) -> Result<(OutboxMail, bool)> {
    if let Some(existing) = find_by_key(conn, m.dedupe_key)? {
        return Ok((existing, false));
    }
    conn.prepare_cached(
        "INSERT INTO outbox (client_id, to_addr, to_name, subject, body_text, kind, dedupe_key,
                             message_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?
    .execute(params![
        m.client_id,
        m.to_addr,
        m.to_name,
        m.subject,
        m.body_text,
        m.kind,
        m.dedupe_key,
        m.message_id,
        at
    ])
    .map_err(|e| match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::not_found("client", m.client_id.unwrap_or_default())
        }
        _ => StoreError::unique_or(e, || {
            format!("the Message-ID {} is already used", m.message_id)
        }),
    })?;
    Ok((get(conn, conn.last_insert_rowid())?, true))
}

pub fn get(conn: &Connection, id: i64) -> Result<OutboxMail> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("mail", id))
}

pub fn find_by_key(conn: &Connection, dedupe_key: &str) -> Result<Option<OutboxMail>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE dedupe_key = ?1"
        ))?
        .query_row([dedupe_key], from_row)
        .optional()?)
}

/// Newest first, optionally one state and/or one client.
pub fn list(
    conn: &Connection,
    state: Option<&str>,
    client_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<OutboxMail>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR client_id = ?2)
          ORDER BY id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(params![state, client_id, limit, offset], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many mails are in each state.
pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt =
        conn.prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An attempt starts: the row is `sending` with the attempt counted. Returns false (and changes
/// nothing) when the row is already `sent`.
pub fn mark_sending(conn: &Connection, id: i64, at: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2
              WHERE id = ?1 AND state <> 'sent'",
        )?
        .execute(params![id, at])?;
    if n == 0 {
        get(conn, id)?; // not found is an error; already sent is not
    }
    Ok(n > 0)
}

/// The SMTP server accepted the message.
pub fn mark_sent(conn: &Connection, id: i64, at: &str) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL, updated_at = ?2
              WHERE id = ?1",
        )?
        .execute(params![id, at])?;
    if n == 0 {
        return Err(StoreError::not_found("mail", id));
    }
    Ok(())
}

/// An attempt failed and another will follow: back to `queued` with the error.
pub fn mark_waiting(conn: &Connection, id: i64, error: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'queued', last_error = ?2, updated_at = ?3
          WHERE id = ?1 AND state <> 'sent'",
    )?
    .execute(params![id, error, at])?;
    Ok(())
}

/// Rejected for good, or out of attempts: `failed` with the reason, until staff retry it.
pub fn mark_failed(conn: &Connection, id: i64, error: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'failed', last_error = ?2, updated_at = ?3
          WHERE id = ?1 AND state <> 'sent'",
    )?
    .execute(params![id, error, at])?;
    Ok(())
}

/// Staff retry: a failed mail is queued again (its attempts and last error are kept).
pub fn requeue(conn: &Connection, id: i64, at: &str) -> Result<OutboxMail> {
    let mail = get(conn, id)?;
    if mail.state != "failed" {
        return Err(StoreError::Conflict(format!(
            "mail {id} is {}; only failed mails can be retried",
            mail.state
        )));
    }
    conn.execute(
        "UPDATE outbox SET state = 'queued', updated_at = ?2 WHERE id = ?1",
        params![id, at],
    )?;
    get(conn, id)
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MailTemplate {
    pub id: i64,
    /// None: the workspace default for this kind.
    pub product_id: Option<i64>,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
}

const TEMPLATE_COLUMNS: &str = "id, product_id, kind, subject, body, created_at, updated_at";

fn template_from_row(r: &Row<'_>) -> rusqlite::Result<MailTemplate> {
    Ok(MailTemplate {
        id: r.get(0)?,
        product_id: r.get(1)?,
        kind: r.get(2)?,
        subject: r.get(3)?,
        body: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// The template of exactly this product (None: the workspace default) and kind.
pub fn template(
    conn: &Connection,
    product_id: Option<i64>,
    kind: &str,
) -> Result<Option<MailTemplate>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM mail_templates WHERE product_id IS ?1 AND kind = ?2"
        ))?
        .query_row(params![product_id, kind], template_from_row)
        .optional()?)
}

/// Creates or replaces the template of this product (None: the workspace default) and kind.
pub fn set_template(
    conn: &Connection,
    product_id: Option<i64>,
    kind: &str,
    subject: &str,
    body: &str,
    at: &str,
) -> Result<MailTemplate> {
    let n = conn.execute(
        "UPDATE mail_templates SET subject = ?3, body = ?4, updated_at = ?5
          WHERE product_id IS ?1 AND kind = ?2",
        params![product_id, kind, subject, body, at],
    )?;
    if n == 0 {
        conn.execute(
            "INSERT INTO mail_templates (product_id, kind, subject, body, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![product_id, kind, subject, body, at],
        )
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
            {
                StoreError::not_found("product", product_id.unwrap_or_default())
            }
            _ => StoreError::Sqlite(e),
        })?;
    }
    template(conn, product_id, kind)?
        .ok_or_else(|| StoreError::not_found("mail template", kind.to_owned()))
}

/// Removes a template (the next one in line takes over). Returns whether there was one.
pub fn delete_template(conn: &Connection, product_id: Option<i64>, kind: &str) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM mail_templates WHERE product_id IS ?1 AND kind = ?2",
        params![product_id, kind],
    )? > 0)
}

/// Every stored template: workspace defaults first, then by product and kind.
pub fn templates(conn: &Connection) -> Result<Vec<MailTemplate>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TEMPLATE_COLUMNS} FROM mail_templates
          ORDER BY product_id IS NOT NULL, product_id, kind"
    ))?;
    let rows = stmt.query_map([], template_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
