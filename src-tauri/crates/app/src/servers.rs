//! Server use cases: add and edit (validated; the token goes to the [`SecretStore`], never to
//! the database), list with health, test connection, sync with drift, and offline status.
//!
//! Network calls are split from database work so the desktop shell never holds the workspace
//! lock across a request:
//!
//! ```ignore
//! let probe = servers::probe(&ws, &*secrets, id)?;          // reads the row and the token
//! let outcome = probe.test().await;                         // talks to the server
//! let report = servers::record_test(&mut ws, outcome)?;     // records health, returns the report
//! ```
//! [`test_connection`] and [`sync`] do the three steps in one call (CLI, tests).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use hostdesk_core::Errors;
use hostdesk_remote::{
    parse_base_url, HostingDriver, RemoteError, ServerInfo, SiteStatus, SiteSummary,
};
use hostdesk_store::servers::{self as store, CachedSite, Server, ServerFields};
use serde::{Deserialize, Serialize};

use crate::provisioning::{build_driver, capabilities, ProvisioningConfig, ServerOptions};
use crate::secrets::{Secret, SecretError, SecretStore};
use crate::{settings, AppError, ErrorCode, Result, Workspace};

/// Kinds that authenticate with an API token (Caddy's admin API and the sandbox take none).
pub const TOKEN_KINDS: &[&str] = &["aegir", "whm"];

/// What staff type for a server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerDraft {
    /// Unique; letters, digits, `.`, `-`, `_` (the token is filed under it).
    pub name: String,
    /// aegir, whm, caddy or sandbox.
    pub kind: String,
    /// `https://…` (plain `http://` only to this machine); empty for the sandbox.
    pub base_url: String,
    /// WHM: the user owning the API token; Caddy: the HTTP server's name (default srv0).
    pub user: String,
    /// New sites are its subdomains (required for Aegir).
    pub master_domain: String,
    /// Jobs at once against this server (1-64, default 4).
    pub concurrency: Option<i64>,
    pub platforms: Vec<String>,
    pub profiles: Vec<String>,
    pub options: ServerOptions,
}

#[derive(Debug)]
struct Valid {
    name: String,
    kind: String,
    base_url: String,
    user: String,
    master_domain: String,
    concurrency: i64,
    platforms: Vec<String>,
    profiles: Vec<String>,
    options: serde_json::Value,
}

fn names(list: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    list.iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && seen.insert(s.clone()))
        .collect()
}

