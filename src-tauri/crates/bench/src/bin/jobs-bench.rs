//! The job queue at load, through the real dispatch path: 2,000 `account.create` jobs across
//! 10 fake WHM servers (real HTTP on loopback, `hostdesk-testkit`), each server's concurrency
//! limit 4 (from its row in `servers`), the provisioning handler and the WHM driver doing what
//! they do in production (an idempotency lookup, then `createacct`, which the fake answers after
//! 20 ms). Prints the wall time beside the ideal (2000 / (10 x 4) x 20 ms = 1.0 s).
//!
//! Then again with 10% of the `createacct` calls failing (half HTTP 503 before anything
//! happens, half a lost reply after the account was made), checking that every job succeeded
//! and every account was created exactly once (the fakes' request logs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hostdesk_app::jobs::{self, JobSpec};
use hostdesk_app::provisioning::{build_runner, ProvisioningConfig};
use hostdesk_app::remote::HttpConfig;
use hostdesk_app::runner::{RunReport, RunnerConfig, Until};
use hostdesk_app::secrets::{MemoryStore, Secret, SecretStore};
use hostdesk_app::servers::{self, ServerDraft};
use hostdesk_app::{Clock, Workspace};
use hostdesk_testkit::{FakeWhm, Fault};
use serde_json::json;

const JOBS: usize = 2000;
const SERVERS: usize = 10;
const LIMIT: i64 = 4;
const REPLY: Duration = Duration::from_millis(20);

struct Outcome {
    wall: Duration,
    report: RunReport,
    accounts: usize,
    created_once: usize,
    effects: usize,
    injected: usize,
}

/// The fake's delay rule, with any one-shot faults in front of it (the first matching rule
/// applies).
fn arm(fake: &FakeWhm, one_shot: Option<Fault>) {
    fake.clear_faults();
    if let Some(f) = one_shot {
        fake.fail_next("createacct", 1, f);
    }
    fake.fail("createacct", Fault::Delay(REPLY));
}

async fn run_once(failure_percent: usize) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("jobs.db");
    let mut ws = Workspace::open(&path, Clock::System).expect("open");
    let secrets = Arc::new(MemoryStore::new());
    let mut fakes = Vec::new();
    let mut ids = Vec::new();
    for s in 0..SERVERS {
        let fake = FakeWhm::start().await;
        arm(&fake, None);
        let id = servers::add(
            &mut ws,
            &*secrets,
            &ServerDraft {
                name: format!("whm{s}"),
                kind: "whm".into(),
                base_url: fake.base_url(),
                user: fake.user(),
                concurrency: Some(LIMIT),
                ..Default::default()
            },
            Some(&Secret::new(fake.token())),
        )
        .expect("server");
        fakes.push(fake);
        ids.push(id);
    }
    ws.batch(|ws| {
        for i in 0..JOBS {
            jobs::enqueue(
                ws,
                &JobSpec {
                    kind: "account.create".into(),
                    key: format!("acct-{i}"),
                    server_id: Some(ids[i % SERVERS]),
                    payload: json!({
                        "username": format!("u{i}"),
                        "domain": format!("c{i}.example.com"),
                        "contactEmail": "owner@example.com"
                    }),
                    max_attempts: Some(20),
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    })
    .expect("enqueue");
    drop(ws);

    let config = ProvisioningConfig {
        http: HttpConfig {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_millis(150),
        },
        ..Default::default()
    };
    let runner_config = RunnerConfig {
        backoff_base: Duration::from_millis(10),
        backoff_cap: Duration::from_millis(40),
        ..Default::default()
    };
    let store: Arc<dyn SecretStore> = secrets.clone();
    let (runner, _prov) =
        build_runner(&path, Clock::System, store, runner_config, config).expect("runner");

    // Failure injection: after every N createacct requests a server receives, its next one
    // fails (alternately a 503 and a lost reply). Checked every 10 ms: reading a fake's
    // request log costs CPU the system under test would otherwise have.
    let fakes = Arc::new(fakes);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let injector = {
        let (fakes, stop) = (fakes.clone(), stop.clone());
        tokio::spawn(async move {
            let mut next: Vec<usize> = vec![100 / failure_percent.max(1); SERVERS];
            let mut injected = 0usize;
            while failure_percent > 0 && !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for (s, fake) in fakes.iter().enumerate() {
                    if fake.count("createacct") >= next[s] {
                        let fault = if injected.is_multiple_of(2) {
                            Fault::Status(503)
                        } else {
                            Fault::DropReply
                        };
                        arm(fake, Some(fault));
                        injected += 1;
                        next[s] += 100 / failure_percent;
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let t = Instant::now();
    let report = runner
        .run(
            Until::Idle {
                wait_for_retries: true,
            },
            |_| {},
        )
        .await
        .expect("run");
    let wall = t.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = injector.await;

    let mut accounts = 0;
    let mut created_once = 0;
    let mut effects = 0;
    let mut injected = 0;
    for fake in fakes.iter() {
        let a = fake.accounts();
        accounts += a.len();
        // The requests that made an account: not faulted, slowed down, or answered into the void.
        let mut per_user = std::collections::HashMap::<String, usize>::new();
        for r in fake.requests() {
            if r.endpoint == "createacct"
                && matches!(r.fault.as_deref(), Some("status 503") | Some("drop reply"))
            {
                injected += 1;
            }
            let applied = r.endpoint == "createacct"
                && r.fault
                    .as_deref()
                    .is_none_or(|f| f.starts_with("delay") || f == "drop reply");
            if applied {
                effects += 1;
                *per_user
                    .entry(r.param("username").unwrap_or("").to_owned())
                    .or_default() += 1;
            }
        }
        created_once += per_user.values().filter(|n| **n == 1).count();
    }
    Outcome {
        wall,
        report,
        accounts,
        created_once,
        effects,
        injected,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ideal = REPLY.as_secs_f64() * (JOBS as f64) / (SERVERS as f64 * LIMIT as f64);
    println!(
        "jobs-bench: {JOBS} account.create jobs, {SERVERS} fake WHM servers over HTTP answering createacct in {} ms, limit {LIMIT} per server (from the servers table), real dispatch",
        REPLY.as_millis()
    );
    let o = rt.block_on(run_once(0));
    println!(
        "  no failures:    wall {:.2} s   ideal {ideal:.2} s   ratio {:.2}x (goal <= 1.3x)   {} succeeded, {} accounts, {} created exactly once",
        o.wall.as_secs_f64(),
        o.wall.as_secs_f64() / ideal,
        o.report.succeeded,
        o.accounts,
        o.created_once
    );
    let o = rt.block_on(run_once(10));
    let exact = o.report.succeeded as usize == JOBS
        && o.accounts == JOBS
        && o.created_once == JOBS
        && o.effects == JOBS;
    println!(
        "  10% failures:   wall {:.2} s   ideal {ideal:.2} s   ratio {:.2}x   {} faults injected (503 / lost reply), {} retries   {} succeeded, {} dead, {} accounts, {} created exactly once: {}",
        o.wall.as_secs_f64(),
        o.wall.as_secs_f64() / ideal,
        o.injected,
        o.report.retried,
        o.report.succeeded,
        o.report.dead,
        o.accounts,
        o.created_once,
        if exact { "every effect exactly once" } else { "NOT EXACTLY ONCE" }
    );
    if !exact {
        std::process::exit(1);
    }
}
