use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use hostdesk_app::{paths, AppError, Clock, ErrorCode, Workspace};

/// The open workspace, or why it could not be opened (shown in the window, not a crash).
pub struct AppState {
    workspace: Result<Mutex<Workspace>, AppError>,
    /// The clock before a sandbox workspace's offset (the system clock, or `--now`).
    base_clock: Clock,
}

impl AppState {
    /// The database file and base clock the job runner should use (None if the workspace did
    /// not open, or lives in memory). The runner adds the sandbox offset itself.
    pub fn runner_target(&self) -> Option<(PathBuf, Clock)> {
        let ws = self.workspace.as_ref().ok()?.lock().ok()?;
        Some((ws.path()?.to_path_buf(), self.base_clock))
    }
}

impl AppState {
    pub fn open(db: Option<PathBuf>, now: Option<&str>) -> AppState {
        let path = db.unwrap_or_else(paths::default_db_path);
        let base = now
            .map(Clock::fixed)
            .transpose()
            .map_err(|m| AppError::invalid("now", m));
        let base_clock = base.clone().ok().flatten().unwrap_or_default();
        let workspace = base
            .and_then(|clock| Workspace::open(&path, clock.unwrap_or_default()))
            .and_then(|mut ws| {
                let clock = hostdesk_app::test_clock::effective(ws.conn(), base_clock)?;
                ws.set_clock(clock);
                Ok(ws)
            })
            .map(Mutex::new);
        AppState {
            workspace,
            base_clock,
        }
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
