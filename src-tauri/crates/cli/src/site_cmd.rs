//! `hostdesk site list|show|create|suspend|unsuspend|delete|login-link`, and the end of trials
//! and terms: `site expire-check|expiring|expiry-policy` (in `backup_cmd`).
//!
//! Site actions queue a job on the site's server; `--wait` runs the queue until that job is
//! done (or, when the app is open and holds the queue, waits for it to run it).

use std::path::Path;
use std::time::Duration;

use clap::{Args, Subcommand};
use hostdesk_app::provisioning::{self, SiteAction, SiteQuery, WaitOptions};
use hostdesk_app::runner::RunEvent;
use hostdesk_app::secrets;
use hostdesk_app::servers;
use hostdesk_app::store::jobs::Job;
use hostdesk_app::store::servers::SiteRow;
use hostdesk_app::{AppError, Clock, ErrorCode, Workspace};
use serde_json::json;

use crate::output::{table, Output};

#[derive(Subcommand)]
pub enum SiteCmd {
    /// Sites with their server, status and unfinished jobs.
    List {
        /// A server's name or id.
        #[arg(long)]
        server: Option<String>,
        #[arg(long)]
        client: Option<i64>,
        /// queued, active, disabled or deleted
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One site (id or domain).
    Show { site: String },
    /// Place a site on a server (if it is not yet) and queue its creation there.
    Create {
        site: String,
        /// The server's name or id (needed when the site is not placed yet).
        #[arg(long)]
        server: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Queue the suspension of a site.
    Suspend {
        site: String,
        /// Shown to the server's admins.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Queue re-enabling a site.
    Unsuspend {
        site: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Queue the deletion of a site on its server.
    Delete {
        site: String,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// A one-time login link for the client. Always runs its job now (a link is for now, and
    /// it is never stored): prints the link.
    LoginLink {
        site: String,
        /// WHM: cpaneld (default), webmaild or whostmgrd.
        #[arg(long)]
        service: Option<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// The end of trials and fixed terms: reminders, sites disabled at the end, a last backup
    /// and deletion after the grace days. Each step happens once: run it daily from cron.
    ExpireCheck,
    /// Trials and fixed terms ending within --days, and those ended (waiting for deletion).
    Expiring {
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Show or set when reminders go out (days before the end, e.g. 7,1) and how long an
    /// ended site is kept disabled before its last backup and deletion.
    ExpiryPolicy {
        #[arg(long, value_delimiter = ',')]
        reminder_days: Option<Vec<u32>>,
        #[arg(long)]
        grace_days: Option<u32>,
    },
}

#[derive(Args)]
pub struct WaitArgs {
    /// Run the queue until this job is done, and print how it ended.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up waiting after this many seconds (the job stays queued).
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

fn rows(list: &[SiteRow]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.domain.clone(),
                s.client_name.clone(),
                match (&s.server_name, s.server_kind.as_deref()) {
                    (Some(n), Some("sandbox")) => format!("{n} (simulated)"),
                    (Some(n), _) => n.clone(),
                    _ => "-".into(),
                },
                s.status.clone(),
                s.remote_id.clone().unwrap_or_else(|| "-".into()),
                s.pending_jobs.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "DOMAIN",
            "CLIENT",
            "SERVER",
            "STATUS",
            "REMOTE ID",
            "PENDING",
        ],
        &cells,
    )
}

fn detail(s: &SiteRow) -> String {
    format!(
        "site #{} {} — {}\nclient {} ({})\nserver {}\nremote id {}\nprofile {} {}\npending jobs {}\n",
        s.id,
        s.domain,
        s.status,
        s.client_name,
        s.client_id,
        s.server_name.as_deref().unwrap_or("-"),
        s.remote_id.as_deref().unwrap_or("-"),
        s.profile,
        s.platform,
        s.pending_jobs
    )
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("cannot start the runtime: {e}"),
            )
        })
}

fn progress(e: RunEvent) {
    match e {
        RunEvent::Started { id, kind, attempt } => eprintln!("job {id} {kind}: attempt {attempt}"),
        RunEvent::Succeeded { id, kind, ms } => eprintln!("job {id} {kind}: succeeded in {ms} ms"),
        RunEvent::Failed {
            id,
            kind,
            error,
            retry_at,
        } => match retry_at {
            Some(t) => eprintln!("job {id} {kind}: failed ({error}); retry at {t}"),
            None => eprintln!("job {id} {kind}: dead ({error})"),
        },
    }
}

struct Ran {
    job: Job,
    link: Option<String>,
    other_runner: bool,
}

/// Runs the queue until the job is done; an error unless it succeeded.
fn run_job(path: &Path, clock: Clock, id: i64, timeout: u64) -> Result<Ran, AppError> {
    let secrets = secrets::from_env()?;
    let waited = runtime()?.block_on(provisioning::run_until_done(
        path,
        clock,
        secrets,
        &[id],
        WaitOptions {
            timeout: Duration::from_secs(timeout),
            ..Default::default()
        },
        progress,
    ))?;
    let Some(job) = waited.jobs.into_iter().next() else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!("job {id} vanished"),
        ));
    };
    match job.state.as_str() {
        "succeeded" => Ok(Ran {
            link: waited.login_links.take(id).map(|s| s.expose().to_owned()),
            other_runner: waited.other_runner,
            job,
        }),
        "dead" => Err(AppError::new(
            ErrorCode::Io,
            format!(
                "job {id} {} is dead: {}",
                job.kind,
                job.last_error.as_deref().unwrap_or("no error recorded")
            ),
        )),
        "cancelled" => Err(AppError::new(
            ErrorCode::Conflict,
            format!("job {id} {} was cancelled", job.kind),
        )),
        state => Err(AppError::new(
            ErrorCode::Io,
            format!(
                "job {id} {} is still {state} after {timeout} s{}; it stays queued (see `hostdesk jobs show {id}`)",
                job.kind,
                job.last_error
                    .as_deref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            ),
        )),
    }
}

