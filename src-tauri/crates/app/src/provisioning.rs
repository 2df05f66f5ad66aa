//! Provisioning: the job handler that carries site and account work to the hosting servers,
//! the site actions staff queue, and the runner every Hostdesk process uses.
//!
//! # Job kinds
//! | kind | does | payload (camelCase, all optional unless said) |
//! |---|---|---|
//! | `site.create` | installs / clones / serves the site (a WHM account on WHM) | `domain`, `source` ([`SiteSource`]), `client`, `owner` {email, name}, WHM: `username`, `plan`, `contactEmail` |
//! | `account.create` | creates the client's account (WHM `createacct`) | `username`, `domain`, `contactEmail` (required), `plan` |
//! | `site.create_user` | the client's own user with a role (never uid 1) | `email`, `name` (required), `role` (default `manager`) |
//! | `site.suspend` / `site.unsuspend` / `site.delete` | state changes | `reason` (suspend) |
//! | `site.login_link` | a one-time login link, held in memory only ([`LoginLinks`]) | `service` |
//! | `quota.set` | disk / bandwidth quotas in MB | `diskMb`, `bandwidthMb` |
//! | `package.change` | another server-side package | `package` (required) |
//!
//! Every job names its server (`server_id`, else its site's server) and its site (`site_id`,
//! else the payload's `site` / `domain`).
//!
//! # What the handler guarantees
//! - The driver is built from the server's row and its token from the [`SecretStore`] (kept
//!   per server until the row changes); a sandbox server gets the [`SandboxDriver`].
//! - Remote ids are saved with [`JobCtx::save`] the moment the server returns them, and the
//!   local `sites` row follows (status, remote id).
//! - Asynchronous work (Aegir tasks): the [`TaskRef`] is saved, then polled for at most
//!   [`ProvisioningConfig::poll_budget`]; a task still running ends the attempt with a retry and
//!   the next attempt polls the saved task instead of submitting again.
//! - Errors: [`RemoteError::is_retryable`] decides retry or dead. A server that cannot be
//!   reached at all (DNS, connection refused) is *offline*: its jobs keep waiting without using
//!   up their attempts (for at most [`ProvisioningConfig::offline_patience`]), and when it answers
//!   again its waiting jobs are brought forward so the queue drains at once. A remote task still
//!   running does not use up attempts either (for at most
//!   [`ProvisioningConfig::task_deadline`]).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use hostdesk_remote::{
    AccountCreated, AegirConfig, AegirDriver, CaddyConfig, CaddyDriver, Capabilities,
    ChangePackage, Changed, CreateClientAccount, CreateSite, CreateUser, DriverKind, HostingDriver,
    HttpConfig, LoginLink, LoginLinkRequest, Operation, PollConfig, Progress, RemoteError,
    ServerInfo, SetQuota, SiteCreated, SiteOwner, SiteSource, SiteStatus, SiteSummary, SiteTarget,
    SuspendSite, TaskRef, TaskState, UserCreated, WhmConfig, WhmDriver,
};
use hostdesk_store::jobs::{self as store_jobs, Job};
use hostdesk_store::servers::{self as store_servers, Server, SiteFilter, SiteRow};
use hostdesk_store::{
    settings as store_settings, Connection, OptionalExtension, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::blocking::lock;
use crate::job_env::JobEnv;
use crate::jobs::{self, JobSpec};
use crate::runner::{
    BoxFuture, JobCtx, JobError, JobHandler, RunEvent, Runner, RunnerConfig, Until,
};
use crate::sandbox::{self, Sandbox};
use crate::secrets::{Secret, SecretError, SecretStore};
use crate::{settings, AppError, Clock, ErrorCode, Result, Workspace};

pub const SITE_CREATE: &str = "site.create";
pub const ACCOUNT_CREATE: &str = "account.create";
pub const SITE_CREATE_USER: &str = "site.create_user";
pub const SITE_SUSPEND: &str = "site.suspend";
pub const SITE_UNSUSPEND: &str = "site.unsuspend";
pub const SITE_DELETE: &str = "site.delete";
pub const SITE_LOGIN_LINK: &str = "site.login_link";
pub const QUOTA_SET: &str = "quota.set";
pub const PACKAGE_CHANGE: &str = "package.change";

/// Every job kind the provisioning handler runs.
pub const KINDS: &[&str] = &[
    SITE_CREATE,
    ACCOUNT_CREATE,
    SITE_CREATE_USER,
    SITE_SUSPEND,
    SITE_UNSUSPEND,
    SITE_DELETE,
    SITE_LOGIN_LINK,
    QUOTA_SET,
    PACKAGE_CHANGE,
];

/// How provisioning talks to servers and waits for them.
#[derive(Debug, Clone)]
pub struct ProvisioningConfig {
    /// Timeouts of every driver's HTTP client.
    pub http: HttpConfig,
    /// The pause between two looks at a remote task.
    pub poll_interval: Duration,
    /// How long one attempt waits for a remote task before handing its slot back.
    pub poll_budget: Duration,
    /// A remote task still unfinished this long after it was submitted fails the job.
    pub task_deadline: Duration,
    /// How long the jobs of an unreachable server keep waiting without using up attempts.
    pub offline_patience: Duration,
    /// The sandbox's reply time; `None`: the workspace setting `sandbox_delay_ms`.
    pub sandbox_delay_ms: Option<Range<u64>>,
    /// Where `site.login_link` jobs leave their links (share one across runner rebuilds).
    pub login_links: LoginLinks,
}

impl Default for ProvisioningConfig {
    fn default() -> Self {
        ProvisioningConfig {
            http: HttpConfig::default(),
            poll_interval: Duration::from_secs(5),
            poll_budget: Duration::from_secs(60),
            task_deadline: Duration::from_secs(6 * 3600),
            offline_patience: Duration::from_secs(7 * 24 * 3600),
            sandbox_delay_ms: None,
            login_links: LoginLinks::default(),
        }
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 86_400 && s.is_multiple_of(86_400) {
        format!("{} days", s / 86_400)
    } else if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{} ms", d.as_millis())
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox as a driver
// ---------------------------------------------------------------------------------------------

/// The sandbox server behind the [`HostingDriver`] trait: the same simulated server as
/// [`Sandbox`] (its sites in `sandbox_sites`, the `sandbox_failure_rate` and the reply delay),
/// so a sandbox server takes the same job kinds as a real one. Everything it does is labelled as
/// simulated. Simulated failures happen before anything is done (HTTP 503, retryable).
pub struct SandboxDriver {
    store: Mutex<Store>,
    clock: Clock,
    delay_ms: Range<u64>,
}

impl fmt::Debug for SandboxDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxDriver")
            .field("delay_ms", &self.delay_ms)
            .finish_non_exhaustive()
    }
}

/// What the sandbox can do.
pub fn sandbox_capabilities() -> Capabilities {
    Capabilities::new([
        Operation::CreateClientAccount,
        Operation::InstallSite,
        Operation::CloneSite,
        Operation::FolderSite,
        Operation::OwnerOnCreate,
        Operation::CreateUser,
        Operation::SuspendSite,
        Operation::UnsuspendSite,
        Operation::DeleteSite,
        Operation::ChangePackage,
        Operation::SetQuota,
        Operation::LoginLink,
        Operation::ListSites,
        Operation::Backup,
        Operation::Restore,
    ])
}

const SANDBOX_ENDPOINT: &str = "sandbox (simulated)";

fn sandbox_db(e: impl fmt::Display) -> RemoteError {
    RemoteError::Http {
        endpoint: SANDBOX_ENDPOINT.into(),
        status: 503,
        body: format!("sandbox database: {e}"),
    }
}

fn sandbox_status(s: &str) -> SiteStatus {
    match s {
        "enabled" => SiteStatus::Active,
        "disabled" => SiteStatus::Suspended,
        _ => SiteStatus::Deleted,
    }
}

fn done(already: bool) -> Changed {
    Changed {
        already,
        progress: Progress::Done,
    }
}

impl SandboxDriver {
    pub fn open(path: &Path, clock: Clock, delay_ms: Range<u64>) -> Result<SandboxDriver> {
        Ok(SandboxDriver {
            store: Mutex::new(Store::open(path)?),
            clock,
            delay_ms,
        })
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, RemoteError>,
    ) -> std::result::Result<T, RemoteError> {
        let store = lock(&self.store);
        f(store.conn())
    }

    /// The simulated reply time, then maybe a simulated failure (before doing anything): one of
    /// the next failures staff asked for with `sandbox_fail_next` (`OPERATION:N`, e.g.
    /// `create_user:2`), or one by the failure rate.
    async fn answer(&self, op: &str) -> std::result::Result<(), RemoteError> {
        let ms = if self.delay_ms.is_empty() {
            self.delay_ms.start
        } else {
            fastrand::u64(self.delay_ms.clone())
        };
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let forced = self.with_conn(|c| sandbox::take_forced_failure(c, op).map_err(sandbox_db))?;
        if let Some(left) = forced {
            return Err(RemoteError::Http {
                endpoint: SANDBOX_ENDPOINT.into(),
                status: 503,
                body: format!("simulated failure of {op} ({left} more to come)"),
            });
        }
        let rate: u64 = self.with_conn(|c| {
            Ok(store_settings::get(c, sandbox::FAILURE_RATE)
                .map_err(sandbox_db)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0))
        })?;
        if rate > 0 && fastrand::u64(0..100) < rate {
            return Err(RemoteError::Http {
                endpoint: SANDBOX_ENDPOINT.into(),
                status: 503,
                body: format!("simulated failure (sandbox failure rate {rate}%)"),
            });
        }
        Ok(())
    }

    fn status_of(
        conn: &Connection,
        name: &str,
    ) -> std::result::Result<Option<String>, RemoteError> {
        conn.query_row(
            "SELECT status FROM sandbox_sites WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()
        .map_err(sandbox_db)
    }

    fn name(site: &SiteTarget) -> std::result::Result<String, RemoteError> {
        hostdesk_core::validate::domain(&site.name)
            .map_err(|e| RemoteError::InvalidRequest(format!("site domain {e}")))
    }

    /// Creates (or re-creates a deleted) site; returns whether it already existed.
    fn ensure_site(&self, name: &str, profile: &str) -> std::result::Result<bool, RemoteError> {
        let at = self.clock.stamp();
        self.with_conn(|c| match Self::status_of(c, name)?.as_deref() {
            None => {
                c.execute(
                    "INSERT INTO sandbox_sites (name, profile, status, created_at, updated_at)
                     VALUES (?1, ?2, 'enabled', ?3, ?3)",
                    (name, profile, &at),
                )
                .map_err(sandbox_db)?;
                Ok(false)
            }
            Some("deleted") => {
                c.execute(
                    "UPDATE sandbox_sites SET status = 'enabled', profile = ?2, users = '[]',
                            updated_at = ?3 WHERE name = ?1",
                    (name, profile, &at),
                )
                .map_err(sandbox_db)?;
                Ok(false)
            }
            Some(_) => Ok(true),
        })
    }

    fn add_user(
        &self,
        name: &str,
        email: &str,
        user: &str,
        role: &str,
    ) -> std::result::Result<(i64, bool), RemoteError> {
        let at = self.clock.stamp();
        self.with_conn(|c| {
            if Self::status_of(c, name)?.as_deref() != Some("enabled") {
                return Err(RemoteError::Remote {
                    reason: format!("sandbox site {name} is not enabled (simulated)"),
                });
            }
            let users: String = c
                .query_row(
                    "SELECT users FROM sandbox_sites WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .map_err(sandbox_db)?;
            let mut users: Vec<Value> = serde_json::from_str(&users).unwrap_or_default();
            if let Some(u) = users.iter().find(|u| u["email"] == email) {
                return Ok((u["uid"].as_i64().unwrap_or(0), true));
            }
            // uid 1 is the site's administrator: a client never gets it.
            let uid = users
                .iter()
                .filter_map(|u| u["uid"].as_i64())
                .max()
                .unwrap_or(1)
                + 1;
            users.push(json!({ "uid": uid, "name": user, "email": email, "role": role }));
            c.execute(
                "UPDATE sandbox_sites SET users = ?2, updated_at = ?3 WHERE name = ?1",
                (name, Value::from(users).to_string(), &at),
            )
            .map_err(sandbox_db)?;
            Ok((uid, false))
        })
    }

    fn set_state(&self, site: &SiteTarget, to: &str) -> std::result::Result<Changed, RemoteError> {
        let name = Self::name(site)?;
        let at = self.clock.stamp();
        self.with_conn(|c| {
            let status = Self::status_of(c, &name)?;
            match status.as_deref() {
                None if to == "deleted" => Ok(done(true)),
                None => Err(RemoteError::Remote {
                    reason: format!("the sandbox has no site named {name} (simulated)"),
                }),
                Some("deleted") if to == "deleted" => Ok(done(true)),
                Some("deleted") => Err(RemoteError::Remote {
                    reason: format!("the sandbox site {name} is deleted (simulated)"),
                }),
                Some(s) if s == to => Ok(done(true)),
                Some(_) => {
                    c.execute(
                        "UPDATE sandbox_sites SET status = ?2, updated_at = ?3 WHERE name = ?1",
                        (&name, to, &at),
                    )
                    .map_err(sandbox_db)?;
                    Ok(done(false))
                }
            }
        })
    }
}

#[async_trait]
impl HostingDriver for SandboxDriver {
    /// The sandbox has no protocol of its own; it stands in for an Aegir-like server.
    fn kind(&self) -> DriverKind {
        DriverKind::Aegir
    }

    fn capabilities(&self) -> Capabilities {
        sandbox_capabilities()
    }

    async fn test_connection(&self) -> std::result::Result<ServerInfo, RemoteError> {
        self.answer("test_connection").await?;
        let sites: i64 = self.with_conn(|c| {
            c.query_row(
                "SELECT count(*) FROM sandbox_sites WHERE status <> 'deleted'",
                [],
                |r| r.get(0),
            )
            .map_err(sandbox_db)
        })?;
        Ok(ServerInfo {
            version: Some("Hostdesk sandbox (simulated)".into()),
            sites: u64::try_from(sites).unwrap_or(0),
            profiles: Vec::new(),
        })
    }

    async fn find_site(&self, name: &str) -> std::result::Result<Option<SiteSummary>, RemoteError> {
        Ok(self
            .list_sites()
            .await?
            .into_iter()
            .find(|s| s.name == name))
    }

    async fn list_sites(&self) -> std::result::Result<Vec<SiteSummary>, RemoteError> {
        self.answer("list_sites").await?;
        self.with_conn(|c| {
            let mut stmt = c
                .prepare("SELECT name, profile, status FROM sandbox_sites ORDER BY name")
                .map_err(sandbox_db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(sandbox_db)?;
            let mut out = Vec::new();
            for row in rows {
                let (name, profile, status) = row.map_err(sandbox_db)?;
                out.push(SiteSummary {
                    remote_id: Some(name.clone()),
                    name,
                    status: sandbox_status(&status),
                    plan: Some(profile).filter(|p| !p.is_empty()),
                    client: None,
                });
            }
            Ok(out)
        })
    }

    async fn create_client_account(
        &self,
        req: &CreateClientAccount,
    ) -> std::result::Result<AccountCreated, RemoteError> {
        let name = Self::name(&SiteTarget::named(&req.domain))?;
        self.answer("create_client_account").await?;
        let existed = self.ensure_site(&name, req.plan.as_deref().unwrap_or(""))?;
        Ok(AccountCreated {
            remote_id: req.username.clone(),
            already_existed: existed,
        })
    }

    async fn create_site(&self, req: &CreateSite) -> std::result::Result<SiteCreated, RemoteError> {
        let name = Self::name(&SiteTarget::named(&req.domain))?;
        let profile = match &req.source {
            SiteSource::Profile { profile, .. } => profile.clone(),
            SiteSource::Clone { template, .. } => format!("clone of {template}"),
            SiteSource::Folder { root } => root.clone(),
        };
        self.answer("create_site").await?;
        let existed = self.ensure_site(&name, &profile)?;
        if let Some(owner) = &req.owner {
            self.add_user(&name, &owner.email, &owner.name, "manager")?;
        }
        Ok(SiteCreated {
            site: name.clone(),
            remote_id: Some(name),
            already_existed: existed,
            progress: Progress::Done,
        })
    }

    async fn create_user(&self, req: &CreateUser) -> std::result::Result<UserCreated, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("create_user").await?;
        let (uid, existed) = self.add_user(&name, &req.email, &req.name, &req.role)?;
        Ok(UserCreated {
            remote_id: Some(uid.to_string()),
            already_existed: existed,
            progress: Progress::Done,
        })
    }

    async fn suspend_site(&self, req: &SuspendSite) -> std::result::Result<Changed, RemoteError> {
        self.answer("suspend_site").await?;
        self.set_state(&req.site, "disabled")
    }

    async fn unsuspend_site(&self, site: &SiteTarget) -> std::result::Result<Changed, RemoteError> {
        self.answer("unsuspend_site").await?;
        self.set_state(site, "enabled")
    }

    async fn delete_site(&self, site: &SiteTarget) -> std::result::Result<Changed, RemoteError> {
        self.answer("delete_site").await?;
        self.set_state(site, "deleted")
    }

    async fn change_package(
        &self,
        req: &ChangePackage,
    ) -> std::result::Result<Changed, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("change_package").await?;
        let at = self.clock.stamp();
        self.with_conn(|c| {
            let n = c
                .execute(
                    "UPDATE sandbox_sites SET profile = ?2, updated_at = ?3
                      WHERE name = ?1 AND status <> 'deleted'",
                    (&name, &req.package, &at),
                )
                .map_err(sandbox_db)?;
            if n == 0 {
                return Err(RemoteError::Remote {
                    reason: format!("the sandbox has no site named {name} (simulated)"),
                });
            }
            Ok(done(false))
        })
    }

    /// Simulated: the sandbox keeps no quotas; the site must exist.
    async fn set_quota(&self, req: &SetQuota) -> std::result::Result<Changed, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("set_quota").await?;
        self.with_conn(|c| match Self::status_of(c, &name)?.as_deref() {
            None | Some("deleted") => Err(RemoteError::Remote {
                reason: format!("the sandbox has no site named {name} (simulated)"),
            }),
            Some(_) => Ok(done(false)),
        })
    }

    // Simulated backups: `crate::lifecycle::sandbox`.
    async fn backup(
        &self,
        req: &hostdesk_remote::BackupRequest,
    ) -> std::result::Result<hostdesk_remote::BackupStarted, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("backup").await?;
        let at = self.clock.stamp();
        let id =
            self.with_conn(|c| crate::lifecycle::sandbox::backup(c, &name, &req.description, &at))?;
        Ok(hostdesk_remote::BackupStarted {
            backup_id: Some(id),
            progress: Progress::Done,
        })
    }

    async fn backup_delete(
        &self,
        req: &hostdesk_remote::BackupDeleteRequest,
    ) -> std::result::Result<Changed, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("backup_delete").await?;
        let gone =
            self.with_conn(|c| crate::lifecycle::sandbox::delete(c, &name, &req.backup_id))?;
        Ok(done(gone))
    }

    async fn restore(
        &self,
        req: &hostdesk_remote::RestoreRequest,
    ) -> std::result::Result<Changed, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("restore").await?;
        let at = self.clock.stamp();
        self.with_conn(|c| crate::lifecycle::sandbox::restore(c, &name, &req.backup_id, &at))?;
        Ok(done(false))
    }

    async fn list_backups(
        &self,
        site: &SiteTarget,
    ) -> std::result::Result<Option<Vec<hostdesk_remote::BackupInfo>>, RemoteError> {
        let name = Self::name(site)?;
        self.answer("list_backups").await?;
        self.with_conn(|c| crate::lifecycle::sandbox::list(c, &name).map(Some))
    }

    async fn login_link(
        &self,
        req: &LoginLinkRequest,
    ) -> std::result::Result<LoginLink, RemoteError> {
        let name = Self::name(&req.site)?;
        self.answer("login_link").await?;
        let live = self.with_conn(|c| Self::status_of(c, &name))?;
        if live.as_deref() != Some("enabled") {
            return Err(RemoteError::Remote {
                reason: format!("the sandbox site {name} is not enabled (simulated)"),
            });
        }
        Ok(LoginLink {
            url: Some(Secret::new(format!(
                "https://{name}/user/reset/simulated-{:016x}",
                fastrand::u64(..)
            ))),
            progress: Progress::Done,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Building drivers
// ---------------------------------------------------------------------------------------------

/// Driver settings kept in a server's `options` JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerOptions {
    /// Caddy: the folder whose sub-folder `<domain>` a new site serves.
    pub sites_root: Option<String>,
    /// Aegir: the platform new sites go on when the job names none.
    pub default_platform: Option<String>,
    /// Aegir: the database server new sites use when the job names none.
    pub default_db_server: Option<String>,
    /// Caddy: the file (on this machine) Caddy writes the access log to, read to measure the
    /// bytes each site served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<String>,
}

impl ServerOptions {
    pub fn of(server: &Server) -> ServerOptions {
        serde_json::from_value(server.options.clone()).unwrap_or_default()
    }
}

/// Why a driver could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The server needs a token and the store has none.
    NoToken {
        server: String,
        store: String,
    },
    Secrets(SecretError),
    /// The server's settings are not usable (bad URL, bad user name...).
    Invalid(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoToken { server, store } => write!(
                f,
                "no API token for server {server} in {store}: set one with `hostdesk server edit {server} --token-stdin` (or the Servers screen)"
            ),
            BuildError::Secrets(e) => write!(f, "{e}"),
            BuildError::Invalid(m) => write!(f, "server settings: {m}"),
        }
    }
}

