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
