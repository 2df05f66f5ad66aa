//! The typed requests and results of [`crate::HostingDriver`].
//!
//! Requests and results derive `Serialize`/`Deserialize` so the job queue can keep them in its
//! table, except where a [`Secret`] lives: that field is skipped (it is read from the keyring
//! when the job runs, never stored).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Which protocol a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverKind {
    /// Aegir with hosting_saas (Services 3 REST).
    Aegir,
    /// cPanel WHM API 1.
    Whm,
    /// Caddy's admin API (static sites).
    Caddy,
}

impl fmt::Display for DriverKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriverKind::Aegir => "aegir",
            DriverKind::Whm => "whm",
            DriverKind::Caddy => "caddy",
        })
    }
}

/// One thing a driver may be able to do; [`Capabilities`] lists those it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    CreateClientAccount,
    /// Create a site from an install profile ([`SiteSource::Profile`]).
    InstallSite,
    /// Create a site by cloning a template site ([`SiteSource::Clone`]).
    CloneSite,
    /// Create a site that serves a folder ([`SiteSource::Folder`]).
    FolderSite,
    /// The client's own user can be created as part of the site's creation
    /// ([`CreateSite::owner`], Aegir's handover).
    OwnerOnCreate,
    /// Create the client's own user on an existing site.
    CreateUser,
    SuspendSite,
    UnsuspendSite,
    DeleteSite,
    ChangePackage,
    SetQuota,
    Backup,
    Restore,
    LoginLink,
    ListSites,
    Usage,
    /// Set how a site gets its certificate (none, the server's automatic certificates, or an
    /// uploaded bundle) through the server's own SSL API ([`SetCertificate`]).
    Certificate,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::CreateClientAccount => "create a client account",
            Operation::InstallSite => "install a site from a profile",
            Operation::CloneSite => "clone a site from a template",
            Operation::FolderSite => "serve a site from a folder",
            Operation::OwnerOnCreate => "create the client's user with the site",
            Operation::CreateUser => "create a user on a site",
            Operation::SuspendSite => "suspend a site",
            Operation::UnsuspendSite => "re-enable a site",
            Operation::DeleteSite => "delete a site",
            Operation::ChangePackage => "change the package",
            Operation::SetQuota => "set quotas",
            Operation::Backup => "back up a site",
            Operation::Restore => "restore a backup",
            Operation::LoginLink => "give a login link",
            Operation::ListSites => "list sites",
            Operation::Usage => "report usage",
            Operation::Certificate => "set a site's certificate",
        })
    }
}

/// The operations a driver supports, so the UI offers only those.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    pub operations: BTreeSet<Operation>,
}

impl Capabilities {
    pub fn new(ops: impl IntoIterator<Item = Operation>) -> Self {
        Capabilities {
            operations: ops.into_iter().collect(),
        }
    }

    pub fn supports(&self, op: Operation) -> bool {
        self.operations.contains(&op)
    }
}

/// What a driver can measure and enforce, per resource (the quota system's declared
/// resources): WHM measures and enforces disk and bandwidth (accountsummary / showbw,
/// editquota / limitbw); Aegir counts sites; Caddy counts its sites and measures the bytes it
/// served from its access log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ResourceSupport {
    /// Collected by `usage` (disk, bandwidth) or by listing the server's sites (sites).
    pub measures: Vec<hostdesk_core::catalog::Resource>,
    /// Pushed by `set_quota`.
    pub enforces: Vec<hostdesk_core::catalog::Resource>,
}

impl ResourceSupport {
    pub fn measures(&self, r: hostdesk_core::catalog::Resource) -> bool {
        self.measures.contains(&r)
    }

    pub fn enforces(&self, r: hostdesk_core::catalog::Resource) -> bool {
        self.enforces.contains(&r)
    }
}

/// What [`crate::HostingDriver::test_connection`] learnt about the server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The server software's version when the API tells it.
    pub version: Option<String>,
    /// Sites (accounts for WHM, routes for Caddy) that are not deleted.
    pub sites: u64,
    /// Install profiles (Aegir); empty where the notion does not exist.
    pub profiles: Vec<String>,
}

