//! `hostdesk server add|edit|list|show|test|sync|offline`.
//!
//! A server's API token is read from standard input (`--token-stdin`) or from an environment
//! variable (`--token-env VAR`), never from the command line, and goes to the OS keyring (see
//! `HOSTDESK_SECRETS` in `hostdesk_app::secrets` for machines without one).

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};
use hostdesk_app::provisioning::ServerOptions;
use hostdesk_app::secrets::{self, Secret};
use hostdesk_app::servers::{self, ConnectionReport, ServerDraft, ServerView, SyncReport};
use hostdesk_app::{AppError, ErrorCode, Workspace};

use crate::output::{table, Output};

#[derive(Subcommand)]
pub enum ServerCmd {
    /// Add a hosting server (aegir, whm, caddy or sandbox).
    Add(AddArgs),
    /// Change a server; only the options given change.
    Edit(EditArgs),
    /// Every server with its health ("offline — 3 jobs waiting for web1").
    List,
    /// One server.
    Show { server: String },
    /// Call the server: its version, sites and profiles, or exactly what failed.
    Test { server: String },
    /// Pull the server's sites into the local cache and report drift.
    Sync { server: String },
    /// The servers that are offline, and how many jobs wait for each.
    Offline,
}

/// Where the API token comes from: never a command-line argument.
#[derive(Args)]
pub struct TokenArgs {
    /// Read the API token from standard input (its first line).
    #[arg(long, conflicts_with = "token_env")]
    pub token_stdin: bool,
    /// Read the API token from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
}

#[derive(Args)]
pub struct AddArgs {
    /// A unique name, e.g. web1.
    pub name: String,
    /// aegir, whm, caddy or sandbox.
    #[arg(long)]
    pub kind: String,
    /// The API's base URL (https://…; plain http only to this machine). Not for the sandbox.
    #[arg(long, default_value = "")]
    pub url: String,
    /// WHM: the user owning the token; Caddy: the HTTP server's name (default srv0).
    #[arg(long, default_value = "")]
    pub user: String,
    /// New sites are its subdomains (required for Aegir).
    #[arg(long, default_value = "")]
    pub master_domain: String,
    /// Jobs at once against this server (default 4).
    #[arg(long)]
    pub concurrency: Option<i64>,
    /// A platform it offers (repeat).
    #[arg(long = "platform")]
    pub platforms: Vec<String>,
    /// A profile / package it offers (repeat).
    #[arg(long = "profile")]
    pub profiles: Vec<String>,
    /// Caddy: the folder whose sub-folder <domain> a new site serves.
    #[arg(long)]
    pub sites_root: Option<String>,
    /// Caddy: the file Caddy writes its access log to (read to measure bandwidth).
    #[arg(long)]
    pub access_log: Option<String>,
    #[command(flatten)]
    pub token: TokenArgs,
}

#[derive(Args)]
pub struct EditArgs {
    /// The server's name or id.
    pub server: String,
    /// A new name.
    #[arg(long)]
    pub rename: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub url: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long)]
    pub master_domain: Option<String>,
    #[arg(long)]
    pub concurrency: Option<i64>,
    /// Replaces the platforms (repeat).
    #[arg(long = "platform")]
    pub platforms: Vec<String>,
    /// Replaces the profiles (repeat).
    #[arg(long = "profile")]
    pub profiles: Vec<String>,
    #[arg(long)]
    pub sites_root: Option<String>,
    /// Caddy: the access log file (empty: none).
    #[arg(long)]
    pub access_log: Option<String>,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// The token the options point at, if any.
pub(crate) fn read_token(t: &TokenArgs, server: &str) -> Result<Option<Secret>, AppError> {
    if t.token_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprint!("API token for {server}: ");
            let _ = std::io::stderr().flush();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let token = line.trim();
        if token.is_empty() {
            return Err(AppError::invalid(
                "token",
                "standard input held no token (give it on the first line)",
            ));
        }
        return Ok(Some(Secret::new(token)));
    }
    if let Some(var) = &t.token_env {
        return match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(Secret::new(v.trim()))),
            _ => Err(AppError::invalid(
                "token",
                format!("the environment variable {var} is not set or empty"),
            )),
        };
    }
    Ok(None)
}

fn rows(list: &[ServerView]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.name.clone(),
                if s.simulated {
                    "sandbox (simulated)".into()
                } else {
                    s.kind.clone()
                },
                if s.base_url.is_empty() {
                    "-".into()
                } else {
                    s.base_url.clone()
                },
                s.concurrency.to_string(),
                s.last_synced_at.clone().unwrap_or_else(|| "-".into()),
                s.status_text.clone(),
            ]
        })
        .collect();
    table(
        &["ID", "NAME", "KIND", "URL", "LIMIT", "SYNCED", "STATUS"],
        &cells,
    )
}

