//! `hostdesk backup list|run|restore|prune|policy`, and the lifecycle commands other nouns
//! delegate here: `site expire-check|expiring|expiry-policy`, `subscription convert|term`,
//! `product trial`.
//!
//! For cron: `hostdesk site expire-check` once a day (or more: each step happens once) and
//! `hostdesk backup run --due` every few minutes (each site's scheduled backup is queued at its
//! own minute, once per slot), `hostdesk backup prune` daily, and a job runner
//! (`hostdesk jobs run`) to carry the jobs out.

use clap::Subcommand;
use hostdesk_app::core::retention::{RetentionPolicy, Schedule};
use hostdesk_app::lifecycle::backups::{self, BackupPolicyRequest, BackupPolicyView, BackupView};
use hostdesk_app::lifecycle::{self, expiry};
use hostdesk_app::{AppError, Workspace};
use serde_json::json;

use crate::output::{table, Output};

#[derive(Subcommand)]
pub enum BackupCmd {
    /// A site's backups (id or domain), or every site's, newest first: state, why retention
    /// keeps each.
    List {
        site: Option<String>,
        /// Also the backups retention deleted.
        #[arg(long)]
        all: bool,
    },
    /// Queue a backup of a site now; or, with --due, every scheduled backup that is due (run
    /// it every few minutes from cron).
    Run {
        #[arg(required_unless_present = "due", conflicts_with = "due")]
        site: Option<String>,
        #[arg(long)]
        due: bool,
    },
    /// Queue a restore of a site from one of its backups (`backup list SITE` shows their ids).
    /// It replaces the site's content: --yes confirms.
    Restore {
        site: String,
        #[arg(long)]
        backup: i64,
        #[arg(long)]
        yes: bool,
    },
    /// Apply retention: queue the deletion of every backup the policy does not keep (of one
    /// site, or of all); --dry-run only says which.
    Prune {
        site: Option<String>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Show or set the schedule (off, daily, weekly) and retention (keep N daily, M weekly,
    /// K monthly): the workspace default, or a product's with --product (--reset: the default
    /// again).
    Policy {
        #[arg(long)]
        product: Option<String>,
        #[arg(long)]
        schedule: Option<String>,
        #[arg(long)]
        daily: Option<u32>,
        #[arg(long)]
        weekly: Option<u32>,
        #[arg(long)]
        monthly: Option<u32>,
        #[arg(long, requires = "product")]
        reset: bool,
    },
}

fn rows(list: &[BackupView]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|v| {
            let b = &v.backup;
            let keep = match (&v.kept_for, v.prunable) {
                (Some(k), _) => [
                    (k.daily, "daily"),
                    (k.weekly, "weekly"),
                    (k.monthly, "monthly"),
                ]
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join("+"),
                (None, true) => "prune".into(),
                (None, false) if b.reason == "final" => "kept (final)".into(),
                _ => "-".into(),
            };
            let state = match (b.state.as_str(), v.job_state.as_deref()) {
                ("requested", Some("dead")) => "failed".to_owned(),
                (s, _) => s.to_owned(),
            };
            vec![
                b.id.to_string(),
                b.domain.clone(),
                b.reason.clone(),
                state,
                b.taken_at.clone().unwrap_or_else(|| "-".into()),
                b.remote_id.clone().unwrap_or_else(|| "-".into()),
                keep,
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "SITE",
            "REASON",
            "STATE",
            "TAKEN",
            "SERVER ID",
            "RETENTION",
        ],
        &cells,
    )
}

fn policy_text(v: &BackupPolicyView) -> String {
    format!(
        "{}: {} backups, keep {} daily, {} weekly, {} monthly{}",
        v.product_code.as_deref().unwrap_or("default"),
        v.schedule.as_str(),
        v.retention.daily,
        v.retention.weekly,
        v.retention.monthly,
        match (&v.product_code, v.own_schedule, v.own_retention) {
            (None, _, _) => "",
            (Some(_), true, true) => "",
            (Some(_), false, false) => " (the default)",
            (Some(_), true, false) => " (retention: the default)",
            (Some(_), false, true) => " (schedule: the default)",
        }
    )
}

pub fn backup(ws: &mut Workspace, cmd: BackupCmd) -> Result<Output, AppError> {
    match cmd {
        BackupCmd::List { site, all } => {
            let list = backups::list(ws, site.as_deref(), all)?;
            Ok(Output::new(&list, rows(&list)))
        }
        BackupCmd::Run { site, due } => {
            if due {
                let r = backups::run_due(ws)?;
                let mut text = format!("queued {} scheduled backup(s)", r.queued.len());
                if r.unsupported > 0 {
                    text.push_str(&format!(
                        "; {} site(s) on servers that cannot back up",
                        r.unsupported
                    ));
                }
                return Ok(Output::new(&r, text));
            }
            let q = backups::back_up_now(ws, site.as_deref().unwrap_or_default())?;
            Ok(Output::new(
                &q,
                format!(
                    "queued backup {} of {} (job {}; `hostdesk jobs run --until-idle` runs it)",
                    q.backup_id, q.domain, q.job_id
                ),
            ))
        }
        BackupCmd::Restore { site, backup, yes } => {
            if !yes {
                return Err(AppError::invalid(
                    "yes",
                    format!("restoring backup {backup} replaces the current content of {site}: add --yes to confirm"),
                ));
            }
            let job = backups::restore(ws, &site, backup)?;
            Ok(Output::new(
                &json!({ "jobId": job, "site": site, "backupId": backup }),
                format!("queued job {job}: restore {site} from backup {backup}"),
            ))
        }
        BackupCmd::Prune { site, dry_run } => {
            let r = backups::prune(ws, site.as_deref(), dry_run)?;
            let ids: Vec<String> = r.deleting.iter().map(|q| q.backup_id.to_string()).collect();
            let text = format!(
                "{} {} backup(s) on {} site(s), {} kept{}",
                if dry_run { "would delete" } else { "deleting" },
                r.deleting.len(),
                r.sites,
                r.kept,
                if ids.is_empty() {
                    String::new()
                } else {
                    format!(": {}", ids.join(", "))
                }
            );
            Ok(Output::new(&r, text))
        }
        BackupCmd::Policy {
            product,
            schedule,
            daily,
            weekly,
            monthly,
            reset,
        } => {
            let schedule: Option<Schedule> = schedule
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|m: String| AppError::invalid("schedule", m))?;
            let retention = if daily.is_some() || weekly.is_some() || monthly.is_some() {
                let current = backups::policies(ws)?
                    .into_iter()
                    .find(|p| p.product_code == product)
                    .map(|p| p.retention)
                    .unwrap_or(backups::defaults(ws.conn())?.retention);
                Some(RetentionPolicy {
                    daily: daily.unwrap_or(current.daily),
                    weekly: weekly.unwrap_or(current.weekly),
                    monthly: monthly.unwrap_or(current.monthly),
                })
            } else {
                None
            };
            if schedule.is_none() && retention.is_none() && !reset {
                let list = backups::policies(ws)?;
                let list = match &product {
                    Some(p) => {
                        let v = backups::set_policy(
                            ws,
                            &BackupPolicyRequest {
                                product: Some(p.clone()),
                                ..Default::default()
                            },
                        )?;
                        vec![v]
                    }
                    None => list,
                };
                let text = list.iter().map(policy_text).collect::<Vec<_>>().join("\n");
                return Ok(Output::new(&list, text));
            }
            let v = backups::set_policy(
                ws,
                &BackupPolicyRequest {
                    product,
                    schedule,
                    retention,
                    reset,
                },
            )?;
            Ok(Output::new(&v, policy_text(&v)))
        }
    }
}

/// `hostdesk site expire-check`.
pub fn expire_check(ws: &mut Workspace) -> Result<Output, AppError> {
    let r = expiry::expire_check(ws)?;
    let mut text = format!(
        "{} subscription(s): {} reminder(s), {} expired (sites disabled), {} last backup(s), {} deletion(s) queued",
        r.subscriptions, r.reminders, r.expired, r.backed_up, r.deleted
    );
    for h in &r.held {
        text.push_str(&format!("\nheld: {h}"));
    }
    Ok(Output::new(&r, text))
}

/// `hostdesk site expiring [--days N]`.
pub fn expiring(ws: &Workspace, days: i64) -> Result<Output, AppError> {
    let list = expiry::expiring(ws, days)?;
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|i| {
            vec![
                i.kind.clone(),
                i.subject.clone(),
                i.client_name.clone(),
                i.sites.clone().unwrap_or_else(|| "-".into()),
                i.expires_on.clone(),
                i.days_left.to_string(),
                i.stage.clone(),
            ]
        })
        .collect();
    Ok(Output::new(
        &list,
        table(
            &[
                "KIND",
                "WHAT",
                "CLIENT",
                "SITES",
                "ENDS",
                "DAYS LEFT",
                "STAGE",
            ],
            &cells,
        ),
    ))
}

