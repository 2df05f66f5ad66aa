//! [`RealPebble`]: Let's Encrypt's ACME test server (Debian `pebble`) on free loopback ports,
//! stopped on drop.
//!
//! Pebble serves its ACME API over HTTPS with a certificate the test makes (a private CA and a
//! `localhost` / `127.0.0.1` leaf, made with `openssl`); the ACME client (Caddy) trusts that CA
//! through [`RealPebble::https_ca_path`]. Certificates pebble issues chain to a root it makes at
//! start and serves at `/roots/0` of its management port: [`RealPebble::issuing_root_pem`].
//!
//! Validation: with [`PebbleOptions::always_valid`] (`PEBBLE_VA_ALWAYS_VALID=1`) every
//! challenge passes without pebble connecting anywhere; otherwise pebble resolves the name
//! through [`PebbleOptions::dns_server`] and checks HTTP-01 on [`PebbleOptions::http_port`] and
//! TLS-ALPN-01 on [`PebbleOptions::tls_port`] of the address it finds.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::process;

/// What to tell someone whose machine has no pebble (or no openssl to make its certificate).
pub const PEBBLE_MISSING: &str =
    "pebble was not found: run `apt install pebble openssl` (or `make deps`)";

/// How pebble validates challenges.
#[derive(Debug, Clone, Default)]
pub struct PebbleOptions {
    /// Every authorization is valid without a check (`PEBBLE_VA_ALWAYS_VALID=1`).
    pub always_valid: bool,
    /// The DNS server pebble resolves names with (`-dnsserver`), e.g. a PowerDNS on loopback.
    pub dns_server: Option<SocketAddr>,
    /// The port HTTP-01 is checked on (the ACME client's plain-HTTP port).
    pub http_port: u16,
    /// The port TLS-ALPN-01 is checked on.
    pub tls_port: u16,
}

pub struct RealPebble {
    child: Child,
    acme_port: u16,
    mgmt_port: u16,
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run openssl: {e}; {PEBBLE_MISSING}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A private CA and a leaf for `localhost` and 127.0.0.1 in `dir`: ca.pem, cert.pem, key.pem.
pub fn make_test_ca(dir: &Path, leaf_names: &[&str]) -> Result<(), String> {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=Hostdesk test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca)?;
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(dir, &csr)?;
    let sans: Vec<String> = leaf_names
        .iter()
        .map(|n| {
            if n.parse::<std::net::IpAddr>().is_ok() {
                format!("IP:{n}")
            } else {
                format!("DNS:{n}")
            }
        })
        .collect();
    std::fs::write(
        dir.join("leaf.ext"),
        format!(
            "subjectAltName={}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
            sans.join(",")
        ),
    )
    .map_err(|e| e.to_string())?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-days",
            "30",
            "-extfile",
            "leaf.ext",
        ],
    )
}

impl RealPebble {
    /// Starts pebble, or says why it could not (including [`PEBBLE_MISSING`]).
    pub fn start(opts: &PebbleOptions) -> Result<RealPebble, String> {
        let binary = std::env::var_os("HOSTDESK_PEBBLE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/pebble"));
        if !binary.is_file() {
            return Err(format!("{} is missing; {PEBBLE_MISSING}", binary.display()));
        }
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        make_test_ca(dir.path(), &["localhost", "127.0.0.1"])?;
        let acme_port = process::free_port()?;
        let mut mgmt_port = process::free_port()?;
        while mgmt_port == acme_port {
            mgmt_port = process::free_port()?;
        }
        let config = json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{acme_port}"),
            "managementListenAddress": format!("127.0.0.1:{mgmt_port}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            "httpPort": opts.http_port,
            "tlsPort": opts.tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false
        }});
        let config_path = dir.path().join("pebble.json");
        std::fs::write(&config_path, config.to_string()).map_err(|e| format!("config: {e}"))?;
        let log = std::fs::File::create(dir.path().join("pebble.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let mut cmd = Command::new(&binary);
        cmd.arg("-config").arg(&config_path);
        if let Some(dns) = opts.dns_server {
            cmd.arg("-dnsserver").arg(dns.to_string());
        }
        cmd.env("PEBBLE_VA_NOSLEEP", "1")
            // No random "badNonce" refusals: the test is about issuance, not client retries.
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env(
                "PEBBLE_VA_ALWAYS_VALID",
                if opts.always_valid { "1" } else { "0" },
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}; {PEBBLE_MISSING}", binary.display()))?;
        let mut p = RealPebble {
            child,
            acme_port,
            mgmt_port,
            dir,
        };
        p.wait_ready(Duration::from_secs(20))?;
        Ok(p)
    }

    #[track_caller]
    pub fn require(opts: &PebbleOptions) -> RealPebble {
        match Self::start(opts) {
            Ok(p) => p,
            Err(e) => panic!("this test needs a real pebble: {e}"),
        }
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let log = self.dir.path().join("pebble.log");
        let ports = [self.acme_port, self.mgmt_port];
        process::wait_listening(&mut self.child, "pebble", &ports, limit, &log)
    }

    /// The ACME directory: `https://127.0.0.1:PORT/dir`.
    pub fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }

    /// The CA file pebble's own HTTPS certificate chains to (give it to the ACME client).
    pub fn https_ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn https_ca_pem(&self) -> String {
        std::fs::read_to_string(self.https_ca_path()).unwrap_or_default()
    }

    /// The root the certificates pebble issues chain to (`GET /roots/0` on the management
    /// port), PEM.
    pub async fn issuing_root_pem(&self) -> Result<String, String> {
        hostdesk_remote::install_crypto_provider();
        let ca = reqwest::Certificate::from_pem(self.https_ca_pem().as_bytes())
            .map_err(|e| e.to_string())?;
        let client = reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .map_err(|e| e.to_string())?;
        let resp = client
            .get(format!("https://127.0.0.1:{}/roots/0", self.mgmt_port))
            .send()
            .await
            .map_err(|e| format!("pebble /roots/0: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("pebble /roots/0 answered {}", resp.status()));
        }
        resp.text().await.map_err(|e| e.to_string())
    }

    /// What pebble wrote to its log so far.
    pub fn log(&self) -> String {
        process::read_log(&self.dir.path().join("pebble.log"))
    }
}

impl Drop for RealPebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
