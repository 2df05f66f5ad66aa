//! The job runner inside the app — every handler (the sandbox, provisioning, charges, mail, from
//! `provisioning::build_runner`) — and the hourly sweeps (`hostdesk_app::sweeps`: dunning),
//! started with the window, stopped (running jobs finish) when it closes. Progress reaches the UI as `JobsChanged` events, at most ~5 a second.
//!
//! Each server's concurrency limit is its per-server limit in the runner; when staff change a
//! limit (or add a server), or move a sandbox workspace's clock, the runner is rebuilt within a
//! few seconds (running jobs finish first). One-time login links produced by `site.login_link` jobs stay in memory, in
//! [`QueueStatus::login_links`], until an IPC command hands them out once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_app::provisioning::{self, LoginLinks, ProvisioningConfig};
use hostdesk_app::runner::{RunEvent, RunnerConfig, Until};
use hostdesk_app::store::{servers as store_servers, Store};
use hostdesk_app::{secrets, sweeps, test_clock, Clock};
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

/// Why the runner is not running, if it is not (shown on the Jobs screen), and what its jobs
/// leave for the UI.
#[derive(Default)]
pub struct QueueStatus {
    pub error: Mutex<Option<String>>,
    /// One-time login links from `site.login_link` jobs: `login_links.take(job_id)` hands one
    /// out, once (memory only, ten minutes).
    pub login_links: LoginLinks,
}

/// How often the servers' concurrency limits are compared with the running runner's.
const LIMITS_CHECK: Duration = Duration::from_secs(5);

pub fn start(
    app: AppHandle,
    db: PathBuf,
    clock: Clock,
    status: Arc<QueueStatus>,
) -> watch::Sender<bool> {
    let (stop_tx, stop_rx) = watch::channel(false);
    tauri::async_runtime::spawn(sweep(db.clone(), clock, stop_rx.clone()));
    tauri::async_runtime::spawn(async move {
        let result = run(app, db, clock, stop_rx, status.login_links.clone()).await;
        if let Err(e) = result {
            if let Ok(mut s) = status.error.lock() {
                *s = Some(e.message);
            }
        }
    });
    stop_tx
}

/// The periodic sweeps (dunning, ...), at start and then every [`sweeps::EVERY`], each on its
/// own connection; a failure is kept for the next try, never fatal to the app.
async fn sweep(db: PathBuf, base: Clock, mut stop: watch::Receiver<bool>) {
    loop {
        let path = db.clone();
        let _ = tokio::task::spawn_blocking(move || -> hostdesk_app::Result<()> {
            let mut ws = hostdesk_app::Workspace::open(&path, base)?;
            let clock = test_clock::effective(ws.conn(), base)?;
            ws.set_clock(clock);
            sweeps::run(&mut ws).map(|_| ())
        })
        .await;
        tokio::select! {
            _ = tokio::time::sleep(sweeps::EVERY) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

fn clock_offset(store: &Store) -> Option<String> {
    hostdesk_app::store::settings::get(store.conn(), test_clock::OFFSET_DAYS)
        .ok()
        .flatten()
}

fn limits(store: &Store) -> Option<HashMap<i64, usize>> {
    store_servers::concurrency_limits(store.conn()).ok()
}

async fn run(
    app: AppHandle,
    db: PathBuf,
    clock: Clock,
    stop: watch::Receiver<bool>,
    links: LoginLinks,
) -> hostdesk_app::Result<()> {
    let secrets = secrets::from_env()?;
    let last_emit = Mutex::new(std::time::Instant::now() - Duration::from_secs(1));
    let emit = |e: RunEvent| {
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
    };
    loop {
        let store = Store::open(&db)?;
        let built_with = limits(&store);
        let offset = clock_offset(&store);
        // A sandbox workspace's clock may run ahead: the runner keeps the same "now".
        let effective = test_clock::effective(store.conn(), clock)?;
        let (runner, _provisioning) = provisioning::build_runner(
            &db,
            effective,
            secrets.clone(),
            RunnerConfig::default(),
            ProvisioningConfig {
                login_links: links.clone(),
                ..Default::default()
            },
        )?;
        // Stops the runner when the app closes, or to rebuild it when the limits changed.
        let (inner_tx, inner_rx) = watch::channel(false);
        let mut app_stop = stop.clone();
        let watcher = tokio::spawn(async move {
            loop {
                if *app_stop.borrow() {
                    let _ = inner_tx.send(true);
                    return false;
                }
                tokio::select! {
                    changed = app_stop.changed() => {
                        if changed.is_err() {
                            let _ = inner_tx.send(true);
                            return false;
                        }
                    }
                    _ = tokio::time::sleep(LIMITS_CHECK) => {
                        if limits(&store) != built_with || clock_offset(&store) != offset {
                            let _ = inner_tx.send(true);
                            return true;
                        }
                    }
                }
            }
        });
        let outcome = runner.run(Until::Stopped(inner_rx), &emit).await;
        if let Err(e) = outcome {
            watcher.abort();
            return Err(e);
        }
        let rebuild = watcher.await.unwrap_or(false);
        if !rebuild || *stop.borrow() {
            return Ok(());
        }
    }
}
