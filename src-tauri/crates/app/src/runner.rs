//! The job runner: claims ready jobs, runs their handlers concurrently (never more than the
//! per-server limit against one server), records every attempt, retries with exponential
//! backoff and jitter, and gives up (dead) after the job's last attempt.
//!
//! One runner per workspace at a time, enforced by an OS file lock beside the database (the
//! lock dies with the process). So a runner that starts and finds jobs `running` knows their
//! runner is gone, and requeues them at once: nothing is lost after a crash or a kill, and the
//! idempotency key each handler passes to the remote side keeps the effect from doubling.

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hostdesk_store::TransactionBehavior as Behavior;
use hostdesk_store::{jobs, Store};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::clock::millis;
use crate::{AppError, Clock, ErrorCode, Result};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an attempt failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub message: String,
    pub retryable: bool,
}

impl JobError {
    pub fn retry(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: true,
        }
    }
    pub fn fatal(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: false,
        }
    }
}

struct SaveMsg {
    id: i64,
    patch: Value,
    ack: oneshot::Sender<()>,
}

/// What a handler sees of its job.
pub struct JobCtx {
    pub id: i64,
    pub kind: String,
    /// Pass this to the remote side (Idempotency-Key, task name, ...): a retry must not
    /// repeat the effect.
    pub key: String,
    pub attempt: i64,
    pub server_id: Option<i64>,
    pub payload: Value,
    /// What earlier attempts saved (e.g. the remote id): reuse it instead of creating again.
    pub result: Value,
    saver: mpsc::UnboundedSender<SaveMsg>,
}

impl JobCtx {
    /// Saves part of the result (an object merged into it) and returns once it is in the
    /// database: call it as soon as the remote side returns an id.
    pub async fn save(&self, patch: Value) -> std::result::Result<(), JobError> {
        let (ack, done) = oneshot::channel();
        self.saver
            .send(SaveMsg {
                id: self.id,
                patch,
                ack,
            })
            .map_err(|_| JobError::retry("the runner is stopping"))?;
        done.await
            .map_err(|_| JobError::retry("the runner is stopping"))
    }
}

/// Runs the jobs of one kind.
pub trait JobHandler: Send + Sync {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>>;
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Jobs running at once against one server (a server's own limit overrides it).
    pub per_server: usize,
    pub per_server_overrides: HashMap<i64, usize>,
    /// Jobs running at once in all.
    pub max_parallel: usize,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// How long to sleep when nothing is due (forever mode).
    pub poll: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            per_server: 4,
            per_server_overrides: HashMap::new(),
            max_parallel: 64,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(600),
            poll: Duration::from_secs(2),
        }
    }
}

/// When `run` returns.
pub enum Until {
    /// When nothing is running and nothing is ready; with `wait_for_retries`, also wait for
    /// scheduled retries (ignored under a fixed clock, where time does not pass).
    Idle { wait_for_retries: bool },
    /// When the watch turns true; running jobs finish first.
    Stopped(watch::Receiver<bool>),
}

#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub succeeded: u64,
    pub retried: u64,
    pub dead: u64,
    /// Jobs found running from a runner that stopped, sent back to the queue.
    pub recovered: u64,
    /// Jobs still waiting (queued or scheduled for a retry) when the run ended.
    pub waiting: i64,
    pub next_due: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RunEvent {
    Started {
        id: i64,
        kind: String,
        attempt: i64,
    },
    Succeeded {
        id: i64,
        kind: String,
        ms: i64,
    },
    Failed {
        id: i64,
        kind: String,
        error: String,
        retry_at: Option<String>,
    },
}

pub struct Runner {
    path: PathBuf,
    clock: Clock,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    config: RunnerConfig,
}

type Done = (
    i64,
    String,
    Instant,
    std::result::Result<Value, JobError>,
    i64,
    i64,
);

impl Runner {
    pub fn new(path: &Path, clock: Clock, config: RunnerConfig) -> Runner {
        Runner {
            path: path.to_path_buf(),
            clock,
            handlers: HashMap::new(),
            config,
        }
    }

    pub fn handle(&mut self, kind: &str, handler: Arc<dyn JobHandler>) -> &mut Self {
        self.handlers.insert(kind.to_string(), handler);
        self
    }

