//! Changing a subscription's plan, and cancelling it (the core's rules in
//! `hostdesk_core::billing::changes`):
//!
//! - a dearer plan (another product, an option added or changed) takes effect at once: an
//!   invoice with a credit line for the unused part of the old price and a charge line for the
//!   new one over the same days, charged to the stored payment method when there is one; the
//!   quotas are pushed to the site's server;
//! - a plan at the same or a lower price waits for the period end: it is scheduled and the bill
//!   run adopts it (price, product, choices) at the renewal;
//! - a cancellation at the period end stops the billing from that day; an immediate one ends the
//!   service today, credits the unused part with a credit note against the invoice that billed
//!   the period, and disables the sites.

use chrono::NaiveDate;
use hostdesk_core::billing::{
    cancel as core_cancel, change_plan, BillingCycle, CancelRequest, CancelWhen, ChangeOutcome,
    PlanChange,
};
use hostdesk_core::catalog::Period;
use hostdesk_store::clients;
use hostdesk_store::orders as store_orders;
use hostdesk_store::subscriptions::{self, PlanChangeRow};
use serde::{Deserialize, Serialize};

use super::bill_run::IssuedInvoice;
use super::invoices::{credit_note, CreditLineRequest};
use super::issue::{client_billing, issue_lines};
use super::{charge, money, seller};
use crate::orders::quote::{price_plan, PlanAsk};
use crate::provisioning::{queue_site_action, SiteAction};
use crate::{AppError, ErrorCode, Result, Workspace};

/// What to change: another product, options set (`option=choice`) or removed, another tier.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct ChangeRequest {
    pub product: Option<String>,
    pub set_options: Vec<String>,
    pub remove_options: Vec<String>,
    pub tier: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ChangeReport {
    /// `immediate` (an upgrade) or `at_period_end`.
    pub when: String,
    /// The day the new plan starts.
    pub effective: String,
    pub old_price: String,
    pub new_price: String,
    /// The upgrade's invoice (credit + charge lines).
    pub invoice: Option<IssuedInvoice>,
    pub jobs: Vec<i64>,
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::new(ErrorCode::Database, format!("bad date '{s}'")))
}

/// The full period of the subscription's cycle that contains `today`.
fn current_period(
    s: &subscriptions::Subscription,
    today: NaiveDate,
) -> Result<hostdesk_core::billing::BillingPeriod> {
    let period: Period = s
        .period
        .parse()
        .map_err(|m: String| AppError::new(ErrorCode::Database, m))?;
    let next = s
        .next_due_on
        .as_deref()
        .ok_or_else(|| AppError::invalid("subscription", "the subscription has no billing date"))?;
    let cycle = BillingCycle::starting_on(parse_date(next)?, s.anchor_day as u32, period)?;
    Ok(cycle.period_containing(today)?)
}

fn check_changeable(s: &subscriptions::Subscription) -> Result<()> {
    if s.state != "active" {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "subscription {} is {}: only an active subscription changes plan",
                s.id, s.state
            ),
        ));
    }
    Ok(())
}

