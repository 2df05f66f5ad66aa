//! [`FakeAegir`]: Aegir's hosting_saas Services endpoint, in memory.
//!
//! Follows the contract in DESIGN.md: `GET /aegir/saas/site.json`, `GET
//! /aegir/saas/site/{name}.json`, `GET /aegir/saas/profile.json?machine_names=1`, `POST
//! /aegir/saas/task` (form `type`, `target`, `options[...]`), `GET /aegir/saas/task/{nid}.json`,
//! and Aegir Services' site update `PUT /aegir/saas/site/{name}.json` (JSON `{"data": {...}}`
//! or form `data[...]`; hosting_https's `https_enabled` 0/1/2 is the field it keeps; saving the
//! site queues a `verify`, as Aegir does); header `api-key`. Like Aegir's `hosting_add_task`, a
//! task asked for while one of the same type is still queued on the site is that task. Records look like Drupal 7 nodes (numbers as strings); a site record also
//! carries its `backups` (hosting_site_backups rows keyed by bid), which can be switched off. Refused tasks
//! (unknown site, wrong master domain, existing site, site cap, unknown profile) answer HTTP 200
//! with `false`, as hosting_saas does. Tasks finish after a configurable number of polls (a poll is
//! a `GET` of the task or of its site).

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::{json_reply, Backend, Classified, FakeServer, Incoming};

/// The prefix of the Services endpoint.
pub const AEGIR_ENDPOINT: &str = "/aegir/saas";

/// How a task of some type ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    Success,
    Error,
    Warning,
}

/// The fake's settings.
#[derive(Debug, Clone)]
pub struct FakeAegirConfig {
    pub api_key: String,
    pub master_domain: String,
    /// Profile machine names.
    pub profiles: Vec<String>,
    pub platforms: Vec<String>,
    /// The template a clone with an empty target uses; `None` refuses such clones.
    pub default_template: Option<String>,
    /// The poll that sees a task finished: the N-th (0 and 1: the first).
    pub polls_to_complete: u32,
    /// Caps the sites (not deleted) per platform.
    pub max_sites_per_platform: Option<usize>,
    /// Whether `GET task/{nid}.json` is enabled (404 otherwise).
    pub task_resource: bool,
    /// Whether site records carry their `backups` (bid, description, size, timestamp).
    pub backups_in_site_record: bool,
    /// Whether the web server has HTTPS (hosting_https): without, `https_enabled` 1 or 2 is
    /// refused with HTTP 406 and the form error.
    pub https_available: bool,
}

impl Default for FakeAegirConfig {
    fn default() -> Self {
        FakeAegirConfig {
            api_key: "aegir-test-key-0123456789".into(),
            master_domain: "hosting.test".into(),
            profiles: vec!["standard".into(), "openatrium".into()],
            platforms: vec!["drupal7".into()],
            default_template: None,
            polls_to_complete: 2,
            max_sites_per_platform: None,
            task_resource: true,
            backups_in_site_record: true,
            https_available: true,
        }
    }
}

/// A site as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeSite {
    pub nid: u64,
    pub title: String,
    pub client: String,
    pub platform: String,
    pub profile: String,
    pub db_server: String,
    pub language: String,
    pub verified: u64,
    /// 1 enabled, 0 queued, -1 disabled, -2 deleted.
    pub site_status: i64,
    /// Backup ids (`bid`).
    pub backups: Vec<u64>,
    /// Each backup's description and Unix timestamp, by bid.
    pub backup_info: BTreeMap<u64, (String, u64)>,
    /// The handover user, if any (`client_email`, `client_name`).
    pub owner: Option<(String, String)>,
    /// hosting_https: 0 disabled, 1 enabled, 2 required.
    pub https_enabled: i64,
}

/// A task as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeTask {
    pub nid: u64,
    pub task_type: String,
    /// The `target` field as received.
    pub target: String,
    /// The site the task works on (for a clone: the new site).
    pub site: String,
    pub rid: u64,
    pub options: BTreeMap<String, String>,
    /// 0 queued, -1 processing, 1 success, 2 error, 3 warning.
    pub task_status: i64,
    pub polls: u32,
}

struct State {
    config: FakeAegirConfig,
    sites: BTreeMap<String, FakeSite>,
    tasks: BTreeMap<u64, FakeTask>,
    outcomes: HashMap<String, TaskOutcome>,
    next_nid: u64,
}

struct AegirBackend {
    state: Mutex<State>,
}