/// Names a site on a server: its name (the domain) and, once known, the remote id the server
/// gave it (Aegir node id, WHM user name, Caddy route `@id`). Drivers use the remote id when
/// present and look the name up otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteTarget {
    pub name: String,
    pub remote_id: Option<String>,
}

impl SiteTarget {
    pub fn named(name: impl Into<String>) -> Self {
        SiteTarget {
            name: name.into(),
            remote_id: None,
        }
    }

    pub fn with_id(name: impl Into<String>, remote_id: impl Into<String>) -> Self {
        SiteTarget {
            name: name.into(),
            remote_id: Some(remote_id.into()),
        }
    }
}

/// The state of a site on its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteStatus {
    /// Serving (Aegir `site_status` 1).
    Active,
    /// Being created (Aegir 0).
    Queued,
    /// Disabled / suspended (Aegir -1, WHM suspended).
    Suspended,
    /// Deleted (Aegir -2); WHM and Caddy forget deleted sites.
    Deleted,
}

/// One site as a server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSummary {
    pub name: String,
    pub remote_id: Option<String>,
    pub status: SiteStatus,
    /// Aegir profile, WHM plan; `None` for Caddy.
    pub plan: Option<String>,
    /// Aegir client, WHM contact e-mail; `None` for Caddy.
    pub client: Option<String>,
}

/// Create the client's account (WHM `createacct`): the account is the client's own login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateClientAccount {
    /// The account's user name on the server (WHM: at most 16 lower-case letters and digits).
    pub username: String,
    /// The account's main domain.
    pub domain: String,
    /// The server-side package (WHM plan).
    pub plan: Option<String>,
    pub contact_email: String,
    /// The account's initial password. Never stored: the queue fills it when the job runs.
    /// `None` lets the server choose (the client then uses a login link).
    #[serde(skip)]
    pub password: Option<Secret>,
}

/// The result of [`crate::HostingDriver::create_client_account`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCreated {
    /// The account's id on the server (WHM user name).
    pub remote_id: String,
    /// True when the account was already there (a retry after a lost reply).
    pub already_existed: bool,
}

/// Where a new site comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SiteSource {
    /// Install from a profile (Aegir `install`).
    Profile {
        profile: String,
        platform: Option<String>,
        db_server: Option<String>,
        language: Option<String>,
    },
    /// Clone a template site (Aegir `clone`); an empty template lets the server use its default.
    Clone {
        template: String,
        platform: Option<String>,
        db_server: Option<String>,
    },
    /// Serve a folder that already holds the site's files (Caddy).
    Folder { root: String },
}

/// The client's own user, created with the site (Aegir handover) or afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteOwner {
    pub email: String,
    pub name: String,
}

/// Create a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSite {
    /// The site's domain (Aegir: must end in the server's master domain).
    pub domain: String,
    pub source: SiteSource,
    /// The client the site belongs to on the server (Aegir `options[client]`).
    pub client: Option<String>,
    /// Hand the site over to this person (Aegir `options[client_email]`, `options[client_name]`:
    /// the site creates that user with the role the server is configured for, never uid 1).
    pub owner: Option<SiteOwner>,
}

/// Where an operation stands when the call returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Progress {
    /// The effect is in place.
    Done,
    /// The server accepted the work and runs it asynchronously: save the task reference and
    /// wait with [`crate::HostingDriver::wait_task`] (or ask again with `task_state`).
    Pending { task: TaskRef },
}

/// An asynchronous remote task (Aegir) to wait for. Serializable: the queue keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    /// The task's remote id (Aegir task node id), when the server gave one.
    pub task_id: Option<String>,
    /// The task type (`install`, `disable`, ...).
    pub task_type: String,
    /// The site the task works on.
    pub site: String,
    /// The site state that means "done" when the task itself cannot be read.
    pub expect: Option<SiteStatus>,
}

/// The state of a remote task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskState {
    Queued,
    Processing,
    Succeeded,
    /// Finished with warnings (Aegir `task_status` 3): the effect is in place.
    Warning {
        detail: String,
    },
    Failed {
        reason: String,
    },
}

