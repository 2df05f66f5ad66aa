//! Hostdesk's use cases, shared by the desktop shell and the `hostdesk` CLI. Nothing here knows
//! Tauri: the shell and the CLI are thin adapters that parse arguments, call a use case and turn
//! the [`AppError`] into `{ code, message }` or a one-line error.

pub mod access;
pub mod billing;
mod blocking;
pub mod catalog;
pub mod clients;
mod clock;
pub mod demo;
pub mod domains;
mod error;
mod job_env;
pub mod jobs;
pub mod lifecycle;
pub mod mail;
mod notify;
pub mod orders;
pub mod paths;
pub mod provisioning;
pub mod runner;
pub mod sandbox;
pub mod secrets;
pub mod servers;
pub mod settings;
pub mod status;
pub mod subscriptions;
pub mod sweeps;
pub mod test_clock;
pub mod usage;
mod workspace;

pub use clock::Clock;
pub use error::{AppError, ErrorCode, FieldErrorDto};
pub use hostdesk_core as core;
pub use hostdesk_remote as remote;
pub use hostdesk_store as store;
pub use workspace::{Ctx, Workspace};

pub type Result<T, E = AppError> = std::result::Result<T, E>;
