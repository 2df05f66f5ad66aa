//! [`FakeRedmine`]: Redmine's REST API for users, roles and project memberships, in memory.
//!
//! Follows Redmine's controllers and API views (users, roles, members):
//! - the key in `X-Redmine-API-Key` (or `?key=`); a wrong or missing key is HTTP 401 with an
//!   empty body and `WWW-Authenticate: Basic realm="Redmine API"`; a valid key whose user is not
//!   an administrator gets 403 (empty body) from the admin-only endpoints (`/users.json`);
//! - `GET /users.json?name=&status=&offset=&limit=`: `name` matches a part of the login, first
//!   name, last name or e-mail (case-insensitive), `status` defaults to 1 (active) and an empty
//!   value matches every status; sorted by login; `{"users": [...], "total_count", "offset",
//!   "limit"}`; `limit` defaults to 25 and is capped (100, or [`FakeRedmineConfig::max_limit`]);
//!   the users carry no `status` here (Redmine's index view has none);
//! - `POST /users.json` `{"user": {...}, "send_information": bool}` → 201 with the user as
//!   `GET /users/ID.json` shows it to an administrator (`status`, `api_key` included), or 422
//!   `{"errors": ["Login has already been taken", ...]}` (Redmine's English messages);
//!   `send_information` is read beside `user`, as the controller does;
//! - `GET /users/current.json`, `GET /users/ID.json` (`status` and `api_key` for an
//!   administrator), `GET /roles.json` (`{"roles": [{"id", "name"}]}`, givable roles,
//!   not paginated), `GET /projects/ID.json` (404 for an unknown project);
//! - `GET /projects/ID/memberships.json` (paginated, by membership id; members that are locked
//!   users are left out, as Redmine's `member_principals` does; inherited roles say
//!   `"inherited": true`), `POST` → 201 `{"membership": {...}}` or 422 (`User has already been
//!   taken`, `Role cannot be empty`), `GET|PUT /memberships/ID.json` (PUT keeps inherited roles,
//!   answers 204).
//!
//! Endpoint names for [`FakeServer::count`] and faults: `users.current`, `users.show`, `users.index`,
//! `users.create`, `roles.index`, `projects.show`, `memberships.index`, `memberships.create`,
//! `memberships.show`, `memberships.update`.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use hostdesk_remote::{RedmineConfig, RedmineTracker, RemoteError, Secret};
use serde::Serialize;
use serde_json::{json, Value};

use crate::server::{json_reply, Backend, Classified, FakeServer, Incoming};

/// The fake's settings.
#[derive(Debug, Clone)]
pub struct FakeRedmineConfig {
    /// The administrator's API key.
    pub api_key: String,
    /// The key of an ordinary (not administrator) user, `jsmith`.
    pub user_key: String,
    /// (identifier, name) of each project.
    pub projects: Vec<(String, String)>,
    /// (id, name) of each givable role.
    pub roles: Vec<(i64, String)>,
    /// The largest page served (Redmine: 100).
    pub max_limit: usize,
}

impl Default for FakeRedmineConfig {
    fn default() -> Self {
        FakeRedmineConfig {
            api_key: "0123456789abcdef0123456789abcdef01234567".into(),
            user_key: "fedcba9876543210fedcba9876543210fedcba98".into(),
            projects: vec![
                ("support".into(), "Customer support".into()),
                ("internal".into(), "Internal".into()),
            ],
            roles: vec![
                (3, "Manager".into()),
                (4, "Developer".into()),
                (5, "Reporter".into()),
                (6, "Customer".into()),
            ],
            max_limit: 100,
        }
    }
}

/// A user as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeRedmineUser {
    pub id: i64,
    pub login: String,
    pub firstname: String,
    pub lastname: String,
    pub mail: String,
    pub admin: bool,
    /// 1 active, 2 registered, 3 locked.
    pub status: i64,
    pub api_key: String,
    /// Whether the create asked for a generated password.
    pub generated_password: bool,
    /// Account-information mails sent (`send_information`).
    pub mails_sent: u32,
}

/// A membership as the fake keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FakeMembership {
    pub id: i64,
    pub project: String,
    pub user_id: i64,
    /// The member's own roles.
    pub role_ids: Vec<i64>,
    /// Roles held through a group (kept by a PUT).
    pub inherited_role_ids: Vec<i64>,
}

