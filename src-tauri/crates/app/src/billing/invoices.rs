//! Invoice use cases: list, show, void, record a manual payment, create a credit note.

use chrono::Datelike;
use hostdesk_core::billing::{
    allocate_payment, draft_credit_note, format_issue_number, CreditAmount, CreditRequest,
    CreditableLine, LineDraft, LineKind, PaymentStatus,
};
use hostdesk_core::Money;
use hostdesk_store::invoices::{self, CreditNote, Invoice, Line, Payment};
use serde::{Deserialize, Serialize};

use super::{currency, money, seller};
use crate::{AppError, ErrorCode, Result, Workspace};

pub(crate) fn status_text(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Unpaid => "issued",
        PaymentStatus::PartiallyPaid => "partially_paid",
        PaymentStatus::Paid => "paid",
    }
}

/// An invoice with its amounts written out (the UI never formats money itself).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    pub invoice: Invoice,
    pub net: String,
    pub tax: String,
    pub total: String,
    pub paid: String,
    pub balance: String,
}

fn view(invoice: Invoice) -> Result<InvoiceView> {
    let m = |v: i64| money(v, &invoice.currency).map(|m| m.amount_string());
    Ok(InvoiceView {
        net: m(invoice.net_minor)?,
        tax: m(invoice.tax_minor)?,
        total: m(invoice.total_minor)?,
        paid: m(invoice.paid_minor)?,
        balance: m(invoice.total_minor - invoice.paid_minor)?,
        invoice,
    })
}

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct InvoiceFilter {
    pub status: Option<String>,
    pub client_id: Option<i64>,
    /// Billing dates from / to (YYYY-MM-DD).
    pub from: Option<String>,
    pub to: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

pub const STATUSES: &[&str] = &["draft", "issued", "partially_paid", "paid", "void"];

pub fn list(ws: &Workspace, f: &InvoiceFilter) -> Result<Vec<InvoiceView>> {
    if let Some(s) = &f.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(AppError::invalid(
                "status",
                format!("'{s}' is not one of: {}", STATUSES.join(", ")),
            ));
        }
    }
    let limit = if f.limit <= 0 { 100 } else { f.limit.min(1000) };
    invoices::list(
        ws.conn(),
        f.status.as_deref(),
        f.client_id,
        f.from.as_deref(),
        f.to.as_deref(),
        f.offset.max(0),
        limit,
    )?
    .into_iter()
    .map(view)
    .collect()
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDetail {
    pub view: InvoiceView,
    pub lines: Vec<Line>,
    pub payments: Vec<Payment>,
    pub credit_notes: Vec<CreditNote>,
    /// What the credit notes gave back to the card(s) that paid.
    pub refunds: Vec<hostdesk_store::refunds::Refund>,
}

/// By id or by number (`INV-2026-000001`).
pub fn find(ws: &Workspace, id_or_number: &str) -> Result<Invoice> {
    Ok(match id_or_number.parse::<i64>() {
        Ok(id) => invoices::get(ws.conn(), id)?,
        Err(_) => invoices::by_number(ws.conn(), id_or_number)?,
    })
}

pub fn show(ws: &Workspace, id_or_number: &str) -> Result<InvoiceDetail> {
    let inv = find(ws, id_or_number)?;
    Ok(InvoiceDetail {
        lines: invoices::lines(ws.conn(), inv.id)?,
        payments: invoices::payments(ws.conn(), inv.id)?,
        credit_notes: invoices::credit_notes(ws.conn(), inv.id)?,
        refunds: hostdesk_store::refunds::for_invoice(ws.conn(), inv.id)?,
        view: view(inv)?,
    })
}

/// Voids an issued invoice nothing was paid on. Its number stays used (no gap, no reuse).
pub fn void(ws: &mut Workspace, id_or_number: &str) -> Result<InvoiceView> {
    let inv = find(ws, id_or_number)?;
    if inv.status != "issued" || inv.paid_minor != 0 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("invoice {} is {} with {} paid: only an unpaid issued invoice can be void; correct it with a credit note",
                inv.number.as_deref().unwrap_or("(draft)"), inv.status, inv.paid_minor),
        ));
    }
    ws.write(|tx, ctx| {
        invoices::set_status(tx, inv.id, "void", 0, &ctx.at)?;
        ctx.audit(
            tx,
            "invoice",
            Some(inv.id),
            "void",
            Some(&inv.status),
            Some(&"void"),
        )?;
        view(invoices::get(tx, inv.id)?)
    })
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOutcome {
    pub payment_id: i64,
    pub status: String,
    pub applied: String,
    /// What was paid beyond the balance, now on the client's credit.
    pub overpayment: String,
    pub balance: String,
}

