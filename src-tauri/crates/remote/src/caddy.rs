//! [`CaddyDriver`]: static sites on a Caddy server through its admin API.
//!
//! A site is one route of an HTTP server (`apps.http.servers.NAME.routes`) with an `@id`:
//!
//! ```json
//! {"@id": "hostdesk-site-shop.example.com",
//!  "match": [{"host": ["shop.example.com"]}],
//!  "handle": [{"handler": "vars", "root": "/srv/sites/shop"}, {"handler": "file_server"}],
//!  "terminal": true}
//! ```
//!
//! The folder sits in a `vars` handler (`file_server` takes its root from `{http.vars.root}`),
//! so suspending (`PATCH /id/ID/handle` with a 503 `static_response`) keeps it and re-enabling
//! restores the `file_server` without Hostdesk storing anything. Delete is `DELETE /id/ID`.
//! Caddy answers a refused configuration with HTTP 400/500 and `{"error": "..."}`: that message
//! becomes [`RemoteError::Remote`].
//!
//! Usage: with [`CaddyConfig::access_log`] set (a file on this machine, where the loopback admin
//! API's Caddy runs), the driver has Caddy log its server's requests there as JSON (logger
//! `http.log.access.hostdesk`) and `usage` sums the bytes served per site and calendar month
//! ([`crate::caddy_log`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

use crate::caddy_log::AccessLog;
use crate::driver::HostingDriver;
use crate::error::{excerpt, RemoteError};
use crate::http::{parse_base_url, root_of, Http, HttpConfig, Reply};
use crate::types::*;

/// How to reach a Caddy admin endpoint (no credentials: the admin API listens on loopback).
#[derive(Debug, Clone)]
pub struct CaddyConfig {
    /// Default `http://127.0.0.1:2019`.
    pub admin_url: Url,
    /// The HTTP server (`apps.http.servers.NAME`) whose routes are the sites.
    pub server_name: String,
    /// Route ids are `PREFIX + domain`.
    pub id_prefix: String,
    /// The text a suspended site answers with (HTTP 503).
    pub suspended_body: String,
    pub http: HttpConfig,
    /// Where Caddy writes the server's access log (JSON), read to measure the bytes served.
    /// `None`: no usage.
    pub access_log: Option<PathBuf>,
}

impl CaddyConfig {
    pub fn new(admin_url: &str, server_name: &str) -> Result<Self, RemoteError> {
        let server_name = server_name.trim();
        if server_name.is_empty() || server_name.contains('/') {
            return Err(RemoteError::InvalidRequest(format!(
                "'{server_name}' is not a Caddy server name"
            )));
        }
        Ok(CaddyConfig {
            admin_url: parse_base_url(admin_url)?,
            server_name: server_name.to_owned(),
            id_prefix: "hostdesk-site-".into(),
            suspended_body: "This site is suspended.".into(),
            http: HttpConfig::default(),
            access_log: None,
        })
    }
}

impl Default for CaddyConfig {
    fn default() -> Self {
        CaddyConfig {
            admin_url: Url::parse("http://127.0.0.1:2019").unwrap_or_else(|_| unreachable!()),
            server_name: "srv0".into(),
            id_prefix: "hostdesk-site-".into(),
            suspended_body: "This site is suspended.".into(),
            http: HttpConfig::default(),
            access_log: None,
        }
    }
}

/// The Caddy driver. Synchronous: Caddy applies a change before it answers.
#[derive(Debug)]
pub struct CaddyDriver {
    config: CaddyConfig,
    http: Http,
    root: String,
    /// What was read of the access log so far (kept while the driver lives).
    log: Arc<Mutex<Option<AccessLog>>>,
    /// Caddy was told to write the access log (once per driver for `usage`).
    log_ensured: AtomicBool,
}

/// The logger Caddy names the server's access log with (`http.log.access.` + this).
const ACCESS_LOGGER: &str = "hostdesk";
/// The log (in Caddy's `logging.logs`) that writes it to the file.
const ACCESS_LOG_NAME: &str = "hostdesk-access";

/// A site's route as read back.
struct Route {
    id: String,
    host: String,
    root: Option<String>,
    suspended: bool,
}

fn done(already: bool) -> Changed {
    Changed {
        already,
        progress: Progress::Done,
    }
}

