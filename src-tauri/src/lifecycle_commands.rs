//! The IPC surface of the site lifecycle — backups (panel, back up now, restore, prune,
//! policies), the end of trials and terms (expiring soon, expire-check, convert, term, policy,
//! trial length) — each command calls one use case; and the app's backup schedule loop.

use std::path::PathBuf;
use std::time::Duration;

use hostdesk_app::core::term::TermPolicy;
use hostdesk_app::lifecycle::backups::{
    self, BackupPanel, BackupPolicyRequest, BackupPolicyView, PruneReport, QueuedBackup,
};
use hostdesk_app::lifecycle::expiry::{self, ConvertReport, ExpiringItem, ExpiryReport};
use hostdesk_app::store::subscriptions::Subscription;
use hostdesk_app::{test_clock, AppError, Clock};
use tauri::State;
use tokio::sync::watch;

use crate::state::AppState;

type R<T> = Result<T, AppError>;

/// A site's backups, its schedule and retention, and what its server can do.
#[tauri::command]
#[specta::specta]
pub async fn get_backup_panel(state: State<'_, AppState>, site_id: i64) -> R<BackupPanel> {
    backups::panel(&*state.lock()?, site_id)
}

/// Queues a backup of the site now.
#[tauri::command]
#[specta::specta]
pub async fn back_up_site(state: State<'_, AppState>, site_id: i64) -> R<QueuedBackup> {
    backups::back_up_now(&mut *state.lock()?, &site_id.to_string())
}

/// Queues a restore of the site from the chosen backup; returns the job id.
#[tauri::command]
#[specta::specta]
pub async fn restore_backup(state: State<'_, AppState>, site_id: i64, backup_id: i64) -> R<i64> {
    backups::restore(&mut *state.lock()?, &site_id.to_string(), backup_id)
}

/// Applies retention to one site (or every site).
#[tauri::command]
#[specta::specta]
pub async fn prune_backups(
    state: State<'_, AppState>,
    site_id: Option<i64>,
    dry_run: bool,
) -> R<PruneReport> {
    let site = site_id.map(|s| s.to_string());
    backups::prune(&mut *state.lock()?, site.as_deref(), dry_run)
}

#[tauri::command]
#[specta::specta]
pub async fn get_backup_policies(state: State<'_, AppState>) -> R<Vec<BackupPolicyView>> {
    backups::policies(&*state.lock()?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_backup_policy(
    state: State<'_, AppState>,
    request: BackupPolicyRequest,
) -> R<BackupPolicyView> {
    backups::set_policy(&mut *state.lock()?, &request)
}

/// Trials and fixed terms ending within `days` (and those ended, waiting for deletion).
#[tauri::command]
#[specta::specta]
pub async fn list_expiring(state: State<'_, AppState>, days: i64) -> R<Vec<ExpiringItem>> {
    expiry::expiring(&*state.lock()?, days)
}

#[tauri::command]
#[specta::specta]
pub async fn run_expire_check(state: State<'_, AppState>) -> R<ExpiryReport> {
    expiry::expire_check(&mut *state.lock()?)
}

/// Turns a trial or fixed term into an ongoing subscription (optionally another product).
#[tauri::command]
#[specta::specta]
pub async fn convert_subscription(
    state: State<'_, AppState>,
    id: i64,
    product: Option<String>,
) -> R<ConvertReport> {
    expiry::convert(&mut *state.lock()?, id, product.as_deref())
}

#[tauri::command]
#[specta::specta]
pub async fn set_subscription_term(
    state: State<'_, AppState>,
    id: i64,
    expires_on: String,
) -> R<Subscription> {
    expiry::set_term(&mut *state.lock()?, id, &expires_on)
}

#[tauri::command]
#[specta::specta]
pub async fn get_term_policy(state: State<'_, AppState>) -> R<TermPolicy> {
    expiry::policy(state.lock()?.conn())
}

#[tauri::command]
#[specta::specta]
pub async fn set_term_policy(state: State<'_, AppState>, policy: TermPolicy) -> R<TermPolicy> {
    expiry::set_policy(&mut *state.lock()?, &policy)
}

/// A product's trial length in days (None: no trial).
#[tauri::command]
#[specta::specta]
pub async fn set_trial_days(
    state: State<'_, AppState>,
    product: String,
    days: Option<u32>,
) -> R<()> {
    hostdesk_app::lifecycle::set_trial_days(&mut *state.lock()?, &product, days)
}

/// How often the app queues the scheduled backups that are due: each site backs up within
/// this long after its own minute (the hourly sweeps take the rest of the lifecycle).
const SCHEDULE_EVERY: Duration = Duration::from_secs(300);

/// Queues the due scheduled backups every [`SCHEDULE_EVERY`] while the app is open, on its own
/// connection; a failure waits for the next round.
pub fn spawn_backup_schedule(db: PathBuf, base: Clock, mut stop: watch::Receiver<bool>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let path = db.clone();
            let _ = tokio::task::spawn_blocking(move || -> hostdesk_app::Result<()> {
                let mut ws = hostdesk_app::Workspace::open(&path, base)?;
                let clock = test_clock::effective(ws.conn(), base)?;
                ws.set_clock(clock);
                backups::run_due(&mut ws).map(|_| ())
            })
            .await;
            tokio::select! {
                _ = tokio::time::sleep(SCHEDULE_EVERY) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    });
}
