//! Billing use cases: the bill run, invoices, payments, credit notes and usage. The rules are
//! the core's (`hostdesk_core::billing`); this module feeds them from the store and writes what
//! they return, one client per transaction.

pub mod bill_run;
pub mod invoices;
pub mod pdf;
pub mod seller;
pub mod usage;

use hostdesk_core::{Currency, Money};

use crate::{AppError, ErrorCode, Result};

pub(crate) fn currency(code: &str) -> Result<Currency> {
    Currency::from_code(code).map_err(|m| AppError::new(ErrorCode::Database, m))
}

pub(crate) fn money(minor: i64, code: &str) -> Result<Money> {
    Ok(Money::new(minor, currency(code)?))
}
