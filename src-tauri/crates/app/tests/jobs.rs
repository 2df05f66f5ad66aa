#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hostdesk_app::jobs::{self, JobSpec};
use hostdesk_app::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner, Until};
use hostdesk_app::sandbox::{self, Sandbox};
use hostdesk_app::{Clock, ErrorCode, Workspace};
use serde_json::{json, Value};

fn spec(kind: &str, key: &str, payload: Value) -> JobSpec {
    JobSpec {
        kind: kind.into(),
        key: key.into(),
        payload,
        ..Default::default()
    }
}

async fn drain(runner: &Runner) -> hostdesk_app::runner::RunReport {
    tokio::time::timeout(
        Duration::from_secs(30),
        runner.run(
            Until::Idle {
                wait_for_retries: true,
            },
            |_| {},
        ),
    )
    .await
    .expect("the queue drains")
    .unwrap()
}

/// A handler scripted per job: fail `fails` times (retryably or not), then succeed; counts
/// calls, and tracks how many run at once per server.
#[derive(Default)]
struct Scripted {
    fails: HashMap<String, (usize, bool)>,
    calls: Mutex<HashMap<String, usize>>,
    running: Mutex<HashMap<Option<i64>, usize>>,
    peak: Mutex<HashMap<Option<i64>, usize>>,
    sleep_ms: u64,
}

impl JobHandler for Scripted {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, Result<Value, JobError>> {
        Box::pin(async move {
            {
                let mut r = self.running.lock().unwrap();
                let n = r.entry(job.server_id).or_default();
                *n += 1;
                let mut p = self.peak.lock().unwrap();
                let pk = p.entry(job.server_id).or_default();
                *pk = (*pk).max(*n);
            }
            tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
            *self
                .running
                .lock()
                .unwrap()
                .get_mut(&job.server_id)
                .unwrap() -= 1;
            let call = {
                let mut c = self.calls.lock().unwrap();
                let n = c.entry(job.key.clone()).or_default();
                *n += 1;
                *n
            };
            match self.fails.get(&job.key) {
                Some((fails, retryable)) if call <= *fails => Err(JobError {
                    message: format!("boom {call}"),
                    retryable: *retryable,
                }),
                _ => Ok(json!({ "call": call })),
            }
        })
    }
}

fn workspace(dir: &Path) -> (Workspace, std::path::PathBuf) {
    let path = dir.join("jobs.db");
    (Workspace::open(&path, Clock::System).unwrap(), path)
}

