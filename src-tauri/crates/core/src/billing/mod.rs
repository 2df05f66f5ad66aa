//! Billing rules as pure functions: no SQL, no HTTP, no clock, no Tauri.
//!
//! The store and the app feed these functions with plain values (dates already converted to
//! the client's time zone, prices as [`Money`](crate::Money), tax rates in basis points) and
//! persist what they return.
//!
//! - [`dates`]: the client's local calendar date of an instant; billing cycles and periods.
//! - [`proration`]: price x days remaining / days in period, rounded once, half-up.
//! - [`recurring`]: the recurring line of a period and the prorated first charge of an order.
//! - [`changes`]: upgrade (at once: credit + charge), downgrade (at period end), cancel.
//! - [`quota`]: `A + max(0, U - Q) x O` per resource and period, with the rate frozen on the line.
//! - [`tax`]: tax per line in basis points; EU VAT rates and who charges what.
//! - [`line`]: the typed invoice line draft and its idempotency key.
//! - [`invoice`]: one consolidated invoice draft per client, billing date and currency; totals.
//! - [`numbering`]: issue numbers from a series pattern such as `INV-{YYYY}-{SEQ:6}`.
//! - [`credit_note`]: credit notes mirroring issued lines, never crediting more than remains.
//! - [`pricing`]: an order's recurring price: product or kit + option modifiers + tier.
//! - [`payments`]: allocating a payment or a client credit balance to an invoice.

pub mod changes;
pub mod credit_note;
pub mod dates;
pub mod invoice;
pub mod line;
pub mod numbering;
pub mod payments;
pub mod pricing;
pub mod proration;
pub mod quota;
pub mod recurring;
pub mod tax;

#[cfg(test)]
mod tests;

pub use changes::{
    cancel, change_plan, downgrade, upgrade, CancelRequest, CancelWhen, Cancellation,
    ChangeOutcome, PlanChange, Upgrade,
};
pub use credit_note::{
    draft_credit_note, CreditAmount, CreditNoteDraft, CreditNoteLine, CreditRequest, CreditableLine,
};
pub use dates::{local_date, local_day_start, BillingCycle, BillingPeriod};
pub use invoice::{only_missing, totals, InvoiceDraft, TaxBreakdown, Totals};
pub use line::{line_key, manual_key, LineDraft, LineInput, LineKind};
pub use numbering::{check_series_pattern, format_issue_number};
pub use payments::{
    allocate_payment, apply_client_credit, payment_status, CreditApplication, PaymentAllocation,
    PaymentStatus,
};
pub use pricing::{recurring_price, PricePart};
pub use proration::{prorate, prorate_from, Proration};
pub use quota::{
    late_usage_line, usage_amount, usage_lines, LateUsage, UsageCharge, UsageFacts, UsageRate,
};
pub use recurring::{first_charge, first_charge_line, recurring_line, FirstCharge};
pub use tax::{
    decide_tax, eu_standard_rate, is_eu_country, tax_on, Buyer, TaxDecision, TaxTreatment,
    EU_STANDARD_RATES, MAX_TAX_RATE_BPS,
};

use crate::CoreError;

/// A validation failure on one named input.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::field(field, message)
}