impl From<BuildError> for AppError {
    fn from(e: BuildError) -> Self {
        match &e {
            BuildError::NoToken { .. } => AppError::invalid("token", e.to_string()),
            BuildError::Secrets(s) => AppError::from(s.clone()),
            BuildError::Invalid(_) => AppError::new(ErrorCode::Invalid, e.to_string()),
        }
    }
}

impl BuildError {
    pub(crate) fn into_job_error(self) -> JobError {
        match &self {
            // The keyring may be unlocked later (a login, a desktop session starting).
            BuildError::Secrets(SecretError::Unavailable(_)) => JobError::retry(self.to_string()),
            _ => JobError::fatal(self.to_string()),
        }
    }
}

fn token(server: &Server, secrets: &dyn SecretStore) -> std::result::Result<Secret, BuildError> {
    match secrets.get(&server.name) {
        Ok(Some(t)) if !t.is_empty() => Ok(t),
        Ok(_) => Err(BuildError::NoToken {
            server: server.name.clone(),
            store: secrets.label(),
        }),
        Err(e) => Err(BuildError::Secrets(e)),
    }
}

/// Builds the driver of a server. `db` is the workspace file (the sandbox keeps its sites
/// there).
pub fn build_driver(
    server: &Server,
    secrets: &dyn SecretStore,
    config: &ProvisioningConfig,
    db: Option<&Path>,
    clock: Clock,
    sandbox_delay: Range<u64>,
) -> std::result::Result<Arc<dyn HostingDriver>, BuildError> {
    let invalid = |e: RemoteError| BuildError::Invalid(e.to_string());
    let opts = ServerOptions::of(server);
    let poll = PollConfig {
        interval: config.poll_interval,
        timeout: config.poll_budget,
    };
    Ok(match server.kind.as_str() {
        "aegir" => {
            let mut c = AegirConfig::new(
                &server.base_url,
                token(server, secrets)?,
                &server.master_domain,
            )
            .map_err(invalid)?;
            c.http = config.http.clone();
            c.poll = poll;
            c.default_platform = opts
                .default_platform
                .or_else(|| server.platforms.first().cloned());
            c.default_db_server = opts.default_db_server;
            Arc::new(AegirDriver::new(c).map_err(invalid)?)
        }
        "whm" => {
            let mut c = WhmConfig::new(&server.base_url, &server.username, token(server, secrets)?)
                .map_err(invalid)?;
            c.http = config.http.clone();
            Arc::new(WhmDriver::new(c).map_err(invalid)?)
        }
        "caddy" => {
            let name = if server.username.trim().is_empty() {
                "srv0"
            } else {
                server.username.trim()
            };
            let mut c = CaddyConfig::new(&server.base_url, name).map_err(invalid)?;
            c.http = config.http.clone();
            c.access_log = opts.access_log.map(PathBuf::from);
            Arc::new(CaddyDriver::new(c).map_err(invalid)?)
        }
        "sandbox" => {
            let Some(path) = db else {
                return Err(BuildError::Invalid(
                    "the sandbox keeps its sites in the workspace file: open a workspace file, not an in-memory one".into(),
                ));
            };
            let d = SandboxDriver::open(path, clock, sandbox_delay)
                .map_err(|e| BuildError::Invalid(e.message))?;
            Arc::new(d)
        }
        other => {
            return Err(BuildError::Invalid(format!(
                "'{other}' is not a driver kind (aegir, whm, caddy, sandbox)"
            )))
        }
    })
}

