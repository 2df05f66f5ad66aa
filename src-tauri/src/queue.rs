//! The job runner inside the app: started with the window, stopped (running jobs finish)
//! when it closes. Progress reaches the UI as `JobsChanged` events, at most ~5 a second.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_app::runner::{RunEvent, Runner, RunnerConfig, Until};
use hostdesk_app::sandbox::Sandbox;
use hostdesk_app::{settings, Clock, Workspace};
use serde::{Deserialize, Serialize};
use tauri::AppHandle;
use tauri_specta::Event;
use tokio::sync::watch;

/// Something in the queue changed: the UI refetches what it shows.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(rename_all = "camelCase")]
pub struct JobsChanged {
    /// The last job that changed, and what happened to it.
    pub job_id: i64,
    pub what: String,
}

/// Why the runner is not running, if it is not (shown on the Jobs screen).
#[derive(Default)]
pub struct QueueStatus {
    pub error: Mutex<Option<String>>,
}

pub fn start(
    app: AppHandle,
    db: PathBuf,
    clock: Clock,
    status: Arc<QueueStatus>,
) -> watch::Sender<bool> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tauri::async_runtime::spawn(async move {
        let result = run(app, db, clock, stop_rx).await;
        if let Err(e) = result {
            if let Ok(mut s) = status.error.lock() {
                *s = Some(e.message);
            }
        }
    });
    stop_tx
}

async fn run(
    app: AppHandle,
    db: PathBuf,
    clock: Clock,
    stop: watch::Receiver<bool>,
) -> hostdesk_app::Result<()> {
    let delay = settings::sandbox_delay(&Workspace::open(&db, clock)?)?;
    let mut runner = Runner::new(&db, clock, RunnerConfig::default());
    Sandbox::open(&db, clock, delay)?.register(&mut runner);
    let last_emit = Mutex::new(std::time::Instant::now() - Duration::from_secs(1));
    runner
        .run(Until::Stopped(stop), |e| {
            let (job_id, what) = match &e {
                RunEvent::Started { id, .. } => (*id, "started"),
                RunEvent::Succeeded { id, .. } => (*id, "succeeded"),
                RunEvent::Failed {
                    id,
                    retry_at: Some(_),
                    ..
                } => (*id, "failed"),
                RunEvent::Failed { id, .. } => (*id, "dead"),
            };
            // Batch: a burst of jobs becomes a few events, not thousands; finishes always go out.
            let mut last = last_emit.lock().unwrap_or_else(|p| p.into_inner());
            if what != "started" || last.elapsed() > Duration::from_millis(200) {
                *last = std::time::Instant::now();
                let _ = JobsChanged {
                    job_id,
                    what: what.into(),
                }
                .emit(&app);
            }
        })
        .await?;
    Ok(())
}
