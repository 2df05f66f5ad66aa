//! The backup job handler: `site.backup`, `site.backup_delete` and `site.restore`, through the
//! site's server driver (`backup`, `backup_delete`, `restore`, `list_backups`).
//!
//! Every job names its backup row (`backupId` in the payload) and its site.
//!
//! - `site.backup`: before asking, looks for a backup with the row's description on the server
//!   (a retry after a lost reply or a crash finds the one it made instead of making a second);
//!   asks; saves the remote task at once and waits for it (a retry waits for the same task);
//!   then finds the backup's id by its description (Aegir returns none) and records it on the
//!   row (`done`, with when it was taken and its size).
//! - `site.backup_delete`: deletes it on the server ("already gone" is success); the row becomes
//!   `deleted`.
//! - `site.restore`: restores the site from it.
//!
//! A remote task still running when the driver stops polling ends the attempt with a retry
//! that does not use up an attempt; the next attempt waits for the saved task.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hostdesk_remote::{
    BackupDeleteRequest, BackupInfo, BackupRequest, HostingDriver, Operation, Progress,
    RemoteError, RestoreRequest, SiteTarget, TaskRef,
};
use hostdesk_store::backups::{self as store_backups, BackupRow};
use hostdesk_store::servers::{self as store_servers, Server, SiteRow};
use hostdesk_store::{Connection, Store, StoreError};
use serde_json::{json, Value};

use crate::job_env::JobEnv;
use crate::provisioning::ProvisioningConfig;
use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::secrets::SecretStore;
use crate::{Clock, Result};

pub const SITE_BACKUP: &str = "site.backup";
pub const SITE_BACKUP_DELETE: &str = "site.backup_delete";
pub const SITE_RESTORE: &str = "site.restore";
pub const KINDS: &[&str] = &[SITE_BACKUP, SITE_BACKUP_DELETE, SITE_RESTORE];

fn remote_err(server: &Server, e: &RemoteError) -> JobError {
    JobError {
        message: format!("{} [{}]: {e}", server.name, e.code()),
        retryable: e.is_retryable(),
    }
}

