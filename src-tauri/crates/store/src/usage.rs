//! Usage and quotas: samples collected from the servers, each subscription's usage per billing
//! period with its share of the quota (the fleet view), the limits pushed to the servers, and
//! the 80% / 100% alerts. Times are RFC 3339 UTC, period bounds the client's local dates, as the
//! caller gives them.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::Result;

/// One measure to store (see the `usage_samples` table for the units).
#[derive(Debug, Clone, Default)]
pub struct NewSample<'a> {
    pub subscription_id: i64,
    pub site_id: Option<i64>,
    pub server_id: Option<i64>,
    pub resource: &'a str,
    pub quantity: i64,
    pub bytes: Option<i64>,
    pub counter: Option<i64>,
    pub counter_key: Option<&'a str>,
    pub at: &'a str,
}

/// Stores a sample; the same (subscription, resource, site, time) is stored once. Returns
/// whether it was new.
pub fn insert_sample(conn: &Connection, s: &NewSample<'_>) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO usage_samples (subscription_id, site_id, server_id, resource, quantity,
                bytes, counter, counter_key, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            s.subscription_id,
            s.site_id,
            s.server_id,
            s.resource,
            s.quantity,
            s.bytes,
            s.counter,
            s.counter_key,
            s.at
        ])?
        == 1)
}

/// The newest sample of a site's running totals of `resource`: (key, when).
pub fn last_counter(
    conn: &Connection,
    site_id: i64,
    resource: &str,
) -> Result<Option<(String, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT counter_key, at FROM usage_samples
              WHERE site_id = ?1 AND resource = ?2 AND counter_key IS NOT NULL
              ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![site_id, resource], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The newest running total of one key (a calendar month) for a site.
pub fn counter_of(
    conn: &Connection,
    site_id: i64,
    resource: &str,
    key: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT counter FROM usage_samples
              WHERE site_id = ?1 AND resource = ?2 AND counter_key = ?3
              ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![site_id, resource, key], |r| r.get(0))
        .optional()?
        .flatten())
}

/// A level resource's usage in [from, to): the highest total over the subscription's sites at
/// one collection (disk, sites). None without samples.
pub fn peak_in(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT max(total) FROM (SELECT sum(quantity) AS total FROM usage_samples
              WHERE subscription_id = ?1 AND resource = ?2 AND at >= ?3 AND at < ?4 GROUP BY at)",
        )?
        .query_row(params![subscription_id, resource, from, to], |r| r.get(0))?)
}

/// A flow resource's usage in [from, to) (bandwidth): the bytes of every sample, added up.
/// None without samples.
pub fn bytes_in(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT sum(coalesce(bytes, 0)) FROM usage_samples
              WHERE subscription_id = ?1 AND resource = ?2 AND at >= ?3 AND at < ?4",
        )?
        .query_row(params![subscription_id, resource, from, to], |r| r.get(0))?)
}

/// Writes the collected usage of one period into `usage_records` (source `collected`, one row
/// per subscription, resource and period start), which the bill run charges.
pub fn upsert_collected(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    at: &str,
    quantity: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO usage_records (subscription_id, resource, quantity, at, source)
         VALUES (?1, ?2, ?3, ?4, 'collected')
         ON CONFLICT (subscription_id, resource, at, source) DO UPDATE SET quantity = excluded.quantity",
    )?
    .execute(params![subscription_id, resource, quantity, at])?;
    Ok(())
}

/// One day of a resource's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DayPoint {
    /// YYYY-MM-DD (UTC).
    pub day: String,
    /// The day's peak (level resources) or bytes served (bandwidth).
    pub value: i64,
}

