//! [`FakeWhm`]: cPanel WHM API 1, in memory.
//!
//! `/json-api/FUNCTION?api.version=1` with parameters in the query (GET) or a form body (POST),
//! header `Authorization: whm USER:TOKEN`, replies `{"metadata": {"command", "reason",
//! "result": 1|0, "version": 1}, "data": ...}`; a failure is `result: 0` with HTTP 200.
//! Functions: createacct, suspendacct, unsuspendacct, removeacct, changepackage,
//! accountsummary, listaccts, showbw, editquota, limitbw, create_user_session, version,
//! listpkgs, and the SSL ones: add_override_features_for_user (the `autossl` feature),
//! start_autossl_check_for_one_user, installssl (domain, crt, key, cab; the certificate must
//! name the domain of an account, the key must be a PEM private key). `search` takes a plain value, or `^value$` with `\`-escapes (WHM's regex, as far as
//! exact and anchored matches go).

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::{json_reply, Backend, Classified, FakeServer, Incoming};

/// The fake's settings.
#[derive(Debug, Clone)]
pub struct FakeWhmConfig {
    pub user: String,
    pub token: String,
    pub version: String,
    pub packages: Vec<String>,
}

impl Default for FakeWhmConfig {
    fn default() -> Self {
        FakeWhmConfig {
            user: "root".into(),
            token: "WHMTESTTOKEN0123456789ABCDEF".into(),
            version: "11.130.0.5".into(),
            packages: vec!["default".into(), "basic".into(), "pro".into()],
        }
    }
}

/// An account as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeAccount {
    pub user: String,
    pub domain: String,
    pub plan: String,
    pub email: String,
    pub suspended: bool,
    pub suspend_reason: String,
    /// 0: unlimited.
    pub quota_mb: u64,
    /// 0: unlimited.
    pub bwlimit_mb: u64,
    pub disk_used_mb: u64,
    /// Bytes per (year, month).
    pub bandwidth: BTreeMap<(i32, u32), u64>,
    /// Whether createacct got a password.
    pub had_password: bool,
    /// The account's `autossl` feature override (`None`: the feature list's default, on).
    pub autossl: Option<bool>,
    /// AutoSSL checks started for the account.
    pub autossl_checks: u32,
}

/// A certificate installed with `installssl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeInstalledSsl {
    pub user: String,
    pub crt: String,
    pub cab: String,
    pub serial: String,
    pub not_after: String,
}

struct State {
    config: FakeWhmConfig,
    accounts: BTreeMap<String, FakeAccount>,
    /// By domain.
    ssl: BTreeMap<String, FakeInstalledSsl>,
    sessions: u64,
}

struct WhmBackend {
    state: Mutex<State>,
}

/// The fake WHM. Derefs to [`FakeServer`] for the request log (`count("createacct")`), faults
/// and `stop_listening`.
pub struct FakeWhm {
    server: FakeServer,
    backend: Arc<WhmBackend>,
}

impl Deref for FakeWhm {
    type Target = FakeServer;
    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeWhm {
    pub async fn start() -> FakeWhm {
        Self::start_with(FakeWhmConfig::default()).await
    }

    pub async fn start_with(config: FakeWhmConfig) -> FakeWhm {
        let backend = Arc::new(WhmBackend {
            state: Mutex::new(State {
                config,
                accounts: BTreeMap::new(),
                ssl: BTreeMap::new(),
                sessions: 0,
            }),
        });
        let server = FakeServer::start(backend.clone()).await;
        FakeWhm { server, backend }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.backend.state)
    }

    pub fn user(&self) -> String {
        self.state().config.user.clone()
    }

    pub fn token(&self) -> String {
        self.state().config.token.clone()
    }

    pub fn account(&self, user: &str) -> Option<FakeAccount> {
        self.state().accounts.get(user).cloned()
    }

    /// The certificate `installssl` put on a domain.
    pub fn installed_ssl(&self, domain: &str) -> Option<FakeInstalledSsl> {
        self.state().ssl.get(domain).cloned()
    }