fn validate(d: &ServerDraft, token: Option<&Secret>) -> Result<Valid> {
    let mut errors = Errors::default();
    let name = d.name.trim().to_owned();
    if name.is_empty() {
        errors.push("name", "is required");
    } else if name.len() > 64
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        errors.push(
            "name",
            "may hold only letters, digits, '.', '-' and '_' (at most 64, starting with a letter or digit)",
        );
    }
    let kind = d.kind.trim().to_lowercase();
    if !store::KINDS.contains(&kind.as_str()) {
        errors.push(
            "kind",
            format!(
                "'{}' is not one of: {}",
                d.kind.trim(),
                store::KINDS.join(", ")
            ),
        );
    }
    let base_url = d.base_url.trim().to_owned();
    if kind == "sandbox" {
        if !base_url.is_empty() {
            errors.push(
                "baseUrl",
                "the sandbox is simulated inside Hostdesk: leave the URL empty",
            );
        }
    } else if base_url.is_empty() {
        errors.push("baseUrl", "is required");
    } else if let Err(e) = parse_base_url(&base_url) {
        let msg = match e {
            RemoteError::InvalidRequest(m) => m,
            other => other.to_string(),
        };
        errors.push("baseUrl", msg);
    }
    let mut user = d.user.trim().to_owned();
    match kind.as_str() {
        "whm" if user.is_empty() => {
            errors.push("user", "is required: the WHM user that owns the API token")
        }
        "whm" if user.contains(':') || user.contains(char::is_whitespace) => {
            errors.push("user", "may not hold ':' or spaces")
        }
        "caddy" if user.is_empty() => user = "srv0".into(),
        "caddy" if user.contains('/') => {
            errors.push("user", "the Caddy server name may not hold '/'")
        }
        _ => {}
    }
    let master_domain = if d.master_domain.trim().is_empty() {
        if kind == "aegir" {
            errors.push("masterDomain", "is required: new sites are its subdomains");
        }
        String::new()
    } else {
        errors
            .check(
                "masterDomain",
                hostdesk_core::validate::domain(&d.master_domain),
            )
            .unwrap_or_default()
    };
    let concurrency = d.concurrency.unwrap_or(4);
    if !(1..=64).contains(&concurrency) {
        errors.push("concurrency", "must be between 1 and 64");
    }
    if let Some(root) = d.options.sites_root.as_deref() {
        if !root.trim().starts_with('/') {
            errors.push("options.sitesRoot", "must be an absolute folder path");
        }
    }
    if let Some(log) = d.options.access_log.as_deref() {
        if !log.trim().starts_with('/') {
            errors.push("options.accessLog", "must be an absolute file path");
        }
    }
    if token.is_some()
        && !TOKEN_KINDS.contains(&kind.as_str())
        && store::KINDS.contains(&kind.as_str())
    {
        errors.push("token", format!("a {kind} server takes no API token"));
    }
    if token.is_some_and(|t| t.expose().trim().is_empty()) {
        errors.push("token", "is empty");
    }
    errors.finish()?;
    let mut options = d.options.clone();
    options.sites_root = options
        .sites_root
        .map(|r| r.trim().trim_end_matches('/').to_owned())
        .filter(|r| !r.is_empty());
    Ok(Valid {
        name,
        kind,
        base_url,
        user,
        master_domain,
        concurrency,
        platforms: names(&d.platforms),
        profiles: names(&d.profiles),
        options: serde_json::to_value(&options).unwrap_or_default(),
    })
}

impl Valid {
    fn fields(&self) -> ServerFields<'_> {
        ServerFields {
            name: &self.name,
            kind: &self.kind,
            base_url: &self.base_url,
            username: &self.user,
            master_domain: &self.master_domain,
            concurrency: self.concurrency,
            platforms: &self.platforms,
            profiles: &self.profiles,
            options: &self.options,
        }
    }
}

/// Adds a server; its token (if any) goes to the secret store in the same step (a failure to
/// store it adds nothing). Returns the id.
pub fn add(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    draft: &ServerDraft,
    token: Option<&Secret>,
) -> Result<i64> {
    let v = validate(draft, token)?;
    ws.write(|tx, ctx| {
        let id = store::insert(tx, &v.fields(), &ctx.at)?;
        let created = store::get(tx, id)?;
        ctx.audit(
            tx,
            "server",
            Some(id),
            "create",
            None::<&()>,
            Some(&created),
        )?;
        if let Some(t) = token {
            secrets.set(&v.name, t)?;
            ctx.audit(
                tx,
                "server",
                Some(id),
                "set_token",
                None::<&()>,
                Some(&secrets.label()),
            )?;
        }
        Ok(id)
    })
}

