//! Subscriptions (a client's recurring purchase) with their choices and quotas, and their sites.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::{Result, StoreError};

/// A subscription to write; ids already resolved, price already computed.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub client_id: i64,
    pub product_id: i64,
    pub kit_id: Option<i64>,
    pub tier_id: Option<i64>,
    pub currency: &'a str,
    pub period: &'a str,
    pub price_minor: i64,
    pub state: &'a str,
    pub anchor_day: i64,
    pub started_on: &'a str,
    pub next_due_on: Option<&'a str>,
    pub expires_on: Option<&'a str>,
    pub choices: &'a [(i64, i64)],
    pub quotas: &'a [(String, Option<i64>)],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: i64,
    pub client_id: i64,
    pub client_name: String,
    pub product_code: String,
    pub product_name: String,
    pub kit_code: Option<String>,
    pub tier_code: Option<String>,
    pub currency: String,
    pub period: String,
    pub price_minor: i64,
    pub state: String,
    pub anchor_day: i64,
    pub started_on: String,
    pub next_due_on: Option<String>,
    pub expires_on: Option<String>,
    /// `option=choice` codes.
    pub choices: Vec<String>,
    pub quotas: Vec<QuotaRow>,
    /// A cancellation at the period end: the first day without service.
    pub cancel_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QuotaRow {
    pub resource: String,
    /// None: unlimited.
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub id: i64,
    pub subscription_id: i64,
    pub domain: String,
    pub server_id: Option<i64>,
    pub platform: String,
    pub profile: String,
    pub remote_id: Option<String>,
    pub status: String,
    pub created_at: String,
}

pub fn insert(conn: &Connection, s: &NewSubscription<'_>, at: &str) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO subscriptions (client_id, product_id, kit_id, tier_id, currency, period,
            price_minor, state, anchor_day, started_on, next_due_on, expires_on, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )?
    .execute(params![
        s.client_id,
        s.product_id,
        s.kit_id,
        s.tier_id,
        s.currency,
        s.period,
        s.price_minor,
        s.state,
        s.anchor_day,
        s.started_on,
        s.next_due_on,
        s.expires_on,
        at
    ])?;
    let id = conn.last_insert_rowid();
    let mut ch = conn.prepare_cached(
        "INSERT INTO subscription_choices (subscription_id, option_id, choice_id) VALUES (?1, ?2, ?3)",
    )?;
    for (option_id, choice_id) in s.choices {
        ch.execute(params![id, option_id, choice_id]).map_err(|e| {
            StoreError::unique_or(e, || "two choices were given for the same option".into())
        })?;
    }
    let mut q = conn.prepare_cached(
        "INSERT INTO subscription_quotas (subscription_id, resource, quota_limit) VALUES (?1, ?2, ?3)",
    )?;
    for (resource, limit) in s.quotas {
        q.execute(params![id, resource, limit])?;
    }
    Ok(id)
}

const SELECT: &str = "SELECT s.id, s.client_id, c.name, p.code, p.name, k.code, t.code, s.currency,
        s.period, s.price_minor, s.state, s.anchor_day, s.started_on, s.next_due_on, s.expires_on,
        (SELECT group_concat(o.code || '=' || ch.code, ',') FROM subscription_choices sc
           JOIN options o ON o.id = sc.option_id JOIN choices ch ON ch.id = sc.choice_id
          WHERE sc.subscription_id = s.id), s.cancel_on
   FROM subscriptions s JOIN clients c ON c.id = s.client_id JOIN products p ON p.id = s.product_id
   LEFT JOIN kits k ON k.id = s.kit_id LEFT JOIN tiers t ON t.id = s.tier_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Subscription> {
    let choices: Option<String> = r.get(15)?;
    Ok(Subscription {
        id: r.get(0)?,
        client_id: r.get(1)?,
        client_name: r.get(2)?,
        product_code: r.get(3)?,
        product_name: r.get(4)?,
        kit_code: r.get(5)?,
        tier_code: r.get(6)?,
        currency: r.get(7)?,
        period: r.get(8)?,
        price_minor: r.get(9)?,
        state: r.get(10)?,
        anchor_day: r.get(11)?,
        started_on: r.get(12)?,
        next_due_on: r.get(13)?,
        expires_on: r.get(14)?,
        choices: choices
            .map(|c| c.split(',').map(String::from).collect())
            .unwrap_or_default(),
        quotas: Vec::new(),
        cancel_on: r.get(16)?,
    })
}