/// The fake Aegir. Derefs to [`FakeServer`] for the request log, faults and
/// `stop_listening`.
pub struct FakeAegir {
    server: FakeServer,
    backend: Arc<AegirBackend>,
}

impl Deref for FakeAegir {
    type Target = FakeServer;
    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeAegir {
    pub async fn start() -> FakeAegir {
        Self::start_with(FakeAegirConfig::default()).await
    }

    pub async fn start_with(config: FakeAegirConfig) -> FakeAegir {
        let backend = Arc::new(AegirBackend {
            state: Mutex::new(State {
                config,
                sites: BTreeMap::new(),
                tasks: BTreeMap::new(),
                outcomes: HashMap::new(),
                next_nid: 100,
            }),
        });
        let server = FakeServer::start(backend.clone()).await;
        FakeAegir { server, backend }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.backend.state)
    }

    pub fn api_key(&self) -> String {
        self.state().config.api_key.clone()
    }

    pub fn master_domain(&self) -> String {
        self.state().config.master_domain.clone()
    }

    pub fn set_polls_to_complete(&self, n: u32) {
        self.state().config.polls_to_complete = n;
    }

    pub fn set_task_outcome(&self, task_type: &str, outcome: TaskOutcome) {
        self.state().outcomes.insert(task_type.into(), outcome);
    }

    pub fn set_task_resource(&self, enabled: bool) {
        self.state().config.task_resource = enabled;
    }

    pub fn set_max_sites_per_platform(&self, max: Option<usize>) {
        self.state().config.max_sites_per_platform = max;
    }

    pub fn set_https_available(&self, on: bool) {
        self.state().config.https_available = on;
    }

    pub fn set_backups_in_site_record(&self, on: bool) {
        self.state().config.backups_in_site_record = on;
    }

    pub fn set_default_template(&self, template: Option<&str>) {
        self.state().config.default_template = template.map(str::to_owned);
    }

    /// Puts a site in place directly (no task), e.g. a template to clone.
    pub fn add_site(&self, name: &str, profile: &str, site_status: i64) -> u64 {
        let mut st = self.state();
        let nid = st.next_nid;
        st.next_nid += 1;
        let platform = st.config.platforms.first().cloned().unwrap_or_default();
        st.sites.insert(
            name.into(),
            FakeSite {
                nid,
                title: name.into(),
                client: "admin".into(),
                platform,
                profile: profile.into(),
                db_server: "localhost".into(),
                language: "en".into(),
                verified: 1,
                site_status,
                backups: Vec::new(),
                backup_info: BTreeMap::new(),
                owner: None,
                https_enabled: 0,
            },
        );
        nid
    }

    pub fn site(&self, name: &str) -> Option<FakeSite> {
        self.state().sites.get(name).cloned()
    }

    pub fn task(&self, nid: u64) -> Option<FakeTask> {
        self.state().tasks.get(&nid).cloned()
    }

    pub fn tasks(&self) -> Vec<FakeTask> {
        self.state().tasks.values().cloned().collect()
    }

    /// How many tasks of this type were created (refused ones are not tasks).
    pub fn count_tasks(&self, task_type: &str) -> usize {
        self.state()
            .tasks
            .values()
            .filter(|t| t.task_type == task_type)
            .count()
    }

    /// How many `POST task` requests had this `type` (faulted and refused ones included).
    pub fn count_task_posts(&self, task_type: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.endpoint == "task.create" && r.param("type") == Some(task_type))
            .count()
    }
}

fn site_json(s: &FakeSite, with_backups: bool) -> Value {
    // Drupal 7 loads numbers from the database as strings.
    let mut v = json!({
        "nid": s.nid.to_string(),
        "type": "site",
        "title": s.title,
        "client": s.client,
        "platform": s.platform,
        "profile": s.profile,
        "db_server": s.db_server,
        "language": s.language,
        "verified": s.verified.to_string(),
        "site_status": s.site_status.to_string(),
        "https_enabled": s.https_enabled.to_string(),
    });
    if with_backups {
        // hosting_site_backups rows keyed by bid, as Drupal renders an associative array.
        let rows: serde_json::Map<String, Value> = s
            .backups
            .iter()
            .map(|bid| {
                let (description, timestamp) = s.backup_info.get(bid).cloned().unwrap_or_default();
                (
                    bid.to_string(),
                    json!({
                        "bid": bid.to_string(),
                        "site": s.nid.to_string(),
                        "description": description,
                        "size": "1048576",
                        "timestamp": timestamp.to_string(),
                    }),
                )
            })
            .collect();
        v["backups"] = if rows.is_empty() {
            json!([])
        } else {
            Value::Object(rows)
        };
    }
    v
}