/// Changes a server. A new name carries its stored token along; `token` replaces it.
pub fn edit(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    id: i64,
    draft: &ServerDraft,
    token: Option<&Secret>,
) -> Result<ServerView> {
    let v = validate(draft, token)?;
    let before = store::get(ws.conn(), id)?;
    ws.write(|tx, ctx| {
        store::update(tx, id, &v.fields(), &ctx.at)?;
        let after = store::get(tx, id)?;
        ctx.audit(
            tx,
            "server",
            Some(id),
            "update",
            Some(&before),
            Some(&after),
        )?;
        let renamed = !before.name.eq_ignore_ascii_case(&v.name);
        match token {
            Some(t) => {
                secrets.set(&v.name, t)?;
                if renamed {
                    secrets.delete(&before.name)?;
                }
                ctx.audit(
                    tx,
                    "server",
                    Some(id),
                    "set_token",
                    None::<&()>,
                    Some(&secrets.label()),
                )?;
            }
            None if renamed => {
                // Move the token to the new name (the environment store has nothing to move).
                if let Ok(Some(old)) = secrets.get(&before.name) {
                    match secrets.set(&v.name, &old) {
                        Ok(()) => secrets.delete(&before.name)?,
                        Err(SecretError::ReadOnly(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            None => {}
        }
        Ok(())
    })?;
    get(ws, id)
}

/// Replaces a server's token.
pub fn set_token(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    id: i64,
    token: &Secret,
) -> Result<()> {
    let server = store::get(ws.conn(), id)?;
    if !TOKEN_KINDS.contains(&server.kind.as_str()) {
        return Err(AppError::invalid(
            "token",
            format!("a {} server takes no API token", server.kind),
        ));
    }
    if token.expose().trim().is_empty() {
        return Err(AppError::invalid("token", "is empty"));
    }
    ws.write(|tx, ctx| {
        secrets.set(&server.name, token)?;
        // Drivers built with the old token are rebuilt.
        store::touch(tx, id, &ctx.at)?;
        ctx.audit(
            tx,
            "server",
            Some(id),
            "set_token",
            None::<&()>,
            Some(&secrets.label()),
        )
    })
}

/// How a server is doing, from its last contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ServerHealth {
    /// Never contacted.
    Unknown,
    Ok,
    /// The last attempt could not reach it (DNS, connection, timeout): its jobs wait.
    Offline,
    /// It answered, but not as it should (auth, TLS, HTTP status, garbage).
    Error,
}

/// A server as lists and forms show it (never its token).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// The sandbox is simulated inside Hostdesk: always labelled so.
    pub simulated: bool,
    pub base_url: String,
    pub user: String,
    pub master_domain: String,
    pub concurrency: i64,
    pub platforms: Vec<String>,
    pub profiles: Vec<String>,
    pub options: ServerOptions,
    /// What this kind of server can do (snake_case operation names): offer only these.
    pub operations: Vec<String>,
    pub last_synced_at: Option<String>,
    pub last_seen_ok_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_code: Option<String>,
    pub health: ServerHealth,
    /// e.g. "offline — 12 jobs waiting for web1".
    pub status_text: String,
    /// Its jobs still to do (queued, running or waiting to retry).
    pub waiting_jobs: i64,
}

fn jobs_word(n: i64) -> String {
    if n == 1 {
        "1 job".into()
    } else {
        format!("{n} jobs")
    }
}

fn health(s: &Server, waiting: i64) -> (ServerHealth, String) {
    match (&s.last_attempt_at, s.last_error_code.as_deref()) {
        (None, _) => (
            ServerHealth::Unknown,
            if waiting > 0 {
                format!(
                    "not contacted yet — {} waiting for {}",
                    jobs_word(waiting),
                    s.name
                )
            } else {
                "not contacted yet".into()
            },
        ),
        (Some(_), None) => (
            ServerHealth::Ok,
            if waiting > 0 {
                format!("online — {} waiting", jobs_word(waiting))
            } else {
                "online".into()
            },
        ),
        (Some(_), Some(code)) if store::OFFLINE_CODES.contains(&code) => (
            ServerHealth::Offline,
            format!("offline — {} waiting for {}", jobs_word(waiting), s.name),
        ),
        (Some(_), Some(_)) => (
            ServerHealth::Error,
            format!(
                "error — {}",
                s.last_error.as_deref().unwrap_or("the last contact failed")
            ),
        ),
    }
}

fn view(s: Server, waiting: i64) -> ServerView {
    let (health, status_text) = health(&s, waiting);
    let operations = capabilities(&s.kind)
        .operations
        .iter()
        .filter_map(|op| serde_json::to_value(op).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    ServerView {
        simulated: s.kind == "sandbox",
        options: ServerOptions::of(&s),
        id: s.id,
        name: s.name,
        kind: s.kind,
        base_url: s.base_url,
        user: s.username,
        master_domain: s.master_domain,
        concurrency: s.concurrency,
        platforms: s.platforms,
        profiles: s.profiles,
        operations,
        last_synced_at: s.last_synced_at,
        last_seen_ok_at: s.last_seen_ok_at,
        last_attempt_at: s.last_attempt_at,
        last_error: s.last_error,
        last_error_code: s.last_error_code,
        health,
        status_text,
        waiting_jobs: waiting,
    }
}

pub fn list(ws: &Workspace) -> Result<Vec<ServerView>> {
    let waiting = store::waiting_jobs(ws.conn())?;
    Ok(store::list(ws.conn())?
        .into_iter()
        .map(|s| {
            let n = waiting.get(&s.id).copied().unwrap_or(0);
            view(s, n)
        })
        .collect())
}

pub fn get(ws: &Workspace, id: i64) -> Result<ServerView> {
    let s = store::get(ws.conn(), id)?;
    let n = store::waiting_jobs(ws.conn())?
        .get(&id)
        .copied()
        .unwrap_or(0);
    Ok(view(s, n))
}

/// A server by id (digits) or name (any case).
pub fn find(ws: &Workspace, key: &str) -> Result<ServerView> {
    let key = key.trim();
    if let Ok(id) = key.parse::<i64>() {
        if let Ok(v) = get(ws, id) {
            return Ok(v);
        }
    }
    match store::find_by_name(ws.conn(), key)? {
        Some(s) => get(ws, s.id),
        None => Err(AppError::new(
            ErrorCode::NotFound,
            format!("no server named '{key}'"),
        )),
    }
}

/// A server whose last contact failed with a network error, and how many jobs wait for it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct OfflineServer {
    pub server_id: i64,
    pub name: String,
    pub waiting_jobs: i64,
    pub last_seen_ok_at: Option<String>,
    pub last_error: Option<String>,
    /// "offline — 12 jobs waiting for web1".
    pub message: String,
}

/// The servers that are offline now (read from the database: never waits on the network).
pub fn offline(ws: &Workspace) -> Result<Vec<OfflineServer>> {
    Ok(list(ws)?
        .into_iter()
        .filter(|v| v.health == ServerHealth::Offline)
        .map(|v| OfflineServer {
            server_id: v.id,
            name: v.name,
            waiting_jobs: v.waiting_jobs,
            last_seen_ok_at: v.last_seen_ok_at,
            last_error: v.last_error,
            message: v.status_text,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Test connection and sync
// ---------------------------------------------------------------------------------------------

/// A server's driver, ready to talk to it without the workspace.
pub struct Probe {
    server: Server,
    driver: Arc<dyn HostingDriver>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("server", &self.server.name)
            .finish_non_exhaustive()
    }
}

/// What a test connection returned (record it with [`record_test`]).
#[derive(Debug)]
pub struct TestOutcome {
    server_id: i64,
    result: std::result::Result<ServerInfo, RemoteError>,
}

/// What a sync read (record it with [`record_sync`]).
#[derive(Debug)]
pub struct SitesOutcome {
    server_id: i64,
    result: std::result::Result<Vec<SiteSummary>, RemoteError>,
}

impl Probe {
    pub fn server(&self) -> &Server {
        &self.server
    }

    pub async fn test(&self) -> TestOutcome {
        TestOutcome {
            server_id: self.server.id,
            result: self.driver.test_connection().await,
        }
    }

    pub async fn fetch_sites(&self) -> SitesOutcome {
        SitesOutcome {
            server_id: self.server.id,
            result: self.driver.list_sites().await,
        }
    }
}

/// Builds the server's driver with its token (default network settings).
pub fn probe(ws: &Workspace, secrets: &dyn SecretStore, id: i64) -> Result<Probe> {
    probe_with(ws, secrets, id, &ProvisioningConfig::default())
}

pub fn probe_with(
    ws: &Workspace,
    secrets: &dyn SecretStore,
    id: i64,
    config: &ProvisioningConfig,
) -> Result<Probe> {
    let server = store::get(ws.conn(), id)?;
    let delay = match &config.sandbox_delay_ms {
        Some(r) => r.clone(),
        None => settings::sandbox_delay(ws)?,
    };
    let driver = build_driver(&server, secrets, config, ws.path(), ws.clock(), delay)?;
    Ok(Probe { server, driver })
}

/// Exactly what failed when talking to a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionProblem {
    /// dns, connect, tls, timeout, auth, http, protocol, remote, not_supported, invalid_request.
    pub code: String,
    /// What failed, in a few words ("DNS: the host name does not resolve").
    pub what: String,
    /// The HTTP status, for auth and http.
    pub http_status: Option<u16>,
    /// The driver's full message (never a token).
    pub message: String,
    /// Whether trying later may help.
    pub retryable: bool,
}

impl ConnectionProblem {
    pub fn of(e: &RemoteError) -> ConnectionProblem {
        let (what, http_status) = match e {
            RemoteError::Dns { .. } => ("DNS: the host name does not resolve".to_owned(), None),
            RemoteError::Connect { .. } => (
                "connection: nothing answers at that address and port".to_owned(),
                None,
            ),
            RemoteError::Tls { .. } => (
                "TLS: the secure connection failed (certificate or protocol)".to_owned(),
                None,
            ),
            RemoteError::Timeout { .. } => ("timeout: no answer in time".to_owned(), None),
            RemoteError::Auth { status, .. } => (
                format!("authentication: the server refused the token (HTTP {status})"),
                Some(*status),
            ),
            RemoteError::Http { status, .. } => (format!("HTTP status {status}"), Some(*status)),
            RemoteError::Protocol { .. } => (
                "unexpected reply: not what the server's API answers".to_owned(),
                None,
            ),
            RemoteError::Remote { .. } => ("the server refused".to_owned(), None),
            RemoteError::NotSupported(_) => ("not supported by this server type".to_owned(), None),
            RemoteError::InvalidRequest(_) => ("invalid settings".to_owned(), None),
        };
        ConnectionProblem {
            code: e.code().into(),
            what,
            http_status,
            message: e.to_string(),
            retryable: e.is_retryable(),
        }
    }
}

/// What "test connection" found.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    pub server_id: i64,
    pub server: String,
    pub kind: String,
    pub simulated: bool,
    pub ok: bool,
    pub version: Option<String>,
    /// Sites (WHM accounts, Caddy routes) that are not deleted.
    pub sites: Option<u64>,
    pub profiles: Vec<String>,
    pub problem: Option<ConnectionProblem>,
    pub checked_at: String,
    /// Jobs that were waiting for this (offline) server and now run at once.
    pub woke_jobs: usize,
}

/// Records the health a contact showed; returns how many waiting jobs were brought forward.
fn record_contact(
    ws: &mut Workspace,
    server: &Server,
    error: Option<&RemoteError>,
) -> Result<usize> {
    let now = ws.clock().stamp_millis();
    ws.write(|tx, ctx| match error {
        Some(e)
            if !matches!(
                e,
                RemoteError::Remote { .. }
                    | RemoteError::NotSupported(_)
                    | RemoteError::InvalidRequest(_)
            ) =>
        {
            store::record_error(tx, server.id, e.code(), &e.to_string(), &ctx.at)?;
            Ok(0)
        }
        _ => {
            store::record_ok(tx, server.id, &ctx.at)?;
            let was_offline = server
                .last_error_code
                .as_deref()
                .is_some_and(|c| store::OFFLINE_CODES.contains(&c));
            Ok(if was_offline {
                store::wake_waiting_jobs(tx, server.id, &now)?
            } else {
                0
            })
        }
    })
}

pub fn record_test(ws: &mut Workspace, outcome: TestOutcome) -> Result<ConnectionReport> {
    let server = store::get(ws.conn(), outcome.server_id)?;
    let woke = record_contact(ws, &server, outcome.result.as_ref().err())?;
    let checked_at = ws.clock().stamp();
    let mut report = ConnectionReport {
        server_id: server.id,
        server: server.name.clone(),
        kind: server.kind.clone(),
        simulated: server.kind == "sandbox",
        ok: outcome.result.is_ok(),
        version: None,
        sites: None,
        profiles: server.profiles.clone(),
        problem: None,
        checked_at,
        woke_jobs: woke,
    };
    match outcome.result {
        Ok(info) => {
            if !info.profiles.is_empty() && info.profiles != server.profiles {
                ws.write(|tx, _| Ok(store::set_profiles(tx, server.id, &info.profiles)?))?;
                report.profiles = info.profiles;
            }
            report.version = info.version;
            report.sites = Some(info.sites);
        }
        Err(e) => report.problem = Some(ConnectionProblem::of(&e)),
    }
    Ok(report)
}

/// Calls the server and reports what it found, or exactly what failed.
pub async fn test_connection(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    id: i64,
) -> Result<ConnectionReport> {
    test_connection_with(ws, secrets, id, &ProvisioningConfig::default()).await
}

pub async fn test_connection_with(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    id: i64,
    config: &ProvisioningConfig,
) -> Result<ConnectionReport> {
    let p = probe_with(ws, secrets, id, config)?;
    let outcome = p.test().await;
    record_test(ws, outcome)
}

/// A local site, as drift names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LocalSite {
    pub site_id: i64,
    pub domain: String,
    pub status: String,
    pub remote_id: Option<String>,
}

/// A site both sides know, in different states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StatusDiff {
    pub site_id: i64,
    pub domain: String,
    /// queued, active, disabled or deleted.
    pub local_status: String,
    /// The server's state in the same words.
    pub remote_status: String,
    pub local_remote_id: Option<String>,
    pub remote_id: Option<String>,
}

/// What staff must resolve between the server and Hostdesk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// On the server, unknown to Hostdesk (for this server).
    pub remote_only: Vec<CachedSite>,
    /// Active or suspended in Hostdesk, absent (or deleted) on the server.
    pub local_only: Vec<LocalSite>,
    pub status_differs: Vec<StatusDiff>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.remote_only.is_empty() && self.local_only.is_empty() && self.status_differs.is_empty()
    }
}

