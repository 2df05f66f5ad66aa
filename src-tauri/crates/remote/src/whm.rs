//! [`WhmDriver`]: cPanel & WHM through WHM API 1.
//!
//! `https://HOST:2087/json-api/FUNCTION?api.version=1`, header `Authorization: whm USER:TOKEN`,
//! reply `{"metadata":{"result":1|0,"reason":...},"data":...}`. `result: 0` is a failure even
//! with HTTP 200 ([`RemoteError::Remote`] with the reason). Synchronous: every operation is
//! [`Progress::Done`] when it returns.
//!
//! Reads use GET with the parameters in the query; writes use POST with the parameters in a
//! form body, so that a password never sits in a URL (WHM accepts both).
//!
//! A WHM "site" is an account: [`SiteTarget::name`] is its main domain and
//! [`SiteTarget::remote_id`] its user name.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use url::Url;

use crate::driver::HostingDriver;
use crate::error::RemoteError;
use crate::http::{parse_base_url, root_of, Http, HttpConfig};
use crate::json::{int, megabytes, text};
use crate::secret::Secret;
use crate::types::*;

/// How to reach a WHM server. `Debug` shows the token as `<redacted>`.
#[derive(Debug, Clone)]
pub struct WhmConfig {
    /// e.g. `https://whm.example.com:2087` (a test points it at `http://127.0.0.1:PORT`).
    pub base_url: Url,
    /// The WHM user that owns the API token (`root` or a reseller).
    pub user: String,
    pub token: Secret,
    /// The service of login links when a request names none.
    pub default_service: String,
    pub http: HttpConfig,
}

impl WhmConfig {
    pub fn new(base_url: &str, user: &str, token: Secret) -> Result<Self, RemoteError> {
        let user = user.trim();
        if user.is_empty() || user.contains(':') || user.contains(char::is_whitespace) {
            return Err(RemoteError::InvalidRequest(format!(
                "'{user}' is not a WHM user name"
            )));
        }
        Ok(WhmConfig {
            base_url: parse_base_url(base_url)?,
            user: user.to_owned(),
            token,
            default_service: "cpaneld".into(),
            http: HttpConfig::default(),
        })
    }
}

/// One WHM account as `listaccts` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Account {
    user: String,
    domain: String,
    plan: Option<String>,
    email: Option<String>,
    suspended: bool,
}

impl Account {
    fn summary(&self) -> SiteSummary {
        SiteSummary {
            name: self.domain.clone(),
            remote_id: Some(self.user.clone()),
            status: if self.suspended {
                SiteStatus::Suspended
            } else {
                SiteStatus::Active
            },
            plan: self.plan.clone(),
            client: self.email.clone(),
        }
    }
}

/// The cPanel WHM driver.
#[derive(Debug)]
pub struct WhmDriver {
    config: WhmConfig,
    http: Http,
    root: String,
}

fn done(already: bool) -> Changed {
    Changed {
        already,
        progress: Progress::Done,
    }
}

