//! [`Secret`]: an API token or key in memory.

use std::fmt;

/// A token, key or password. It never prints: `Debug` and `Display` show `<redacted>`, and it
/// implements neither `Serialize` nor `Deserialize`, so it cannot slip into JSON (IPC replies,
/// exports, the job table). Read it with [`Secret::expose`] at the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const REDACTED: &'static str = "<redacted>";

    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Call it only to put the value on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

/// Replaces every occurrence of the given secrets in `text` by `<redacted>` (used on body
/// excerpts and messages that come back from a server, which may echo what it received).
pub(crate) fn scrub(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        // Very short values would redact ordinary words; tokens are long.
        if s.expose().len() >= 4 {
            out = out.replace(s.expose(), Secret::REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let s = Secret::new("sk_live_abcdef123456");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{s:#?}"), "<redacted>");
        assert_eq!(format!("{:>30}", s).trim(), "<redacted>");
        assert_eq!(s.expose(), "sk_live_abcdef123456");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            token: Secret,
        }
        let h = Holder { token: s.clone() };
        assert!(!format!("{h:?}").contains("abcdef"));
        assert!(!format!("{h:#?}").contains("abcdef"));
    }

    #[test]
    fn scrub_removes_echoed_secrets() {
        let s = Secret::new("TOKEN123");
        assert_eq!(
            scrub("bad token TOKEN123 here", &[s]),
            "bad token <redacted> here"
        );
    }
}