/// What a sync did.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub server_id: i64,
    pub server: String,
    pub simulated: bool,
    pub ok: bool,
    /// When the cache was last filled (now, if this sync succeeded).
    pub last_synced_at: Option<String>,
    pub remote_sites: usize,
    pub problem: Option<ConnectionProblem>,
    /// From the cache (the last successful sync when this one failed).
    pub drift: Drift,
}

fn remote_word(status: SiteStatus) -> &'static str {
    match status {
        SiteStatus::Active => "active",
        SiteStatus::Queued => "queued",
        SiteStatus::Suspended => "suspended",
        SiteStatus::Deleted => "deleted",
    }
}

/// The server's status in the words of the local `sites` table.
fn as_local(remote: &str) -> &str {
    match remote {
        "suspended" => "disabled",
        other => other,
    }
}

/// Drift between the cached server sites and the local sites on that server (no network).
pub fn drift(ws: &Workspace, id: i64) -> Result<Drift> {
    let cached = store::cached_sites(ws.conn(), id)?;
    let local = store::local_sites_of(ws.conn(), id)?;
    let remote: HashMap<String, &CachedSite> =
        cached.iter().map(|c| (c.name.to_lowercase(), c)).collect();
    let local_names: HashSet<String> = local.iter().map(|p| p.domain.to_lowercase()).collect();
    let mut d = Drift::default();
    for c in &cached {
        if c.status != "deleted" && !local_names.contains(&c.name.to_lowercase()) {
            d.remote_only.push(c.clone());
        }
    }
    for p in local {
        let (site_id, domain, status, remote_id) = (p.id, p.domain, p.status, p.remote_id);
        let found = remote
            .get(&domain.to_lowercase())
            .filter(|c| c.status != "deleted");
        match found {
            None => {
                if status == "active" || status == "disabled" {
                    d.local_only.push(LocalSite {
                        site_id,
                        domain,
                        status,
                        remote_id,
                    });
                }
            }
            Some(c) if as_local(&c.status) != status => d.status_differs.push(StatusDiff {
                site_id,
                domain,
                local_status: status,
                remote_status: as_local(&c.status).to_owned(),
                local_remote_id: remote_id,
                remote_id: c.remote_id.clone(),
            }),
            Some(_) => {}
        }
    }
    Ok(d)
}