impl WhmDriver {
    pub fn new(config: WhmConfig) -> Result<Self, RemoteError> {
        if config.token.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the WHM API token is empty".into(),
            ));
        }
        let http = Http::new(&config.http, vec![config.token.clone()])?;
        let root = root_of(&config.base_url);
        Ok(WhmDriver { config, http, root })
    }

    pub fn config(&self) -> &WhmConfig {
        &self.config
    }

    /// Calls one WHM API 1 function and returns its `data` (`null` when absent).
    pub async fn call(
        &self,
        function: &str,
        method: Method,
        params: &[(&str, String)],
    ) -> Result<Value, RemoteError> {
        if function.is_empty()
            || !function
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(RemoteError::InvalidRequest(format!(
                "'{function}' is not a WHM function name"
            )));
        }
        let auth = format!("whm {}:{}", self.config.user, self.config.token.expose());
        let (name, value) = Http::secret_header("authorization", &auth)?;
        let url = format!("{}/json-api/{function}", self.root);
        let mut rb = self
            .http
            .request(method.clone(), &url)
            .header(name, value)
            .query(&[("api.version", "1")]);
        rb = if method == Method::GET {
            rb.query(params)
        } else {
            rb.form(params)
        };
        let reply = self.http.send_ok(rb).await?;
        let body: Value = self.http.json(&reply)?;
        let Some(meta) = body.get("metadata").filter(|m| m.is_object()) else {
            return Err(RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: format!(
                    "WHM {function}: the reply has no metadata (is this WHM API 1?): {}",
                    self.http.scrub(&crate::error::excerpt(&reply.body))
                ),
            });
        };
        match int(meta, "result") {
            Some(1) => Ok(body.get("data").cloned().unwrap_or(Value::Null)),
            Some(0) => {
                let reason = text(meta, "reason").unwrap_or_else(|| "no reason given".into());
                Err(RemoteError::remote(
                    self.http.scrub(&format!("WHM {function} failed: {reason}")),
                ))
            }
            other => Err(RemoteError::Protocol {
                endpoint: reply.endpoint,
                detail: format!("WHM {function}: metadata.result is {other:?}, not 1 or 0"),
            }),
        }
    }

    async fn listaccts(&self, search: Option<(&str, &str)>) -> Result<Vec<Account>, RemoteError> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some((searchtype, value)) = search {
            params.push(("search", format!("^{}$", regex_escape(value))));
            params.push(("searchtype", searchtype.to_owned()));
        }
        let data = self.call("listaccts", Method::GET, &params).await?;
        let accts = match data.get("acct") {
            Some(Value::Array(a)) => a.clone(),
            None | Some(Value::Null) => Vec::new(),
            Some(other) => {
                return Err(RemoteError::Protocol {
                    endpoint: format!("GET {}/json-api/listaccts", self.root),
                    detail: format!("data.acct should be a list, got {other}"),
                })
            }
        };
        accts
            .iter()
            .map(|a| {
                Ok(Account {
                    user: text(a, "user").ok_or_else(|| RemoteError::Protocol {
                        endpoint: format!("GET {}/json-api/listaccts", self.root),
                        detail: "an account without a user".into(),
                    })?,
                    domain: text(a, "domain").unwrap_or_default(),
                    plan: text(a, "plan"),
                    email: text(a, "email"),
                    suspended: int(a, "suspended").unwrap_or(0) != 0,
                })
            })
            .collect()
    }

    async fn by_user(&self, user: &str) -> Result<Option<Account>, RemoteError> {
        let found = self.listaccts(Some(("user", user))).await?;
        Ok(found.into_iter().find(|a| a.user == user))
    }

    async fn by_domain(&self, domain: &str) -> Result<Option<Account>, RemoteError> {
        let found = self.listaccts(Some(("domain", domain))).await?;
        Ok(found
            .into_iter()
            .find(|a| a.domain.eq_ignore_ascii_case(domain)))
    }

    /// The account behind a site: by user name when known, else by domain.
    async fn lookup(&self, site: &SiteTarget) -> Result<Option<Account>, RemoteError> {
        match site.remote_id.as_deref().filter(|u| !u.is_empty()) {
            Some(user) => {
                check_username(user)?;
                self.by_user(user).await
            }
            None => {
                let domain = hostdesk_core::validate::domain(&site.name)
                    .map_err(|e| RemoteError::InvalidRequest(format!("site domain {e}")))?;
                self.by_domain(&domain).await
            }
        }
    }

    async fn account(&self, site: &SiteTarget) -> Result<Account, RemoteError> {
        self.lookup(site).await?.ok_or_else(|| {
            RemoteError::remote(format!(
                "this WHM server has no account for {}{}",
                site.name,
                site.remote_id
                    .as_deref()
                    .map(|u| format!(" (user {u})"))
                    .unwrap_or_default()
            ))
        })
    }
}

