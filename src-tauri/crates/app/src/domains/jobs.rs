//! The job handler of the domain, DNS and certificate jobs: loads what a job needs from the
//! workspace (on the blocking pool), then talks to the registrar, the DNS server or the web
//! server without holding the database.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hostdesk_remote::RemoteError;
use serde_json::Value;

use super::{dns, register as reg, ssl, KINDS};
use crate::job_env::JobEnv;
use crate::provisioning::ProvisioningConfig;
use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::secrets::SecretStore;
use crate::{Clock, Result, Workspace};

/// Runs `domain.*`, `dns.zone` and `ssl.*` jobs. One per runner; cheap to share.
pub struct DomainJobs {
    pub(super) ws: Arc<Mutex<Workspace>>,
    pub(super) env: JobEnv,
}

/// Registers the handler for every kind this module runs.
pub fn register(
    runner: &mut Runner,
    path: &Path,
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    config: &ProvisioningConfig,
    sandbox_delay: Range<u64>,
) -> Result<Arc<DomainJobs>> {
    let h = Arc::new(DomainJobs {
        ws: Arc::new(Mutex::new(Workspace::open(path, clock)?)),
        env: JobEnv::new(path, clock, secrets, config, sandbox_delay),
    });
    for k in KINDS {
        runner.handle(k, h.clone());
    }
    Ok(h)
}

/// A remote failure as a job failure: retried when [`RemoteError::is_retryable`].
pub(super) fn remote(what: &str, e: RemoteError) -> JobError {
    JobError {
        message: format!("{what} [{}]: {e}", e.code()),
        retryable: e.is_retryable(),
    }
}

impl DomainJobs {
    /// Runs workspace work on the blocking pool. A database error is retried; any other
    /// error of the use case is fatal.
    pub(super) async fn with_ws<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Workspace) -> Result<T> + Send + 'static,
    ) -> std::result::Result<T, JobError> {
        crate::blocking::on_workspace(&self.ws, f).await
    }

    pub(super) fn secrets(&self) -> Arc<dyn SecretStore> {
        self.env.secrets.clone()
    }

    async fn run_job(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        match job.kind.as_str() {
            super::DOMAIN_REGISTER => reg::register(self, job).await,
            super::DOMAIN_RENEW => reg::renew(self, job).await,
            super::DNS_ZONE => dns::zone(self, job).await,
            super::DOMAIN_VERIFY => dns::verify(self, job).await,
            super::SSL_SET => ssl::set(self, job).await,
            super::SSL_CHECK => ssl::check(self, job).await,
            other => Err(JobError::fatal(format!(
                "the domain jobs do not run '{other}'"
            ))),
        }
    }
}

impl JobHandler for DomainJobs {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        Box::pin(self.run_job(job))
    }
}

/// The payload's `domainId` / `certificateId`.
pub(super) fn id_of(job: &JobCtx, key: &str) -> std::result::Result<i64, JobError> {
    job.payload
        .get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| JobError::fatal(format!("the job's payload has no '{key}'")))
}
