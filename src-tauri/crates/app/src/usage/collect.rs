//! Collecting usage: `usage.collect` jobs, one per server, on a schedule and on demand.
//!
//! A job asks the server's driver for what it measures ([`support`]): the sites it has (counted
//! per subscription), and per site the disk in use and the bytes served this calendar month
//! (WHM `accountsummary` / `showbw`, Caddy's access log; the sandbox simulates them). Then, in
//! one transaction, it stores the samples and derives each subscription's usage of the
//! period: the peak for disk and sites, the sum for bandwidth, written to `usage_records`
//! (source `collected`) where the bill run finds it; refreshes the period's figures and alerts;
//! and pushes limits that changed meanwhile (a downgrade the bill run adopted).
//!
//! Bandwidth: servers report a running total per calendar month. Each sample stores the bytes
//! since the previous sample of the same month (the first sample of a month: the month's total
//! so far), so a period's bandwidth is the sum of its samples whatever its anchor day. The first
//! collection of a month also reads the previous month's final total (its last hours), dated
//! one second after that month's last sample (so it lands in the same billing period). A total
//! lower than before (the source lost its history: a rotated log read anew) counts nothing and
//! becomes the new baseline.
//!
//! A retry of a job reuses the instant it first measured at, so its samples are stored once.
//!
//! Scheduling: [`schedule`] queues a collection per server every `usage_collect_hours` (default
//! 6, `0` turns it off) with a key naming the time slot, so any number of callers queue it once;
//! the app calls it every few minutes, cron can run `hostdesk usage collect`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use hostdesk_core::catalog::Resource;
use hostdesk_remote::{
    AegirConfig, AegirDriver, CaddyConfig, CaddyDriver, HostingDriver, RemoteError,
    ResourceSupport, SiteStatus, SiteTarget, UsageRequest, WhmConfig, WhmDriver,
};
use hostdesk_store::servers::{self as store_servers, Server};
use hostdesk_store::usage::{self as store, MeasuredSite, NewSample};
use hostdesk_store::{settings as store_settings, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};

use super::{alerts, is_flow, mb_of, period_at, quota, MB};
use crate::job_env::CachedDriver;
use crate::job_env::JobEnv;
use crate::jobs::{self, JobSpec};
use crate::provisioning::ProvisioningConfig;
use crate::runner::{BoxFuture, JobCtx, JobError, JobHandler, Runner};
use crate::secrets::{Secret, SecretStore};
use crate::{AppError, Clock, Ctx, Result, Workspace};

pub const USAGE_COLLECT: &str = "usage.collect";

/// Settings key: hours between scheduled collections (default 6; 0: none).
pub const EVERY_HOURS: &str = "usage_collect_hours";
pub const DEFAULT_EVERY_HOURS: i64 = 6;

/// Attempts of a collection before it is dead (the next slot collects anyway).
const MAX_ATTEMPTS: i64 = 3;

/// What a server kind measures and enforces: its driver's declaration; the sandbox simulates
/// disk and bandwidth and counts its sites.
pub fn support(kind: &str) -> ResourceSupport {
    static CACHE: OnceLock<HashMap<&'static str, ResourceSupport>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        // Placeholder configurations: only `resources()` is asked, nothing is sent.
        let placeholder = || Secret::new("placeholder");
        let mut m = HashMap::new();
        if let Ok(d) = AegirConfig::new("https://aegir.invalid", placeholder(), "example.invalid")
            .and_then(AegirDriver::new)
        {
            m.insert("aegir", d.resources());
        }
        if let Ok(d) =
            WhmConfig::new("https://whm.invalid", "root", placeholder()).and_then(WhmDriver::new)
        {
            m.insert("whm", d.resources());
        }
        if let Ok(d) = CaddyDriver::new(CaddyConfig::default()) {
            m.insert("caddy", d.resources());
        }
        m.insert(
            "sandbox",
            ResourceSupport {
                measures: vec![Resource::Sites, Resource::DiskMb, Resource::BandwidthMb],
                enforces: vec![Resource::DiskMb, Resource::BandwidthMb],
            },
        );
        m
    });
    all.get(kind).cloned().unwrap_or_default()
}

