//! Hostdesk's drivers for remote hosting servers, over HTTP. No Tauri, no SQL.
//!
//! - [`HostingDriver`]: the async trait the job runner calls (`Arc<dyn HostingDriver>`).
//! - [`AegirDriver`] (hosting_saas, asynchronous tasks), [`WhmDriver`] (cPanel WHM API 1),
//!   [`CaddyDriver`] (Caddy admin API, static sites).
//! - [`IssueTracker`]: the provider's issue tracker, where support tiers grant a role;
//!   [`RedmineTracker`] (Redmine REST API).
//! - [`RemoteError`]: one typed error, with [`RemoteError::is_retryable`].
//! - [`Secret`]: tokens in memory, printed as `<redacted>`.
//!
//! TLS is rustls with the platform's trusted roots, always verified.

pub mod aegir;
pub mod caddy;
pub mod driver;
pub mod error;
pub mod http;
mod json;
pub mod payments;
pub mod secret;
pub mod tracker;
pub mod types;
pub mod whm;

pub use aegir::{AegirConfig, AegirDriver};
pub use caddy::{CaddyConfig, CaddyDriver};
pub use driver::HostingDriver;
pub use error::RemoteError;
pub use http::{install_crypto_provider, parse_base_url, HttpConfig, PollConfig};
pub use payments::{
    AuthorizeNetConfig, AuthorizeNetGateway, ChargeOutcome, ChargeRequest, CustomerOutcome,
    GatewayKind, NewCustomer, PaymentGateway, PaymentToken, RefundKind, RefundOutcome,
    RefundRequest, StoredPaymentMethod, StripeConfig, StripeGateway,
};
pub use secret::Secret;
pub use tracker::{IssueTracker, RedmineConfig, RedmineTracker, TrackerKind};
pub use types::*;
pub use whm::{WhmConfig, WhmDriver};