/// A Unix time as stored (RFC 3339 UTC).
fn stamp_of(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Runs the backup job kinds. One per runner.
pub struct BackupJobs {
    env: JobEnv,
    store: Arc<Mutex<Store>>,
}

struct Loaded {
    backup: BackupRow,
    site: SiteRow,
    server: Server,
}

impl BackupJobs {
    pub fn open(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        config: &ProvisioningConfig,
        sandbox_delay: Range<u64>,
    ) -> Result<Arc<BackupJobs>> {
        Ok(Arc::new(BackupJobs {
            env: JobEnv::new(path, clock, secrets, config, sandbox_delay),
            store: Arc::new(Mutex::new(Store::open(path)?)),
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        for k in KINDS {
            runner.handle(k, self.clone());
        }
    }

    /// Database work on the blocking pool (a write may wait for SQLite's lock).
    async fn db<T, F>(&self, f: F) -> std::result::Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        crate::blocking::on_store(&self.store, f).await
    }

    async fn load(&self, job: &JobCtx) -> std::result::Result<Loaded, JobError> {
        let backup_id = job
            .payload
            .get("backupId")
            .and_then(Value::as_i64)
            .ok_or_else(|| JobError::fatal("the job's payload has no 'backupId'"))?;
        let job_server = job.server_id;
        let loaded = self
            .db(move |c| {
                let backup = match store_backups::get(c, backup_id) {
                    Ok(b) => b,
                    Err(StoreError::NotFound { .. }) => {
                        return Ok(Err(format!("backup {backup_id} no longer exists")))
                    }
                    Err(e) => return Err(e),
                };
                let site = store_servers::get_site(c, backup.site_id)?;
                let Some(server_id) = job_server.or(site.server_id) else {
                    return Ok(Err(format!(
                        "site {} is not placed on a server",
                        site.domain
                    )));
                };
                match store_servers::get(c, server_id) {
                    Ok(server) => Ok(Ok(Loaded {
                        backup,
                        site,
                        server,
                    })),
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
        self.env.driver(server)
    }

    async fn run_job(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        let l = self.load(job).await?;
        let driver = self.driver(&l.server)?;
        let op = if job.kind == SITE_RESTORE {
            Operation::Restore
        } else {
            Operation::Backup
        };
        if !driver.capabilities().supports(op) {
            return Err(JobError::fatal(format!(
                "server {} ({}) cannot {op}",
                l.server.name, l.server.kind
            )));
        }
        let target = SiteTarget {
            name: l.site.domain.clone(),
            remote_id: l.site.remote_id.clone(),
        };
        let mut result = match job.kind.as_str() {
            SITE_BACKUP => self.backup(job, &l, &target, driver.as_ref()).await?,
            SITE_BACKUP_DELETE => self.delete(job, &l, &target, driver.as_ref()).await?,
            SITE_RESTORE => self.restore(job, &l, &target, driver.as_ref()).await?,
            other => {
                return Err(JobError::fatal(format!(
                    "the backup handler does not run '{other}' jobs"
                )))
            }
        };
        result["backupId"] = json!(l.backup.id);
        result["site"] = json!(l.site.domain);
        result["server"] = json!(l.server.name);
        result["task"] = Value::Null;
        if l.server.kind == "sandbox" {
            result["simulated"] = Value::Bool(true);
        }
        Ok(result)
    }

    /// Waits for a remote task the job saved (or has just saved).
    async fn wait(
        &self,
        job: &JobCtx,
        server: &Server,
        driver: &dyn HostingDriver,
        task: &TaskRef,
    ) -> std::result::Result<(), JobError> {
        match driver.wait_task(task).await {
            Ok(_) => Ok(()),
            Err(RemoteError::Remote { reason }) => {
                // A staff retry starts the work again rather than re-reading this task.
                job.save(json!({ "task": null })).await?;
                Err(JobError::fatal(format!("{}: {reason}", server.name)))
            }
            Err(e @ RemoteError::Timeout { .. }) => {
                let id = job.id;
                self.db(move |c| store_servers::grant_extra_attempt(c, id))
                    .await?;
                Err(JobError::retry(format!(
                    "waiting: {e}; the next attempt looks again (waiting does not use up attempts)"
                )))
            }
            Err(e) => Err(remote_err(server, &e)),
        }
    }

    fn saved_task(job: &JobCtx) -> Option<TaskRef> {
        job.result
            .get("task")
            .filter(|t| !t.is_null())
            .and_then(|t| serde_json::from_value(t.clone()).ok())
    }

    /// The server's list of the site's backups; None when it keeps none Hostdesk can read.
    async fn listed(
        &self,
        server: &Server,
        driver: &dyn HostingDriver,
        target: &SiteTarget,
    ) -> std::result::Result<Option<Vec<BackupInfo>>, JobError> {
        match driver.list_backups(target).await {
            Ok(list) => Ok(list),
            Err(RemoteError::NotSupported(_)) => Ok(None),
            Err(e) => Err(remote_err(server, &e)),
        }
    }

    async fn backup(
        &self,
        job: &JobCtx,
        l: &Loaded,
        target: &SiteTarget,
        driver: &dyn HostingDriver,
    ) -> std::result::Result<Value, JobError> {
        let b = &l.backup;
        if b.state == "done" {
            return Ok(json!({ "remoteId": b.remote_id, "already": true }));
        }
        if b.state == "deleting" || b.state == "deleted" {
            return Err(JobError::fatal(format!("backup {} is {}", b.id, b.state)));
        }
        let mut remote_id = job
            .result
            .get("remoteId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut found: Option<BackupInfo> = None;
        let mut already = false;
        match Self::saved_task(job) {
            Some(task) => self.wait(job, &l.server, driver, &task).await?,
            None if remote_id.is_some() => {}
            None => {
                // An earlier attempt may have made it (a lost reply, a crash): find it first.
                if let Some(list) = self.listed(&l.server, driver, target).await? {
                    found = list.into_iter().find(|x| x.description == b.description);
                }
                if found.is_some() {
                    already = true;
                } else {
                    let started = driver
                        .backup(&BackupRequest {
                            site: target.clone(),
                            description: b.description.clone(),
                        })
                        .await
                        .map_err(|e| remote_err(&l.server, &e))?;
                    let mut patch = serde_json::Map::new();
                    if let Some(id) = &started.backup_id {
                        patch.insert("remoteId".into(), json!(id));
                        remote_id = Some(id.clone());
                    }
                    if let Progress::Pending { task } = &started.progress {
                        patch.insert("task".into(), json!(task));
                    }
                    if !patch.is_empty() {
                        job.save(Value::Object(patch)).await?;
                    }
                    if let Progress::Pending { task } = started.progress {
                        self.wait(job, &l.server, driver, &task).await?;
                    }
                }
            }
        }
        if found.is_none() {
            if let Some(list) = self.listed(&l.server, driver, target).await? {
                found = list.into_iter().find(|x| {
                    x.description == b.description
                        || remote_id.as_deref() == Some(x.backup_id.as_str())
                });
            }
        }
        let now = self.env.clock.stamp();
        let (rid, taken, size) = match &found {
            Some(f) => (
                Some(f.backup_id.clone()),
                f.taken_at.and_then(stamp_of).unwrap_or_else(|| now.clone()),
                f.size_bytes.and_then(|s| i64::try_from(s).ok()),
            ),
            None => (remote_id.clone(), now.clone(), None),
        };
        let (id, rid2, taken2) = (b.id, rid.clone(), taken.clone());
        self.db(move |c| store_backups::mark_done(c, id, rid2.as_deref(), &taken2, size, &now))
            .await?;
        Ok(json!({
            "remoteId": rid,
            "takenAt": taken,
            "already": already,
            "note": if rid.is_none() {
                Value::String("the server does not list its backups: this backup cannot be restored or pruned from Hostdesk".into())
            } else {
                Value::Null
            },
        }))
    }

    async fn delete(
        &self,
        job: &JobCtx,
        l: &Loaded,
        target: &SiteTarget,
        driver: &dyn HostingDriver,
    ) -> std::result::Result<Value, JobError> {
        let b = &l.backup;
        if b.state == "deleted" {
            return Ok(json!({ "already": true }));
        }
        let Some(remote_id) = b.remote_id.clone() else {
            return Err(JobError::fatal(format!(
                "backup {} has no id on the server: delete it there by hand",
                b.id
            )));
        };
        let already = match Self::saved_task(job) {
            Some(task) => {
                self.wait(job, &l.server, driver, &task).await?;
                false
            }
            None => {
                let c = driver
                    .backup_delete(&BackupDeleteRequest {
                        site: target.clone(),
                        backup_id: remote_id.clone(),
                    })
                    .await
                    .map_err(|e| remote_err(&l.server, &e))?;
                if let Progress::Pending { task } = &c.progress {
                    job.save(json!({ "task": task })).await?;
                    self.wait(job, &l.server, driver, task).await?;
                }
                c.already
            }
        };
        let (id, at) = (b.id, self.env.clock.stamp());
        self.db(move |c| store_backups::mark_deleted(c, id, &at))
            .await?;
        Ok(json!({ "remoteId": remote_id, "already": already }))
    }

    async fn restore(
        &self,
        job: &JobCtx,
        l: &Loaded,
        target: &SiteTarget,
        driver: &dyn HostingDriver,
    ) -> std::result::Result<Value, JobError> {
        let b = &l.backup;
        let Some(remote_id) = b.remote_id.clone().filter(|_| b.state == "done") else {
            return Err(JobError::fatal(format!(
                "backup {} is {}{}: it cannot be restored",
                b.id,
                b.state,
                if b.remote_id.is_none() {
                    " and has no id on the server"
                } else {
                    ""
                }
            )));
        };
        match Self::saved_task(job) {
            Some(task) => self.wait(job, &l.server, driver, &task).await?,
            None => {
                let c = driver
                    .restore(&RestoreRequest {
                        site: target.clone(),
                        backup_id: remote_id.clone(),
                    })
                    .await
                    .map_err(|e| remote_err(&l.server, &e))?;
                if let Progress::Pending { task } = &c.progress {
                    job.save(json!({ "task": task })).await?;
                    self.wait(job, &l.server, driver, task).await?;
                }
            }
        }
        Ok(json!({ "remoteId": remote_id, "restoredFrom": b.taken_at }))
    }
}

impl JobHandler for BackupJobs {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        Box::pin(self.run_job(job))
    }
}

/// Registers the backup job kinds on a runner (called by `provisioning::build_runner`).
pub fn register(
    runner: &mut Runner,
    path: &Path,
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    config: &ProvisioningConfig,
    sandbox_delay: Range<u64>,
) -> Result<()> {
    BackupJobs::open(path, clock, secrets, config, sandbox_delay)?.register(runner);
    Ok(())
}
