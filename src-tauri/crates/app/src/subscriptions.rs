//! Subscription use cases: list, show, CSV export.

use std::io::Write;

use hostdesk_store::subscriptions::{self, Subscription};

use crate::{AppError, ErrorCode, Result, Workspace};

pub fn list(
    ws: &Workspace,
    client_id: Option<i64>,
    state: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Vec<Subscription>> {
    Ok(subscriptions::list(
        ws.conn(),
        client_id,
        state,
        offset,
        limit.clamp(1, 10_000),
    )?)
}

pub fn show(ws: &Workspace, id: i64) -> Result<Subscription> {
    Ok(subscriptions::get(ws.conn(), id)?)
}

pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "client_id",
    "client_name",
    "product",
    "kit",
    "tier",
    "options",
    "currency",
    "period",
    "price",
    "state",
    "anchor_day",
    "started_on",
    "next_due_on",
    "expires_on",
];

/// Writes every subscription as CSV; the price is written with the currency's decimals.
pub fn export_csv(ws: &Workspace, out: impl Write) -> Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| AppError::new(ErrorCode::Io, format!("cannot write CSV: {e}"));
    w.write_record(CSV_COLUMNS).map_err(err)?;
    let mut n = 0;
    let mut failure = None;
    subscriptions::for_each(ws.conn(), |s| {
        let price = hostdesk_core::Currency::from_code(&s.currency)
            .map(|c| hostdesk_core::Money::new(s.price_minor, c).amount_string())
            .unwrap_or_else(|_| s.price_minor.to_string());
        let rec = [
            s.id.to_string(),
            s.client_id.to_string(),
            s.client_name,
            s.product_code,
            s.kit_code.unwrap_or_default(),
            s.tier_code.unwrap_or_default(),
            s.choices.join(";"),
            s.currency,
            s.period,
            price,
            s.state,
            s.anchor_day.to_string(),
            s.started_on,
            s.next_due_on.unwrap_or_default(),
            s.expires_on.unwrap_or_default(),
        ];
        if let Err(e) = w.write_record(&rec) {
            failure.get_or_insert(e);
        }
        n += 1;
        Ok(())
    })?;
    if let Some(e) = failure {
        return Err(err(e));
    }
    w.flush()?;
    Ok(n)
}
