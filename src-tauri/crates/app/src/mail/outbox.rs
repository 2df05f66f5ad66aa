//! Putting mail in the outbox (in the caller's transaction), and staff's view of it.

use hostdesk_store::jobs::{self as store_jobs, Attempt, Job, NewJob};
use hostdesk_store::outbox::{self as store, NewMail, OutboxMail};
use hostdesk_store::{settings as store_settings, Connection};
use lettre::Address;
use serde::Serialize;
use serde_json::json;

use super::smtp;
use super::templates::{MailKind, Rendered};
use super::SEND_KIND;
use crate::clock::millis;
use crate::jobs::DEFAULT_MAX_ATTEMPTS;
use crate::{AppError, Result, Workspace};

/// A mail to queue. Build it with [`OutgoingMail::new`] from a rendered template (or set the
/// subject and body of a custom mail), then set what applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub client_id: Option<i64>,
    pub to_addr: String,
    pub to_name: String,
    pub subject: String,
    pub body_text: String,
    pub kind: MailKind,
    /// Queueing the same key again is a no-op that returns the first mail: name the event, e.g.
    /// `welcome:subscription:7`, `payment_failed:payment:31`, `reminder:invoice:12:1`.
    pub dedupe_key: String,
    /// Jobs that must succeed before it is sent (the site's creation before the welcome mail).
    pub after: Vec<i64>,
    /// Links the send job to a subscription / site (shown with their jobs).
    pub subscription_id: Option<i64>,
    pub site_id: Option<i64>,
    /// Attempts before the mail is `failed` (default [`DEFAULT_MAX_ATTEMPTS`]).
    pub max_attempts: Option<i64>,
}

impl OutgoingMail {
    pub fn new(
        to_addr: &str,
        to_name: &str,
        kind: MailKind,
        dedupe_key: impl Into<String>,
        rendered: Rendered,
    ) -> OutgoingMail {
        OutgoingMail {
            client_id: None,
            to_addr: to_addr.trim().to_owned(),
            to_name: to_name.trim().to_owned(),
            subject: rendered.subject,
            body_text: rendered.body,
            kind,
            dedupe_key: dedupe_key.into(),
            after: Vec::new(),
            subscription_id: None,
            site_id: None,
            max_attempts: None,
        }
    }
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct EnqueuedMail {
    pub outbox_id: i64,
    pub job_id: i64,
    pub message_id: String,
    /// False: a mail with this dedupe key was already queued (nothing new was written).
    pub created: bool,
}

fn check(mail: &OutgoingMail) -> Result<i64> {
    if mail.to_addr.trim().parse::<Address>().is_err() {
        return Err(AppError::invalid(
            "toAddr",
            format!("'{}' is not an e-mail address", mail.to_addr),
        ));
    }
    if mail.to_name.contains(['\r', '\n']) {
        return Err(AppError::invalid("toName", "is one line"));
    }
    if mail.subject.trim().is_empty() || mail.subject.contains(['\r', '\n']) {
        return Err(AppError::invalid("subject", "is one line of text"));
    }
    if mail.subject.len() > 998 {
        return Err(AppError::invalid("subject", "is longer than 998 bytes"));
    }
    if mail.dedupe_key.trim().is_empty() {
        return Err(AppError::invalid(
            "dedupeKey",
            "is required: it names the event so the mail is queued once",
        ));
    }
    let max = mail.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS);
    if !(1..=100).contains(&max) {
        return Err(AppError::invalid(
            "maxAttempts",
            "must be between 1 and 100",
        ));
    }
    Ok(max)
}

/// A new RFC 5322 Message-ID: random, on the domain of the from address (set or not yet).
fn new_message_id(conn: &Connection) -> Result<String> {
    let from = store_settings::get(conn, smtp::FROM_ADDR)?.unwrap_or_default();
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_ascii_lowercase())
        .filter(|d| {
            !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        })
        .unwrap_or_else(|| "hostdesk.localhost".to_owned());
    Ok(format!(
        "<{:016x}{:016x}.hostdesk@{domain}>",
        fastrand::u64(..),
        fastrand::u64(..)
    ))
}

/// Queues a mail: the outbox row (with its Message-ID, fixed now) and its `mail.send` job,
/// written with `conn`, the caller's open transaction, so they commit with the caller's other
/// writes or not at all. The same dedupe key again returns the first mail (`created: false`)
/// and writes nothing. `at` is the caller's RFC 3339 instant (e.g. `ctx.at`).
pub fn enqueue(conn: &Connection, mail: &OutgoingMail, at: &str) -> Result<EnqueuedMail> {
    let max = check(mail)?;
    let at = chrono::DateTime::parse_from_rfc3339(at.trim())
        .map(|t| millis(t.with_timezone(&chrono::Utc)))
        .map_err(|e| AppError::invalid("at", format!("'{at}' is not an RFC 3339 instant: {e}")))?;
    if let Some(existing) = store::find_by_key(conn, mail.dedupe_key.trim())? {
        let job_id = match existing.job_id {
            Some(j) => j,
            None => enqueue_job(conn, &existing, mail, max, &at)?,
        };
        return Ok(EnqueuedMail {
            outbox_id: existing.id,
            job_id,
            message_id: existing.message_id,
            created: false,
        });
    }
    let message_id = new_message_id(conn)?;
    let (row, _) = store::insert(
        conn,
        &NewMail {
            client_id: mail.client_id,
            to_addr: mail.to_addr.trim(),
            to_name: mail.to_name.trim(),
            subject: mail.subject.trim(),
            body_text: &mail.body_text,
            kind: mail.kind.as_str(),
            dedupe_key: mail.dedupe_key.trim(),
            message_id: &message_id,
        },
        &at,
    )?;
    let job_id = enqueue_job(conn, &row, mail, max, &at)?;
    Ok(EnqueuedMail {
        outbox_id: row.id,
        job_id,
        message_id: row.message_id,
        created: true,
    })
}