/// A subscription's samples of one resource in [from, to), per UTC day: the peak total for a
/// level resource, the bytes served for a flow (`flow` true).
pub fn daily(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    from: &str,
    to: &str,
    flow: bool,
) -> Result<Vec<DayPoint>> {
    let sql = if flow {
        "SELECT substr(at, 1, 10) AS day, sum(coalesce(bytes, 0)) FROM usage_samples
          WHERE subscription_id = ?1 AND resource = ?2 AND at >= ?3 AND at < ?4
          GROUP BY day ORDER BY day"
    } else {
        "SELECT day, max(total) FROM (SELECT substr(at, 1, 10) AS day, sum(quantity) AS total
           FROM usage_samples WHERE subscription_id = ?1 AND resource = ?2 AND at >= ?3 AND at < ?4
          GROUP BY at) GROUP BY day ORDER BY day"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![subscription_id, resource, from, to], |r| {
        Ok(DayPoint {
            day: r.get(0)?,
            value: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A subscription's usage of a resource in one billing period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PeriodUsage {
    pub subscription_id: i64,
    pub resource: String,
    pub period_start: String,
    pub period_end: String,
    pub used: i64,
    /// None: no limit.
    pub limit: Option<i64>,
    /// `used` x 100 / `limit` (rounded down); None without a limit.
    pub percent: Option<i64>,
    pub at: String,
}

pub fn upsert_period(conn: &Connection, p: &PeriodUsage) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO usage_periods (subscription_id, resource, period_start, period_end, used,
            quota_limit, percent, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (subscription_id, resource, period_start) DO UPDATE SET
           period_end = excluded.period_end, used = excluded.used,
           quota_limit = excluded.quota_limit, percent = excluded.percent, at = excluded.at",
    )?
    .execute(params![
        p.subscription_id,
        p.resource,
        p.period_start,
        p.period_end,
        p.used,
        p.limit,
        p.percent,
        p.at
    ])?;
    Ok(())
}

fn period_row(r: &Row<'_>) -> rusqlite::Result<PeriodUsage> {
    Ok(PeriodUsage {
        subscription_id: r.get(0)?,
        resource: r.get(1)?,
        period_start: r.get(2)?,
        period_end: r.get(3)?,
        used: r.get(4)?,
        limit: r.get(5)?,
        percent: r.get(6)?,
        at: r.get(7)?,
    })
}

/// A subscription's past periods of one resource, oldest first (at most `limit`, the newest).
pub fn periods_of(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    limit: i64,
) -> Result<Vec<PeriodUsage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT * FROM (SELECT subscription_id, resource, period_start, period_end, used,
                quota_limit, percent, at FROM usage_periods
          WHERE subscription_id = ?1 AND resource = ?2 ORDER BY period_start DESC LIMIT ?3)
          ORDER BY period_start",
    )?;
    let rows = stmt.query_map(params![subscription_id, resource, limit], period_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One line of the fleet view: a subscription's latest period of a resource with a limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct FleetRow {
    pub client_id: i64,
    pub client_name: String,
    pub subscription_id: i64,
    pub product_name: String,
    pub resource: String,
    pub used: i64,
    pub limit: i64,
    pub percent: i64,
    pub period_start: String,
    pub period_end: String,
    pub at: String,
}