fn month_key(year: i32, month: u32) -> String {
    format!("{year:04}-{month:02}")
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// What one site measured.
#[derive(Debug, Clone)]
pub struct SiteMeasure {
    pub site: MeasuredSite,
    pub disk_mb: Option<i64>,
    /// Running totals of bytes served: (month key, bytes, instant), oldest first.
    pub bandwidth: Vec<(String, i64, String)>,
}

/// One collection's measures of one server.
#[derive(Debug, Clone)]
pub struct Measures {
    pub server_id: i64,
    pub at: String,
    /// Sites counted per subscription.
    pub site_counts: Vec<(i64, i64)>,
    pub sites: Vec<SiteMeasure>,
}

/// What storing a collection did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    pub samples: usize,
    pub subscriptions: usize,
    /// `quota.set` jobs for limits that changed meanwhile.
    pub pushed: Vec<i64>,
}

/// Stores a collection (one transaction): samples, each touched period's usage in
/// `usage_records`, the current periods' figures and alerts, and limits to push.
pub fn record(tx: &Connection, ctx: &Ctx, m: &Measures) -> Result<Recorded> {
    let now = parse_instant(&m.at)?;
    let mut out = Recorded::default();
    // (subscription, resource) → instants with new samples
    let mut touched: BTreeMap<(i64, &'static str), BTreeSet<String>> = BTreeMap::new();
    let mut sample = |tx: &Connection, s: NewSample<'_>, r: Resource| -> Result<()> {
        if store::insert_sample(tx, &s)? {
            out.samples += 1;
        }
        touched
            .entry((s.subscription_id, r.as_str()))
            .or_default()
            .insert(s.at.to_string());
        Ok(())
    };
    for (sub, count) in &m.site_counts {
        let s = NewSample {
            subscription_id: *sub,
            server_id: Some(m.server_id),
            resource: Resource::Sites.as_str(),
            quantity: *count,
            at: &m.at,
            ..Default::default()
        };
        sample(tx, s, Resource::Sites)?;
    }
    for s in &m.sites {
        if let Some(mb) = s.disk_mb {
            let n = NewSample {
                subscription_id: s.site.subscription_id,
                site_id: Some(s.site.id),
                server_id: Some(m.server_id),
                resource: Resource::DiskMb.as_str(),
                quantity: mb.max(0),
                at: &m.at,
                ..Default::default()
            };
            sample(tx, n, Resource::DiskMb)?;
        }
        for (key, total, at) in &s.bandwidth {
            let r = Resource::BandwidthMb;
            let before = store::counter_of(tx, s.site.id, r.as_str(), key)?;
            let delta = match before {
                None => *total,
                Some(b) if *total >= b => total - b,
                Some(_) => 0,
            }
            .max(0);
            let n = NewSample {
                subscription_id: s.site.subscription_id,
                site_id: Some(s.site.id),
                server_id: Some(m.server_id),
                resource: r.as_str(),
                quantity: mb_of(delta),
                bytes: Some(delta),
                counter: Some(*total),
                counter_key: Some(key),
                at,
            };
            sample(tx, n, r)?;
        }
    }
    // Each touched period's usage, where the bill run reads it.
    let mut subs = BTreeSet::new();
    for ((sub, resource), instants) in &touched {
        subs.insert(*sub);
        let r: Resource = resource
            .parse()
            .map_err(|m: String| AppError::invalid("resource", m))?;
        let mut periods = BTreeSet::new();
        for at in instants {
            let p = period_at(tx, *sub, parse_instant(at)?)?;
            if !periods.insert(p.from.clone()) {
                continue;
            }
            let used = if is_flow(r) {
                store::bytes_in(tx, *sub, resource, &p.from, &p.to)?.map(mb_of)
            } else {
                store::peak_in(tx, *sub, resource, &p.from, &p.to)?
            };
            if let Some(u) = used {
                store::upsert_collected(tx, *sub, resource, &p.from, u)?;
            }
        }
    }
    for sub in &subs {
        alerts::refresh(tx, ctx, *sub, now)?;
        out.pushed.extend(quota::push_limits(tx, ctx, *sub)?);
    }
    out.subscriptions = subs.len();
    Ok(out)
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| AppError::invalid("at", format!("'{s}' is not an RFC 3339 instant")))
}

