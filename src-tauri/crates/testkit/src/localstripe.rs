//! [`LocalStripe`]: the real `localstripe` server (PyPI, a stateful Stripe-compatible server for
//! tests) on a free loopback port, stopped on drop.
//!
//! `pip install localstripe` puts a `localstripe` executable in Python's scripts folder. It is
//! looked for, in order:
//! 1. the `HOSTDESK_LOCALSTRIPE` environment variable (a path to the executable);
//! 2. `localstripe` in the scripts folder of `python3` (`sysconfig.get_path("scripts")`);
//! 3. `localstripe` on `PATH`.
//!
//! It runs as `localstripe --port N --from-scratch` (no state loaded from an earlier run). It
//! accepts any `sk_...` key, listens on all interfaces (`::`, dual stack; tests use
//! `127.0.0.1`), and, whatever its options, rewrites `/tmp/localstripe.pickle` after every POST:
//! several instances at once overwrite that file, which does no harm with `--from-scratch`.
//!
//! What it does with the cards and calls the payment tests use (localstripe 1.15):
//! - cards `4242424242424242` approve; `4000000000000341` attaches but every charge is declined
//!   (402 `card_declined`); `4000000000000002`, `4000000000009995` (insufficient funds) and
//!   others are declined when *attached* to a customer (402 `card_declined`);
//!   `4000002500003155`, `4000002760003184`, `4000000000003220` need 3-D Secure: a confirmed
//!   PaymentIntent stays `requires_action` (HTTP 200), even with `off_session=true`;
//! - `pm_card_visa`, `pm_card_visa_chargeDeclined`, `pm_card_chargeCustomerFail` work as ids;
//! - errors are `{"error": {"type": "invalid_request_error", "code", "message", ...}}`, 402 for
//!   card problems;
//! - the `Idempotency-Key` header is ignored: the same key twice makes two objects.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hostdesk_remote::{RemoteError, Secret, StripeConfig, StripeGateway};

use crate::process;

/// What to tell someone whose machine has no localstripe.
pub const LOCALSTRIPE_MISSING: &str = "the localstripe server was not found: run `pip install localstripe` (or set HOSTDESK_LOCALSTRIPE=/path/to/localstripe)";

/// A running localstripe. Dropping it kills the process.
pub struct LocalStripe {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for LocalStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStripe")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl LocalStripe {
    /// A secret key localstripe accepts (any `sk_...` does).
    pub const SECRET_KEY: &'static str = "sk_test_hostdesk_localstripe_0123456789";

    /// Finds the executable (see the module docs).
    pub fn binary() -> Result<PathBuf, String> {
        if let Some(p) = std::env::var_os("HOSTDESK_LOCALSTRIPE").filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "HOSTDESK_LOCALSTRIPE={} is not a file; {LOCALSTRIPE_MISSING}",
                    p.display()
                ))
            };
        }
        let scripts = Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_path('scripts'))",
            ])
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        if let Some(dir) = scripts {
            let candidate = Path::new(&dir).join("localstripe");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let candidate = dir.join("localstripe");
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        Err(LOCALSTRIPE_MISSING.to_owned())
    }

    /// Starts localstripe, or says why it could not (including [`LOCALSTRIPE_MISSING`]).
    pub fn try_start() -> Result<LocalStripe, String> {
        Self::try_start_with(&Self::binary()?)
    }

    /// Starts this localstripe executable.
    pub fn try_start_with(binary: &Path) -> Result<LocalStripe, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        let port = process::free_port()?;
        let log = std::fs::File::create(dir.path().join("localstripe.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let child = Command::new(binary)
            .arg("--port")
            .arg(port.to_string())
            .arg("--from-scratch")
            .current_dir(dir.path())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot run {}: {e}; {LOCALSTRIPE_MISSING}",
                    binary.display()
                )
            })?;
        let mut ls = LocalStripe { child, port, dir };
        ls.wait_ready(Duration::from_secs(30))?;
        Ok(ls)
    }

    /// Starts localstripe or panics with the reason: a test that needs it fails (it never
    /// passes silently) and says to `pip install localstripe`.
    #[track_caller]
    pub fn start() -> LocalStripe {
        match Self::try_start() {
            Ok(ls) => ls,
            Err(e) => panic!("this test needs the real localstripe server: {e}"),
        }
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let log = self.dir.path().join("localstripe.log");
        process::wait_listening(&mut self.child, "localstripe", &[self.port], limit, &log)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A Stripe configuration pointed at this server, with the tests' short timeouts.
    pub fn stripe_config(&self) -> Result<StripeConfig, RemoteError> {
        let mut c = StripeConfig::with_base_url(&self.base_url(), Secret::new(Self::SECRET_KEY))?;
        c.http = crate::drivers::test_http();
        Ok(c)
    }

    pub fn gateway(&self) -> Result<StripeGateway, RemoteError> {
        StripeGateway::new(self.stripe_config()?)
    }

    /// What localstripe wrote to its log so far (one access line per request).
    pub fn log(&self) -> String {
        process::read_log(&self.dir.path().join("localstripe.log"))
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
