//! Planning a batch of the bill run: what each client is due, as lines grouped per invoice, and
//! the subscriptions' next due dates. Only reads and computes; `write_batch` writes the plans,
//! in the same transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hostdesk_core::billing::{
    late_usage_line, local_date, local_day_start, recurring_line, usage_lines, BillingCycle,
    LateUsage, LineDraft, UsageFacts, UsageRate,
};
use hostdesk_core::catalog::{Period, Resource};
use hostdesk_store::clients::Client;
use hostdesk_store::subscriptions::DueSubscription;
use hostdesk_store::{clients, invoices, late_usage, subscriptions, Connection, StoreError};

use super::super::{money, seller::Seller};
use super::parse_date;
use crate::{AppError, ErrorCode, Result};

/// What an invoice of a client says about the client.
pub(super) struct Billed {
    pub client_id: i64,
    pub name: String,
    /// The client's local today: the issue date and the numbering year.
    pub today: NaiveDate,
    /// The legal notes (reverse charge...), as a JSON array.
    pub notes: String,
    /// The client as invoiced (JSON).
    pub buyer: String,
}

/// What the bill run writes for one client.
pub(super) struct ClientPlan {
    pub billed: Billed,
    /// The subscriptions billed: (id, next due date after this run, adopts its renewal price).
    pub advance: Vec<(i64, String, bool)>,
    /// The lines of each invoice (billing date, currency), each with its subscription.
    pub groups: BTreeMap<(NaiveDate, String), Vec<(LineDraft, i64)>>,
    /// Late usage notes billed by this plan: (subscription, instant), cleared when written.
    pub late_done: Vec<(i64, String)>,
}

/// Adds the client to an error's message.
pub(super) fn with_client(client_id: i64) -> impl Fn(AppError) -> AppError {
    move |e| AppError::new(e.code, format!("client {client_id}: {}", e.message))
}

