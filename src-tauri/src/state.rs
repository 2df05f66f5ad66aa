use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use hostdesk_app::{paths, AppError, Clock, ErrorCode, Workspace};

/// The open workspace, or why it could not be opened (shown in the window, not a crash).
pub struct AppState {
    workspace: Result<Mutex<Workspace>, AppError>,
}

impl AppState {
    /// The database file and clock the job runner should use (None if the workspace did not
    /// open, or lives in memory).
    pub fn runner_target(&self) -> Option<(PathBuf, Clock)> {
        let ws = self.workspace.as_ref().ok()?.lock().ok()?;
        Some((ws.path()?.to_path_buf(), ws.clock()))
    }
}

impl AppState {
    pub fn open(db: Option<PathBuf>, now: Option<&str>) -> AppState {
        let path = db.unwrap_or_else(paths::default_db_path);
        let workspace = now
            .map(Clock::fixed)
            .transpose()
            .map_err(|m| AppError::invalid("now", m))
            .and_then(|clock| Workspace::open(&path, clock.unwrap_or_default()))
            .map(Mutex::new);
        AppState { workspace }
    }

    pub fn lock(&self) -> Result<MutexGuard<'_, Workspace>, AppError> {
        match &self.workspace {
            Ok(m) => m
                .lock()
                .map_err(|_| AppError::new(ErrorCode::Internal, "the workspace lock was poisoned")),
            Err(e) => Err(e.clone()),
        }
    }
}