/// What a driver kind can do (the UI offers only these; site actions refuse the others).
pub fn capabilities(kind: &str) -> Capabilities {
    static CACHE: OnceLock<HashMap<&'static str, Capabilities>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        // Placeholder configurations: only `capabilities()` is asked, nothing is sent.
        let placeholder = || Secret::new("placeholder");
        let mut m = HashMap::new();
        if let Ok(d) = AegirConfig::new("https://aegir.invalid", placeholder(), "example.invalid")
            .and_then(AegirDriver::new)
        {
            m.insert("aegir", d.capabilities());
        }
        if let Ok(d) =
            WhmConfig::new("https://whm.invalid", "root", placeholder()).and_then(WhmDriver::new)
        {
            m.insert("whm", d.capabilities());
        }
        if let Ok(d) = CaddyDriver::new(CaddyConfig::default()) {
            m.insert("caddy", d.capabilities());
        }
        m.insert("sandbox", sandbox_capabilities());
        m
    });
    all.get(kind).cloned().unwrap_or_default()
}

/// The operation a job kind needs (`site.create` needs one of several: see [`can_run`]).
fn operation_of(kind: &str) -> Option<Operation> {
    Some(match kind {
        ACCOUNT_CREATE => Operation::CreateClientAccount,
        SITE_CREATE_USER => Operation::CreateUser,
        SITE_SUSPEND => Operation::SuspendSite,
        SITE_UNSUSPEND => Operation::UnsuspendSite,
        SITE_DELETE => Operation::DeleteSite,
        SITE_LOGIN_LINK => Operation::LoginLink,
        QUOTA_SET => Operation::SetQuota,
        PACKAGE_CHANGE => Operation::ChangePackage,
        _ => return None,
    })
}

