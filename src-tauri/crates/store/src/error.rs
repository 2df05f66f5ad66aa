/// The store's one error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("could not migrate the database: {0}")]
    Migration(String),
    #[error(
        "this database was written by a newer Hostdesk (schema version {found}; this build knows \
         up to {supported}). Update Hostdesk to open it; the file was not changed."
    )]
    TooNew { found: i64, supported: i64 },
    #[error("could not open {path}: {message}")]
    Open { path: String, message: String },
    #[error("{entity} {key} not found")]
    NotFound { entity: &'static str, key: String },
    #[error("{0}")]
    Conflict(String),
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        table: &'static str,
        message: String,
    },
}

impl StoreError {
    pub fn not_found(entity: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// Turns a UNIQUE constraint failure into a conflict with a human message.
    pub fn unique_or(e: rusqlite::Error, message: impl FnOnce() -> String) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Conflict(message())
            }
            _ => StoreError::Sqlite(e),
        }
    }
}