#[test]
fn enqueue_is_idempotent_by_key_and_checks_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, _) = workspace(dir.path());
    let a = jobs::enqueue(&mut ws, &spec("x", "order-1/site", json!({}))).unwrap();
    let again = jobs::enqueue(&mut ws, &spec("x", "order-1/site", json!({ "other": 1 }))).unwrap();
    assert_eq!(a, again);
    assert_eq!(jobs::list(&ws, None, None, 0, 100).unwrap().len(), 1);
    assert_eq!(
        jobs::enqueue(&mut ws, &spec("x", "", json!({})))
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
    assert_eq!(
        jobs::enqueue(&mut ws, &spec("x", "k", json!([1])))
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
    let mut bad_dep = spec("x", "k2", json!({}));
    bad_dep.after = vec![999];
    assert_eq!(
        jobs::enqueue(&mut ws, &bad_dep).unwrap_err().code,
        ErrorCode::NotFound
    );
    assert_eq!(
        jobs::list(&ws, Some("bogus"), None, 0, 10)
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
}

#[tokio::test]
async fn retryable_failures_back_off_and_then_succeed_with_every_attempt_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    let id = jobs::enqueue(&mut ws, &spec("work", "flaky", json!({}))).unwrap();
    let h = Arc::new(Scripted {
        fails: HashMap::from([("flaky".into(), (2, true))]),
        ..Default::default()
    });
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    runner.handle("work", h.clone());
    let report = drain(&runner).await;
    assert_eq!((report.succeeded, report.retried, report.dead), (1, 2, 0));
    let d = jobs::show(&ws, id).unwrap();
    assert_eq!(d.job.state, "succeeded");
    assert_eq!(d.job.attempts, 3);
    let outcomes: Vec<_> = d
        .attempts
        .iter()
        .map(|a| (a.outcome.clone().unwrap(), a.error.clone()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("failed".into(), Some("boom 1".into())),
            ("failed".into(), Some("boom 2".into())),
            ("succeeded".into(), None)
        ]
    );
    assert!(d
        .attempts
        .iter()
        .all(|a| a.finished_at.is_some() && a.duration_ms.is_some()));
    assert_eq!(d.job.result["call"], 3);
}

#[tokio::test]
async fn a_job_is_dead_after_its_last_attempt_or_at_once_when_retrying_cannot_help() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    let mut s = spec("work", "always", json!({}));
    s.max_attempts = Some(3);
    let always = jobs::enqueue(&mut ws, &s).unwrap();
    let fatal = jobs::enqueue(&mut ws, &spec("work", "fatal", json!({}))).unwrap();
    let orphan = jobs::enqueue(&mut ws, &spec("unknown-kind", "orphan", json!({}))).unwrap();
    let h = Arc::new(Scripted {
        fails: HashMap::from([("always".into(), (99, true)), ("fatal".into(), (99, false))]),
        ..Default::default()
    });
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    runner.handle("work", h.clone());
    drain(&runner).await;
    let a = jobs::show(&ws, always).unwrap();
    assert_eq!((a.job.state.as_str(), a.job.attempts), ("dead", 3));
    assert_eq!(a.job.last_error.as_deref(), Some("boom 3"));
    let f = jobs::show(&ws, fatal).unwrap();
    assert_eq!((f.job.state.as_str(), f.job.attempts), ("dead", 1));
    let o = jobs::show(&ws, orphan).unwrap();
    assert_eq!(o.job.state, "dead");
    assert!(o.job.last_error.unwrap().contains("no handler"));

    // staff retry: a fresh allowance, and it runs again
    jobs::retry(&mut ws, fatal).unwrap();
    let h2 = Arc::new(Scripted::default());
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    runner.handle("work", h2);
    drain(&runner).await;
    assert_eq!(jobs::show(&ws, fatal).unwrap().job.state, "succeeded");
    assert_eq!(
        jobs::retry(&mut ws, fatal).unwrap_err().code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn prerequisites_run_first_and_cancelling_cascades() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    let site = jobs::enqueue(
        &mut ws,
        &spec(
            sandbox::CREATE_SITE,
            "o1/site",
            json!({ "name": "acme.sites.example.net", "profile": "openatrium" }),
        ),
    )
    .unwrap();
    let mut user = spec(
        sandbox::CREATE_USER,
        "o1/manager",
        json!({ "site": "acme.sites.example.net", "name": "Ada", "email": "ada@acme.example", "role": "manager" }),
    );
    user.after = vec![site];
    let user = jobs::enqueue(&mut ws, &user).unwrap();
    // enqueued in the other order, the dependency still holds
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    Sandbox::open(&path, Clock::System, 0..1)
        .unwrap()
        .register(&mut runner);
    drain(&runner).await;
    let u = jobs::show(&ws, user).unwrap().job;
    assert_eq!(u.state, "succeeded");
    assert!(
        u.result["uid"].as_i64().unwrap() > 1,
        "the client is never user 1"
    );
    assert!(jobs::show(&ws, site).unwrap().job.finished_at <= u.finished_at);

    let a = jobs::enqueue(&mut ws, &spec("work", "a", json!({}))).unwrap();
    let mut b = spec("work", "b", json!({}));
    b.after = vec![a];
    let b = jobs::enqueue(&mut ws, &b).unwrap();
    assert_eq!(jobs::cancel(&mut ws, a).unwrap(), vec![a, b]);
    assert_eq!(jobs::show(&ws, b).unwrap().job.state, "cancelled");
    assert_eq!(
        jobs::cancel(&mut ws, a).unwrap_err().code,
        ErrorCode::Conflict
    );
}

#[tokio::test]
async fn never_more_than_the_limit_runs_against_one_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    for i in 0..60 {
        let mut s = spec("work", &format!("j{i}"), json!({}));
        s.server_id = Some(i % 3);
        jobs::enqueue(&mut ws, &s).unwrap();
    }
    let h = Arc::new(Scripted {
        sleep_ms: 5,
        ..Default::default()
    });
    let mut config = common::fast_runner();
    config.per_server = 4;
    config.per_server_overrides.insert(2, 1);
    let mut runner = Runner::new(&path, Clock::System, config);
    runner.handle("work", h.clone());
    let report = drain(&runner).await;
    assert_eq!(report.succeeded, 60);
    let peak = h.peak.lock().unwrap().clone();
    assert_eq!(peak[&Some(0)], 4, "{peak:?}");
    assert_eq!(peak[&Some(1)], 4);
    assert_eq!(peak[&Some(2)], 1, "a server's own limit wins");
}

