//! The typed requests and outcomes of [`crate::payments::PaymentGateway`].
//!
//! Everything here is a *reference* held by the gateway (a customer id, a stored payment method
//! id, a charge id) or a single-use token made by the gateway's own browser library (Stripe.js,
//! Authorize.net Accept.js). No type here can hold a card number: Hostdesk never sees one.
//!
//! Amounts are [`Money`]: `i64` minor units of an ISO 4217 currency, no floats.
//!
//! Requests and outcomes derive `Serialize`/`Deserialize` so the job queue can keep them in its
//! table (a payment attempt is recorded before the call and after it).

use std::fmt;

use hostdesk_core::Money;
use serde::{Deserialize, Serialize};

/// Which payment gateway a driver talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    /// Stripe (customers, PaymentIntents, refunds).
    Stripe,
    /// Authorize.net with Customer Information Manager (CIM) profiles.
    AuthorizeNet,
}

impl fmt::Display for GatewayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GatewayKind::Stripe => "stripe",
            GatewayKind::AuthorizeNet => "authorize_net",
        })
    }
}

/// A single-use token for a card (or bank account) that the customer typed into the
/// gateway's own form. The gateway turns it into a stored payment method; Hostdesk keeps only
/// the references that come back ([`StoredPaymentMethod`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentToken {
    /// A Stripe PaymentMethod id (`pm_...`) made by Stripe.js / Elements or a SetupIntent.
    StripePaymentMethod { id: String },
    /// Authorize.net Accept.js opaque data (`dataDescriptor`, usually
    /// `COMMON.ACCEPT.INAPP.PAYMENT`, and the nonce in `dataValue`; valid 15 minutes, once).
    AcceptNonce { descriptor: String, value: String },
}

impl PaymentToken {
    /// Accept.js' descriptor for a card nonce.
    pub const ACCEPT_DESCRIPTOR: &'static str = "COMMON.ACCEPT.INAPP.PAYMENT";

    /// An Accept.js nonce with the usual descriptor.
    pub fn accept_nonce(value: impl Into<String>) -> Self {
        PaymentToken::AcceptNonce {
            descriptor: Self::ACCEPT_DESCRIPTOR.into(),
            value: value.into(),
        }
    }

    pub fn stripe(id: impl Into<String>) -> Self {
        PaymentToken::StripePaymentMethod { id: id.into() }
    }
}

/// Creates the client's customer record at the gateway with one stored payment method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    /// Our reference for the client (e.g. its id or number). Authorize.net keeps at most 20
    /// characters of it (`merchantCustomerId`); Stripe keeps it in `metadata`.
    pub reference: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub description: Option<String>,
    pub token: PaymentToken,
    /// The same key on a retry makes the gateway create the customer once.
    pub idempotency_key: String,
}

/// A customer and one of its payment methods, as stored at the gateway: what a charge needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoredPaymentMethod {
    /// Stripe `cus_...`; Authorize.net `customerProfileId`.
    pub customer_ref: String,
    /// Stripe `pm_...`; Authorize.net `customerPaymentProfileId`.
    pub payment_method_ref: String,
}

/// What [`crate::payments::PaymentGateway::create_customer`] gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CustomerOutcome {
    /// The customer and its payment method are stored at the gateway. `already_existed`: an
    /// earlier attempt (whose reply was lost) had created them, and they were found.
    Created {
        stored: StoredPaymentMethod,
        already_existed: bool,
    },
    /// The gateway refused to store the card (e.g. Stripe declines attaching
    /// `card_declined` / `insufficient_funds` cards). Nothing is stored; ask for another card.
    Declined { code: String, message: String },
}

impl CustomerOutcome {
    pub fn stored(&self) -> Option<&StoredPaymentMethod> {
        match self {
            CustomerOutcome::Created { stored, .. } => Some(stored),
            CustomerOutcome::Declined { .. } => None,
        }
    }
}

/// Charges a stored payment method, off session (the customer is not there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    pub source: StoredPaymentMethod,
    /// Positive, in the currency the gateway account accepts.
    pub amount: Money,
    /// One key per payment attempt, reused unchanged on every retry of that attempt.
    pub idempotency_key: String,
    /// Shown at the gateway next to the charge (e.g. the invoice number). Optional.
    pub reference: Option<String>,
    /// 1 for the first try of this key, 2 and more for retries after an unclear failure. A
    /// driver whose gateway has no idempotency keys (Authorize.net) looks for the earlier charge
    /// before charging again when `attempt > 1`.
    pub attempt: u32,
}

/// What a charge came to. Transport failures are not here: they are [`crate::RemoteError`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ChargeOutcome {
    /// The money is taken. `id` is the gateway's charge id (Stripe PaymentIntent `pi_...`,
    /// Authorize.net `transId`); refunds take it. `replayed`: the gateway said this is the
    /// charge an earlier attempt with the same key made (nothing was charged twice).
    Charged { id: String, replayed: bool },
    /// The gateway accepted the charge but has not decided yet (Authorize.net "held for
    /// review", Stripe `processing`). Not money yet; do not charge again: look again later or
    /// let staff decide in the gateway.
    Pending { id: String, message: String },
    /// The bank or the gateway said no (`card_declined`, `insufficient_funds`,
    /// `expired_card`, Authorize.net reason codes as `anet_2`...). Not retryable by us with the
    /// same key; dunning may try again later with a new key.
    Declined {
        code: String,
        message: String,
        /// The failed charge's id, when the gateway made one.
        id: Option<String>,
    },
    /// The customer must act (3-D Secure / strong customer authentication): an off-session
    /// charge cannot go through until they confirm it on the gateway's page. Not retryable by
    /// us; send the customer a payment link.
    AuthenticationRequired {
        code: String,
        message: String,
        /// Stripe: the PaymentIntent waiting for the customer.
        id: Option<String>,
    },
}

impl ChargeOutcome {
    /// The charge id, when there is one.
    pub fn charge_id(&self) -> Option<&str> {
        match self {
            ChargeOutcome::Charged { id, .. } | ChargeOutcome::Pending { id, .. } => Some(id),
            ChargeOutcome::Declined { id, .. }
            | ChargeOutcome::AuthenticationRequired { id, .. } => id.as_deref(),
        }
    }

    pub fn is_charged(&self) -> bool {
        matches!(self, ChargeOutcome::Charged { .. })
    }
}

/// Gives money back on a charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    /// The id a [`ChargeOutcome::Charged`] gave.
    pub charge_id: String,
    /// `None`: the whole charge. `Some`: a partial refund of this much.
    pub amount: Option<Money>,
    /// One key per refund, reused unchanged on every retry of it.
    pub idempotency_key: String,
    pub attempt: u32,
}

/// How the money went back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundKind {
    /// A refund that succeeded.
    Refund,
    /// A refund the gateway accepted and will finish later (Stripe `pending`).
    PendingRefund,
    /// The charge was not settled yet, so it was voided: the customer is never charged.
    Void,
}

/// What a refund came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RefundOutcome {
    /// `id`: the refund's id (Stripe `re_...`, Authorize.net the refund's `transId`, or the
    /// voided charge's own id). `replayed`: an earlier attempt with the same key had done it.
    Refunded {
        id: String,
        kind: RefundKind,
        replayed: bool,
    },
    /// The gateway refused (already refunded, more than was charged, Authorize.net cannot
    /// refund part of an unsettled charge yet: `not_settled`, try again after settlement).
    Rejected { code: String, message: String },
}