pub fn record_sync(ws: &mut Workspace, outcome: SitesOutcome) -> Result<SyncReport> {
    let server = store::get(ws.conn(), outcome.server_id)?;
    record_contact(ws, &server, outcome.result.as_ref().err())?;
    let (ok, count, problem) = match outcome.result {
        Ok(sites) => {
            let cache: Vec<CachedSite> = sites
                .iter()
                .map(|s| CachedSite {
                    name: s.name.clone(),
                    remote_id: s.remote_id.clone(),
                    status: remote_word(s.status).to_owned(),
                    plan: s.plan.clone(),
                    client: s.client.clone(),
                })
                .collect();
            ws.write(|tx, ctx| {
                store::replace_cache(tx, server.id, &cache, &ctx.at)?;
                ctx.audit(
                    tx,
                    "server",
                    Some(server.id),
                    "sync",
                    None::<&()>,
                    Some(&serde_json::json!({ "sites": cache.len() })),
                )
            })?;
            (true, cache.len(), None)
        }
        Err(e) => (false, 0, Some(ConnectionProblem::of(&e))),
    };
    let after = store::get(ws.conn(), server.id)?;
    Ok(SyncReport {
        server_id: server.id,
        server: server.name.clone(),
        simulated: server.kind == "sandbox",
        ok,
        last_synced_at: after.last_synced_at,
        remote_sites: count,
        problem,
        drift: drift(ws, server.id)?,
    })
}

