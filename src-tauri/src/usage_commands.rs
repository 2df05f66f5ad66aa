//! The IPC surface of usage and quotas (each command calls one use case), and the schedule
//! that queues usage collections while the app is open.

use std::path::PathBuf;
use std::time::Duration;

use hostdesk_app::store::usage::UsageAlert;
use hostdesk_app::usage::quota::{self, QuotaChange};
use hostdesk_app::usage::{self, alerts, collect, ClientUsage, Fleet, ResourceHistory};
use hostdesk_app::{test_clock, AppError, Clock, Workspace};
use tauri::State;
use tokio::sync::watch;

use crate::state::AppState;

type R<T> = Result<T, AppError>;

/// A client's usage against its quotas this period, per subscription, with its open alerts.
#[tauri::command]
#[specta::specta]
pub async fn get_client_usage(state: State<'_, AppState>, client_id: i64) -> R<ClientUsage> {
    usage::show_client(&*state.lock()?, client_id)
}

/// A subscription's daily history of one resource (for its chart).
#[tauri::command]
#[specta::specta]
pub async fn get_usage_history(
    state: State<'_, AppState>,
    subscription_id: i64,
    resource: String,
    days: i64,
) -> R<ResourceHistory> {
    usage::history(&*state.lock()?, subscription_id, &resource, days)
}

/// The subscriptions nearest to or over their quotas, and the open alerts.
#[tauri::command]
#[specta::specta]
pub async fn get_usage_fleet(state: State<'_, AppState>, min_percent: i64, limit: i64) -> R<Fleet> {
    usage::fleet(&*state.lock()?, min_percent, limit)
}

/// Queues a collection now (one server by name, or every server); the app's runner runs it.
#[tauri::command]
#[specta::specta]
pub async fn collect_usage(state: State<'_, AppState>, server: Option<String>) -> R<Vec<i64>> {
    collect::collect_now(&mut *state.lock()?, server.as_deref())
}

/// Sets a subscription's limit of a resource (None: unlimited); pushed where enforced.
#[tauri::command]
#[specta::specta]
pub async fn set_quota(
    state: State<'_, AppState>,
    subscription_id: i64,
    resource: String,
    limit: Option<i64>,
) -> R<QuotaChange> {
    quota::set_quota(&mut *state.lock()?, subscription_id, &resource, limit)
}

#[tauri::command]
#[specta::specta]
pub async fn dismiss_usage_alert(state: State<'_, AppState>, id: i64) -> R<bool> {
    alerts::dismiss(&mut *state.lock()?, id)
}

/// Open alerts of one client or all (newest first).
#[tauri::command]
#[specta::specta]
pub async fn list_usage_alerts(
    state: State<'_, AppState>,
    client_id: Option<i64>,
) -> R<Vec<UsageAlert>> {
    alerts::list(&*state.lock()?, client_id, false)
}

/// How often the schedule looks whether a collection is due (the slot length is the setting
/// `usage_collect_hours`; the job key names the slot, so it is queued once).
const TICK: Duration = Duration::from_secs(300);

/// Queues the scheduled usage collections while the app is open, until `stop` turns true.
pub fn start_schedule(db: PathBuf, base: Clock, mut stop: watch::Receiver<bool>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let db = db.clone();
            let _ = tokio::task::spawn_blocking(move || -> hostdesk_app::Result<()> {
                let mut ws = Workspace::open(&db, base)?;
                let clock = test_clock::effective(ws.conn(), base)?;
                ws.set_clock(clock);
                collect::schedule(&mut ws)?;
                Ok(())
            })
            .await;
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    });
}