/// The plans of a batch of clients (ascending ids), in the batch's order: its clients and their
/// due subscriptions are read in a few queries, the usage per subscription billed for it.
/// `bound` is the widest "through" date (any client's today).
pub(super) fn plan_batch(
    conn: &Connection,
    seller: &Seller,
    batch: &[i64],
    through: Option<NaiveDate>,
    bound: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ClientPlan>> {
    let (Some(&first), Some(&last)) = (batch.first(), batch.last()) else {
        return Ok(Vec::new());
    };
    let clients = clients::between(conn, first, last)?;
    let subs = subscriptions::due_for_billing_between(conn, first, last, bound)?;
    let late = if late_usage::any(conn)? {
        late_usage::between(conn, first, last)?
    } else {
        Vec::new()
    };
    batch
        .iter()
        .map(|&client_id| {
            let client = clients
                .binary_search_by_key(&client_id, |c| c.id)
                .map(|i| &clients[i])
                .map_err(|_| AppError::from(StoreError::not_found("client", client_id)))
                .map_err(with_client(client_id))?;
            let from = subs.partition_point(|(c, _)| *c < client_id);
            let to = subs.partition_point(|(c, _)| *c <= client_id);
            let due = subs[from..to].iter().map(|(_, s)| s);
            plan_client(conn, seller, client, due, &late, through, now)
                .map_err(with_client(client_id))
        })
        .collect()
}

/// One client's due periods as lines (recurring in advance, usage in arrears), grouped per
/// billing date and currency.
fn plan_client<'a>(
    conn: &Connection,
    seller: &Seller,
    client: &Client,
    due: impl Iterator<Item = &'a DueSubscription>,
    late: &[(i64, String)],
    through: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<ClientPlan> {
    let cb = super::super::issue::client_billing(client, seller, now)?;
    let (tz, today, tax) = (cb.tz, cb.today, cb.tax);
    let through = through.unwrap_or(today);
    let through_text = through.to_string();
    let utc_start = |d: NaiveDate| -> Result<String> {
        Ok(local_day_start(d, tz)?.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };

    let mut advance = Vec::new();
    let mut late_done = Vec::new();
    let mut groups: BTreeMap<(NaiveDate, String), Vec<(LineDraft, i64)>> = BTreeMap::new();
    // the batch read what is due by the widest bound: this client's own "through" decides
    for s in due.filter(|s| s.next_due_on.as_str() <= through_text.as_str()) {
        let period: Period = s
            .period
            .parse()
            .map_err(|m: String| AppError::new(ErrorCode::Database, m))?;
        let anchor = s.anchor_day as u32;
        let started = parse_date(&s.started_on, "startedOn")?;
        let price = money(s.renewal_price_minor.unwrap_or(s.price_minor), &s.currency)?;
        let mut next = parse_date(&s.next_due_on, "nextDueOn")?;
        // Usage that arrived after its period was invoiced: on this run's first invoice.
        let mine: Vec<&String> = late
            .iter()
            .filter(|(sub, _)| *sub == s.id)
            .map(|(_, at)| at)
            .collect();
        if !mine.is_empty() && next <= through {
            let cycle = BillingCycle::starting_on(next, anchor, period)?;
            let first = cycle.period_containing(next)?;
            let lines = late_lines(conn, s, &cycle, started, &mine, tz, tax.rate_bps)?;
            groups
                .entry((first.start, s.currency.clone()))
                .or_default()
                .extend(lines.into_iter().map(|l| (l, s.id)));
            late_done.extend(mine.iter().map(|at| (s.id, (*at).clone())));
        }
        while next <= through {
            let cycle = BillingCycle::starting_on(next, anchor, period)?;
            let p = cycle.period_containing(next)?;
            let mut lines = vec![recurring_line(s.id, &p, &s.label, price, tax.rate_bps)?];
            // Usage is billed in arrears: the period that ends where this one starts.
            if started < next && !s.rates.is_empty() {
                let prev = cycle.period_containing(next - Duration::days(1))?;
                let usage = invoices::usage_in(
                    conn,
                    s.id,
                    &utc_start(prev.start.max(started))?,
                    &utc_start(prev.end)?,
                )?;
                for (resource, quota, fee, overage) in &s.rates {
                    let resource: Resource = resource
                        .parse()
                        .map_err(|m: String| AppError::new(ErrorCode::Database, m))?;
                    let used = usage
                        .iter()
                        .find(|(r, _)| r == resource.as_str())
                        .map(|(_, u)| *u)
                        .unwrap_or(0);
                    let rate = UsageRate {
                        resource,
                        fee: money(*fee, &s.currency)?,
                        quota: *quota,
                        overage_unit_price: money(*overage, &s.currency)?,
                    };
                    lines.extend(usage_lines(s.id, &prev, &rate, used, tax.rate_bps)?);
                }
            }
            groups
                .entry((p.start, s.currency.clone()))
                .or_default()
                .extend(lines.into_iter().map(|l| (l, s.id)));
            next = p.end;
        }
        advance.push((s.id, next.to_string(), s.renewal_price_minor.is_some()));
    }
    Ok(ClientPlan {
        billed: Billed {
            client_id: client.id,
            name: client.name.clone(),
            today,
            notes: serde_json::json!(cb.notes).to_string(),
            buyer: cb.buyer,
        },
        advance,
        groups,
        late_done,
    })
}

/// The late-usage lines of a subscription: for each invoiced period a late record falls in, the
/// units over the quota now known minus those billed, at the rate frozen on the period's lines.
fn late_lines(
    conn: &Connection,
    s: &DueSubscription,
    cycle: &BillingCycle,
    started: NaiveDate,
    late: &[&String],
    tz: chrono_tz::Tz,
    tax_rate_bps: u32,
) -> Result<Vec<LineDraft>> {
    let mut periods: Vec<hostdesk_core::billing::BillingPeriod> = Vec::new();
    for at in late {
        let instant = DateTime::parse_from_rfc3339(at)
            .map_err(|_| AppError::new(ErrorCode::Database, format!("bad usage instant '{at}'")))?
            .with_timezone(&Utc);
        let p = cycle.period_containing(local_date(instant, tz))?;
        if !periods.contains(&p) {
            periods.push(p);
        }
    }
    periods.sort_by_key(|p| p.start);
    let utc_start = |d: NaiveDate| -> Result<String> {
        Ok(local_day_start(d, tz)?.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let mut lines = Vec::new();
    for u in periods {
        let used_now = invoices::usage_in(
            conn,
            s.id,
            &utc_start(u.start.max(started))?,
            &utc_start(u.end)?,
        )?;
        let billed: Vec<UsageFacts> = late_usage::billed_facts(conn, s.id, &u.start.to_string())?
            .iter()
            .filter_map(|f| serde_json::from_str(f).ok())
            .collect();
        for (resource, quota, fee, overage) in &s.rates {
            let res: Resource = resource
                .parse()
                .map_err(|m: String| AppError::new(ErrorCode::Database, m))?;
            let used = used_now
                .iter()
                .find(|(r, _)| r == resource)
                .map(|(_, u)| *u)
                .unwrap_or(0);
            // The rate as billed then (frozen), or today's when nothing was billed for it.
            let frozen = billed
                .iter()
                .filter(|f| f.resource == res)
                .max_by_key(|f| f.used);
            let (rate, billed_used) = match frozen {
                Some(f) => (
                    UsageRate {
                        resource: res,
                        fee: f.fee,
                        quota: f.quota,
                        overage_unit_price: f.overage_unit_price,
                    },
                    f.used,
                ),
                None => (
                    UsageRate {
                        resource: res,
                        fee: money(*fee, &s.currency)?,
                        quota: *quota,
                        overage_unit_price: money(*overage, &s.currency)?,
                    },
                    0,
                ),
            };
            if let Some(l) = late_usage_line(&LateUsage {
                subscription_id: s.id,
                period: u,
                rate,
                billed_used,
                used,
                tax_rate_bps,
            })? {
                lines.push(l);
            }
        }
    }
    Ok(lines)
}