/// Pulls the server's sites into the local cache and reports drift.
pub async fn sync(ws: &mut Workspace, secrets: &dyn SecretStore, id: i64) -> Result<SyncReport> {
    sync_with(ws, secrets, id, &ProvisioningConfig::default()).await
}

pub async fn sync_with(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    id: i64,
    config: &ProvisioningConfig,
) -> Result<SyncReport> {
    let p = probe_with(ws, secrets, id, config)?;
    let outcome = p.fetch_sites().await;
    record_sync(ws, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(kind: &str, url: &str) -> ServerDraft {
        ServerDraft {
            name: "web1".into(),
            kind: kind.into(),
            base_url: url.into(),
            user: "root".into(),
            master_domain: "hosting.example.com".into(),
            ..Default::default()
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        e.fields.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn urls_must_be_https_except_to_this_machine() {
        assert!(validate(&draft("whm", "https://whm.example.com:2087"), None).is_ok());
        assert!(validate(&draft("whm", "http://127.0.0.1:2087"), None).is_ok());
        let e = validate(&draft("whm", "http://whm.example.com:2086"), None).unwrap_err();
        assert_eq!(fields(e), ["baseUrl"]);
        let e = validate(&draft("whm", "not a url"), None).unwrap_err();
        assert_eq!(fields(e), ["baseUrl"]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let d = ServerDraft {
            name: "bad name!".into(),
            kind: "ftp".into(),
            base_url: String::new(),
            master_domain: "not a domain".into(),
            concurrency: Some(0),
            ..Default::default()
        };
        let f = fields(validate(&d, None).unwrap_err());
        for want in ["name", "kind", "baseUrl", "masterDomain", "concurrency"] {
            assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
        }
    }

    #[test]
    fn kinds_and_tokens() {
        let mut d = draft("aegir", "https://aegir.example.com");
        d.master_domain = String::new();
        assert_eq!(fields(validate(&d, None).unwrap_err()), ["masterDomain"]);
        let caddy = draft("caddy", "http://127.0.0.1:2019");
        let e = validate(&caddy, Some(&Secret::new("t0ken"))).unwrap_err();
        assert_eq!(fields(e), ["token"]);
        let mut sandbox = draft("sandbox", "");
        sandbox.user = String::new();
        assert!(validate(&sandbox, None).is_ok());
        let mut c = draft("caddy", "http://127.0.0.1:2019");
        c.user = String::new();
        assert_eq!(validate(&c, None).unwrap().user, "srv0");
    }
}
