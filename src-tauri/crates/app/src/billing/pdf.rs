//! An invoice as a PDF an accountant accepts: seller and buyer with tax ids, lines, the tax
//! breakdown, totals, due date and payment instructions. Rendered offline from the stored,
//! immutable invoice (the buyer as snapshotted at issue), so it is the same document every time.

use std::collections::BTreeMap;

use chrono::Datelike;
use hostdesk_pdf::{DocLine, InvoiceDocument, Party, PdfDate, TaxBreakdownRow, Totals};

use super::{invoices, money, seller};
use crate::{AppError, ErrorCode, Result, Workspace};

fn rate_text(bps: i64) -> String {
    let (whole, frac) = (bps / 100, bps % 100);
    if frac == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}.{frac:02}%").replace("0%", "%")
    }
}

/// Renders an issued invoice (by id or number) to PDF bytes.
pub fn invoice_pdf(ws: &Workspace, id_or_number: &str) -> Result<Vec<u8>> {
    let d = invoices::show(ws, id_or_number)?;
    let inv = &d.view.invoice;
    let number = inv
        .number
        .clone()
        .ok_or_else(|| AppError::new(ErrorCode::Conflict, "a draft has no PDF: issue it first"))?;
    let s = seller::load(ws.conn())?;
    let code = inv.currency.as_str();
    let m = |v: i64| money(v, code).map(|m| m.amount_string());
    let buyer: serde_json::Value = serde_json::from_str(&inv.buyer).unwrap_or_default();
    let text = |k: &str| {
        buyer[k]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let issued = inv
        .issued_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let created = issued
        .map(|t| PdfDate {
            year: t.year() as u16,
            month: t.month() as u8,
            day: t.day() as u8,
            hour: 0,
            minute: 0,
            second: 0,
        })
        .unwrap_or(PdfDate::ymd(1970, 1, 1));
    let mut breakdown: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for l in &d.lines {
        let e = breakdown.entry(l.tax_rate_bps).or_default();
        e.0 += l.net_minor;
        e.1 += l.tax_minor;
    }
    let doc = InvoiceDocument {
        number: number.clone(),
        issue_date: issued
            .map(|t| t.date_naive().to_string())
            .unwrap_or_default(),
        due_date: inv.due_on.clone(),
        period: None,
        currency: inv.currency.clone(),
        seller: Party {
            name: s.name.clone(),
            address_lines: s.address.lines().map(str::to_string).collect(),
            country: Some(s.country.clone()),
            tax_id: Some(s.tax_id.clone()).filter(|t| !t.is_empty()),
            email: Some(s.email.clone()).filter(|t| !t.is_empty()),
            extra_lines: Vec::new(),
        },
        buyer: Party {
            name: text("name").unwrap_or_else(|| inv.client_name.clone()),
            address_lines: text("address")
                .map(|a| a.lines().map(str::to_string).collect())
                .unwrap_or_default(),
            country: text("country"),
            tax_id: text("taxId"),
            email: text("email"),
            extra_lines: Vec::new(),
        },
        lines: d
            .lines
            .iter()
            .map(|l| {
                Ok(DocLine {
                    description: l.description.clone(),
                    period: match (&l.period_from, &l.period_to) {
                        (Some(f), Some(t)) if f != t => Some(format!("{f} to {t}")),
                        _ => None,
                    },
                    quantity: l.quantity.to_string(),
                    unit_price: m(l.unit_price_minor)?,
                    net: m(l.net_minor)?,
                    tax_rate: rate_text(l.tax_rate_bps),
                    tax: m(l.tax_minor)?,
                    total: m(l.total_minor)?,
                })
            })
            .collect::<Result<_>>()?,
        tax_breakdown: breakdown
            .into_iter()
            .map(|(bps, (net, tax))| {
                Ok(TaxBreakdownRow {
                    rate: rate_text(bps),
                    net: m(net)?,
                    tax: m(tax)?,
                })
            })
            .collect::<Result<_>>()?,
        totals: Totals {
            net: d.view.net.clone(),
            tax: d.view.tax.clone(),
            total: d.view.total.clone(),
            paid: (inv.paid_minor != 0).then(|| d.view.paid.clone()),
            due: d.view.balance.clone(),
        },
        payment_instructions: s
            .payment_instructions
            .lines()
            .map(str::to_string)
            .chain(std::iter::once(format!("Reference: {number}")))
            .collect(),
        notes: inv.notes.clone(),
        footer: Some(format!("{} · {}", s.name, s.tax_id)),
        created,
        ..Default::default()
    };
    hostdesk_pdf::render(&doc)
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("cannot render the PDF: {e}")))
}
