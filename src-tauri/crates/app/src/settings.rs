//! Workspace settings staff may change, each checked before it is stored.

use std::ops::Range;

use hostdesk_store::settings as store;

use crate::billing::seller;
use crate::{clients, sandbox, AppError, Result, Workspace};

/// Settings key: how long a sandbox call takes, in milliseconds, as `MIN-MAX` (default 200-800).
pub const SANDBOX_DELAY: &str = "sandbox_delay_ms";

/// (key, what it holds) for every setting staff may set.
pub const KNOWN: &[(&str, &str)] = &[
    (
        crate::workspace::STAFF_NAME,
        "the name written into the audit log",
    ),
    (
        clients::DEFAULT_BILLING_DAY,
        "the billing day of new clients, 1-31",
    ),
    (
        sandbox::FAILURE_RATE,
        "percent of sandbox calls that fail, 0-100",
    ),
    (
        SANDBOX_DELAY,
        "how long a sandbox call takes: MIN-MAX milliseconds",
    ),
    (
        sandbox::FAIL_NEXT,
        "the next N calls of one sandbox operation fail: OPERATION:N, e.g. create_user:2",
    ),
    (
        crate::usage::collect::EVERY_HOURS,
        "hours between usage collections from the servers, 0-744 (default 6; 0: only on demand)",
    ),
    (
        crate::usage::alerts::MAIL_SETTING,
        "which quota alerts are mailed to the client: off (default), over (100%), all (80% and 100%)",
    ),
];

fn parse_range(v: &str) -> Option<Range<u64>> {
    let (a, b) = v.split_once('-').unwrap_or((v, v));
    let (a, b) = (a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?);
    (a <= b && b <= 60_000).then_some(a..b)
}

pub fn set(ws: &mut Workspace, key: &str, value: &str) -> Result<()> {
    let ok = match key {
        k if k == crate::workspace::STAFF_NAME => !value.trim().is_empty() && value.len() <= 100,
        k if k == clients::DEFAULT_BILLING_DAY => {
            value.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
        }
        k if k == sandbox::FAILURE_RATE => value.parse::<u8>().is_ok_and(|p| p <= 100),
        k if k == SANDBOX_DELAY => parse_range(value).is_some(),
        k if k == sandbox::FAIL_NEXT => sandbox::parse_fail_next(value).is_some(),
        k if k == crate::usage::collect::EVERY_HOURS => value
            .trim()
            .parse::<i64>()
            .is_ok_and(|h| (0..=744).contains(&h)),
        k if k == crate::usage::alerts::MAIL_SETTING => {
            crate::usage::alerts::valid_mail_setting(value)
        }
        k if k == seller::COUNTRY => hostdesk_core::validate::country(value).is_ok(),
        k if k == seller::INVOICE_SERIES || k == seller::CREDIT_NOTE_SERIES => {
            hostdesk_core::billing::check_series_pattern(value).is_ok()
        }
        k if k == seller::PAYMENT_TERMS_DAYS => value.parse::<u16>().is_ok_and(|d| d <= 365),
        k if [
            seller::NAME,
            seller::ADDRESS,
            seller::TAX_ID,
            seller::EMAIL,
            seller::PAYMENT_INSTRUCTIONS,
        ]
        .contains(&k) =>
        {
            value.len() <= 2000
        }
        _ => {
            let keys: Vec<&str> = KNOWN.iter().map(|(k, _)| *k).collect();
            return Err(AppError::invalid(
                "key",
                format!("'{key}' is not a setting; settings: {}", keys.join(", ")),
            ));
        }
    };
    if !ok {
        let what = KNOWN
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, w)| *w)
            .unwrap_or("");
        return Err(AppError::invalid(
            "value",
            format!("'{value}' is not valid for {key}: {what}"),
        ));
    }
    let value = if key == seller::COUNTRY {
        value.trim().to_ascii_uppercase()
    } else {
        value.to_string()
    };
    let value = value.as_str();
    ws.write(|tx, ctx| {
        let before = store::get(tx, key)?;
        store::set(tx, key, value)?;
        ctx.audit(tx, "setting", None, key, before.as_ref(), Some(&value))
    })
}

pub fn list(ws: &Workspace) -> Result<Vec<(String, String)>> {
    Ok(store::all(ws.conn())?)
}

/// The sandbox's simulated reply time.
pub fn sandbox_delay(ws: &Workspace) -> Result<Range<u64>> {
    Ok(store::get(ws.conn(), SANDBOX_DELAY)?
        .and_then(|v| parse_range(&v))
        .unwrap_or(200..800))
}
