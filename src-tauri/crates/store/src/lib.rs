//! Hostdesk's SQLite store. Opening a [`Store`] sets the pragmas (WAL, foreign keys, busy
//! timeout), refuses a database newer than this binary, and migrates an older one.
//! Repositories are plain functions over a `&Connection`, so a use case can run several of them
//! in one transaction.

pub mod access;
pub mod audit;
pub mod backups;
pub mod catalog;
pub mod clients;
mod db;
pub mod domains;
pub mod dunning;
mod error;
pub mod invoices;
pub mod jobs;
pub mod late_usage;
pub mod lifecycle;
pub mod migrations;
pub mod orders;
pub mod outbox;
pub mod refunds;
pub mod servers;
pub mod settings;
pub mod status;
pub mod subscriptions;
pub mod usage;

pub use db::Store;
pub use error::StoreError;
pub use rusqlite::{
    Connection, Error as RusqliteError, OptionalExtension, Transaction, TransactionBehavior,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
