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
];

/// The newest schema version this binary knows.
pub const LATEST: i64 = STEPS.len() as i64;

fn migrations() -> Migrations<'static> {
    Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect())
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

    #[test]
    fn migrations_are_valid() {
        migrations()
            .validate()
            .expect("every migration applies in order");
    }
}
