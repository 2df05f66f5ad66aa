//! The bill run: every client with a subscription due on or before the run's date gets one
//! consolidated invoice per billing date (and currency), issued with a gapless number.
//!
//! One batch of clients = one transaction: their lines, their invoices' numbers and their
//! subscriptions' next due dates land together or not at all. So a crash or a kill at any moment
//! leaves every client either billed or not, a re-run bills only who is left (resumable), and
//! line keys (subscription, period, kind) make adding a line twice impossible anyway
//! (idempotent).
//!
//! In its transaction, a batch is planned first (`plan`: its clients, their due subscriptions
//! and usage, read in a few queries, and the lines computed), then written: the subscriptions'
//! next due dates, drafts with their lines, the batch's invoice numbers taken from the series in
//! one step, the invoices issued in order.

mod plan;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Datelike, Duration, NaiveDate};
use hostdesk_core::billing::{apply_client_credit, format_issue_number, LineDraft};
use hostdesk_store::{invoices, subscriptions, Connection};
use plan::{plan_batch, with_client, Billed, ClientPlan};
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

/// Clients billed per transaction: a quarter of the clients due, at least 1,000, at most
/// 50,000. A commit writes every page its batch touched, and those pages are scattered (each
/// billed subscription's row, the line key index): past a few thousand clients a batch touches
/// most of them, so what the commits cost is set by how many batches there are, not by their
/// size (at 250 clients per batch the run spent most of its time committing).
fn batch_size(clients_due: usize) -> usize {
    clients_due.div_ceil(4).clamp(1_000, 50_000)
}

/// The page cache of the run, in KiB (a connection's own is 32 MB): the subscriptions, the line
/// key index and the usage index stay in memory from one batch to the next.
const RUN_CACHE_KIB: i64 = 128 * 1024;

fn parse_date(s: &str, field: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("'{s}' is not a date (YYYY-MM-DD)")))
}