struct State {
    config: FakeRedmineConfig,
    users: BTreeMap<i64, FakeRedmineUser>,
    memberships: BTreeMap<i64, FakeMembership>,
    next_user: i64,
    next_membership: i64,
}

struct RedmineBackend {
    state: Mutex<State>,
}

/// The fake Redmine. Derefs to [`FakeServer`] for the request log (`count("users.create")`),
/// faults and `stop_listening`.
pub struct FakeRedmine {
    server: FakeServer,
    backend: Arc<RedmineBackend>,
}

impl Deref for FakeRedmine {
    type Target = FakeServer;
    fn deref(&self) -> &FakeServer {
        &self.server
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeRedmine {
    pub async fn start() -> FakeRedmine {
        Self::start_with(FakeRedmineConfig::default()).await
    }

    pub async fn start_with(config: FakeRedmineConfig) -> FakeRedmine {
        let mut users = BTreeMap::new();
        users.insert(
            1,
            FakeRedmineUser {
                id: 1,
                login: "admin".into(),
                firstname: "Redmine".into(),
                lastname: "Admin".into(),
                mail: "admin@tracker.test".into(),
                admin: true,
                status: 1,
                api_key: config.api_key.clone(),
                generated_password: false,
                mails_sent: 0,
            },
        );
        users.insert(
            2,
            FakeRedmineUser {
                id: 2,
                login: "jsmith".into(),
                firstname: "John".into(),
                lastname: "Smith".into(),
                mail: "jsmith@tracker.test".into(),
                admin: false,
                status: 1,
                api_key: config.user_key.clone(),
                generated_password: false,
                mails_sent: 0,
            },
        );
        let backend = Arc::new(RedmineBackend {
            state: Mutex::new(State {
                config,
                users,
                memberships: BTreeMap::new(),
                next_user: 3,
                next_membership: 1,
            }),
        });
        let server = FakeServer::start(backend.clone()).await;
        FakeRedmine { server, backend }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.backend.state)
    }

    /// The administrator's key.
    pub fn api_key(&self) -> String {
        self.state().config.api_key.clone()
    }

    /// The key of `jsmith`, who is not an administrator.
    pub fn user_key(&self) -> String {
        self.state().config.user_key.clone()
    }

    /// Every user (the administrator and `jsmith` included), by id.
    pub fn users(&self) -> Vec<FakeRedmineUser> {
        self.state().users.values().cloned().collect()
    }

    pub fn user(&self, login: &str) -> Option<FakeRedmineUser> {
        self.state()
            .users
            .values()
            .find(|u| u.login.eq_ignore_ascii_case(login))
            .cloned()
    }

    /// Puts a user in place directly; returns its id.
    pub fn add_user(&self, login: &str, firstname: &str, lastname: &str, mail: &str) -> i64 {
        let mut st = self.state();
        let id = st.next_user;
        st.next_user += 1;
        st.users.insert(
            id,
            FakeRedmineUser {
                id,
                login: login.into(),
                firstname: firstname.into(),
                lastname: lastname.into(),
                mail: mail.into(),
                admin: false,
                status: 1,
                api_key: format!("{id:040x}"),
                generated_password: false,
                mails_sent: 0,
            },
        );
        id
    }

    /// Sets a user's status (1 active, 2 registered, 3 locked).
    pub fn set_status(&self, login: &str, status: i64) {
        if let Some(u) = self
            .state()
            .users
            .values_mut()
            .find(|u| u.login.eq_ignore_ascii_case(login))
        {
            u.status = status;
        }
    }

    /// The memberships of a project, by id.
    pub fn memberships(&self, project: &str) -> Vec<FakeMembership> {
        self.state()
            .memberships
            .values()
            .filter(|m| m.project == project)
            .cloned()
            .collect()
    }

    /// Puts a membership in place directly; returns its id.
    pub fn add_membership(&self, project: &str, user_id: i64, role_ids: &[i64]) -> i64 {
        self.state()
            .insert_membership(project, user_id, role_ids.to_vec(), Vec::new())
    }

    /// A membership holding roles through a group (they survive a PUT).
    pub fn add_inherited_membership(&self, project: &str, user_id: i64, role_ids: &[i64]) -> i64 {
        self.state()
            .insert_membership(project, user_id, Vec::new(), role_ids.to_vec())
    }

    /// The id of a role by name.
    pub fn role_id(&self, name: &str) -> Option<i64> {
        self.state()
            .config
            .roles
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| *id)
    }

