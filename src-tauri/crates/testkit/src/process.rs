//! What the real servers the tests start as child processes share: a free loopback port, the
//! wait until the server listens, and its log for the error that says why it did not.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

/// A TCP port free on 127.0.0.1 right now.
pub(crate) fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// A server's log file as text (empty when there is none yet).
pub(crate) fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `child` (named `name` in errors) accepts connections on every one of `ports` on
/// 127.0.0.1; fails with its log if it exits first or `limit` passes.
pub(crate) fn wait_listening(
    child: &mut Child,
    name: &str,
    ports: &[u16],
    limit: Duration,
    log: &Path,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{name} exited ({status}) at start: {}",
                read_log(log)
            ));
        }
        let up = |port: &u16| {
            TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], *port)),
                Duration::from_millis(200),
            )
            .is_ok()
        };
        if ports.iter().all(up) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{name} did not listen on port(s) {ports:?} within {limit:?}: {}",
                read_log(log)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