fn task_json(t: &FakeTask) -> Value {
    json!({
        "nid": t.nid.to_string(),
        "type": "task",
        "title": format!("{} {}", t.task_type, t.site),
        "task_type": t.task_type,
        "task_status": t.task_status.to_string(),
        "rid": t.rid.to_string(),
        "executed": "0",
        "delta": "0",
    })
}

fn not_found(what: &str) -> Response {
    json_reply(StatusCode::NOT_FOUND, &json!([format!("{what} not found")]))
}

fn refused() -> Response {
    json_reply(StatusCode::OK, &Value::Bool(false))
}

impl State {
    /// One poll of a task: it moves on, and finishes after `polls_to_complete` polls.
    fn poll_task(&mut self, nid: u64) {
        let needed = self.config.polls_to_complete;
        let outcome = {
            let Some(t) = self.tasks.get(&nid) else {
                return;
            };
            if t.task_status > 0 {
                return;
            }
            self.outcomes
                .get(&t.task_type)
                .copied()
                .unwrap_or(TaskOutcome::Success)
        };
        let Some(t) = self.tasks.get_mut(&nid) else {
            return;
        };
        t.polls += 1;
        if t.polls < needed {
            t.task_status = -1;
            return;
        }
        t.task_status = match outcome {
            TaskOutcome::Success => 1,
            TaskOutcome::Error => 2,
            TaskOutcome::Warning => 3,
        };
        if outcome == TaskOutcome::Error {
            return;
        }
        let t = t.clone();
        let next_bid = self.next_nid;
        let Some(site) = self.sites.get_mut(&t.site) else {
            return;
        };
        match t.task_type.as_str() {
            "install" | "clone" | "enable" => {
                site.site_status = 1;
                site.verified += 1;
            }
            "disable" => site.site_status = -1,
            "delete" => site.site_status = -2,
            "verify" => site.verified += 1,
            "migrate" => {
                if let Some(p) = t.options.get("target_platform") {
                    site.platform = p.clone();
                }
            }
            "backup" => {
                site.backups.push(next_bid);
                let description = t.options.get("description").cloned().unwrap_or_default();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                site.backup_info.insert(next_bid, (description, now));
                self.next_nid += 1;
            }
            "backup-delete" => {
                if let Some(bid) = t.options.get("bid").and_then(|b| b.parse::<u64>().ok()) {
                    site.backups.retain(|b| *b != bid);
                    site.backup_info.remove(&bid);
                }
            }
            _ => {}
        }
    }

    fn poll_site(&mut self, name: &str) {
        let open: Vec<u64> = self
            .tasks
            .values()
            .filter(|t| t.site == name && t.task_status <= 0)
            .map(|t| t.nid)
            .collect();
        for nid in open {
            self.poll_task(nid);
        }
    }

    fn live_site(&self, name: &str) -> Option<&FakeSite> {
        self.sites.get(name).filter(|s| s.site_status != -2)
    }

    fn new_site_ok(&self, name: &str, platform: &str) -> bool {
        let suffix = format!(".{}", self.config.master_domain);
        if !name.ends_with(&suffix) || name.len() == suffix.len() || self.live_site(name).is_some()
        {
            return false;
        }
        if !self.config.platforms.iter().any(|p| p == platform) {
            return false;
        }
        if let Some(max) = self.config.max_sites_per_platform {
            let n = self
                .sites
                .values()
                .filter(|s| s.platform == platform && s.site_status != -2)
                .count();
            if n >= max {
                return false;
            }
        }
        true
    }