/// Whether a server of this driver kind can run jobs of this kind.
pub fn can_run(server_kind: &str, job_kind: &str) -> bool {
    let caps = capabilities(server_kind);
    if job_kind == SITE_CREATE {
        return [
            Operation::InstallSite,
            Operation::CloneSite,
            Operation::FolderSite,
            Operation::CreateClientAccount,
        ]
        .iter()
        .any(|op| caps.supports(*op));
    }
    operation_of(job_kind).is_some_and(|op| caps.supports(op))
}

// ---------------------------------------------------------------------------------------------
// Login links: one-time URLs carry a session; they live in memory only
// ---------------------------------------------------------------------------------------------

/// One-time login links produced by `site.login_link` jobs, kept in memory (never in the
/// database: the URL carries a session) for ten minutes, and handed out once.
#[derive(Clone, Default)]
pub struct LoginLinks(Arc<Mutex<HashMap<i64, (Secret, Instant)>>>);

impl fmt::Debug for LoginLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginLinks(<redacted>)")
    }
}

const LINK_TTL: Duration = Duration::from_secs(600);

impl LoginLinks {
    fn put(&self, job_id: i64, url: Secret) {
        let mut m = lock(&self.0);
        m.retain(|_, (_, at)| at.elapsed() < LINK_TTL);
        m.insert(job_id, (url, Instant::now()));
    }

    /// The link the job produced, once (`None` if it is gone, expired, or another process ran
    /// the job).
    pub fn take(&self, job_id: i64) -> Option<Secret> {
        let mut m = lock(&self.0);
        m.remove(&job_id)
            .filter(|(_, at)| at.elapsed() < LINK_TTL)
            .map(|(s, _)| s)
    }
}

// ---------------------------------------------------------------------------------------------
// The job handler
// ---------------------------------------------------------------------------------------------

/// How often a flapping server's health is written (see `Provisioning::health_due`).
const HEALTH_EVERY: Duration = Duration::from_secs(5);
/// How often a healthy server's "last seen" is refreshed.
const HEALTHY_EVERY: Duration = Duration::from_secs(30);

/// A driver with the fingerprint of the server row it was built from.
use crate::job_env::CachedDriver;

/// The provisioning job handler. One per runner; cheap to share (`Arc`).
pub struct Provisioning {
    env: JobEnv,
    store: Arc<Mutex<Store>>,
    drivers: Mutex<HashMap<i64, CachedDriver>>,
    /// What this handler last wrote about each server's health (`None`: ok; else the error
    /// code) and when: a healthy server is recorded at most every 30 s, not per job.
    health: Mutex<HashMap<i64, (Option<String>, Instant)>>,
    links: LoginLinks,
}

enum Failure {
    Remote(RemoteError),
    Job(JobError),
}

impl From<RemoteError> for Failure {
    fn from(e: RemoteError) -> Self {
        Failure::Remote(e)
    }
}

impl From<JobError> for Failure {
    fn from(e: JobError) -> Self {
        Failure::Job(e)
    }
}

type Step<T> = std::result::Result<T, Failure>;

/// What an operation returned, before any waiting.
struct Outcome {
    remote_id: Option<String>,
    progress: Progress,
    extra: Value,
}

/// The `sites.status` a finished job leaves.
fn final_status(kind: &str) -> Option<&'static str> {
    match kind {
        SITE_CREATE | ACCOUNT_CREATE | SITE_UNSUSPEND => Some("active"),
        SITE_SUSPEND => Some("disabled"),
        SITE_DELETE => Some("deleted"),
        _ => None,
    }
}

/// A WHM user name derived from a domain: at most 8 letters or digits of its first label
/// (starting with a letter) and 4 hex digits of a hash of the whole domain.
pub fn username_for(domain: &str) -> String {
    let first = domain.split('.').next().unwrap_or("");
    let mut head: String = first
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .skip_while(char::is_ascii_digit)
        .take(8)
        .collect();
    if head.is_empty() {
        head = "site".into();
    }
    // FNV-1a: stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in domain.to_ascii_lowercase().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{head}{:04x}", h & 0xffff)
}

