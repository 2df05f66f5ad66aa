//! [`RedmineTracker`]: Redmine's REST API (Rest_Users, Rest_Roles, Rest_Memberships).
//!
//! JSON over HTTPS with the header `X-Redmine-API-Key: KEY` (the key of an administrator:
//! only administrators may list and create users). What this driver uses:
//!
//! | call | request | success | refusal |
//! |---|---|---|---|
//! | the key's user | `GET /users/current.json` | `{"user": {"id", "login", "admin", ...}}` | 401 |
//! | a project | `GET /projects/{id}.json` | `{"project": {"id", "name", "identifier", ...}}` | 404 unknown (or not visible) |
//! | find users | `GET /users.json?name=TEXT&status=&offset=&limit=` | `{"users": [...], "total_count", "offset", "limit"}` | 403 not an administrator |
//! | a user's status | `GET /users/{id}.json` | `{"user": {..., "status"}}` (the list has no status) | 404 |
//! | create a user | `POST /users.json` `{"user": {"login", "firstname", "lastname", "mail", "generate_password": true}, "send_information": true}` | 201 `{"user": {...}}` | 422 `{"errors": ["Login has already been taken", ...]}` |
//! | roles | `GET /roles.json` | `{"roles": [{"id", "name"}]}` (not paginated) | |
//! | memberships | `GET /projects/{id}/memberships.json?offset=&limit=` | `{"memberships": [{"id", "project", "user" or "group", "roles": [{"id", "name", "inherited"?}]}], "total_count", ...}` | 404 |
//! | add a member | `POST /projects/{id}/memberships.json` `{"membership": {"user_id", "role_ids": [..]}}` | 201 `{"membership": {...}}` | 422 `{"errors": ["User has already been taken"]}` |
//! | change roles | `PUT /memberships/{id}.json` `{"membership": {"role_ids": [..]}}` | 204 (or 200), empty body | 422 |
//!
//! Notes from Redmine's sources: `name` matches a part of the login, first name, last name or
//! e-mail address, so results are filtered here for an exact match; `status` defaults to 1
//! (active users only) and an empty `status` matches every status, which a lookup before a
//! create needs (a locked user still holds its login); `send_information` sits *beside* the
//! `user` object (the controller reads `params[:send_information]`); `limit` is capped at 100
//! by the server. 401 means the key is wrong (or missing), 403 that its user may not do that
//! (not an administrator, or the REST API is off), 404 an unknown project or membership.
//! A 422's messages are in the API user's language, so a refusal is never recognised by its
//! text: a refused create looks the user (or the membership) up again.

use async_trait::async_trait;
use reqwest::{Method, RequestBuilder};
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

use super::{
    IssueTracker, MemberRole, Membership, MembershipOutcome, NewTrackerUser, TrackerInfo,
    TrackerKind, TrackerRole, TrackerUser, UserOutcome,
};
use crate::error::{excerpt, RemoteError};
use crate::http::{parse_base_url, root_of, Http, HttpConfig, Reply};
use crate::secret::Secret;

/// The largest page Redmine serves.
pub const MAX_PAGE: u32 = 100;
/// Pages read at most by one listing (10,000 rows at 100 a page).
const MAX_PAGES: u32 = 100;
/// Redmine's `User::LOGIN_LENGTH_LIMIT`.
pub const LOGIN_MAX: usize = 60;

/// How to reach a Redmine. `Debug` shows the key as `<redacted>`.
#[derive(Debug, Clone)]
pub struct RedmineConfig {
    /// e.g. `https://support.example.com` or `https://example.com/redmine` (a test points it at
    /// `http://127.0.0.1:PORT`).
    pub base_url: Url,
    /// An administrator's API key (My account → API access key).
    pub api_key: Secret,
    /// Rows asked per page (1-100).
    pub page_size: u32,
    pub http: HttpConfig,
}

impl RedmineConfig {
    pub fn new(base_url: &str, api_key: Secret) -> Result<Self, RemoteError> {
        Ok(RedmineConfig {
            base_url: parse_base_url(base_url)?,
            api_key,
            page_size: MAX_PAGE,
            http: HttpConfig::default(),
        })
    }
}

/// A project's identifier (`support`, `acme-tickets`) or numeric id, checked before it goes into
/// a URL path: lower-case letters, digits, `-` and `_`, at most 100 characters.
pub fn check_project(project: &str) -> Result<&str, RemoteError> {
    let p = project.trim();
    let ok = (1..=100).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(p)
    } else {
        Err(RemoteError::InvalidRequest(format!(
            "'{project}' is not a Redmine project identifier (lower-case letters, digits, '-' and '_', at most 100) or id"
        )))
    }
}

/// Whether Redmine accepts this as a login: letters, digits, `_`, `-`, `@`, `.`, at most 60.
pub fn valid_login(login: &str) -> bool {
    (1..=LOGIN_MAX).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@' | b'.'))
}

