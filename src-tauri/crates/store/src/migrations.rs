//! The schema's versions, oldest first. The version is SQLite's `user_version`; a migration is
//! never edited once released: a change is a new file.

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use crate::{Result, StoreError};

const STEPS: &[&str] = &[
    include_str!("../migrations/0001_foundation.sql"),
    include_str!("../migrations/0002_catalog_subscriptions.sql"),
    include_str!("../migrations/0003_client_search.sql"),
    include_str!("../migrations/0004_job_queue.sql"),
    include_str!("../migrations/0005_billing.sql"),
    include_str!("../migrations/0006_servers.sql"),
    include_str!("../migrations/0007_orders_dunning.sql"),
    include_str!("../migrations/0008_mail_outbox.sql"),
    include_str!("../migrations/0009_access_grants.sql"),
    include_str!("../migrations/0010_performance.sql"),
    include_str!("../migrations/0011_usage_quotas.sql"),
    include_str!("../migrations/0012_domains_ssl.sql"),
    include_str!("../migrations/0013_backups_expiry.sql"),
    include_str!("../migrations/0014_late_usage.sql"),
    include_str!("../migrations/0015_invoice_status_check.sql"),
    include_str!("../migrations/0016_refunds.sql"),
];

/// The CHECK that migration 15 writes on `invoices.status`.
const INVOICE_STATUS_CHECK: &str = "CHECK (status = 'draft' OR status = 'issued' OR status = 'partially_paid' OR status = 'paid' OR status = 'void')";

/// The newest schema version this binary knows.
pub const LATEST: i64 = STEPS.len() as i64;

fn migrations() -> Migrations<'static> {
    Migrations::new(
        STEPS
            .iter()
            .enumerate()
            .map(|(i, sql)| match i + 1 {
                15 => M::up_with_hook(sql, schema_rewritten),
                _ => M::up(sql),
            })
            .collect(),
    )
}

/// After a rewrite of the schema's text (migration 15): checks it took and bumps
/// `schema_version`, which makes every connection (this one included) reload the schema.
fn schema_rewritten(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'invoices'",
        [],
        |r| r.get(0),
    )?;
    if !sql.contains(INVOICE_STATUS_CHECK) {
        return Err(rusqlite_migration::HookError::Hook(
            "the invoices' status CHECK was not found to rewrite".into(),
        ));
    }
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.pragma_update(None, "schema_version", version + 1)?;
    Ok(())
}

pub fn current_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Migrates to `target` (or the latest); refuses a database newer than this binary.
pub fn migrate(conn: &mut Connection, target: Option<i64>) -> Result<()> {
    let found = current_version(conn)?;
    if found > LATEST {
        return Err(StoreError::TooNew {
            found,
            supported: LATEST,
        });
    }
    let m = migrations();
    let result = match target {
        None => m.to_latest(conn),
        Some(v) => m.to_version(conn, usize::try_from(v).unwrap_or(0)),
    };
    result.map_err(|e| StoreError::Migration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 15 rewrote the invoices' status CHECK in place: the same constraint, with no
    /// IN list (no temporary index per insert), still refusing an unknown status.
    #[test]
    fn the_invoice_status_check_is_comparisons_and_still_refuses() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate(&mut conn, None).unwrap();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'invoices'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains(INVOICE_STATUS_CHECK), "{sql}");
        assert!(!sql.contains("status IN"), "{sql}");
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        conn.execute_batch(
            "INSERT INTO clients (id, name, email, currency, timezone, created_at, updated_at)
             VALUES (1, 'A', 'a@a.test', 'EUR', 'UTC', 'x', 'x');
             INSERT INTO invoices (client_id, billing_date, currency, created_at, updated_at)
             VALUES (1, '2026-12-01', 'EUR', 'x', 'x');",
        )
        .unwrap();
        for (status, accepted) in [("issued", true), ("void", true), ("bogus", false)] {
            let r = conn.execute("UPDATE invoices SET status = ?1 WHERE id = 1", [status]);
            assert_eq!(r.is_ok(), accepted, "{status}: {r:?}");
            if !accepted {
                let e = r.unwrap_err().to_string();
                assert!(e.contains("CHECK constraint failed"), "{e}");
            }
        }
        // The statement compiled after the migration uses no temporary index for the CHECK.
        let ephemeral: i64 = conn
            .prepare(
                "EXPLAIN INSERT INTO invoices (client_id, billing_date, currency, created_at, updated_at)
                 VALUES (1, '2026-12-02', 'EUR', 'x', 'x')",
            )
            .unwrap()
            .query_map([], |r| r.get::<_, String>(1))
            .unwrap()
            .filter(|op| op.as_ref().unwrap() == "OpenEphemeral")
            .count() as i64;
        assert_eq!(ephemeral, 0);
    }

    #[test]
    fn migrations_are_valid() {
        migrations()
            .validate()
            .expect("every migration applies in order");
    }
}
