//! The test clock of sandbox workspaces: staff move "now" forward by whole days to preview what
//! the next bill run, dunning or a trial's end will do, with no real server or client affected.
//!
//! A workspace is a sandbox workspace when the demo was loaded into it, or when it has servers
//! and every one is the simulated sandbox. The offset is a setting (`clock_offset_days`), so the
//! app, its job runner and the CLI all see the same "now"; the audit log records each move.

use chrono::TimeDelta;
use hostdesk_store::{settings as store_settings, Connection};
use serde::Serialize;

use crate::{demo, AppError, Clock, ErrorCode, Result, Workspace};

/// Settings key: how many days the sandbox workspace's clock is ahead.
pub const OFFSET_DAYS: &str = "clock_offset_days";

/// The most a clock may be moved in all (three years).
const MAX_DAYS: i64 = 3 * 366;

pub fn is_sandbox(conn: &Connection) -> hostdesk_store::Result<bool> {
    if store_settings::get(conn, demo::DEMO_KEY)?.is_some() {
        return Ok(true);
    }
    let (all, sandboxes): (i64, i64) = conn.query_row(
        "SELECT count(*), count(*) FILTER (WHERE kind = 'sandbox') FROM servers",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(all > 0 && all == sandboxes)
}

fn offset_days(conn: &Connection) -> Result<i64> {
    Ok(store_settings::get(conn, OFFSET_DAYS)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The clock a workspace runs on: `base` (the system clock or `--now`) moved by the sandbox
/// offset, if any.
pub fn effective(conn: &Connection, base: Clock) -> Result<Clock> {
    let days = offset_days(conn)?;
    if days != 0 && is_sandbox(conn)? {
        Ok(base.advanced(TimeDelta::days(days)))
    } else {
        Ok(base)
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ClockView {
    /// The workspace's "now" (RFC 3339).
    pub now: String,
    pub offset_days: i64,
    /// Whether the clock may be moved here.
    pub sandbox: bool,
}

pub fn view(ws: &Workspace) -> Result<ClockView> {
    Ok(ClockView {
        now: ws.clock().stamp(),
        offset_days: offset_days(ws.conn())?,
        sandbox: is_sandbox(ws.conn())?,
    })
}

/// Moves the sandbox workspace's clock forward by `days` (or back to the real time with a
/// negative number that cancels earlier moves).
pub fn advance(ws: &mut Workspace, days: i64) -> Result<ClockView> {
    if !is_sandbox(ws.conn())? {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "the clock can only be moved in a sandbox workspace (the demo, or one whose servers are all simulated)",
        ));
    }
    let before = offset_days(ws.conn())?;
    let after = before + days;
    if days == 0 || !(0..=MAX_DAYS).contains(&after) {
        return Err(AppError::invalid(
            "days",
            format!("the clock can be 0 to {MAX_DAYS} days ahead (now {before}); {days} days is out of range"),
        ));
    }
    ws.write(|tx, ctx| {
        store_settings::set(tx, OFFSET_DAYS, &after.to_string())?;
        ctx.audit(
            tx,
            "setting",
            None,
            OFFSET_DAYS,
            Some(&before),
            Some(&after),
        )
    })?;
    ws.set_clock(ws.clock().advanced(TimeDelta::days(days)));
    view(ws)
}

/// Back to the real time.
pub fn reset(ws: &mut Workspace) -> Result<ClockView> {
    let before = offset_days(ws.conn())?;
    if before == 0 {
        return view(ws);
    }
    ws.write(|tx, ctx| {
        store_settings::set(tx, OFFSET_DAYS, "0")?;
        ctx.audit(tx, "setting", None, OFFSET_DAYS, Some(&before), Some(&0))
    })?;
    ws.set_clock(ws.clock().advanced(TimeDelta::days(-before)));
    view(ws)
}
