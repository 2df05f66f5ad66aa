//! Quotas and usage, after the seed's quota design (declare resources, update usage, get usage,
//! set limit, check):
//!
//! - **Declare**: each driver says which resources it measures and enforces
//!   ([`hostdesk_remote::ResourceSupport`]; [`collect::support`] per server kind).
//! - **Update**: `usage.collect` jobs ([`collect`]) store samples from the servers, on a
//!   schedule and on demand, and derive each subscription's usage per billing period: the peak
//!   for disk and sites, the sum for bandwidth. That usage is written to `usage_records`
//!   (source `collected`, one row per subscription, resource and period), so the bill run
//!   charges the overage from it unchanged.
//! - **Get**: [`show_client`] (bars: usage against quota this period), [`history`] (a chart per
//!   resource), [`fleet`] (the subscriptions nearest to or over their quotas).
//! - **Set limit**: [`quota::set_quota`] changes a subscription's limit and a `quota.set` job
//!   pushes it to each site's server that enforces it, once per change
//!   ([`quota::push_limits`], also used by orders and plan changes).
//! - **Check**: an order beyond the client's quota is refused, or placed with a staff override
//!   written to the audit log ([`quota::check_order`]); 80% and 100% alerts ([`alerts`]).

pub mod alerts;
pub mod collect;
pub mod quota;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use hostdesk_core::billing::{local_date, local_day_start, BillingCycle};
use hostdesk_core::catalog::{Period, Resource};
use hostdesk_store::usage::{self as store, DayPoint, FleetRow, PeriodUsage, UsageAlert};
use hostdesk_store::{clients, invoices, subscriptions, Connection, OptionalExtension};
use serde::Serialize;

use crate::{AppError, ErrorCode, Result, Workspace};

/// Bytes in one MB of bandwidth (WHM counts MB as 1024 x 1024 bytes).
pub const MB: i64 = 1024 * 1024;

/// Whole MB, rounded up (a started MB counts).
pub fn mb_of(bytes: i64) -> i64 {
    if bytes <= 0 {
        0
    } else {
        (bytes + MB - 1) / MB
    }
}

/// Whether a resource flows (adds up over the period: bandwidth) or is a level (its peak
/// counts: disk, sites, users, domains, mailboxes).
pub fn is_flow(r: Resource) -> bool {
    r == Resource::BandwidthMb
}

/// The unit a resource is counted in.
pub fn unit(r: Resource) -> &'static str {
    match r {
        Resource::DiskMb | Resource::BandwidthMb => "MB",
        Resource::Sites => "sites",
        Resource::Users => "users",
        Resource::Domains => "domains",
        Resource::Mailboxes => "mailboxes",
    }
}

/// The resource as people read it.
pub fn label(r: Resource) -> &'static str {
    match r {
        Resource::Sites => "sites",
        Resource::DiskMb => "disk space",
        Resource::BandwidthMb => "bandwidth",
        Resource::Users => "users",
        Resource::Domains => "domains",
        Resource::Mailboxes => "mailboxes",
    }
}

pub(crate) fn parse_resource(s: &str) -> Result<Resource> {
    s.parse()
        .map_err(|m: String| AppError::invalid("resource", m))
}

fn db(m: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::Database, m)
}

fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| db(format!("bad date '{s}'")))
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A subscription's billing period containing an instant: its local dates and the UTC
/// instants usage is compared with (as the bill run does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubPeriod {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The UTC start of the later of the period's start and the subscription's start: where
    /// the bill run starts summing, and the `at` of the period's collected usage record.
    pub from: String,
    pub to: String,
}

/// The billing period of subscription `id` that contains `instant`.
pub fn period_at(conn: &Connection, id: i64, instant: DateTime<Utc>) -> Result<SubPeriod> {
    let c = store::cycle_of(conn, id)?;
    let tz: Tz = c
        .timezone
        .parse()
        .map_err(|_| db(format!("bad time zone '{}'", c.timezone)))?;
    let period: Period = c.period.parse().map_err(|m: String| db(m))?;
    let started = date(&c.started_on)?;
    // A period starts in the month of the next due date (an anchor date).
    let phase = match &c.next_due_on {
        Some(d) => date(d)?,
        None => started,
    };
    let anchor = u32::try_from(c.anchor_day.clamp(1, 31)).unwrap_or(1);
    let cycle = BillingCycle::new(anchor, period, chrono::Datelike::month(&phase))?;
    let p = cycle.period_containing(local_date(instant, tz))?;
    Ok(SubPeriod {
        start: p.start,
        end: p.end,
        from: utc(local_day_start(p.start.max(started), tz)?),
        to: utc(local_day_start(p.end, tz)?),
    })
}

