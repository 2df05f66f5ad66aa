//! Domains (`domains`: subdomain, owned or registered, with registration, DNS and expiry) and
//! certificates (`certificates`: a site's SSL level and what it serves), and what expires soon.
//!
//! No function here takes or returns a private key: a bundled certificate's key lives in the OS
//! keyring.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

pub const MODES: &[&str] = &["subdomain", "owned", "registered"];
pub const STATES: &[&str] = &[
    "pending",
    "verifying",
    "active",
    "failed",
    "expired",
    "released",
];
pub const SSL_LEVELS: &[&str] = &["none", "automatic", "bundled"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Domain {
    pub id: i64,
    pub name: String,
    /// subdomain, owned or registered.
    pub mode: String,
    pub client_id: Option<i64>,
    pub client_name: Option<String>,
    pub subscription_id: Option<i64>,
    pub site_id: Option<i64>,
    pub order_id: Option<i64>,
    /// pending, verifying, active, failed, expired or released.
    pub state: String,
    pub registrar: Option<String>,
    pub registrar_id: Option<String>,
    pub years: i64,
    pub cost_minor: Option<i64>,
    pub cost_currency: Option<String>,
    pub registered_on: Option<String>,
    pub expires_on: Option<String>,
    pub auto_renew: bool,
    pub invoice_id: Option<i64>,
    pub refund_minor: i64,
    pub credit_note: Option<String>,
    pub dns_zone: Option<String>,
    pub target_ip: Option<String>,
    pub verified_at: Option<String>,
    pub checked_at: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A domain to record.
#[derive(Debug, Clone, Default)]
pub struct NewDomain<'a> {
    pub name: &'a str,
    pub mode: &'a str,
    pub client_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub site_id: Option<i64>,
    pub order_id: Option<i64>,
    pub state: &'a str,
    pub registrar: Option<&'a str>,
    pub years: i64,
    pub invoice_id: Option<i64>,
    pub refund_minor: i64,
    pub target_ip: Option<&'a str>,
}

const SELECT: &str = "SELECT d.id, d.name, d.mode, d.client_id, c.name, d.subscription_id,
        d.site_id, d.order_id, d.state, d.registrar, d.registrar_id, d.years, d.cost_minor,
        d.cost_currency, d.registered_on, d.expires_on, d.auto_renew, d.invoice_id,
        d.refund_minor, d.credit_note, d.dns_zone, d.target_ip, d.verified_at, d.checked_at,
        d.error, d.created_at, d.updated_at
   FROM domains d LEFT JOIN clients c ON c.id = d.client_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Domain> {
    Ok(Domain {
        id: r.get(0)?,
        name: r.get(1)?,
        mode: r.get(2)?,
        client_id: r.get(3)?,
        client_name: r.get(4)?,
        subscription_id: r.get(5)?,
        site_id: r.get(6)?,
        order_id: r.get(7)?,
        state: r.get(8)?,
        registrar: r.get(9)?,
        registrar_id: r.get(10)?,
        years: r.get(11)?,
        cost_minor: r.get(12)?,
        cost_currency: r.get(13)?,
        registered_on: r.get(14)?,
        expires_on: r.get(15)?,
        auto_renew: r.get::<_, i64>(16)? != 0,
        invoice_id: r.get(17)?,
        refund_minor: r.get(18)?,
        credit_note: r.get(19)?,
        dns_zone: r.get(20)?,
        target_ip: r.get(21)?,
        verified_at: r.get(22)?,
        checked_at: r.get(23)?,
        error: r.get(24)?,
        created_at: r.get(25)?,
        updated_at: r.get(26)?,
    })
}

pub fn insert(conn: &Connection, d: &NewDomain<'_>, at: &str) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO domains (name, mode, client_id, subscription_id, site_id, order_id, state,
                              registrar, years, invoice_id, refund_minor, target_ip,
                              created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )?
    .execute(params![
        d.name,
        d.mode,
        d.client_id,
        d.subscription_id,
        d.site_id,
        d.order_id,
        d.state,
        d.registrar,
        d.years.max(1),
        d.invoice_id,
        d.refund_minor,
        d.target_ip,
        at
    ])
    .map_err(|e| StoreError::unique_or(e, || format!("domain {} is already recorded", d.name)))?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> Result<Domain> {
    conn.query_row(&format!("{SELECT} WHERE d.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("domain", id))
}

pub fn find(conn: &Connection, name: &str) -> Result<Option<Domain>> {
    Ok(conn
        .query_row(
            &format!("{SELECT} WHERE d.name = ?1"),
            [name.trim().trim_end_matches('.').to_lowercase()],
            from_row,
        )
        .optional()?)
}

/// The domain a site answers on, if it is recorded.
pub fn for_site(conn: &Connection, site_id: i64) -> Result<Option<Domain>> {
    Ok(conn
        .query_row(
            &format!("{SELECT} WHERE d.site_id = ?1 ORDER BY d.id DESC LIMIT 1"),
            [site_id],
            from_row,
        )
        .optional()?)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct DomainFilter<'a> {
    pub client_id: Option<i64>,
    pub mode: Option<&'a str>,
    pub state: Option<&'a str>,
    pub limit: i64,
}

pub fn list(conn: &Connection, f: &DomainFilter<'_>) -> Result<Vec<Domain>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE (?1 IS NULL OR d.client_id = ?1) AND (?2 IS NULL OR d.mode = ?2)
                    AND (?3 IS NULL OR d.state = ?3)
          ORDER BY d.id DESC LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![f.client_id, f.mode, f.state, f.limit.clamp(1, 10_000)],
        from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_state(
    conn: &Connection,
    id: i64,
    state: &str,
    error: Option<&str>,
    at: &str,
) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE domains SET state = ?2, error = ?3, checked_at = ?4, updated_at = ?4
              WHERE id = ?1",
        )?
        .execute(params![id, state, error, at])?;
    if n == 0 {
        return Err(StoreError::not_found("domain", id));
    }
    Ok(())
}

/// The registrar's answer: its id first (saved the moment it is known), the rest when known.
pub struct Registration<'a> {
    pub registrar_id: &'a str,
    pub cost_minor: Option<i64>,
    pub cost_currency: Option<&'a str>,
    pub registered_on: Option<&'a str>,
    pub expires_on: Option<&'a str>,
}

pub fn set_registered(conn: &Connection, id: i64, r: &Registration<'_>, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE domains SET state = 'active', registrar_id = ?2,
                cost_minor = COALESCE(?3, cost_minor), cost_currency = COALESCE(?4, cost_currency),
                registered_on = COALESCE(?5, registered_on), expires_on = COALESCE(?6, expires_on),
                error = NULL, checked_at = ?7, updated_at = ?7
          WHERE id = ?1",
    )?
    .execute(params![
        id,
        r.registrar_id,
        r.cost_minor,
        r.cost_currency,
        r.registered_on,
        r.expires_on,
        at
    ])?;
    Ok(())
}

