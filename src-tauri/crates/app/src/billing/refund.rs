//! What a credit note does with the money it gives back, and refunds to the card as a job
//! (`payment.refund`).
//!
//! A credit note first settles what is still due on the invoice it corrects (recorded as a
//! payment of method `credit`, referencing the note); the rest is the client's: kept as credit
//! balance for the next invoice, or, when staff ask for a refund, given back to the card(s) that
//! paid the invoice. A refund is recorded `pending` before the gateway is called and settled
//! after; its job key `refund:ID` is the gateway's idempotency key, so a retry never refunds
//! twice. A refund the gateway refuses goes to the client's credit balance instead (nothing is
//! lost) and its job ends failed, with the gateway's reason.

use hostdesk_core::billing::{allocate_payment, PaymentStatus};
use hostdesk_core::Money;
use hostdesk_remote::{GatewayKind, RefundOutcome, RefundRequest};
use hostdesk_store::jobs::{self as store_jobs, NewJob};
use hostdesk_store::{invoices, refunds, Connection};
use serde::Serialize;
use serde_json::{json, Value};

use super::charge::{gateway, Charges};
use super::invoices::status_text;
use super::{currency, money, settle};
use crate::runner::{JobCtx, JobError};
use crate::{AppError, Ctx, ErrorCode, Result};

pub const PAYMENT_REFUND: &str = "payment.refund";

/// Gateway refunds are retried a few times (a lost reply, Authorize.net's unsettled charges).
const REFUND_ATTEMPTS: i64 = 8;

/// Where a credit note's amount went.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    /// Settled what was still due on the invoice.
    pub applied: String,
    /// Kept as the client's credit balance (used by the next invoice).
    pub to_credit: String,
    /// Given back to the card(s) that paid the invoice, each a `payment.refund` job.
    pub refunds: Vec<QueuedRefund>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QueuedRefund {
    pub refund_id: i64,
    pub job_id: i64,
    pub amount: String,
}

/// Settles a credit note of `total_minor` just written on `invoice_id` (in its transaction).
pub(crate) fn settle_credit_note(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: i64,
    (note_id, note_number): (i64, &str),
    total_minor: i64,
    refund: bool,
) -> Result<Settlement> {
    if total_minor <= 0 {
        return Ok(Settlement::default());
    }
    let inv = invoices::get(tx, invoice_id)?;
    let c = currency(&inv.currency)?;
    let a = allocate_payment(
        Money::new(inv.total_minor, c),
        Money::new(inv.paid_minor, c),
        Money::new(total_minor, c),
    )?;
    if a.applied.minor > 0 {
        pay_by_credit(
            tx,
            ctx,
            &inv,
            (a.applied, a.status, a.paid_after),
            &format!("credit note {note_number}"),
            &format!("credit-note:{note_id}"),
        )?;
        settle::after_credit(tx, ctx, inv.id)?;
    }
    let mut rest = a.overpayment.minor;
    let mut queued = Vec::new();
    if refund {
        let cards = refunds::refundable(tx, inv.id)?;
        if rest > 0 && cards.is_empty() {
            return Err(AppError::invalid(
                "refund",
                format!(
                    "invoice {} was not paid by card, so nothing can go back to a card: issue the credit note without a refund (its amount becomes the client's credit)",
                    inv.number.as_deref().unwrap_or("")
                ),
            ));
        }
        for card in cards {
            if rest == 0 {
                break;
            }
            let amount = rest.min(card.remaining_minor);
            let refund_id =
                refunds::insert(tx, card.payment_id, note_id, amount, &inv.currency, &ctx.at)?;
            let (job_id, _) = store_jobs::enqueue(
                tx,
                &NewJob {
                    kind: PAYMENT_REFUND,
                    key: &format!("refund:{refund_id}"),
                    server_id: None,
                    subscription_id: None,
                    site_id: None,
                    payload: &json!({ "refundId": refund_id, "invoiceId": inv.id }),
                    max_attempts: REFUND_ATTEMPTS,
                    deps: &[],
                },
                &ctx.at_ms,
            )?;
            queued.push(QueuedRefund {
                refund_id,
                job_id,
                amount: money(amount, &inv.currency)?.amount_string(),
            });
            rest -= amount;
        }
    }
    if rest > 0 {
        invoices::add_credit(tx, inv.client_id, &inv.currency, rest)?;
    }
    Ok(Settlement {
        applied: a.applied.amount_string(),
        to_credit: money(rest, &inv.currency)?.amount_string(),
        refunds: queued,
    })
}