    pub fn accounts(&self) -> Vec<FakeAccount> {
        self.state().accounts.values().cloned().collect()
    }

    /// Puts an account in place directly.
    pub fn add_account(&self, user: &str, domain: &str, plan: &str) {
        self.state().accounts.insert(
            user.into(),
            FakeAccount {
                user: user.into(),
                domain: domain.into(),
                plan: plan.into(),
                email: format!("owner@{domain}"),
                suspended: false,
                suspend_reason: String::new(),
                quota_mb: 0,
                bwlimit_mb: 0,
                disk_used_mb: 0,
                bandwidth: BTreeMap::new(),
                had_password: false,
                autossl: None,
                autossl_checks: 0,
            },
        );
    }

    pub fn set_disk_used(&self, user: &str, mb: u64) {
        if let Some(a) = self.state().accounts.get_mut(user) {
            a.disk_used_mb = mb;
        }
    }

    pub fn set_bandwidth(&self, user: &str, year: i32, month: u32, bytes: u64) {
        if let Some(a) = self.state().accounts.get_mut(user) {
            a.bandwidth.insert((year, month), bytes);
        }
    }
}

fn ok(function: &str, reason: &str, data: Value) -> Response {
    json_reply(
        StatusCode::OK,
        &json!({
            "metadata": {"command": function, "reason": reason, "result": 1, "version": 1},
            "data": data,
        }),
    )
}

fn fail(function: &str, reason: &str) -> Response {
    json_reply(
        StatusCode::OK,
        &json!({
            "metadata": {"command": function, "reason": reason, "result": 0, "version": 1},
        }),
    )
}

fn mb_text(mb: u64) -> String {
    if mb == 0 {
        "unlimited".into()
    } else {
        format!("{mb}M")
    }
}

fn row(a: &FakeAccount) -> Value {
    json!({
        "user": a.user,
        "domain": a.domain,
        "plan": a.plan,
        "email": a.email,
        "suspended": i64::from(a.suspended),
        "suspendreason": if a.suspended { a.suspend_reason.clone() } else { "not suspended".into() },
        "diskused": format!("{}M", a.disk_used_mb),
        "disklimit": mb_text(a.quota_mb),
        "ip": "127.0.0.1",
        "owner": "root",
        "partition": "home",
        "unix_startdate": 1_700_000_000,
    })
}

/// WHM's search: `^x$` exact, `^x` prefix, `x$` suffix, `x` contains; `\` escapes; no case.
fn search_matches(pattern: &str, value: &str) -> bool {
    let (start, rest) = match pattern.strip_prefix('^') {
        Some(r) => (true, r),
        None => (false, pattern),
    };
    let (end, body) = match rest.strip_suffix('$') {
        Some(b) if !b.ends_with('\\') => (true, b),
        _ => (false, rest),
    };
    let mut lit = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                lit.push(n);
            }
        } else {
            lit.push(c);
        }
    }
    let lit = lit.to_ascii_lowercase();
    let value = value.to_ascii_lowercase();
    match (start, end) {
        (true, true) => value == lit,
        (true, false) => value.starts_with(&lit),
        (false, true) => value.ends_with(&lit),
        (false, false) => value.contains(&lit),
    }
}

