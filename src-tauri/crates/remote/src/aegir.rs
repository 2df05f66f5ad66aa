//! [`AegirDriver`]: Aegir's hosting_saas module through Services 3 REST.
//!
//! Endpoint `/aegir/saas` under the hostmaster site, header `api-key: KEY`:
//! - `GET site.json`, `GET site/{name}.json` (nid, title, client, platform, profile, db_server,
//!   language, verified, site_status 1 enabled / 0 queued / -1 disabled / -2 deleted; where the
//!   resource exposes them, `backups`: the site's backup rows, which `list_backups` reads);
//! - `GET profile.json?machine_names=1`;
//! - `PUT site/{name}.json` (Aegir Services' site update: JSON `{"data": {FIELD: VALUE}}`
//!   merged into the site node and saved, which makes Aegir queue a `verify`): how
//!   [`HostingDriver::set_certificate`] sets hosting_https's `https_enabled` (0 disabled,
//!   1 enabled, 2 required);
//! - `POST task` (form: `type`, `target`, `options[...]`) replies with a task record (nid,
//!   task_type, task_status 0); `GET task/{nid}.json` gives task_status 0 queued, -1 processing,
//!   1 success, 2 error, 3 warning.
//!
//! A `false`, `null` or empty body with HTTP 200 is an error ([`RemoteError::Protocol`]).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::driver::HostingDriver;
use crate::error::RemoteError;
use crate::http::{parse_base_url, root_of, Http, HttpConfig, PollConfig, Reply};
use crate::json::{int, text};
use crate::secret::Secret;
use crate::types::*;

/// How to reach an Aegir hostmaster. `Debug` shows the key as `<redacted>`.
#[derive(Debug, Clone)]
pub struct AegirConfig {
    /// The hostmaster site, e.g. `https://aegir.example.com`.
    pub base_url: Url,
    /// The Services endpoint path (`/aegir/saas`).
    pub endpoint_path: String,
    pub api_key: Secret,
    /// New sites must be named `something.MASTER_DOMAIN`.
    pub master_domain: String,
    /// Sent as `options[platform]` / `options[target_platform]` when a request names none.
    pub default_platform: Option<String>,
    /// Sent as `options[db_server]` / `options[new_db_server]` when a request names none.
    pub default_db_server: Option<String>,
    pub poll: PollConfig,
    pub http: HttpConfig,
}

impl AegirConfig {
    pub fn new(base_url: &str, api_key: Secret, master_domain: &str) -> Result<Self, RemoteError> {
        let master_domain = hostdesk_core::validate::domain(master_domain)
            .map_err(|e| RemoteError::InvalidRequest(format!("master domain {e}")))?;
        Ok(AegirConfig {
            base_url: parse_base_url(base_url)?,
            endpoint_path: "/aegir/saas".into(),
            api_key,
            master_domain,
            default_platform: None,
            default_db_server: None,
            poll: PollConfig::default(),
            http: HttpConfig::default(),
        })
    }
}

/// The Aegir (hosting_saas) driver. Asynchronous: operations return [`Progress::Pending`] with
/// the task to wait for.
#[derive(Debug)]
pub struct AegirDriver {
    config: AegirConfig,
    http: Http,
    root: String,
}