/// The sandbox's simulated measures of a site: stable disk use that drifts over the year, and
/// bytes served growing through each month (deterministic, from the domain).
fn simulated(domain: &str, at: DateTime<Utc>, year: i32, month: u32) -> (i64, i64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in domain.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let h = i64::try_from(h % 1_000_000).unwrap_or(0);
    let day = i64::from(at.ordinal());
    let disk = 40 + h % 400 + (day * (1 + h % 5)) % 250;
    let rate_mb = 150 + h % 2500; // per month
    let start = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(at);
    let next = if month == 12 {
        Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0)
    } else {
        Utc.with_ymd_and_hms(year, month + 1, 1, 0, 0, 0)
    }
    .single()
    .unwrap_or(at);
    let span = (next - start).num_seconds().max(1);
    let elapsed = (at.min(next) - start).num_seconds().clamp(0, span);
    let bytes = i128::from(rate_mb) * i128::from(MB) * i128::from(elapsed) / i128::from(span);
    (disk, i64::try_from(bytes).unwrap_or(i64::MAX))
}

/// The `usage.collect` job handler.
pub struct Collector {
    env: JobEnv,
    ws: Arc<Mutex<Workspace>>,
    /// Drivers per server with the fingerprint of the row they were built from (a Caddy
    /// driver keeps its place in the access log between collections).
    drivers: Mutex<HashMap<i64, CachedDriver>>,
}

/// A driver with the fingerprint of the server row it was built from.
fn remote_error(server: &Server, e: &RemoteError) -> JobError {
    JobError {
        message: format!("{} [{}]: {e}", server.name, e.code()),
        retryable: e.is_retryable(),
    }
}

impl Collector {
    pub fn open(
        path: &Path,
        clock: Clock,
        secrets: Arc<dyn SecretStore>,
        config: &ProvisioningConfig,
        sandbox_delay: Range<u64>,
    ) -> Result<Arc<Collector>> {
        let ws = Workspace::open(path, clock)?;
        Ok(Arc::new(Collector {
            env: JobEnv::new(path, clock, secrets, config, sandbox_delay),
            ws: Arc::new(Mutex::new(ws)),
            drivers: Mutex::new(HashMap::new()),
        }))
    }

    pub fn register(self: &Arc<Self>, runner: &mut Runner) {
        runner.handle(USAGE_COLLECT, self.clone());
    }

