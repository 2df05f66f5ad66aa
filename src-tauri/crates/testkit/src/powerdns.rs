//! [`RealPowerDns`]: a real PowerDNS Authoritative server for tests (Debian `pdns-server` with
//! `pdns-backend-sqlite3`), on free loopback ports, with its HTTP API on, its data in a
//! temporary SQLite file, stopped on drop.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process;

/// What to tell someone whose machine has no PowerDNS.
pub const PDNS_MISSING: &str =
    "PowerDNS was not found: run `apt install pdns-server pdns-backend-sqlite3` (or `make deps`)";

const SERVER: &str = "/usr/sbin/pdns_server";
const SCHEMA: &str = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql";
const BACKEND: &str = "/usr/lib/x86_64-linux-gnu/pdns/libgsqlite3backend.so";

/// A running PowerDNS: DNS on 127.0.0.1:[`dns_port`](RealPowerDns::dns_port) (UDP and TCP),
/// the API on [`api_url`](RealPowerDns::api_url) with the key [`api_key`](RealPowerDns::api_key).
pub struct RealPowerDns {
    child: Child,
    dns_port: u16,
    api_port: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> Result<u16, String> {
    // A port free for both TCP and UDP.
    for _ in 0..50 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = tcp.local_addr().map_err(|e| e.to_string())?.port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free port for both TCP and UDP".into())
}

fn find_backend() -> Option<PathBuf> {
    let default = Path::new(BACKEND);
    if default.is_file() {
        return Some(default.to_path_buf());
    }
    std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("pdns/libgsqlite3backend.so"))
        .find(|p| p.is_file())
}

impl RealPowerDns {
    pub const API_KEY: &'static str = "hostdesk-pdns-test-key";

    /// Starts PowerDNS, or says why it could not (including [`PDNS_MISSING`]).
    pub fn start() -> Result<RealPowerDns, String> {
        let server = std::env::var_os("HOSTDESK_PDNS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SERVER));
        if !server.is_file() {
            return Err(format!("{} is missing; {PDNS_MISSING}", server.display()));
        }
        let schema = std::fs::read_to_string(SCHEMA)
            .map_err(|e| format!("{SCHEMA}: {e}; {PDNS_MISSING}"))?;
        let module_dir = find_backend()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .ok_or_else(|| format!("the gsqlite3 backend is missing; {PDNS_MISSING}"))?;
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        let db = dir.path().join("pdns.sqlite3");
        rusqlite::Connection::open(&db)
            .and_then(|c| c.execute_batch(&schema))
            .map_err(|e| format!("cannot create the PowerDNS database: {e}"))?;
        let dns_port = free_port()?;
        let mut api_port = free_port()?;
        while api_port == dns_port {
            api_port = free_port()?;
        }
        let conf = format!(
            "launch=gsqlite3\n\
             module-dir={}\n\
             gsqlite3-database={}\n\
             local-address=127.0.0.1\n\
             local-port={dns_port}\n\
             api=yes\n\
             api-key={}\n\
             webserver=yes\n\
             webserver-address=127.0.0.1\n\
             webserver-port={api_port}\n\
             webserver-allow-from=127.0.0.0/8\n\
             socket-dir={}\n\
             daemon=no\n\
             guardian=no\n\
             disable-syslog=yes\n\
             security-poll-suffix=\n\
             default-soa-content=ns1.hostdesk.test hostmaster.@ 0 10800 3600 604800 3600\n\
             loglevel=4\n",
            module_dir.display(),
            db.display(),
            Self::API_KEY,
            dir.path().display()
        );
        std::fs::write(dir.path().join("pdns.conf"), conf).map_err(|e| format!("config: {e}"))?;
        let log = std::fs::File::create(dir.path().join("pdns.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let log2 = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let child = Command::new(&server)
            .arg(format!("--config-dir={}", dir.path().display()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}; {PDNS_MISSING}", server.display()))?;
        let mut pdns = RealPowerDns {
            child,
            dns_port,
            api_port,
            dir,
        };
        pdns.wait_ready(Duration::from_secs(20))?;
        Ok(pdns)
    }

    /// Starts PowerDNS or panics with the reason (the way tests that need it fail).
    #[track_caller]
    pub fn require() -> RealPowerDns {
        match Self::start() {
            Ok(p) => p,
            Err(e) => panic!("this test needs a real PowerDNS: {e}"),
        }
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), String> {
        let log = self.dir.path().join("pdns.log");
        let ports = [self.api_port, self.dns_port];
        process::wait_listening(&mut self.child, "pdns_server", &ports, limit, &log)
    }

    /// `http://127.0.0.1:PORT` of the HTTP API (the client adds `/api/v1/servers/localhost`).
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    pub fn api_key(&self) -> &'static str {
        Self::API_KEY
    }

    /// The DNS port (UDP and TCP) on 127.0.0.1.
    pub fn dns_port(&self) -> u16 {
        self.dns_port
    }

    pub fn dns_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.dns_port))
    }

    /// What PowerDNS wrote to its log so far.
    pub fn log(&self) -> String {
        process::read_log(&self.dir.path().join("pdns.log"))
    }
}

impl Drop for RealPowerDns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
