//! Billing use cases: the bill run, invoices, payments (manual, and charges of stored payment
//! methods), dunning, credit notes and usage. The rules are
//! the core's (`hostdesk_core::billing`); this module feeds them from the store and writes what
//! they return, one client per transaction.

pub mod bill_run;
pub mod changes;
pub mod charge;
pub mod dunning;
pub mod invoices;
pub(crate) mod issue;
pub mod pdf;
pub mod refund;
pub mod seller;
mod settle;
pub mod usage;

use hostdesk_core::{Currency, Money};

use crate::{AppError, ErrorCode, Result};

pub(crate) fn currency(code: &str) -> Result<Currency> {
    Currency::from_code(code).map_err(|m| AppError::new(ErrorCode::Database, m))
}

pub(crate) fn money(minor: i64, code: &str) -> Result<Money> {
    Ok(Money::new(minor, currency(code)?))
}