/// Records a manual payment (bank transfer, cash) with its reference. The same reference on
/// the same invoice is recorded once. Overpayment goes to the client's credit balance.
pub fn record_payment(
    ws: &mut Workspace,
    id_or_number: &str,
    amount: &str,
    reference: &str,
) -> Result<PaymentOutcome> {
    let inv = find(ws, id_or_number)?;
    if !["issued", "partially_paid"].contains(&inv.status.as_str()) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("invoice is {}: nothing to pay", inv.status),
        ));
    }
    if reference.trim().is_empty() {
        return Err(AppError::invalid(
            "reference",
            "is required (the bank transfer or receipt reference)",
        ));
    }
    let c = currency(&inv.currency)?;
    let amount = Money::parse(amount, c).map_err(|m| AppError::invalid("amount", m))?;
    let a = allocate_payment(
        Money::new(inv.total_minor, c),
        Money::new(inv.paid_minor, c),
        amount,
    )?;
    ws.write(|tx, ctx| {
        let key = format!("manual:{}:{}", inv.id, reference.trim());
        let (id, created) = invoices::record_payment(
            tx,
            &invoices::NewPayment {
                client_id: inv.client_id,
                invoice_id: Some(inv.id),
                method: "manual",
                reference: reference.trim(),
                amount_minor: amount.minor,
                currency: &inv.currency,
                state: "succeeded",
                key: &key,
            },
            &ctx.at,
        )?;
        if !created {
            return Err(AppError::new(
                ErrorCode::Conflict,
                format!(
                    "a payment with reference '{}' is already recorded on this invoice",
                    reference.trim()
                ),
            ));
        }
        invoices::set_status(
            tx,
            inv.id,
            status_text(a.status),
            a.paid_after.minor,
            &ctx.at,
        )?;
        if a.overpayment.minor > 0 {
            invoices::add_credit(tx, inv.client_id, &inv.currency, a.overpayment.minor)?;
        }
        // A paid order starts provisioning; a paid overdue invoice leaves dunning.
        super::settle::after_payment(tx, ctx, inv.id)?;
        ctx.audit(
            tx,
            "invoice",
            Some(inv.id),
            "payment",
            None::<&()>,
            Some(&(amount.to_string(), reference)),
        )?;
        Ok(PaymentOutcome {
            payment_id: id,
            status: status_text(a.status).into(),
            applied: a.applied.amount_string(),
            overpayment: a.overpayment.amount_string(),
            balance: a.balance_due.amount_string(),
        })
    })
}

fn line_draft(l: &Line, code: &str) -> Result<LineDraft> {
    let d = |s: &Option<String>| -> Result<chrono::NaiveDate> {
        s.as_deref()
            .and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
            .ok_or_else(|| {
                AppError::new(ErrorCode::Database, format!("line {} has no period", l.key))
            })
    };
    Ok(LineDraft {
        kind: l
            .kind
            .parse::<LineKind>()
            .map_err(|e| AppError::new(ErrorCode::Database, e.to_string()))?,
        description: l.description.clone(),
        period_from: d(&l.period_from)?,
        period_to: d(&l.period_to)?,
        quantity: l.quantity,
        unit_price: money(l.unit_price_minor, code)?,
        net: money(l.net_minor, code)?,
        tax_rate_bps: l.tax_rate_bps as u32,
        tax: money(l.tax_minor, code)?,
        total: money(l.total_minor, code)?,
        key: l.key.clone(),
        usage: l
            .facts
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok()),
    })
}

/// Which part of which line to credit: a line key, and a net amount (None: all that remains).
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CreditLineRequest {
    pub line_key: String,
    pub amount: Option<String>,
}

/// A credit note as issued, with where its amount went.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCreditNote {
    #[serde(flatten)]
    pub note: CreditNote,
    pub settlement: super::refund::Settlement,
}

