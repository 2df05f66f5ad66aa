//! The periodic sweeps the app runs while it is open: dunning, trials and terms that end, due
//! backups and retention, domain renewals and certificate checks (headless, cron runs
//! `hostdesk dunning run`, `site expire-check`, `domain renew-due`, `domain ssl-check`). Each is
//! idempotent (a step already taken is never taken again), so running them every hour, after a
//! restart, or twice at once is harmless.

use serde::Serialize;

use crate::billing::dunning::{self, DunningReport};
use crate::{Result, Workspace};

/// How often the app sweeps.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub dunning: DunningReport,
    /// Trials and terms that end, scheduled backups, retention.
    pub lifecycle: crate::lifecycle::TickReport,
    /// `domain.renew` jobs queued (once per domain and expiry date).
    pub domain_renewals: Vec<i64>,
    /// `ssl.check` jobs queued (once per certificate and day).
    pub certificate_checks: Vec<i64>,
}

/// Runs every sweep that is due as of the workspace's clock.
pub fn run(ws: &mut Workspace) -> Result<SweepReport> {
    Ok(SweepReport {
        dunning: dunning::run(ws)?,
        lifecycle: crate::lifecycle::tick(ws)?,
        domain_renewals: crate::domains::renew_due(ws)?,
        certificate_checks: crate::domains::check_certificates(ws)?,
    })
}
