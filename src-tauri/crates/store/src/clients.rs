//! Clients and contacts: writes, the paged/sorted/filtered list, and full-text search.

use hostdesk_core::client::{ClientFields, ContactFields};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub country: Option<String>,
    pub tax_id: String,
    pub currency: String,
    pub timezone: String,
    pub billing_day: i64,
    pub notes: String,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: i64,
    pub client_id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: String,
}

const CLIENT_COLUMNS: &str = "id, kind, name, email, phone, address, country, tax_id, currency, \
     timezone, billing_day, notes, status, created_at, updated_at";

fn client_from_row(r: &Row<'_>) -> rusqlite::Result<Client> {
    Ok(Client {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        address: r.get(5)?,
        country: r.get(6)?,
        tax_id: r.get(7)?,
        currency: r.get(8)?,
        timezone: r.get(9)?,
        billing_day: r.get(10)?,
        notes: r.get(11)?,
        status: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

pub fn insert(conn: &Connection, c: &ClientFields, at: &str) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO clients (kind, name, email, phone, address, country, tax_id, currency,
                              timezone, billing_day, notes, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )?;
    stmt.execute(params![
        c.kind.as_str(),
        c.name,
        c.email,
        c.phone,
        c.address,
        c.country,
        c.tax_id,
        c.currency,
        c.timezone,
        c.billing_day,
        c.notes,
        c.status.as_str(),
        at
    ])?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, id: i64, c: &ClientFields, at: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE clients SET kind = ?2, name = ?3, email = ?4, phone = ?5, address = ?6,
                country = ?7, tax_id = ?8, currency = ?9, timezone = ?10, billing_day = ?11,
                notes = ?12, status = ?13, updated_at = ?14
          WHERE id = ?1",
        params![
            id,
            c.kind.as_str(),
            c.name,
            c.email,
            c.phone,
            c.address,
            c.country,
            c.tax_id,
            c.currency,
            c.timezone,
            c.billing_day,
            c.notes,
            c.status.as_str(),
            at
        ],
    )?;
    if n == 0 {
        return Err(StoreError::not_found("client", id));
    }
    Ok(())
}

pub fn get(conn: &Connection, id: i64) -> Result<Client> {
    conn.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1"
    ))?
    .query_row([id], client_from_row)
    .optional()?
    .ok_or_else(|| StoreError::not_found("client", id))
}

/// The clients with ids in `first..=last`, in id order (a bill run's batch in one query).
pub fn between(conn: &Connection, first: i64, last: i64) -> Result<Vec<Client>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE id BETWEEN ?1 AND ?2 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![first, last], client_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_contact(conn: &Connection, client_id: i64, c: &ContactFields) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO contacts (client_id, name, email, phone, role) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        client_id,
        c.name,
        c.email,
        c.phone,
        c.role.as_str()
    ])?;
    Ok(conn.last_insert_rowid())
}

pub fn delete_contact(conn: &Connection, client_id: i64, contact_id: i64) -> Result<Contact> {
    let existing = contacts(conn, client_id)?
        .into_iter()
        .find(|c| c.id == contact_id)
        .ok_or_else(|| StoreError::not_found("contact", contact_id))?;
    conn.execute("DELETE FROM contacts WHERE id = ?1", [contact_id])?;
    Ok(existing)
}