pub fn change(ws: &mut Workspace, id: i64, req: &ChangeRequest) -> Result<ChangeReport> {
    let s = subscriptions::get(ws.conn(), id)?;
    check_changeable(&s)?;
    let client = clients::get(ws.conn(), s.client_id)?;
    let seller = seller::load(ws.conn())?;
    let now = ws.clock().now();
    let cb = client_billing(&client, &seller, now)?;
    let today = cb.today;
    let period: Period = s
        .period
        .parse()
        .map_err(|m: String| AppError::new(ErrorCode::Database, m))?;
    // The new plan's choices: the current ones, less those removed, with those set replacing.
    let mut options: Vec<String> = s
        .choices
        .iter()
        .filter(|c| {
            let opt = c.split_once('=').map(|(o, _)| o).unwrap_or(c);
            !req.remove_options.iter().any(|r| r.trim() == opt)
        })
        .cloned()
        .collect();
    for r in &req.remove_options {
        if !s
            .choices
            .iter()
            .any(|c| c.split_once('=').map(|(o, _)| o) == Some(r.trim()))
        {
            return Err(AppError::invalid(
                "removeOptions",
                format!("the subscription has no option {r}"),
            ));
        }
    }
    options.extend(req.set_options.iter().cloned());
    let product = req
        .product
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| s.product_code.clone());
    let same_product = product == s.product_code;
    let kit = if same_product {
        s.kit_code.clone()
    } else {
        None
    };
    let tier = req.tier.clone().or(s.tier_code.clone());
    let plan = price_plan(
        ws.conn(),
        &client.currency,
        period,
        PlanAsk {
            product: if kit.is_some() { None } else { Some(&product) },
            kit: kit.as_deref(),
            options: &options,
            tier: tier.as_deref().filter(|t| !t.is_empty()),
            allow_retired: same_product,
        },
        &ws.clock().stamp(),
    )?;
    let old_price = money(s.price_minor, &s.currency)?;
    let new_price = plan.price;
    let row = PlanChangeRow {
        product_id: plan.product_id,
        choices: plan.choices.clone(),
        quotas: plan.quotas.clone(),
        price_minor: new_price.minor,
    };
    let label = match &plan.kit_code {
        Some(k) => format!("{k} ({})", plan.product_name),
        None => plan.product_name.clone(),
    };
    let current = current_period(&s, today)?;
    let change_ref = format!(
        "{}-{}",
        today,
        ws.clock().now().timestamp_millis() % 100_000_000
    );
    let outcome = change_plan(&PlanChange {
        subscription_id: id,
        change_ref: &change_ref,
        period: current,
        on: today,
        old_label: &s.product_name,
        old_price,
        new_label: &label,
        new_price,
        tax_rate_bps: cb.tax.rate_bps,
    })?;
    ws.write(|tx, ctx| {
        let before = subscriptions::get(tx, id)?;
        let report = match outcome {
            ChangeOutcome::Immediate(up) => {
                // Only the billed part of the period is credited: before the first invoice
                // (a pending order), there is nothing to credit or charge yet.
                let billed = subscriptions::billed_line_on(tx, id, &today.to_string())?.is_some();
                let invoice = if billed {
                    issue_lines(
                        tx,
                        ctx,
                        &seller,
                        &client,
                        &cb,
                        today,
                        &[(up.credit.clone(), Some(id)), (up.charge.clone(), Some(id))],
                    )?
                } else {
                    None
                };
                subscriptions::apply_plan(tx, id, &row, &ctx.at)?;
                subscriptions::set_tier(tx, id, plan.tier_id, &ctx.at)?;
                // Only what changed is pushed, once (see usage::quota).
                let mut jobs = crate::usage::quota::push_limits(tx, ctx, id)?;
                if let Some(inv) = &invoice {
                    let has_method = store_orders::default_payment_method(tx, client.id)?.is_some();
                    if inv.total_minor > 0 && has_method {
                        jobs.push(charge::enqueue_charge(tx, ctx, inv.invoice_id, "first")?);
                    }
                }
                ChangeReport {
                    when: "immediate".into(),
                    effective: up.effective.to_string(),
                    old_price: old_price.amount_string(),
                    new_price: new_price.amount_string(),
                    invoice,
                    jobs,
                }
            }
            ChangeOutcome::AtPeriodEnd { effective } => {
                subscriptions::schedule_plan(tx, id, &row, &ctx.at)?;
                ChangeReport {
                    when: "at_period_end".into(),
                    effective: effective.to_string(),
                    old_price: old_price.amount_string(),
                    new_price: new_price.amount_string(),
                    invoice: None,
                    jobs: Vec::new(),
                }
            }
        };
        ctx.audit(
            tx,
            "subscription",
            Some(id),
            "change",
            Some(&before),
            Some(&serde_json::json!({
                "product": plan.product_code, "choices": plan.choice_codes, "tier": plan.tier_code,
                "price": new_price.amount_string(), "when": report.when, "effective": report.effective,
            })),
        )?;
        Ok(report)
    })
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CancelReport {
    /// The first day without service.
    pub ends_on: String,
    pub immediately: bool,
    /// The credit note of the unused part (immediate cancellations).
    pub credit_note: Option<String>,
    pub credit: Option<String>,
    pub jobs: Vec<i64>,
}