impl AegirDriver {
    pub fn new(config: AegirConfig) -> Result<Self, RemoteError> {
        if config.api_key.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the Aegir API key is empty".into(),
            ));
        }
        let http = Http::new(&config.http, vec![config.api_key.clone()])?;
        let root = format!(
            "{}/{}",
            root_of(&config.base_url),
            config.endpoint_path.trim_matches('/')
        );
        Ok(AegirDriver { config, http, root })
    }

    pub fn config(&self) -> &AegirConfig {
        &self.config
    }

    fn request(&self, method: Method, path: &str) -> Result<reqwest::RequestBuilder, RemoteError> {
        let (name, value) = Http::secret_header("api-key", self.config.api_key.expose())?;
        Ok(self
            .http
            .request(method, &format!("{}/{}", self.root, path))
            .header(name, value)
            .header(reqwest::header::ACCEPT, "application/json"))
    }

    /// Parses a 2xx body that must be a JSON object or array; `false`, `null`, empty → Protocol.
    fn body(&self, reply: &Reply, what: &str) -> Result<Value, RemoteError> {
        let v: Value = self.http.json(reply)?;
        match v {
            Value::Object(_) | Value::Array(_) => Ok(v),
            other => Err(RemoteError::Protocol {
                endpoint: reply.endpoint.clone(),
                detail: format!(
                    "Aegir answered `{other}` with HTTP {} to {what}: the server refused or failed without saying why (see its watchdog log)",
                    reply.status
                ),
            }),
        }
    }

    /// The site record, `None` when the server answers 404.
    async fn site_record(&self, name: &str) -> Result<Option<Value>, RemoteError> {
        let rb = self.request(Method::GET, &format!("site/{name}.json"))?;
        let reply = self.http.send(rb).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let reply = self.http.check_status(reply)?;
        let v = self.body(&reply, &format!("the lookup of site {name}"))?;
        if !v.is_object() {
            return Err(RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: "a site record should be a JSON object".into(),
            });
        }
        Ok(Some(v))
    }

    fn summary(&self, v: &Value, endpoint: &str) -> Result<SiteSummary, RemoteError> {
        let name = text(v, "title").ok_or_else(|| RemoteError::Protocol {
            endpoint: endpoint.to_owned(),
            detail: "a site record without a title".into(),
        })?;
        let code = int(v, "site_status");
        let status = match code {
            Some(1) => SiteStatus::Active,
            Some(0) => SiteStatus::Queued,
            Some(-1) => SiteStatus::Suspended,
            Some(-2) => SiteStatus::Deleted,
            other => {
                return Err(RemoteError::Protocol {
                    endpoint: endpoint.to_owned(),
                    detail: format!("site {name} has an unknown site_status {other:?}"),
                })
            }
        };
        Ok(SiteSummary {
            name,
            remote_id: text(v, "nid"),
            status,
            plan: text(v, "profile"),
            client: text(v, "client"),
        })
    }

    async fn find(&self, name: &str) -> Result<Option<SiteSummary>, RemoteError> {
        match self.site_record(name).await? {
            Some(v) => Ok(Some(
                self.summary(&v, &format!("GET {}/site/{name}.json", self.root))?,
            )),
            None => Ok(None),
        }
    }

    /// Submits any hosting task (`verify`, `migrate`, `backup-delete`, ... as well as those the
    /// trait methods use). `options` are sent as `options[KEY]=VALUE`.
    pub async fn submit_task(
        &self,
        task_type: &str,
        target: &str,
        options: &[(&str, String)],
    ) -> Result<(TaskRef, Value), RemoteError> {
        let mut form: Vec<(String, String)> = vec![
            ("type".into(), task_type.into()),
            // Present even when empty (clone with the server's default template).
            ("target".into(), target.into()),
        ];
        for (k, v) in options {
            form.push((format!("options[{k}]"), v.clone()));
        }
        let rb = self.request(Method::POST, "task")?.form(&form);
        let reply = self.http.send_ok(rb).await?;
        let record = self.body(&reply, &format!("task {task_type} on '{target}'"))?;
        let task_id = text(&record, "nid").ok_or_else(|| RemoteError::Protocol {
            endpoint: reply.endpoint.clone(),
            detail: format!(
                "the reply to task {task_type} is not a task record (no nid): {}",
                self.http.scrub(&crate::error::excerpt(&reply.body))
            ),
        })?;
        let task = TaskRef {
            task_id: Some(task_id),
            task_type: task_type.to_owned(),
            site: target.to_owned(),
            expect: None,
        };
        Ok((task, record))
    }

    /// Re-verifies a site (Aegir `verify`).
    pub async fn verify_site(&self, site: &SiteTarget) -> Result<TaskRef, RemoteError> {
        let name = self.existing(site).await?.name;
        Ok(self.submit_task("verify", &name, &[]).await?.0)
    }

    /// Moves a site to another platform (Aegir `migrate`).
    pub async fn migrate_site(
        &self,
        site: &SiteTarget,
        target_platform: &str,
    ) -> Result<TaskRef, RemoteError> {
        let name = self.existing(site).await?.name;
        let opts = [("target_platform", target_platform.to_owned())];
        Ok(self.submit_task("migrate", &name, &opts).await?.0)
    }

    /// The site's backups from its record: the `backups` the site resource carries (Aegir's
    /// `hosting_site_backups` rows: `bid`, `description`, `size`, `timestamp`), as a list or an
    /// object keyed by bid. `None` when the record has no `backups` (a hosting_saas that does
    /// not expose them: backups can be made, but not found again by Hostdesk).
    fn backups_of(record: &Value) -> Option<Vec<BackupInfo>> {
        let items: Vec<&Value> = match record.get("backups")? {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => map.values().collect(),
            // Drupal renders an empty PHP array as [] but an empty result may come as false.
            Value::Bool(false) | Value::Null => Vec::new(),
            _ => return None,
        };
        let mut out: Vec<BackupInfo> = items
            .into_iter()
            .filter_map(|b| {
                Some(BackupInfo {
                    backup_id: text(b, "bid")?,
                    description: text(b, "description").unwrap_or_default(),
                    taken_at: int(b, "timestamp"),
                    size_bytes: int(b, "size").and_then(|n| u64::try_from(n).ok()),
                })
            })
            .collect();
        out.sort_by_key(|b| std::cmp::Reverse(b.taken_at));
        Some(out)
    }

    /// Deletes one backup of a site (Aegir `backup-delete`).
    pub async fn delete_backup(
        &self,
        site: &SiteTarget,
        backup_id: &str,
    ) -> Result<TaskRef, RemoteError> {
        let name = self.existing(site).await?.name;
        let opts = [("bid", backup_id.to_owned())];
        Ok(self.submit_task("backup-delete", &name, &opts).await?.0)
    }

    fn new_site_name(&self, domain: &str) -> Result<String, RemoteError> {
        let name = hostdesk_core::validate::domain(domain)
            .map_err(|e| RemoteError::InvalidRequest(format!("site domain {e}")))?;
        let suffix = format!(".{}", self.config.master_domain);
        if !name.ends_with(&suffix) || name.len() == suffix.len() {
            return Err(RemoteError::InvalidRequest(format!(
                "the site '{name}' must end in this server's master domain '{}' (e.g. shop{suffix})",
                self.config.master_domain
            )));
        }
        Ok(name)
    }

    fn site_name(site: &SiteTarget) -> Result<String, RemoteError> {
        hostdesk_core::validate::domain(&site.name)
            .map_err(|e| RemoteError::InvalidRequest(format!("site domain {e}")))
    }

    /// The site, which must exist and not be deleted.
    async fn existing(&self, site: &SiteTarget) -> Result<SiteSummary, RemoteError> {
        let name = Self::site_name(site)?;
        match self.find(&name).await? {
            Some(s) if s.status != SiteStatus::Deleted => Ok(s),
            Some(_) => Err(RemoteError::remote(format!(
                "the site {name} is deleted on this Aegir server"
            ))),
            None => Err(RemoteError::remote(format!(
                "this Aegir server has no site named {name}"
            ))),
        }
    }

    async fn change_state(
        &self,
        site: &SiteTarget,
        task_type: &str,
        want: SiteStatus,
    ) -> Result<Changed, RemoteError> {
        let current = self.existing(site).await?;
        if current.status == want {
            return Ok(Changed {
                already: true,
                progress: Progress::Done,
            });
        }
        let (mut task, _) = self.submit_task(task_type, &current.name, &[]).await?;
        task.expect = Some(want);
        Ok(Changed {
            already: false,
            progress: Progress::Pending { task },
        })
    }

    async fn site_state(&self, task: &TaskRef) -> Result<TaskState, RemoteError> {
        let Some(want) = task.expect else {
            return Err(RemoteError::InvalidRequest(format!(
                "task {} on {} has no task id and no expected site state to follow",
                task.task_type, task.site
            )));
        };
        let found = self.find(&task.site).await?;
        Ok(match (found, want) {
            (None, SiteStatus::Deleted) => TaskState::Succeeded,
            (None, _) => TaskState::Failed {
                reason: format!(
                    "Aegir task {} on {}: the site is gone from the server",
                    task.task_type, task.site
                ),
            },
            (Some(s), want) if s.status == want => TaskState::Succeeded,
            (Some(s), _) if s.status == SiteStatus::Queued => TaskState::Queued,
            (Some(_), _) => TaskState::Processing,
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn opt(options: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<&String>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        options.push((key, v.clone()));
    }
}

#[async_trait]
impl HostingDriver for AegirDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Aegir
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new([
            Operation::InstallSite,
            Operation::CloneSite,
            Operation::OwnerOnCreate,
            Operation::SuspendSite,
            Operation::UnsuspendSite,
            Operation::DeleteSite,
            Operation::Backup,
            Operation::Restore,
            Operation::LoginLink,
            Operation::ListSites,
            Operation::Certificate,
        ])
    }

    /// Aegir counts the client's sites (listed, not deleted).
    fn resources(&self) -> ResourceSupport {
        ResourceSupport {
            measures: vec![hostdesk_core::catalog::Resource::Sites],
            enforces: Vec::new(),
        }
    }

    async fn test_connection(&self) -> Result<ServerInfo, RemoteError> {
        let sites = self.list_sites().await?;
        let rb = self
            .request(Method::GET, "profile.json")?
            .query(&[("machine_names", "1")]);
        let reply = self.http.send_ok(rb).await?;
        let v = self.body(&reply, "the list of profiles")?;
        let mut profiles: Vec<String> = match &v {
            Value::Array(items) => items.iter().filter_map(profile_name).collect(),
            Value::Object(map) => map.values().filter_map(profile_name).collect(),
            _ => Vec::new(),
        };
        profiles.sort();
        profiles.dedup();
        Ok(ServerInfo {
            version: None,
            sites: sites
                .iter()
                .filter(|s| s.status != SiteStatus::Deleted)
                .count() as u64,
            profiles,
        })
    }

    async fn find_site(&self, name: &str) -> Result<Option<SiteSummary>, RemoteError> {
        let name = Self::site_name(&SiteTarget::named(name))?;
        self.find(&name).await
    }

    async fn list_sites(&self) -> Result<Vec<SiteSummary>, RemoteError> {
        let rb = self.request(Method::GET, "site.json")?;
        let reply = self.http.send_ok(rb).await?;
        let v = self.body(&reply, "the list of sites")?;
        let records: Vec<&Value> = match &v {
            Value::Array(items) => items.iter().collect(),
            Value::Object(map) => map.values().collect(),
            _ => Vec::new(),
        };
        records
            .into_iter()
            .map(|r| self.summary(r, &reply.endpoint))
            .collect()
    }

    async fn create_site(&self, req: &CreateSite) -> Result<SiteCreated, RemoteError> {
        let name = self.new_site_name(&req.domain)?;
        let (task_type, target, mut options) = match &req.source {
            SiteSource::Profile {
                profile,
                platform,
                db_server,
                language,
            } => {
                if profile.trim().is_empty() {
                    return Err(RemoteError::InvalidRequest(
                        "an install needs a profile".into(),
                    ));
                }
                let mut o = vec![("profile", profile.clone())];
                opt(
                    &mut o,
                    "platform",
                    platform.as_ref().or(self.config.default_platform.as_ref()),
                );
                opt(
                    &mut o,
                    "db_server",
                    db_server
                        .as_ref()
                        .or(self.config.default_db_server.as_ref()),
                );
                opt(&mut o, "language", language.as_ref());
                opt(&mut o, "client", req.client.as_ref());
                ("install", name.clone(), o)
            }
            SiteSource::Clone {
                template,
                platform,
                db_server,
            } => {
                let mut o = vec![("new_uri", name.clone())];
                opt(
                    &mut o,
                    "target_platform",
                    platform.as_ref().or(self.config.default_platform.as_ref()),
                );
                opt(
                    &mut o,
                    "new_db_server",
                    db_server
                        .as_ref()
                        .or(self.config.default_db_server.as_ref()),
                );
                ("clone", template.trim().to_owned(), o)
            }
            SiteSource::Folder { .. } => {
                return Err(RemoteError::NotSupported(Operation::FolderSite))
            }
        };
        if let Some(owner) = &req.owner {
            options.push(("client_email", owner.email.clone()));
            options.push(("client_name", owner.name.clone()));
        }
        let follow = |task_id: Option<String>, site: &str| TaskRef {
            task_id,
            task_type: task_type.to_owned(),
            site: site.to_owned(),
            expect: Some(SiteStatus::Active),
        };

        // Idempotency: a site that exists (not deleted) was created by an earlier attempt.
        if let Some(existing) = self.find(&name).await? {
            if existing.status != SiteStatus::Deleted {
                let progress = if existing.status == SiteStatus::Queued {
                    Progress::Pending {
                        task: follow(None, &name),
                    }
                } else {
                    Progress::Done
                };
                return Ok(SiteCreated {
                    site: name,
                    remote_id: existing.remote_id,
                    already_existed: true,
                    progress,
                });
            }
        }

        let (task, record) = self.submit_task(task_type, &target, &options).await?;
        let mut remote_id = text(&record, "rid");
        if remote_id.is_none() {
            // Best effort: the site node exists once the task is queued.
            if let Ok(Some(s)) = self.find(&name).await {
                remote_id = s.remote_id;
            }
        }
        let task = follow(task.task_id, &name);
        Ok(SiteCreated {
            site: name,
            remote_id,
            already_existed: false,
            progress: Progress::Pending { task },
        })
    }

    async fn suspend_site(&self, req: &SuspendSite) -> Result<Changed, RemoteError> {
        self.change_state(&req.site, "disable", SiteStatus::Suspended)
            .await
    }

    async fn unsuspend_site(&self, site: &SiteTarget) -> Result<Changed, RemoteError> {
        self.change_state(site, "enable", SiteStatus::Active).await
    }

    async fn delete_site(&self, site: &SiteTarget) -> Result<Changed, RemoteError> {
        let name = Self::site_name(site)?;
        match self.find(&name).await? {
            None => Ok(Changed {
                already: true,
                progress: Progress::Done,
            }),
            Some(s) if s.status == SiteStatus::Deleted => Ok(Changed {
                already: true,
                progress: Progress::Done,
            }),
            Some(s) => {
                let (mut task, _) = self.submit_task("delete", &s.name, &[]).await?;
                task.expect = Some(SiteStatus::Deleted);
                Ok(Changed {
                    already: false,
                    progress: Progress::Pending { task },
                })
            }
        }
    }

    async fn backup(&self, req: &BackupRequest) -> Result<BackupStarted, RemoteError> {
        let site = self.existing(&req.site).await?;
        let opts = [("description", req.description.clone())];
        let (task, _) = self.submit_task("backup", &site.name, &opts).await?;
        Ok(BackupStarted {
            backup_id: None,
            progress: Progress::Pending { task },
        })
    }

    async fn restore(&self, req: &RestoreRequest) -> Result<Changed, RemoteError> {
        let site = self.existing(&req.site).await?;
        if req.backup_id.trim().is_empty() {
            return Err(RemoteError::InvalidRequest(
                "a restore needs a backup id".into(),
            ));
        }
        let opts = [("bid", req.backup_id.trim().to_owned())];
        let (task, _) = self.submit_task("restore", &site.name, &opts).await?;
        Ok(Changed {
            already: false,
            progress: Progress::Pending { task },
        })
    }

    /// Aegir's `backup-delete` (`options[bid]`). A bid the site's record no longer lists is
    /// already gone (Aegir refuses to delete an unknown backup).
    async fn backup_delete(&self, req: &BackupDeleteRequest) -> Result<Changed, RemoteError> {
        let bid = req.backup_id.trim();
        if bid.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "a backup-delete needs a backup id".into(),
            ));
        }
        let name = Self::site_name(&req.site)?;
        let Some(record) = self.site_record(&name).await? else {
            return Err(RemoteError::remote(format!(
                "this Aegir server has no site named {name}"
            )));
        };
        if let Some(list) = Self::backups_of(&record) {
            if !list.iter().any(|b| b.backup_id == bid) {
                return Ok(Changed {
                    already: true,
                    progress: Progress::Done,
                });
            }
        }
        let opts = [("bid", bid.to_owned())];
        let (task, _) = self.submit_task("backup-delete", &name, &opts).await?;
        Ok(Changed {
            already: false,
            progress: Progress::Pending { task },
        })
    }

    async fn list_backups(
        &self,
        site: &SiteTarget,
    ) -> Result<Option<Vec<BackupInfo>>, RemoteError> {
        let name = Self::site_name(site)?;
        match self.site_record(&name).await? {
            Some(record) => Ok(Self::backups_of(&record)),
            None => Err(RemoteError::remote(format!(
                "this Aegir server has no site named {name}"
            ))),
        }
    }

    /// hosting_https: Off sets the site's `https_enabled` to 0, Automatic to 2 (required: HTTPS
    /// with a redirect; the certificate comes from the server's certificate service, Let's
    /// Encrypt or self-signed); then the site is verified (the task to wait for). A site already
    /// at that setting sends nothing. Aegir has no API to upload a bundle: refused, with why.
    async fn set_certificate(&self, req: &SetCertificate) -> Result<Changed, RemoteError> {
        let want: i64 = match req.setting {
            CertificateSetting::Off => 0,
            CertificateSetting::Automatic => 2,
            CertificateSetting::Bundled { .. } => {
                return Err(RemoteError::InvalidRequest(
                    "Aegir takes a site's certificate from its own certificate service \
                     (hosting_https: Let's Encrypt or self-signed) and has no API to upload a \
                     bundle: choose the automatic level, or install the bundle on the server"
                        .into(),
                ))
            }
        };
        let site = self.existing(&req.site).await?;
        let record = self.site_record(&site.name).await?.unwrap_or(Value::Null);
        if int(&record, "https_enabled") == Some(want) {
            return Ok(Changed {
                already: true,
                progress: Progress::Done,
            });
        }
        let rb = self
            .request(Method::PUT, &format!("site/{}.json", site.name))?
            .json(&serde_json::json!({ "data": { "https_enabled": want } }));
        let reply = self.http.send_ok(rb).await?;
        let saved = self.body(&reply, &format!("the HTTPS setting of {}", site.name))?;
        if int(&saved, "https_enabled") != Some(want) {
            return Err(RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: format!(
                    "the saved site {} has https_enabled {:?}, not {want}: is hosting_https enabled on the hostmaster?",
                    site.name,
                    saved.get("https_enabled")
                ),
            });
        }
        let (task, _) = self.submit_task("verify", &site.name, &[]).await?;
        Ok(Changed {
            already: false,
            progress: Progress::Pending { task },
        })
    }

    /// Aegir's `login-reset`: the one-time link is produced on the server (task log), so the
    /// result has no URL.
    async fn login_link(&self, req: &LoginLinkRequest) -> Result<LoginLink, RemoteError> {
        let site = self.existing(&req.site).await?;
        let (task, _) = self.submit_task("login-reset", &site.name, &[]).await?;
        Ok(LoginLink {
            url: None,
            progress: Progress::Pending { task },
        })
    }

    async fn task_state(&self, task: &TaskRef) -> Result<TaskState, RemoteError> {
        let Some(id) = task.task_id.as_deref() else {
            return self.site_state(task).await;
        };
        if !id.bytes().all(|b| b.is_ascii_digit()) || id.is_empty() {
            return Err(RemoteError::InvalidRequest(format!(
                "'{id}' is not an Aegir task id"
            )));
        }
        let rb = self.request(Method::GET, &format!("task/{id}.json"))?;
        let reply = self.http.send(rb).await?;
        if reply.status == 404 {
            // The task resource is not enabled on this server: follow the site instead.
            return self.site_state(task).await;
        }
        let reply = self.http.check_status(reply)?;
        let record = self.body(&reply, &format!("the lookup of task {id}"))?;
        let label = format!("Aegir task {} on {} (task {id})", task.task_type, task.site);
        Ok(match int(&record, "task_status") {
            Some(0) => TaskState::Queued,
            Some(-1) => TaskState::Processing,
            Some(1) => TaskState::Succeeded,
            Some(2) => TaskState::Failed {
                reason: format!("{label} ended in error; see the task log on the Aegir server"),
            },
            Some(3) => TaskState::Warning {
                detail: format!("{label} succeeded with warnings"),
            },
            other => {
                return Err(RemoteError::Protocol {
                    endpoint: reply.endpoint,
                    detail: format!("{label} has an unknown task_status {other:?}"),
                })
            }
        })
    }

    async fn wait_task(&self, task: &TaskRef) -> Result<TaskState, RemoteError> {
        let start = tokio::time::Instant::now();
        let deadline = start + self.config.poll.timeout;
        loop {
            match self.task_state(task).await? {
                TaskState::Failed { reason } => return Err(RemoteError::Remote { reason }),
                done @ (TaskState::Succeeded | TaskState::Warning { .. }) => return Ok(done),
                TaskState::Queued | TaskState::Processing => {}
            }
            if tokio::time::Instant::now() + self.config.poll.interval > deadline {
                return Err(RemoteError::Timeout {
                    what: format!(
                        "Aegir task {} on {}{}",
                        task.task_type,
                        task.site,
                        task.task_id
                            .as_deref()
                            .map(|id| format!(" (task {id})"))
                            .unwrap_or_default()
                    ),
                    after_ms: millis(start.elapsed()),
                });
            }
            tokio::time::sleep(self.config.poll.interval).await;
        }
    }
}

fn profile_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Object(_) => ["machine_name", "short_name", "name", "title"]
            .iter()
            .find_map(|k| text(v, k)),
        _ => None,
    }
}