    /// Services' site update: the data merged into the node and saved (Aegir then verifies it).
    fn update_site(&mut self, name: &str, req: &Incoming) -> Response {
        let field = |k: &str| -> Option<String> {
            match req.json() {
                Some(v) => v.get("data").and_then(|d| d.get(k)).map(|x| match x {
                    Value::String(t) => t.clone(),
                    other => other.to_string(),
                }),
                None => req.param(&format!("data[{k}]")).map(str::to_owned),
            }
        };
        if self.live_site(name).is_none() {
            // hosting_services_save_site creates a site only with numeric platform and profile.
            return refused();
        }
        if let Some(h) = field("https_enabled") {
            let Some(h @ 0..=2) = h.trim().parse::<i64>().ok() else {
                return json_reply(
                    StatusCode::NOT_ACCEPTABLE,
                    &json!({"https_enabled": "An illegal choice has been detected."}),
                );
            };
            if h > 0 && !self.config.https_available {
                return json_reply(
                    StatusCode::NOT_ACCEPTABLE,
                    &json!({"hosting_https_wrapper": "This site's platform is installed on a server that does not have HTTPS enabled."}),
                );
            }
            if let Some(s) = self.sites.get_mut(name) {
                s.https_enabled = h;
            }
        }
        let rid = self.sites.get(name).map(|s| s.nid).unwrap_or(0);
        if !self
            .tasks
            .values()
            .any(|t| t.site == name && t.task_type == "verify" && t.task_status == 0)
        {
            let nid = self.next_nid;
            self.next_nid += 1;
            self.tasks.insert(
                nid,
                FakeTask {
                    nid,
                    task_type: "verify".into(),
                    target: name.to_owned(),
                    site: name.to_owned(),
                    rid,
                    options: BTreeMap::new(),
                    task_status: 0,
                    polls: 0,
                },
            );
        }
        match self.sites.get(name) {
            Some(s) => json_reply(
                StatusCode::OK,
                &site_json(s, self.config.backups_in_site_record),
            ),
            None => refused(),
        }
    }

    fn create_task(&mut self, req: &Incoming) -> Response {
        let Some(task_type) = req.param("type").map(str::to_owned) else {
            return json_reply(
                StatusCode::NOT_ACCEPTABLE,
                &json!(["Missing required argument type"]),
            );
        };
        let Some(target) = req.param("target").map(str::to_owned) else {
            return json_reply(
                StatusCode::NOT_ACCEPTABLE,
                &json!(["Missing required argument target"]),
            );
        };
        let options: BTreeMap<String, String> = req
            .params
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("options[")?.strip_suffix(']')?;
                Some((key.to_owned(), v.clone()))
            })
            .collect();
        let opt = |k: &str| options.get(k).cloned().filter(|v| !v.is_empty());
        let default_platform = self.config.platforms.first().cloned().unwrap_or_default();
        let owner = match (opt("client_email"), opt("client_name")) {
            (Some(e), Some(n)) => Some((e, n)),
            _ => None,
        };
        let site_name = match task_type.as_str() {
            "install" => {
                let platform = opt("platform").unwrap_or(default_platform);
                let Some(profile) = opt("profile") else {
                    return refused();
                };
                if !self.config.profiles.contains(&profile) || !self.new_site_ok(&target, &platform)
                {
                    return refused();
                }
                let nid = self.next_nid;
                self.next_nid += 1;
                self.sites.insert(
                    target.clone(),
                    FakeSite {
                        nid,
                        title: target.clone(),
                        client: opt("client").unwrap_or_else(|| "admin".into()),
                        platform,
                        profile,
                        db_server: opt("db_server").unwrap_or_else(|| "localhost".into()),
                        language: opt("language").unwrap_or_else(|| "en".into()),
                        verified: 0,
                        site_status: 0,
                        backups: Vec::new(),
                        backup_info: BTreeMap::new(),
                        owner,
                        https_enabled: 0,
                    },
                );
                target.clone()
            }
            "clone" => {
                let Some(new_uri) = opt("new_uri") else {
                    return refused();
                };
                let template = if target.is_empty() {
                    match &self.config.default_template {
                        Some(t) => t.clone(),
                        None => return refused(),
                    }
                } else {
                    target.clone()
                };
                let Some(tpl) = self.live_site(&template).cloned() else {
                    return refused();
                };
                let platform = opt("target_platform").unwrap_or(tpl.platform.clone());
                if !self.new_site_ok(&new_uri, &platform) {
                    return refused();
                }
                let nid = self.next_nid;
                self.next_nid += 1;
                self.sites.insert(
                    new_uri.clone(),
                    FakeSite {
                        nid,
                        title: new_uri.clone(),
                        client: tpl.client.clone(),
                        platform,
                        profile: tpl.profile.clone(),
                        db_server: opt("new_db_server").unwrap_or(tpl.db_server.clone()),
                        language: tpl.language.clone(),
                        verified: 0,
                        site_status: 0,
                        backups: Vec::new(),
                        backup_info: BTreeMap::new(),
                        owner,
                        https_enabled: 0,
                    },
                );
                new_uri
            }
            "enable" | "disable" | "delete" | "verify" | "login-reset" | "backup" => {
                if self.live_site(&target).is_none() {
                    return refused();
                }
                target.clone()
            }
            "restore" | "backup-delete" => {
                let bid = opt("bid").and_then(|b| b.parse::<u64>().ok());
                match (self.live_site(&target), bid) {
                    (Some(s), Some(bid)) if s.backups.contains(&bid) => target.clone(),
                    _ => return refused(),
                }
            }
            "migrate" => {
                let ok = self.live_site(&target).is_some()
                    && opt("target_platform").is_some_and(|p| self.config.platforms.contains(&p));
                if !ok {
                    return refused();
                }
                target.clone()
            }
            _ => return refused(),
        };
        let rid = self.sites.get(&site_name).map(|s| s.nid).unwrap_or(0);
        if let Some(queued) = self
            .tasks
            .values()
            .find(|t| t.site == site_name && t.task_type == task_type && t.task_status == 0)
        {
            return json_reply(StatusCode::OK, &task_json(queued));
        }
        let nid = self.next_nid;
        self.next_nid += 1;
        let task = FakeTask {
            nid,
            task_type,
            target,
            site: site_name,
            rid,
            options,
            task_status: 0,
            polls: 0,
        };
        let body = task_json(&task);
        self.tasks.insert(nid, task);
        json_reply(StatusCode::OK, &body)
    }
}

