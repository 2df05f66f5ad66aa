//! The site lifecycle: trials and fixed terms that end ([`expiry`]), scheduled backups with
//! retention and restore ([`backups`]), their job handler ([`jobs`]) and the sandbox's simulated
//! backups ([`sandbox`]).
//!
//! [`tick`] is the periodic work — the expire-check sweep, the scheduled backups that are due,
//! retention — each idempotent: the app runs it every few minutes while it is open; from cron,
//! `hostdesk site expire-check`, `hostdesk backup run --due` and `hostdesk backup prune` do the
//! same.

pub mod backups;
pub mod expiry;
pub mod jobs;
pub(crate) mod sandbox;

use hostdesk_store::backups as store_backups;
use serde::Serialize;

use crate::{AppError, Result, Workspace};

/// What one [`tick`] did.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TickReport {
    pub expiry: expiry::ExpiryReport,
    pub backups: backups::DueReport,
    pub prune: backups::PruneReport,
}

/// The expire-check sweep, then the scheduled backups due, then retention.
pub fn tick(ws: &mut Workspace) -> Result<TickReport> {
    Ok(TickReport {
        expiry: expiry::expire_check(ws)?,
        backups: backups::run_due(ws)?,
        prune: backups::prune(ws, None, false)?,
    })
}

/// Sets (days) or removes (None) a product's trial length: its orders end that many days after
/// they are placed.
pub fn set_trial_days(ws: &mut Workspace, product_code: &str, days: Option<u32>) -> Result<()> {
    if let Some(d) = days {
        if !(1..=366).contains(&d) {
            return Err(AppError::invalid("days", "a trial lasts 1 to 366 days"));
        }
    }
    let id =
        hostdesk_store::catalog::product_id(ws.conn(), product_code.trim()).map_err(
            |e| match e {
                hostdesk_store::StoreError::NotFound { .. } => AppError::invalid(
                    "product",
                    format!("no product with code '{}'", product_code.trim()),
                ),
                e => e.into(),
            },
        )?;
    ws.write(|tx, ctx| {
        let before = store_backups::product_lifecycle(tx, id)?.trial_days;
        store_backups::set_trial_days(tx, id, days.map(i64::from), &ctx.at)?;
        ctx.audit(
            tx,
            "product",
            Some(id),
            "trial_days",
            Some(&before),
            Some(&days),
        )
    })
}
