//! What the job handlers that talk to hosting servers share: where the workspace is, its clock,
//! the secrets, the provisioning settings and the sandbox's reply time, and from them a server's
//! driver for a job.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hostdesk_remote::HostingDriver;
use hostdesk_store::servers::Server;

use crate::blocking::lock;
use crate::provisioning::{build_driver, BuildError, ProvisioningConfig};
use crate::runner::JobError;
use crate::secrets::SecretStore;
use crate::Clock;

/// A driver with the fingerprint of the server row it was built from.
pub(crate) type CachedDriver = (String, Arc<dyn HostingDriver>);

pub(crate) struct JobEnv {
    pub path: PathBuf,
    pub clock: Clock,
    pub secrets: Arc<dyn SecretStore>,
    pub config: ProvisioningConfig,
    pub sandbox_delay: Range<u64>,
}

impl JobEnv {
    pub fn new(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        config: &ProvisioningConfig,
        sandbox_delay: Range<u64>,
    ) -> JobEnv {
        JobEnv {
            path: path.to_path_buf(),
            clock,
            secrets,
            config: config.clone(),
            sandbox_delay,
        }
    }

    /// The server's driver, built for this job (a locked keyring is retried, bad settings fail).
    pub fn driver(&self, server: &Server) -> Result<Arc<dyn HostingDriver>, JobError> {
        build_driver(
            server,
            &*self.secrets,
            &self.config,
            Some(&self.path),
            self.clock,
            self.sandbox_delay.clone(),
        )
        .map_err(BuildError::into_job_error)
    }

    /// The server's driver from `cache`, built again when the server row changed since (its
    /// settings, its token: every change bumps `updated_at`).
    pub fn cached_driver(
        &self,
        cache: &Mutex<HashMap<i64, CachedDriver>>,
        server: &Server,
    ) -> Result<Arc<dyn HostingDriver>, JobError> {
        let fingerprint = format!(
            "{}|{}|{}|{}|{}|{}|{}",
            server.kind,
            server.base_url,
            server.username,
            server.master_domain,
            server.options,
            serde_json::to_string(&server.platforms).unwrap_or_default(),
            server.updated_at
        );
        if let Some((f, d)) = lock(cache).get(&server.id) {
            if *f == fingerprint {
                return Ok(d.clone());
            }
        }
        let d = self.driver(server)?;
        lock(cache).insert(server.id, (fingerprint, d.clone()));
        Ok(d)
    }
}
