//! What the tests that run the real job queue share: quick retries and timeouts, and a drain
//! of the queue built by `build_runner` (the app's own).
#![allow(dead_code)] // each test binary uses part of it

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hostdesk_app::provisioning::{build_runner, ProvisioningConfig};
use hostdesk_app::remote::HttpConfig;
use hostdesk_app::runner::{RunReport, RunnerConfig, Until};
use hostdesk_app::secrets::SecretStore;
use hostdesk_app::Clock;

/// Retries after milliseconds, not seconds.
pub fn fast_runner() -> RunnerConfig {
    RunnerConfig {
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        ..Default::default()
    }
}

/// Short HTTP timeouts, quick polls of remote tasks, a sandbox that answers at once.
pub fn quick_provisioning() -> ProvisioningConfig {
    ProvisioningConfig {
        http: HttpConfig {
            connect_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(1500),
        },
        poll_interval: Duration::from_millis(10),
        poll_budget: Duration::from_millis(500),
        sandbox_delay_ms: Some(0..1),
        ..Default::default()
    }
}

/// Runs the workspace's queue on `clock` until nothing is ready (and, with
/// `wait_for_retries`, until no retry is pending). `SHOW_LOG=1` prints what ran.
pub async fn drain(
    path: &Path,
    clock: Clock,
    secrets: Arc<dyn SecretStore>,
    wait_for_retries: bool,
) -> RunReport {
    let (runner, _p) =
        build_runner(path, clock, secrets, fast_runner(), quick_provisioning()).unwrap();
    let log = Mutex::new(Vec::new());
    let report = tokio::time::timeout(
        Duration::from_secs(90),
        runner.run(Until::Idle { wait_for_retries }, |ev| {
            log.lock()
                .unwrap()
                .push(format!("{:?} {ev:?}", Instant::now()))
        }),
    )
    .await
    .expect("the queue drains")
    .unwrap();
    if std::env::var_os("SHOW_LOG").is_some() {
        eprintln!("{:#?}", log.lock().unwrap());
    }
    report
}
