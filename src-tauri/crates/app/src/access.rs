//! Support-tier access grants: after an order, the client gets what its support tier grants
//! outside its site — an account and a role on the provider's issue tracker, or a user with a
//! role on its hosting site.
//!
//! - [`plan_grants`] (in the caller's transaction): one `access_grants` row per grant of the
//!   subscription's tier (state `pending`) and one `access.grant` job each.
//! - [`AccessGrants`]: the job handler, registered by `provisioning::build_runner`.
//! - The tracker's settings (`tracker_url`, `tracker_project`) live in the settings table; its
//!   API key only in the [`SecretStore`] under [`TRACKER_SECRET`] (with `HOSTDESK_SECRETS=env`:
//!   the variable `HOSTDESK_TOKEN_TRACKER_REDMINE`), never in the database, logs or replies.
//!
//! # The `access.grant` job
//! Its payload is self-contained (camelCase): `target` and `role` (from the tier), `email` and
//! `name` (the client's, when planned), `login` (derived from the e-mail: [`login_for`]),
//! `grantId`, `subscriptionId`, `clientId`; for `hosting`, `siteId` and `site` when the
//! subscription has a site; optionally `project` (another tracker project than the setting).
//! Only the tracker's address, project and key are read when the job runs, so a fixed setting
//! serves the jobs already queued.
//!
//! | target | does |
//! |---|---|
//! | `issue-tracker` | Redmine: finds the user by login then by e-mail, creates it (Redmine generates the password and mails the account's details), then gives it the role on the project (an existing membership gets the role added) |
//! | `hosting` | the handover path: the client's user with the role on the subscription's site, through the site's hosting driver (`create_user`) |
//!
//! Idempotent: every step looks before it writes, and the remote user id is saved
//! ([`JobCtx::save`], and the grant row) as soon as it exists, so a retry after a lost reply or a
//! crash goes on from there. A role the tracker does not have fails the grant at once, naming
//! the roles it has. A tracker or server that cannot be reached at all keeps the job waiting
//! without using up its attempts (for at most `offline_patience`).

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hostdesk_core::catalog::AccessGrant;
use hostdesk_remote::tracker::{self, find_role, IssueTracker, NewTrackerUser, TrackerInfo};
use hostdesk_remote::{
    parse_base_url, CreateUser, HostingDriver, Operation, Progress, RedmineConfig, RedmineTracker,
    RemoteError, SiteTarget, TaskRef, TaskState,
};
use hostdesk_store::access::{self as store_access, Grant, GrantFilter, NewGrant};
use hostdesk_store::jobs::{self as store_jobs, NewJob};
use hostdesk_store::servers::{self as store_servers, Server, SiteRow};
use hostdesk_store::{
    clients as store_clients, settings as store_settings, Connection, OptionalExtension, Store,
    StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::job_env::JobEnv;
use crate::jobs::DEFAULT_MAX_ATTEMPTS;
use crate::provisioning::ProvisioningConfig;
use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::secrets::{Secret, SecretError, SecretStore};
use crate::{AppError, Clock, ErrorCode, Result, Workspace};

/// The job kind.
pub const ACCESS_GRANT: &str = "access.grant";
/// Grant target: the provider's issue tracker (Redmine).
pub const ISSUE_TRACKER: &str = "issue-tracker";
/// Grant target: the client's hosting site (a user with the role, through its server).
pub const HOSTING: &str = "hosting";
/// The targets Hostdesk can grant on.
pub const TARGETS: &[&str] = &[ISSUE_TRACKER, HOSTING];
/// Settings key: the tracker's base URL.
pub const TRACKER_URL: &str = "tracker_url";
/// Settings key: the tracker project the roles are given on (identifier or id).
pub const TRACKER_PROJECT: &str = "tracker_project";
/// The secret store's entry holding the tracker's API key.
pub const TRACKER_SECRET: &str = "tracker:redmine";

// ---------------------------------------------------------------------------------------------
// Logins and names
// ---------------------------------------------------------------------------------------------

fn fnv(text: &str) -> u32 {
    // FNV-1a: stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The tracker login of a client: its e-mail address in lower case when Redmine accepts it as
/// a login (letters, digits, `_ - @ .`, at most 60), else the address with every other character
/// as `_`, cut to fit, and 8 hex digits of a hash of the address (two addresses never share a
/// login). Stable: the same address always gives the same login.
pub fn login_for(email: &str) -> String {
    let e = email.trim().to_lowercase();
    if hostdesk_remote::tracker::redmine::valid_login(&e) {
        return e;
    }
    let mut head: String = e
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    head.truncate(hostdesk_remote::tracker::redmine::LOGIN_MAX - 9);
    format!("{head}-{:08x}", fnv(&e))
}

/// First and last name for the tracker (Redmine wants both, at most 30 characters each in older
/// versions): the first word, then the rest; one word leaves the last name `-`.
pub fn split_name(name: &str) -> (String, String) {
    let cut = |s: &str| s.chars().take(30).collect::<String>().trim().to_owned();
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or("");
    let rest = words.collect::<Vec<_>>().join(" ");
    let first = if first.is_empty() { "-" } else { first };
    let last = if rest.is_empty() {
        "-".to_owned()
    } else {
        rest
    };
    (cut(first), cut(&last))
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// The payload of an `access.grant` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct GrantPayload {
    /// `issue-tracker` or `hosting`.
    pub target: String,
    /// The role's name on the target (e.g. `customer`).
    pub role: String,
    /// The client's e-mail address: the account's address, and its login's source.
    pub email: String,
    /// The client's name.
    pub name: String,
    /// The tracker login ([`login_for`] of the e-mail when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The `access_grants` row to keep up to date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<i64>,
    /// `hosting`: the site (else the subscription's first site that is not deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// `issue-tracker`: a project other than the `tracker_project` setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// The idempotency key of a grant's job.
pub fn job_key(subscription_id: i64, target: &str, role: &str) -> String {
    format!("access:{subscription_id}:{target}:{role}")
}

/// The job-queue form of an instant (RFC 3339 UTC with milliseconds), from any RFC 3339.
fn queue_time(at: &str) -> Result<String> {
    chrono::DateTime::parse_from_rfc3339(at.trim())
        .map(|t| crate::clock::millis(t.with_timezone(&chrono::Utc)))
        .map_err(|e| AppError::invalid("at", format!("'{at}' is not an RFC 3339 instant: {e}")))
}

/// Plans the access the subscription's support tier grants, in the caller's transaction: one
/// `pending` grant row and one `access.grant` job per grant of the tier (the subscription's own
/// tier, else its kit's). Returns the job ids, in the tier's order (none without a tier or
/// grants). Planning again returns the same jobs.
pub fn plan_grants(conn: &Connection, subscription_id: i64, at: &str) -> Result<Vec<i64>> {
    plan_grants_after(conn, subscription_id, at, &[])
}

/// [`plan_grants`] with prerequisites: the jobs run only after the `after` jobs succeeded (the
/// site's creation, the welcome mail...).
pub fn plan_grants_after(
    conn: &Connection,
    subscription_id: i64,
    at: &str,
    after: &[i64],
) -> Result<Vec<i64>> {
    let queued_at = queue_time(at)?;
    let row: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT s.client_id, t.grants FROM subscriptions s
               LEFT JOIN kits k ON k.id = s.kit_id
               LEFT JOIN tiers t ON t.id = coalesce(s.tier_id, k.tier_id)
              WHERE s.id = ?1",
            [subscription_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((client_id, grants)) = row else {
        return Err(StoreError::not_found("subscription", subscription_id).into());
    };
    let grants: Vec<AccessGrant> = match grants {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            AppError::from(StoreError::Corrupt {
                table: "tiers",
                message: format!("grants of the subscription's tier: {e}"),
            })
        })?,
        None => Vec::new(),
    };
    if grants.is_empty() {
        return Ok(Vec::new());
    }
    let client = store_clients::get(conn, client_id)?;
    let site: Option<SiteRow> = first_site(conn, subscription_id)?;
    let mut ids = Vec::new();
    for g in &grants {
        let (target, role) = (g.target.trim(), g.role.trim());
        let (grant_id, _) = store_access::insert_pending(
            conn,
            &NewGrant {
                subscription_id,
                client_id,
                target,
                role,
            },
            at,
        )?;
        let hosting_site = site.as_ref().filter(|_| target == HOSTING);
        let payload = GrantPayload {
            target: target.to_owned(),
            role: role.to_owned(),
            email: client.email.clone(),
            name: client.name.clone(),
            login: Some(login_for(&client.email)),
            grant_id: Some(grant_id),
            subscription_id: Some(subscription_id),
            client_id: Some(client_id),
            site_id: hosting_site.map(|s| s.id),
            site: hosting_site.map(|s| s.domain.clone()),
            project: None,
        };
        let payload = serde_json::to_value(&payload)
            .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
        let (job_id, _) = store_jobs::enqueue(
            conn,
            &NewJob {
                kind: ACCESS_GRANT,
                key: &job_key(subscription_id, target, role),
                server_id: hosting_site.and_then(|s| s.server_id),
                subscription_id: Some(subscription_id),
                site_id: hosting_site.map(|s| s.id),
                payload: &payload,
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                deps: after,
            },
            &queued_at,
        )?;
        store_access::set_job(conn, grant_id, job_id, at)?;
        ids.push(job_id);
    }
    Ok(ids)
}

/// The subscription's first site that is not deleted.
fn first_site(conn: &Connection, subscription_id: i64) -> Result<Option<SiteRow>, StoreError> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM sites WHERE subscription_id = ?1 AND status <> 'deleted'
              ORDER BY id LIMIT 1",
            [subscription_id],
            |r| r.get(0),
        )
        .optional()?;
    id.map(|id| store_servers::get_site(conn, id)).transpose()
}

