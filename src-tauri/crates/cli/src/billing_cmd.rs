//! `hostdesk bill|invoice|payment|credit-note` (`usage` is in `usage_cmd.rs`).

use std::sync::atomic::AtomicBool;

use clap::Subcommand;
use hostdesk_app::billing::bill_run::{self, BillRunOptions};
use hostdesk_app::billing::invoices::{self, CreditLineRequest, InvoiceFilter};
use hostdesk_app::{AppError, Workspace};
use serde_json::json;

use crate::output::{table, Output};

#[derive(Subcommand)]
pub enum BillCmd {
    /// Issue every invoice that is due: one per client and billing date. Idempotent.
    Run {
        /// Bill what is due on or before this date (YYYY-MM-DD); default: today, per client.
        #[arg(long)]
        through: Option<String>,
        /// Show what would be issued; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum InvoiceCmd {
    /// Invoices, newest first.
    List {
        /// draft, issued, partially_paid, paid or void
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        client: Option<i64>,
        /// Billing dates from (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// One invoice with every line (kind, period, quantity, unit price, tax, amounts in minor
    /// units), its payments and credit notes. By id or number.
    Show { invoice: String },
    /// Void an unpaid issued invoice (its number stays used).
    Void { invoice: String },
    /// Write the invoice as a PDF (offline).
    Pdf {
        invoice: String,
        /// Where to write it (default: NUMBER.pdf in the current folder).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum PaymentCmd {
    /// Record a manual payment (bank transfer, cash).
    Record {
        #[arg(long)]
        invoice: String,
        /// e.g. 59.00
        #[arg(long)]
        amount: String,
        /// The transfer or receipt reference.
        #[arg(long)]
        reference: String,
    },
    /// Charge the client's stored payment method for an invoice (queues a payment.charge job).
    Charge {
        #[arg(long)]
        invoice: String,
    },
}

#[derive(Subcommand)]
pub enum CreditNoteCmd {
    /// Credit an issued invoice: every remaining line, or --line KEY[=AMOUNT] (repeat).
    Create {
        #[arg(long)]
        invoice: String,
        #[arg(long)]
        reason: String,
        /// LINE_KEY or LINE_KEY=NET_AMOUNT
        #[arg(long = "line")]
        lines: Vec<String>,
        /// Give what the note credits beyond what is still due back to the card(s) that paid
        /// the invoice (a `payment.refund` job), instead of to the client's credit balance.
        #[arg(long)]
        refund: bool,
    },
}

pub fn bill(ws: &mut Workspace, cmd: BillCmd) -> Result<Output, AppError> {
    let BillCmd::Run { through, dry_run } = cmd;
    let opts = BillRunOptions { through, dry_run };
    let report = bill_run::run(ws, &opts, &AtomicBool::new(false), |done, total| {
        if total >= 200 && (done % (total / 20).max(1) == 0 || done == total) {
            eprintln!("bill run: {done}/{total} clients");
        }
    })?;
    let rows: Vec<Vec<String>> = report
        .invoices
        .iter()
        .map(|i| {
            vec![
                i.number.clone(),
                i.client_name.clone(),
                i.billing_date.clone(),
                format!("{} {}", i.total, i.currency),
                i.lines.to_string(),
            ]
        })
        .collect();
    let text = format!(
        "{}{}\n{} invoices, {} lines for {} of {} clients due{}",
        if dry_run {
            "DRY RUN: nothing was written\n"
        } else {
            ""
        },
        table(&["NUMBER", "CLIENT", "DATE", "TOTAL", "LINES"], &rows),
        report.invoices.len(),
        report.lines,
        report.clients_billed,
        report.clients_due,
        if dry_run { " (would be issued)" } else { "" }
    );
    Ok(Output::new(&report, text))
}

pub fn invoice(ws: &mut Workspace, cmd: InvoiceCmd) -> Result<Output, AppError> {
    match cmd {
        InvoiceCmd::List {
            status,
            client,
            from,
            to,
            limit,
        } => {
            let list = invoices::list(
                ws,
                &InvoiceFilter {
                    status,
                    client_id: client,
                    from,
                    to,
                    offset: 0,
                    limit,
                },
            )?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|v| {
                    let i = &v.invoice;
                    vec![
                        i.number
                            .clone()
                            .unwrap_or_else(|| format!("draft #{}", i.id)),
                        i.client_name.clone(),
                        i.billing_date.clone(),
                        i.status.clone(),
                        format!("{} {}", v.total, i.currency),
                        v.balance.clone(),
                    ]
                })
                .collect();
            Ok(Output::new(
                &list,
                table(
                    &["NUMBER", "CLIENT", "DATE", "STATUS", "TOTAL", "BALANCE"],
                    &rows,
                ),
            ))
        }
        InvoiceCmd::Show { invoice } => {
            let d = invoices::show(ws, &invoice)?;
            let i = &d.view.invoice;
            let mut text = format!(
                "{} — {} — {} ({})\nbilling date {}  issued {}  due {}\n",
                i.number.as_deref().unwrap_or("draft"),
                i.client_name,
                i.status,
                i.currency,
                i.billing_date,
                i.issued_at.as_deref().unwrap_or("-"),
                i.due_on.as_deref().unwrap_or("-")
            );
            let rows: Vec<Vec<String>> = d
                .lines
                .iter()
                .map(|l| {
                    vec![
                        l.kind.clone(),
                        l.description.clone(),
                        l.quantity.to_string(),
                        l.net_minor.to_string(),
                        format!("{}bp", l.tax_rate_bps),
                        l.tax_minor.to_string(),
                        l.total_minor.to_string(),
                    ]
                })
                .collect();
            text.push_str(&table(
                &["KIND", "DESCRIPTION", "QTY", "NET", "RATE", "TAX", "TOTAL"],
                &rows,
            ));
            text.push_str(&format!(
                "\nnet {}  tax {}  total {}  paid {}  balance {}\n",
                d.view.net, d.view.tax, d.view.total, d.view.paid, d.view.balance
            ));
            for n in &i.notes {
                text.push_str(&format!("note: {n}\n"));
            }
            Ok(Output::new(&d, text))
        }
        InvoiceCmd::Pdf { invoice, out } => {
            let bytes = hostdesk_app::billing::pdf::invoice_pdf(ws, &invoice)?;
            let number = invoices::find(ws, &invoice)?.number.unwrap_or(invoice);
            let path = out.unwrap_or_else(|| std::path::PathBuf::from(format!("{number}.pdf")));
            std::fs::write(&path, &bytes)?;
            Ok(Output::new(
                &json!({ "file": path, "bytes": bytes.len() }),
                format!("{} written ({} bytes)", path.display(), bytes.len()),
            ))
        }
        InvoiceCmd::Void { invoice } => {
            let v = invoices::void(ws, &invoice)?;
            Ok(Output::new(
                &v,
                format!("{} void", v.invoice.number.clone().unwrap_or_default()),
            ))
        }
    }
}

pub fn payment(ws: &mut Workspace, cmd: PaymentCmd) -> Result<Output, AppError> {
    let (invoice, amount, reference) = match cmd {
        PaymentCmd::Record {
            invoice,
            amount,
            reference,
        } => (invoice, amount, reference),
        PaymentCmd::Charge { invoice } => {
            let inv = invoices::find(ws, &invoice)?;
            let job = hostdesk_app::billing::charge::request_charge(ws, inv.id)?;
            return Ok(Output::new(
                &serde_json::json!({ "job": job }),
                format!("charge queued as job {job} (hostdesk jobs run to send it now)"),
            ));
        }
    };
    let o = invoices::record_payment(ws, &invoice, &amount, &reference)?;
    let text = format!(
        "payment {} recorded: {} applied, invoice {}, balance {}{}",
        o.payment_id,
        o.applied,
        o.status,
        o.balance,
        if o.overpayment != "0" && !o.overpayment.chars().all(|c| c == '0' || c == '.') {
            format!(", {} to the client's credit", o.overpayment)
        } else {
            String::new()
        }
    );
    Ok(Output::new(&o, text))
}

pub fn credit_note(ws: &mut Workspace, cmd: CreditNoteCmd) -> Result<Output, AppError> {
    let CreditNoteCmd::Create {
        invoice,
        reason,
        lines,
        refund,
    } = cmd;
    let requests: Vec<CreditLineRequest> = lines
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, a)) => CreditLineRequest {
                line_key: k.into(),
                amount: Some(a.into()),
            },
            None => CreditLineRequest {
                line_key: l.clone(),
                amount: None,
            },
        })
        .collect();
    let n = invoices::credit_note(ws, &invoice, &reason, &requests, refund)?;
    let s = &n.settlement;
    let mut text = format!(
        "credit note {} issued: total {} (minor units); {} settled what was due, {} to the client's credit",
        n.note.number, n.note.total_minor, s.applied, s.to_credit
    );
    for r in &s.refunds {
        text.push_str(&format!(
            "\nrefund {} of {} to the card queued as job #{}",
            r.refund_id, r.amount, r.job_id
        ));
    }
    Ok(Output::new(&n, text))
}