impl Provisioning {
    pub fn open(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        config: ProvisioningConfig,
    ) -> Result<Arc<Provisioning>> {
        let store = Store::open(path)?;
        let sandbox_delay = match &config.sandbox_delay_ms {
            Some(r) => r.clone(),
            None => settings::sandbox_delay(&Workspace::open(path, clock)?)?,
        };
        let links = config.login_links.clone();
        Ok(Arc::new(Provisioning {
            env: JobEnv::new(path, clock, secrets, &config, sandbox_delay),
            store: Arc::new(Mutex::new(store)),
            drivers: Mutex::new(HashMap::new()),
            health: Mutex::new(HashMap::new()),
            links,
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        for k in KINDS {
            runner.handle(k, self.clone());
        }
    }

    /// The login links this handler produced (hand them to the UI / CLI).
    pub fn login_links(&self) -> LoginLinks {
        self.links.clone()
    }

    /// Runs database work on the blocking pool: a write that waits for SQLite's lock (the
    /// runner writes too) must not hold up the async workers.
    async fn db<T, F>(&self, f: F) -> std::result::Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        crate::blocking::on_store(&self.store, f).await
    }

    async fn load(&self, job: &JobCtx) -> std::result::Result<(Server, Option<SiteRow>), JobError> {
        let job_id = job.id;
        let payload_site = job.payload.get("siteId").and_then(Value::as_i64);
        let site_name = text(&job.payload, "site")
            .or_else(|| text(&job.payload, "domain"))
            .map(str::to_owned);
        let job_server = job.server_id;
        // Ok(Err(message)): the job cannot run (fatal); Err: the database failed (retry).
        let loaded = self
            .db(move |c| {
                let site_id = match payload_site {
                    Some(id) => Some(id),
                    None => {
                        c.query_row("SELECT site_id FROM jobs WHERE id = ?1", [job_id], |r| {
                            r.get::<_, Option<i64>>(0)
                        })?
                    }
                };
                let site = match (site_id, site_name) {
                    (Some(id), _) => match store_servers::get_site(c, id) {
                        Ok(s) => Some(s),
                        Err(StoreError::NotFound { .. }) => {
                            return Ok(Err(format!("site {id} of this job no longer exists")))
                        }
                        Err(e) => return Err(e),
                    },
                    (None, Some(name)) => store_servers::find_site_by_domain(c, &name)?,
                    (None, None) => None,
                };
                let Some(server_id) =
                    job_server.or_else(|| site.as_ref().and_then(|s| s.server_id))
                else {
                    return Ok(Err(
                        "this job names no server, and its site is not placed on one".to_owned(),
                    ));
                };
                match store_servers::get(c, server_id) {
                    Ok(server) => Ok(Ok((server, site))),
                    Err(StoreError::NotFound { .. }) => Ok(Err(format!(
                        "server {server_id} of this job no longer exists"
                    ))),
                    Err(e) => Err(e),
                }
            })
            .await?;
        loaded.map_err(JobError::fatal)
    }

    fn driver(&self, server: &Server) -> std::result::Result<Arc<dyn HostingDriver>, JobError> {
        self.env.cached_driver(&self.drivers, server)
    }

    /// Drivers are rebuilt from the server row on the next job (its token changed).
    pub fn forget_driver(&self, server_id: i64) {
        lock(&self.drivers).remove(&server_id);
    }

    async fn run_job(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        let (server, site) = self.load(job).await?;
        let driver = self.driver(&server)?;
        match self
            .dispatch(job, &server, site.as_ref(), driver.as_ref())
            .await
        {
            Ok(v) => {
                self.seen_ok(&server).await;
                Ok(v)
            }
            Err(Failure::Job(e)) => Err(e),
            Err(Failure::Remote(e)) => Err(self.remote_failure(job, &server, e).await),
        }
    }

    /// Whether to record a server's health now. Each write to the `servers` row competes with
    /// the runner for SQLite's write lock, so a flapping server is recorded at most every
    /// [`HEALTH_EVERY`] and a healthy one every 30 s; becoming unreachable, and answering again
    /// after being unreachable (which brings its waiting jobs forward), are recorded at once.
    fn health_due(&self, server: &Server, now_code: Option<&str>) -> (bool, bool) {
        // Unreachable (DNS, refused): nothing gets through. A timeout alone may be one slow
        // request among good ones, so it follows the normal pace.
        let offline =
            |c: Option<&str>| c.is_some_and(|c| store_servers::UNREACHABLE_CODES.contains(&c));
        let mut h = lock(&self.health);
        let (write, was_offline) = match h.get(&server.id) {
            None => (true, offline(server.last_error_code.as_deref())),
            Some((prev, at)) => {
                let prev = prev.as_deref();
                let was_offline = offline(prev);
                let write = if prev == now_code {
                    at.elapsed()
                        > if now_code.is_none() {
                            HEALTHY_EVERY
                        } else {
                            HEALTH_EVERY
                        }
                } else {
                    // A change: at once when it enters or leaves "offline".
                    was_offline != offline(now_code) || at.elapsed() > HEALTH_EVERY
                };
                (write, was_offline)
            }
        };
        if write {
            h.insert(server.id, (now_code.map(str::to_owned), Instant::now()));
        }
        (write, was_offline)
    }

    /// The server answered: record it and, if it was offline, bring its waiting jobs forward.
    async fn seen_ok(&self, server: &Server) {
        let (write, was_offline) = self.health_due(server, None);
        if !write {
            return;
        }
        let (id, at, now) = (
            server.id,
            self.env.clock.stamp(),
            self.env.clock.stamp_millis(),
        );
        let _ = self
            .db(move |c| {
                store_servers::record_ok(c, id, &at)?;
                if was_offline {
                    store_servers::wake_waiting_jobs(c, id, &now)?;
                }
                Ok(())
            })
            .await;
    }

    /// Talking to the server failed: record what failed.
    async fn seen_failing(&self, server: &Server, e: &RemoteError) {
        let code = e.code();
        let (write, _) = self.health_due(server, Some(code));
        if write {
            let (id, at, message) = (server.id, self.env.clock.stamp(), e.to_string());
            let _ = self
                .db(move |c| store_servers::record_error(c, id, code, &message, &at))
                .await;
        }
    }

    async fn remote_failure(&self, job: &JobCtx, server: &Server, e: RemoteError) -> JobError {
        let code = e.code();
        let mut message = format!("{} [{code}]: {e}", server.name);
        match code {
            "remote" | "not_supported" | "invalid_request" => self.seen_ok(server).await,
            _ => self.seen_failing(server, &e).await,
        }
        if store_servers::UNREACHABLE_CODES.contains(&code) {
            let now = self.env.clock.now();
            let since = text(&job.result, "offlineSince")
                .and_then(parse_time)
                .unwrap_or(now);
            if job.result.get("offlineSince").is_none() {
                let _ = job
                    .save(json!({ "offlineSince": self.env.clock.stamp() }))
                    .await;
            }
            let waited = (now - since).to_std().unwrap_or_default();
            if waited < self.env.config.offline_patience {
                let id = job.id;
                if let Err(err) = self
                    .db(move |c| store_servers::grant_extra_attempt(c, id))
                    .await
                {
                    return err;
                }
                message = format!(
                    "offline: {message} (the job waits for {} to answer, without using up its attempts, for up to {})",
                    server.name,
                    human(self.env.config.offline_patience)
                );
                return JobError::retry(message);
            }
            message = format!(
                "{message} (unreachable for more than {}: the job now uses up its attempts)",
                human(self.env.config.offline_patience)
            );
        }
        JobError {
            message,
            retryable: e.is_retryable(),
        }
    }

    fn target(job: &JobCtx, site: Option<&SiteRow>) -> std::result::Result<SiteTarget, JobError> {
        let name = text(&job.payload, "site")
            .or_else(|| text(&job.payload, "domain"))
            .map(str::to_owned)
            .or_else(|| site.map(|s| s.domain.clone()))
            .ok_or_else(|| {
                JobError::fatal("the job names no site: give it a site, or a payload 'site'")
            })?;
        let remote_id = text(&job.result, "remoteId")
            .or_else(|| text(&job.payload, "remoteId"))
            .map(str::to_owned)
            .or_else(|| site.and_then(|s| s.remote_id.clone()));
        Ok(SiteTarget { name, remote_id })
    }

    async fn dispatch(
        &self,
        job: &JobCtx,
        server: &Server,
        site: Option<&SiteRow>,
        driver: &dyn HostingDriver,
    ) -> Step<Value> {
        let kind = job.kind.as_str();
        if !can_run(&server.kind, kind) {
            return Err(JobError::fatal(format!(
                "server {} ({}) cannot run {kind} jobs",
                server.name, server.kind
            ))
            .into());
        }
        // A remote task an earlier attempt started: wait for it instead of starting again.
        let saved_task: Option<TaskRef> = job
            .result
            .get("task")
            .filter(|t| !t.is_null())
            .and_then(|t| serde_json::from_value(t.clone()).ok());
        let outcome = match saved_task {
            Some(task) => Outcome {
                remote_id: text(&job.result, "remoteId").map(str::to_owned),
                progress: Progress::Pending { task },
                extra: json!({ "resumedTask": true }),
            },
            None => self.perform(job, server, site, driver).await?,
        };
        let site_id = site.map(|s| s.id);
        let creates = matches!(kind, SITE_CREATE | ACCOUNT_CREATE);
        let mut result = outcome.extra;
        if let Progress::Pending { task } = outcome.progress {
            // Waiting follows: what the server returned is saved now (one write), so a retry,
            // or a runner started after a crash, waits for the same task and keeps the same id.
            let mut patch = serde_json::Map::new();
            if let Some(rid) = outcome.remote_id.as_ref().filter(|_| creates) {
                if text(&job.result, "remoteId") != Some(rid.as_str()) {
                    patch.insert("remoteId".into(), json!(rid));
                    if let Some(id) = site_id {
                        let (at, rid) = (self.env.clock.stamp(), rid.clone());
                        self.db(move |c| store_servers::update_site(c, id, None, Some(&rid), &at))
                            .await?;
                    }
                }
            }
            let since = match job.result.get("task").filter(|t| !t.is_null()) {
                Some(_) => text(&job.result, "taskSince")
                    .map(str::to_owned)
                    .unwrap_or_else(|| self.env.clock.stamp()),
                None => {
                    let since = self.env.clock.stamp();
                    patch.insert("task".into(), json!(task));
                    patch.insert("taskSince".into(), json!(since));
                    since
                }
            };
            if !patch.is_empty() {
                job.save(Value::Object(patch)).await?;
            }
            let state = self.wait(job, server, driver, &task, &since).await?;
            result["taskState"] = serde_json::to_value(&state).unwrap_or(Value::Null);
            result["task"] = Value::Null;
            result["taskSince"] = Value::Null;
        }
        if let Some(id) = site_id {
            let status = final_status(kind);
            let rid = if creates {
                outcome.remote_id.clone()
            } else {
                None
            };
            if status.is_some() || rid.is_some() {
                let at = self.env.clock.stamp();
                self.db(move |c| store_servers::update_site(c, id, status, rid.as_deref(), &at))
                    .await?;
            }
        }
        if let Some(rid) = outcome.remote_id {
            result["remoteId"] = Value::String(rid);
        }
        result["server"] = Value::String(server.name.clone());
        if server.kind == "sandbox" {
            result["simulated"] = Value::Bool(true);
        }
        if job.result.get("offlineSince").is_some() {
            result["offlineSince"] = Value::Null;
        }
        Ok(result)
    }

    /// Polls a remote task for at most the poll budget.
    async fn wait(
        &self,
        job: &JobCtx,
        server: &Server,
        driver: &dyn HostingDriver,
        task: &TaskRef,
        since: &str,
    ) -> Step<TaskState> {
        let label = format!(
            "{} task {} on {}{}",
            server.kind,
            task.task_type,
            task.site,
            task.task_id
                .as_deref()
                .map(|id| format!(" (task {id})"))
                .unwrap_or_default()
        );
        let deadline = Instant::now() + self.env.config.poll_budget;
        loop {
            match driver.task_state(task).await? {
                s @ (TaskState::Succeeded | TaskState::Warning { .. }) => return Ok(s),
                TaskState::Failed { reason } => {
                    // A staff retry starts the work again rather than re-reading this task.
                    job.save(json!({ "task": null, "taskSince": null })).await?;
                    self.seen_ok(server).await;
                    return Err(JobError::fatal(format!("{}: {reason}", server.name)).into());
                }
                TaskState::Queued | TaskState::Processing => {}
            }
            if Instant::now() + self.env.config.poll_interval > deadline {
                break;
            }
            tokio::time::sleep(self.env.config.poll_interval).await;
        }
        self.seen_ok(server).await;
        let started = parse_time(since).unwrap_or_else(|| self.env.clock.now());
        let waited = (self.env.clock.now() - started)
            .to_std()
            .unwrap_or_default();
        if waited > self.env.config.task_deadline {
            job.save(json!({ "task": null, "taskSince": null })).await?;
            return Err(JobError::fatal(format!(
                "{}: {label} is still not finished {} after it was submitted; look at the task log on the server, then retry the job",
                server.name,
                human(self.env.config.task_deadline)
            ))
            .into());
        }
        let id = job.id;
        self.db(move |c| store_servers::grant_extra_attempt(c, id))
            .await?;
        Err(JobError::retry(format!(
            "waiting: {label} is still running on {}; the next attempt looks again (waiting does not use up attempts)",
            server.name
        ))
        .into())
    }

    async fn perform(
        &self,
        job: &JobCtx,
        server: &Server,
        site: Option<&SiteRow>,
        driver: &dyn HostingDriver,
    ) -> Step<Outcome> {
        let p = &job.payload;
        let need = |k: &str| -> std::result::Result<String, JobError> {
            text(p, k)
                .map(str::to_owned)
                .ok_or_else(|| JobError::fatal(format!("the job's payload has no '{k}'")))
        };
        let changed = |c: Changed| Outcome {
            remote_id: None,
            progress: c.progress,
            extra: json!({ "already": c.already }),
        };
        Ok(match job.kind.as_str() {
            SITE_CREATE => {
                let caps = driver.capabilities();
                let creates_sites = [
                    Operation::InstallSite,
                    Operation::CloneSite,
                    Operation::FolderSite,
                ]
                .iter()
                .any(|op| caps.supports(*op));
                if creates_sites {
                    let req = self.create_request(job, server, site)?;
                    let c = driver.create_site(&req).await?;
                    Outcome {
                        remote_id: c.remote_id,
                        progress: c.progress,
                        extra: json!({ "site": c.site, "alreadyExisted": c.already_existed }),
                    }
                } else {
                    let req = Self::account_request(job, site)?;
                    let a = driver.create_client_account(&req).await?;
                    Outcome {
                        remote_id: Some(a.remote_id),
                        progress: Progress::Done,
                        extra: json!({ "site": req.domain, "alreadyExisted": a.already_existed }),
                    }
                }
            }
            ACCOUNT_CREATE => {
                let req = Self::account_request(job, site)?;
                let a = driver.create_client_account(&req).await?;
                Outcome {
                    remote_id: Some(a.remote_id),
                    progress: Progress::Done,
                    extra: json!({ "site": req.domain, "alreadyExisted": a.already_existed }),
                }
            }
            SITE_CREATE_USER => {
                let req = CreateUser {
                    site: Self::target(job, site)?,
                    email: need("email")?,
                    name: need("name")?,
                    role: text(p, "role").unwrap_or("manager").to_owned(),
                };
                let u = driver.create_user(&req).await?;
                Outcome {
                    remote_id: None,
                    progress: u.progress,
                    extra: json!({ "userId": u.remote_id, "alreadyExisted": u.already_existed, "role": req.role }),
                }
            }
            SITE_SUSPEND => {
                let req = SuspendSite {
                    site: Self::target(job, site)?,
                    reason: text(p, "reason")
                        .unwrap_or("suspended by Hostdesk")
                        .to_owned(),
                };
                changed(driver.suspend_site(&req).await?)
            }
            SITE_UNSUSPEND => changed(driver.unsuspend_site(&Self::target(job, site)?).await?),
            SITE_DELETE => changed(driver.delete_site(&Self::target(job, site)?).await?),
            QUOTA_SET => {
                let mb = |k: &str| p.get(k).and_then(Value::as_u64);
                let req = SetQuota {
                    site: Self::target(job, site)?,
                    disk_mb: mb("diskMb"),
                    bandwidth_mb: mb("bandwidthMb"),
                };
                changed(driver.set_quota(&req).await?)
            }
            PACKAGE_CHANGE => {
                let req = ChangePackage {
                    site: Self::target(job, site)?,
                    package: need("package")?,
                };
                changed(driver.change_package(&req).await?)
            }
            SITE_LOGIN_LINK => {
                let req = LoginLinkRequest {
                    site: Self::target(job, site)?,
                    service: text(p, "service").map(str::to_owned),
                };
                let link = driver.login_link(&req).await?;
                let extra = match link.url {
                    Some(url) => {
                        self.links.put(job.id, url);
                        json!({ "link": "held in memory by the runner that ran this job (a one-time link is never stored)" })
                    }
                    None => {
                        json!({ "link": "delivered by the server itself (Aegir login-reset: see the task log or the mail it sends)" })
                    }
                };
                Outcome {
                    remote_id: None,
                    progress: link.progress,
                    extra,
                }
            }
            other => {
                return Err(
                    JobError::fatal(format!("provisioning does not run '{other}' jobs")).into(),
                )
            }
        })
    }

    fn create_request(
        &self,
        job: &JobCtx,
        server: &Server,
        site: Option<&SiteRow>,
    ) -> std::result::Result<CreateSite, JobError> {
        let p = &job.payload;
        let domain = text(p, "domain")
            .or_else(|| text(p, "site"))
            .map(str::to_owned)
            .or_else(|| site.map(|s| s.domain.clone()))
            .ok_or_else(|| JobError::fatal("the job names no domain for the new site"))?;
        let source = match p.get("source").filter(|s| !s.is_null()) {
            Some(s) => serde_json::from_value::<SiteSource>(s.clone()).map_err(|e| {
                JobError::fatal(format!(
                    "the job's payload 'source' is not a site source: {e}"
                ))
            })?,
            None if server.kind == "caddy" => {
                let root = ServerOptions::of(server).sites_root.ok_or_else(|| {
                    JobError::fatal(format!(
                        "Caddy server {} has no sites folder (option sitesRoot) and the job gives no source folder",
                        server.name
                    ))
                })?;
                SiteSource::Folder {
                    root: format!("{}/{domain}", root.trim_end_matches('/')),
                }
            }
            None => {
                let profile = text(p, "profile")
                    .map(str::to_owned)
                    .or_else(|| site.map(|s| s.profile.clone()).filter(|x| !x.is_empty()))
                    .or_else(|| server.profiles.first().cloned())
                    .ok_or_else(|| {
                        JobError::fatal("the job names no install profile for the new site")
                    })?;
                let platform = text(p, "platform")
                    .map(str::to_owned)
                    .or_else(|| site.map(|s| s.platform.clone()).filter(|x| !x.is_empty()));
                SiteSource::Profile {
                    profile,
                    platform,
                    db_server: text(p, "dbServer").map(str::to_owned),
                    language: text(p, "language").map(str::to_owned),
                }
            }
        };
        let owner = match p.get("owner").filter(|o| !o.is_null()) {
            Some(o) => Some(serde_json::from_value::<SiteOwner>(o.clone()).map_err(|e| {
                JobError::fatal(format!(
                    "the job's payload 'owner' needs email and name: {e}"
                ))
            })?),
            None if p.get("handover").and_then(Value::as_bool) == Some(true) => {
                site.map(|s| SiteOwner {
                    email: s.client_email.clone(),
                    name: s.client_name.clone(),
                })
            }
            None => None,
        };
        Ok(CreateSite {
            domain,
            source,
            client: text(p, "client").map(str::to_owned),
            owner,
        })
    }

    fn account_request(
        job: &JobCtx,
        site: Option<&SiteRow>,
    ) -> std::result::Result<CreateClientAccount, JobError> {
        let p = &job.payload;
        let domain = text(p, "domain")
            .or_else(|| text(p, "site"))
            .map(str::to_owned)
            .or_else(|| site.map(|s| s.domain.clone()))
            .ok_or_else(|| JobError::fatal("the job names no domain for the account"))?;
        let username = text(p, "username")
            .map(str::to_owned)
            .unwrap_or_else(|| username_for(&domain));
        let contact_email = text(p, "contactEmail")
            .or_else(|| p.get("owner").and_then(|o| text(o, "email")))
            .map(str::to_owned)
            .or_else(|| site.map(|s| s.client_email.clone()))
            .ok_or_else(|| JobError::fatal("the job's payload has no 'contactEmail'"))?;
        let plan = text(p, "plan")
            .map(str::to_owned)
            .or_else(|| site.map(|s| s.profile.clone()).filter(|x| !x.is_empty()));
        Ok(CreateClientAccount {
            username,
            domain,
            plan,
            contact_email,
            password: None,
        })
    }
}

impl JobHandler for Provisioning {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        Box::pin(self.run_job(job))
    }
}

// ---------------------------------------------------------------------------------------------
// The runner every process uses
// ---------------------------------------------------------------------------------------------

/// A runner with every handler registered: the sandbox's own job kinds (`sandbox.*`) and
/// provisioning. Each server's concurrency limit becomes its per-server limit (an override
/// already in `runner_config` wins). Servers added later get `runner_config.per_server` until
/// the runner is built again.
pub fn build_runner(
    path: &Path,
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    mut runner_config: RunnerConfig,
    config: ProvisioningConfig,
) -> Result<(Runner, Arc<Provisioning>)> {
    let ws = Workspace::open(path, clock)?;
    for (id, n) in store_servers::concurrency_limits(ws.conn())? {
        runner_config.per_server_overrides.entry(id).or_insert(n);
    }
    let delay = config
        .sandbox_delay_ms
        .clone()
        .map_or_else(|| settings::sandbox_delay(&ws), Ok)?;
    drop(ws);
    let mut runner = Runner::new(path, clock, runner_config);
    Sandbox::open(path, clock, delay.clone())?.register(&mut runner);
    crate::access::register(
        &mut runner,
        path,
        clock,
        secrets.clone(),
        &config,
        delay.clone(),
    )?;
    crate::mail::MailSender::open(path, clock, secrets.clone(), Default::default())?
        .register(&mut runner);
    crate::billing::charge::Charges::open(path, clock, secrets.clone(), config.http.clone())?
        .register(&mut runner);
    crate::domains::register(
        &mut runner,
        path,
        clock,
        secrets.clone(),
        &config,
        delay.clone(),
    )?;
    crate::lifecycle::jobs::register(
        &mut runner,
        path,
        clock,
        secrets.clone(),
        &config,
        delay.clone(),
    )?;
    crate::usage::collect::Collector::open(path, clock, secrets.clone(), &config, delay.clone())?
        .register(&mut runner);
    let prov = Provisioning::open(
        path,
        clock,
        secrets,
        ProvisioningConfig {
            sandbox_delay_ms: Some(delay),
            ..config
        },
    )?;
    prov.register(&mut runner);
    Ok((runner, prov))
}

/// The per-server limits as the servers table has them now (to notice a change).
pub fn server_limits(ws: &Workspace) -> Result<HashMap<i64, usize>> {
    Ok(store_servers::concurrency_limits(ws.conn())?)
}

const TERMINAL: &[&str] = &["succeeded", "dead", "cancelled"];

/// How [`run_until_done`] runs.
#[derive(Debug, Clone)]
pub struct WaitOptions {
    /// Stop waiting after this long (the jobs stay queued).
    pub timeout: Duration,
    pub runner: RunnerConfig,
    pub provisioning: ProvisioningConfig,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(120),
            runner: RunnerConfig::default(),
            provisioning: ProvisioningConfig::default(),
        }
    }
}