/// Runs the bill. `progress(done, total)` after each client; `cancel` is checked between
/// batches of clients.
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
    // ascending: a batch is a range of client ids, read in a few queries
    let mut candidates = subscriptions::clients_due(ws.conn(), &bound)?;
    candidates.sort_unstable();
    candidates.dedup();
    let mut report = BillRunReport {
        dry_run: opts.dry_run,
        clients_due: candidates.len() as i64,
        ..Default::default()
    };
    if opts.dry_run {
        ws.conn().execute_batch("SAVEPOINT dry_run")?;
    }
    let cache: i64 = ws.conn().query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    ws.conn()
        .execute_batch(&format!("PRAGMA cache_size = -{RUN_CACHE_KIB}"))?;
    let total = candidates.len() as u64;
    let mut outcome = Ok(());
    let mut done = 0u64;
    // Clients are billed in batches, each one transaction: a batch lands whole or not at all.
    for batch in candidates.chunks(batch_size(candidates.len())) {
        if cancel.load(Ordering::SeqCst) {
            report.cancelled = true;
            break;
        }
        let result = ws.write(|tx, ctx| {
            let plans = plan_batch(tx, &seller, batch, through, &bound, now)?;
            write_batch(tx, ctx, &seller, plans)
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
    ws.conn()
        .execute_batch(&format!("PRAGMA cache_size = {cache}"))?;
    outcome.map(|_| report)
}

/// A draft of this batch waiting for its number.
struct Drafted {
    /// The client's place in the batch.
    slot: usize,
    invoice_id: i64,
    /// A draft this run created (its totals are the lines it added), or one found.
    created: bool,
    date: NaiveDate,
    currency: String,
    lines: i64,
    net: i64,
    tax: i64,
    total: i64,
}

/// Writes a batch's plans (in the caller's transaction): what each client was issued, in the
/// batch's order.
fn write_batch(
    tx: &Connection,
    ctx: &Ctx,
    seller: &seller::Seller,
    plans: Vec<ClientPlan>,
) -> Result<Vec<Vec<IssuedInvoice>>> {
    let ids = plans.iter().map(|p| p.billed.client_id);
    let (Some(first), Some(last)) = (ids.clone().min(), ids.max()) else {
        return Ok(Vec::new());
    };
    let drafts: HashMap<(i64, String, String), i64> = invoices::drafts_between(tx, first, last)?
        .into_iter()
        .map(|d| ((d.client_id, d.billing_date, d.currency), d.id))
        .collect();
    let credit: HashSet<(i64, String)> = invoices::credit_between(tx, first, last)?
        .into_iter()
        .collect();

    let mut billed = Vec::with_capacity(plans.len());
    let mut drafted = Vec::new();
    // The batch's subscriptions advanced per next due date, a statement each.
    let mut advance: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (slot, plan) in plans.into_iter().enumerate() {
        let client_id = plan.billed.client_id;
        for (sub, at) in &plan.late_done {
            hostdesk_store::late_usage::clear(tx, *sub, at)?;
        }
        for (id, next_due_on, adopt_renewal_price) in plan.advance {
            if adopt_renewal_price {
                subscriptions::adopt_renewal_price(tx, id, &ctx.at)
                    .map_err(|e| with_client(client_id)(e.into()))?;
            }
            advance.entry(next_due_on).or_default().push(id);
        }
        draft_client(tx, ctx, client_id, plan.groups, &drafts, slot, &mut drafted)
            .map_err(with_client(client_id))?;
        billed.push(plan.billed);
    }
    for (next_due_on, ids) in &advance {
        subscriptions::advance_due_many(tx, ids, next_due_on, &ctx.at)?;
    }

    // The batch's numbers, taken from the series at once per year: gapless, since every one of
    // them is given below in this transaction.
    let mut next: BTreeMap<i32, u64> = BTreeMap::new();
    for d in &drafted {
        *next.entry(billed[d.slot].today.year()).or_default() += 1;
    }
    for (year, count) in next.iter_mut() {
        *count = invoices::reserve_numbers(tx, &seller.invoice_series, *year, *count)?;
    }

    let mut issued: Vec<Vec<IssuedInvoice>> = billed.iter().map(|_| Vec::new()).collect();
    for d in drafted {
        let b = &billed[d.slot];
        let one = issue_draft(tx, ctx, seller, b, &d, &mut next, &credit)
            .map_err(with_client(b.client_id))?;
        issued[d.slot].push(one);
    }
    Ok(issued)
}

/// One client's lines stored on drafts (one per billing date and currency), which wait in
/// `drafted` for their numbers.
fn draft_client(
    tx: &Connection,
    ctx: &Ctx,
    client_id: i64,
    groups: BTreeMap<(NaiveDate, String), Vec<(LineDraft, i64)>>,
    drafts: &HashMap<(i64, String, String), i64>,
    slot: usize,
    drafted: &mut Vec<Drafted>,
) -> Result<()> {
    for ((date, code), lines) in groups {
        let billing_date = date.to_string();
        let found = match drafts.is_empty() {
            true => None, // the usual case: no draft is waiting
            false => drafts
                .get(&(client_id, billing_date.clone(), code.clone()))
                .copied(),
        };
        let (invoice_id, created) = match found {
            Some(id) => (id, false),
            None => (
                invoices::insert_draft(tx, client_id, &billing_date, &code, &ctx.at)?,
                true,
            ),
        };
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
        drafted.push(Drafted {
            slot,
            invoice_id,
            created,
            date,
            currency: code,
            lines: added,
            net,
            tax,
            total,
        });
    }
    Ok(())
}

/// Numbers and issues a draft of this batch, lets the client's credit pay what it can, and
/// records it in the audit log.
fn issue_draft(
    tx: &Connection,
    ctx: &Ctx,
    seller: &seller::Seller,
    b: &Billed,
    d: &Drafted,
    next: &mut BTreeMap<i32, u64>,
    credit: &HashSet<(i64, String)>,
) -> Result<IssuedInvoice> {
    let year = b.today.year();
    let seq = next
        .get_mut(&year)
        .map(|n| {
            *n += 1;
            *n - 1
        })
        .ok_or_else(|| AppError::new(ErrorCode::Database, "no number reserved"))?;
    let number = format_issue_number(&seller.invoice_series, year, seq)?;
    let due_on = (b.today + Duration::days(seller.payment_terms_days)).to_string();
    let total = if d.created {
        invoices::issue_with_totals(
            tx,
            d.invoice_id,
            &invoices::Issue {
                number: &number,
                issued_at: &ctx.at,
                due_on: &due_on,
                notes_json: &b.notes,
                buyer: &b.buyer,
                net_minor: d.net,
                tax_minor: d.tax,
                total_minor: d.total,
            },
        )?;
        d.total
    } else {
        // a draft found: its totals are the sum of all its lines, old and new
        invoices::refresh_totals(tx, d.invoice_id, &ctx.at)?;
        let notes: Vec<String> = serde_json::from_str(&b.notes).unwrap_or_default();
        invoices::issue(
            tx,
            d.invoice_id,
            &number,
            &ctx.at,
            &due_on,
            &notes,
            &b.buyer,
        )?;
        invoices::get(tx, d.invoice_id)?.total_minor
    };
    if credit.contains(&(b.client_id, d.currency.clone())) {
        apply_credit(tx, ctx, b.client_id, d.invoice_id, &d.currency, total)?;
    }
    ctx.audit(
        tx,
        "invoice",
        Some(d.invoice_id),
        "issue",
        None::<&()>,
        Some(&number),
    )?;
    Ok(IssuedInvoice {
        invoice_id: d.invoice_id,
        number,
        client_id: b.client_id,
        client_name: b.name.clone(),
        billing_date: d.date.to_string(),
        currency: d.currency.clone(),
        lines: d.lines,
        total_minor: total,
        total: money(total, &d.currency)?.amount_string(),
    })
}

/// A client's credit balance pays what it can of a new invoice.
pub(crate) fn apply_credit(
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
        super::refund::pay_by_credit(
            tx,
            ctx,
            &inv,
            (a.applied, a.status, a.paid_after),
            "client credit balance",
            &format!("credit:{}", inv.id),
        )?;
        invoices::add_credit(tx, inv.client_id, &inv.currency, -a.applied.minor)?;
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