#[tokio::test]
async fn jobs_left_running_by_a_dead_runner_run_again_and_only_one_runner_runs_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    let id = jobs::enqueue(&mut ws, &spec("work", "interrupted", json!({}))).unwrap();
    // a runner claimed it, then the process died
    ws.conn()
        .execute_batch("UPDATE jobs SET state = 'running', attempts = 1, lease_until = '2999-01-01T00:00:00.000Z';
                        INSERT INTO job_attempts (job_id, attempt, started_at) VALUES (1, 1, '2026-01-01T00:00:00.000Z');")
        .unwrap();
    let h = Arc::new(Scripted {
        sleep_ms: 50,
        ..Default::default()
    });
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    runner.handle("work", h.clone());
    let first = tokio::spawn(async move { drain(&runner).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = Runner::new(&path, Clock::System, common::fast_runner());
    let err = second
        .run(
            Until::Idle {
                wait_for_retries: false,
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    let report = first.await.unwrap();
    assert_eq!((report.recovered, report.succeeded), (1, 1));
    let d = jobs::show(&ws, id).unwrap();
    assert_eq!(d.job.state, "succeeded");
    assert_eq!(d.attempts[0].outcome.as_deref(), Some("interrupted"));
    assert_eq!(h.calls.lock().unwrap()["interrupted"], 1);
}

/// Saves its remote id, then fails; the retry must see the id and not create again.
struct SavesThenFails {
    creates: AtomicUsize,
    seen: AtomicI64,
}

impl JobHandler for SavesThenFails {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, Result<Value, JobError>> {
        Box::pin(async move {
            if let Some(id) = job.result["remoteId"].as_i64() {
                self.seen.store(id, Ordering::SeqCst);
                return Ok(json!({ "done": true }));
            }
            self.creates.fetch_add(1, Ordering::SeqCst);
            job.save(json!({ "remoteId": 4242 })).await?;
            Err(JobError::retry(
                "connection reset after the remote created it",
            ))
        })
    }
}

#[tokio::test]
async fn a_remote_id_is_saved_as_soon_as_known_and_reused_on_retry() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    let id = jobs::enqueue(&mut ws, &spec("create", "site-1", json!({}))).unwrap();
    let h = Arc::new(SavesThenFails {
        creates: AtomicUsize::new(0),
        seen: AtomicI64::new(0),
    });
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    runner.handle("create", h.clone());
    drain(&runner).await;
    assert_eq!(h.creates.load(Ordering::SeqCst), 1);
    assert_eq!(h.seen.load(Ordering::SeqCst), 4242);
    let job = jobs::show(&ws, id).unwrap().job;
    assert_eq!(job.result, json!({ "remoteId": 4242, "done": true }));
}

#[tokio::test]
async fn the_sandbox_fails_at_its_configured_rate_and_the_queue_still_finishes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    hostdesk_app::store::settings::set(ws.conn(), sandbox::FAILURE_RATE, "30").unwrap();
    for i in 0..40 {
        jobs::enqueue(
            &mut ws,
            &spec(
                sandbox::CREATE_SITE,
                &format!("s{i}"),
                json!({ "name": format!("s{i}.sites.example.net") }),
            ),
        )
        .unwrap();
    }
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    Sandbox::open(&path, Clock::System, 0..1)
        .unwrap()
        .register(&mut runner);
    let report = drain(&runner).await;
    assert_eq!(report.succeeded, 40);
    assert!(report.retried > 0, "30% of calls fail");
    let sites: i64 = ws
        .conn()
        .query_row("SELECT count(*) FROM sandbox_sites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sites, 40);
}

#[tokio::test]
async fn until_idle_ends_when_the_rest_waits_on_a_dead_prerequisite() {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, path) = workspace(dir.path());
    let a = jobs::enqueue(&mut ws, &spec("work", "dies", json!({}))).unwrap();
    let mut b = spec("work", "after-dead", json!({}));
    b.after = vec![a];
    let b = jobs::enqueue(&mut ws, &b).unwrap();
    let h = Arc::new(Scripted {
        fails: HashMap::from([("dies".into(), (99, false))]),
        ..Default::default()
    });
    let mut runner = Runner::new(&path, Clock::System, common::fast_runner());
    runner.handle("work", h);
    let report = drain(&runner).await; // times out (and fails) if the runner spins
    assert_eq!((report.dead, report.waiting), (1, 1));
    assert_eq!(jobs::show(&ws, b).unwrap().job.state, "queued");
}