/// What [`run_until_done`] saw.
#[derive(Debug)]
pub struct Waited {
    pub jobs: Vec<Job>,
    /// The jobs were not all finished when the time ran out.
    pub timed_out: bool,
    /// Another runner (the app) holds the queue: it ran the jobs, and keeps any login link.
    pub other_runner: bool,
    pub login_links: LoginLinks,
}

/// Runs the queue until the given jobs are finished (succeeded, dead or cancelled) or `timeout`
/// passes. If another runner already holds this workspace's queue (the app is open), waits for
/// it to run them instead.
pub async fn run_until_done(
    path: &Path,
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    ids: &[i64],
    options: WaitOptions,
    on_event: impl Fn(RunEvent),
) -> Result<Waited> {
    let WaitOptions {
        timeout,
        runner: runner_config,
        provisioning: config,
    } = options;
    let (runner, prov) = build_runner(path, clock, secrets, runner_config, config)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let watcher = {
        let path = path.to_path_buf();
        let ids = ids.to_vec();
        tokio::spawn(async move { watch_jobs(&path, &ids, timeout, stop_tx).await })
    };
    let mut other_runner = false;
    match runner.run(Until::Stopped(stop_rx), on_event).await {
        Ok(_) => {}
        Err(e) if e.code == ErrorCode::Conflict => other_runner = true,
        Err(e) => {
            watcher.abort();
            return Err(e);
        }
    }
    let timed_out = watcher.await.map_err(|e| {
        AppError::new(ErrorCode::Internal, format!("the job watcher failed: {e}"))
    })??;
    let store = Store::open(path)?;
    let jobs = ids
        .iter()
        .map(|id| store_jobs::get(store.conn(), *id))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Waited {
        jobs,
        timed_out,
        other_runner,
        login_links: prov.login_links(),
    })
}