/// The Redmine driver.
#[derive(Debug)]
pub struct RedmineTracker {
    config: RedmineConfig,
    http: Http,
    root: String,
}

#[derive(Debug, Deserialize)]
struct RawUser {
    id: i64,
    #[serde(default)]
    login: String,
    #[serde(default)]
    firstname: String,
    #[serde(default)]
    lastname: String,
    #[serde(default)]
    mail: Option<String>,
    #[serde(default)]
    status: Option<i64>,
    #[serde(default)]
    admin: Option<bool>,
}

impl From<RawUser> for TrackerUser {
    fn from(u: RawUser) -> Self {
        TrackerUser {
            id: u.id,
            login: u.login,
            firstname: u.firstname,
            lastname: u.lastname,
            mail: u.mail,
            status: u.status,
        }
    }
}

#[derive(Debug, Deserialize)]
struct UserEnvelope {
    user: RawUser,
}

#[derive(Debug, Deserialize)]
struct UsersPage {
    users: Vec<RawUser>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct RolesList {
    roles: Vec<TrackerRole>,
}

#[derive(Debug, Deserialize)]
struct Named {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct RawRole {
    id: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    inherited: bool,
}

#[derive(Debug, Deserialize)]
struct RawMembership {
    id: i64,
    #[serde(default)]
    user: Option<Named>,
    #[serde(default)]
    roles: Vec<RawRole>,
}

impl From<RawMembership> for Membership {
    fn from(m: RawMembership) -> Self {
        Membership {
            id: m.id,
            user_id: m.user.map(|u| u.id),
            roles: m
                .roles
                .into_iter()
                .map(|r| MemberRole {
                    id: r.id,
                    name: r.name,
                    inherited: r.inherited,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct MembershipEnvelope {
    membership: RawMembership,
}

#[derive(Debug, Deserialize)]
struct MembershipsPage {
    memberships: Vec<RawMembership>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ProjectEnvelope {
    project: ProjectBody,
}

#[derive(Debug, Deserialize)]
struct ProjectBody {
    #[serde(default)]
    name: String,
}

impl RedmineTracker {
    pub fn new(config: RedmineConfig) -> Result<Self, RemoteError> {
        if config.api_key.expose().trim().is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the Redmine API key is empty".into(),
            ));
        }
        let http = Http::new(&config.http, vec![config.api_key.clone()])?;
        let root = root_of(&config.base_url);
        Ok(RedmineTracker { config, http, root })
    }

    pub fn config(&self) -> &RedmineConfig {
        &self.config
    }

    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, RemoteError> {
        let (name, value) =
            Http::secret_header("x-redmine-api-key", self.config.api_key.expose().trim())?;
        Ok(self
            .http
            .request(method, &format!("{}{path}", self.root))
            .header(name, value)
            .header("accept", "application/json"))
    }

    /// A failure reply as a typed error: 401/403 `Auth`, 422 `Remote` with Redmine's messages,
    /// the rest `Http` (5xx retryable).
    fn failure(&self, reply: Reply, what: &str) -> RemoteError {
        if reply.status == 422 {
            return RemoteError::remote(format!(
                "Redmine refused to {what}: {}",
                self.errors(&reply).join("; ")
            ));
        }
        match self.http.check_status(reply) {
            Err(e) => e,
            Ok(r) => RemoteError::Protocol {
                detail: format!("unexpected reply: {}", self.http.scrub(&excerpt(&r.body))),
                endpoint: r.endpoint,
            },
        }
    }

    /// The messages of a 422 (`{"errors": [...]}`), or an excerpt of whatever came instead.
    fn errors(&self, reply: &Reply) -> Vec<String> {
        let list = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
            .map(|a| {
                a.iter()
                    .filter_map(|e| match e {
                        Value::String(s) => Some(self.http.scrub(s)),
                        // Some plugins answer [["field", "message"]].
                        Value::Array(parts) => Some(
                            parts
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if list.is_empty() {
            vec![self.http.scrub(&excerpt(&reply.body))]
        } else {
            list
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, reply: &Reply) -> Result<T, RemoteError> {
        let v: Value = self.http.json(reply)?;
        serde_json::from_value(v).map_err(|e| RemoteError::Protocol {
            endpoint: reply.endpoint.clone(),
            detail: format!(
                "not the Redmine reply expected ({e}); body: {}",
                self.http.scrub(&excerpt(&reply.body))
            ),
        })
    }

    fn no_project(project: &str) -> RemoteError {
        RemoteError::remote(format!(
            "the Redmine project '{project}' does not exist (or the API key's user cannot see it): check the tracker's project identifier"
        ))
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<(Reply, T), RemoteError> {
        let rb = self.request(Method::GET, path)?.query(query);
        let reply = self.http.send(rb).await?;
        if !(200..300).contains(&reply.status) {
            return Err(self.failure(reply, what));
        }
        let parsed = self.parse(&reply)?;
        Ok((reply, parsed))
    }

    /// Every user whose login, name or e-mail address contains `text`, whatever their status.
    async fn search_users(&self, text: &str) -> Result<Vec<TrackerUser>, RemoteError> {
        let limit = self.config.page_size.clamp(1, MAX_PAGE);
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let offset = out.len();
            let (_, page): (_, UsersPage) = self
                .get(
                    "/users.json",
                    &[
                        ("name", text.to_owned()),
                        ("status", String::new()),
                        ("offset", offset.to_string()),
                        ("limit", limit.to_string()),
                    ],
                    "list users",
                )
                .await?;
            let n = page.users.len();
            out.extend(page.users.into_iter().map(TrackerUser::from));
            let total = page.total_count.unwrap_or(out.len() as u64);
            if n == 0 || out.len() as u64 >= total {
                break;
            }
        }
        Ok(out)
    }

    /// Fills a found user's status from its own record (`GET /users/ID.json`: the list has
    /// none). A user gone meanwhile is `None`.
    async fn with_status(
        &self,
        user: Option<TrackerUser>,
    ) -> Result<Option<TrackerUser>, RemoteError> {
        let Some(mut user) = user else {
            return Ok(None);
        };
        if user.status.is_some() {
            return Ok(Some(user));
        }
        let rb = self.request(Method::GET, &format!("/users/{}.json", user.id))?;
        let reply = self.http.send(rb).await?;
        match reply.status {
            200..=299 => {
                let full: UserEnvelope = self.parse(&reply)?;
                user.status = full.user.status;
                Ok(Some(user))
            }
            404 => Ok(None),
            _ => Err(self.failure(reply, "read a user")),
        }
    }

    async fn memberships_page(
        &self,
        project: &str,
        offset: usize,
    ) -> Result<MembershipsPage, RemoteError> {
        let limit = self.config.page_size.clamp(1, MAX_PAGE);
        let rb = self
            .request(
                Method::GET,
                &format!("/projects/{project}/memberships.json"),
            )?
            .query(&[("offset", offset.to_string()), ("limit", limit.to_string())]);
        let reply = self.http.send(rb).await?;
        match reply.status {
            200..=299 => self.parse(&reply),
            404 => Err(Self::no_project(project)),
            _ => Err(self.failure(reply, "list the project's members")),
        }
    }
}

#[async_trait]
impl IssueTracker for RedmineTracker {
    fn kind(&self) -> TrackerKind {
        TrackerKind::Redmine
    }

    async fn test_connection(&self, project: &str) -> Result<TrackerInfo, RemoteError> {
        let project = check_project(project)?;
        let (_, me): (_, UserEnvelope) = self
            .get("/users/current.json", &[], "read the API key's user")
            .await?;
        let rb = self.request(Method::GET, &format!("/projects/{project}.json"))?;
        let reply = self.http.send(rb).await?;
        let p: ProjectEnvelope = match reply.status {
            200..=299 => self.parse(&reply)?,
            404 => return Err(Self::no_project(project)),
            _ => return Err(self.failure(reply, "read the project")),
        };
        let roles = self.roles().await?;
        Ok(TrackerInfo {
            login: me.user.login,
            admin: me.user.admin.unwrap_or(false),
            project: p.project.name,
            roles,
        })
    }

    async fn find_user(&self, login: &str) -> Result<Option<TrackerUser>, RemoteError> {
        let login = login.trim();
        if login.is_empty() {
            return Ok(None);
        }
        let found = self
            .search_users(login)
            .await?
            .into_iter()
            .find(|u| u.login.eq_ignore_ascii_case(login));
        self.with_status(found).await
    }

    async fn find_user_by_mail(&self, mail: &str) -> Result<Option<TrackerUser>, RemoteError> {
        let mail = mail.trim();
        if mail.is_empty() {
            return Ok(None);
        }
        let found = self.search_users(mail).await?.into_iter().find(|u| {
            u.mail
                .as_deref()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(mail))
        });
        self.with_status(found).await
    }

    async fn create_user(&self, req: &NewTrackerUser) -> Result<UserOutcome, RemoteError> {
        if !valid_login(&req.login) {
            return Err(RemoteError::InvalidRequest(format!(
                "'{}' is not a Redmine login (letters, digits, '_', '-', '@', '.', at most {LOGIN_MAX})",
                req.login
            )));
        }
        for (field, v) in [
            ("first name", &req.firstname),
            ("last name", &req.lastname),
            ("e-mail address", &req.mail),
        ] {
            if v.trim().is_empty() {
                return Err(RemoteError::InvalidRequest(format!(
                    "a Redmine user needs a {field}"
                )));
            }
        }
        let body = json!({
            "user": {
                "login": req.login,
                "firstname": req.firstname.trim(),
                "lastname": req.lastname.trim(),
                "mail": req.mail.trim(),
                "generate_password": true,
            },
            "send_information": req.send_information,
        });
        let rb = self.request(Method::POST, "/users.json")?.json(&body);
        let reply = self.http.send(rb).await?;
        match reply.status {
            200..=299 => {
                let created: UserEnvelope = self.parse(&reply)?;
                Ok(UserOutcome {
                    user: created.user.into(),
                    already_existed: false,
                })
            }
            422 => {
                // Refused: most often the login or e-mail address is taken, i.e. the user is
                // there (an earlier attempt whose reply was lost). Look again before failing.
                let found = match self.find_user(&req.login).await? {
                    Some(u) => Some(u),
                    None => self.find_user_by_mail(&req.mail).await?,
                };
                match found {
                    Some(user) => Ok(UserOutcome {
                        user,
                        already_existed: true,
                    }),
                    None => Err(self.failure(reply, &format!("create the user '{}'", req.login))),
                }
            }
            _ => Err(self.failure(reply, &format!("create the user '{}'", req.login))),
        }
    }

    async fn roles(&self) -> Result<Vec<TrackerRole>, RemoteError> {
        let (_, list): (_, RolesList) = self.get("/roles.json", &[], "list roles").await?;
        Ok(list.roles)
    }

    async fn find_membership(
        &self,
        project: &str,
        user_id: i64,
    ) -> Result<Option<Membership>, RemoteError> {
        let project = check_project(project)?;
        let mut seen = 0usize;
        for _ in 0..MAX_PAGES {
            let page = self.memberships_page(project, seen).await?;
            let n = page.memberships.len();
            seen += n;
            if let Some(m) = page
                .memberships
                .into_iter()
                .find(|m| m.user.as_ref().is_some_and(|u| u.id == user_id))
            {
                return Ok(Some(m.into()));
            }
            if n == 0 || page.total_count.is_none_or(|t| seen as u64 >= t) {
                break;
            }
        }
        Ok(None)
    }

    async fn create_membership(
        &self,
        project: &str,
        user_id: i64,
        role_ids: &[i64],
    ) -> Result<MembershipOutcome, RemoteError> {
        let project = check_project(project)?;
        if role_ids.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "a Redmine membership needs at least one role".into(),
            ));
        }
        let body = json!({ "membership": { "user_id": user_id, "role_ids": role_ids } });
        let rb = self
            .request(
                Method::POST,
                &format!("/projects/{project}/memberships.json"),
            )?
            .json(&body);
        let reply = self.http.send(rb).await?;
        match reply.status {
            200..=299 => {
                let m: MembershipEnvelope = self.parse(&reply)?;
                Ok(MembershipOutcome {
                    membership: m.membership.into(),
                    already_member: false,
                })
            }
            404 => Err(Self::no_project(project)),
            422 => match self.find_membership(project, user_id).await? {
                // "User has already been taken": a member already (maybe our lost reply).
                Some(m) => Ok(MembershipOutcome {
                    membership: m,
                    already_member: true,
                }),
                None => Err(self.failure(
                    reply,
                    &format!("make user {user_id} a member of project '{project}'"),
                )),
            },
            _ => Err(self.failure(
                reply,
                &format!("make user {user_id} a member of project '{project}'"),
            )),
        }
    }

    async fn set_membership_roles(
        &self,
        membership_id: i64,
        role_ids: &[i64],
    ) -> Result<(), RemoteError> {
        let body = json!({ "membership": { "role_ids": role_ids } });
        let rb = self
            .request(Method::PUT, &format!("/memberships/{membership_id}.json"))?
            .json(&body);
        let reply = self.http.send(rb).await?;
        match reply.status {
            200..=299 => Ok(()),
            404 => Err(RemoteError::remote(format!(
                "Redmine membership {membership_id} no longer exists"
            ))),
            _ => Err(self.failure(
                reply,
                &format!("change the roles of membership {membership_id}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_identifiers_and_logins() {
        assert!(check_project("support").is_ok());
        assert!(check_project("42").is_ok());
        assert!(check_project("acme_tickets-2").is_ok());
        assert!(check_project("../users").is_err());
        assert!(check_project("Support").is_err());
        assert!(check_project("").is_err());
        assert!(valid_login("marc@lumiere.fr"));
        assert!(!valid_login("marc+billing@lumiere.fr"));
        assert!(!valid_login(&"a".repeat(61)));
    }

    #[test]
    fn the_key_never_prints() {
        let c = RedmineConfig::new(
            "https://support.example.com",
            Secret::new("abcdef0123456789"),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("abcdef0123456789"));
    }
}