pub fn set_expiry(conn: &Connection, id: i64, expires_on: &str, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE domains SET expires_on = ?2,
                state = CASE WHEN state = 'expired' THEN 'active' ELSE state END,
                error = NULL, checked_at = ?3, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, expires_on, at])?;
    Ok(())
}

pub fn set_zone(
    conn: &Connection,
    id: i64,
    zone: &str,
    target_ip: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE domains SET dns_zone = ?2, target_ip = COALESCE(?3, target_ip),
                checked_at = ?4, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, zone, target_ip, at])?;
    Ok(())
}

pub fn set_verified(conn: &Connection, id: i64, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE domains SET state = 'active', verified_at = ?2, error = NULL, checked_at = ?2,
                updated_at = ?2 WHERE id = ?1",
    )?
    .execute(params![id, at])?;
    Ok(())
}

pub fn set_credit_note(conn: &Connection, id: i64, number: &str, at: &str) -> Result<()> {
    conn.prepare_cached("UPDATE domains SET credit_note = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, number, at])?;
    Ok(())
}

pub fn set_auto_renew(conn: &Connection, id: i64, on: bool, at: &str) -> Result<()> {
    conn.prepare_cached("UPDATE domains SET auto_renew = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, i64::from(on), at])?;
    Ok(())
}

/// Registered domains whose registration ends on or before `until` (YYYY-MM-DD), still
/// renewed automatically, whose subscription is active: what the renewal run queues.
pub fn renewals_due(conn: &Connection, until: &str) -> Result<Vec<Domain>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} LEFT JOIN subscriptions s ON s.id = d.subscription_id
          WHERE d.mode = 'registered' AND d.state IN ('active', 'expired') AND d.auto_renew = 1
            AND d.expires_on IS NOT NULL AND d.expires_on <= ?1
            AND (d.subscription_id IS NULL OR s.state = 'active')
          ORDER BY d.expires_on, d.id"
    ))?;
    let rows = stmt.query_map([until], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub id: i64,
    pub site_id: i64,
    pub domain: String,
    /// none, automatic or bundled.
    pub level: String,
    /// pending, active or failed.
    pub state: String,
    /// Whether a bundle was uploaded (its chain is public; its key is in the keyring).
    pub has_bundle: bool,
    pub issuer: Option<String>,
    pub serial: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub checked_at: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const CERT_SELECT: &str = "SELECT id, site_id, domain, level, state, chain_pem IS NOT NULL,
        issuer, serial, not_before, not_after, checked_at, error, created_at, updated_at
   FROM certificates";

fn cert_row(r: &Row<'_>) -> rusqlite::Result<Certificate> {
    Ok(Certificate {
        id: r.get(0)?,
        site_id: r.get(1)?,
        domain: r.get(2)?,
        level: r.get(3)?,
        state: r.get(4)?,
        has_bundle: r.get::<_, i64>(5)? != 0,
        issuer: r.get(6)?,
        serial: r.get(7)?,
        not_before: r.get(8)?,
        not_after: r.get(9)?,
        checked_at: r.get(10)?,
        error: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

/// Sets a site's certificate level (and, for a bundle, its public chain); the row goes back to
/// `pending` until the server has it. Returns the row's id.
pub fn upsert_certificate(
    conn: &Connection,
    site_id: i64,
    domain: &str,
    level: &str,
    chain_pem: Option<&str>,
    at: &str,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO certificates (site_id, domain, level, state, chain_pem, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5)
         ON CONFLICT (site_id) DO UPDATE SET domain = excluded.domain, level = excluded.level,
                state = 'pending', error = NULL,
                chain_pem = COALESCE(excluded.chain_pem,
                                     CASE WHEN excluded.level = 'bundled' THEN chain_pem END),
                updated_at = excluded.updated_at",
    )?
    .execute(params![site_id, domain, level, chain_pem, at])?;
    Ok(conn.query_row(
        "SELECT id FROM certificates WHERE site_id = ?1",
        [site_id],
        |r| r.get(0),
    )?)
}

pub fn certificate_for_site(conn: &Connection, site_id: i64) -> Result<Option<Certificate>> {
    Ok(conn
        .query_row(
            &format!("{CERT_SELECT} WHERE site_id = ?1"),
            [site_id],
            cert_row,
        )
        .optional()?)
}

pub fn certificate(conn: &Connection, id: i64) -> Result<Certificate> {
    conn.query_row(&format!("{CERT_SELECT} WHERE id = ?1"), [id], cert_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("certificate", id))
}

/// A bundle's public chain.
pub fn chain_pem(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT chain_pem FROM certificates WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

pub fn list_certificates(conn: &Connection, limit: i64) -> Result<Vec<Certificate>> {
    let mut stmt = conn.prepare_cached(&format!("{CERT_SELECT} ORDER BY id DESC LIMIT ?1"))?;
    let rows = stmt.query_map([limit.clamp(1, 10_000)], cert_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_certificate_state(
    conn: &Connection,
    id: i64,
    state: &str,
    error: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE certificates SET state = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![id, state, error, at])?;
    Ok(())
}

/// What the site was seen serving.
pub struct Seen<'a> {
    pub issuer: Option<&'a str>,
    pub serial: &'a str,
    pub not_before: &'a str,
    pub not_after: &'a str,
}

pub fn set_certificate_seen(conn: &Connection, id: i64, s: &Seen<'_>, at: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE certificates SET issuer = ?2, serial = ?3, not_before = ?4, not_after = ?5,
                checked_at = ?6, updated_at = ?6 WHERE id = ?1",
    )?
    .execute(params![
        id,
        s.issuer,
        s.serial,
        s.not_before,
        s.not_after,
        at
    ])?;
    Ok(())
}

/// Certificates of automatic or bundled level not checked since `before` (RFC 3339), or whose
/// expiry is on or before `expiring_by`: what the certificate check looks at.
pub fn certificates_to_check(
    conn: &Connection,
    before: &str,
    expiring_by: &str,
) -> Result<Vec<Certificate>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{CERT_SELECT} WHERE level <> 'none' AND state <> 'pending'
            AND (checked_at IS NULL OR checked_at < ?1 OR not_after <= ?2)
          ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![before, expiring_by], cert_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------------------------------------
// What expires soon
// ---------------------------------------------------------------------------------------------

/// A domain registration or a certificate that ends soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Expiring {
    /// `domain` or `certificate`.
    pub kind: String,
    /// The domain row's or the certificate row's id.
    pub id: i64,
    pub name: String,
    pub site_id: Option<i64>,
    pub client_id: Option<i64>,
    pub client_name: Option<String>,
    /// `YYYY-MM-DD` (a domain) or RFC 3339 (a certificate).
    pub expires: String,
    pub state: String,
    /// Whether the domain renews with its subscription; a certificate of level `automatic`.
    pub renews: bool,
}

/// Registered domains ending on or before `until` (YYYY-MM-DD), and certificates whose expiry
/// is before the end of that day, soonest first.
pub fn expiring(conn: &Connection, until: &str) -> Result<Vec<Expiring>> {
    let mut stmt = conn.prepare_cached(
        "SELECT 'domain', d.id, d.name, d.site_id, d.client_id, c.name, d.expires_on, d.state,
                d.auto_renew, d.expires_on AS k
           FROM domains d LEFT JOIN clients c ON c.id = d.client_id
          WHERE d.mode = 'registered' AND d.expires_on IS NOT NULL AND d.expires_on <= ?1
            AND d.state NOT IN ('failed', 'released')
         UNION ALL
         SELECT 'certificate', t.id, t.domain, t.site_id, sub.client_id, c.name, t.not_after,
                t.state, t.level = 'automatic', substr(t.not_after, 1, 10) AS k
           FROM certificates t JOIN sites s ON s.id = t.site_id
           JOIN subscriptions sub ON sub.id = s.subscription_id
           LEFT JOIN clients c ON c.id = sub.client_id
          WHERE t.level <> 'none' AND t.not_after IS NOT NULL
            AND substr(t.not_after, 1, 10) <= ?1
         ORDER BY k, 1, 2",
    )?;
    let rows = stmt.query_map([until], |r| {
        Ok(Expiring {
            kind: r.get(0)?,
            id: r.get(1)?,
            name: r.get(2)?,
            site_id: r.get(3)?,
            client_id: r.get(4)?,
            client_name: r.get(5)?,
            expires: r.get(6)?,
            state: r.get(7)?,
            renews: r.get::<_, i64>(8)? != 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