/// The live subscriptions' latest periods with a limit, the fullest first, at `min_percent` or
/// more.
pub fn fleet(conn: &Connection, min_percent: i64, limit: i64) -> Result<Vec<FleetRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id, c.name, s.id, p.name, u.resource, u.used, u.quota_limit, u.percent,
                u.period_start, u.period_end, u.at
           FROM usage_periods u JOIN subscriptions s ON s.id = u.subscription_id
           JOIN clients c ON c.id = s.client_id JOIN products p ON p.id = s.product_id
          WHERE u.percent IS NOT NULL AND u.percent >= ?1
            AND s.state IN ('pending', 'active', 'suspended')
            AND u.period_start = (SELECT max(v.period_start) FROM usage_periods v
                                   WHERE v.subscription_id = u.subscription_id AND v.resource = u.resource)
          ORDER BY u.percent DESC, u.used DESC, s.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![min_percent, limit], |r| {
        Ok(FleetRow {
            client_id: r.get(0)?,
            client_name: r.get(1)?,
            subscription_id: r.get(2)?,
            product_name: r.get(3)?,
            resource: r.get(4)?,
            used: r.get(5)?,
            limit: r.get(6)?,
            percent: r.get(7)?,
            period_start: r.get(8)?,
            period_end: r.get(9)?,
            at: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The limits last queued to a site's server: resource → (limit, job id).
pub fn pushed_limits(conn: &Connection, site_id: i64) -> Result<Vec<(String, i64, Option<i64>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource, quota_limit, job_id FROM site_limits WHERE site_id = ?1 ORDER BY resource",
    )?;
    let rows = stmt.query_map([site_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn record_push(
    conn: &Connection,
    site_id: i64,
    resource: &str,
    limit: i64,
    job_id: i64,
    at: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO site_limits (site_id, resource, quota_limit, job_id, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (site_id, resource) DO UPDATE SET quota_limit = excluded.quota_limit,
           job_id = excluded.job_id, at = excluded.at",
    )?
    .execute(params![site_id, resource, limit, job_id, at])?;
    Ok(())
}

/// A subscription's quota rows: resource → limit (None: unlimited).
pub fn quotas_of(conn: &Connection, subscription_id: i64) -> Result<Vec<(String, Option<i64>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource, quota_limit FROM subscription_quotas WHERE subscription_id = ?1 ORDER BY resource",
    )?;
    let rows = stmt.query_map([subscription_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sets the limit of one resource on a subscription (None: unlimited); a usage price set on it
/// stays. Returns the limit before: None when the subscription had no row for the resource.
pub fn set_quota_limit(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    limit: Option<i64>,
) -> Result<Option<Option<i64>>> {
    let before: Option<Option<i64>> = conn
        .prepare_cached(
            "SELECT quota_limit FROM subscription_quotas WHERE subscription_id = ?1 AND resource = ?2",
        )?
        .query_row(params![subscription_id, resource], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT INTO subscription_quotas (subscription_id, resource, quota_limit) VALUES (?1, ?2, ?3)
         ON CONFLICT (subscription_id, resource) DO UPDATE SET quota_limit = excluded.quota_limit",
    )?
    .execute(params![subscription_id, resource, limit])?;
    Ok(before)
}

/// A client's quota of a resource over its live subscriptions: (subscriptions that set one,
/// whether one of them is unlimited, the sum of the limits).
pub fn client_quota(conn: &Connection, client_id: i64, resource: &str) -> Result<(i64, bool, i64)> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*), coalesce(max(q.quota_limit IS NULL), 0), coalesce(sum(q.quota_limit), 0)
               FROM subscription_quotas q JOIN subscriptions s ON s.id = q.subscription_id
              WHERE s.client_id = ?1 AND q.resource = ?2
                AND s.state IN ('pending', 'active', 'suspended')",
        )?
        .query_row(params![client_id, resource], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? != 0, r.get(2)?))
        })?)
}

/// A client's sites that exist or are being made (not deleted), of live subscriptions.
pub fn client_sites(conn: &Connection, client_id: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM sites st JOIN subscriptions s ON s.id = st.subscription_id
              WHERE s.client_id = ?1 AND st.status <> 'deleted'
                AND s.state IN ('pending', 'active', 'suspended')",
        )?
        .query_row([client_id], |r| r.get(0))?)
}

/// An 80% or 100% alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct UsageAlert {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub subscription_id: i64,
    pub resource: String,
    pub period_start: String,
    /// 80 or 100.
    pub threshold: i64,
    pub used: i64,
    pub limit: i64,
    pub at: String,
    /// The mail to the client, when one was sent.
    pub outbox_id: Option<i64>,
    pub dismissed_at: Option<String>,
}