    async fn with_ws<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Workspace) -> Result<T> + Send + 'static,
    ) -> std::result::Result<T, JobError> {
        crate::blocking::on_workspace(&self.ws, f).await
    }

    fn driver(&self, server: &Server) -> std::result::Result<Arc<dyn HostingDriver>, JobError> {
        self.env.cached_driver(&self.drivers, server)
    }

    async fn run_job(&self, job: &JobCtx) -> std::result::Result<Value, JobError> {
        let server_id = job
            .server_id
            .or_else(|| job.payload.get("serverId").and_then(Value::as_i64))
            .ok_or_else(|| JobError::fatal("a usage.collect job names its server"))?;
        // The instant measured at: kept across retries, so samples are stored once.
        let at = match job.result.get("at").and_then(Value::as_str) {
            Some(a) => a.to_owned(),
            None => {
                let a = self.env.clock.stamp();
                job.save(json!({ "at": a })).await?;
                a
            }
        };
        let instant = parse_instant(&at).map_err(|e| JobError::fatal(e.message))?;
        let (year, month) = (instant.year(), instant.month());
        let key_now = month_key(year, month);
        let (prev_y, prev_m) = if month == 1 {
            (year - 1, 12)
        } else {
            (year, month - 1)
        };
        let key_prev = month_key(prev_y, prev_m);
        let (server, sites, last_keys) = self
            .with_ws(move |ws| {
                let c = ws.conn();
                let server = store_servers::get(c, server_id)?;
                let sites = store::sites_to_measure(c, server_id)?;
                let mut keys = HashMap::new();
                for s in &sites {
                    if let Some(last) =
                        store::last_counter(c, s.id, Resource::BandwidthMb.as_str())?
                    {
                        keys.insert(s.id, last);
                    }
                }
                Ok((server, sites, keys))
            })
            .await?;
        let support = support(&server.kind);
        let simulated_server = server.kind == "sandbox";
        let driver = self.driver(&server)?;
        let mut site_counts = Vec::new();
        if support.measures(Resource::Sites) {
            let listed = driver
                .list_sites()
                .await
                .map_err(|e| remote_error(&server, &e))?;
            let live: BTreeSet<String> = listed
                .into_iter()
                .filter(|s| s.status != SiteStatus::Deleted)
                .map(|s| s.name.to_ascii_lowercase())
                .collect();
            let mut per_sub: BTreeMap<i64, i64> = BTreeMap::new();
            for s in &sites {
                let n = per_sub.entry(s.subscription_id).or_default();
                if live.contains(&s.domain.to_ascii_lowercase()) {
                    *n += 1;
                }
            }
            site_counts = per_sub.into_iter().collect();
        }
        let wants_disk = support.measures(Resource::DiskMb);
        let wants_bw = support.measures(Resource::BandwidthMb);
        let mut measured = Vec::new();
        let mut errors = Vec::new();
        let mut retryable = None;
        if wants_disk || wants_bw {
            for site in &sites {
                let target = SiteTarget {
                    name: site.domain.clone(),
                    remote_id: site.remote_id.clone(),
                };
                let mut m = SiteMeasure {
                    site: site.clone(),
                    disk_mb: None,
                    bandwidth: Vec::new(),
                };
                let mut asks = Vec::new();
                match last_keys.get(&site.id) {
                    // the previous month's final total, just after its last sample
                    Some((k, last_at)) if wants_bw && *k == key_prev => {
                        let when = parse_instant(last_at)
                            .map(|t| utc(t + chrono::Duration::seconds(1)))
                            .map_err(|e| JobError::fatal(e.message))?;
                        asks.push((prev_y, prev_m, key_prev.clone(), when));
                    }
                    _ => {}
                }
                asks.push((year, month, key_now.clone(), at.clone()));
                for (y, mo, key, when) in asks {
                    let current = key == key_now;
                    let (disk, bytes) = if simulated_server {
                        let (d, b) = simulated(&site.domain, instant, y, mo);
                        (Some(d), Some(b))
                    } else {
                        match driver
                            .usage(&UsageRequest {
                                site: target.clone(),
                                year: y,
                                month: mo,
                            })
                            .await
                        {
                            Ok(u) => (
                                u.disk_used_mb.and_then(|d| i64::try_from(d).ok()),
                                u.bandwidth_bytes.and_then(|b| i64::try_from(b).ok()),
                            ),
                            Err(e) => {
                                if e.is_retryable() {
                                    retryable = Some(remote_error(&server, &e));
                                }
                                errors.push(json!({ "site": site.domain, "month": key, "error": e.to_string() }));
                                continue;
                            }
                        }
                    };
                    if current && wants_disk {
                        m.disk_mb = disk;
                    }
                    if let (true, Some(b)) = (wants_bw, bytes) {
                        m.bandwidth.push((key, b, when));
                    }
                }
                if m.disk_mb.is_some() || !m.bandwidth.is_empty() {
                    measured.push(m);
                }
            }
        }
        // Nothing measured and the server may answer later: try again.
        if let Some(e) = retryable {
            if measured.is_empty() && site_counts.is_empty() {
                return Err(e);
            }
        }
        let n_sites = sites.len();
        let measures = Measures {
            server_id,
            at: at.clone(),
            site_counts,
            sites: measured,
        };
        let recorded = self
            .with_ws(move |ws| ws.write(|tx, ctx| record(tx, ctx, &measures)))
            .await?;
        let mut out = json!({
            "at": at,
            "server": server.name,
            "sites": n_sites,
            "samples": recorded.samples,
            "subscriptions": recorded.subscriptions,
            "pushed": recorded.pushed,
            "errors": errors,
        });
        if simulated_server {
            out["simulated"] = json!(true);
        }
        Ok(out)
    }
}

impl JobHandler for Collector {
    fn run<'a>(&'a self, job: &'a JobCtx) -> BoxFuture<'a, std::result::Result<Value, JobError>> {
        Box::pin(self.run_job(job))
    }
}

/// The servers a collection visits: the one named (name or id), else every server that
/// measures something and has sites to measure.
fn servers_to_collect(conn: &Connection, named: Option<&str>) -> Result<Vec<Server>> {
    if let Some(n) = named.map(str::trim).filter(|n| !n.is_empty()) {
        let server = match n.parse::<i64>() {
            Ok(id) => store_servers::get(conn, id)?,
            Err(_) => store_servers::find_by_name(conn, n)?
                .ok_or_else(|| AppError::invalid("server", format!("no server named '{n}'")))?,
        };
        if support(&server.kind).measures.is_empty() {
            return Err(AppError::invalid(
                "server",
                format!("server {} ({}) measures no usage", server.name, server.kind),
            ));
        }
        return Ok(vec![server]);
    }
    let with_sites: BTreeSet<i64> = store::servers_with_sites(conn)?.into_iter().collect();
    Ok(store_servers::list(conn)?
        .into_iter()
        .filter(|s| with_sites.contains(&s.id) && !support(&s.kind).measures.is_empty())
        .collect())
}