/// The usage of a resource in a period as billed: every usage record (collected and manual),
/// the sum for bandwidth, the peak for the rest.
pub(crate) fn billed_usage(
    conn: &Connection,
    id: i64,
    p: &SubPeriod,
) -> Result<Vec<(String, i64)>> {
    Ok(invoices::usage_in(conn, id, &p.from, &p.to)?)
}

/// One resource of a subscription in its current period.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ResourceUsage {
    pub resource: String,
    pub label: String,
    pub unit: String,
    /// This period so far (the bill's figure: peak or sum).
    pub used: i64,
    /// None: no limit (unlimited, or no quota on this resource).
    pub limit: Option<i64>,
    /// `used` x 100 / `limit`, None without a limit (or a limit of 0: pure usage billing).
    pub percent: Option<i64>,
    /// A server of this subscription measures it (else only manual records count).
    pub measured: bool,
    /// A server of this subscription enforces the limit (it is pushed there).
    pub enforced: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionUsage {
    pub subscription_id: i64,
    pub product_name: String,
    pub state: String,
    pub period_start: String,
    pub period_end: String,
    pub resources: Vec<ResourceUsage>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ClientUsage {
    pub client_id: i64,
    pub client_name: String,
    /// The client's sites (not deleted) and its site quota over its subscriptions (None: no
    /// limit).
    pub sites: i64,
    pub sites_limit: Option<i64>,
    pub subscriptions: Vec<SubscriptionUsage>,
    /// Open 80% / 100% alerts.
    pub alerts: Vec<UsageAlert>,
}

pub(crate) fn percent(used: i64, limit: Option<i64>) -> Option<i64> {
    limit
        .filter(|l| *l > 0)
        .map(|l| used.saturating_mul(100) / l)
}

/// What the servers of a subscription's sites measure and enforce.
fn support_of(conn: &Connection, id: i64) -> Result<(Vec<Resource>, Vec<Resource>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT sv.kind FROM sites st JOIN servers sv ON sv.id = st.server_id
          WHERE st.subscription_id = ?1 AND st.status <> 'deleted'",
    )?;
    let kinds: Vec<String> = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let (mut m, mut e) = (Vec::new(), Vec::new());
    for k in kinds {
        let s = collect::support(&k);
        m.extend(s.measures);
        if crate::provisioning::can_run(&k, crate::provisioning::QUOTA_SET) {
            e.extend(s.enforces);
        }
    }
    Ok((m, e))
}