// ---------------------------------------------------------------------------------------------
// Use cases: grants, tracker settings
// ---------------------------------------------------------------------------------------------

/// Which grants to list.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct GrantQuery {
    pub client_id: Option<i64>,
    pub subscription_id: Option<i64>,
    /// pending, granted, failed or revoked.
    pub state: Option<String>,
    pub offset: i64,
    pub limit: Option<i64>,
}

/// Grants, newest first.
pub fn list(ws: &Workspace, q: &GrantQuery) -> Result<Vec<Grant>> {
    if let Some(s) = q.state.as_deref() {
        if !store_access::STATES.contains(&s) {
            return Err(AppError::invalid(
                "state",
                format!("'{s}' is not one of: {}", store_access::STATES.join(", ")),
            ));
        }
    }
    Ok(store_access::list(
        ws.conn(),
        &GrantFilter {
            client_id: q.client_id,
            subscription_id: q.subscription_id,
            state: q.state.as_deref(),
            offset: q.offset.max(0),
            limit: q.limit.unwrap_or(100).clamp(1, 1000),
        },
    )?)
}

/// The issue tracker as configured (no key: only whether one is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TrackerSettings {
    /// `redmine`.
    pub kind: String,
    pub url: Option<String>,
    pub project: Option<String>,
    /// Whether the secret store holds an API key (never the key itself).
    pub key_stored: bool,
    /// Where the key lives ("the OS keyring (...)", "the environment (...)").
    pub key_store: String,
}