/// Records an alert once per (subscription, resource, period, threshold). Returns its id when
/// it is new.
#[allow(clippy::too_many_arguments)]
pub fn insert_alert(
    conn: &Connection,
    subscription_id: i64,
    resource: &str,
    period_start: &str,
    threshold: i64,
    used: i64,
    limit: i64,
    at: &str,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO usage_alerts (subscription_id, resource, period_start, threshold, used,
                quota_limit, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                subscription_id,
                resource,
                period_start,
                threshold,
                used,
                limit,
                at
            ],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_alert_outbox(conn: &Connection, id: i64, outbox_id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE usage_alerts SET outbox_id = ?2 WHERE id = ?1")?
        .execute(params![id, outbox_id])?;
    Ok(())
}

/// Alerts, newest first: of one client or all, the open ones only unless `all`.
pub fn alerts(
    conn: &Connection,
    client_id: Option<i64>,
    all: bool,
    limit: i64,
) -> Result<Vec<UsageAlert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, c.id, c.name, a.subscription_id, a.resource, a.period_start, a.threshold,
                a.used, a.quota_limit, a.at, a.outbox_id, a.dismissed_at
           FROM usage_alerts a JOIN subscriptions s ON s.id = a.subscription_id
           JOIN clients c ON c.id = s.client_id
          WHERE (?1 IS NULL OR s.client_id = ?1) AND (?2 OR a.dismissed_at IS NULL)
          ORDER BY a.at DESC, a.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![client_id, all, limit], |r| {
        Ok(UsageAlert {
            id: r.get(0)?,
            client_id: r.get(1)?,
            client_name: r.get(2)?,
            subscription_id: r.get(3)?,
            resource: r.get(4)?,
            period_start: r.get(5)?,
            threshold: r.get(6)?,
            used: r.get(7)?,
            limit: r.get(8)?,
            at: r.get(9)?,
            outbox_id: r.get(10)?,
            dismissed_at: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Dismisses an alert in the app. Returns whether it was open.
pub fn dismiss_alert(conn: &Connection, id: i64, at: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE usage_alerts SET dismissed_at = ?2 WHERE id = ?1 AND dismissed_at IS NULL",
        )?
        .execute(params![id, at])?;
    if n == 0 {
        let exists: Option<i64> = conn
            .query_row("SELECT id FROM usage_alerts WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            return Err(crate::StoreError::not_found("usage alert", id));
        }
    }
    Ok(n == 1)
}

/// What a subscription's billing periods are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub subscription_id: i64,
    pub client_id: i64,
    pub state: String,
    pub anchor_day: i64,
    pub period: String,
    pub started_on: String,
    pub next_due_on: Option<String>,
    /// The client's time zone.
    pub timezone: String,
}

pub fn cycle_of(conn: &Connection, subscription_id: i64) -> Result<Cycle> {
    conn.prepare_cached(
        "SELECT s.id, s.client_id, s.state, s.anchor_day, s.period, s.started_on, s.next_due_on,
                c.timezone
           FROM subscriptions s JOIN clients c ON c.id = s.client_id WHERE s.id = ?1",
    )?
    .query_row([subscription_id], |r| {
        Ok(Cycle {
            subscription_id: r.get(0)?,
            client_id: r.get(1)?,
            state: r.get(2)?,
            anchor_day: r.get(3)?,
            period: r.get(4)?,
            started_on: r.get(5)?,
            next_due_on: r.get(6)?,
            timezone: r.get(7)?,
        })
    })
    .optional()?
    .ok_or_else(|| crate::StoreError::not_found("subscription", subscription_id))
}

/// A site whose usage a collection measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuredSite {
    pub id: i64,
    pub subscription_id: i64,
    pub domain: String,
    pub remote_id: Option<String>,
}

/// The sites on a server that exist there (active or suspended) and belong to a live
/// subscription.
pub fn sites_to_measure(conn: &Connection, server_id: i64) -> Result<Vec<MeasuredSite>> {
    let mut stmt = conn.prepare_cached(
        "SELECT st.id, st.subscription_id, st.domain, st.remote_id
           FROM sites st JOIN subscriptions s ON s.id = st.subscription_id
          WHERE st.server_id = ?1 AND st.status IN ('active', 'disabled')
            AND s.state IN ('pending', 'active', 'suspended')
          ORDER BY st.subscription_id, st.id",
    )?;
    let rows = stmt.query_map([server_id], |r| {
        Ok(MeasuredSite {
            id: r.get(0)?,
            subscription_id: r.get(1)?,
            domain: r.get(2)?,
            remote_id: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A subscription's sites that are not deleted.
pub fn subscription_sites(conn: &Connection, subscription_id: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM sites WHERE subscription_id = ?1 AND status <> 'deleted'",
        )?
        .query_row([subscription_id], |r| r.get(0))?)
}

/// The servers with sites to measure, by id.
pub fn servers_with_sites(conn: &Connection) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT server_id FROM sites WHERE server_id IS NOT NULL
            AND status IN ('active', 'disabled') ORDER BY server_id",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
