use hostdesk_core::{CoreError, FieldError};
use hostdesk_store::StoreError;
use serde::Serialize;

/// What kind of failure: the UI reacts to the code, people read the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Input failed validation; `fields` says where.
    Invalid,
    NotFound,
    /// A uniqueness or state rule was broken (duplicate code, already retired, ...).
    Conflict,
    /// The database was written by a newer Hostdesk.
    DatabaseTooNew,
    Database,
    /// A remote server or payment gateway failed or refused.
    Remote,
    Io,
    Internal,
}

/// The app's one error type; crosses IPC as `{ code, message, fields }`.
#[derive(Debug, Clone, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// Per-field problems for forms (empty unless code is `invalid`).
    pub fields: Vec<FieldErrorDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct FieldErrorDto {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorDto {
    fn from(f: &FieldError) -> Self {
        FieldErrorDto {
            field: f.field.clone(),
            message: f.message.clone(),
        }
    }
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::from(CoreError::field(field, message))
    }
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        let code = match e {
            CoreError::Invalid(_) => ErrorCode::Invalid,
            CoreError::Overflow | CoreError::CurrencyMismatch(..) => ErrorCode::Invalid,
        };
        AppError {
            code,
            message: e.to_string(),
            fields: e.fields().iter().map(Into::into).collect(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            StoreError::NotFound { .. } => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::TooNew { .. } => ErrorCode::DatabaseTooNew,
            StoreError::Open { .. } => ErrorCode::Io,
            StoreError::Sqlite(_) | StoreError::Migration(_) | StoreError::Corrupt { .. } => {
                ErrorCode::Database
            }
        };
        AppError::new(code, e.to_string())
    }
}

impl From<hostdesk_store::RusqliteError> for AppError {
    fn from(e: hostdesk_store::RusqliteError) -> Self {
        AppError::from(StoreError::from(e))
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::new(ErrorCode::Io, e.to_string())
    }
}