/// An error of `installssl` with the private key taken out, should the server have echoed it.
fn scrub_key(e: RemoteError, key: &str) -> RemoteError {
    let key = key.trim();
    match e {
        RemoteError::Remote { reason } if !key.is_empty() && reason.contains(key) => {
            RemoteError::Remote {
                reason: reason.replace(key, "<redacted>"),
            }
        }
        RemoteError::Protocol { endpoint, detail } if !key.is_empty() => RemoteError::Protocol {
            endpoint,
            detail: detail.replace(key, "<redacted>"),
        },
        other => other,
    }
}

/// WHM user names: a lower-case letter then letters or digits, 16 characters at most.
fn check_username(user: &str) -> Result<(), RemoteError> {
    let ok = (1..=16).contains(&user.len())
        && user.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && user
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(RemoteError::InvalidRequest(format!(
            "'{user}' is not a valid WHM user name (a lower-case letter, then letters or digits, at most 16)"
        )))
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl HostingDriver for WhmDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Whm
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new([
            Operation::CreateClientAccount,
            Operation::SuspendSite,
            Operation::UnsuspendSite,
            Operation::DeleteSite,
            Operation::ChangePackage,
            Operation::SetQuota,
            Operation::LoginLink,
            Operation::ListSites,
            Operation::Usage,
            Operation::Certificate,
        ])
    }

    fn resources(&self) -> ResourceSupport {
        use hostdesk_core::catalog::Resource::{BandwidthMb, DiskMb};
        ResourceSupport {
            measures: vec![DiskMb, BandwidthMb],
            enforces: vec![DiskMb, BandwidthMb],
        }
    }

    async fn test_connection(&self) -> Result<ServerInfo, RemoteError> {
        let version = self.call("version", Method::GET, &[]).await?;
        let accounts = self.listaccts(None).await?;
        let pkgs = self.call("listpkgs", Method::GET, &[]).await?;
        let mut profiles: Vec<String> = pkgs
            .get("pkg")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|p| text(p, "name")).collect())
            .unwrap_or_default();
        profiles.sort();
        Ok(ServerInfo {
            version: text(&version, "version"),
            sites: accounts.len() as u64,
            profiles,
        })
    }

    async fn find_site(&self, name: &str) -> Result<Option<SiteSummary>, RemoteError> {
        Ok(self
            .lookup(&SiteTarget::named(name))
            .await?
            .map(|a| a.summary()))
    }

    async fn list_sites(&self) -> Result<Vec<SiteSummary>, RemoteError> {
        Ok(self
            .listaccts(None)
            .await?
            .iter()
            .map(Account::summary)
            .collect())
    }

    async fn create_client_account(
        &self,
        req: &CreateClientAccount,
    ) -> Result<AccountCreated, RemoteError> {
        check_username(&req.username)?;
        let domain = hostdesk_core::validate::domain(&req.domain)
            .map_err(|e| RemoteError::InvalidRequest(format!("account domain {e}")))?;
        let email = hostdesk_core::validate::email(&req.contact_email)
            .map_err(|e| RemoteError::InvalidRequest(format!("contact e-mail {e}")))?;
        // Idempotency: an earlier attempt may have created it and lost the reply.
        if let Some(existing) = self.by_user(&req.username).await? {
            if existing.domain.eq_ignore_ascii_case(&domain) {
                return Ok(AccountCreated {
                    remote_id: existing.user,
                    already_existed: true,
                });
            }
            return Err(RemoteError::remote(format!(
                "the WHM user name {} is already taken by the domain {}",
                existing.user, existing.domain
            )));
        }
        let mut params: Vec<(&str, String)> = vec![
            ("username", req.username.clone()),
            ("domain", domain),
            ("contactemail", email),
        ];
        if let Some(plan) = req.plan.as_ref().filter(|p| !p.trim().is_empty()) {
            params.push(("plan", plan.clone()));
        }
        if let Some(pw) = &req.password {
            params.push(("password", pw.expose().to_owned()));
        }
        self.call("createacct", Method::POST, &params).await?;
        Ok(AccountCreated {
            remote_id: req.username.clone(),
            already_existed: false,
        })
    }

    /// WHM has no sites apart from accounts: create the account with
    /// [`HostingDriver::create_client_account`].
    async fn create_site(&self, req: &CreateSite) -> Result<SiteCreated, RemoteError> {
        Err(RemoteError::NotSupported(match req.source {
            SiteSource::Profile { .. } => Operation::InstallSite,
            SiteSource::Clone { .. } => Operation::CloneSite,
            SiteSource::Folder { .. } => Operation::FolderSite,
        }))
    }

    async fn suspend_site(&self, req: &SuspendSite) -> Result<Changed, RemoteError> {
        let acct = self.account(&req.site).await?;
        if acct.suspended {
            return Ok(done(true));
        }
        let params = [("user", acct.user), ("reason", req.reason.clone())];
        self.call("suspendacct", Method::POST, &params).await?;
        Ok(done(false))
    }

    async fn unsuspend_site(&self, site: &SiteTarget) -> Result<Changed, RemoteError> {
        let acct = self.account(site).await?;
        if !acct.suspended {
            return Ok(done(true));
        }
        self.call("unsuspendacct", Method::POST, &[("user", acct.user)])
            .await?;
        Ok(done(false))
    }

    async fn delete_site(&self, site: &SiteTarget) -> Result<Changed, RemoteError> {
        let Some(acct) = self.lookup(site).await? else {
            return Ok(done(true));
        };
        self.call("removeacct", Method::POST, &[("username", acct.user)])
            .await?;
        Ok(done(false))
    }

    async fn change_package(&self, req: &ChangePackage) -> Result<Changed, RemoteError> {
        if req.package.trim().is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the package name is empty".into(),
            ));
        }
        let acct = self.account(&req.site).await?;
        if acct.plan.as_deref() == Some(req.package.trim()) {
            return Ok(done(true));
        }
        let params = [("user", acct.user), ("pkg", req.package.trim().to_owned())];
        self.call("changepackage", Method::POST, &params).await?;
        Ok(done(false))
    }

    async fn set_quota(&self, req: &SetQuota) -> Result<Changed, RemoteError> {
        if req.disk_mb.is_none() && req.bandwidth_mb.is_none() {
            return Err(RemoteError::InvalidRequest(
                "set at least one quota (disk or bandwidth)".into(),
            ));
        }
        let acct = self.account(&req.site).await?;
        if let Some(mb) = req.disk_mb {
            let params = [("user", acct.user.clone()), ("quota", mb.to_string())];
            self.call("editquota", Method::POST, &params).await?;
        }
        if let Some(mb) = req.bandwidth_mb {
            let params = [("user", acct.user.clone()), ("bwlimit", mb.to_string())];
            self.call("limitbw", Method::POST, &params).await?;
        }
        Ok(done(false))
    }

    /// Off: AutoSSL off for the account (`add_override_features_for_user` `{"autossl":0}`; a
    /// certificate already installed stays until it ends). Automatic: AutoSSL on, then
    /// `start_autossl_check_for_one_user` (the certificate comes in the background; `ssl.check`
    /// reads it). Bundled: AutoSSL off (so it never replaces the bought certificate), then
    /// `installssl` (domain, crt, cab, key; POST so the key sits in no URL).
    async fn set_certificate(&self, req: &SetCertificate) -> Result<Changed, RemoteError> {
        let acct = self.account(&req.site).await?;
        let autossl = |on: bool| {
            [
                ("user", acct.user.clone()),
                ("features", format!("{{\"autossl\":{}}}", u8::from(on))),
            ]
        };
        match &req.setting {
            CertificateSetting::Off => {
                self.call(
                    "add_override_features_for_user",
                    Method::POST,
                    &autossl(false),
                )
                .await?;
            }
            CertificateSetting::Automatic => {
                self.call(
                    "add_override_features_for_user",
                    Method::POST,
                    &autossl(true),
                )
                .await?;
                self.call(
                    "start_autossl_check_for_one_user",
                    Method::POST,
                    &[("username", acct.user.clone())],
                )
                .await?;
            }
            CertificateSetting::Bundled {
                certificate_pem,
                key_pem,
            } => {
                let (crt, cab) = crate::certs::split_chain(certificate_pem);
                if crt.is_empty() {
                    return Err(RemoteError::InvalidRequest(
                        "the bundle holds no certificate".into(),
                    ));
                }
                self.call(
                    "add_override_features_for_user",
                    Method::POST,
                    &autossl(false),
                )
                .await?;
                let mut params = vec![
                    ("domain", acct.domain.clone()),
                    ("crt", crt),
                    ("key", key_pem.expose().to_owned()),
                ];
                if !cab.is_empty() {
                    params.push(("cab", cab));
                }
                self.call("installssl", Method::POST, &params)
                    .await
                    .map_err(|e| scrub_key(e, key_pem.expose()))?;
            }
        }
        Ok(done(false))
    }

    async fn login_link(&self, req: &LoginLinkRequest) -> Result<LoginLink, RemoteError> {
        let acct = self.account(&req.site).await?;
        let service = req
            .service
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| self.config.default_service.clone());
        let params = [("user", acct.user), ("service", service)];
        let data = self
            .call("create_user_session", Method::POST, &params)
            .await?;
        let url = text(&data, "url").ok_or_else(|| RemoteError::Protocol {
            endpoint: format!("POST {}/json-api/create_user_session", self.root),
            detail: "the reply has no data.url".into(),
        })?;
        Ok(LoginLink {
            url: Some(Secret::new(url)),
            progress: Progress::Done,
        })
    }

    async fn usage(&self, req: &UsageRequest) -> Result<Usage, RemoteError> {
        if !(1..=12).contains(&req.month) {
            return Err(RemoteError::InvalidRequest(format!(
                "month {} is not 1 to 12",
                req.month
            )));
        }
        let acct = self.account(&req.site).await?;
        let summary = self
            .call(
                "accountsummary",
                Method::GET,
                &[("user", acct.user.clone())],
            )
            .await?;
        let row = summary
            .get("acct")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or(Value::Null);
        let params = [
            ("month", req.month.to_string()),
            ("year", req.year.to_string()),
            ("search", acct.user.clone()),
            ("searchtype", "user".to_owned()),
        ];
        let bw = self.call("showbw", Method::GET, &params).await?;
        let bw_row = bw
            .get("acct")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter()
                    .find(|r| text(r, "user").as_deref() == Some(&acct.user))
            })
            .cloned()
            .unwrap_or(Value::Null);
        let bytes = |v: &Value, k: &str| int(v, k).and_then(|n| u64::try_from(n).ok());
        Ok(Usage {
            site: acct.domain,
            year: req.year,
            month: req.month,
            disk_used_mb: megabytes(&row, "diskused"),
            disk_limit_mb: megabytes(&row, "disklimit"),
            bandwidth_bytes: bytes(&bw_row, "totalbytes"),
            bandwidth_limit_bytes: bytes(&bw_row, "limit").filter(|n| *n > 0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("shop1").is_ok());
        assert!(check_username("1shop").is_err());
        assert!(check_username("Shop").is_err());
        assert!(check_username("averyveryverylongname").is_err());
        assert!(check_username("").is_err());
    }

    #[test]
    fn escapes_regex() {
        assert_eq!(regex_escape("a.b-c"), "a\\.b-c");
    }
}
