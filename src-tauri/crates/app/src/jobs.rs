//! Job use cases for staff: enqueue, list, show (with every attempt), retry, cancel.

use hostdesk_store::jobs::{self, Attempt, Job, NewJob};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use hostdesk_store::Connection;

use crate::{AppError, Ctx, Result, Workspace};

/// Attempts a job gets before it is dead, unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct JobSpec {
    pub kind: String,
    /// The idempotency key: the same key never makes a second job.
    pub key: String,
    pub server_id: Option<i64>,
    pub subscription_id: Option<i64>,
    pub site_id: Option<i64>,
    #[specta(type = String)]
    pub payload: Value,
    pub max_attempts: Option<i64>,
    /// Jobs that must succeed first.
    pub after: Vec<i64>,
}

/// Queues a job (or finds the one with the same key). Returns its id.
pub fn enqueue(ws: &mut Workspace, spec: &JobSpec) -> Result<i64> {
    ws.write(|tx, ctx| enqueue_in(tx, ctx, spec))
}

/// [`enqueue`] in the caller's transaction.
pub fn enqueue_in(tx: &Connection, ctx: &Ctx, spec: &JobSpec) -> Result<i64> {
    if spec.kind.trim().is_empty() {
        return Err(AppError::invalid("kind", "is required"));
    }
    if spec.key.trim().is_empty() {
        return Err(AppError::invalid(
            "key",
            "is required: the idempotency key of this job",
        ));
    }
    let max = spec.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if !(1..=100).contains(&max) {
        return Err(AppError::invalid(
            "maxAttempts",
            "must be between 1 and 100",
        ));
    }
    let payload = if spec.payload.is_null() {
        Value::Object(Default::default())
    } else {
        spec.payload.clone()
    };
    if !payload.is_object() {
        return Err(AppError::invalid("payload", "must be a JSON object"));
    }
    {
        let (id, created) = jobs::enqueue(
            tx,
            &NewJob {
                kind: &spec.kind,
                key: &spec.key,
                server_id: spec.server_id,
                subscription_id: spec.subscription_id,
                site_id: spec.site_id,
                payload: &payload,
                max_attempts: max,
                deps: &spec.after,
            },
            &ctx.at_ms,
        )?;
        if created {
            ctx.audit(
                tx,
                "job",
                Some(id),
                "enqueue",
                None::<&()>,
                Some(&serde_json::json!({ "kind": spec.kind, "key": spec.key })),
            )?;
        }
        Ok(id)
    }
}

fn check_state(state: Option<&str>) -> Result<()> {
    match state {
        Some(s) if !jobs::STATES.contains(&s) => Err(AppError::invalid(
            "state",
            format!("'{s}' is not one of: {}", jobs::STATES.join(", ")),
        )),
        _ => Ok(()),
    }
}

pub fn list(
    ws: &Workspace,
    state: Option<&str>,
    server_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Job>> {
    check_state(state)?;
    Ok(jobs::list(
        ws.conn(),
        state,
        server_id,
        offset.max(0),
        limit.clamp(1, 1000),
    )?)
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct JobDetail {
    pub job: Job,
    pub attempts: Vec<Attempt>,
}

pub fn show(ws: &Workspace, id: i64) -> Result<JobDetail> {
    Ok(JobDetail {
        job: jobs::get(ws.conn(), id)?,
        attempts: jobs::attempts(ws.conn(), id)?,
    })
}

/// Runs a dead, failed or cancelled job again now, with a fresh allowance of attempts.
pub fn retry(ws: &mut Workspace, id: i64) -> Result<Job> {
    let at = ws.clock().stamp_millis();
    ws.write(|tx, ctx| {
        let before = jobs::get(tx, id)?;
        let job = jobs::retry(tx, id, &at, DEFAULT_MAX_ATTEMPTS)?;
        ctx.audit(
            tx,
            "job",
            Some(id),
            "retry",
            Some(&before.state),
            Some(&job.state),
        )?;
        Ok(job)
    })
}

/// Cancels a job that has not started (and the jobs waiting on it). Returns every cancelled id.
pub fn cancel(ws: &mut Workspace, id: i64) -> Result<Vec<i64>> {
    let at = ws.clock().stamp_millis();
    ws.write(|tx, ctx| {
        let ids = jobs::cancel(tx, id, &at)?;
        ctx.audit(tx, "job", Some(id), "cancel", None::<&()>, Some(&ids))?;
        Ok(ids)
    })
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct StateCount {
    pub state: String,
    pub count: i64,
}

pub fn counts(ws: &Workspace) -> Result<Vec<StateCount>> {
    Ok(jobs::counts(ws.conn())?
        .into_iter()
        .map(|(state, count)| StateCount { state, count })
        .collect())
}
