//! Where server API tokens live: never in the database, the logs, exports or IPC replies.
//!
//! - [`KeyringStore`] (the default): the OS keyring through the `keyring` crate, with its
//!   platform backend named explicitly (Secret Service over D-Bus on Linux, the Keychain on
//!   macOS, the Credential Manager on Windows). Entries are service `hostdesk`, user
//!   `server:NAME`.
//! - [`EnvStore`]: an explicit opt-in for machines without a keyring (a headless server, a CI
//!   job): with `HOSTDESK_SECRETS=env`, the token of server `web1` is read from the environment
//!   variable `HOSTDESK_TOKEN_WEB1` (the name upper-cased, every character that is not a letter
//!   or a digit turned into `_`). This store never writes anything: setting a token through it
//!   is an error that tells which variable to export.
//! - [`MemoryStore`]: for tests.
//!
//! Where no keyring is reachable, the keyring store fails with [`SecretError::Unavailable`],
//! whose message names the opt-in. There is no silent plaintext fallback.
//!
//! Tokens travel as [`Secret`] (prints `<redacted>`, not serializable).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use hostdesk_remote::Secret;

use crate::{AppError, ErrorCode};

/// The variable that picks the secret store: unset or `keyring` (the OS keyring), or `env`.
pub const SECRETS_VAR: &str = "HOSTDESK_SECRETS";
/// The prefix of the variables [`EnvStore`] reads.
pub const TOKEN_VAR_PREFIX: &str = "HOSTDESK_TOKEN_";
/// The keyring service name of Hostdesk's entries.
pub const KEYRING_SERVICE: &str = "hostdesk";

/// What went wrong reaching a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No keyring could be reached (no D-Bus session, no Secret Service, locked, denied...).
    #[error("{0}")]
    Unavailable(String),
    /// The store is read-only (the environment).
    #[error("{0}")]
    ReadOnly(String),
    /// The keyring answered with an error.
    #[error("{0}")]
    Failed(String),
}

impl From<SecretError> for AppError {
    fn from(e: SecretError) -> Self {
        let code = match e {
            SecretError::ReadOnly(_) => ErrorCode::Invalid,
            SecretError::Unavailable(_) | SecretError::Failed(_) => ErrorCode::Io,
        };
        AppError::new(code, e.to_string())
    }
}

/// Tokens by server name.
pub trait SecretStore: Send + Sync {
    /// A short label for messages ("the OS keyring", "the environment").
    fn label(&self) -> String;
    /// The token of the server, `None` when none is stored.
    fn get(&self, server: &str) -> Result<Option<Secret>, SecretError>;
    fn set(&self, server: &str, token: &Secret) -> Result<(), SecretError>;
    /// Removes the token; removing a token that is not there is not an error.
    fn delete(&self, server: &str) -> Result<(), SecretError>;
}

/// The store named by `HOSTDESK_SECRETS`: the OS keyring unless it says `env`.
pub fn from_env() -> Result<Arc<dyn SecretStore>, AppError> {
    let choice = std::env::var(SECRETS_VAR).unwrap_or_default();
    match choice.trim() {
        "" | "keyring" => Ok(Arc::new(KeyringStore::new())),
        "env" => Ok(Arc::new(EnvStore)),
        other => Err(AppError::invalid(
            SECRETS_VAR,
            format!(
                "{SECRETS_VAR}='{other}' is not a secret store: leave it unset for the OS keyring, or set it to 'env' to read tokens from {TOKEN_VAR_PREFIX}<SERVER> variables"
            ),
        )),
    }
}

/// The variable [`EnvStore`] reads for a server: `HOSTDESK_TOKEN_` + the name upper-cased with
/// anything but letters and digits as `_` (`web-1.eu` → `HOSTDESK_TOKEN_WEB_1_EU`); the SMTP
/// password's is `HOSTDESK_SMTP_PASSWORD`.
pub fn token_var(server: &str) -> String {
    if server.trim() == crate::mail::SMTP_SECRET {
        return crate::mail::smtp::SMTP_PASSWORD_VAR.to_owned();
    }
    let tail: String = server
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{TOKEN_VAR_PREFIX}{tail}")
}

fn unavailable_hint() -> String {
    format!(
        "start a keyring (on Linux: a desktop session's Secret Service such as gnome-keyring or KWallet), \
         or opt in to reading tokens from the environment with {SECRETS_VAR}=env and {TOKEN_VAR_PREFIX}<SERVER> variables"
    )
}

/// The OS keyring.
#[derive(Debug, Default, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new() -> Self {
        KeyringStore {
            service: KEYRING_SERVICE.into(),
        }
    }

    /// A store under another service name (tests keep their entries apart).
    pub fn with_service(service: &str) -> Self {
        KeyringStore {
            service: service.into(),
        }
    }

    fn user(server: &str) -> String {
        // Entries that are not a server's token name themselves with a prefix (`mail:smtp`,
        // the SMTP password); server names cannot contain ':'.
        if server.contains(':') {
            return server.trim().to_lowercase();
        }
        format!("server:{}", server.trim().to_lowercase())
    }
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
mod os {
    use super::*;

    /// An entry of the platform's keyring, built with that backend by name (never the mock).
    fn entry(service: &str, user: &str) -> keyring::Result<keyring::Entry> {
        #[cfg(target_os = "linux")]
        {
            let cred = keyring::secret_service::SsCredential::new_with_target(None, service, user)?;
            Ok(keyring::Entry::new_with_credential(Box::new(cred)))
        }
        #[cfg(target_os = "macos")]
        {
            let cred = keyring::macos::MacCredential::new_with_target(None, service, user)?;
            Ok(keyring::Entry::new_with_credential(Box::new(cred)))
        }
        #[cfg(target_os = "windows")]
        {
            let cred = keyring::windows::WinCredential::new_with_target(None, service, user)?;
            Ok(keyring::Entry::new_with_credential(Box::new(cred)))
        }
    }

