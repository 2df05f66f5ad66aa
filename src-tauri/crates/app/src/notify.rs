//! The mails the order workflow and dunning send to clients, queued in the caller's
//! transaction through the outbox ([`crate::mail`]), each once (its dedupe key names the event).

use hostdesk_store::servers as store_servers;
use hostdesk_store::{clients, invoices, Connection};

use crate::billing::money;
use crate::mail::outbox::{enqueue, OutgoingMail};
use crate::mail::templates::{render, MailKind, MailVars};
use crate::{Ctx, Result};

fn vars(pairs: &[(&str, String)]) -> MailVars {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn queue(
    tx: &Connection,
    ctx: &Ctx,
    client_id: i64,
    product_id: Option<i64>,
    kind: MailKind,
    key: String,
    pairs: &[(&str, String)],
    after: Vec<i64>,
    subscription_id: Option<i64>,
) -> Result<i64> {
    let client = clients::get(tx, client_id)?;
    let mut all = vec![("client_name", client.name.clone())];
    all.extend_from_slice(pairs);
    let rendered = render(tx, product_id, kind, &vars(&all))?;
    let mut m = OutgoingMail::new(&client.email, &client.name, kind, key, rendered);
    m.client_id = Some(client.id);
    m.after = after;
    m.subscription_id = subscription_id;
    Ok(enqueue(tx, &m, &ctx.at)?.job_id)
}

/// The welcome mail of a new site: sent once, after the jobs in `after` (the site and its
/// manager user exist).
pub(crate) fn welcome(
    tx: &Connection,
    ctx: &Ctx,
    subscription_id: i64,
    site_id: i64,
    after: Vec<i64>,
) -> Result<i64> {
    let site = store_servers::get_site(tx, site_id)?;
    let (product_id, product_name): (i64, String) = tx.query_row(
        "SELECT p.id, p.name FROM subscriptions s JOIN products p ON p.id = s.product_id WHERE s.id = ?1",
        [subscription_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    queue(
        tx,
        ctx,
        site.client_id,
        Some(product_id),
        MailKind::Welcome,
        format!("welcome:subscription:{subscription_id}"),
        &[
            ("product_name", product_name),
            ("site_url", format!("https://{}", site.domain)),
            ("login_url", format!("https://{}/user/login", site.domain)),
        ],
        after,
        Some(subscription_id),
    )
}

fn invoice_vars(tx: &Connection, invoice_id: i64) -> Result<(i64, String, String, String)> {
    let inv = invoices::get(tx, invoice_id)?;
    let due = money(inv.total_minor - inv.paid_minor, &inv.currency)?.to_string();
    Ok((
        inv.client_id,
        inv.number.unwrap_or_default(),
        due,
        inv.due_on.unwrap_or_default(),
    ))
}

/// A charge of the invoice was declined: tell the client, once per declined payment attempt.
pub(crate) fn payment_failed(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: i64,
    attempt_key: &str,
    reason: &str,
) -> Result<i64> {
    let (client_id, number, amount, _) = invoice_vars(tx, invoice_id)?;
    queue(
        tx,
        ctx,
        client_id,
        None,
        MailKind::PaymentFailed,
        format!("payment_failed:{attempt_key}"),
        &[
            ("invoice_number", number),
            ("amount", amount),
            ("reason", reason.to_string()),
        ],
        Vec::new(),
        None,
    )
}

/// A dunning reminder for an overdue invoice (`step` names it: `reminder:7`).
pub(crate) fn payment_reminder(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: i64,
    step: &str,
    days_overdue: i64,
) -> Result<i64> {
    let (client_id, number, amount, due) = invoice_vars(tx, invoice_id)?;
    queue(
        tx,
        ctx,
        client_id,
        None,
        MailKind::PaymentReminder,
        format!("dunning:{invoice_id}:{step}"),
        &[
            ("invoice_number", number),
            ("amount", amount),
            ("due_date", due),
            ("days_overdue", days_overdue.to_string()),
        ],
        Vec::new(),
        None,
    )
}

/// The client's site was suspended (`key` names the event).
pub(crate) fn site_suspended(
    tx: &Connection,
    ctx: &Ctx,
    site_id: i64,
    key: &str,
    reason: &str,
    after: Vec<i64>,
) -> Result<i64> {
    let site = store_servers::get_site(tx, site_id)?;
    queue(
        tx,
        ctx,
        site.client_id,
        None,
        MailKind::SiteSuspended,
        key.to_string(),
        &[
            ("site_url", format!("https://{}", site.domain)),
            ("reason", reason.to_string()),
        ],
        after,
        Some(site.subscription_id),
    )
}