/// Queues a collection now on one server or every server; returns the jobs.
pub fn collect_now(ws: &mut Workspace, server: Option<&str>) -> Result<Vec<i64>> {
    let servers = servers_to_collect(ws.conn(), server)?;
    ws.write(|tx, ctx| {
        servers
            .iter()
            .map(|s| {
                jobs::enqueue_in(
                    tx,
                    ctx,
                    &JobSpec {
                        kind: USAGE_COLLECT.into(),
                        key: format!("usage:{}:now:{}", s.id, ctx.at_ms),
                        server_id: Some(s.id),
                        payload: json!({ "server": s.name }),
                        max_attempts: Some(MAX_ATTEMPTS),
                        ..Default::default()
                    },
                )
            })
            .collect()
    })
}

/// The hours between scheduled collections (0: none).
pub fn every_hours(conn: &Connection) -> Result<i64> {
    Ok(store_settings::get(conn, EVERY_HOURS)?
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|h| (0..=24 * 31).contains(h))
        .unwrap_or(DEFAULT_EVERY_HOURS))
}

/// Queues the scheduled collection of each server for the current time slot, unless it is
/// already queued (the key names the slot). Returns the jobs it queued now.
pub fn schedule(ws: &mut Workspace) -> Result<Vec<i64>> {
    let hours = every_hours(ws.conn())?;
    if hours == 0 {
        return Ok(Vec::new());
    }
    let slot = ws.clock().now().timestamp().div_euclid(hours * 3600);
    let servers = servers_to_collect(ws.conn(), None)?;
    let due: Vec<(Server, String)> = servers
        .into_iter()
        .map(|s| {
            let key = format!("usage:{}:every:{hours}h:{slot}", s.id);
            (s, key)
        })
        .filter(|(_, key)| {
            !ws.conn()
                .query_row(
                    "SELECT 1 FROM jobs WHERE idempotency_key = ?1",
                    [key],
                    |_| Ok(()),
                )
                .optional()
                .is_ok_and(|x| x.is_some())
        })
        .collect();
    if due.is_empty() {
        return Ok(Vec::new());
    }
    ws.write(|tx, ctx| {
        due.iter()
            .map(|(s, key)| {
                jobs::enqueue_in(
                    tx,
                    ctx,
                    &JobSpec {
                        kind: USAGE_COLLECT.into(),
                        key: key.clone(),
                        server_id: Some(s.id),
                        payload: json!({ "server": s.name, "scheduled": true }),
                        max_attempts: Some(MAX_ATTEMPTS),
                        ..Default::default()
                    },
                )
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_declares_what_it_measures_and_enforces() {
        let whm = support("whm");
        assert!(whm.measures(Resource::DiskMb) && whm.enforces(Resource::BandwidthMb));
        assert!(!whm.measures(Resource::Sites));
        assert_eq!(support("aegir").measures, vec![Resource::Sites]);
        assert!(support("aegir").enforces.is_empty());
        let caddy = support("caddy");
        assert!(caddy.measures(Resource::BandwidthMb) && !caddy.measures(Resource::DiskMb));
        assert!(support("nope").measures.is_empty());
    }

    #[test]
    fn the_sandbox_simulation_grows_through_the_month() {
        let t = |s: &str| parse_instant(s).unwrap();
        let (d1, b1) = simulated("a.test", t("2026-03-05T00:00:00Z"), 2026, 3);
        let (_, b2) = simulated("a.test", t("2026-03-20T00:00:00Z"), 2026, 3);
        let (_, full) = simulated("a.test", t("2026-04-02T00:00:00Z"), 2026, 3);
        assert!(b1 < b2 && b2 < full, "{b1} {b2} {full}");
        assert!(d1 > 0);
        assert_eq!(
            simulated("a.test", t("2026-03-05T00:00:00Z"), 2026, 3),
            (d1, b1)
        );
    }
}
