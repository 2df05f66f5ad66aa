//! Hostdesk's drivers for remote hosting servers, over HTTP. No Tauri, no SQL.
//!
//! - [`HostingDriver`]: the async trait the job runner calls (`Arc<dyn HostingDriver>`).
//! - [`AegirDriver`] (hosting_saas, asynchronous tasks), [`WhmDriver`] (cPanel WHM API 1),
//!   [`CaddyDriver`] (Caddy admin API, static sites).
//! - [`IssueTracker`]: the provider's issue tracker, where support tiers grant a role;
//!   [`RedmineTracker`] (Redmine REST API).
//! - [`Registrar`]: domain registrars; [`NamecheapRegistrar`]. [`dns`]: PowerDNS zones and a
//!   resolver; [`certs`]: certificates read from PEM or from a site's TLS handshake.
//! - [`RemoteError`]: one typed error, with [`RemoteError::is_retryable`].
//! - [`Secret`]: tokens in memory, printed as `<redacted>`.
//!
//! TLS is rustls with the platform's trusted roots, always verified.

pub mod aegir;
pub mod caddy;
pub mod caddy_log;
pub mod certs;
pub mod dns;
pub mod driver;
pub mod error;
pub mod http;
mod json;
pub mod payments;
pub mod registrar;
pub mod secret;
pub mod tracker;
pub mod types;
pub mod whm;

pub use aegir::{AegirConfig, AegirDriver};
pub use caddy::{CaddyConfig, CaddyDriver, CaddyTls};
pub use driver::HostingDriver;
pub use error::RemoteError;
pub use http::{install_crypto_provider, parse_base_url, HttpConfig, PollConfig};
pub use payments::{
    AuthorizeNetConfig, AuthorizeNetGateway, ChargeOutcome, ChargeRequest, CustomerOutcome,
    GatewayKind, NewCustomer, PaymentGateway, PaymentToken, RefundKind, RefundOutcome,
    RefundRequest, StoredPaymentMethod, StripeConfig, StripeGateway,
};
pub use registrar::{NamecheapConfig, NamecheapRegistrar, Registrar};
pub use secret::Secret;
pub use tracker::{IssueTracker, RedmineConfig, RedmineTracker, TrackerKind};
pub use types::*;
pub use whm::{WhmConfig, WhmDriver};