pub fn contacts(conn: &Connection, client_id: i64) -> Result<Vec<Contact>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, client_id, name, email, phone, role FROM contacts
          WHERE client_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([client_id], |r| {
        Ok(Contact {
            id: r.get(0)?,
            client_id: r.get(1)?,
            name: r.get(2)?,
            email: r.get(3)?,
            phone: r.get(4)?,
            role: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Turns what a person types into an FTS5 query: every word is a prefix, all must match.
/// `anna@exa` -> `"anna"* "exa"*`. Returns None when nothing searchable was typed.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(8)
        .map(|t| format!("\"{}\"*", t.to_lowercase()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ClientSort {
    #[default]
    Name,
    Email,
    Created,
    Status,
}

/// One page of the clients table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default, rename_all = "camelCase")]
pub struct ClientQuery {
    pub search: String,
    pub status: Option<String>,
    /// A product code: only clients with a subscription to it.
    pub product: Option<String>,
    pub sort: ClientSort,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ClientRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub country: Option<String>,
    pub currency: String,
    pub status: String,
    pub created_at: String,
    pub subscriptions: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ClientPage {
    /// How many clients match; counted for the first page only (offset 0), since the table
    /// sizes itself from it and later pages need not count again.
    pub total: Option<i64>,
    /// A search matched more than [`SEARCH_CAP`] clients: only that many are listed.
    pub truncated: bool,
    pub offset: i64,
    pub rows: Vec<ClientRow>,
}

/// How many matches search-as-you-type ranks at most.
pub const RANK_CANDIDATES: i64 = 500;

/// A search in the table lists at most this many clients ("type more to narrow it down").
pub const SEARCH_CAP: i64 = 10_000;

fn client_row_from(r: &Row<'_>) -> rusqlite::Result<ClientRow> {
    Ok(ClientRow {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        country: r.get(3)?,
        currency: r.get(4)?,
        status: r.get(5)?,
        created_at: r.get(6)?,
        subscriptions: r.get(7)?,
    })
}

/// A sorted, filtered page. Every sort walks an index; nothing loads all rows.
pub fn query(conn: &Connection, q: &ClientQuery) -> Result<ClientPage> {
    let fts = fts_query(&q.search);
    // The product code is resolved once. Filtered by product, the page walks that product's
    // clients in `client_products` (the clients' sort keys beside each product they subscribe
    // to): the rows before the offset are index entries of that product only, never probed.
    let product_id: Option<i64> = match &q.product {
        Some(code) => Some(
            conn.query_row("SELECT id FROM products WHERE code = ?1", [code], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(-1),
        ),
        None => None,
    };
    // `t` is the walked table: clients, or the product's rows of client_products.
    let (from, id) = match product_id {
        Some(_) => ("client_products t", "t.client_id"),
        None => ("clients t", "t.id"),
    };
    let mut filter = String::from(" WHERE 1 = 1");
    if product_id.is_some() {
        filter.push_str(" AND t.product_id = :product");
    }
    if fts.is_some() {
        filter.push_str(&format!(
            " AND {id} IN (SELECT rowid FROM client_search WHERE client_search MATCH :fts LIMIT :cap)"
        ));
    }
    if q.status.is_some() {
        filter.push_str(" AND t.status = :status");
    }
    let dir = if q.descending { "DESC" } else { "ASC" };
    let order = |t: &str, id: &str| match q.sort {
        ClientSort::Name => format!("{t}.name COLLATE NOCASE {dir}, {id} {dir}"),
        ClientSort::Email => format!("{t}.email COLLATE NOCASE {dir}, {id} {dir}"),
        ClientSort::Created => format!("{id} {dir}"),
        ClientSort::Status => {
            format!("{t}.status {dir}, {t}.name COLLATE NOCASE {dir}, {id} {dir}")
        }
    };
    let limit = q.limit.clamp(1, 500);
    let offset = q.offset.max(0);

    let cap = SEARCH_CAP + 1;
    let mut named: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
    if let Some(f) = &fts {
        named.push((":fts", f));
        named.push((":cap", &cap));
    }
    if let Some(s) = &q.status {
        named.push((":status", s));
    }
    if let Some(p) = &product_id {
        named.push((":product", p));
    }
    let total: Option<i64> = if offset == 0 {
        Some(
            conn.prepare_cached(&format!("SELECT count(*) FROM {from}{filter}"))?
                .query_row(named.as_slice(), |r| r.get(0))?,
        )
    } else {
        None
    };
    let truncated = fts.is_some() && total.is_some_and(|t| t > SEARCH_CAP);
    let total = if truncated { Some(SEARCH_CAP) } else { total };

    named.push((":limit", &limit));
    named.push((":offset", &offset));
    // The page's ids first, walking the index alone; then their rows (in the same order:
    // client_products holds the clients' own sort keys).
    let sql = format!(
        "SELECT c.id, c.name, c.email, c.country, c.currency, c.status, c.created_at,
                (SELECT count(*) FROM subscriptions s WHERE s.client_id = c.id)
           FROM (SELECT {id} AS id FROM {from}{filter}
                  ORDER BY {} LIMIT :limit OFFSET :offset) p
           JOIN clients c ON c.id = p.id
          ORDER BY {}",
        order("t", id),
        order("c", "c.id"),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(named.as_slice(), client_row_from)?;
    Ok(ClientPage {
        total,
        truncated,
        offset,
        rows: rows.collect::<rusqlite::Result<_>>()?,
    })
}

/// Search as you type: the best `limit` matches. Ranking scores every candidate, so only the
/// first [`RANK_CANDIDATES`] matches are ranked: a one-letter prefix that matches half the
/// workspace answers at once instead of scoring 50,000 rows.
pub fn search(conn: &Connection, text: &str, limit: i64) -> Result<Vec<ClientRow>> {
    let Some(fts) = fts_query(text) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.name, c.email, c.country, c.currency, c.status, c.created_at,
                (SELECT count(*) FROM subscriptions s WHERE s.client_id = c.id)
           FROM (SELECT id, rank FROM (SELECT rowid AS id, rank FROM client_search
                                        WHERE client_search MATCH ?1 LIMIT ?3)
                  ORDER BY rank LIMIT ?2) m
           JOIN clients c ON c.id = m.id
          ORDER BY m.rank",
    )?;
    let rows = stmt.query_map(
        params![fts, limit.clamp(1, 200), RANK_CANDIDATES],
        client_row_from,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every client, in id order, streamed to `f` (exports).
pub fn for_each(conn: &Connection, mut f: impl FnMut(Client) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        f(client_from_row(r)?)?;
    }
    Ok(())
}
