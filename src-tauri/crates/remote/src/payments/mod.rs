//! Payment gateways that hold stored references only: Hostdesk never sees a card number.
//!
//! - [`PaymentGateway`]: the async trait the job runner calls (`Arc<dyn PaymentGateway>`).
//! - [`StripeGateway`]: customers, PaymentIntents (`off_session=true&confirm=true`), refunds,
//!   an `Idempotency-Key` header on every POST.
//! - [`AuthorizeNetGateway`]: Authorize.net CIM profiles and `createTransactionRequest`; no
//!   idempotency header exists there, so the key travels as `refId`/`invoiceNumber` with a
//!   duplicate window (see [`authnet`]).
//! - [`types`]: requests and typed outcomes ([`ChargeOutcome::Charged`],
//!   [`ChargeOutcome::Declined`], [`ChargeOutcome::AuthenticationRequired`], ...). Transport
//!   failures are [`RemoteError`]s with [`RemoteError::is_retryable`].

use std::fmt;

use async_trait::async_trait;

use crate::error::RemoteError;

pub mod authnet;
pub mod stripe;
pub mod types;

pub use authnet::{AuthorizeNetConfig, AuthorizeNetGateway};
pub use stripe::{StripeConfig, StripeGateway};
pub use types::*;

/// A payment gateway's driver. Object-safe (`Arc<dyn PaymentGateway>`), `Send + Sync`, every
/// future `Send` (through `async_trait`).
///
/// Each call makes its request(s) once: retrying is the job queue's business (see
/// [`RemoteError::is_retryable`]). Retrying with the **same idempotency key** never charges or
/// refunds twice:
///
/// | operation | idempotency |
/// |---|---|
/// | `create_customer` | Stripe: `Idempotency-Key`. Authorize.net: a profile with the same `merchantCustomerId` is found (E00039) and returned as `already_existed` |
/// | `charge` | Stripe: `Idempotency-Key` (a replay returns the first PaymentIntent). Authorize.net: the key becomes `invoiceNumber`/`refId`, sent with `duplicateWindow`; a repeat inside the window comes back as "duplicate" with the first `transId`, and a retry (`attempt > 1`) first looks the key up in the customer's transaction list |
/// | `refund` | the same as `charge` |
/// | `test_connection` | read-only |
///
/// Outcomes the customer or the bank decided (declined, authentication required, held) are
/// `Ok` values, not errors: repeating the call gets the same answer.
#[async_trait]
pub trait PaymentGateway: Send + Sync + fmt::Debug {
    fn kind(&self) -> GatewayKind;

    /// Checks the address and credentials with a read-only call.
    async fn test_connection(&self) -> Result<(), RemoteError>;

    /// Stores a customer and the payment method behind `req.token` at the gateway.
    async fn create_customer(&self, req: &NewCustomer) -> Result<CustomerOutcome, RemoteError>;

    /// Charges a stored payment method any amount.
    async fn charge(&self, req: &ChargeRequest) -> Result<ChargeOutcome, RemoteError>;

    /// Refunds a charge in full (`amount: None`) or in part.
    async fn refund(&self, req: &RefundRequest) -> Result<RefundOutcome, RemoteError>;
}

/// An idempotency key must be present, printable ASCII without spaces, and short enough for
/// every gateway (Stripe accepts 255 characters).
pub(crate) fn check_key(key: &str) -> Result<(), RemoteError> {
    let ok = !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(RemoteError::InvalidRequest(format!(
            "'{key}' is not an idempotency key (1 to 255 printable characters, no spaces)"
        )))
    }
}

/// A positive amount.
pub(crate) fn check_amount(amount: &hostdesk_core::Money) -> Result<(), RemoteError> {
    if amount.minor > 0 {
        Ok(())
    } else {
        Err(RemoteError::InvalidRequest(format!(
            "the amount must be positive, not {} {}",
            amount.amount_string(),
            amount.currency
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(check_key("pay-42-1").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(check_key("é").is_err());
    }
}