/// What staff type for the tracker.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct TrackerDraft {
    /// `https://…` (plain `http://` only to this machine).
    pub url: String,
    /// The project the roles are given on: its identifier (or id).
    pub project: String,
}

pub fn tracker_settings(ws: &Workspace, secrets: &dyn SecretStore) -> Result<TrackerSettings> {
    let key_stored = matches!(secrets.get(TRACKER_SECRET), Ok(Some(k)) if !k.is_empty());
    Ok(TrackerSettings {
        kind: "redmine".into(),
        url: store_settings::get(ws.conn(), TRACKER_URL)?,
        project: store_settings::get(ws.conn(), TRACKER_PROJECT)?,
        key_stored,
        key_store: secrets.label(),
    })
}

/// Sets the tracker's address and project, and its API key when given (to the secret store, in
/// the same step: a key that cannot be stored changes nothing).
pub fn set_tracker(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    draft: &TrackerDraft,
    key: Option<&Secret>,
) -> Result<TrackerSettings> {
    let mut errors = hostdesk_core::Errors::default();
    let url = draft.url.trim().trim_end_matches('/').to_owned();
    if url.is_empty() {
        errors.push(
            "url",
            "is required: the tracker's address, e.g. https://support.example.com",
        );
    } else if let Err(e) = parse_base_url(&url) {
        errors.push("url", remote_message(e));
    }
    let project = draft.project.trim().to_owned();
    if project.is_empty() {
        errors.push(
            "project",
            "is required: the project's identifier on the tracker",
        );
    } else if let Err(e) = hostdesk_remote::tracker::redmine::check_project(&project) {
        errors.push("project", remote_message(e));
    }
    if key.is_some_and(|k| k.expose().trim().is_empty()) {
        errors.push("key", "is empty");
    }
    errors.finish()?;
    ws.write(|tx, ctx| {
        let before = json!({
            "url": store_settings::get(tx, TRACKER_URL)?,
            "project": store_settings::get(tx, TRACKER_PROJECT)?,
        });
        store_settings::set(tx, TRACKER_URL, &url)?;
        store_settings::set(tx, TRACKER_PROJECT, &project)?;
        let after = json!({ "url": url, "project": project, "keyChanged": key.is_some() });
        ctx.audit(tx, "setting", None, "tracker", Some(&before), Some(&after))?;
        if let Some(k) = key {
            // Last: a keyring that refuses it rolls the settings back.
            secrets.set(TRACKER_SECRET, &Secret::new(k.expose().trim()))?;
        }
        Ok(())
    })?;
    tracker_settings(ws, secrets)
}

