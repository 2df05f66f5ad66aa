//! The Hostdesk domain core: plain types and rules, no I/O.
//!
//! - [`money`]: exact amounts in integer minor units per ISO 4217 currency.
//! - [`validate`]: the field rules shared by the CLI, the app and the UI forms.
//! - [`client`], [`catalog`]: the commercial model's drafts and their validation.
//! - [`retention`], [`term`]: which backups to keep, when sites back up, and the end of trials.

pub mod billing;
pub mod catalog;
pub mod client;
pub mod error;
pub mod money;
pub mod period;
pub mod retention;
pub mod term;
pub mod validate;

pub use error::{CoreError, Errors, FieldError};
pub use money::{Currency, Money};