fn detail(s: &ServerView) -> String {
    let mut t = format!(
        "server #{} {} — {}{}\n",
        s.id,
        s.name,
        s.kind,
        if s.simulated { " (simulated)" } else { "" }
    );
    if !s.base_url.is_empty() {
        t.push_str(&format!("url {}\n", s.base_url));
    }
    if !s.user.is_empty() {
        t.push_str(&format!("user {}\n", s.user));
    }
    if !s.master_domain.is_empty() {
        t.push_str(&format!("master domain {}\n", s.master_domain));
    }
    t.push_str(&format!("concurrency {}\n", s.concurrency));
    if !s.platforms.is_empty() {
        t.push_str(&format!("platforms {}\n", s.platforms.join(", ")));
    }
    if !s.profiles.is_empty() {
        t.push_str(&format!("profiles {}\n", s.profiles.join(", ")));
    }
    if let Some(r) = &s.options.sites_root {
        t.push_str(&format!("sites folder {r}\n"));
    }
    t.push_str(&format!("can {}\n", s.operations.join(", ")));
    t.push_str(&format!("status {}\n", s.status_text));
    if let Some(at) = &s.last_synced_at {
        t.push_str(&format!("last synced {at}\n"));
    }
    t
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
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

fn test_text(r: &ConnectionReport) -> Result<String, AppError> {
    let label = format!(
        "{} ({}{})",
        r.server,
        r.kind,
        if r.simulated { ", simulated" } else { "" }
    );
    match &r.problem {
        None => {
            let mut t = format!("{label}: connected — {} sites", r.sites.unwrap_or_default());
            if let Some(v) = &r.version {
                t.push_str(&format!(", version {v}"));
            }
            if !r.profiles.is_empty() {
                t.push_str(&format!(", profiles: {}", r.profiles.join(", ")));
            }
            if r.woke_jobs > 0 {
                t.push_str(&format!("; {} waiting jobs run now", r.woke_jobs));
            }
            Ok(t)
        }
        Some(p) => Err(AppError::new(
            ErrorCode::Io,
            format!(
                "{label}: connection test failed — {}: {}",
                p.what, p.message
            ),
        )),
    }
}

fn sync_text(r: &SyncReport) -> Result<String, AppError> {
    if let Some(p) = &r.problem {
        return Err(AppError::new(
            ErrorCode::Io,
            format!("{}: sync failed — {}: {}", r.server, p.what, p.message),
        ));
    }
    let d = &r.drift;
    let mut t = format!(
        "{}: {} sites synced at {}{}\n",
        r.server,
        r.remote_sites,
        r.last_synced_at.as_deref().unwrap_or("-"),
        if r.simulated { " (simulated)" } else { "" }
    );
    if d.is_empty() {
        t.push_str("no drift: the server and Hostdesk agree\n");
    }
    for s in &d.remote_only {
        t.push_str(&format!("on the server only: {} ({})\n", s.name, s.status));
    }
    for s in &d.local_only {
        t.push_str(&format!(
            "in Hostdesk only: {} (site {}, {})\n",
            s.domain, s.site_id, s.status
        ));
    }
    for s in &d.status_differs {
        t.push_str(&format!(
            "status differs: {} (site {}): Hostdesk {}, server {}\n",
            s.domain, s.site_id, s.local_status, s.remote_status
        ));
    }
    Ok(t)
}

pub fn server(ws: &mut Workspace, cmd: ServerCmd) -> Result<Output, AppError> {
    match cmd {
        ServerCmd::Add(a) => {
            let token = read_token(&a.token, &a.name)?;
            let secrets = secrets::from_env()?;
            let draft = ServerDraft {
                name: a.name,
                kind: a.kind,
                base_url: a.url,
                user: a.user,
                master_domain: a.master_domain,
                concurrency: a.concurrency,
                platforms: a.platforms,
                profiles: a.profiles,
                options: ServerOptions {
                    sites_root: a.sites_root,
                    access_log: a.access_log.filter(|l| !l.trim().is_empty()),
                    ..Default::default()
                },
            };
            let id = servers::add(ws, &*secrets, &draft, token.as_ref())?;
            Ok(Output::id(id, "server"))
        }
        ServerCmd::Edit(e) => {
            let current = servers::find(ws, &e.server)?;
            let token = read_token(&e.token, &current.name)?;
            let secrets = secrets::from_env()?;
            let mut options = current.options.clone();
            if let Some(r) = e.sites_root {
                options.sites_root = Some(r).filter(|r| !r.trim().is_empty());
            }
            if let Some(l) = e.access_log {
                options.access_log = Some(l).filter(|l| !l.trim().is_empty());
            }
            let draft = ServerDraft {
                name: e.rename.unwrap_or(current.name.clone()),
                kind: e.kind.unwrap_or(current.kind.clone()),
                base_url: e.url.unwrap_or(current.base_url.clone()),
                user: e.user.unwrap_or(current.user.clone()),
                master_domain: e.master_domain.unwrap_or(current.master_domain.clone()),
                concurrency: Some(e.concurrency.unwrap_or(current.concurrency)),
                platforms: if e.platforms.is_empty() {
                    current.platforms.clone()
                } else {
                    e.platforms
                },
                profiles: if e.profiles.is_empty() {
                    current.profiles.clone()
                } else {
                    e.profiles
                },
                options,
            };
            let v = servers::edit(ws, &*secrets, current.id, &draft, token.as_ref())?;
            Ok(Output::new(&v, detail(&v)))
        }
        ServerCmd::List => {
            let list = servers::list(ws)?;
            Ok(Output::new(&list, rows(&list)))
        }
        ServerCmd::Show { server } => {
            let v = servers::find(ws, &server)?;
            Ok(Output::new(&v, detail(&v)))
        }
        ServerCmd::Test { server } => {
            let v = servers::find(ws, &server)?;
            let secrets = secrets::from_env()?;
            let report = runtime()?.block_on(servers::test_connection(ws, &*secrets, v.id))?;
            let text = test_text(&report)?;
            Ok(Output::new(&report, text))
        }
        ServerCmd::Sync { server } => {
            let v = servers::find(ws, &server)?;
            let secrets = secrets::from_env()?;
            let report = runtime()?.block_on(servers::sync(ws, &*secrets, v.id))?;
            let text = sync_text(&report)?;
            Ok(Output::new(&report, text))
        }
        ServerCmd::Offline => {
            let list = servers::offline(ws)?;
            let text = if list.is_empty() {
                "every server answered at its last contact".to_owned()
            } else {
                list.iter()
                    .map(|o| o.message.clone())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            Ok(Output::new(&list, text))
        }
    }
}