    /// A client for this fake with the administrator's key and short timeouts.
    pub fn config(&self) -> Result<RedmineConfig, RemoteError> {
        let mut c = RedmineConfig::new(&self.base_url(), Secret::new(self.api_key()))?;
        c.http = crate::drivers::test_http();
        Ok(c)
    }

    pub fn tracker(&self) -> Result<RedmineTracker, RemoteError> {
        RedmineTracker::new(self.config()?)
    }
}

fn empty(status: StatusCode) -> Response {
    status.into_response()
}

fn unprocessable(errors: &[String]) -> Response {
    json_reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "errors": errors }),
    )
}

/// An integer given as a JSON number or a numeric string (Rails accepts both).
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_field(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true"),
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn valid_mail(mail: &str) -> bool {
    // Redmine's EmailAddress format, as far as a test needs it.
    let Some((local, domain)) = mail.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !mail.contains(char::is_whitespace)
}

impl State {
    fn insert_membership(
        &mut self,
        project: &str,
        user_id: i64,
        role_ids: Vec<i64>,
        inherited: Vec<i64>,
    ) -> i64 {
        let id = self.next_membership;
        self.next_membership += 1;
        self.memberships.insert(
            id,
            FakeMembership {
                id,
                project: project.into(),
                user_id,
                role_ids,
                inherited_role_ids: inherited,
            },
        );
        id
    }

    fn project(&self, ident: &str) -> Option<(i64, String)> {
        self.config
            .projects
            .iter()
            .enumerate()
            .find(|(i, (p, _))| p == ident || (i + 1).to_string() == ident)
            .map(|(i, (_, name))| (i as i64 + 1, name.clone()))
    }

    fn project_ident(&self, ident: &str) -> Option<String> {
        self.config
            .projects
            .iter()
            .enumerate()
            .find(|(i, (p, _))| p == ident || (i + 1).to_string() == ident)
            .map(|(_, (p, _))| p.clone())
    }

    fn role_name(&self, id: i64) -> Option<String> {
        self.config
            .roles
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, n)| n.clone())
    }

    fn user_by_key(&self, key: &str) -> Option<&FakeRedmineUser> {
        if key.is_empty() {
            return None;
        }
        self.users
            .values()
            .find(|u| u.api_key == key && u.status == 1)
    }

    fn page(&self, req: &Incoming) -> (usize, usize) {
        let offset = req
            .param("offset")
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0) as usize;
        let limit = req
            .param("limit")
            .and_then(|l| l.parse::<i64>().ok())
            .filter(|l| *l > 0)
            .unwrap_or(25) as usize;
        (offset, limit.min(self.config.max_limit.max(1)))
    }

    /// The user as `GET /users/ID.json` shows it to an administrator.
    fn user_json(u: &FakeRedmineUser) -> Value {
        json!({
            "id": u.id, "login": u.login, "admin": u.admin, "firstname": u.firstname,
            "lastname": u.lastname, "mail": u.mail, "created_on": "2026-01-01T00:00:00Z",
            "last_login_on": null, "api_key": u.api_key, "status": u.status,
        })
    }

    fn membership_json(&self, m: &FakeMembership) -> Value {
        let (pid, pname) = self.project(&m.project).unwrap_or((0, m.project.clone()));
        let user = self.users.get(&m.user_id);
        let mut roles: Vec<Value> = Vec::new();
        for id in &m.role_ids {
            roles.push(json!({"id": id, "name": self.role_name(*id).unwrap_or_default()}));
        }
        for id in &m.inherited_role_ids {
            roles.push(
                json!({"id": id, "name": self.role_name(*id).unwrap_or_default(), "inherited": true}),
            );
        }
        json!({
            "id": m.id,
            "project": {"id": pid, "name": pname},
            "user": {"id": m.user_id, "name": user.map(|u| format!("{} {}", u.firstname, u.lastname)).unwrap_or_default()},
            "roles": roles,
        })
    }

    fn users_index(&self, req: &Incoming) -> Response {
        let status = req.param("status").unwrap_or("1").trim().to_owned();
        let name = req.param("name").unwrap_or("").trim().to_lowercase();
        let mut found: Vec<&FakeRedmineUser> = self
            .users
            .values()
            .filter(|u| status.is_empty() || status.parse::<i64>().ok() == Some(u.status))
            .filter(|u| {
                name.is_empty()
                    || [&u.login, &u.firstname, &u.lastname, &u.mail]
                        .iter()
                        .any(|f| f.to_lowercase().contains(&name))
            })
            .collect();
        found.sort_by_key(|a| a.login.to_lowercase());
        let (offset, limit) = self.page(req);
        let rows: Vec<Value> = found
            .iter()
            .skip(offset)
            .take(limit)
            .map(|u| {
                json!({
                    "id": u.id, "login": u.login, "admin": u.admin, "firstname": u.firstname,
                    "lastname": u.lastname, "mail": u.mail, "created_on": "2026-01-01T00:00:00Z",
                    "last_login_on": null,
                })
            })
            .collect();
        json_reply(
            StatusCode::OK,
            &json!({"users": rows, "total_count": found.len(), "offset": offset, "limit": limit}),
        )
    }

    fn users_create(&mut self, req: &Incoming) -> Response {
        let body = req.json().unwrap_or(Value::Null);
        let Some(u) = body.get("user").filter(|u| u.is_object()) else {
            // Rails: params[:user] is nil → the controller fails before validation.
            return unprocessable(&[
                "Login cannot be blank".into(),
                "First name cannot be blank".into(),
                "Last name cannot be blank".into(),
                "Email cannot be blank".into(),
            ]);
        };
        let login = str_field(u, "login");
        let firstname = str_field(u, "firstname");
        let lastname = str_field(u, "lastname");
        let mail = str_field(u, "mail").trim().to_owned();
        let password = str_field(u, "password");
        let generate = truthy(u.get("generate_password"));
        let mut errors: Vec<String> = Vec::new();
        if login.is_empty() {
            errors.push("Login cannot be blank".into());
        } else if !login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@' | b'.'))
        {
            errors.push("Login is invalid".into());
        } else if login.len() > 60 {
            errors.push("Login is too long (maximum is 60 characters)".into());
        } else if self
            .users
            .values()
            .any(|x| x.login.eq_ignore_ascii_case(&login))
        {
            errors.push("Login has already been taken".into());
        }
        if firstname.trim().is_empty() {
            errors.push("First name cannot be blank".into());
        } else if firstname.chars().count() > 30 {
            errors.push("First name is too long (maximum is 30 characters)".into());
        }
        if lastname.trim().is_empty() {
            errors.push("Last name cannot be blank".into());
        } else if lastname.chars().count() > 255 {
            errors.push("Last name is too long (maximum is 255 characters)".into());
        }
        if mail.is_empty() {
            errors.push("Email cannot be blank".into());
        } else if !valid_mail(&mail) {
            errors.push("Email is invalid".into());
        } else if self
            .users
            .values()
            .any(|x| x.mail.eq_ignore_ascii_case(&mail))
        {
            errors.push("Email has already been taken".into());
        }
        if !generate && password.chars().count() < 8 {
            errors.push("Password is too short (minimum is 8 characters)".into());
        }
        if !errors.is_empty() {
            return unprocessable(&errors);
        }
        let id = self.next_user;
        self.next_user += 1;
        let user = FakeRedmineUser {
            id,
            login,
            firstname,
            lastname,
            mail,
            admin: false,
            status: 1,
            api_key: format!("{:040x}", 0xfeed_0000_u64 + id as u64),
            generated_password: generate,
            // The controller reads params[:send_information], beside params[:user].
            mails_sent: u32::from(truthy(body.get("send_information"))),
        };
        let reply = Self::user_json(&user);
        self.users.insert(id, user);
        json_reply(StatusCode::CREATED, &json!({ "user": reply }))
    }

    fn memberships_index(&self, project: &str, req: &Incoming) -> Response {
        let list: Vec<&FakeMembership> = self
            .memberships
            .values()
            .filter(|m| m.project == project)
            .filter(|m| self.users.get(&m.user_id).is_some_and(|u| u.status == 1))
            .collect();
        let (offset, limit) = self.page(req);
        let rows: Vec<Value> = list
            .iter()
            .skip(offset)
            .take(limit)
            .map(|m| self.membership_json(m))
            .collect();
        json_reply(
            StatusCode::OK,
            &json!({"memberships": rows, "total_count": list.len(), "offset": offset, "limit": limit}),
        )
    }

    fn memberships_create(&mut self, project: &str, req: &Incoming) -> Response {
        let body = req.json().unwrap_or(Value::Null);
        let Some(m) = body.get("membership").filter(|m| m.is_object()) else {
            // No membership given: nothing is created and the API view has no member.
            return empty(StatusCode::UNPROCESSABLE_ENTITY);
        };
        let user_id = m.get("user_id").and_then(int);
        let role_ids: Vec<i64> = m
            .get("role_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(int).filter(|id| *id != 0).collect())
            .unwrap_or_default();
        let mut errors: Vec<String> = Vec::new();
        match user_id {
            Some(id) if self.users.contains_key(&id) => {
                if self
                    .memberships
                    .values()
                    .any(|x| x.project == project && x.user_id == id)
                {
                    errors.push("User has already been taken".into());
                }
            }
            _ => errors.push("Principal cannot be blank".into()),
        }
        if role_ids.is_empty() {
            errors.push("Role cannot be empty".into());
        } else if role_ids.iter().any(|r| self.role_name(*r).is_none()) {
            errors.push("Member roles is invalid".into());
        }
        if !errors.is_empty() {
            return unprocessable(&errors);
        }
        let user_id = user_id.unwrap_or_default();
        let id = self.insert_membership(project, user_id, role_ids, Vec::new());
        let reply = self
            .memberships
            .get(&id)
            .map(|m| self.membership_json(m))
            .unwrap_or(Value::Null);
        json_reply(StatusCode::CREATED, &json!({ "membership": reply }))
    }

    fn membership_update(&mut self, id: i64, req: &Incoming) -> Response {
        let body = req.json().unwrap_or(Value::Null);
        let role_ids: Option<Vec<i64>> = body
            .get("membership")
            .and_then(|m| m.get("role_ids"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(int).filter(|r| *r != 0).collect());
        let unknown = role_ids
            .as_ref()
            .is_some_and(|ids| ids.iter().any(|r| self.role_name(*r).is_none()));
        let Some(m) = self.memberships.get_mut(&id) else {
            return empty(StatusCode::NOT_FOUND);
        };
        if unknown {
            return unprocessable(&["Member roles is invalid".into()]);
        }
        if let Some(ids) = role_ids {
            // Member#role_ids= keeps the inherited roles.
            let mut own: Vec<i64> = Vec::new();
            for r in ids {
                if !own.contains(&r) && !m.inherited_role_ids.contains(&r) {
                    own.push(r);
                }
            }
            if own.is_empty() && m.inherited_role_ids.is_empty() {
                return unprocessable(&["Role cannot be empty".into()]);
            }
            m.role_ids = own;
        }
        empty(StatusCode::NO_CONTENT)
    }

    fn handle(&mut self, endpoint: &str, req: &Incoming, admin: bool, me: i64) -> Response {
        let path = req.path.as_str();
        match endpoint {
            "users.current" => match self.users.get(&me) {
                Some(u) => json_reply(StatusCode::OK, &json!({ "user": Self::user_json(u) })),
                None => empty(StatusCode::UNAUTHORIZED),
            },
            "users.show" => {
                let id = path
                    .trim_start_matches("/users/")
                    .trim_end_matches(".json")
                    .parse::<i64>()
                    .ok();
                match id.and_then(|id| self.users.get(&id)) {
                    Some(u) if admin || u.id == me => {
                        json_reply(StatusCode::OK, &json!({ "user": Self::user_json(u) }))
                    }
                    _ => empty(StatusCode::NOT_FOUND),
                }
            }
            "users.index" if !admin => empty(StatusCode::FORBIDDEN),
            "users.index" => self.users_index(req),
            "users.create" if !admin => empty(StatusCode::FORBIDDEN),
            "users.create" => self.users_create(req),
            "roles.index" => {
                let roles: Vec<Value> = self
                    .config
                    .roles
                    .iter()
                    .map(|(id, name)| json!({"id": id, "name": name}))
                    .collect();
                json_reply(StatusCode::OK, &json!({ "roles": roles }))
            }
            "projects.show" => {
                let ident = path
                    .trim_start_matches("/projects/")
                    .trim_end_matches(".json");
                match (self.project(ident), self.project_ident(ident)) {
                    (Some((id, name)), Some(identifier)) => json_reply(
                        StatusCode::OK,
                        &json!({"project": {"id": id, "name": name, "identifier": identifier,
                                "description": "", "status": 1, "is_public": false}}),
                    ),
                    _ => empty(StatusCode::NOT_FOUND),
                }
            }
            "memberships.index" | "memberships.create" => {
                let ident = path
                    .trim_start_matches("/projects/")
                    .trim_end_matches("/memberships.json");
                let Some(project) = self.project_ident(ident) else {
                    return empty(StatusCode::NOT_FOUND);
                };
                if !admin {
                    // Managing members needs the permission; jsmith has none.
                    return empty(StatusCode::FORBIDDEN);
                }
                if endpoint == "memberships.index" {
                    self.memberships_index(&project, req)
                } else {
                    self.memberships_create(&project, req)
                }
            }
            "memberships.show" | "memberships.update" => {
                let Some(id) = path
                    .trim_start_matches("/memberships/")
                    .trim_end_matches(".json")
                    .parse::<i64>()
                    .ok()
                else {
                    return empty(StatusCode::NOT_FOUND);
                };
                if !admin {
                    return empty(StatusCode::FORBIDDEN);
                }
                if endpoint == "memberships.update" {
                    return self.membership_update(id, req);
                }
                match self.memberships.get(&id) {
                    Some(m) => json_reply(
                        StatusCode::OK,
                        &json!({ "membership": self.membership_json(m) }),
                    ),
                    None => empty(StatusCode::NOT_FOUND),
                }
            }
            _ => empty(StatusCode::NOT_FOUND),
        }
    }
}

fn endpoint_of(method: &Method, path: &str) -> &'static str {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["users.json"]) => "users.index",
        ("POST", ["users.json"]) => "users.create",
        ("GET", ["users", "current.json"]) => "users.current",
        ("GET", ["users", u]) if u.ends_with(".json") => "users.show",
        ("GET", ["roles.json"]) => "roles.index",
        ("GET", ["projects", p]) if p.ends_with(".json") => "projects.show",
        ("GET", ["projects", _, "memberships.json"]) => "memberships.index",
        ("POST", ["projects", _, "memberships.json"]) => "memberships.create",
        ("GET", ["memberships", m]) if m.ends_with(".json") => "memberships.show",
        ("PUT", ["memberships", m]) if m.ends_with(".json") => "memberships.update",
        _ => "unknown",
    }
}