fn enqueue_job(
    conn: &Connection,
    row: &OutboxMail,
    mail: &OutgoingMail,
    max_attempts: i64,
    at: &str,
) -> Result<i64> {
    let payload = json!({ "outboxId": row.id });
    let (job_id, _) = store_jobs::enqueue(
        conn,
        &NewJob {
            kind: SEND_KIND,
            key: &store::job_key(row.id),
            server_id: None,
            subscription_id: mail.subscription_id,
            site_id: mail.site_id,
            payload: &payload,
            max_attempts,
            deps: &mail.after,
        },
        at,
    )?;
    Ok(job_id)
}

fn check_state(state: Option<&str>) -> Result<()> {
    match state {
        Some(s) if !store::STATES.contains(&s) => Err(AppError::invalid(
            "state",
            format!("'{s}' is not one of: {}", store::STATES.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// The outbox, newest first, optionally one state and/or one client.
pub fn list(
    ws: &Workspace,
    state: Option<&str>,
    client_id: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Vec<OutboxMail>> {
    check_state(state)?;
    Ok(store::list(
        ws.conn(),
        state,
        client_id,
        offset.max(0),
        limit.clamp(1, 1000),
    )?)
}

/// One mail with its send job and that job's attempts.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MailDetail {
    pub mail: OutboxMail,
    pub job: Option<Job>,
    pub attempts: Vec<Attempt>,
}

pub fn show(ws: &Workspace, id: i64) -> Result<MailDetail> {
    let mail = store::get(ws.conn(), id)?;
    let job = mail
        .job_id
        .map(|j| store_jobs::get(ws.conn(), j))
        .transpose()?;
    let attempts = match &job {
        Some(j) => store_jobs::attempts(ws.conn(), j.id)?,
        None => Vec::new(),
    };
    Ok(MailDetail {
        mail,
        job,
        attempts,
    })
}

/// Staff retry: a failed mail is queued again, and its send job (dead) runs again now with a
/// fresh allowance of attempts. A mail still `queued` whose send job was cancelled (or is
/// dead) gets its job back the same way.
pub fn retry(ws: &mut Workspace, id: i64) -> Result<OutboxMail> {
    let at = ws.clock().stamp_millis();
    ws.write(|tx, ctx| {
        let current = store::get(tx, id)?;
        let stuck = match current.job_id {
            Some(j) => ["dead", "cancelled"].contains(&store_jobs::get(tx, j)?.state.as_str()),
            None => true,
        };
        let before = json!({ "state": current.state, "lastError": current.last_error });
        if !(current.state == "queued" && stuck) {
            store::requeue(tx, id, &at)?; // only a failed mail
        }
        let job = match store_jobs::enqueue(
            tx,
            &NewJob {
                kind: SEND_KIND,
                key: &store::job_key(id),
                server_id: None,
                subscription_id: None,
                site_id: None,
                payload: &json!({ "outboxId": id }),
                max_attempts: DEFAULT_MAX_ATTEMPTS,
                deps: &[],
            },
            &at,
        )? {
            (job_id, true) => store_jobs::get(tx, job_id)?,
            (job_id, false) => {
                let job = store_jobs::get(tx, job_id)?;
                if ["dead", "failed", "cancelled"].contains(&job.state.as_str()) {
                    store_jobs::retry(tx, job_id, &at, DEFAULT_MAX_ATTEMPTS)?
                } else {
                    job // queued or running already (staff retried the job itself)
                }
            }
        };
        ctx.audit(
            tx,
            "mail",
            Some(id),
            "retry",
            Some(&before),
            Some(&json!({ "state": "queued", "job": job.id })),
        )?;
        store::get(tx, id).map_err(Into::into)
    })
}

/// Queues a short test mail to `to_addr` (staff checking the SMTP settings). Each call is a new
/// mail.
pub fn queue_test(ws: &mut Workspace, to_addr: &str) -> Result<EnqueuedMail> {
    let at = ws.clock().stamp_millis();
    let body = format!(
        "This is a test mail from Hostdesk, queued at {at}.\n\n\
         If you can read it, outgoing mail works.\n"
    );
    let mut mail = OutgoingMail::new(
        to_addr,
        "",
        MailKind::Custom,
        format!("test:{at}:{:08x}", fastrand::u32(..)),
        Rendered {
            subject: "Hostdesk test mail".to_owned(),
            body,
            source: super::TemplateSource::BuiltIn,
        },
    );
    mail.max_attempts = Some(3);
    ws.write(|tx, ctx| {
        let q = enqueue(tx, &mail, &at)?;
        ctx.audit(
            tx,
            "mail",
            Some(q.outbox_id),
            "test",
            None::<&()>,
            Some(&json!({ "to": mail.to_addr })),
        )?;
        Ok(q)
    })
}

/// How many mails are in each state.
pub fn counts(ws: &Workspace) -> Result<Vec<(String, i64)>> {
    Ok(store::counts(ws.conn())?)
}