/// Cancels at the period end (the default), or immediately with a prorated credit.
pub fn cancel(ws: &mut Workspace, id: i64, immediately: bool) -> Result<CancelReport> {
    let s = subscriptions::get(ws.conn(), id)?;
    if !["active", "suspended", "pending"].contains(&s.state.as_str()) {
        return Err(AppError::new(
            ErrorCode::Conflict,
            format!("subscription {id} is {}: nothing to cancel", s.state),
        ));
    }
    let client = clients::get(ws.conn(), s.client_id)?;
    let seller = seller::load(ws.conn())?;
    let cb = client_billing(&client, &seller, ws.clock().now())?;
    let today = cb.today;
    if !immediately {
        let ends = s.next_due_on.clone().ok_or_else(|| {
            AppError::invalid("subscription", "the subscription has no billing date")
        })?;
        return ws.write(|tx, ctx| {
            subscriptions::set_cancel_on(tx, id, Some(&ends), &ctx.at)?;
            ctx.audit(
                tx,
                "subscription",
                Some(id),
                "cancel",
                Some(&s.state),
                Some(&ends),
            )?;
            Ok(CancelReport {
                ends_on: ends.clone(),
                immediately: false,
                credit_note: None,
                credit: None,
                jobs: Vec::new(),
            })
        });
    }
    // The unused part of the billed period, credited against the invoice that billed it.
    let billed = subscriptions::billed_line_on(ws.conn(), id, &today.to_string())?;
    let mut credit_note_number = None;
    let mut credit = None;
    ws.batch(|ws| {
        if let Some(line) = &billed {
            let period = current_period(&s, today)?;
            let c = core_cancel(&CancelRequest {
                subscription_id: id,
                period,
                on: today,
                label: &s.product_name,
                price: money(s.price_minor, &s.currency)?,
                tax_rate_bps: line.tax_rate_bps as u32,
                when: CancelWhen::Immediately,
            })?;
            if let Some(l) = c.credit {
                // Never more than the line itself (a first, prorated period is shorter).
                let net = (-l.net.minor).min(line.net_minor);
                if net > 0 {
                    let amount = money(net, &s.currency)?;
                    let note = credit_note(
                        ws,
                        &line.invoice_id.to_string(),
                        &format!("subscription {id} cancelled on {today}: unused part"),
                        &[CreditLineRequest {
                            line_key: line.key.clone(),
                            amount: Some(amount.amount_string()),
                        }],
                        false,
                    )?;
                    credit_note_number = Some(note.note.number.clone());
                    credit = Some(amount.amount_string());
                }
            }
        }
        ws.write(|tx, ctx| {
            let mut jobs = Vec::new();
            subscriptions::set_cancel_on(tx, id, Some(&today.to_string()), &ctx.at)?;
            subscriptions::set_state(tx, id, "cancelled", &ctx.at)?;
            for site in subscriptions::sites_for_client(tx, s.client_id)?
                .into_iter()
                .filter(|x| {
                    x.subscription_id == id && x.status == "active" && x.server_id.is_some()
                })
            {
                jobs.push(queue_site_action(
                    tx,
                    ctx,
                    site.id,
                    &SiteAction::Suspend {
                        reason: Some(format!("subscription {id} cancelled")),
                    },
                )?);
            }
            ctx.audit(
                tx,
                "subscription",
                Some(id),
                "cancel",
                Some(&s.state),
                Some(&serde_json::json!({ "immediately": true, "endsOn": today.to_string() })),
            )?;
            Ok(CancelReport {
                ends_on: today.to_string(),
                immediately: true,
                credit_note: credit_note_number.clone(),
                credit: credit.clone(),
                jobs,
            })
        })
    })
}
