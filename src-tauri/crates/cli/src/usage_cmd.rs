//! `hostdesk usage collect|show|alerts|record|rate` and `hostdesk quota set`.
//!
//! `usage collect` queues a collection per server and runs the queue until it is done (when the
//! app is open and holds the queue, it waits for the app to run it): the command for cron.

use std::path::Path;
use std::time::Duration;

use clap::Subcommand;
use hostdesk_app::billing::usage;
use hostdesk_app::provisioning::{self, WaitOptions};
use hostdesk_app::usage::{self as quotas, alerts, collect, quota};
use hostdesk_app::{secrets, AppError, Clock, ErrorCode, Workspace};
use serde_json::json;

use crate::output::{table, Output};
use crate::server_cmd::runtime;

#[derive(Subcommand)]
pub enum UsageCmd {
    /// Collect usage from the servers now (all, or one) and wait for it.
    Collect {
        /// A server name or id (default: every server that measures something).
        #[arg(long)]
        server: Option<String>,
        /// Give up waiting after this many seconds (the jobs stay queued).
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// A client's usage against its quotas this period, per subscription, and its alerts.
    Show {
        #[arg(long)]
        client: i64,
    },
    /// A subscription's daily history of one resource.
    History {
        #[arg(long)]
        subscription: i64,
        /// sites, disk_mb, bandwidth_mb, users, domains, mailboxes
        #[arg(long)]
        resource: String,
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// The subscriptions nearest to or over their quotas, fullest first.
    Fleet {
        /// Only from this share of a quota (percent).
        #[arg(long, default_value_t = 0)]
        min_percent: i64,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// 80% / 100% quota alerts (open ones unless --all); --dismiss ID closes one.
    Alerts {
        #[arg(long)]
        client: Option<i64>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        dismiss: Option<i64>,
    },
    /// Record usage of a resource by a subscription by hand.
    Record {
        #[arg(long)]
        subscription: i64,
        /// sites, disk_mb, bandwidth_mb, users, domains, mailboxes
        #[arg(long)]
        resource: String,
        #[arg(long)]
        quantity: i64,
        /// RFC 3339 (default: now)
        #[arg(long)]
        at: Option<String>,
    },
    /// Price a resource on a subscription: FEE for QUOTA units, OVERAGE per unit over it.
    Rate {
        #[arg(long)]
        subscription: i64,
        #[arg(long)]
        resource: String,
        /// Units included (leave out for unlimited).
        #[arg(long)]
        quota: Option<i64>,
        #[arg(long, default_value = "0")]
        fee: String,
        #[arg(long, default_value = "0")]
        overage: String,
    },
}

#[derive(Subcommand)]
pub enum QuotaCmd {
    /// Set a subscription's limit of a resource; pushed to the servers that enforce it.
    Set {
        #[arg(long)]
        subscription: i64,
        /// sites, disk_mb, bandwidth_mb, users, domains, mailboxes
        #[arg(long)]
        resource: String,
        /// A number, or `unlimited`.
        #[arg(long)]
        limit: String,
    },
}

fn shown(v: Option<i64>) -> String {
    v.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

pub fn usage_cmd(
    ws: &mut Workspace,
    path: &Path,
    clock: Clock,
    cmd: UsageCmd,
) -> Result<Output, AppError> {
    match cmd {
        UsageCmd::Collect { server, timeout } => collect_now(ws, path, clock, server, timeout),
        UsageCmd::Show { client } => {
            let u = quotas::show_client(ws, client)?;
            let mut rows = Vec::new();
            for s in &u.subscriptions {
                for r in &s.resources {
                    rows.push(vec![
                        s.subscription_id.to_string(),
                        s.product_name.clone(),
                        r.resource.clone(),
                        format!("{} {}", r.used, r.unit),
                        shown(r.limit),
                        r.percent.map(|p| format!("{p}%")).unwrap_or_default(),
                        format!("{} to {}", s.period_start, s.period_end),
                    ]);
                }
            }
            let mut text = format!(
                "{}: {} site(s){}\n{}",
                u.client_name,
                u.sites,
                u.sites_limit
                    .map(|l| format!(" of {l} allowed"))
                    .unwrap_or_default(),
                table(
                    &["SUB", "PRODUCT", "RESOURCE", "USED", "LIMIT", "SHARE", "PERIOD"],
                    &rows
                )
            );
            for a in &u.alerts {
                text.push_str(&format!(
                    "\nalert {}: subscription {} at {}% of {} ({} of {})",
                    a.id, a.subscription_id, a.threshold, a.resource, a.used, a.limit
                ));
            }
            Ok(Output::new(&u, text))
        }
        UsageCmd::History {
            subscription,
            resource,
            days,
        } => {
            let h = quotas::history(ws, subscription, &resource, days)?;
            let rows: Vec<Vec<String>> = h
                .points
                .iter()
                .map(|p| {
                    vec![
                        p.day.clone(),
                        p.value.to_string(),
                        p.total.to_string(),
                        shown(p.limit),
                    ]
                })
                .collect();
            let text = format!(
                "{} of subscription {} ({}):\n{}",
                h.label,
                subscription,
                h.unit,
                table(&["DAY", "VALUE", "COUNTS", "LIMIT"], &rows)
            );
            Ok(Output::new(&h, text))
        }
        UsageCmd::Fleet { min_percent, limit } => {
            let f = quotas::fleet(ws, min_percent, limit)?;
            let rows: Vec<Vec<String>> = f
                .rows
                .iter()
                .map(|r| {
                    vec![
                        format!("{}%", r.percent),
                        r.client_name.clone(),
                        r.subscription_id.to_string(),
                        r.resource.clone(),
                        format!("{} / {}", r.used, r.limit),
                        r.period_end.clone(),
                    ]
                })
                .collect();
            let text = format!(
                "{}\nlast collection: {}",
                table(
                    &["SHARE", "CLIENT", "SUB", "RESOURCE", "USED", "PERIOD END"],
                    &rows
                ),
                f.last_collected.as_deref().unwrap_or("never")
            );
            Ok(Output::new(&f, text))
        }
        UsageCmd::Alerts {
            client,
            all,
            dismiss,
        } => {
            if let Some(id) = dismiss {
                let closed = alerts::dismiss(ws, id)?;
                return Ok(Output::new(
                    &json!({ "id": id, "dismissed": closed }),
                    if closed {
                        format!("alert {id} dismissed")
                    } else {
                        format!("alert {id} was already dismissed")
                    },
                ));
            }
            let list = alerts::list(ws, client, all)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        a.id.to_string(),
                        a.at.clone(),
                        a.client_name.clone(),
                        a.subscription_id.to_string(),
                        a.resource.clone(),
                        format!("{}%", a.threshold),
                        format!("{} / {}", a.used, a.limit),
                        if a.outbox_id.is_some() { "mailed" } else { "" }.into(),
                    ]
                })
                .collect();
            Ok(Output::new(
                &list,
                table(
                    &[
                        "ID", "AT", "CLIENT", "SUB", "RESOURCE", "AT %", "USED", "MAIL",
                    ],
                    &rows,
                ),
            ))
        }
        UsageCmd::Record {
            subscription,
            resource,
            quantity,
            at,
        } => {
            let new = usage::record(ws, subscription, &resource, quantity, at.as_deref())?;
            Ok(Output::new(
                &json!({ "recorded": new }),
                if new {
                    "usage recorded"
                } else {
                    "already recorded"
                },
            ))
        }
        UsageCmd::Rate {
            subscription,
            resource,
            quota,
            fee,
            overage,
        } => {
            usage::set_rate(ws, subscription, &resource, quota, &fee, &overage)?;
            Ok(Output::new(
                &json!({ "subscription": subscription, "resource": resource }),
                "rate set",
            ))
        }
    }
}

fn collect_now(
    ws: &mut Workspace,
    path: &Path,
    clock: Clock,
    server: Option<String>,
    timeout: u64,
) -> Result<Output, AppError> {
    let ids = collect::collect_now(ws, server.as_deref())?;
    if ids.is_empty() {
        return Ok(Output::new(
            &json!({ "jobs": [] }),
            "no server measures usage (or none has sites yet)",
        ));
    }
    let secrets = secrets::from_env()?;
    let waited = runtime()?.block_on(provisioning::run_until_done(
        path,
        clock,
        secrets,
        &ids,
        WaitOptions {
            timeout: Duration::from_secs(timeout),
            ..Default::default()
        },
        |_| {},
    ))?;
    let mut failed = Vec::new();
    let mut rows = Vec::new();
    for j in &waited.jobs {
        let r = &j.result;
        rows.push(vec![
            j.id.to_string(),
            r["server"].as_str().unwrap_or_default().to_string(),
            j.state.clone(),
            r["sites"].as_i64().unwrap_or(0).to_string(),
            r["samples"].as_i64().unwrap_or(0).to_string(),
            r["errors"].as_array().map_or(0, |e| e.len()).to_string(),
        ]);
        if j.state != "succeeded" {
            failed.push(format!(
                "job {} is {}{}",
                j.id,
                j.state,
                j.last_error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    if !failed.is_empty() {
        return Err(AppError::new(
            ErrorCode::Remote,
            format!("usage collection: {}", failed.join("; ")),
        ));
    }
    let jobs: Vec<_> = waited
        .jobs
        .iter()
        .map(|j| json!({ "id": j.id, "state": j.state, "result": j.result }))
        .collect();
    Ok(Output::new(
        &json!({ "jobs": jobs, "otherRunner": waited.other_runner }),
        table(
            &["JOB", "SERVER", "STATE", "SITES", "SAMPLES", "ERRORS"],
            &rows,
        ),
    ))
}

pub fn quota_cmd(ws: &mut Workspace, cmd: QuotaCmd) -> Result<Output, AppError> {
    let QuotaCmd::Set {
        subscription,
        resource,
        limit,
    } = cmd;
    let limit = match limit.trim() {
        "unlimited" | "none" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            AppError::invalid("limit", format!("'{n}' is not a number or `unlimited`"))
        })?),
    };
    let c = quota::set_quota(ws, subscription, &resource, limit)?;
    let text = format!(
        "subscription {}: {} limit {} (was {}); used {} this period{}{}",
        c.subscription_id,
        c.resource,
        shown(c.limit),
        shown(c.before),
        c.used,
        c.percent.map(|p| format!(" ({p}%)")).unwrap_or_default(),
        if c.jobs.is_empty() {
            String::new()
        } else {
            format!(
                "; pushed to the server by job(s) {}",
                c.jobs
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    Ok(Output::new(&c, text))
}
