//! Orders, the clients' stored payment methods (gateway references only) and product activation.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub subscription_id: i64,
    pub site_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub invoice_number: Option<String>,
    pub domain: String,
    pub pay: String,
    pub state: String,
    /// The price preview the order was placed with (JSON text).
    pub quote: String,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub struct NewOrder<'a> {
    pub client_id: i64,
    pub subscription_id: i64,
    pub site_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub domain: &'a str,
    pub pay: &'a str,
    pub state: &'a str,
    pub quote: &'a str,
}

const SELECT: &str = "SELECT o.id, o.client_id, c.name, o.subscription_id, o.site_id, o.invoice_id,
        i.number, o.domain, o.pay, o.state, o.quote, o.error, o.created_at, o.updated_at
   FROM orders o JOIN clients c ON c.id = o.client_id LEFT JOIN invoices i ON i.id = o.invoice_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        id: r.get(0)?,
        client_id: r.get(1)?,
        client_name: r.get(2)?,
        subscription_id: r.get(3)?,
        site_id: r.get(4)?,
        invoice_id: r.get(5)?,
        invoice_number: r.get(6)?,
        domain: r.get(7)?,
        pay: r.get(8)?,
        state: r.get(9)?,
        quote: r.get(10)?,
        error: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

pub fn insert(conn: &Connection, o: &NewOrder<'_>, at: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO orders (client_id, subscription_id, site_id, invoice_id, domain, pay, state, quote,
                             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            o.client_id,
            o.subscription_id,
            o.site_id,
            o.invoice_id,
            o.domain,
            o.pay,
            o.state,
            o.quote,
            at
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn get(conn: &Connection, id: i64) -> Result<Order> {
    conn.query_row(&format!("{SELECT} WHERE o.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("order", id))
}

/// A client's orders (or every order), newest first.
pub fn list(conn: &Connection, client_id: Option<i64>, limit: i64) -> Result<Vec<Order>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE (?1 IS NULL OR o.client_id = ?1) ORDER BY o.id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![client_id, limit], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The orders whose first invoice is `invoice_id`.
pub fn for_invoice(conn: &Connection, invoice_id: i64) -> Result<Vec<Order>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} WHERE o.invoice_id = ?1"))?;
    let rows = stmt.query_map([invoice_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_state(
    conn: &Connection,
    id: i64,
    state: &str,
    error: Option<&str>,
    at: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE orders SET state = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, state, error, at],
    )?;
    Ok(())
}

/// How a product's subscriptions start: `on_payment`, `immediate` or `approval`.
pub fn activation(conn: &Connection, product_id: i64) -> Result<String> {
    conn.query_row(
        "SELECT activation FROM products WHERE id = ?1",
        [product_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("product", product_id))
}

pub fn set_activation(conn: &Connection, product_id: i64, activation: &str) -> Result<()> {
    conn.execute(
        "UPDATE products SET activation = ?2 WHERE id = ?1",
        params![product_id, activation],
    )?;
    Ok(())
}

/// A demo package's shared site (its domain), if the product is one.
pub fn shared_site(conn: &Connection, product_id: i64) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT shared_site FROM products WHERE id = ?1",
            [product_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

pub fn set_shared_site(conn: &Connection, product_id: i64, domain: Option<&str>) -> Result<()> {
    conn.execute(
        "UPDATE products SET shared_site = ?2 WHERE id = ?1",
        params![product_id, domain],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethod {
    pub id: i64,
    pub client_id: i64,
    /// `stripe` or `authnet`.
    pub gateway: String,
    pub customer_ref: String,
    pub method_ref: String,
    pub label: String,
    pub created_at: String,
}

/// Stores a payment method's references; the same references twice are one row.
pub fn add_payment_method(
    conn: &Connection,
    client_id: i64,
    gateway: &str,
    customer_ref: &str,
    method_ref: &str,
    label: &str,
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO payment_methods (client_id, gateway, customer_ref, method_ref, label, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (gateway, customer_ref, method_ref) DO NOTHING",
        params![client_id, gateway, customer_ref, method_ref, label, at],
    )?;
    Ok(conn.query_row(
        "SELECT id FROM payment_methods WHERE gateway = ?1 AND customer_ref = ?2 AND method_ref = ?3",
        params![gateway, customer_ref, method_ref],
        |r| r.get(0),
    )?)
}

pub fn payment_methods(conn: &Connection, client_id: i64) -> Result<Vec<PaymentMethod>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, client_id, gateway, customer_ref, method_ref, label, created_at
           FROM payment_methods WHERE client_id = ?1 ORDER BY id DESC",
    )?;
    let rows = stmt.query_map([client_id], |r| {
        Ok(PaymentMethod {
            id: r.get(0)?,
            client_id: r.get(1)?,
            gateway: r.get(2)?,
            customer_ref: r.get(3)?,
            method_ref: r.get(4)?,
            label: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The payment method charged for the client: the newest stored one.
pub fn default_payment_method(conn: &Connection, client_id: i64) -> Result<Option<PaymentMethod>> {
    Ok(payment_methods(conn, client_id)?.into_iter().next())
}
