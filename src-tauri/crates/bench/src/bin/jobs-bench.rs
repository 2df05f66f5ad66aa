//! The job queue at load: 2,000 jobs across 10 servers that each answer in 20 ms, at most 4
//! jobs at once per server. Prints the wall time beside the ideal
//! (2000 / (10 x 4) x 20 ms = 1.0 s), then again with 10% injected failures, checking every
//! job's effect happened exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hostdesk_app::jobs::{self, JobSpec};
use hostdesk_app::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner, RunnerConfig, Until};
use hostdesk_app::{Clock, Workspace};
use serde_json::{json, Value};

const JOBS: usize = 2000;
const SERVERS: i64 = 10;
const LIMIT: usize = 4;
const REPLY: Duration = Duration::from_millis(20);

/// A server that answers in 20 ms, applies each idempotency key once, and fails a share of
/// calls before doing anything.
struct FakeServer {
    effects: Mutex<HashMap<String, usize>>,
    failure_percent: u64,
}

impl JobHandler for FakeServer {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, Result<Value, JobError>> {
        Box::pin(async move {
            tokio::time::sleep(REPLY).await;
            if fastrand::u64(0..100) < self.failure_percent {
                return Err(JobError::retry("HTTP 503 from the server"));
            }
            let mut e = self
                .effects
                .lock()
                .map_err(|_| JobError::fatal("poisoned"))?;
            *e.entry(job.key.clone()).or_default() += 1;
            Ok(json!({ "remoteId": job.key }))
        })
    }
}

fn run_once(failure_percent: u64) -> (Duration, usize, usize, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jobs.db");
    let mut ws = Workspace::open(&path, Clock::System).expect("open");
    ws.batch(|ws| {
        for i in 0..JOBS {
            jobs::enqueue(
                ws,
                &JobSpec {
                    kind: "remote".into(),
                    key: format!("job-{i}"),
                    server_id: Some(i as i64 % SERVERS),
                    payload: json!({}),
                    max_attempts: Some(20),
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    })
    .expect("enqueue");
    let server = Arc::new(FakeServer {
        effects: Mutex::new(HashMap::new()),
        failure_percent,
    });
    let config = RunnerConfig {
        per_server: LIMIT,
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(40),
        ..Default::default()
    };
    let mut runner = Runner::new(&path, Clock::System, config);
    runner.handle("remote", server.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = Instant::now();
    let report = rt
        .block_on(runner.run(
            Until::Idle {
                wait_for_retries: true,
            },
            |_| {},
        ))
        .expect("run");
    let wall = t.elapsed();
    let effects = server.effects.lock().expect("lock");
    let once = effects.values().filter(|n| **n == 1).count();
    (wall, effects.len(), once, report.retried)
}

fn main() {
    let ideal = REPLY.as_secs_f64() * (JOBS as f64) / (SERVERS as f64 * LIMIT as f64);
    println!(
        "jobs-bench: {JOBS} jobs, {SERVERS} servers answering in {} ms, {LIMIT} at once per server",
        REPLY.as_millis()
    );
    let (wall, done, once, _) = run_once(0);
    println!(
        "  no failures:    wall {:.2} s   ideal {ideal:.2} s   ratio {:.2}x (goal <= 1.3x)   {done} effects, {once} exactly once",
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal
    );
    let (wall, done, once, retried) = run_once(10);
    println!(
        "  10% failures:   wall {:.2} s   ideal {ideal:.2} s   ratio {:.2}x   {retried} retries   {done} effects, {once} exactly once",
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal
    );
}
