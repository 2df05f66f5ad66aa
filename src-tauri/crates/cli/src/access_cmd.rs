//! `hostdesk tracker set|show|test` and `hostdesk access list`.
//!
//! The tracker's API key is read from standard input (`--key-stdin`) or from the environment
//! variable `HOSTDESK_TRACKER_KEY`, never from the command line, and goes to the OS keyring (see
//! `HOSTDESK_SECRETS` in `hostdesk_app::secrets` for machines without one).

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;
use hostdesk_app::access::{self, GrantQuery, TrackerDraft, TrackerProbe, TrackerSettings};
use hostdesk_app::remote::HttpConfig;
use hostdesk_app::secrets::{self, Secret};
use hostdesk_app::store::access::Grant;
use hostdesk_app::{AppError, ErrorCode, Workspace};

use crate::output::{table, Output};

/// The environment variable `tracker set` reads the API key from.
pub const KEY_VAR: &str = "HOSTDESK_TRACKER_KEY";

#[derive(Subcommand)]
pub enum TrackerCmd {
    /// Set the issue tracker (Redmine): its address, the project roles are given on, and its
    /// API key (an administrator's) from HOSTDESK_TRACKER_KEY or --key-stdin.
    Set {
        /// The tracker's address, e.g. https://support.example.com
        #[arg(long)]
        url: String,
        /// The project's identifier on the tracker, e.g. support
        #[arg(long)]
        project: String,
        /// Read the API key from standard input (its first line).
        #[arg(long)]
        key_stdin: bool,
    },
    /// The tracker's settings (whether a key is stored; never the key).
    Show,
    /// Call the tracker: the key's user, the project and the roles it offers.
    Test,
}

#[derive(Subcommand)]
pub enum AccessCmd {
    /// Access granted by support tiers, newest first.
    List {
        #[arg(long)]
        client: Option<i64>,
        #[arg(long)]
        subscription: Option<i64>,
        /// pending, granted, failed or revoked
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

/// The key the options point at, if any: standard input, else the environment.
fn read_key(stdin_flag: bool) -> Result<Option<Secret>, AppError> {
    if stdin_flag {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprint!("API key of the issue tracker: ");
            let _ = std::io::stderr().flush();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let key = line.trim();
        if key.is_empty() {
            return Err(AppError::invalid(
                "key",
                "standard input held no API key (give it on the first line)",
            ));
        }
        return Ok(Some(Secret::new(key)));
    }
    Ok(std::env::var(KEY_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim())))
}

fn settings_text(s: &TrackerSettings) -> String {
    format!(
        "issue tracker ({}) {}\nproject {}\nAPI key {}",
        s.kind,
        s.url.as_deref().unwrap_or("(not set)"),
        s.project.as_deref().unwrap_or("(not set)"),
        if s.key_stored {
            format!("stored in {}", s.key_store)
        } else {
            format!("missing (none in {})", s.key_store)
        }
    )
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("cannot start the runtime: {e}"),
            )
        })
}

pub fn tracker(ws: &mut Workspace, cmd: TrackerCmd) -> Result<Output, AppError> {
    let secrets = secrets::from_env()?;
    match cmd {
        TrackerCmd::Set {
            url,
            project,
            key_stdin,
        } => {
            let key = read_key(key_stdin)?;
            let s =
                access::set_tracker(ws, &*secrets, &TrackerDraft { url, project }, key.as_ref())?;
            let mut text = settings_text(&s);
            if !s.key_stored {
                text.push_str(&format!(
                    "\nno API key yet: give one with --key-stdin or {KEY_VAR}"
                ));
            }
            Ok(Output::new(&s, text))
        }
        TrackerCmd::Show => {
            let s = access::tracker_settings(ws, &*secrets)?;
            let text = settings_text(&s);
            Ok(Output::new(&s, text))
        }
        TrackerCmd::Test => {
            let probe = TrackerProbe::open(ws, &*secrets, &HttpConfig::default())?;
            let r = runtime()?.block_on(probe.test())?;
            let text = format!(
                "{}: connected as {} (administrator); project {} ({}); roles: {}",
                r.url,
                r.login,
                r.project,
                r.project_name,
                r.roles.join(", ")
            );
            Ok(Output::new(&r, text))
        }
    }
}

fn rows(list: &[Grant]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|g| {
            vec![
                g.id.to_string(),
                g.client_name.clone(),
                g.subscription_id.to_string(),
                g.target.clone(),
                g.role.clone(),
                g.state.clone(),
                g.remote_login
                    .clone()
                    .or_else(|| g.remote_user_id.clone())
                    .unwrap_or_else(|| "-".into()),
                match (g.job_id, &g.job_state) {
                    (Some(id), Some(s)) => format!("{id} ({s})"),
                    (Some(id), None) => id.to_string(),
                    _ => "-".into(),
                },
                g.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "CLIENT",
            "SUBSCRIPTION",
            "TARGET",
            "ROLE",
            "STATE",
            "ACCOUNT",
            "JOB",
            "ERROR",
        ],
        &cells,
    )
}

pub fn access(ws: &Workspace, cmd: AccessCmd) -> Result<Output, AppError> {
    match cmd {
        AccessCmd::List {
            client,
            subscription,
            state,
            offset,
            limit,
        } => {
            let list = access::list(
                ws,
                &GrantQuery {
                    client_id: client,
                    subscription_id: subscription,
                    state,
                    offset,
                    limit: Some(limit),
                },
            )?;
            let text = rows(&list);
            Ok(Output::new(&list, text))
        }
    }
}