impl CaddyDriver {
    pub fn new(config: CaddyConfig) -> Result<Self, RemoteError> {
        let http = Http::new(&config.http, Vec::new())?;
        let root = root_of(&config.admin_url);
        Ok(CaddyDriver {
            config,
            http,
            root,
            log: Arc::new(Mutex::new(None)),
            log_ensured: AtomicBool::new(false),
        })
    }

    /// Has Caddy write the server's access log to [`CaddyConfig::access_log`] (JSON), unless
    /// it already does. Returns the file, `None` when no access log is configured.
    pub async fn ensure_access_log(&self) -> Result<Option<PathBuf>, RemoteError> {
        let Some(path) = self.config.access_log.clone() else {
            return Ok(None);
        };
        let file = path
            .to_str()
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| {
                RemoteError::InvalidRequest(format!(
                    "the access log '{}' must be an absolute path",
                    path.display()
                ))
            })?;
        let want = json!({
            "writer": {"output": "file", "filename": file},
            "encoder": {"format": "json"},
            "level": "INFO",
            "include": [format!("http.log.access.{ACCESS_LOGGER}")]
        });
        let reply = self.check(self.call(Method::GET, "/config/logging", None).await?)?;
        let mut logging = match self.json(&reply)? {
            Value::Object(m) => Value::Object(m),
            _ => json!({}),
        };
        if logging.pointer(&format!("/logs/{ACCESS_LOG_NAME}")) != Some(&want) {
            if !logging.get("logs").is_some_and(Value::is_object) {
                logging["logs"] = json!({});
            }
            logging["logs"][ACCESS_LOG_NAME] = want;
            let reply = self
                .call(Method::POST, "/config/logging", Some(&logging))
                .await?;
            self.check(reply)?;
        }
        let server_logs = format!("/config/apps/http/servers/{}/logs", self.config.server_name);
        let reply = self.check(self.call(Method::GET, &server_logs, None).await?)?;
        let mut logs = match self.json(&reply)? {
            Value::Object(m) => Value::Object(m),
            _ => json!({}),
        };
        if logs.get("default_logger_name").and_then(Value::as_str) != Some(ACCESS_LOGGER) {
            logs["default_logger_name"] = json!(ACCESS_LOGGER);
            let reply = self.call(Method::POST, &server_logs, Some(&logs)).await?;
            self.check(reply)?;
        }
        Ok(Some(path))
    }

    pub fn config(&self) -> &CaddyConfig {
        &self.config
    }

    /// The route id of a site.
    pub fn route_id(&self, domain: &str) -> String {
        format!("{}{}", self.config.id_prefix, domain)
    }

    fn routes_path(&self) -> String {
        format!(
            "/config/apps/http/servers/{}/routes",
            self.config.server_name
        )
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, RemoteError> {
        let mut rb = self.http.request(method, &format!("{}{}", self.root, path));
        if let Some(b) = body {
            rb = rb.json(b);
        }
        self.http.send(rb).await
    }

    /// 2xx passes; Caddy's `{"error": ...}` on 400/500 is a refusal with its message.
    fn check(&self, reply: Reply) -> Result<Reply, RemoteError> {
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        if matches!(reply.status, 400 | 500) {
            if let Some(msg) = serde_json::from_slice::<Value>(&reply.body)
                .ok()
                .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
            {
                return Err(RemoteError::remote(format!(
                    "Caddy refused the change (HTTP {}): {msg}",
                    reply.status
                )));
            }
        }
        self.http.check_status(reply)
    }

    fn json(&self, reply: &Reply) -> Result<Value, RemoteError> {
        if reply.body.is_empty() {
            return Ok(Value::Null);
        }
        self.http.json(reply)
    }

    fn site_domain(site: &SiteTarget) -> Result<String, RemoteError> {
        hostdesk_core::validate::domain(&site.name)
            .map_err(|e| RemoteError::InvalidRequest(format!("site domain {e}")))
    }

    fn id_of(&self, site: &SiteTarget) -> Result<String, RemoteError> {
        match site.remote_id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) if !id.contains('/') => Ok(id.to_owned()),
            Some(id) => Err(RemoteError::InvalidRequest(format!(
                "'{id}' is not a Caddy route id"
            ))),
            None => Ok(self.route_id(&Self::site_domain(site)?)),
        }
    }

    /// The route with this id, `None` when Caddy does not know the id.
    async fn route(&self, id: &str) -> Result<Option<Route>, RemoteError> {
        let reply = self.call(Method::GET, &format!("/id/{id}"), None).await?;
        if reply.status == 404 {
            return Ok(None);
        }
        let reply = self.check(reply)?;
        let v = self.json(&reply)?;
        parse_route(&v)
            .map(Some)
            .ok_or_else(|| RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: format!(
                    "route {id} is not a Hostdesk site route: {}",
                    excerpt(&reply.body)
                ),
            })
    }

    fn handlers(&self, root: &str, suspended: bool) -> Value {
        if suspended {
            json!([
                {"handler": "vars", "root": root},
                {"handler": "static_response", "status_code": 503,
                 "headers": {"Retry-After": ["3600"]},
                 "body": self.config.suspended_body}
            ])
        } else {
            json!([{"handler": "vars", "root": root}, {"handler": "file_server"}])
        }
    }

    async fn set_suspended(
        &self,
        site: &SiteTarget,
        suspended: bool,
    ) -> Result<Changed, RemoteError> {
        let id = self.id_of(site)?;
        let route = self.route(&id).await?.ok_or_else(|| {
            RemoteError::remote(format!("Caddy has no site {} (route {id})", site.name))
        })?;
        if route.suspended == suspended {
            return Ok(done(true));
        }
        let root = route.root.ok_or_else(|| RemoteError::Protocol {
            endpoint: format!("GET {}/id/{id}", self.root),
            detail: "the route keeps no site folder (vars.root)".into(),
        })?;
        let reply = self
            .call(
                Method::PATCH,
                &format!("/id/{id}/handle"),
                Some(&self.handlers(&root, suspended)),
            )
            .await?;
        self.check(reply)?;
        Ok(done(false))
    }

    fn summary(route: &Route) -> SiteSummary {
        SiteSummary {
            name: route.host.clone(),
            remote_id: Some(route.id.clone()),
            status: if route.suspended {
                SiteStatus::Suspended
            } else {
                SiteStatus::Active
            },
            plan: None,
            client: None,
        }
    }
}