fn valid_user(u: &str) -> bool {
    (1..=16).contains(&u.len())
        && u.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl State {
    fn filtered(&self, req: &Incoming) -> Vec<&FakeAccount> {
        let search = req.param("search").filter(|s| !s.is_empty());
        let searchtype = req.param("searchtype").unwrap_or("domain");
        self.accounts
            .values()
            .filter(|a| match search {
                None => true,
                Some(p) => {
                    let field = match searchtype {
                        "user" => &a.user,
                        "package" => &a.plan,
                        _ => &a.domain,
                    };
                    search_matches(p, field)
                }
            })
            .collect()
    }

    fn handle(&mut self, function: &str, req: &Incoming) -> Response {
        let p = |k: &str| req.param(k).unwrap_or("").trim().to_owned();
        let missing_user = |u: &str| format!("(XID fake01) The user “{u}” does not exist.");
        match function {
            "version" => ok(function, "OK", json!({"version": self.config.version})),
            "listpkgs" => {
                let pkgs: Vec<Value> = self
                    .config
                    .packages
                    .iter()
                    .map(|n| json!({"name": n, "QUOTA": "unlimited", "BWLIMIT": "unlimited"}))
                    .collect();
                ok(function, "OK", json!({"pkg": pkgs}))
            }
            "listaccts" => {
                let rows: Vec<Value> = self.filtered(req).into_iter().map(row).collect();
                ok(function, "OK", json!({"acct": rows}))
            }
            "accountsummary" => {
                let user = p("user");
                match self.accounts.get(&user) {
                    Some(a) => ok(function, "OK", json!({"acct": [row(a)]})),
                    None => fail(function, &format!("Account does not exist: {user}")),
                }
            }
            "createacct" => {
                let (user, domain) = (p("username"), p("domain").to_ascii_lowercase());
                let plan = req
                    .param("plan")
                    .filter(|s| !s.is_empty())
                    .unwrap_or("default")
                    .to_owned();
                if !valid_user(&user) {
                    return fail(
                        function,
                        &format!("(XID fake02) “{user}” is not a valid username."),
                    );
                }
                if domain.is_empty() || !domain.contains('.') {
                    return fail(function, "(XID fake03) You must specify a valid domain.");
                }
                if self.accounts.contains_key(&user) {
                    return fail(function, "Sorry, a group for that username already exists.");
                }
                if self.accounts.values().any(|a| a.domain == domain) {
                    return fail(
                        function,
                        &format!(
                            "(XID fake04) The domain “{domain}” already exists in the userdata."
                        ),
                    );
                }
                if !self.config.packages.contains(&plan) {
                    return fail(
                        function,
                        &format!("(XID fake05) The package “{plan}” does not exist."),
                    );
                }
                self.accounts.insert(
                    user.clone(),
                    FakeAccount {
                        user: user.clone(),
                        domain: domain.clone(),
                        plan: plan.clone(),
                        email: p("contactemail"),
                        suspended: false,
                        suspend_reason: String::new(),
                        quota_mb: 0,
                        bwlimit_mb: 0,
                        disk_used_mb: 0,
                        bandwidth: BTreeMap::new(),
                        had_password: req.param("password").is_some_and(|s| !s.is_empty()),
                        autossl: None,
                        autossl_checks: 0,
                    },
                );
                ok(
                    function,
                    "Account Creation Ok",
                    json!({"ip": "127.0.0.1", "nameserver": "ns1.whm.test",
                           "nameserver2": "ns2.whm.test", "package": plan}),
                )
            }
            "suspendacct" => {
                let user = p("user");
                match self.accounts.get_mut(&user) {
                    Some(a) => {
                        a.suspended = true;
                        a.suspend_reason = p("reason");
                        ok(function, &format!("Account {user} suspended"), Value::Null)
                    }
                    None => fail(function, &missing_user(&user)),
                }
            }
            "unsuspendacct" => {
                let user = p("user");
                match self.accounts.get_mut(&user) {
                    Some(a) => {
                        a.suspended = false;
                        a.suspend_reason.clear();
                        ok(
                            function,
                            &format!("Account {user} unsuspended"),
                            Value::Null,
                        )
                    }
                    None => fail(function, &missing_user(&user)),
                }
            }
            "removeacct" => {
                let user = p("username");
                match self.accounts.remove(&user) {
                    Some(_) => ok(function, &format!("{user} account removed"), Value::Null),
                    None => fail(function, &missing_user(&user)),
                }
            }
            "changepackage" => {
                let (user, pkg) = (p("user"), p("pkg"));
                if !self.config.packages.contains(&pkg) {
                    return fail(
                        function,
                        &format!("(XID fake06) The package “{pkg}” does not exist."),
                    );
                }
                match self.accounts.get_mut(&user) {
                    Some(a) => {
                        a.plan = pkg;
                        ok(function, "Account Upgraded/Downgraded", Value::Null)
                    }
                    None => fail(function, &missing_user(&user)),
                }
            }
            "editquota" => {
                let user = p("user");
                let Ok(quota) = p("quota").parse::<u64>() else {
                    return fail(
                        function,
                        "(XID fake07) The quota must be a whole number of megabytes.",
                    );
                };
                match self.accounts.get_mut(&user) {
                    Some(a) => {
                        a.quota_mb = quota;
                        ok(function, "OK", Value::Null)
                    }
                    None => fail(function, &missing_user(&user)),
                }
            }
            "limitbw" => {
                let user = p("user");
                let Ok(limit) = p("bwlimit").parse::<u64>() else {
                    return fail(
                        function,
                        "(XID fake08) The bandwidth limit must be a whole number of megabytes.",
                    );
                };
                match self.accounts.get_mut(&user) {
                    Some(a) => {
                        a.bwlimit_mb = limit;
                        ok(
                            function,
                            "OK",
                            json!({"bwlimits": [{"user": user, "domain": a.domain,
                                   "bwlimit": limit * 1024 * 1024, "bwlimitenable": u8::from(limit > 0)}]}),
                        )
                    }
                    None => fail(function, &missing_user(&user)),
                }
            }
            "showbw" => {
                let (Ok(month), Ok(year)) = (p("month").parse::<u32>(), p("year").parse::<i32>())
                else {
                    return fail(function, "(XID fake09) month and year are required.");
                };
                let rows: Vec<Value> = self
                    .filtered(req)
                    .into_iter()
                    .map(|a| {
                        json!({"user": a.user, "maindomain": a.domain, "owner": "root",
                               "totalbytes": a.bandwidth.get(&(year, month)).copied().unwrap_or(0),
                               "limit": a.bwlimit_mb * 1024 * 1024, "deleted": 0,
                               "bwusage": []})
                    })
                    .collect();
                ok(
                    function,
                    "OK",
                    json!({"month": month, "year": year, "acct": rows}),
                )
            }
            "create_user_session" => {
                let (user, service) = (p("user"), p("service"));
                if !self.accounts.contains_key(&user) {
                    return fail(function, &missing_user(&user));
                }
                if !["cpaneld", "webmaild", "whostmgrd"].contains(&service.as_str()) {
                    return fail(
                        function,
                        &format!("(XID fake10) Invalid service: “{service}”."),
                    );
                }
                self.sessions += 1;
                let token = format!("cpsess{:010}", 4_242_000_000 + self.sessions);
                let session = format!("{user}:fakesession{:08}", self.sessions);
                ok(
                    function,
                    "Created session",
                    json!({"url": format!("https://whm.test:2083/{token}/login/?session={session}"),
                           "session": session, "cp_security_token": format!("/{token}"),
                           "service": service, "expires": 1_700_000_900}),
                )
            }
            "add_override_features_for_user" => {
                let user = p("user");
                let Ok(Value::Object(features)) = serde_json::from_str::<Value>(&p("features"))
                else {
                    return fail(
                        function,
                        "(XID fake11) The “features” parameter must be a JSON object.",
                    );
                };
                let Some(a) = self.accounts.get_mut(&user) else {
                    return fail(function, &missing_user(&user));
                };
                for (name, v) in &features {
                    let on = match v {
                        Value::Number(n) => n.as_u64(),
                        Value::String(t) => t.parse::<u64>().ok(),
                        _ => None,
                    };
                    let Some(on @ (0 | 1)) = on else {
                        return fail(
                            function,
                            &format!("(XID fake12) The feature “{name}” must be 0 or 1."),
                        );
                    };
                    match name.as_str() {
                        "autossl" => a.autossl = Some(on == 1),
                        "backup" | "sslinstall" | "sslmanager" => {}
                        other => {
                            return fail(
                                function,
                                &format!("(XID fake13) “{other}” is not a valid feature name."),
                            )
                        }
                    }
                }
                ok(function, "OK", Value::Null)
            }
            "start_autossl_check_for_one_user" => {
                let user = p("username");
                match self.accounts.get_mut(&user) {
                    Some(a) => {
                        a.autossl_checks += 1;
                        ok(
                            function,
                            "OK",
                            json!({"pid": 40_000 + u64::from(a.autossl_checks)}),
                        )
                    }
                    None => fail(function, &missing_user(&user)),
                }
            }
            "installssl" => {
                let domain = p("domain").to_ascii_lowercase();
                let Some(user) = self
                    .accounts
                    .values()
                    .find(|a| a.domain == domain)
                    .map(|a| a.user.clone())
                else {
                    return fail(
                        function,
                        &format!("(XID fake14) The domain “{domain}” does not belong to any account on this server."),
                    );
                };
                let crt = req.param("crt").unwrap_or("").to_owned();
                let info = match hostdesk_remote::certs::pem_leaf_info(&crt) {
                    Ok(i) => i,
                    Err(e) => {
                        return fail(
                            function,
                            &format!("(XID fake15) The certificate is not valid: {e}"),
                        )
                    }
                };
                if !info.covers(&domain) {
                    return fail(
                        function,
                        &format!(
                            "(XID fake16) The certificate does not support the domain “{domain}”."
                        ),
                    );
                }
                if !hostdesk_remote::certs::has_private_key(req.param("key").unwrap_or("")) {
                    return fail(function, "(XID fake17) The private key is not valid.");
                }
                self.ssl.insert(
                    domain.clone(),
                    FakeInstalledSsl {
                        user: user.clone(),
                        crt,
                        cab: req.param("cab").unwrap_or("").to_owned(),
                        serial: info.serial.clone(),
                        not_after: info.not_after.clone(),
                    },
                );
                ok(
                    function,
                    "OK",
                    json!({"status": 1, "domain": domain, "user": user, "ip": "127.0.0.1",
                           "message": format!("The SSL certificate is now installed onto the domain “{domain}” using the IP address “127.0.0.1”."),
                           "html": "<b>The SSL certificate is now installed.</b>"}),
                )
            }
            other => fail(
                other,
                &format!("Unknown app (“{other}”) requested for this version (1) of the API."),
            ),
        }
    }
}

impl Backend for WhmBackend {
    fn classify(&self, req: &Incoming) -> Classified {
        let st = lock(&self.state);
        let expected = format!("whm {}:{}", st.config.user, st.config.token);
        let authorized = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == expected);
        let endpoint = req
            .path
            .strip_prefix("/json-api/")
            .filter(|f| !f.is_empty() && !f.contains('/'))
            .unwrap_or("unknown")
            .to_owned();
        Classified {
            endpoint,
            authorized,
        }
    }

    fn unauthorized(&self) -> Response {
        json_reply(
            StatusCode::FORBIDDEN,
            &json!({"cpanelresult": {"apiversion": "2", "error": "Access denied",
                    "data": {"reason": "Access denied", "result": "0"}, "type": "text"}}),
        )
    }

    fn handle(&self, req: &Incoming) -> Response {
        let Some(function) = req.path.strip_prefix("/json-api/").map(str::to_owned) else {
            return json_reply(StatusCode::NOT_FOUND, &json!({"error": "not found"}));
        };
        if req.param("api.version") != Some("1") {
            // Without api.version=1 WHM answers in the legacy API 0 shape.
            return json_reply(
                StatusCode::OK,
                &json!({"status": 0, "statusmsg": "This fake speaks WHM API 1 only: add api.version=1"}),
            );
        }
        lock(&self.state).handle(&function, req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search() {
        assert!(search_matches("^shop\\.example\\.com$", "shop.example.com"));
        assert!(!search_matches(
            "^shop\\.example\\.com$",
            "xshop.example.com"
        ));
        assert!(search_matches("example", "shop.example.com"));
        assert!(search_matches("^shop", "shop.example.com"));
    }
}
