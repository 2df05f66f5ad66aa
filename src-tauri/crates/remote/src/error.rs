//! [`RemoteError`]: the one error type of the drivers.

use serde::{Deserialize, Serialize};

use crate::types::Operation;

/// What went wrong talking to a hosting server, precise enough for staff to act on.
///
/// Messages never contain a secret: tokens travel in headers only, URLs are shown without their
/// query string, and body excerpts are cut to [`BODY_EXCERPT_CHARS`] and scrubbed of the
/// driver's secrets.
///
/// Serializes as `{"code": "...", "detail": ...}` so the job queue can store it as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", content = "detail", rename_all = "snake_case")]
pub enum RemoteError {
    /// The server's host name does not resolve (typo, or no network / no DNS).
    #[error("cannot resolve the host name of {endpoint}: {detail}")]
    Dns { endpoint: String, detail: String },
    /// No TCP connection: refused (nothing listens there), unreachable network, reset.
    #[error("cannot connect to {endpoint}: {detail}")]
    Connect { endpoint: String, detail: String },
    /// The TLS handshake failed: untrusted or expired certificate, wrong host name, not TLS.
    #[error("secure connection (TLS) to {endpoint} failed: {detail}")]
    Tls { endpoint: String, detail: String },
    /// No (complete) answer in time: a request timeout, or a remote task still unfinished when
    /// the bounded poll gave up.
    #[error("{what} did not finish within {after_ms} ms")]
    Timeout { what: String, after_ms: u64 },
    /// HTTP 401 or 403: the API token is wrong, revoked, or lacks the permission.
    #[error("{endpoint} refused the credentials (HTTP {status}): check the server's API token and its permissions")]
    Auth { endpoint: String, status: u16 },
    /// Any other HTTP status that is not success, with an excerpt of the body.
    #[error("{endpoint} answered HTTP {status}: {body}")]
    Http {
        endpoint: String,
        status: u16,
        body: String,
    },
    /// The server answered (usually HTTP 200) but not what its API promises: garbage, an empty
    /// body, `false`, or JSON of an unexpected shape.
    #[error("unexpected reply from {endpoint}: {detail}")]
    Protocol { endpoint: String, detail: String },
    /// The remote API understood the request and said no (WHM `metadata.result = 0`, an Aegir
    /// task that ended in error, Caddy refusing a configuration), with its reason.
    #[error("{reason}")]
    Remote { reason: String },
    /// This driver cannot do that operation (see [`crate::Capabilities`]).
    #[error("this server type cannot {0}")]
    NotSupported(Operation),
    /// Refused locally before anything was sent (bad domain, wrong master domain, plain HTTP to a
    /// remote host, missing field).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// How many characters of a body an error keeps.
pub const BODY_EXCERPT_CHARS: usize = 300;

impl RemoteError {
    /// A stable machine code (`"dns"`, `"connect"`, `"tls"`, `"timeout"`, `"auth"`, `"http"`,
    /// `"protocol"`, `"remote"`, `"not_supported"`, `"invalid_request"`).
    pub fn code(&self) -> &'static str {
        match self {
            RemoteError::Dns { .. } => "dns",
            RemoteError::Connect { .. } => "connect",
            RemoteError::Tls { .. } => "tls",
            RemoteError::Timeout { .. } => "timeout",
            RemoteError::Auth { .. } => "auth",
            RemoteError::Http { .. } => "http",
            RemoteError::Protocol { .. } => "protocol",
            RemoteError::Remote { .. } => "remote",
            RemoteError::NotSupported(_) => "not_supported",
            RemoteError::InvalidRequest(_) => "invalid_request",
        }
    }

    /// Should the job queue try the same operation again later (with backoff)?
    ///
    /// The rule is "could the same call succeed later *and* is calling again safe". Calling again
    /// is safe because every driver operation reconciles before it acts (create checks whether
    /// the account / site / route already exists, suspend checks whether it is suspended, delete
    /// treats "already gone" as done), so an effect whose reply was lost is found, not repeated.
    ///
    /// - yes: `Dns` (mostly "laptop offline"), `Connect` (server down or restarting), `Timeout`
    ///   (the request or remote task may still complete: the retry finds it), HTTP 5xx except
    ///   501/505, and 408 / 425 / 429 (asked to come back later).
    /// - no: `Auth` (a person must fix the token), other 4xx (the request itself is wrong), `Tls`
    ///   (a certificate problem does not heal itself and must not be bypassed), `Remote` (the API
    ///   said no, with a reason: repeating gets the same answer), `NotSupported`,
    ///   `InvalidRequest`.
    /// - no: `Protocol`. The server did answer, but we cannot tell what it did. After a POST the
    ///   effect is unknown; the usual causes (a URL pointing at a web page or a proxy's login
    ///   page, a module that is off, Aegir's `false` for a refused task) do not go away by
    ///   themselves; and not every operation can be reconciled (a second backup is a second
    ///   backup). Staff look at the job and retry it by hand.
    pub fn is_retryable(&self) -> bool {
        match self {
            RemoteError::Dns { .. } | RemoteError::Connect { .. } | RemoteError::Timeout { .. } => {
                true
            }
            RemoteError::Http { status, .. } => match *status {
                408 | 425 | 429 => true,
                501 | 505 => false,
                s => (500..600).contains(&s),
            },
            RemoteError::Tls { .. }
            | RemoteError::Auth { .. }
            | RemoteError::Protocol { .. }
            | RemoteError::Remote { .. }
            | RemoteError::NotSupported(_)
            | RemoteError::InvalidRequest(_) => false,
        }
    }

    pub(crate) fn remote(reason: impl Into<String>) -> Self {
        RemoteError::Remote {
            reason: reason.into(),
        }
    }
}

/// Cuts a body to an excerpt fit for an error message: control characters become spaces,
/// whitespace runs shrink, at most [`BODY_EXCERPT_CHARS`] characters.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut last_space = false;
    let mut count = 0;
    for ch in text.chars() {
        let ch = if ch.is_control() || ch.is_whitespace() {
            ' '
        } else {
            ch
        };
        if ch == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        if count == BODY_EXCERPT_CHARS {
            out.push('…');
            break;
        }
        out.push(ch);
        count += 1;
    }
    let out = out.trim().to_owned();
    if out.is_empty() {
        "(empty body)".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> RemoteError {
        RemoteError::Http {
            endpoint: "x".into(),
            status,
            body: String::new(),
        }
    }

    #[test]
    fn retry_rules() {
        for s in [500, 502, 503, 504, 408, 425, 429] {
            assert!(http(s).is_retryable(), "{s}");
        }
        for s in [400, 404, 409, 410, 422, 501, 505] {
            assert!(!http(s).is_retryable(), "{s}");
        }
        assert!(!RemoteError::remote("no").is_retryable());
        assert!(!RemoteError::NotSupported(Operation::Backup).is_retryable());
    }

    #[test]
    fn excerpt_is_short_and_clean() {
        let long = "a\n\n\tb ".repeat(500);
        let e = excerpt(long.as_bytes());
        assert!(e.chars().count() <= BODY_EXCERPT_CHARS + 1);
        assert!(e.starts_with("a b a b"));
        assert_eq!(excerpt(b""), "(empty body)");
    }

    #[test]
    fn serializes_with_a_code() {
        let v = serde_json::to_value(RemoteError::Auth {
            endpoint: "https://h/x".into(),
            status: 401,
        })
        .unwrap();
        assert_eq!(v["code"], "auth");
        assert_eq!(v["detail"]["status"], 401);
    }
}