    fn lock(&self) -> Result<File> {
        let lock_path = self.path.with_extension("runner.lock");
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(std::fs::TryLockError::WouldBlock) => Err(AppError::new(
                ErrorCode::Conflict,
                "another Hostdesk (the app or a `hostdesk jobs run`) is already running this workspace's queue",
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }

    fn backoff(&self, attempt: i64) -> Duration {
        let exp = self
            .config
            .backoff_base
            .saturating_mul(1 << (attempt - 1).clamp(0, 20));
        let capped = exp.min(self.config.backoff_cap);
        capped.mul_f64(0.5 + fastrand::f64()) // jitter: 50% to 150%
    }

    fn limit(&self, server: Option<i64>) -> usize {
        server
            .and_then(|s| self.config.per_server_overrides.get(&s).copied())
            .unwrap_or(self.config.per_server)
            .max(1)
    }

    pub async fn run(&self, mut until: Until, on_event: impl Fn(RunEvent)) -> Result<RunReport> {
        let _lock = self.lock()?;
        let mut store = Store::open(&self.path)?;
        let mut report = RunReport::default();
        {
            let tx = store
                .conn_mut()
                .transaction_with_behavior(Behavior::Immediate)?;
            report.recovered = jobs::recover_running(&tx, &self.clock.stamp_millis())? as u64;
            tx.commit()?;
        }
        let (save_tx, mut save_rx) = mpsc::unbounded_channel::<SaveMsg>();
        let mut set: JoinSet<Done> = JoinSet::new();
        let mut stopping = false;
        let fixed = matches!(self.clock, Clock::Fixed(_));
        // The instant of the last look for ready jobs: a retry that became due since is not
        // "idle" (on a busy machine the claim and the idle check are milliseconds apart).
        let mut claimed_at = millis(self.clock.now());
        loop {
            if let Until::Stopped(rx) = &until {
                stopping |= *rx.borrow();
            }
            let free = self.config.max_parallel.saturating_sub(set.len());
            if free > 0 && !stopping {
                let now = self.clock.now();
                claimed_at = millis(now);
                let lease = millis(now + chrono::Duration::minutes(10));
                let tx = store
                    .conn_mut()
                    .transaction_with_behavior(Behavior::Immediate)?;
                let claimed = jobs::claim(&tx, &millis(now), &lease, free, &|s| self.limit(s))?;
                tx.commit()?;
                for job in claimed {
                    on_event(RunEvent::Started {
                        id: job.id,
                        kind: job.kind.clone(),
                        attempt: job.attempts,
                    });
                    let handler = self.handlers.get(&job.kind).cloned();
                    let ctx = JobCtx {
                        id: job.id,
                        kind: job.kind.clone(),
                        key: job.key.clone(),
                        attempt: job.attempts,
                        server_id: job.server_id,
                        payload: job.payload.clone(),
                        result: job.result.clone(),
                        saver: save_tx.clone(),
                    };
                    let (attempts, max) = (job.attempts, job.max_attempts);
                    set.spawn(async move {
                        let start = Instant::now();
                        let out = match handler {
                            Some(h) => h.run(&ctx).await,
                            None => Err(JobError::fatal(format!(
                                "no handler for jobs of kind '{}' in this build",
                                ctx.kind
                            ))),
                        };
                        (ctx.id, ctx.kind, start, out, attempts, max)
                    });
                }
            }
            if set.is_empty() {
                let next = jobs::next_due(store.conn())?;
                match &mut until {
                    Until::Idle { wait_for_retries } => {
                        // Nothing runs and nothing could be claimed: idle. Jobs due but blocked
                        // (a prerequisite dead or cancelled) wait for staff; only a retry
                        // scheduled later is worth waiting for.
                        let later = jobs::next_due_after(store.conn(), &claimed_at)?;
                        if !*wait_for_retries || fixed || stopping || later.is_none() {
                            break;
                        }
                        tokio::time::sleep(self.until_due(later.as_deref())).await;
                        continue;
                    }
                    Until::Stopped(rx) => {
                        if stopping {
                            break;
                        }
                        let nap = self.until_due(next.as_deref()).min(self.config.poll);
                        tokio::select! {
                            _ = tokio::time::sleep(nap) => {}
                            _ = rx.changed() => {}
                        }
                        continue;
                    }
                }
            }
            tokio::select! {
                Some(msg) = save_rx.recv() => {
                    jobs::save_result(store.conn(), msg.id, &msg.patch, &self.clock.stamp_millis())?;
                    let _ = msg.ack.send(());
                }
                Some(done) = set.join_next() => {
                    let (id, kind, start, out, attempts, max) =
                        done.map_err(|e| AppError::new(ErrorCode::Internal, format!("a job task panicked: {e}")))?;
                    // Saves sent before the handler returned are written first.
                    while let Ok(msg) = save_rx.try_recv() {
                        jobs::save_result(store.conn(), msg.id, &msg.patch, &self.clock.stamp_millis())?;
                        let _ = msg.ack.send(());
                    }
                    let ms = start.elapsed().as_millis() as i64;
                    let at = self.clock.stamp_millis();
                    let tx = store.conn_mut().transaction_with_behavior(Behavior::Immediate)?;
                    match out {
                        Ok(result) => {
                            jobs::succeed(&tx, id, &result, &at, ms)?;
                            report.succeeded += 1;
                            on_event(RunEvent::Succeeded { id, kind, ms });
                        }
                        Err(e) => {
                            let retry_at = (e.retryable && attempts < max).then(|| {
                                millis(self.clock.now() + chrono::Duration::from_std(self.backoff(attempts)).unwrap_or_default())
                            });
                            jobs::fail(&tx, id, &e.message, retry_at.as_deref(), &at, ms)?;
                            if retry_at.is_some() { report.retried += 1 } else { report.dead += 1 }
                            on_event(RunEvent::Failed { id, kind, error: e.message, retry_at });
                        }
                    }
                    tx.commit()?;
                }
                _ = stop_signal(&mut until), if !stopping => { stopping = true; }
            }
        }
        report.waiting = jobs::counts(store.conn())?
            .into_iter()
            .filter(|(s, _)| s == "queued" || s == "failed")
            .map(|(_, n)| n)
            .sum();
        report.next_due = jobs::next_due(store.conn())?;
        Ok(report)
    }

    fn until_due(&self, next: Option<&str>) -> Duration {
        next.and_then(|n| chrono::DateTime::parse_from_rfc3339(n).ok())
            .map(|t| {
                (t.with_timezone(&Utc) - self.clock.now())
                    .to_std()
                    .unwrap_or_default()
            })
            .unwrap_or(self.config.poll)
            .max(Duration::from_millis(5))
    }
}

async fn stop_signal(until: &mut Until) {
    match until {
        Until::Stopped(rx) => {
            while !*rx.borrow() {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
        Until::Idle { .. } => std::future::pending().await,
    }
}