/// The result of [`crate::HostingDriver::create_site`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteCreated {
    pub site: String,
    /// The site's remote id (Aegir site node id, WHM user, Caddy route id) as soon as known.
    pub remote_id: Option<String>,
    /// True when the site was already there (a retry after a lost reply or a crash).
    pub already_existed: bool,
    pub progress: Progress,
}

/// Create the client's own user on a site, with a role (e.g. "manager"). Never uid 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUser {
    pub site: SiteTarget,
    pub email: String,
    pub name: String,
    pub role: String,
}

/// The result of [`crate::HostingDriver::create_user`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub remote_id: Option<String>,
    pub already_existed: bool,
    pub progress: Progress,
}

/// Suspend a site (overdue account, abuse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspendSite {
    pub site: SiteTarget,
    /// Shown to the server's admins (WHM suspension reason).
    pub reason: String,
}

/// The result of an operation that changes a site's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// True when the site already was in the wanted state (nothing was sent).
    pub already: bool,
    pub progress: Progress,
}

/// How a site gets its certificate on its server.
#[derive(Debug, Clone)]
pub enum CertificateSetting {
    /// No HTTPS from the server (Aegir `https_enabled` 0; WHM: AutoSSL off for the account).
    Off,
    /// The server's own automatic certificates (Aegir hosting_https with its certificate
    /// service, HTTPS required; WHM AutoSSL on and a check started).
    Automatic,
    /// A certificate the reseller bought: the chain (leaf first, PEM) and its private key.
    Bundled {
        certificate_pem: String,
        key_pem: crate::secret::Secret,
    },
}

/// Set a site's certificate ([`HostingDriver::set_certificate`](crate::HostingDriver)).
#[derive(Debug, Clone)]
pub struct SetCertificate {
    pub site: SiteTarget,
    pub setting: CertificateSetting,
}

/// Move an account to another server-side package (WHM `changepackage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangePackage {
    pub site: SiteTarget,
    pub package: String,
}

/// Set quotas in megabytes; `None` leaves one as it is, `Some(0)` means unlimited (WHM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetQuota {
    pub site: SiteTarget,
    pub disk_mb: Option<u64>,
    pub bandwidth_mb: Option<u64>,
}

/// Back up a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRequest {
    pub site: SiteTarget,
    pub description: String,
}

/// The result of [`crate::HostingDriver::backup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupStarted {
    /// The backup's id when the server tells it at once (Aegir does not: list the site's
    /// backups on the server).
    pub backup_id: Option<String>,
    pub progress: Progress,
}

/// Delete one backup of a site from the server (Aegir `backup-delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupDeleteRequest {
    pub site: SiteTarget,
    /// The backup's id (Aegir `bid`).
    pub backup_id: String,
}

/// One backup of a site as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupInfo {
    /// The server's id of the backup (Aegir `bid`).
    pub backup_id: String,
    /// The description given when it was asked for (Hostdesk finds its own backups by it).
    pub description: String,
    /// When it was taken (Unix seconds), when the server says.
    pub taken_at: Option<i64>,
    pub size_bytes: Option<u64>,
}

/// Restore a site from one of its backups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRequest {
    pub site: SiteTarget,
    /// The backup's id (Aegir `bid`).
    pub backup_id: String,
}

/// Ask for a one-time login link for the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginLinkRequest {
    pub site: SiteTarget,
    /// WHM: the service (`cpaneld` by default, `webmaild`, `whostmgrd`).
    pub service: Option<String>,
}

/// A one-time login link. The URL carries a session token: it is a [`Secret`], so this type
/// is not serializable and prints redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLink {
    /// `None` when the server delivers the link itself (Aegir `login-reset`: the link is in the
    /// task's log on the server).
    pub url: Option<Secret>,
    pub progress: Progress,
}

/// Ask for a site's usage in a calendar month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRequest {
    pub site: SiteTarget,
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

/// Usage of a site in a month; a measure the server does not give is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub site: String,
    pub year: i32,
    pub month: u32,
    pub disk_used_mb: Option<u64>,
    pub disk_limit_mb: Option<u64>,
    pub bandwidth_bytes: Option<u64>,
    pub bandwidth_limit_bytes: Option<u64>,
}
