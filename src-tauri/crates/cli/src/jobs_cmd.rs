use std::path::Path;

use hostdesk_app::jobs::{self, JobSpec};
use hostdesk_app::runner::{RunEvent, RunnerConfig, Until};
use hostdesk_app::store::jobs::Job;
use hostdesk_app::{provisioning, secrets, AppError, Clock, ErrorCode, Workspace};

use crate::args::JobsCmd;
use crate::output::{table, Output};

fn rows(list: &[Job]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.kind.clone(),
                j.state.clone(),
                format!("{}/{}", j.attempts, j.max_attempts),
                j.server_id
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
                j.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &["ID", "KIND", "STATE", "TRIES", "SERVER", "LAST ERROR"],
        &cells,
    )
}

pub fn jobs(
    ws: &mut Workspace,
    path: &Path,
    clock: Clock,
    cmd: JobsCmd,
) -> Result<Output, AppError> {
    match cmd {
        JobsCmd::List {
            state,
            server,
            offset,
            limit,
        } => {
            let list = jobs::list(ws, state.as_deref(), server, offset, limit)?;
            Ok(Output::new(&list, rows(&list)))
        }
        JobsCmd::Show { id } => {
            let d = jobs::show(ws, id)?;
            let j = &d.job;
            let mut text = format!(
                "job #{} {} — {} (attempt {} of {})\nkey {}\npayload {}\nresult {}\n",
                j.id, j.kind, j.state, j.attempts, j.max_attempts, j.key, j.payload, j.result
            );
            if !j.deps.is_empty() {
                text.push_str(&format!("after jobs {:?}\n", j.deps));
            }
            for a in &d.attempts {
                text.push_str(&format!(
                    "attempt {} at {}: {} {}ms {}\n",
                    a.attempt,
                    a.started_at,
                    a.outcome.as_deref().unwrap_or("running"),
                    a.duration_ms.unwrap_or(0),
                    a.error.as_deref().unwrap_or("")
                ));
            }
            Ok(Output::new(&d, text))
        }
        JobsCmd::Add {
            kind,
            key,
            payload,
            server,
            after,
            max_attempts,
        } => {
            let payload = serde_json::from_str(&payload)
                .map_err(|e| AppError::invalid("payload", format!("is not JSON: {e}")))?;
            let spec = JobSpec {
                kind,
                key,
                server_id: server,
                payload,
                max_attempts,
                after,
                ..Default::default()
            };
            Ok(Output::id(jobs::enqueue(ws, &spec)?, "job"))
        }
        JobsCmd::Retry { id } => {
            let j = jobs::retry(ws, id)?;
            Ok(Output::new(&j, format!("job {id} queued again")))
        }
        JobsCmd::Cancel { id } => {
            let ids = jobs::cancel(ws, id)?;
            Ok(Output::new(&ids, format!("cancelled jobs {ids:?}")))
        }
        JobsCmd::Run {
            until_idle,
            wait_retries,
            per_server,
        } => run(ws, path, clock, until_idle, wait_retries, per_server),
    }
}

fn run(
    ws: &Workspace,
    path: &Path,
    clock: Clock,
    until_idle: bool,
    wait_retries: bool,
    per_server: usize,
) -> Result<Output, AppError> {
    let config = RunnerConfig {
        per_server,
        ..Default::default()
    };
    let _ = ws;
    // Every handler (sandbox + provisioning); each server's concurrency limit overrides
    // --per-server for that server.
    let (runner, _provisioning) = provisioning::build_runner(
        path,
        clock,
        secrets::from_env()?,
        config,
        provisioning::ProvisioningConfig::default(),
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("cannot start the runtime: {e}"),
            )
        })?;
    let report = rt.block_on(async {
        let until = if until_idle {
            Until::Idle {
                wait_for_retries: wait_retries,
            }
        } else {
            let (tx, rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("stopping: letting running jobs finish…");
                let _ = tx.send(true);
            });
            Until::Stopped(rx)
        };
        runner
            .run(until, |e| match e {
                RunEvent::Started { id, kind, attempt } => {
                    eprintln!("job {id} {kind}: attempt {attempt}")
                }
                RunEvent::Succeeded { id, kind, ms } => {
                    eprintln!("job {id} {kind}: succeeded in {ms} ms")
                }
                RunEvent::Failed {
                    id,
                    kind,
                    error,
                    retry_at,
                } => match retry_at {
                    Some(t) => eprintln!("job {id} {kind}: failed ({error}); retry at {t}"),
                    None => eprintln!("job {id} {kind}: dead ({error})"),
                },
            })
            .await
    })?;
    let text = format!(
        "{} succeeded, {} to retry, {} dead, {} recovered; {} waiting{}",
        report.succeeded,
        report.retried,
        report.dead,
        report.recovered,
        report.waiting,
        report
            .next_due
            .as_deref()
            .map(|t| format!(" (next at {t})"))
            .unwrap_or_default()
    );
    Ok(Output::new(&report, text))
}