impl Backend for AegirBackend {
    fn classify(&self, req: &Incoming) -> Classified {
        let key = lock(&self.state).config.api_key.clone();
        let authorized = req
            .headers
            .get("api-key")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == key);
        let rest = req.path.strip_prefix(AEGIR_ENDPOINT).unwrap_or("");
        let endpoint = match (&req.method, rest) {
            (&Method::GET, "/site.json") => "site.index",
            (&Method::GET, r) if r.starts_with("/site/") => "site.retrieve",
            (&Method::PUT, r) if r.starts_with("/site/") => "site.update",
            (&Method::GET, "/profile.json") => "profile.index",
            (&Method::POST, "/task" | "/task.json") => "task.create",
            (&Method::GET, r) if r.starts_with("/task/") => "task.retrieve",
            _ => "unknown",
        };
        Classified {
            endpoint: endpoint.into(),
            authorized,
        }
    }

    fn unauthorized(&self) -> Response {
        json_reply(
            StatusCode::UNAUTHORIZED,
            &json!(["Access denied for user anonymous"]),
        )
    }

    fn handle(&self, req: &Incoming) -> Response {
        let mut st = lock(&self.state);
        let rest = req.path.strip_prefix(AEGIR_ENDPOINT).unwrap_or("");
        match (&req.method, rest) {
            (&Method::GET, "/site.json") => {
                let with = st.config.backups_in_site_record;
                let list: Vec<Value> = st.sites.values().map(|s| site_json(s, with)).collect();
                json_reply(StatusCode::OK, &Value::Array(list))
            }
            (&Method::GET, r) if r.starts_with("/site/") => {
                let name = r
                    .trim_start_matches("/site/")
                    .trim_end_matches(".json")
                    .to_owned();
                st.poll_site(&name);
                match st.sites.get(&name) {
                    Some(s) => json_reply(
                        StatusCode::OK,
                        &site_json(s, st.config.backups_in_site_record),
                    ),
                    None => not_found(&format!("Site {name}")),
                }
            }
            (&Method::PUT, r) if r.starts_with("/site/") => {
                let name = r
                    .trim_start_matches("/site/")
                    .trim_end_matches(".json")
                    .to_owned();
                st.update_site(&name, req)
            }
            (&Method::GET, "/profile.json") => {
                let machine = req.param("machine_names") == Some("1");
                let map: serde_json::Map<String, Value> = st
                    .config
                    .profiles
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let label = if machine {
                            p.clone()
                        } else {
                            let mut c = p.chars();
                            c.next()
                                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                                .unwrap_or_default()
                        };
                        ((10 + i).to_string(), Value::String(label))
                    })
                    .collect();
                json_reply(StatusCode::OK, &Value::Object(map))
            }
            (&Method::POST, "/task" | "/task.json") => st.create_task(req),
            (&Method::GET, r) if r.starts_with("/task/") => {
                if !st.config.task_resource {
                    return not_found("Resource task");
                }
                let nid = r
                    .trim_start_matches("/task/")
                    .trim_end_matches(".json")
                    .parse::<u64>()
                    .ok();
                let Some(nid) = nid.filter(|n| st.tasks.contains_key(n)) else {
                    return not_found("Task");
                };
                st.poll_task(nid);
                match st.tasks.get(&nid) {
                    Some(t) => json_reply(StatusCode::OK, &task_json(t)),
                    None => not_found("Task"),
                }
            }
            _ => not_found("Resource"),
        }
    }
}