/// A subscription's usage this period, one line per resource with a quota or with usage.
pub fn subscription_usage(
    conn: &Connection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<SubscriptionUsage> {
    let s = subscriptions::get(conn, id)?;
    let p = period_at(conn, id, now)?;
    let used = billed_usage(conn, id, &p)?;
    let quotas = store::quotas_of(conn, id)?;
    let (measures, enforces) = support_of(conn, id)?;
    let mut resources = Vec::new();
    for r in Resource::ALL {
        let quota = quotas.iter().find(|(res, _)| res == r.as_str());
        let recorded = used
            .iter()
            .find(|(res, _)| res == r.as_str())
            .map(|(_, u)| *u);
        if quota.is_none() && recorded.is_none() && !(measures.contains(r) && *r == Resource::Sites)
        {
            continue;
        }
        let mut u = recorded.unwrap_or(0);
        if *r == Resource::Sites && recorded.is_none() {
            // not collected yet: the sites Hostdesk made
            u = store::subscription_sites(conn, id)?;
        }
        let limit = quota.and_then(|(_, l)| *l);
        resources.push(ResourceUsage {
            resource: r.as_str().into(),
            label: label(*r).into(),
            unit: unit(*r).into(),
            used: u,
            limit,
            percent: percent(u, limit),
            measured: measures.contains(r),
            enforced: enforces.contains(r) && limit.is_some(),
        });
    }
    Ok(SubscriptionUsage {
        subscription_id: id,
        product_name: s.product_name,
        state: s.state,
        period_start: p.start.to_string(),
        period_end: p.end.to_string(),
        resources,
    })
}

/// A client's usage against its quotas this period, per live subscription, with its alerts.
pub fn show_client(ws: &Workspace, client_id: i64) -> Result<ClientUsage> {
    let conn = ws.conn();
    let client = clients::get(conn, client_id)?;
    let now = ws.clock().now();
    let mut subs = Vec::new();
    for s in subscriptions::list(conn, Some(client_id), None, 0, 1000)? {
        if !["pending", "active", "suspended"].contains(&s.state.as_str()) {
            continue;
        }
        subs.push(subscription_usage(conn, s.id, now)?);
    }
    subs.reverse(); // oldest first
    let (n, unlimited, sum) = store::client_quota(conn, client_id, Resource::Sites.as_str())?;
    Ok(ClientUsage {
        client_id,
        client_name: client.name,
        sites: store::client_sites(conn, client_id)?,
        sites_limit: (n > 0 && !unlimited).then_some(sum),
        subscriptions: subs,
        alerts: store::alerts(conn, Some(client_id), false, 50)?,
    })
}

/// One day of a resource's history chart.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    pub day: String,
    /// The day's peak (levels) or the MB served that day (bandwidth).
    pub value: i64,
    /// What counts against the quota as of that day: the peak (levels), or the MB served since
    /// the period started (bandwidth).
    pub total: i64,
    /// The limit then (None: unlimited).
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ResourceHistory {
    pub subscription_id: i64,
    pub resource: String,
    pub label: String,
    pub unit: String,
    pub flow: bool,
    pub limit: Option<i64>,
    /// Daily, oldest first (days without samples are left out).
    pub points: Vec<HistoryPoint>,
    /// The periods recorded, oldest first (at most 12).
    pub periods: Vec<PeriodUsage>,
}

/// A subscription's history of one resource over the last `days` days.
pub fn history(ws: &Workspace, id: i64, resource: &str, days: i64) -> Result<ResourceHistory> {
    let r = parse_resource(resource)?;
    let conn = ws.conn();
    subscriptions::get(conn, id)?;
    let now = ws.clock().now();
    let from = now - chrono::Duration::days(days.clamp(1, 731));
    let flow = is_flow(r);
    let daily: Vec<DayPoint> = store::daily(
        conn,
        id,
        r.as_str(),
        &utc(from),
        &utc(now + chrono::Duration::seconds(1)),
        flow,
    )?;
    let limit = store::quotas_of(conn, id)?
        .into_iter()
        .find(|(res, _)| res == r.as_str())
        .and_then(|(_, l)| l);
    let mut periods = store::periods_of(conn, id, r.as_str(), 12)?;
    let mut points = Vec::with_capacity(daily.len());
    let mut running = (String::new(), 0i64);
    for d in daily {
        let value = if flow { mb_of(d.value) } else { d.value };
        let day = date(&d.day)?;
        let noon = day
            .and_hms_opt(12, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now);
        let p = period_at(conn, id, noon)?;
        let total = if flow {
            if running.0 != p.from {
                running = (p.from.clone(), 0);
            }
            running.1 += d.value;
            mb_of(running.1)
        } else {
            value
        };
        let then = periods
            .iter()
            .find(|x| x.period_start == p.start.to_string())
            .map_or(limit, |x| x.limit);
        points.push(HistoryPoint {
            day: d.day,
            value,
            total,
            limit: then,
        });
    }
    periods.retain(|p| p.period_end.as_str() > utc(from).as_str());
    Ok(ResourceHistory {
        subscription_id: id,
        resource: r.as_str().into(),
        label: label(r).into(),
        unit: unit(r).into(),
        flow,
        limit,
        points,
        periods,
    })
}

/// The fleet view: the subscriptions nearest to or over their quotas.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Fleet {
    pub rows: Vec<FleetRow>,
    /// Open alerts, newest first.
    pub alerts: Vec<UsageAlert>,
    /// When the newest collection finished (None: never).
    pub last_collected: Option<String>,
}

/// The subscriptions at `min_percent` of a quota or more, the fullest first.
pub fn fleet(ws: &Workspace, min_percent: i64, limit: i64) -> Result<Fleet> {
    let conn = ws.conn();
    let last: Option<String> = conn
        .query_row(
            "SELECT finished_at FROM jobs WHERE kind = ?1 AND state = 'succeeded'
          ORDER BY id DESC LIMIT 1",
            [collect::USAGE_COLLECT],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(Fleet {
        rows: store::fleet(conn, min_percent.max(0), limit.clamp(1, 1000))?,
        alerts: store::alerts(conn, None, false, 200)?,
        last_collected: last,
    })
}