fn act(
    ws: &mut Workspace,
    path: &Path,
    clock: Clock,
    site: &SiteRow,
    action: SiteAction,
    wait: &WaitArgs,
) -> Result<Output, AppError> {
    let id = provisioning::enqueue_site_action(ws, site.id, &action)?;
    let kind = action.kind();
    if !wait.wait {
        return Ok(Output::new(
            &json!({ "jobId": id, "kind": kind, "siteId": site.id, "site": site.domain }),
            format!(
                "queued job {id}: {kind} for {} (`hostdesk jobs run --until-idle` runs it, or add --wait)",
                site.domain
            ),
        ));
    }
    let ran = run_job(path, clock, id, wait.timeout)?;
    let after = provisioning::find_site(ws, &site.id.to_string())?;
    Ok(Output::new(
        &json!({
            "jobId": id, "kind": kind, "state": ran.job.state, "result": ran.job.result,
            "site": after
        }),
        format!(
            "job {id}: {kind} for {} succeeded; the site is {}",
            site.domain, after.status
        ),
    ))
}

pub fn site(
    ws: &mut Workspace,
    path: &Path,
    clock: Clock,
    cmd: SiteCmd,
) -> Result<Output, AppError> {
    match cmd {
        SiteCmd::ExpireCheck => crate::backup_cmd::expire_check(ws),
        SiteCmd::Expiring { days } => crate::backup_cmd::expiring(ws, days),
        SiteCmd::ExpiryPolicy {
            reminder_days,
            grace_days,
        } => crate::backup_cmd::expiry_policy(ws, reminder_days, grace_days),
        SiteCmd::List {
            server,
            client,
            status,
            offset,
            limit,
        } => {
            let server_id = server
                .as_deref()
                .map(|s| servers::find(ws, s).map(|v| v.id))
                .transpose()?;
            let list = provisioning::list_sites(
                ws,
                &SiteQuery {
                    server_id,
                    client_id: client,
                    status,
                    offset,
                    limit: Some(limit),
                },
            )?;
            Ok(Output::new(&list, rows(&list)))
        }
        SiteCmd::Show { site } => {
            let s = provisioning::find_site(ws, &site)?;
            Ok(Output::new(&s, detail(&s)))
        }
        SiteCmd::Create { site, server, wait } => {
            let mut s = provisioning::find_site(ws, &site)?;
            if let Some(server) = server {
                let v = servers::find(ws, &server)?;
                if s.server_id != Some(v.id) {
                    s = provisioning::place_site(ws, s.id, v.id)?;
                }
            }
            act(ws, path, clock, &s, SiteAction::Create, &wait)
        }
        SiteCmd::Suspend { site, reason, wait } => {
            let s = provisioning::find_site(ws, &site)?;
            act(ws, path, clock, &s, SiteAction::Suspend { reason }, &wait)
        }
        SiteCmd::Unsuspend { site, wait } => {
            let s = provisioning::find_site(ws, &site)?;
            act(ws, path, clock, &s, SiteAction::Unsuspend, &wait)
        }
        SiteCmd::Delete { site, wait } => {
            let s = provisioning::find_site(ws, &site)?;
            act(ws, path, clock, &s, SiteAction::Delete, &wait)
        }
        SiteCmd::LoginLink {
            site,
            service,
            timeout,
        } => {
            let s = provisioning::find_site(ws, &site)?;
            let id =
                provisioning::enqueue_site_action(ws, s.id, &SiteAction::LoginLink { service })?;
            let ran = run_job(path, clock, id, timeout)?;
            let text = match (&ran.link, ran.other_runner) {
                (Some(url), _) => url.clone(),
                (None, true) => format!(
                    "job {id} ran in the Hostdesk app (it holds this workspace's queue): open the link there"
                ),
                (None, false) => format!(
                    "{}: {}",
                    s.domain,
                    ran.job.result["link"].as_str().unwrap_or("the server delivers the link itself")
                ),
            };
            Ok(Output::new(
                &json!({ "jobId": id, "site": s.domain, "url": ran.link, "result": ran.job.result }),
                text,
            ))
        }
    }
}