async fn watch_jobs(
    path: &Path,
    ids: &[i64],
    timeout: Duration,
    stop: watch::Sender<bool>,
) -> Result<bool> {
    let store = Store::open(path)?;
    let start = Instant::now();
    loop {
        let mut all_done = true;
        for id in ids {
            let state: String =
                store
                    .conn()
                    .query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| r.get(0))?;
            if !TERMINAL.contains(&state.as_str()) {
                all_done = false;
                break;
            }
        }
        if all_done || start.elapsed() >= timeout {
            let _ = stop.send(true);
            return Ok(!all_done);
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Site use cases
// ---------------------------------------------------------------------------------------------

/// Which sites to list.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct SiteQuery {
    pub server_id: Option<i64>,
    pub client_id: Option<i64>,
    /// queued, active, disabled or deleted.
    pub status: Option<String>,
    pub offset: i64,
    pub limit: Option<i64>,
}

pub fn list_sites(ws: &Workspace, q: &SiteQuery) -> Result<Vec<SiteRow>> {
    if let Some(s) = q.status.as_deref() {
        if !["queued", "active", "disabled", "deleted"].contains(&s) {
            return Err(AppError::invalid(
                "status",
                format!("'{s}' is not one of: queued, active, disabled, deleted"),
            ));
        }
    }
    Ok(store_servers::list_sites(
        ws.conn(),
        &SiteFilter {
            server_id: q.server_id,
            client_id: q.client_id,
            status: q.status.as_deref(),
            offset: q.offset.max(0),
            limit: q.limit.unwrap_or(100).clamp(1, 1000),
        },
    )?)
}

/// A site by id (digits) or domain.
pub fn find_site(ws: &Workspace, key: &str) -> Result<SiteRow> {
    let key = key.trim();
    if let Ok(id) = key.parse::<i64>() {
        return Ok(store_servers::get_site(ws.conn(), id)?);
    }
    let domain = hostdesk_core::validate::domain(key).map_err(|m| AppError::invalid("site", m))?;
    store_servers::find_site_by_domain(ws.conn(), &domain)?.ok_or_else(|| {
        AppError::new(
            ErrorCode::NotFound,
            format!("no site with the domain {domain}"),
        )
    })
}

/// What staff ask of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum SiteAction {
    /// Create it on its server (install from its profile, serve its folder, or a WHM account).
    Create,
    Suspend {
        reason: Option<String>,
    },
    Unsuspend,
    Delete,
    /// A one-time login link for the client (WHM: `service` such as cpaneld).
    LoginLink {
        service: Option<String>,
    },
    /// The client's own user with a role (e.g. manager): never uid 1.
    CreateUser {
        email: String,
        name: String,
        role: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    SetQuota {
        disk_mb: Option<u64>,
        bandwidth_mb: Option<u64>,
    },
    ChangePackage {
        package: String,
    },
}

impl SiteAction {
    pub fn kind(&self) -> &'static str {
        match self {
            SiteAction::Create => SITE_CREATE,
            SiteAction::Suspend { .. } => SITE_SUSPEND,
            SiteAction::Unsuspend => SITE_UNSUSPEND,
            SiteAction::Delete => SITE_DELETE,
            SiteAction::LoginLink { .. } => SITE_LOGIN_LINK,
            SiteAction::CreateUser { .. } => SITE_CREATE_USER,
            SiteAction::SetQuota { .. } => QUOTA_SET,
            SiteAction::ChangePackage { .. } => PACKAGE_CHANGE,
        }
    }

    pub(crate) fn payload(&self, site: &SiteRow) -> Value {
        let mut p = match self {
            SiteAction::Suspend { reason } => json!({ "reason": reason }),
            SiteAction::LoginLink { service } => json!({ "service": service }),
            SiteAction::CreateUser { email, name, role } => {
                json!({ "email": email, "name": name, "role": role.as_deref().unwrap_or("manager") })
            }
            SiteAction::SetQuota {
                disk_mb,
                bandwidth_mb,
            } => json!({ "diskMb": disk_mb, "bandwidthMb": bandwidth_mb }),
            SiteAction::ChangePackage { package } => json!({ "package": package }),
            SiteAction::Create | SiteAction::Unsuspend | SiteAction::Delete => json!({}),
        };
        p["siteId"] = json!(site.id);
        p["site"] = json!(site.domain);
        p
    }
}