fn remote_message(e: RemoteError) -> String {
    match e {
        RemoteError::InvalidRequest(m) => m,
        other => other.to_string(),
    }
}

/// The tracker as the settings and the secret store describe it, ready to call.
pub struct TrackerProbe {
    url: String,
    project: String,
    tracker: RedmineTracker,
}

impl fmt::Debug for TrackerProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackerProbe")
            .field("url", &self.url)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

/// What `tracker test` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TrackerReport {
    pub url: String,
    pub project: String,
    pub project_name: String,
    /// The API key's user.
    pub login: String,
    pub admin: bool,
    /// The roles that can be given on a project.
    pub roles: Vec<String>,
}

/// Why the tracker cannot be used: settings missing, no key, or a secret store error.
fn tracker_from(
    url: Option<String>,
    project: Option<String>,
    secrets: &dyn SecretStore,
    http: &hostdesk_remote::HttpConfig,
) -> std::result::Result<TrackerProbe, (bool, String)> {
    let (Some(url), Some(project)) = (
        url.filter(|u| !u.trim().is_empty()),
        project.filter(|p| !p.trim().is_empty()),
    ) else {
        return Err((
            false,
            "no issue tracker is set: set it with `hostdesk tracker set --url URL --project ID` (the API key from HOSTDESK_TRACKER_KEY or --key-stdin)".into(),
        ));
    };
    let key = match secrets.get(TRACKER_SECRET) {
        Ok(Some(k)) if !k.is_empty() => k,
        Ok(_) => {
            return Err((
                false,
                format!(
                    "no API key for the issue tracker in {}: set one with `hostdesk tracker set --url {url} --project {project} --key-stdin`",
                    secrets.label()
                ),
            ))
        }
        // The keyring may be unlocked later (a login, a desktop session starting).
        Err(e @ SecretError::Unavailable(_)) => return Err((true, e.to_string())),
        Err(e) => return Err((false, e.to_string())),
    };
    let mut c =
        RedmineConfig::new(&url, key).map_err(|e| (false, format!("tracker settings: {e}")))?;
    c.http = http.clone();
    let tracker = RedmineTracker::new(c).map_err(|e| (false, format!("tracker settings: {e}")))?;
    Ok(TrackerProbe {
        url,
        project,
        tracker,
    })
}

