//! Usage records: what a subscription used of a resource, when. Billed in arrears by the bill
//! run as `fee + max(0, used - quota) x overage` per resource and period.

use hostdesk_core::catalog::Resource;
use hostdesk_core::Money;
use hostdesk_store::{invoices, subscriptions};

use super::currency;
use crate::{AppError, Result, Workspace};

/// Records usage at `at` (RFC 3339; default now). The same (subscription, resource, time,
/// source) is recorded once. Returns whether it was new.
pub fn record(
    ws: &mut Workspace,
    subscription_id: i64,
    resource: &str,
    quantity: i64,
    at: Option<&str>,
) -> Result<bool> {
    let resource: Resource = resource
        .parse()
        .map_err(|m| AppError::invalid("resource", m))?;
    if quantity < 0 {
        return Err(AppError::invalid("quantity", "usage is 0 or more"));
    }
    let at = match at {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|_| AppError::invalid("at", format!("'{t}' is not an RFC 3339 instant")))?
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => ws.clock().stamp(),
    };
    subscriptions::get(ws.conn(), subscription_id)?;
    ws.write(|tx, _| {
        Ok(invoices::record_usage(
            tx,
            subscription_id,
            resource.as_str(),
            quantity,
            &at,
            "manual",
        )?)
    })
}

/// Prices a resource on a subscription: `fee` for `quota` units (None: unlimited), `overage`
/// per unit over it. Amounts in the subscription's currency, e.g. "5.00".
pub fn set_rate(
    ws: &mut Workspace,
    subscription_id: i64,
    resource: &str,
    quota: Option<i64>,
    fee: &str,
    overage: &str,
) -> Result<()> {
    let resource: Resource = resource
        .parse()
        .map_err(|m| AppError::invalid("resource", m))?;
    if quota.is_some_and(|q| q < 0) {
        return Err(AppError::invalid(
            "quota",
            "is 0 or more (leave it out for unlimited)",
        ));
    }
    let sub = subscriptions::get(ws.conn(), subscription_id)?;
    let c = currency(&sub.currency)?;
    let fee = Money::parse(fee, c).map_err(|m| AppError::invalid("fee", m))?;
    let overage = Money::parse(overage, c).map_err(|m| AppError::invalid("overage", m))?;
    if fee.minor < 0 || overage.minor < 0 {
        return Err(AppError::invalid("fee", "prices may not be negative"));
    }
    ws.write(|tx, ctx| {
        subscriptions::set_rate(tx, subscription_id, resource.as_str(), quota, fee.minor, overage.minor)?;
        ctx.audit(tx, "subscription", Some(subscription_id), "set_rate",
            None::<&()>, Some(&serde_json::json!({ "resource": resource.as_str(), "quota": quota, "fee": fee.minor, "overage": overage.minor })))
    })
}
