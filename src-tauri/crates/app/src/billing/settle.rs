//! What follows a payment or a declined charge, in the transaction that records it:
//! a paid order starts its provisioning chain; a settled invoice ends its dunning and, when no
//! other unpaid invoice holds them, re-enables the client's suspended sites. A decline marks the
//! order `payment_failed` (no site is created) and mails the client.

use hostdesk_store::orders as store_orders;
use hostdesk_store::{dunning, invoices, subscriptions, Connection};

use crate::orders::chain;
use crate::provisioning::{queue_site_action, SiteAction};
use crate::{Ctx, Result};

/// After money was allocated to `invoice_id`.
pub(crate) fn after_payment(tx: &Connection, ctx: &Ctx, invoice_id: i64) -> Result<()> {
    let inv = invoices::get(tx, invoice_id)?;
    if inv.status != "paid" {
        return Ok(());
    }
    for order in store_orders::for_invoice(tx, invoice_id)? {
        let activation = store_orders::activation(
            tx,
            tx.query_row(
                "SELECT product_id FROM subscriptions WHERE id = ?1",
                [order.subscription_id],
                |r| r.get(0),
            )?,
        )?;
        if activation != "approval"
            && matches!(order.state.as_str(), "awaiting_payment" | "payment_failed")
        {
            chain::start(tx, ctx, order.id)?;
        }
    }
    end_dunning(tx, ctx, invoice_id)
}

/// After a credit note settled what was due on `invoice_id`: its dunning ends (the sites come
/// back) when nothing is due any more. An order it belongs to does not start: crediting its
/// invoice is not paying for it.
pub(crate) fn after_credit(tx: &Connection, ctx: &Ctx, invoice_id: i64) -> Result<()> {
    if invoices::get(tx, invoice_id)?.status != "paid" {
        return Ok(());
    }
    end_dunning(tx, ctx, invoice_id)
}

fn end_dunning(tx: &Connection, ctx: &Ctx, invoice_id: i64) -> Result<()> {
    if let Some(row) = dunning::get(tx, invoice_id)? {
        if row.stage != "settled" {
            dunning::set_stage(tx, invoice_id, "settled", &ctx.at)?;
            if row.stage == "suspended" && dunning::other_open(tx, row.client_id, invoice_id)? == 0
            {
                reenable_client(tx, ctx, row.client_id)?;
            }
            ctx.audit(
                tx,
                "dunning",
                Some(invoice_id),
                "settled",
                Some(&row.stage),
                Some(&"settled"),
            )?;
        }
    }
    Ok(())
}

/// Sites disabled by dunning come back; subscriptions suspended by it are active again.
fn reenable_client(tx: &Connection, ctx: &Ctx, client_id: i64) -> Result<()> {
    let suspended: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT id FROM subscriptions WHERE client_id = ?1 AND state = 'suspended' ORDER BY id",
        )?;
        let ids = stmt.query_map([client_id], |r| r.get(0))?;
        ids.collect::<std::result::Result<_, _>>()?
    };
    for sub in suspended {
        subscriptions::set_state(tx, sub, "active", &ctx.at)?;
        for site in subscriptions::sites_for_client(tx, client_id)?
            .into_iter()
            .filter(|s| s.subscription_id == sub && s.status != "deleted" && s.server_id.is_some())
        {
            queue_site_action(tx, ctx, site.id, &SiteAction::Unsuspend)?;
        }
    }
    Ok(())
}

/// After the gateway declined a charge of `invoice_id` (or asked the customer to authenticate).
/// The client is mailed once per declined attempt (`attempt_key`).
pub(crate) fn after_decline(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: i64,
    attempt_key: &str,
    reason: &str,
) -> Result<()> {
    for order in store_orders::for_invoice(tx, invoice_id)? {
        if order.state == "awaiting_payment" {
            store_orders::set_state(tx, order.id, "payment_failed", Some(reason), &ctx.at)?;
        }
    }
    crate::notify::payment_failed(tx, ctx, invoice_id, attempt_key, reason)?;
    Ok(())
}