impl TrackerProbe {
    /// Reads the settings and the key (no network).
    pub fn open(
        ws: &Workspace,
        secrets: &dyn SecretStore,
        http: &hostdesk_remote::HttpConfig,
    ) -> Result<TrackerProbe> {
        tracker_from(
            store_settings::get(ws.conn(), TRACKER_URL)?,
            store_settings::get(ws.conn(), TRACKER_PROJECT)?,
            secrets,
            http,
        )
        .map_err(|(_, m)| AppError::invalid("tracker", m))
    }

    /// Calls the tracker: the key's user (an administrator?), the project, the roles.
    pub async fn test(&self) -> Result<TrackerReport> {
        let info: TrackerInfo = self
            .tracker
            .test_connection(&self.project)
            .await
            .map_err(|e| {
                AppError::new(
                    ErrorCode::Io,
                    format!("the issue tracker at {} failed the test: {e}", self.url),
                )
            })?;
        if !info.admin {
            return Err(AppError::invalid(
                "key",
                format!(
                    "the API key belongs to '{}', who is not a Redmine administrator: only administrators can find and create users; use an administrator's key",
                    info.login
                ),
            ));
        }
        Ok(TrackerReport {
            url: self.url.clone(),
            project: self.project.clone(),
            project_name: info.project,
            login: info.login,
            admin: info.admin,
            roles: info.roles.into_iter().map(|r| r.name).collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The job handler
// ---------------------------------------------------------------------------------------------

/// The `access.grant` job handler. One per runner; cheap to share (`Arc`).
pub struct AccessGrants {
    env: JobEnv,
    store: Arc<Mutex<Store>>,
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A grant row deleted meanwhile (its subscription was) is nothing to record.
fn gone_is_fine(r: std::result::Result<(), StoreError>) -> std::result::Result<(), StoreError> {
    match r {
        Err(StoreError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

/// A remote failure as a job error: retry when the same call may succeed later.
fn remote_err(context: &str, e: &RemoteError) -> JobError {
    JobError {
        message: format!("{context} [{}]: {e}", e.code()),
        retryable: e.is_retryable(),
    }
}

enum Failure {
    /// Talking to the target failed; `context` names it for the message.
    Remote {
        context: String,
        error: RemoteError,
    },
    Job(JobError),
}

impl From<JobError> for Failure {
    fn from(e: JobError) -> Self {
        Failure::Job(e)
    }
}

type Step<T> = std::result::Result<T, Failure>;

fn remote<T>(context: &str, r: std::result::Result<T, RemoteError>) -> Step<T> {
    r.map_err(|error| Failure::Remote {
        context: context.to_owned(),
        error,
    })
}

impl AccessGrants {
    pub fn open(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        config: &ProvisioningConfig,
        sandbox_delay: Range<u64>,
    ) -> Result<Arc<AccessGrants>> {
        Ok(Arc::new(AccessGrants {
            env: JobEnv::new(path, clock, secrets, config, sandbox_delay),
            store: Arc::new(Mutex::new(Store::open(path)?)),
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        runner.handle(ACCESS_GRANT, self.clone());
    }

    /// Database work on the blocking pool (a write may wait for SQLite's lock).
    async fn db<T, F>(&self, f: F) -> std::result::Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        crate::blocking::on_store(&self.store, f).await
    }

    /// The grant row of the job: the payload's, else the one planned for its subscription.
    async fn grant_id(&self, p: &GrantPayload) -> std::result::Result<Option<i64>, JobError> {
        if p.grant_id.is_some() {
            return Ok(p.grant_id);
        }
        let Some(sub) = p.subscription_id else {
            return Ok(None);
        };
        let (target, role) = (p.target.clone(), p.role.clone());
        self.db(move |c| {
            Ok(c.query_row(
                "SELECT id FROM access_grants WHERE subscription_id = ?1 AND target = ?2 AND role = ?3",
                (sub, &target, &role),
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn run_job(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        let p: GrantPayload = serde_json::from_value(job.payload.clone()).map_err(|e| {
            JobError::fatal(format!(
                "the access.grant payload needs target, role, email and name: {e}"
            ))
        })?;
        let grant = self.grant_id(&p).await?;
        let outcome = match p.target.as_str() {
            ISSUE_TRACKER => self.grant_on_tracker(job, &p, grant).await,
            HOSTING => self.grant_on_site(job, &p, grant).await,
            other => Err(JobError::fatal(format!(
                "Hostdesk cannot grant access on '{other}' (it can on: {}): change the tier's grant",
                TARGETS.join(", ")
            ))
            .into()),
        };
        let error = match outcome {
            Ok(result) => {
                if let Some(id) = grant {
                    let at = self.env.clock.stamp();
                    self.db(move |c| gone_is_fine(store_access::mark_granted(c, id, &at)))
                        .await?;
                }
                return Ok(result);
            }
            Err(Failure::Job(e)) => e,
            Err(Failure::Remote { context, error }) => {
                self.remote_failure(job, &context, &error).await?
            }
        };
        if let Some(id) = grant {
            let (job_id, attempt) = (job.id, job.attempt);
            let (message, retryable) = (error.message.clone(), error.retryable);
            let at = self.env.clock.stamp();
            self.db(move |c| {
                let max: i64 = c
                    .query_row(
                        "SELECT max_attempts FROM jobs WHERE id = ?1",
                        [job_id],
                        |r| r.get(0),
                    )
                    .optional()?
                    .unwrap_or(DEFAULT_MAX_ATTEMPTS);
                let last = !retryable || attempt >= max;
                store_access::record_error(c, id, &message, last, &at)
            })
            .await?;
        }
        Err(error)
    }

    /// A remote failure as a job error. A target that cannot be reached at all (DNS, connection
    /// refused: the laptop is offline, or the server is down) keeps the job waiting without
    /// using up its attempts, for at most `offline_patience`.
    async fn remote_failure(
        &self,
        job: &JobCtx,
        context: &str,
        e: &RemoteError,
    ) -> std::result::Result<JobError, JobError> {
        let mut err = remote_err(context, e);
        if !store_servers::UNREACHABLE_CODES.contains(&e.code()) {
            return Ok(err);
        }
        let now = self.env.clock.now();
        let since = text(&job.result, "offlineSince")
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(now);
        if job.result.get("offlineSince").is_none() {
            job.save(json!({ "offlineSince": self.env.clock.stamp() }))
                .await?;
        }
        let waited = (now - since).to_std().unwrap_or_default();
        if waited < self.env.config.offline_patience {
            let id = job.id;
            self.db(move |c| store_servers::grant_extra_attempt(c, id))
                .await?;
            err.message = format!(
                "offline: {} (the grant waits for it to answer, without using up its attempts)",
                err.message
            );
        }
        Ok(err)
    }

    /// Saves the remote user the moment it exists: in the job's result and on the grant row.
    async fn save_user(
        &self,
        job: &JobCtx,
        grant: Option<i64>,
        user_id: &str,
        login: Option<&str>,
    ) -> std::result::Result<(), JobError> {
        if text(&job.result, "userId") != Some(user_id) {
            job.save(json!({ "userId": user_id, "login": login }))
                .await?;
        }
        if let Some(id) = grant {
            let (uid, login, at) = (
                user_id.to_owned(),
                login.map(str::to_owned),
                self.env.clock.stamp(),
            );
            self.db(move |c| {
                gone_is_fine(store_access::record_user(
                    c,
                    id,
                    &uid,
                    login.as_deref(),
                    &at,
                ))
            })
            .await?;
        }
        Ok(())
    }

    async fn grant_on_tracker(
        &self,
        job: &JobCtx,
        p: &GrantPayload,
        grant: Option<i64>,
    ) -> Step<Value> {
        let (url, project) = self
            .db(|c| {
                Ok((
                    store_settings::get(c, TRACKER_URL)?,
                    store_settings::get(c, TRACKER_PROJECT)?,
                ))
            })
            .await?;
        let project = p
            .project
            .clone()
            .filter(|x| !x.trim().is_empty())
            .or(project);
        let probe = tracker_from(url, project, &*self.env.secrets, &self.env.config.http).map_err(
            |(retry, m)| JobError {
                message: m,
                retryable: retry,
            },
        )?;
        let t: &dyn IssueTracker = &probe.tracker;
        let ctx = format!("issue tracker {}", probe.url);
        let ctx = ctx.as_str();
        // The role first: an unknown role creates nothing.
        let roles = remote(ctx, t.roles().await)?;
        let Some(role) = find_role(&roles, &p.role).cloned() else {
            let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
            return Err(JobError::fatal(format!(
                "the issue tracker at {} has no role named '{}' (its roles: {}): add the role on the tracker or change the support tier's grant, then retry this job",
                probe.url,
                p.role,
                if names.is_empty() { "none".to_owned() } else { names.join(", ") }
            ))
            .into());
        };
        let saved = job.result.get("userId").and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .or(v.as_i64())
        });
        let (user_id, login, already_existed) = match saved {
            Some(id) => (id, text(&job.result, "login").map(str::to_owned), true),
            None => {
                let login = p
                    .login
                    .clone()
                    .filter(|l| !l.trim().is_empty())
                    .unwrap_or_else(|| login_for(&p.email));
                let (firstname, lastname) = split_name(&p.name);
                let req = NewTrackerUser {
                    login,
                    firstname,
                    lastname,
                    mail: p.email.trim().to_owned(),
                    send_information: true,
                };
                let u = remote(ctx, tracker::ensure_user(t, &req).await)?;
                self.save_user(job, grant, &u.user.id.to_string(), Some(&u.user.login))
                    .await?;
                (u.user.id, Some(u.user.login), u.already_existed)
            }
        };
        let g = remote(
            ctx,
            tracker::grant_role(t, &probe.project, user_id, role.id).await,
        )?;
        Ok(json!({
            "target": ISSUE_TRACKER,
            "tracker": probe.url,
            "project": probe.project,
            "role": role.name,
            "roleId": role.id,
            "userId": user_id.to_string(),
            "login": login,
            "userExisted": already_existed,
            "membershipId": g.membership_id,
            "alreadyHadRole": g.already,
            "addedToMembership": g.added_to_existing,
            "offlineSince": null,
        }))
    }

    async fn load_site(
        &self,
        job: &JobCtx,
        p: &GrantPayload,
    ) -> std::result::Result<(SiteRow, Server), JobError> {
        let (site_id, sub, job_server) = (p.site_id, p.subscription_id, job.server_id);
        let loaded = self
            .db(move |c| {
                let site = match (site_id, sub) {
                    (Some(id), _) => match store_servers::get_site(c, id) {
                        Ok(s) => Some(s),
                        Err(StoreError::NotFound { .. }) => None,
                        Err(e) => return Err(e),
                    },
                    (None, Some(sub)) => first_site(c, sub)?,
                    (None, None) => None,
                };
                let Some(site) = site else {
                    return Ok(Err(
                        "the grant's subscription has no site to give the role on".to_owned(),
                    ));
                };
                let Some(server_id) = job_server.or(site.server_id) else {
                    return Ok(Err(format!(
                        "site {} is not placed on a server yet",
                        site.domain
                    )));
                };
                match store_servers::get(c, server_id) {
                    Ok(server) => Ok(Ok((site, server))),
                    Err(StoreError::NotFound { .. }) => Ok(Err(format!(
                        "server {server_id} of this grant no longer exists"
                    ))),
                    Err(e) => Err(e),
                }
            })
            .await?;
        loaded.map_err(JobError::fatal)
    }

    fn driver(&self, server: &Server) -> std::result::Result<Arc<dyn HostingDriver>, JobError> {
        self.env.driver(server)
    }

    async fn grant_on_site(
        &self,
        job: &JobCtx,
        p: &GrantPayload,
        grant: Option<i64>,
    ) -> Step<Value> {
        let (site, server) = self.load_site(job, p).await?;
        if site.status == "deleted" {
            return Err(JobError::fatal(format!("site {} is deleted", site.domain)).into());
        }
        let driver = self.driver(&server)?;
        if !driver.capabilities().supports(Operation::CreateUser) {
            return Err(JobError::fatal(format!(
                "server {} ({}) cannot create a user on a site, so it cannot give the '{}' role on {}: hand the site over when it is created instead, or change the support tier's grant",
                server.name, server.kind, p.role, site.domain
            ))
            .into());
        }
        let ctx = format!("server {}", server.name);
        let ctx = ctx.as_str();
        let saved_task: Option<TaskRef> = job
            .result
            .get("task")
            .filter(|t| !t.is_null())
            .and_then(|t| serde_json::from_value(t.clone()).ok());
        let (user_id, already, progress) = match saved_task {
            Some(task) => (
                text(&job.result, "userId").map(str::to_owned),
                true,
                Progress::Pending { task },
            ),
            None => {
                let req = CreateUser {
                    site: SiteTarget {
                        name: site.domain.clone(),
                        remote_id: site.remote_id.clone(),
                    },
                    email: p.email.trim().to_owned(),
                    name: p.name.trim().to_owned(),
                    role: p.role.clone(),
                };
                let u = remote(ctx, driver.create_user(&req).await)?;
                if let Some(uid) = &u.remote_id {
                    self.save_user(job, grant, uid, Some(p.email.trim()))
                        .await?;
                }
                if let Progress::Pending { task } = &u.progress {
                    job.save(json!({ "task": task })).await?;
                }
                (u.remote_id, u.already_existed, u.progress)
            }
        };
        if let Progress::Pending { task } = progress {
            match remote(ctx, driver.wait_task(&task).await)? {
                TaskState::Succeeded | TaskState::Warning { .. } => {}
                TaskState::Failed { reason } => {
                    job.save(json!({ "task": null })).await?;
                    return Err(JobError::fatal(format!("{ctx}: {reason}")).into());
                }
                TaskState::Queued | TaskState::Processing => {
                    return Err(JobError::retry(format!(
                    "{ctx}: the user's task on {} is still running; the next attempt looks again",
                    site.domain
                ))
                    .into())
                }
            }
        }
        let mut result = json!({
            "target": HOSTING,
            "site": site.domain,
            "server": server.name,
            "role": p.role,
            "userId": user_id,
            "userExisted": already,
            "task": null,
            "offlineSince": null,
        });
        if server.kind == "sandbox" {
            result["simulated"] = Value::Bool(true);
        }
        Ok(result)
    }
}

impl JobHandler for AccessGrants {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        Box::pin(self.run_job(job))
    }
}

/// Registers the `access.grant` handler on a runner (called by `provisioning::build_runner`).
pub fn register(
    runner: &mut Runner,
    path: &Path,
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    config: &ProvisioningConfig,
    sandbox_delay: Range<u64>,
) -> Result<()> {
    AccessGrants::open(path, clock, secrets, config, sandbox_delay)?.register(runner);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_stable_and_fit_redmine() {
        assert_eq!(login_for(" Marc@Lumiere.FR "), "marc@lumiere.fr");
        let plus = login_for("marc+billing@lumiere.fr");
        assert!(plus.starts_with("marc_billing@lumiere.fr-"), "{plus}");
        assert_ne!(plus, login_for("marc_billing@lumiere.fr"));
        assert_eq!(plus, login_for("MARC+billing@lumiere.fr"));
        let long = login_for(&format!("{}@example.com", "x".repeat(80)));
        assert!(long.len() <= 60, "{long}");
        assert!(hostdesk_remote::tracker::redmine::valid_login(&long));
        assert!(hostdesk_remote::tracker::redmine::valid_login(&plus));
    }

    #[test]
    fn names_split_in_two() {
        assert_eq!(
            split_name("Atelier Lumière SARL"),
            ("Atelier".into(), "Lumière SARL".into())
        );
        assert_eq!(split_name("Acme"), ("Acme".into(), "-".into()));
        assert_eq!(split_name("  "), ("-".into(), "-".into()));
        let (f, _) = split_name(&"é".repeat(40));
        assert_eq!(f.chars().count(), 30);
    }

    #[test]
    fn queue_times_have_milliseconds() {
        assert_eq!(
            queue_time("2026-11-01T09:00:00Z").unwrap(),
            "2026-11-01T09:00:00.000Z"
        );
        assert!(queue_time("yesterday").is_err());
    }
}