fn with_quotas(conn: &Connection, mut s: Subscription) -> Result<Subscription> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource, quota_limit FROM subscription_quotas WHERE subscription_id = ?1 ORDER BY resource",
    )?;
    s.quotas = stmt
        .query_map([s.id], |r| {
            Ok(QuotaRow {
                resource: r.get(0)?,
                limit: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(s)
}

pub fn get(conn: &Connection, id: i64) -> Result<Subscription> {
    let s = conn
        .query_row(&format!("{SELECT} WHERE s.id = ?1"), [id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::not_found("subscription", id))?;
    with_quotas(conn, s)
}

/// A client's subscriptions, or (client None) a page of all, newest first.
pub fn list(
    conn: &Connection,
    client_id: Option<i64>,
    state: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Subscription>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE (?1 IS NULL OR s.client_id = ?1) AND (?2 IS NULL OR s.state = ?2)
          ORDER BY s.id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows: Vec<Subscription> = stmt
        .query_map(params![client_id, state, limit, offset], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|s| with_quotas(conn, s)).collect()
}

/// Every subscription in id order, streamed to `f` (exports).
pub fn for_each(conn: &Connection, mut f: impl FnMut(Subscription) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY s.id"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        f(from_row(r)?)?;
    }
    Ok(())
}

pub fn insert_site(
    conn: &Connection,
    subscription_id: i64,
    domain: &str,
    platform: &str,
    profile: &str,
    status: &str,
    at: &str,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO sites (subscription_id, domain, platform, profile, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![subscription_id, domain, platform, profile, status, at])
    .map_err(|e| StoreError::unique_or(e, || format!("the domain {domain} is already used by another site")))?;
    Ok(conn.last_insert_rowid())
}

pub fn sites_for_client(conn: &Connection, client_id: i64) -> Result<Vec<Site>> {
    let mut stmt = conn.prepare_cached(
        "SELECT st.id, st.subscription_id, st.domain, st.server_id, st.platform, st.profile,
                st.remote_id, st.status, st.created_at
           FROM sites st JOIN subscriptions s ON s.id = st.subscription_id
          WHERE s.client_id = ?1 ORDER BY st.id",
    )?;
    let rows = stmt.query_map([client_id], |r| {
        Ok(Site {
            id: r.get(0)?,
            subscription_id: r.get(1)?,
            domain: r.get(2)?,
            server_id: r.get(3)?,
            platform: r.get(4)?,
            profile: r.get(5)?,
            remote_id: r.get(6)?,
            status: r.get(7)?,
            created_at: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A usage price: (resource, quota, fee, overage price), amounts in minor units.
pub type UsageRateRow = (String, Option<i64>, i64, i64);

/// What the bill run needs of a subscription that is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueSubscription {
    pub id: i64,
    pub label: String,
    pub currency: String,
    pub period: String,
    pub price_minor: i64,
    /// A price change staff applied at renewal, adopted at the next period billed.
    pub renewal_price_minor: Option<i64>,
    pub anchor_day: i64,
    pub started_on: String,
    pub next_due_on: String,
    /// (resource, quota, fee, overage price) for usage billing.
    pub rates: Vec<UsageRateRow>,
}

/// Clients with an active subscription due on or before `through`.
pub fn clients_due(conn: &Connection, through: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT client_id FROM subscriptions
          WHERE state = 'active' AND next_due_on IS NOT NULL AND next_due_on <= ?1
            AND (cancel_on IS NULL OR next_due_on < cancel_on)
          ORDER BY client_id",
    )?;
    let rows = stmt.query_map([through], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A client's active subscriptions due on or before `through`.
pub fn due_for_billing(
    conn: &Connection,
    client_id: i64,
    through: &str,
) -> Result<Vec<DueSubscription>> {
    Ok(
        due_for_billing_between(conn, client_id, client_id, through)?
            .into_iter()
            .map(|(_, s)| s)
            .collect(),
    )
}

/// The active subscriptions due on or before `through` of every client with an id in
/// `first..=last`, as (client id, subscription) ordered by client then subscription: a bill
/// run's batch in two queries.
pub fn due_for_billing_between(
    conn: &Connection,
    first: i64,
    last: i64,
    through: &str,
) -> Result<Vec<(i64, DueSubscription)>> {
    // The names of the (few) products and kits, read once: the rows below need no joins.
    let names = |sql: &str| -> Result<std::collections::HashMap<i64, String>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    let products = names("SELECT id, name FROM products")?;
    let kits = names("SELECT id, name FROM kits")?;
    let mut stmt = conn.prepare_cached(
        // NOT INDEXED: a batch is a wide range of clients whose subscriptions are spread over
        // the whole table; one sequential pass reads them faster than an index lookup each.
        "SELECT s.id, s.product_id, s.kit_id, s.currency, s.period, s.price_minor,
                s.anchor_day, s.started_on, s.next_due_on, s.renewal_price_minor, s.client_id
           FROM subscriptions s NOT INDEXED
          WHERE s.client_id BETWEEN ?1 AND ?3 AND s.state = 'active' AND s.next_due_on IS NOT NULL AND s.next_due_on <= ?2
            AND (s.cancel_on IS NULL OR s.next_due_on < s.cancel_on)
",
    )?;
    let mut subs: Vec<(i64, DueSubscription)> = stmt
        .query_map(params![first, through, last], |r| {
            let product: i64 = r.get(1)?;
            let kit: Option<i64> = r.get(2)?;
            let product = products.get(&product).map(String::as_str).unwrap_or("");
            let label = match kit.and_then(|k| kits.get(&k)) {
                Some(k) => format!("{k} ({product})"),
                None => product.to_owned(),
            };
            Ok((
                r.get(10)?,
                DueSubscription {
                    id: r.get(0)?,
                    label,
                    currency: r.get(3)?,
                    period: r.get(4)?,
                    price_minor: r.get(5)?,
                    anchor_day: r.get(6)?,
                    started_on: r.get(7)?,
                    next_due_on: r.get(8)?,
                    renewal_price_minor: r.get(9)?,
                    rates: Vec::new(),
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    subs.sort_unstable_by_key(|(client, s)| (*client, s.id));
    if subs.is_empty() {
        return Ok(subs);
    }
    // every rate of these clients' subscriptions in one query
    let mut stmt = conn.prepare_cached(
        "SELECT q.subscription_id, q.resource, q.quota_limit, q.fee_minor, q.overage_minor
           FROM subscription_quotas q JOIN subscriptions s ON s.id = q.subscription_id
          WHERE s.client_id BETWEEN ?1 AND ?2 AND (q.fee_minor <> 0 OR q.overage_minor <> 0)
          ORDER BY q.subscription_id, q.resource",
    )?;
    let mut rates: std::collections::HashMap<i64, Vec<UsageRateRow>> =
        std::collections::HashMap::new();
    let rows = stmt.query_map(params![first, last], |r| {
        Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
    })?;
    for row in rows {
        let (id, rate): (i64, UsageRateRow) = row?;
        rates.entry(id).or_default().push(rate);
    }
    for (_, s) in &mut subs {
        s.rates = rates.remove(&s.id).unwrap_or_default();
    }
    Ok(subs)
}

/// Moves many subscriptions to the same next due date in one statement.
pub fn advance_due_many(conn: &Connection, ids: &[i64], next_due_on: &str, at: &str) -> Result<()> {
    // SQLite reads the IN list into a sorted index: the updates walk the table in id order
    let list = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt {
        table: "subscriptions",
        message: e.to_string(),
    })?;
    conn.prepare_cached(
        "UPDATE subscriptions SET next_due_on = ?2, updated_at = ?3
          WHERE id IN (SELECT value FROM json_each(?1))",
    )?
    .execute(params![list, next_due_on, at])?;
    Ok(())
}

/// Sets a usage price on a subscription's resource (fee for the quota, price per unit over it).
pub fn set_rate(
    conn: &Connection,
    id: i64,
    resource: &str,
    quota: Option<i64>,
    fee_minor: i64,
    overage_minor: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO subscription_quotas (subscription_id, resource, quota_limit, fee_minor, overage_minor)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (subscription_id, resource) DO UPDATE SET quota_limit = excluded.quota_limit,
           fee_minor = excluded.fee_minor, overage_minor = excluded.overage_minor",
        params![id, resource, quota, fee_minor, overage_minor],
    )?;
    Ok(())
}

/// Staff chose to apply a product's new price to its existing subscriptions at renewal:
/// each gets `renewal_price_minor` = its price + (new - old), which the bill run adopts at the
/// next period it bills. Kits have their own price and are left alone. Returns the ids.
pub fn schedule_renewal_price(
    conn: &Connection,
    product_id: i64,
    currency: &str,
    period: &str,
    delta_minor: i64,
) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "UPDATE subscriptions SET renewal_price_minor = max(0, price_minor + ?4)
          WHERE product_id = ?1 AND currency = ?2 AND period = ?3 AND kit_id IS NULL
            AND state IN ('pending', 'active', 'suspended')
          RETURNING id",
    )?;
    let ids = stmt.query_map(params![product_id, currency, period, delta_minor], |r| {
        r.get(0)
    })?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// The bill run adopts a scheduled renewal price: from this period on it is the price. A plan
/// change waiting for the period end (a downgrade, an option removed) is applied with it.
pub fn adopt_renewal_price(conn: &Connection, id: i64, at: &str) -> Result<()> {
    let pending: Option<String> = conn
        .prepare_cached("SELECT pending_change FROM subscriptions WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    if let Some(text) = pending {
        let change: PlanChangeRow =
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                table: "subscriptions",
                message: format!("pending_change of subscription {id}: {e}"),
            })?;
        apply_plan(conn, id, &change, at)?;
    }
    conn.prepare_cached(
        "UPDATE subscriptions SET price_minor = renewal_price_minor, renewal_price_minor = NULL,
                pending_change = NULL, updated_at = ?2
          WHERE id = ?1 AND renewal_price_minor IS NOT NULL",
    )?
    .execute(params![id, at])?;
    Ok(())
}

/// A subscription's plan: its product, its choices and their quotas, and its price.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanChangeRow {
    pub product_id: i64,
    pub choices: Vec<(i64, i64)>,
    pub quotas: Vec<(String, Option<i64>)>,
    pub price_minor: i64,
}

/// Switches a subscription to a plan now (an upgrade): product, choices, quota limits, price.
/// Usage prices set on a resource stay.
pub fn apply_plan(conn: &Connection, id: i64, p: &PlanChangeRow, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE subscriptions SET product_id = ?2, price_minor = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, p.product_id, p.price_minor, at],
    )?;
    conn.execute(
        "DELETE FROM subscription_choices WHERE subscription_id = ?1",
        [id],
    )?;
    for (option_id, choice_id) in &p.choices {
        conn.execute(
            "INSERT INTO subscription_choices (subscription_id, option_id, choice_id) VALUES (?1, ?2, ?3)",
            params![id, option_id, choice_id],
        )?;
    }
    conn.execute(
        "UPDATE subscription_quotas SET quota_limit = NULL
          WHERE subscription_id = ?1 AND fee_minor = 0 AND overage_minor = 0",
        [id],
    )?;
    for (resource, limit) in &p.quotas {
        conn.execute(
            "INSERT INTO subscription_quotas (subscription_id, resource, quota_limit) VALUES (?1, ?2, ?3)
             ON CONFLICT (subscription_id, resource) DO UPDATE SET quota_limit = excluded.quota_limit",
            params![id, resource, limit],
        )?;
    }
    Ok(())
}

/// Schedules a plan for the next renewal (a downgrade), replacing one scheduled before.
pub fn schedule_plan(conn: &Connection, id: i64, p: &PlanChangeRow, at: &str) -> Result<()> {
    let text = serde_json::to_string(p).map_err(|e| StoreError::Conflict(e.to_string()))?;
    conn.execute(
        "UPDATE subscriptions SET pending_change = ?2, renewal_price_minor = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, text, p.price_minor, at],
    )?;
    Ok(())
}

pub fn set_state(conn: &Connection, id: i64, state: &str, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE subscriptions SET state = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, state, at],
    )?;
    Ok(())
}

/// Sets (or clears) the first day without service of a cancellation at the period end.
pub fn set_cancel_on(conn: &Connection, id: i64, cancel_on: Option<&str>, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE subscriptions SET cancel_on = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, cancel_on, at],
    )?;
    Ok(())
}

/// The plan-change facts of a subscription: (cancel_on, pending_change JSON).
pub fn change_facts(conn: &Connection, id: i64) -> Result<(Option<String>, Option<String>)> {
    conn.query_row(
        "SELECT cancel_on, pending_change FROM subscriptions WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("subscription", id))
}

/// Subscriptions whose cancellation date has come: marked cancelled. Returns their ids.
pub fn end_cancelled(conn: &Connection, today: &str, at: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "UPDATE subscriptions SET state = 'cancelled', updated_at = ?2
          WHERE cancel_on IS NOT NULL AND cancel_on <= ?1 AND state IN ('pending', 'active', 'suspended')
          RETURNING id",
    )?;
    let ids = stmt.query_map(params![today, at], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// The invoice line that billed a subscription's service on `date` (the period containing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledLine {
    pub invoice_id: i64,
    pub key: String,
    pub net_minor: i64,
    pub tax_rate_bps: i64,
}

pub fn billed_line_on(conn: &Connection, id: i64, date: &str) -> Result<Option<BilledLine>> {
    Ok(conn
        .query_row(
            "SELECT l.invoice_id, l.key, l.net_minor, l.tax_rate_bps
               FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
              WHERE l.key >= 'sub:' || ?1 || '/' AND l.key < 'sub:' || ?1 || '0' -- the key index
                AND l.subscription_id = ?1 AND l.kind IN ('recurring', 'proration')
                AND l.net_minor > 0 AND l.period_from <= ?2 AND l.period_to > ?2
                AND i.status IN ('issued', 'partially_paid', 'paid')
              ORDER BY l.id DESC LIMIT 1",
            params![id, date],
            |r| {
                Ok(BilledLine {
                    invoice_id: r.get(0)?,
                    key: r.get(1)?,
                    net_minor: r.get(2)?,
                    tax_rate_bps: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub fn set_tier(conn: &Connection, id: i64, tier_id: Option<i64>, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE subscriptions SET tier_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, tier_id, at],
    )?;
    Ok(())
}