/// Issues a credit note against an issued invoice, mirroring its lines and their stored tax
/// rates, never more than remains creditable (`lines` empty: everything that remains; else
/// line keys with optional net amounts), and settles it in the same transaction: what is still due on the invoice first, the rest to
/// the client's credit balance or, with `refund`, back to the card(s) that paid the invoice.
pub fn credit_note(
    ws: &mut Workspace,
    id_or_number: &str,
    reason: &str,
    lines: &[CreditLineRequest],
    refund: bool,
) -> Result<IssuedCreditNote> {
    let inv = find(ws, id_or_number)?;
    if !["issued", "partially_paid", "paid"].contains(&inv.status.as_str()) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "invoice is {}: only issued invoices get credit notes",
                inv.status
            ),
        ));
    }
    if reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "is required"));
    }
    let seller = seller::load(ws.conn())?;
    let c = currency(&inv.currency)?;
    let stored = invoices::lines(ws.conn(), inv.id)?;
    let credited = invoices::credited_by_line(ws.conn(), inv.id)?;
    let creditable: Vec<CreditableLine> = stored
        .iter()
        .filter(|l| l.net_minor > 0)
        .map(|l| {
            let (_, net, tax) = credited
                .iter()
                .find(|(id, _, _)| *id == l.id)
                .copied()
                .unwrap_or((l.id, 0, 0));
            // credit note lines are stored negative; the core counts credited amounts positive
            Ok(CreditableLine {
                line: line_draft(l, &inv.currency)?,
                credited_net: Money::new(-net, c),
                credited_tax: Money::new(-tax, c),
            })
        })
        .collect::<Result<_>>()?;
    let requests: Vec<CreditRequest> = if lines.is_empty() {
        creditable
            .iter()
            .filter(|l| l.credited_net.minor < l.line.net.minor)
            .map(|l| CreditRequest {
                line_key: l.line.key.clone(),
                amount: CreditAmount::Remaining,
            })
            .collect()
    } else {
        lines
            .iter()
            .map(|r| {
                Ok(CreditRequest {
                    line_key: r.line_key.clone(),
                    amount: match &r.amount {
                        None => CreditAmount::Remaining,
                        Some(a) => CreditAmount::Net(
                            Money::parse(a, c).map_err(|m| AppError::invalid("amount", m))?,
                        ),
                    },
                })
            })
            .collect::<Result<_>>()?
    };
    if requests.is_empty() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "everything on this invoice has been credited already",
        ));
    }
    let number_of = inv.number.clone().unwrap_or_default();
    let draft = draft_credit_note(&number_of, reason, &creditable, &requests)?;
    ws.write(|tx, ctx| {
        let year = ws_year(&ctx.at);
        let seq = invoices::next_number(tx, &seller.credit_note_series, year)?;
        let number = format_issue_number(&seller.credit_note_series, year, seq)?;
        let t = &draft.totals;
        let id = invoices::insert_credit_note(
            tx,
            inv.id,
            &number,
            reason.trim(),
            (t.net.minor, t.tax.minor, t.total.minor),
            &ctx.at,
        )?;
        for l in &draft.lines {
            let original = stored
                .iter()
                .find(|s| s.key == l.credits_key)
                .ok_or_else(|| AppError::new(ErrorCode::Internal, "credited line vanished"))?;
            invoices::insert_credit_note_line(
                tx,
                id,
                original.id,
                &l.line.description,
                l.line.net.minor,
                i64::from(l.line.tax_rate_bps),
                l.line.tax.minor,
                l.line.total.minor,
            )?;
        }
        ctx.audit(
            tx,
            "invoice",
            Some(inv.id),
            "credit_note",
            None::<&()>,
            Some(&number),
        )?;
        let settlement = super::refund::settle_credit_note(
            tx,
            ctx,
            inv.id,
            (id, &number),
            // stored negative, like its lines
            -t.total.minor,
            refund,
        )?;
        let note = invoices::credit_notes(tx, inv.id)?
            .into_iter()
            .find(|n| n.id == id)
            .ok_or_else(|| AppError::new(ErrorCode::Internal, "credit note vanished"))?;
        Ok(IssuedCreditNote { note, settlement })
    })
}

fn ws_year(at: &str) -> i32 {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.year())
        .unwrap_or(1970)
}