fn key_of(req: &Incoming) -> String {
    req.headers
        .get("x-redmine-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.param("key").map(str::to_owned))
        .unwrap_or_default()
}

impl Backend for RedmineBackend {
    fn classify(&self, req: &Incoming) -> Classified {
        let st = lock(&self.state);
        Classified {
            endpoint: endpoint_of(&req.method, &req.path).to_owned(),
            authorized: st.user_by_key(&key_of(req)).is_some(),
        }
    }

    fn unauthorized(&self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Basic realm=\"Redmine API\"")],
            "",
        )
            .into_response()
    }

    fn handle(&self, req: &Incoming) -> Response {
        let endpoint = endpoint_of(&req.method, &req.path);
        let mut st = lock(&self.state);
        let Some((admin, me)) = st.user_by_key(&key_of(req)).map(|u| (u.admin, u.id)) else {
            return self.unauthorized();
        };
        st.handle(endpoint, req, admin, me)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(endpoint_of(&Method::GET, "/users.json"), "users.index");
        assert_eq!(endpoint_of(&Method::POST, "/users.json"), "users.create");
        assert_eq!(
            endpoint_of(&Method::POST, "/projects/support/memberships.json"),
            "memberships.create"
        );
        assert_eq!(
            endpoint_of(&Method::PUT, "/memberships/4.json"),
            "memberships.update"
        );
        assert_eq!(
            endpoint_of(&Method::GET, "/projects/support.json"),
            "projects.show"
        );
        assert_eq!(endpoint_of(&Method::DELETE, "/users.json"), "unknown");
    }
}
