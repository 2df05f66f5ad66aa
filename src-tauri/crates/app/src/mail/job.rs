//! The `mail.send` job handler.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_store::outbox::{self as store, OutboxMail};
use hostdesk_store::{jobs as store_jobs, Connection, Store, StoreError};
use serde_json::{json, Value};

use super::smtp::{self, SmtpConfig, SMTP_SECRET};
use super::SEND_KIND;
use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::secrets::{Secret, SecretStore};
use crate::{Clock, Result};

/// How the sender talks to the SMTP server.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// For connecting and for each SMTP command.
    pub timeout: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            timeout: Duration::from_secs(30),
        }
    }
}

/// Sends outbox rows, one `mail.send` job each.
///
/// # Guarantees
/// - Never sent twice by Hostdesk's own doing: a row already `sent` succeeds without a word
///   to the SMTP server, and the row is marked `sent` as soon as the server accepted it.
/// - Never lost: before the server is called the row is `sending` with the attempt counted;
///   transient failures (connection refused, timeouts, TLS, 4xx replies) retry with the job's
///   backoff and leave the row `queued` with the error; a permanent rejection (5xx) makes the
///   row `failed` with the server's words and the job dead; after the job's last attempt the
///   row is `failed` too. Staff requeue it (`hostdesk outbox retry`).
/// - The one window no local bookkeeping can close: the process dies after the server accepted
///   the message and before `sent` is written. The runner then requeues the job and the mail is
///   sent again, but with the same Message-ID (fixed when it was queued), so the second copy is
///   recognizable as the same message (mail clients and many servers drop the duplicate).
/// - The SMTP password is read from the [`SecretStore`] for each send and never written
///   anywhere; errors have it scrubbed.
pub struct MailSender {
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    config: MailConfig,
    store: Arc<Mutex<Store>>,
}

impl MailSender {
    pub fn open(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        config: MailConfig,
    ) -> Result<Arc<MailSender>> {
        Ok(Arc::new(MailSender {
            clock,
            secrets,
            config,
            store: Arc::new(Mutex::new(Store::open(path)?)),
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        runner.handle(SEND_KIND, self.clone());
    }

    /// Database work on the blocking pool (the runner writes too; a wait for SQLite's lock
    /// must not hold up the async workers).
    async fn db<T, F>(&self, f: F) -> std::result::Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> std::result::Result<T, StoreError> + Send + 'static,
    {
        crate::blocking::on_store(&self.store, f).await
    }

    fn done(mail: &OutboxMail, already: bool) -> Value {
        json!({ "outboxId": mail.id, "messageId": mail.message_id, "alreadySent": already })
    }

    /// Records a failed attempt on the row and turns it into the job's error.
    async fn failed(&self, id: i64, e: JobError, last: bool) -> JobError {
        let at = self.clock.stamp_millis();
        let message = e.message.clone();
        let give_up = !e.retryable || last;
        let row_error = if e.retryable && last {
            format!("{message} (gave up after the last attempt)")
        } else {
            message
        };
        let write = self
            .db(move |c| {
                if give_up {
                    store::mark_failed(c, id, &row_error, &at)
                } else {
                    store::mark_waiting(c, id, &row_error, &at)
                }
            })
            .await;
        match write {
            Ok(()) => e,
            Err(db) => JobError::retry(format!("{}; and then {}", e.message, db.message)),
        }
    }

    fn password(&self, config: &SmtpConfig) -> std::result::Result<Option<Secret>, JobError> {
        if config.username.trim().is_empty() {
            return Ok(None);
        }
        self.secrets.get(SMTP_SECRET).map_err(|e| {
            JobError::retry(format!(
                "cannot read the SMTP password from {}: {e}",
                self.secrets.label()
            ))
        })
    }

    async fn run_job(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        let id = job
            .payload
            .get("outboxId")
            .and_then(Value::as_i64)
            .ok_or_else(|| JobError::fatal("this mail.send job names no outboxId"))?;
        let job_id = job.id;
        let loaded = self
            .db(move |c| {
                let mail = match store::get(c, id) {
                    Ok(m) => m,
                    Err(StoreError::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let max = store_jobs::get(c, job_id)?.max_attempts;
                let config = smtp::load(c)?;
                let sandbox = crate::test_clock::is_sandbox(c)?;
                Ok(Some((mail, max, config, sandbox)))
            })
            .await?;
        let Some((mail, max, config, sandbox)) = loaded else {
            return Err(JobError::fatal(format!("mail {id} is not in the outbox")));
        };
        if mail.state == "sent" {
            return Ok(Self::done(&mail, true));
        }
        let last = job.attempt >= max;
        if config.is_none() && sandbox {
            // A sandbox workspace (the demo) with no SMTP server: the mail stays in the outbox,
            // marked sent by simulation, so the whole workflow can be tried with no server.
            let at = self.clock.stamp_millis();
            if self.db(move |c| store::mark_sending(c, id, &at)).await? {
                self.record_sent(id).await?;
            }
            let mut out = Self::done(&mail, false);
            out["simulated"] = Value::Bool(true);
            out["reply"] = Value::String(
                "kept in the outbox: this sandbox workspace has no SMTP server (simulated)".into(),
            );
            return Ok(out);
        }
        let Some(config) = config else {
            let e = JobError::retry(
                "SMTP is not configured: set the server with `hostdesk mail settings` or in the app's Outbox",
            );
            return Err(self.failed(id, e, last).await);
        };
        let password = match self.password(&config) {
            Ok(p) => p,
            Err(e) => return Err(self.failed(id, e, last).await),
        };
        let at = self.clock.stamp_millis();
        if !self.db(move |c| store::mark_sending(c, id, &at)).await? {
            return Ok(Self::done(&mail, true)); // sent meanwhile
        }
        match smtp::send(
            &config,
            password.as_ref(),
            &mail,
            self.clock.now(),
            self.config.timeout,
        )
        .await
        {
            Ok(reply) => {
                self.record_sent(id).await?;
                let mut out = Self::done(&mail, false);
                out["reply"] = Value::String(reply);
                Ok(out)
            }
            Err(e) => {
                let e = if e.permanent {
                    JobError::fatal(e.message)
                } else {
                    JobError::retry(e.message)
                };
                Err(self.failed(id, e, last).await)
            }
        }
    }

    /// The server accepted the message: record it, trying a few times (a busy database must not
    /// turn one sent mail into two). If it still cannot be written the job ends dead (never
    /// retried automatically) and the row stays `sending` for staff to see.
    async fn record_sent(&self, id: i64) -> std::result::Result<(), JobError> {
        let mut last = String::new();
        for pause in [0u64, 100, 500, 2000, 5000] {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let at = self.clock.stamp_millis();
            match self.db(move |c| store::mark_sent(c, id, &at)).await {
                Ok(()) => return Ok(()),
                Err(e) => last = e.message,
            }
        }
        Err(JobError::fatal(format!(
            "the SMTP server accepted the mail but recording it failed ({last}); not sending it again"
        )))
    }
}

impl JobHandler for MailSender {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        Box::pin(self.run_job(job))
    }
}
