//! [`HostingDriver`]: what the job runner asks of a hosting server.

use std::fmt;

use async_trait::async_trait;

use crate::error::RemoteError;
use crate::types::*;

/// A hosting server's driver. Object-safe (`Arc<dyn HostingDriver>`), `Send + Sync`, every
/// future `Send` (through `async_trait`).
///
/// Each call makes the request(s) once: retrying is the job queue's business (see
/// [`RemoteError::is_retryable`]). Every operation is written so that calling it again after a
/// lost reply or a crash does not repeat the effect:
///
/// | operation | idempotency |
/// |---|---|
/// | `create_client_account` | looks the user name up first; an existing account with the same domain is "already existed" (a different domain is an error) |
/// | `create_site` | looks the site up first (Aegir site record, Caddy route id); an existing, not deleted site is "already existed" and, if still queued, returned as pending |
/// | `suspend_site` / `unsuspend_site` | reads the state first; already in the wanted state sends nothing |
/// | `delete_site` | "already gone" is success |
/// | `change_package` / `set_quota` | set absolute values: repeating is harmless |
/// | `backup` | not reconcilable (Aegir does not return a backup id): a retry may make a second backup |
/// | `backup_delete` | a backup the server no longer lists is "already gone" |
/// | `restore` / `login_link` | repeating is harmless (restores the same backup / a fresh link) |
/// | `list_backups` | read-only |
/// | `set_certificate` | sets an absolute setting: repeating is harmless (WHM starts one more AutoSSL check) |
/// | `list_sites` / `usage` / `test_connection` | read-only |
///
/// Remote ids come back in the results (`remote_id`, `TaskRef::task_id`) as soon as the server
/// gives them; pass them back in [`SiteTarget::remote_id`] on later calls.
///
/// Operations a driver cannot do return [`RemoteError::NotSupported`] (the default bodies);
/// [`HostingDriver::capabilities`] lists the others.
#[async_trait]
pub trait HostingDriver: Send + Sync + fmt::Debug {
    fn kind(&self) -> DriverKind;

    fn capabilities(&self) -> Capabilities;

    /// The resources this driver measures and enforces (none by default).
    fn resources(&self) -> ResourceSupport {
        ResourceSupport::default()
    }

    /// Checks the address and credentials with a read-only call.
    async fn test_connection(&self) -> Result<ServerInfo, RemoteError>;

    /// The site with this name, if the server has it (deleted ones included, as `Deleted`).
    async fn find_site(&self, name: &str) -> Result<Option<SiteSummary>, RemoteError>;

    async fn list_sites(&self) -> Result<Vec<SiteSummary>, RemoteError> {
        Err(RemoteError::NotSupported(Operation::ListSites))
    }

    async fn create_client_account(
        &self,
        _req: &CreateClientAccount,
    ) -> Result<AccountCreated, RemoteError> {
        Err(RemoteError::NotSupported(Operation::CreateClientAccount))
    }

    /// Creates a site from a profile, a template or a folder (whichever the driver supports).
    async fn create_site(&self, req: &CreateSite) -> Result<SiteCreated, RemoteError>;

    async fn create_user(&self, _req: &CreateUser) -> Result<UserCreated, RemoteError> {
        Err(RemoteError::NotSupported(Operation::CreateUser))
    }

    async fn suspend_site(&self, _req: &SuspendSite) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::SuspendSite))
    }

    async fn unsuspend_site(&self, _site: &SiteTarget) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::UnsuspendSite))
    }

    async fn delete_site(&self, _site: &SiteTarget) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::DeleteSite))
    }

    async fn change_package(&self, _req: &ChangePackage) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::ChangePackage))
    }

    async fn set_quota(&self, _req: &SetQuota) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::SetQuota))
    }

    async fn backup(&self, _req: &BackupRequest) -> Result<BackupStarted, RemoteError> {
        Err(RemoteError::NotSupported(Operation::Backup))
    }

    async fn restore(&self, _req: &RestoreRequest) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::Restore))
    }

    /// Deletes one backup of a site (a driver that backs up can delete its backups).
    async fn backup_delete(&self, _req: &BackupDeleteRequest) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::Backup))
    }

    /// The site's backups on the server. `Ok(None)`: this server does not list them (its
    /// backups can be made, but their ids are not known to Hostdesk).
    async fn list_backups(
        &self,
        _site: &SiteTarget,
    ) -> Result<Option<Vec<BackupInfo>>, RemoteError> {
        Err(RemoteError::NotSupported(Operation::Backup))
    }

    /// Sets how the site gets its certificate through the server's own SSL API.
    async fn set_certificate(&self, _req: &SetCertificate) -> Result<Changed, RemoteError> {
        Err(RemoteError::NotSupported(Operation::Certificate))
    }

    async fn login_link(&self, _req: &LoginLinkRequest) -> Result<LoginLink, RemoteError> {
        Err(RemoteError::NotSupported(Operation::LoginLink))
    }

    async fn usage(&self, _req: &UsageRequest) -> Result<Usage, RemoteError> {
        Err(RemoteError::NotSupported(Operation::Usage))
    }

    /// One look at an asynchronous task. Synchronous drivers never return `Pending`, so they
    /// keep this default.
    async fn task_state(&self, task: &TaskRef) -> Result<TaskState, RemoteError> {
        Err(RemoteError::InvalidRequest(format!(
            "{} has no asynchronous tasks (task {:?})",
            self.kind(),
            task.task_id
        )))
    }

    /// Polls a task until it ends, within the driver's poll timeout. `Ok` with `Succeeded` or
    /// `Warning` when the effect is in place; a failed task is [`RemoteError::Remote`]; a task
    /// still running at the deadline is [`RemoteError::Timeout`] (retryable: wait again later).
    async fn wait_task(&self, task: &TaskRef) -> Result<TaskState, RemoteError> {
        match self.task_state(task).await? {
            TaskState::Failed { reason } => Err(RemoteError::Remote { reason }),
            other => Ok(other),
        }
    }
}