    pub(super) const BACKEND: &str = if cfg!(target_os = "linux") {
        "the Secret Service (D-Bus)"
    } else if cfg!(target_os = "macos") {
        "the macOS Keychain"
    } else {
        "the Windows Credential Manager"
    };

    fn map(e: keyring::Error, server: &str) -> SecretError {
        match e {
            keyring::Error::NoStorageAccess(inner) => SecretError::Unavailable(format!(
                "the OS keyring ({BACKEND}) cannot be reached: {inner}; {}",
                unavailable_hint()
            )),
            keyring::Error::PlatformFailure(inner) => SecretError::Unavailable(format!(
                "the OS keyring ({BACKEND}) failed: {inner}; {}",
                unavailable_hint()
            )),
            other => SecretError::Failed(format!(
                "the OS keyring ({BACKEND}) refused the token of server {server}: {other}"
            )),
        }
    }

    pub(super) fn get(
        service: &str,
        user: &str,
        server: &str,
    ) -> Result<Option<Secret>, SecretError> {
        let e = entry(service, user).map_err(|e| map(e, server))?;
        match e.get_password() {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map(err, server)),
        }
    }

    pub(super) fn set(
        service: &str,
        user: &str,
        server: &str,
        token: &Secret,
    ) -> Result<(), SecretError> {
        let e = entry(service, user).map_err(|e| map(e, server))?;
        e.set_password(token.expose()).map_err(|e| map(e, server))
    }

    pub(super) fn delete(service: &str, user: &str, server: &str) -> Result<(), SecretError> {
        let e = entry(service, user).map_err(|e| map(e, server))?;
        match e.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(map(err, server)),
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod os {
    use super::*;

    pub(super) const BACKEND: &str = "none on this platform";

    fn none() -> SecretError {
        SecretError::Unavailable(format!(
            "this build of Hostdesk has no OS keyring for this platform; {}",
            unavailable_hint()
        ))
    }

    pub(super) fn get(_: &str, _: &str, _: &str) -> Result<Option<Secret>, SecretError> {
        Err(none())
    }

    pub(super) fn set(_: &str, _: &str, _: &str, _: &Secret) -> Result<(), SecretError> {
        Err(none())
    }

    pub(super) fn delete(_: &str, _: &str, _: &str) -> Result<(), SecretError> {
        Err(none())
    }
}

impl SecretStore for KeyringStore {
    fn label(&self) -> String {
        format!("the OS keyring ({})", os::BACKEND)
    }

    fn get(&self, server: &str) -> Result<Option<Secret>, SecretError> {
        os::get(&self.service, &Self::user(server), server)
    }

    fn set(&self, server: &str, token: &Secret) -> Result<(), SecretError> {
        os::set(&self.service, &Self::user(server), server, token)
    }

    fn delete(&self, server: &str) -> Result<(), SecretError> {
        os::delete(&self.service, &Self::user(server), server)
    }
}

/// Tokens from `HOSTDESK_TOKEN_<SERVER>` variables (opt-in with `HOSTDESK_SECRETS=env`).
/// Read-only: it never writes a token anywhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvStore;

impl SecretStore for EnvStore {
    fn label(&self) -> String {
        format!("the environment ({SECRETS_VAR}=env)")
    }

    fn get(&self, server: &str) -> Result<Option<Secret>, SecretError> {
        Ok(std::env::var(token_var(server))
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| Secret::new(v.trim())))
    }

    fn set(&self, server: &str, _token: &Secret) -> Result<(), SecretError> {
        Err(SecretError::ReadOnly(format!(
            "{SECRETS_VAR}=env reads tokens from the environment and never stores them: export {} instead of giving a token",
            token_var(server)
        )))
    }

    fn delete(&self, _server: &str) -> Result<(), SecretError> {
        Ok(())
    }
}

/// Tokens in memory (tests). Every clone shares the same map.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    map: Arc<Mutex<HashMap<String, Secret>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn key(server: &str) -> String {
        server.trim().to_lowercase()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for MemoryStore {
    fn label(&self) -> String {
        "memory".into()
    }

    fn get(&self, server: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self.lock().get(&Self::key(server)).cloned())
    }

    fn set(&self, server: &str, token: &Secret) -> Result<(), SecretError> {
        self.lock().insert(Self::key(server), token.clone());
        Ok(())
    }

    fn delete(&self, server: &str) -> Result<(), SecretError> {
        self.lock().remove(&Self::key(server));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_variable_names() {
        assert_eq!(token_var("web1"), "HOSTDESK_TOKEN_WEB1");
        assert_eq!(token_var(" web-1.eu "), "HOSTDESK_TOKEN_WEB_1_EU");
        assert_eq!(
            token_var(crate::mail::SMTP_SECRET),
            "HOSTDESK_SMTP_PASSWORD"
        );
    }

    #[test]
    fn memory_store_round_trip_is_case_insensitive() {
        let m = MemoryStore::new();
        m.set("Web1", &Secret::new("tok-123")).unwrap();
        assert_eq!(m.get("web1").unwrap().unwrap().expose(), "tok-123");
        m.delete("WEB1").unwrap();
        assert!(m.get("web1").unwrap().is_none());
        m.delete("web1").unwrap();
    }

    #[test]
    fn env_store_never_writes() {
        let e = EnvStore;
        let err = e.set("web9", &Secret::new("x")).unwrap_err();
        assert!(matches!(err, SecretError::ReadOnly(_)));
        assert!(err.to_string().contains("HOSTDESK_TOKEN_WEB9"));
    }
}
