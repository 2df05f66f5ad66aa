//! Issuing an invoice outside the bill run: the first invoice of an order, the credit and charge
//! of an upgrade. The lines come from the core's rules; here they are stored on a draft, summed,
//! numbered (gapless, in the caller's transaction) and issued, and the client's credit balance
//! pays what it can.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use hostdesk_core::billing::{decide_tax, local_date, Buyer, LineDraft, TaxDecision};
use hostdesk_store::clients::Client;
use hostdesk_store::{invoices, Connection};

use super::bill_run::{apply_credit, new_line, IssuedInvoice};
use super::{money, seller::Seller};
use crate::{AppError, Ctx, ErrorCode, Result};

/// What an invoice for this client needs to know: its tax treatment, the buyer snapshot and its
/// local today.
pub(crate) struct ClientBilling {
    pub tax: TaxDecision,
    pub notes: Vec<String>,
    /// The client as invoiced (JSON).
    pub buyer: String,
    pub today: NaiveDate,
    /// The client's time zone (periods are its calendar days).
    pub tz: Tz,
}

pub(crate) fn client_billing(
    client: &Client,
    seller: &Seller,
    now: DateTime<Utc>,
) -> Result<ClientBilling> {
    let tz: Tz = client.timezone.parse().map_err(|_| {
        AppError::new(
            ErrorCode::Database,
            format!("bad time zone '{}'", client.timezone),
        )
    })?;
    let country = client
        .country
        .clone()
        .unwrap_or_else(|| seller.country.clone());
    let tax = decide_tax(
        &seller.country,
        &Buyer {
            country: &country,
            is_business: client.kind == "company",
            tax_id: Some(client.tax_id.as_str()).filter(|t| !t.is_empty()),
        },
    )?;
    let notes = tax.note().map(|n| vec![n.to_string()]).unwrap_or_default();
    let buyer = serde_json::json!({
        "name": client.name, "address": client.address, "country": client.country,
        "taxId": client.tax_id, "email": client.email,
    })
    .to_string();
    Ok(ClientBilling {
        tax,
        notes,
        buyer,
        today: local_date(now, tz),
        tz,
    })
}

/// Stores `lines` on a new invoice dated `billing_date` and issues it. Lines whose key was
/// billed before are skipped; with nothing new, nothing is issued (None).
pub(crate) fn issue_lines(
    tx: &Connection,
    ctx: &Ctx,
    seller: &Seller,
    client: &Client,
    cb: &ClientBilling,
    billing_date: NaiveDate,
    lines: &[(LineDraft, Option<i64>)],
) -> Result<Option<IssuedInvoice>> {
    let code = client.currency.as_str();
    let (invoice_id, _) =
        invoices::draft_for(tx, client.id, &billing_date.to_string(), code, &ctx.at)?;
    let mut added = 0i64;
    for (l, sub) in lines {
        if invoices::add_line(tx, invoice_id, &new_line(l, *sub))? {
            added += 1;
        }
    }
    if added == 0 {
        invoices::delete_empty_draft(tx, invoice_id)?;
        return Ok(None);
    }
    invoices::refresh_totals(tx, invoice_id, &ctx.at)?;
    let total = invoices::get(tx, invoice_id)?.total_minor;
    let year = cb.today.year();
    let seq = invoices::next_number(tx, &seller.invoice_series, year)?;
    let number = hostdesk_core::billing::format_issue_number(&seller.invoice_series, year, seq)?;
    let due_on = (cb.today + Duration::days(seller.payment_terms_days)).to_string();
    invoices::issue(
        tx, invoice_id, &number, &ctx.at, &due_on, &cb.notes, &cb.buyer,
    )?;
    if total > 0 {
        apply_credit(tx, ctx, client.id, invoice_id, code, total)?;
    } else if total < 0 {
        // A credit worth more than the charge (a downgrade-like change): the invoice is settled
        // and what is left goes to the client's credit balance.
        invoices::set_status(tx, invoice_id, "paid", 0, &ctx.at)?;
        invoices::add_credit(tx, client.id, code, -total)?;
    } else {
        invoices::set_status(tx, invoice_id, "paid", 0, &ctx.at)?;
    }
    ctx.audit(
        tx,
        "invoice",
        Some(invoice_id),
        "issue",
        None::<&()>,
        Some(&number),
    )?;
    Ok(Some(IssuedInvoice {
        invoice_id,
        number,
        client_id: client.id,
        client_name: client.name.clone(),
        billing_date: billing_date.to_string(),
        currency: code.to_string(),
        lines: added,
        total_minor: total,
        total: money(total, code)?.amount_string(),
    }))
}
