//! The workspace's headline counts, for the dashboard and `hostdesk status`.

use rusqlite::Connection;
use serde::Serialize;

use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub clients: i64,
    pub subscriptions: i64,
    pub sites: i64,
    pub open_invoices: i64,
    pub queued_jobs: i64,
}

pub fn counts(conn: &Connection) -> Result<Counts> {
    Ok(conn.query_row(
        "SELECT (SELECT count(*) FROM clients),
                (SELECT count(*) FROM subscriptions),
                (SELECT count(*) FROM sites),
                (SELECT count(*) FROM invoices WHERE status IN ('issued', 'partially_paid')),
                (SELECT count(*) FROM jobs WHERE state IN ('queued', 'failed'))",
        [],
        |r| {
            Ok(Counts {
                clients: r.get(0)?,
                subscriptions: r.get(1)?,
                sites: r.get(2)?,
                open_invoices: r.get(3)?,
                queued_jobs: r.get(4)?,
            })
        },
    )?)
}

/// How many subscriptions each product has in each state (the dashboard's chart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductStateCount {
    pub product_code: String,
    pub product_name: String,
    pub state: String,
    pub count: i64,
}

pub fn subscriptions_by_product(conn: &Connection) -> Result<Vec<ProductStateCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.code, p.name, s.state, count(*) FROM subscriptions s
           JOIN products p ON p.id = s.product_id
          GROUP BY p.id, s.state ORDER BY p.name, s.state",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ProductStateCount {
            product_code: r.get(0)?,
            product_name: r.get(1)?,
            state: r.get(2)?,
            count: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