/// `hostdesk site expiry-policy [--reminder-days 7,1] [--grace-days 14]`.
pub fn expiry_policy(
    ws: &mut Workspace,
    reminder_days: Option<Vec<u32>>,
    grace_days: Option<u32>,
) -> Result<Output, AppError> {
    let mut p = expiry::policy(ws.conn())?;
    if reminder_days.is_some() || grace_days.is_some() {
        if let Some(v) = reminder_days {
            p.reminder_days = v;
        }
        if let Some(v) = grace_days {
            p.grace_days = v;
        }
        p = expiry::set_policy(ws, &p)?;
    }
    let text = format!(
        "reminders {} day(s) before the end; an ended site is kept (disabled) {} day(s), then backed up and deleted",
        p.reminder_days
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        p.grace_days
    );
    Ok(Output::new(&p, text))
}

/// `hostdesk subscription convert ID [--product P]`.
pub fn convert(ws: &mut Workspace, id: i64, product: Option<&str>) -> Result<Output, AppError> {
    let r = expiry::convert(ws, id, product)?;
    let text = format!(
        "subscription {id} converted: {}, no end date; its site stays{}{}",
        r.state,
        if r.jobs.is_empty() {
            String::new()
        } else {
            format!(
                " (enabled again: job {})",
                r.jobs
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        r.change
            .as_ref()
            .map(|c| format!("; price {} -> {} ({})", c.old_price, c.new_price, c.when))
            .unwrap_or_default()
    );
    Ok(Output::new(&r, text))
}

/// `hostdesk subscription term ID --until DATE`.
pub fn term(ws: &mut Workspace, id: i64, until: &str) -> Result<Output, AppError> {
    let s = expiry::set_term(ws, id, until)?;
    Ok(Output::new(
        &s,
        format!(
            "subscription {id} ends on {}",
            s.expires_on.clone().unwrap_or_default()
        ),
    ))
}

/// `hostdesk product trial CODE DAYS` (0: no trial).
pub fn trial(ws: &mut Workspace, code: &str, days: u32) -> Result<Output, AppError> {
    let days = (days > 0).then_some(days);
    lifecycle::set_trial_days(ws, code, days)?;
    Ok(Output::new(
        &json!({ "product": code, "trialDays": days }),
        match days {
            Some(d) => format!("{code}: orders are {d}-day trials"),
            None => format!("{code}: no trial"),
        },
    ))
}
