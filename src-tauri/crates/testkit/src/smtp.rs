//! [`RealSmtp`]: the real aiosmtpd SMTP server (PyPI `aiosmtpd`) on a loopback port, stopped on
//! drop, and the messages it received.
//!
//! It runs `python3 py/smtp_server.py` (embedded in this crate, written to a temporary folder):
//! aiosmtpd's own SMTP implementation behind a small handler that
//! - stores every accepted message, decoded by Python's `email` package ([`ReceivedMail`]);
//! - answers RCPT for a local part starting with `reject` with a permanent
//!   `550 5.1.1 ... mailbox unavailable`, and `busy` with a transient `451 4.3.0`;
//! - with [`SmtpOptions::credentials`], offers AUTH PLAIN / LOGIN without TLS (loopback only)
//!   and requires it.
//!
//! `HOSTDESK_PYTHON` names another Python than `python3`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::process;

/// What to tell someone whose machine has no aiosmtpd.
pub const SMTP_MISSING: &str =
    "the aiosmtpd SMTP server was not found: run `pip install aiosmtpd` (or set HOSTDESK_PYTHON to a Python that has it)";

const SCRIPT: &str = include_str!("../py/smtp_server.py");

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Listen on this port (default: a free one). Pick one with [`RealSmtp::free_port`] to
    /// point a client at it before the server is up.
    pub port: Option<u16>,
    /// Require AUTH with this user name and password.
    pub credentials: Option<(String, String)>,
}

/// One message the server accepted.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// Every header, decoded, in order.
    pub headers: Vec<(String, String)>,
    pub subject: String,
    pub message_id: String,
    /// The plain-text body, decoded.
    pub body: String,
    /// The message as it came over the wire.
    pub raw: String,
}

impl ReceivedMail {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running aiosmtpd. Dropping it kills the process.
pub struct RealSmtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for RealSmtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealSmtp")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

fn python() -> PathBuf {
    std::env::var_os("HOSTDESK_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

impl RealSmtp {
    /// A port nothing listens on right now.
    pub fn free_port() -> u16 {
        process::free_port().unwrap_or(0)
    }

    /// Whether aiosmtpd can be imported, else why not (including [`SMTP_MISSING`]).
    pub fn available() -> Result<(), String> {
        let out = Command::new(python())
            .args(["-c", "import aiosmtpd"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}; {SMTP_MISSING}", python().display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(SMTP_MISSING.to_owned())
        }
    }

    /// Starts aiosmtpd, or says why it could not.
    pub fn try_start(options: SmtpOptions) -> Result<RealSmtp, String> {
        Self::available()?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        let script = dir.path().join("smtp_server.py");
        std::fs::write(&script, SCRIPT).map_err(|e| format!("script: {e}"))?;
        let port = match options.port {
            Some(p) => p,
            None => process::free_port()?,
        };
        let log = std::fs::File::create(dir.path().join("smtp.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let mut cmd = Command::new(python());
        cmd.arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir.path());
        if let Some((user, password)) = &options.credentials {
            cmd.arg("--user").arg(user).arg("--password").arg(password);
        }
        let child = cmd
            .current_dir(dir.path())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}; {SMTP_MISSING}", python().display()))?;
        let mut s = RealSmtp { child, port, dir };
        s.wait_ready(Duration::from_secs(30))?;
        Ok(s)
    }

    /// Starts aiosmtpd on a free port or panics with the reason: a test that needs it fails
    /// (it never passes silently) and says to `pip install aiosmtpd`.
    #[track_caller]
    pub fn start() -> RealSmtp {
        Self::start_with(SmtpOptions::default())
    }

    #[track_caller]
    pub fn start_with(options: SmtpOptions) -> RealSmtp {
        match Self::try_start(options) {
            Ok(s) => s,
            Err(e) => panic!("this test needs the real aiosmtpd SMTP server: {e}"),
        }
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        // The script prints "ready" once aiosmtpd listens.
        if let Some(out) = self.child.stdout.take() {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
        }
        let log = self.dir.path().join("smtp.log");
        process::wait_listening(&mut self.child, "aiosmtpd", &[self.port], limit, &log)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let text =
            std::fs::read_to_string(self.dir.path().join("messages.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until at least `n` messages arrived (or `limit` passes); returns them all.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + limit;
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many successful AUTH logins the server saw.
    pub fn logins(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("logins.txt"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// What aiosmtpd wrote to stderr so far.
    pub fn log(&self) -> String {
        process::read_log(&self.dir.path().join("smtp.log"))
    }
}

impl Drop for RealSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
