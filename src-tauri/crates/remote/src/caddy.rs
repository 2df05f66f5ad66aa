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

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

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
        }
    }
}

/// The Caddy driver. Synchronous: Caddy applies a change before it answers.
#[derive(Debug)]
pub struct CaddyDriver {
    config: CaddyConfig,
    http: Http,
    root: String,
}

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
        Ok(CaddyDriver { config, http, root })
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
        ])
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
}
