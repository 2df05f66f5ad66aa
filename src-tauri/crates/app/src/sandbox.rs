//! The sandbox: a simulated hosting server inside Hostdesk. Its sites live in the workspace
//! database (table `sandbox_sites`), it answers after a realistic delay and fails at the rate
//! set in settings (`sandbox_failure_rate`, percent), always before doing anything, so a retry
//! is clean. Everything it does is labelled as simulated. The demo workspace uses it so a new
//! user can try the whole workflow with no server of their own.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_store::{settings, Connection, OptionalExtension, Store};
use serde_json::{json, Value};

use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::Clock;

pub const CREATE_SITE: &str = "sandbox.create_site";
pub const CREATE_USER: &str = "sandbox.create_user";
pub const SUSPEND_SITE: &str = "sandbox.suspend_site";
pub const UNSUSPEND_SITE: &str = "sandbox.unsuspend_site";
pub const DELETE_SITE: &str = "sandbox.delete_site";
pub const KINDS: &[&str] = &[
    CREATE_SITE,
    CREATE_USER,
    SUSPEND_SITE,
    UNSUSPEND_SITE,
    DELETE_SITE,
];

/// Settings key: the percentage of sandbox calls that fail (0 by default).
pub const FAILURE_RATE: &str = "sandbox_failure_rate";

/// Settings key: the next N calls of one sandbox operation fail, as `OPERATION:N` (e.g.
/// `create_user:2`): to watch the queue retry a step of a chain.
pub const FAIL_NEXT: &str = "sandbox_fail_next";

/// Parses `OPERATION:N`.
pub fn parse_fail_next(v: &str) -> Option<(&str, u32)> {
    let (op, n) = v.split_once(':')?;
    let op = op.trim();
    let n = n.trim().parse().ok()?;
    (!op.is_empty() && op.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some((op, n))
}

/// Takes one forced failure of `op` if staff asked for some: Some(how many remain after it).
pub fn take_forced_failure(conn: &Connection, op: &str) -> hostdesk_store::Result<Option<u32>> {
    let Some(v) = settings::get(conn, FAIL_NEXT)? else {
        return Ok(None);
    };
    match parse_fail_next(&v) {
        Some((o, n)) if o == op && n > 0 => {
            settings::set(conn, FAIL_NEXT, &format!("{op}:{}", n - 1))?;
            Ok(Some(n - 1))
        }
        _ => Ok(None),
    }
}

pub struct Sandbox {
    store: Mutex<Store>,
    clock: Clock,
    delay_ms: Range<u64>,
}

impl Sandbox {
    /// `delay_ms`: how long each call takes (e.g. 200..800 for realism, 0..1 in tests).
    pub fn open(path: &Path, clock: Clock, delay_ms: Range<u64>) -> crate::Result<Arc<Sandbox>> {
        Ok(Arc::new(Sandbox {
            store: Mutex::new(Store::open(path)?),
            clock,
            delay_ms,
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        for k in KINDS {
            runner.handle(k, self.clone());
        }
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        let store = self
            .store
            .lock()
            .map_err(|_| JobError::fatal("sandbox lock poisoned"))?;
        f(store.conn())
    }

    fn apply(&self, kind: &str, p: &Value) -> Result<Value, JobError> {
        let text = |k: &str| -> Result<String, JobError> {
            p.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| JobError::fatal(format!("the job's payload has no '{k}'")))
        };
        let at = self.clock.stamp();
        let db =
            |e: hostdesk_store::RusqliteError| JobError::retry(format!("sandbox database: {e}"));
        self.with_conn(|conn| {
            let rate: u64 = settings::get(conn, FAILURE_RATE)
                .map_err(|e| JobError::retry(e.to_string()))?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if rate > 0 && fastrand::u64(0..100) < rate {
                return Err(JobError::retry(format!("simulated failure (sandbox failure rate {rate}%)")));
            }
            let site = text(if kind == CREATE_SITE { "name" } else { "site" })?;
            let status: Option<String> = conn
                .query_row("SELECT status FROM sandbox_sites WHERE name = ?1", [&site], |r| r.get(0))
                .optional()
                .map_err(db)?;
            match kind {
                CREATE_SITE => {
                    if status.is_none() {
                        conn.execute(
                            "INSERT INTO sandbox_sites (name, profile, status, created_at, updated_at)
                             VALUES (?1, ?2, 'enabled', ?3, ?3)",
                            (&site, text("profile").unwrap_or_default(), &at),
                        )
                        .map_err(db)?;
                    }
                    Ok(json!({ "remoteId": site, "simulated": true, "existed": status.is_some() }))
                }
                CREATE_USER => {
                    if status.as_deref() != Some("enabled") {
                        return Err(JobError::retry(format!("sandbox site {site} is not enabled yet")));
                    }
                    let users: String = conn
                        .query_row("SELECT users FROM sandbox_sites WHERE name = ?1", [&site], |r| r.get(0))
                        .map_err(db)?;
                    let mut users: Vec<Value> = serde_json::from_str(&users).unwrap_or_default();
                    let email = text("email")?;
                    if let Some(u) = users.iter().find(|u| u["email"] == email.as_str()) {
                        return Ok(json!({ "uid": u["uid"], "simulated": true, "existed": true }));
                    }
                    // uid 1 is the site's administrator: a client never gets it
                    let uid = users.iter().filter_map(|u| u["uid"].as_i64()).max().unwrap_or(1) + 1;
                    users.push(json!({ "uid": uid, "name": text("name")?, "email": email, "role": text("role")? }));
                    conn.execute(
                        "UPDATE sandbox_sites SET users = ?2, updated_at = ?3 WHERE name = ?1",
                        (&site, Value::from(users).to_string(), &at),
                    )
                    .map_err(db)?;
                    Ok(json!({ "uid": uid, "simulated": true, "existed": false }))
                }
                SUSPEND_SITE | UNSUSPEND_SITE | DELETE_SITE => {
                    if status.is_none() {
                        return Err(JobError::fatal(format!("sandbox site {site} does not exist")));
                    }
                    let to = match kind {
                        SUSPEND_SITE => "disabled",
                        UNSUSPEND_SITE => "enabled",
                        _ => "deleted",
                    };
                    conn.execute(
                        "UPDATE sandbox_sites SET status = ?2, updated_at = ?3 WHERE name = ?1",
                        (&site, to, &at),
                    )
                    .map_err(db)?;
                    Ok(json!({ "status": to, "simulated": true }))
                }
                other => Err(JobError::fatal(format!("the sandbox does not do '{other}'"))),
            }
        })
    }
}

impl JobHandler for Sandbox {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, Result<Value, JobError>> {
        Box::pin(async move {
            let ms = if self.delay_ms.is_empty() {
                self.delay_ms.start
            } else {
                fastrand::u64(self.delay_ms.clone())
            };
            tokio::time::sleep(Duration::from_millis(ms)).await;
            self.apply(&job.kind, &job.payload)
        })
    }
}
