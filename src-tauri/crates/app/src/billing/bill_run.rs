//! The bill run: every client with a subscription due on or before the run's date gets one
//! consolidated invoice per billing date (and currency), issued with a gapless number.
//!
//! One batch of clients = one transaction: their lines, their invoices' numbers and their
//! subscriptions' next due dates land together or not at all. So a crash or a kill at any moment
//! leaves every client either billed or not, a re-run bills only who is left (resumable), and
//! line keys (subscription, period, kind) make adding a line twice impossible anyway
//! (idempotent).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Datelike, Duration, NaiveDate};
use hostdesk_core::billing::{
    apply_client_credit, decide_tax, format_issue_number, local_date, local_day_start,
    recurring_line, usage_lines, BillingCycle, Buyer, LineDraft, UsageRate,
};
use hostdesk_core::catalog::{Period, Resource};
use hostdesk_store::{clients, invoices, subscriptions, Connection};
use serde::{Deserialize, Serialize};

use super::{currency, money, seller};
use crate::{AppError, Ctx, ErrorCode, Result, Workspace};

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct BillRunOptions {
    /// Bill what is due on or before this date (YYYY-MM-DD, each client's local calendar);
    /// default: each client's today.
    pub through: Option<String>,
    /// Compute and report what would be issued, write nothing.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct IssuedInvoice {
    pub invoice_id: i64,
    pub number: String,
    pub client_id: i64,
    pub client_name: String,
    pub billing_date: String,
    pub currency: String,
    pub lines: i64,
    pub total_minor: i64,
    pub total: String,
}

#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BillRunReport {
    pub dry_run: bool,
    /// Clients with something due.
    pub clients_due: i64,
    pub clients_billed: i64,
    pub invoices: Vec<IssuedInvoice>,
    pub lines: i64,
    /// Stopped before the end (the billed clients stay billed; run again to finish).
    pub cancelled: bool,
}

/// Clients billed per transaction.
const BATCH: usize = 250;

fn parse_date(s: &str, field: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("'{s}' is not a date (YYYY-MM-DD)")))
}

