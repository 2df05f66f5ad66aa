use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{migrations, Result, StoreError};

/// One open workspace database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it to the latest schema.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: dir.display().to_string(),
                message: e.to_string(),
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::prepare(conn, None)
    }

    /// A private in-memory database at the latest schema (tests, previews).
    pub fn open_in_memory() -> Result<Store> {
        Self::prepare(Connection::open_in_memory()?, None)
    }

    /// Opens at a given schema version (tests of upgrades from older databases).
    pub fn open_at_version(path: &Path, version: i64) -> Result<Store> {
        Self::prepare(Connection::open(path)?, Some(version))
    }

    fn prepare(mut conn: Connection, target: Option<i64>) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // journal_mode returns a row; WAL is refused (and "memory" kept) for in-memory databases.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -32768;", // 32 MB of page cache: bill runs touch big indexes
        )?;
        migrations::migrate(&mut conn, target)?;
        Ok(Store { conn })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn schema_version(&self) -> Result<i64> {
        migrations::current_version(&self.conn)
    }
}