/// Places a site on a server (before it is created there).
pub fn place_site(ws: &mut Workspace, site_id: i64, server_id: i64) -> Result<SiteRow> {
    let server = store_servers::get(ws.conn(), server_id)?;
    let before = store_servers::get_site(ws.conn(), site_id)?;
    if before.server_id.is_some_and(|s| s != server_id) && before.status != "queued" {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "site {} already lives on {}: moving a site between servers is not supported",
                before.domain,
                before.server_name.as_deref().unwrap_or("another server")
            ),
        ));
    }
    ws.write(|tx, ctx| {
        store_servers::set_site_server(tx, site_id, server_id, &ctx.at)?;
        ctx.audit(
            tx,
            "site",
            Some(site_id),
            "place",
            before.server_name.as_ref(),
            Some(&server.name),
        )?;
        Ok(store_servers::get_site(tx, site_id)?)
    })
}

/// Queues an action on a site; returns the job id. Asking again while the same action is the
/// site's newest unfinished job returns that job; otherwise the new job runs after the site's
/// unfinished jobs (unsuspend never overtakes suspend).
pub fn enqueue_site_action(ws: &mut Workspace, site_id: i64, action: &SiteAction) -> Result<i64> {
    ws.write(|tx, ctx| queue_site_action(tx, ctx, site_id, action))
}

/// [`enqueue_site_action`] in the caller's transaction (an order's chain, dunning).
pub(crate) fn queue_site_action(
    tx: &Connection,
    ctx: &crate::Ctx,
    site_id: i64,
    action: &SiteAction,
) -> Result<i64> {
    let site = store_servers::get_site(tx, site_id)?;
    let (Some(server_id), Some(server_name), Some(server_kind)) = (
        site.server_id,
        site.server_name.clone(),
        site.server_kind.clone(),
    ) else {
        return Err(AppError::invalid(
            "site",
            format!("site {} is not placed on a server yet", site.domain),
        ));
    };
    let kind = action.kind();
    if !can_run(&server_kind, kind) {
        return Err(AppError::invalid(
            "action",
            format!("server {server_name} ({server_kind}) cannot run {kind} on a site"),
        ));
    }
    if site.status == "deleted" && !matches!(action, SiteAction::Create | SiteAction::Delete) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("site {} is deleted", site.domain),
        ));
    }
    match action {
        SiteAction::CreateUser { email, name, .. } => {
            hostdesk_core::validate::email(email).map_err(|m| AppError::invalid("email", m))?;
            if name.trim().is_empty() {
                return Err(AppError::invalid("name", "is required"));
            }
        }
        SiteAction::ChangePackage { package } if package.trim().is_empty() => {
            return Err(AppError::invalid("package", "is required"))
        }
        SiteAction::SetQuota {
            disk_mb: None,
            bandwidth_mb: None,
        } => {
            return Err(AppError::invalid(
                "quota",
                "give a disk or a bandwidth quota",
            ))
        }
        _ => {}
    }
    let pending = store_servers::pending_site_jobs(tx, site_id)?;
    if let Some((id, k)) = pending.last() {
        if k == kind && !matches!(action, SiteAction::LoginLink { .. }) {
            return Ok(*id);
        }
    }
    let last = store_servers::last_site_job(tx, site_id)?;
    let key = match action {
        // Every request is a fresh link.
        SiteAction::LoginLink { .. } => format!("site:{site_id}:{kind}:{}", ctx.at_ms),
        _ => format!("site:{site_id}:{kind}:after:{last}"),
    };
    jobs::enqueue_in(
        tx,
        ctx,
        &JobSpec {
            kind: kind.into(),
            key,
            server_id: Some(server_id),
            subscription_id: Some(site.subscription_id),
            site_id: Some(site_id),
            payload: action.payload(&site),
            max_attempts: None,
            after: pending.iter().map(|(id, _)| *id).collect(),
        },
    )
}

/// Queues the creation of a client account on a server (WHM `createacct`).
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct AccountRequest {
    pub server_id: i64,
    /// Derived from the domain when empty.
    pub username: Option<String>,
    pub domain: String,
    pub plan: Option<String>,
    pub contact_email: String,
    pub subscription_id: Option<i64>,
}

pub fn enqueue_account(ws: &mut Workspace, req: &AccountRequest) -> Result<i64> {
    let server = store_servers::get(ws.conn(), req.server_id)?;
    if !can_run(&server.kind, ACCOUNT_CREATE) {
        return Err(AppError::invalid(
            "serverId",
            format!(
                "server {} ({}) has no client accounts",
                server.name, server.kind
            ),
        ));
    }
    let domain =
        hostdesk_core::validate::domain(&req.domain).map_err(|m| AppError::invalid("domain", m))?;
    let email = hostdesk_core::validate::email(&req.contact_email)
        .map_err(|m| AppError::invalid("contactEmail", m))?;
    let username = req
        .username
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| username_for(&domain));
    jobs::enqueue(
        ws,
        &JobSpec {
            kind: ACCOUNT_CREATE.into(),
            key: format!("account:{}:{username}", server.id),
            server_id: Some(server.id),
            subscription_id: req.subscription_id,
            payload: json!({
                "username": username, "domain": domain, "plan": req.plan, "contactEmail": email
            }),
            ..Default::default()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_user_names_fit_whm() {
        let u = username_for("shop.example.com");
        assert!(u.starts_with("shop") && u.len() == 8, "{u}");
        let v = username_for("42-Very-Long-Name-Here.example.com");
        assert!(v.starts_with('v') && v.len() <= 16, "{v}");
        assert!(v
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_eq!(username_for("1.example.com").get(..4), Some("site"));
        assert_ne!(username_for("a.example.com"), username_for("a.example.net"));
    }

    #[test]
    fn capabilities_per_kind() {
        assert!(can_run("whm", SITE_CREATE));
        assert!(can_run("whm", QUOTA_SET));
        assert!(!can_run("caddy", QUOTA_SET));
        assert!(can_run("caddy", SITE_SUSPEND));
        assert!(can_run("aegir", SITE_LOGIN_LINK));
        assert!(!can_run("aegir", ACCOUNT_CREATE));
        assert!(can_run("sandbox", SITE_CREATE_USER));
        assert!(!can_run("nope", SITE_CREATE));
    }

    #[test]
    fn login_links_are_handed_out_once() {
        let l = LoginLinks::default();
        l.put(7, Secret::new("https://x/session"));
        assert_eq!(format!("{l:?}"), "LoginLinks(<redacted>)");
        assert_eq!(l.take(7).unwrap().expose(), "https://x/session");
        assert!(l.take(7).is_none());
    }
}