/// Runs the bill. `progress(done, total)` after each client; `cancel` is checked between clients.
pub fn run(
    ws: &mut Workspace,
    opts: &BillRunOptions,
    cancel: &AtomicBool,
    mut progress: impl FnMut(u64, u64),
) -> Result<BillRunReport> {
    let through = opts
        .through
        .as_deref()
        .map(|t| parse_date(t, "through"))
        .transpose()?;
    let seller = seller::load(ws.conn())?;
    let now = ws.clock().now();
    // Each client's "today" is within a day of UTC's: the widest bound finds every candidate.
    let bound = through
        .unwrap_or(now.date_naive() + Duration::days(1))
        .to_string();
    let candidates = subscriptions::clients_due(ws.conn(), &bound)?;
    let mut report = BillRunReport {
        dry_run: opts.dry_run,
        clients_due: candidates.len() as i64,
        ..Default::default()
    };
    if opts.dry_run {
        ws.conn().execute_batch("SAVEPOINT dry_run")?;
    }
    let total = candidates.len() as u64;
    let mut outcome = Ok(());
    let mut done = 0u64;
    // Clients are billed in batches, each one transaction: a batch lands whole or not at all
    // (one commit per client would spend the run writing the WAL).
    for batch in candidates.chunks(BATCH) {
        if cancel.load(Ordering::SeqCst) {
            report.cancelled = true;
            break;
        }
        let result = ws.write(|tx, ctx| {
            let mut issued = Vec::new();
            for &client_id in batch {
                let one = bill_client(tx, ctx, &seller, client_id, through, now).map_err(|e| {
                    AppError::new(e.code, format!("client {client_id}: {}", e.message))
                })?;
                issued.push(one);
            }
            Ok(issued)
        });
        match result {
            Ok(per_client) => {
                for issued in per_client {
                    if !issued.is_empty() {
                        report.clients_billed += 1;
                    }
                    report.lines += issued.iter().map(|i| i.lines).sum::<i64>();
                    report.invoices.extend(issued);
                    done += 1;
                    progress(done, total);
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    if opts.dry_run {
        ws.conn()
            .execute_batch("ROLLBACK TO dry_run; RELEASE dry_run")?;
    }
    outcome.map(|_| report)
}

fn bill_client(
    tx: &Connection,
    ctx: &Ctx,
    seller: &seller::Seller,
    client_id: i64,
    through: Option<NaiveDate>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<IssuedInvoice>> {
    let client = clients::get(tx, client_id)?;
    let tz: chrono_tz::Tz = client.timezone.parse().map_err(|_| {
        AppError::new(
            ErrorCode::Database,
            format!("bad time zone '{}'", client.timezone),
        )
    })?;
    let today = local_date(now, tz);
    let through = through.unwrap_or(today);
    let buyer_country = client
        .country
        .clone()
        .unwrap_or_else(|| seller.country.clone());
    let tax = decide_tax(
        &seller.country,
        &Buyer {
            country: &buyer_country,
            is_business: client.kind == "company",
            tax_id: Some(client.tax_id.as_str()).filter(|t| !t.is_empty()),
        },
    )?;
    let tax_note: Vec<String> = tax.note().map(|n| vec![n.to_string()]).unwrap_or_default();
    let buyer = serde_json::json!({
        "name": client.name, "address": client.address, "country": client.country,
        "taxId": client.tax_id, "email": client.email,
    })
    .to_string();
    let utc_start = |d: NaiveDate| -> Result<String> {
        Ok(local_day_start(d, tz)?.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };

    let mut groups: BTreeMap<(NaiveDate, String), Vec<(LineDraft, i64)>> = BTreeMap::new();
    for s in subscriptions::due_for_billing(tx, client_id, &through.to_string())? {
        let period: Period = s
            .period
            .parse()
            .map_err(|m: String| AppError::new(ErrorCode::Database, m))?;
        let anchor = s.anchor_day as u32;
        let started = parse_date(&s.started_on, "startedOn")?;
        let price = match s.renewal_price_minor {
            Some(p) => {
                subscriptions::adopt_renewal_price(tx, s.id, &ctx.at)?;
                money(p, &s.currency)?
            }
            None => money(s.price_minor, &s.currency)?,
        };
        let mut next = parse_date(&s.next_due_on, "nextDueOn")?;
        while next <= through {
            let cycle = BillingCycle::starting_on(next, anchor, period)?;
            let p = cycle.period_containing(next)?;
            let mut lines = vec![recurring_line(s.id, &p, &s.label, price, tax.rate_bps)?];
            // Usage is billed in arrears: the period that ends where this one starts.
            if started < next && !s.rates.is_empty() {
                let prev = cycle.period_containing(next - Duration::days(1))?;
                let usage = invoices::usage_in(
                    tx,
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
        subscriptions::advance_due(tx, s.id, &next.to_string(), &ctx.at)?;
    }

    let mut issued = Vec::new();
    for ((date, code), lines) in groups {
        let (invoice_id, created) =
            invoices::draft_for(tx, client_id, &date.to_string(), &code, &ctx.at)?;
        // ON CONFLICT (key) DO NOTHING: a line billed before is not added again
        let (mut added, mut net, mut tax, mut total) = (0i64, 0i64, 0i64, 0i64);
        for (l, sub) in &lines {
            if invoices::add_line(tx, invoice_id, &new_line(l, Some(*sub)))? {
                added += 1;
                net += l.net.minor;
                tax += l.tax.minor;
                total += l.total.minor;
            }
        }
        if added == 0 {
            invoices::delete_empty_draft(tx, invoice_id)?;
            continue;
        }
        if created {
            invoices::set_totals(tx, invoice_id, net, tax, total)?;
        } else {
            invoices::refresh_totals(tx, invoice_id, &ctx.at)?;
            total = invoices::get(tx, invoice_id)?.total_minor;
        }
        let seq = invoices::next_number(tx, &seller.invoice_series, today.year())?;
        let number = format_issue_number(&seller.invoice_series, today.year(), seq)?;
        let due_on = (today + Duration::days(seller.payment_terms_days)).to_string();
        let notes: Vec<String> = tax_note.clone();
        invoices::issue(tx, invoice_id, &number, &ctx.at, &due_on, &notes, &buyer)?;
        apply_credit(tx, ctx, client_id, invoice_id, &code, total)?;
        ctx.audit(
            tx,
            "invoice",
            Some(invoice_id),
            "issue",
            None::<&()>,
            Some(&number),
        )?;
        issued.push(IssuedInvoice {
            invoice_id,
            number,
            client_id,
            client_name: client.name.clone(),
            billing_date: date.to_string(),
            currency: code.clone(),
            lines: added,
            total_minor: total,
            total: money(total, &code)?.amount_string(),
        });
    }
    Ok(issued)
}

/// A client's credit balance pays what it can of a new invoice.
fn apply_credit(
    tx: &Connection,
    ctx: &Ctx,
    client_id: i64,
    invoice_id: i64,
    code: &str,
    total: i64,
) -> Result<()> {
    let balance = invoices::credit_balance(tx, client_id, code)?;
    if balance <= 0 || total <= 0 {
        return Ok(());
    }
    let inv = invoices::get(tx, invoice_id)?;
    let c = currency(&inv.currency)?;
    let a = apply_client_credit(
        hostdesk_core::Money::new(inv.total_minor, c),
        hostdesk_core::Money::new(inv.paid_minor, c),
        hostdesk_core::Money::new(balance, c),
    )?;
    if a.applied.minor > 0 {
        invoices::record_payment(
            tx,
            &invoices::NewPayment {
                client_id: inv.client_id,
                invoice_id: Some(inv.id),
                method: "credit",
                reference: "client credit balance",
                amount_minor: a.applied.minor,
                currency: &inv.currency,
                state: "succeeded",
                key: &format!("credit:{}", inv.id),
            },
            &ctx.at,
        )?;
        invoices::add_credit(tx, inv.client_id, &inv.currency, -a.applied.minor)?;
        invoices::set_status(
            tx,
            inv.id,
            super::invoices::status_text(a.status),
            a.paid_after.minor,
            &ctx.at,
        )?;
    }
    Ok(())
}

pub(crate) fn new_line(l: &LineDraft, subscription_id: Option<i64>) -> invoices::NewLine<'_> {
    invoices::NewLine {
        key: &l.key,
        subscription_id,
        kind: l.kind.as_str(),
        description: &l.description,
        period_from: l.period_from.to_string(),
        period_to: l.period_to.to_string(),
        quantity: l.quantity,
        unit_price_minor: l.unit_price.minor,
        net_minor: l.net.minor,
        tax_rate_bps: i64::from(l.tax_rate_bps),
        tax_minor: l.tax.minor,
        total_minor: l.total.minor,
        facts: l.usage.as_ref().and_then(|u| serde_json::to_string(u).ok()),
        flagged: l.kind == hostdesk_core::billing::LineKind::LateUsage,
    }
}