fn parse_route(v: &Value) -> Option<Route> {
    let id = v.get("@id")?.as_str()?.to_owned();
    let host = v.get("match")?.as_array()?.iter().find_map(|m| {
        m.get("host")?
            .as_array()?
            .first()?
            .as_str()
            .map(str::to_owned)
    })?;
    let handle = v.get("handle")?.as_array()?;
    let root = handle.iter().find_map(|h| {
        (h.get("handler")?.as_str()? == "vars")
            .then(|| h.get("root")?.as_str().map(str::to_owned))
            .flatten()
    });
    let suspended = handle
        .iter()
        .any(|h| h.get("handler").and_then(Value::as_str) == Some("static_response"));
    Some(Route {
        id,
        host,
        root,
        suspended,
    })
}

#[async_trait]
impl HostingDriver for CaddyDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Caddy
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new([
            Operation::FolderSite,
            Operation::SuspendSite,
            Operation::UnsuspendSite,
            Operation::DeleteSite,
            Operation::ListSites,
            Operation::Usage,
        ])
    }

    /// Caddy counts its sites (routes) and measures the bytes each served (access log).
    fn resources(&self) -> ResourceSupport {
        use hostdesk_core::catalog::Resource::{BandwidthMb, Sites};
        ResourceSupport {
            measures: vec![Sites, BandwidthMb],
            enforces: Vec::new(),
        }
    }

    async fn test_connection(&self) -> Result<ServerInfo, RemoteError> {
        let path = format!("/config/apps/http/servers/{}", self.config.server_name);
        let reply = self.check(self.call(Method::GET, &path, None).await?)?;
        if self.json(&reply)?.is_null() {
            return Err(RemoteError::remote(format!(
                "Caddy has no HTTP server named '{}' (apps.http.servers)",
                self.config.server_name
            )));
        }
        let sites = self.list_sites().await?.len() as u64;
        Ok(ServerInfo {
            version: None,
            sites,
            profiles: Vec::new(),
        })
    }

    async fn find_site(&self, name: &str) -> Result<Option<SiteSummary>, RemoteError> {
        let id = self.id_of(&SiteTarget::named(name))?;
        Ok(self.route(&id).await?.as_ref().map(Self::summary))
    }

    async fn list_sites(&self) -> Result<Vec<SiteSummary>, RemoteError> {
        let reply = self.check(self.call(Method::GET, &self.routes_path(), None).await?)?;
        let v = self.json(&reply)?;
        let routes = match v {
            Value::Null => Vec::new(),
            Value::Array(a) => a,
            other => {
                return Err(RemoteError::Protocol {
                    endpoint: reply.endpoint,
                    detail: format!("routes should be a list, got {other}"),
                })
            }
        };
        Ok(routes
            .iter()
            .filter_map(parse_route)
            .filter(|r| r.id.starts_with(&self.config.id_prefix))
            .map(|r| Self::summary(&r))
            .collect())
    }

    async fn create_site(&self, req: &CreateSite) -> Result<SiteCreated, RemoteError> {
        let root = match &req.source {
            SiteSource::Folder { root } => root.trim().to_owned(),
            SiteSource::Profile { .. } => {
                return Err(RemoteError::NotSupported(Operation::InstallSite))
            }
            SiteSource::Clone { .. } => {
                return Err(RemoteError::NotSupported(Operation::CloneSite))
            }
        };
        if !root.starts_with('/') || root.contains(['\n', '\r', '\0']) {
            return Err(RemoteError::InvalidRequest(format!(
                "the site folder '{root}' must be an absolute path"
            )));
        }
        let domain = Self::site_domain(&SiteTarget::named(&req.domain))?;
        let id = self.route_id(&domain);
        // Idempotency: the route id is derived from the domain, so a retry finds it.
        if self.route(&id).await?.is_some() {
            return Ok(SiteCreated {
                site: domain,
                remote_id: Some(id),
                already_existed: true,
                progress: Progress::Done,
            });
        }
        // Requests are logged from the first one on.
        self.ensure_access_log().await?;
        let route = json!({
            "@id": id,
            "match": [{"host": [domain]}],
            "handle": self.handlers(&root, false),
            "terminal": true
        });
        let reply = self
            .call(Method::POST, &self.routes_path(), Some(&route))
            .await?;
        self.check(reply)?;
        Ok(SiteCreated {
            site: domain,
            remote_id: Some(id),
            already_existed: false,
            progress: Progress::Done,
        })
    }

    async fn suspend_site(&self, req: &SuspendSite) -> Result<Changed, RemoteError> {
        self.set_suspended(&req.site, true).await
    }

    async fn unsuspend_site(&self, site: &SiteTarget) -> Result<Changed, RemoteError> {
        self.set_suspended(site, false).await
    }

    async fn delete_site(&self, site: &SiteTarget) -> Result<Changed, RemoteError> {
        let id = self.id_of(site)?;
        let reply = self
            .call(Method::DELETE, &format!("/id/{id}"), None)
            .await?;
        if reply.status == 404 {
            return Ok(done(true));
        }
        self.check(reply)?;
        Ok(done(false))
    }

    /// The bytes the site served in the month, from the access log (read since the last call).
    async fn usage(&self, req: &UsageRequest) -> Result<Usage, RemoteError> {
        if !(1..=12).contains(&req.month) {
            return Err(RemoteError::InvalidRequest(format!(
                "month {} is not 1 to 12",
                req.month
            )));
        }
        let domain = Self::site_domain(&req.site)?;
        let path = if self.log_ensured.load(Ordering::Relaxed) {
            self.config.access_log.clone()
        } else {
            let p = self.ensure_access_log().await?;
            self.log_ensured.store(p.is_some(), Ordering::Relaxed);
            p
        };
        let Some(path) = path else {
            return Err(RemoteError::InvalidRequest(
                "this Caddy server has no access log to measure usage from: set the server's access log file".into(),
            ));
        };
        let log = self.log.clone();
        let (year, month) = (req.year, req.month);
        let bytes = tokio::task::spawn_blocking(move || {
            let mut guard = log
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if guard.as_ref().is_some_and(|r| r.path() != path) {
                *guard = None;
            }
            let reader = guard.get_or_insert_with(|| AccessLog::new(&path));
            reader
                .refresh()
                .map(|()| reader.bytes(&domain, year, month))
        })
        .await
        .map_err(|e| RemoteError::remote(format!("reading the access log: {e}")))?
        .map_err(|e| RemoteError::remote(format!("reading the access log: {e}")))?;
        Ok(Usage {
            site: req.site.name.clone(),
            year,
            month,
            disk_used_mb: None,
            disk_limit_mb: None,
            bandwidth_bytes: Some(bytes),
            bandwidth_limit_bytes: None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// HTTPS: a site's certificate (automatic through ACME, or a bundle the reseller uploaded)
// ---------------------------------------------------------------------------------------------

/// How a site on Caddy gets its certificate.
///
/// - `Acme`: an automation policy `{"@id": "hostdesk-tls-DOMAIN", "subjects": [DOMAIN],
///   "issuers": [{"module": "acme", ...}]}` first in `apps.tls.automation.policies`; Caddy's
///   automatic HTTPS obtains and renews the certificate (the route's host is managed on any
///   server listening on the HTTPS port).
/// - `Bundled`: `{"@id": "hostdesk-cert-DOMAIN", "certificate": PEM, "key": PEM}` in
///   `apps.tls.certificates.load_pem`; automatic HTTPS leaves a name with a loaded certificate
///   alone.
/// - `Off`: neither, and the domain in the server's `automatic_https.skip` list (plain HTTP).
#[derive(Debug, Clone)]
pub enum CaddyTls {
    Off,
    Acme {
        /// The ACME directory URL; `None`: Caddy's defaults (Let's Encrypt, then ZeroSSL).
        ca: Option<String>,
        email: Option<String>,
        /// PEM files on the Caddy machine that the ACME server's own HTTPS certificate chains
        /// to (a private CA such as a test server); empty: the system's roots.
        trusted_roots_pem_files: Vec<String>,
    },
    Bundled {
        certificate_pem: String,
        /// The private key: it goes to Caddy's configuration and nowhere else.
        key_pem: crate::Secret,
    },
}

impl CaddyDriver {
    /// The `@id` of a site's ACME policy.
    pub fn tls_policy_id(&self, domain: &str) -> String {
        format!("hostdesk-tls-{domain}")
    }

    /// The `@id` of a site's loaded certificate.
    pub fn tls_cert_id(&self, domain: &str) -> String {
        format!("hostdesk-cert-{domain}")
    }

    /// GET a config path: `Ok(None)` when it is unset or its parent does not exist.
    async fn get_path(&self, path: &str) -> Result<Option<Value>, RemoteError> {
        let reply = self.call(Method::GET, path, None).await?;
        if matches!(reply.status, 400 | 404) {
            return Ok(None);
        }
        let reply = self.check(reply)?;
        Ok(Some(self.json(&reply)?).filter(|v| !v.is_null()))
    }

    /// Makes sure `apps.tls.automation.policies` and `apps.tls.certificates.load_pem` exist.
    async fn ensure_tls_app(&self) -> Result<(), RemoteError> {
        let tls = "/config/apps/tls";
        let steps: [(&str, &str, Value); 4] = [
            (
                tls,
                tls,
                json!({"automation": {"policies": []}, "certificates": {"load_pem": []}}),
            ),
            (
                "/config/apps/tls/automation",
                "/config/apps/tls/automation",
                json!({"policies": []}),
            ),
            (
                "/config/apps/tls/automation/policies",
                "/config/apps/tls/automation/policies",
                json!([]),
            ),
            (
                "/config/apps/tls/certificates",
                "/config/apps/tls/certificates",
                json!({"load_pem": []}),
            ),
        ];
        for (get, put, value) in steps {
            if self.get_path(get).await?.is_none() {
                let reply = self.call(Method::PUT, put, Some(&value)).await?;
                self.check(reply)?;
            }
        }
        if self
            .get_path("/config/apps/tls/certificates/load_pem")
            .await?
            .is_none()
        {
            let reply = self
                .call(
                    Method::PUT,
                    "/config/apps/tls/certificates/load_pem",
                    Some(&json!([])),
                )
                .await?;
            self.check(reply)?;
        }
        Ok(())
    }

    /// Deletes an object by `@id`; `false` when Caddy did not know it.
    async fn delete_id(&self, id: &str) -> Result<bool, RemoteError> {
        let reply = self
            .call(Method::DELETE, &format!("/id/{id}"), None)
            .await?;
        if reply.status == 404 {
            return Ok(false);
        }
        self.check(reply)?;
        Ok(true)
    }

    /// Adds or removes the domain in the server's `automatic_https.skip`; true if it changed.
    async fn set_skip(&self, domain: &str, skip: bool) -> Result<bool, RemoteError> {
        let base = format!(
            "/config/apps/http/servers/{}/automatic_https",
            self.config.server_name
        );
        let list: Vec<String> = match self.get_path(&format!("{base}/skip")).await? {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let at = list.iter().position(|d| d == domain);
        match (skip, at) {
            (true, Some(_)) | (false, None) => Ok(false),
            (true, None) => {
                let (path, body) = if self.get_path(&base).await?.is_none() {
                    (base.clone(), json!({"skip": [domain]}))
                } else if list.is_empty() {
                    (format!("{base}/skip"), json!([domain]))
                } else {
                    (format!("{base}/skip"), json!(domain))
                };
                let reply = self.call(Method::POST, &path, Some(&body)).await?;
                self.check(reply)?;
                Ok(true)
            }
            (false, Some(i)) => {
                let reply = self
                    .call(Method::DELETE, &format!("{base}/skip/{i}"), None)
                    .await?;
                self.check(reply)?;
                Ok(true)
            }
        }
    }

    /// Sets how the site's certificate is obtained (see [`CaddyTls`]). Safe to repeat: the
    /// state is compared first; `already` says nothing had to change.
    pub async fn set_tls(&self, domain: &str, tls: &CaddyTls) -> Result<Changed, RemoteError> {
        let domain = Self::site_domain(&SiteTarget::named(domain))?;
        let policy_id = self.tls_policy_id(&domain);
        let cert_id = self.tls_cert_id(&domain);
        let current_policy = self.get_path(&format!("/id/{policy_id}")).await?;
        let current_cert = self.get_path(&format!("/id/{cert_id}")).await?;
        let mut changed = false;
        match tls {
            CaddyTls::Off => {
                changed |= self.delete_id(&policy_id).await?;
                changed |= self.delete_id(&cert_id).await?;
                changed |= self.set_skip(&domain, true).await?;
            }
            CaddyTls::Acme {
                ca,
                email,
                trusted_roots_pem_files,
            } => {
                let mut issuer = json!({"module": "acme"});
                if let Some(ca) = ca.as_deref().filter(|c| !c.trim().is_empty()) {
                    issuer["ca"] = json!(ca.trim());
                }
                if let Some(e) = email.as_deref().filter(|e| !e.trim().is_empty()) {
                    issuer["email"] = json!(e.trim());
                }
                if !trusted_roots_pem_files.is_empty() {
                    issuer["trusted_roots_pem_files"] = json!(trusted_roots_pem_files);
                }
                let policy = json!({"@id": policy_id, "subjects": [domain], "issuers": [issuer]});
                if current_cert.is_some() {
                    changed |= self.delete_id(&cert_id).await?;
                }
                if current_policy.as_ref() != Some(&policy) {
                    self.ensure_tls_app().await?;
                    self.delete_id(&policy_id).await?;
                    // First: a policy with subjects must come before any catch-all one.
                    let reply = self
                        .call(
                            Method::PUT,
                            "/config/apps/tls/automation/policies/0",
                            Some(&policy),
                        )
                        .await?;
                    self.check(reply)?;
                    changed = true;
                }
                changed |= self.set_skip(&domain, false).await?;
            }
            CaddyTls::Bundled {
                certificate_pem,
                key_pem,
            } => {
                if current_policy.is_some() {
                    changed |= self.delete_id(&policy_id).await?;
                }
                let same = current_cert.as_ref().is_some_and(|c| {
                    c.get("certificate").and_then(Value::as_str) == Some(certificate_pem.as_str())
                        && c.get("key").and_then(Value::as_str) == Some(key_pem.expose())
                });
                if !same {
                    self.ensure_tls_app().await?;
                    self.delete_id(&cert_id).await?;
                    let body = json!({
                        "@id": cert_id,
                        "certificate": certificate_pem,
                        "key": key_pem.expose(),
                        "tags": ["hostdesk", format!("hostdesk-site-{domain}")]
                    });
                    let reply = self
                        .call(
                            Method::POST,
                            "/config/apps/tls/certificates/load_pem",
                            Some(&body),
                        )
                        .await?;
                    self.check(reply).map_err(|e| match e {
                        // Never echo the request (it holds the key): Caddy's message only.
                        RemoteError::Remote { reason } => RemoteError::Remote {
                            reason: reason.replace(key_pem.expose(), "<redacted>"),
                        },
                        other => other,
                    })?;
                    changed = true;
                }
                changed |= self.set_skip(&domain, false).await?;
            }
        }
        Ok(done(!changed))
    }
}