/// Records money the client already has with Hostdesk (a credit note, the credit balance) as a
/// payment of method `credit` on `inv`: `applied`, after which `paid_after` is paid and the
/// invoice is `status`.
pub(crate) fn pay_by_credit(
    tx: &Connection,
    ctx: &Ctx,
    inv: &invoices::Invoice,
    (applied, status, paid_after): (Money, PaymentStatus, Money),
    reference: &str,
    key: &str,
) -> Result<()> {
    invoices::record_payment(
        tx,
        &invoices::NewPayment {
            client_id: inv.client_id,
            invoice_id: Some(inv.id),
            method: "credit",
            reference,
            amount_minor: applied.minor,
            currency: &inv.currency,
            state: "succeeded",
            key,
        },
        &ctx.at,
    )?;
    invoices::set_status(tx, inv.id, status_text(status), paid_after.minor, &ctx.at)?;
    Ok(())
}

/// The `payment.refund` job: phase one reads the pending refund, the gateway refunds with the
/// job key as idempotency key, phase two settles it (a refusal: to the client's credit).
pub(super) async fn run(h: &Charges, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let refund_id = job
        .payload
        .get("refundId")
        .and_then(Value::as_i64)
        .ok_or_else(|| JobError::fatal("the job's payload has no refundId"))?;
    let (r, method, charge_id) = h
        .with_ws(move |ws| {
            let r = refunds::get(ws.conn(), refund_id)?;
            let (method, charge_id) = refunds::charge_of(ws.conn(), r.payment_id)?;
            Ok((r, method, charge_id))
        })
        .await?;
    match r.state.as_str() {
        "succeeded" => return Ok(json!({ "refundId": r.id, "state": "succeeded" })),
        "failed" => {
            return Err(JobError::fatal(format!(
                "refund {} was refused: {}",
                r.id,
                r.error.unwrap_or_default()
            )))
        }
        _ => {}
    }
    let secrets = h.secrets.clone();
    let http = h.http.clone();
    let code = r.currency.clone();
    let gw = h
        .with_ws(move |ws| {
            let gw = gateway(ws.conn(), secrets.as_ref(), &code, &http)?;
            let now = match gw.kind() {
                GatewayKind::Stripe => "stripe",
                GatewayKind::AuthorizeNet => "authnet",
            };
            if now != method {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    format!(
                        "the payment was taken by {method} but the gateway is now {now}: refund it there by hand"
                    ),
                ));
            }
            Ok(gw)
        })
        .await?;
    let req = RefundRequest {
        charge_id,
        amount: Some(money(r.amount_minor, &r.currency).map_err(|e| JobError::fatal(e.message))?),
        idempotency_key: job.key.clone(),
        attempt: u32::try_from(job.attempt).unwrap_or(1).max(1),
    };
    let refused = match gw.refund(&req).await {
        Ok(RefundOutcome::Refunded { id, kind, replayed }) => {
            let rid = r.id;
            let gateway_ref = id.clone();
            h.with_ws(move |ws| {
                ws.write(|tx, ctx| {
                    if refunds::settle(tx, rid, "succeeded", Some(&gateway_ref), None, &ctx.at)? {
                        ctx.audit(
                            tx,
                            "refund",
                            Some(rid),
                            "refunded",
                            None::<&()>,
                            Some(&gateway_ref),
                        )?;
                    }
                    Ok(())
                })
            })
            .await?;
            return Ok(
                json!({ "refundId": r.id, "gatewayRef": id, "kind": kind, "replayed": replayed }),
            );
        }
        // Authorize.net refunds part of a charge only once it settled: later.
        Ok(RefundOutcome::Rejected { code, message }) if code == "not_settled" => {
            return Err(JobError::retry(format!("{code}: {message}")))
        }
        Ok(RefundOutcome::Rejected { code, message }) => format!("{code}: {message}"),
        Err(e) if e.is_retryable() => return Err(JobError::retry(e.to_string())),
        Err(e) => e.to_string(),
    };
    let (rid, why) = (r.id, refused.clone());
    h.with_ws(move |ws| {
        ws.write(|tx, ctx| {
            if refunds::settle(tx, rid, "failed", None, Some(&why), &ctx.at)? {
                let r = refunds::get(tx, rid)?;
                let client_id: i64 = tx.query_row(
                    "SELECT client_id FROM payments WHERE id = ?1",
                    [r.payment_id],
                    |row| row.get(0),
                )?;
                invoices::add_credit(tx, client_id, &r.currency, r.amount_minor)?;
                ctx.audit(
                    tx,
                    "refund",
                    Some(rid),
                    "refused",
                    None::<&()>,
                    Some(&json!({ "reason": why, "credited": r.amount_minor })),
                )?;
            }
            Ok(())
        })
    })
    .await?;
    Err(JobError::fatal(format!(
        "the gateway refused refund {}: {refused}; the amount went to the client's credit balance instead",
        r.id
    )))
}
