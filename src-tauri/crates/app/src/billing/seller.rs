//! Who issues the invoices: the reseller's details from settings.

use hostdesk_store::{settings, Connection};
use serde::Serialize;

use crate::{AppError, ErrorCode, Result};

pub const NAME: &str = "seller_name";
pub const ADDRESS: &str = "seller_address";
pub const COUNTRY: &str = "seller_country";
pub const TAX_ID: &str = "seller_tax_id";
pub const EMAIL: &str = "seller_email";
pub const PAYMENT_INSTRUCTIONS: &str = "payment_instructions";
pub const INVOICE_SERIES: &str = "invoice_series";
pub const CREDIT_NOTE_SERIES: &str = "credit_note_series";
pub const PAYMENT_TERMS_DAYS: &str = "payment_terms_days";

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Seller {
    pub name: String,
    pub address: String,
    pub country: String,
    pub tax_id: String,
    pub email: String,
    pub payment_instructions: String,
    pub invoice_series: String,
    pub credit_note_series: String,
    pub payment_terms_days: i64,
}

/// The seller; issuing needs at least a name and a country (for VAT).
pub fn load(conn: &Connection) -> Result<Seller> {
    let get = |k: &str| -> Result<String> { Ok(settings::get(conn, k)?.unwrap_or_default()) };
    let s = Seller {
        name: get(NAME)?,
        address: get(ADDRESS)?,
        country: get(COUNTRY)?,
        tax_id: get(TAX_ID)?,
        email: get(EMAIL)?,
        payment_instructions: get(PAYMENT_INSTRUCTIONS)?,
        invoice_series: Some(get(INVOICE_SERIES)?)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "INV-{YYYY}-{SEQ:6}".into()),
        credit_note_series: Some(get(CREDIT_NOTE_SERIES)?)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "CN-{YYYY}-{SEQ:6}".into()),
        payment_terms_days: get(PAYMENT_TERMS_DAYS)?.parse().unwrap_or(14),
    };
    if s.name.is_empty() || s.country.is_empty() {
        return Err(AppError::new(
            ErrorCode::Invalid,
            "set the seller's details before issuing invoices: hostdesk settings set seller_name \"…\" and seller_country FR (also seller_tax_id, seller_address, payment_instructions)",
        ));
    }
    Ok(s)
}
