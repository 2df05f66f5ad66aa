//! Database work of a job handler, on tokio's blocking pool: a write that waits for SQLite's
//! lock (the runner writes too) must not hold up the async workers. One place for the two
//! shapes the handlers use, and for how their errors become job errors.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hostdesk_store::{Connection, Store, StoreError};

use crate::runner::JobError;
use crate::{AppError, ErrorCode, Workspace};

/// Locks a handler's connection; a panic in another job does not make it unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Store work: any database error is retried (SQLite busy, a disk hiccup).
pub(crate) async fn on_store<T, F>(store: &Arc<Mutex<Store>>, f: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(lock(&store).conn()))
        .await
        .map_err(|e| JobError::retry(format!("database task: {e}")))?
        .map_err(|e| JobError::retry(format!("database: {e}")))
}

/// Use-case work on a workspace: a database or I/O error is retried; any other error of the use
/// case (invalid, not found, conflict) is fatal.
pub(crate) async fn on_workspace<T, F>(ws: &Arc<Mutex<Workspace>>, f: F) -> Result<T, JobError>
where
    T: Send + 'static,
    F: FnOnce(&mut Workspace) -> Result<T, AppError> + Send + 'static,
{
    let ws = ws.clone();
    tokio::task::spawn_blocking(move || f(&mut lock(&ws)))
        .await
        .map_err(|e| JobError::retry(format!("database task: {e}")))?
        .map_err(|e| match e.code {
            ErrorCode::Database | ErrorCode::Io => JobError::retry(e.message),
            _ => JobError::fatal(e.message),
        })
}
