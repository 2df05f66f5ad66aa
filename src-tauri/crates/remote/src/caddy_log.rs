//! Bytes served per site and calendar month, read from Caddy's JSON access log.
//!
//! The Caddy driver has Caddy write the access log of its HTTP server to a file (one JSON
//! object a line: `ts` in Unix seconds, `request.host`, `size` the response body's bytes). An
//! [`AccessLog`] reads that file incrementally: it remembers how far it read (a cursor after the
//! last complete line) and the totals per (host, year, month), so each collection reads only the
//! lines written since the one before. A file that got shorter was rotated or truncated: reading
//! starts again at its beginning and the totals are kept.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The totals read so far from one access log file.
#[derive(Debug, Default)]
pub struct AccessLog {
    path: PathBuf,
    /// Bytes of the file already read (up to the end of the last complete line).
    cursor: u64,
    /// Bytes served per (host, year, month).
    totals: HashMap<(String, i32, u32), u64>,
    /// Lines that were not access-log entries (another logger, or not JSON).
    pub skipped: u64,
}

impl AccessLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AccessLog {
            path: path.into(),
            ..Default::default()
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what was written since the last call. A missing file is an empty log (Caddy
    /// creates it on the first request it logs).
    pub fn refresh(&mut self) -> std::io::Result<()> {
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        if len < self.cursor {
            // rotated or truncated: the new content starts at 0
            self.cursor = 0;
        }
        if len == self.cursor {
            return Ok(());
        }
        file.seek(SeekFrom::Start(self.cursor))?;
        let mut buf = Vec::with_capacity(usize::try_from(len - self.cursor).unwrap_or(0));
        file.take(len - self.cursor).read_to_end(&mut buf)?;
        // only complete lines: a line being written is read next time
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
            return Ok(());
        };
        for line in buf[..end].split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match entry(line) {
                Some((host, year, month, size)) => {
                    *self.totals.entry((host, year, month)).or_default() += size;
                }
                None => self.skipped += 1,
            }
        }
        self.cursor += end as u64 + 1;
        Ok(())
    }

    /// Bytes served for `host` in a calendar month (UTC), as read so far.
    pub fn bytes(&self, host: &str, year: i32, month: u32) -> u64 {
        self.totals
            .get(&(host.to_ascii_lowercase(), year, month))
            .copied()
            .unwrap_or(0)
    }
}

/// (host, year, month, bytes) of one access-log line.
fn entry(line: &[u8]) -> Option<(String, i32, u32, u64)> {
    let v: Value = serde_json::from_slice(line).ok()?;
    if !v
        .get("logger")
        .and_then(Value::as_str)
        .is_some_and(|l| l.starts_with("http.log.access"))
    {
        return None;
    }
    let host = v.get("request")?.get("host")?.as_str()?;
    let host = strip_port(host).to_ascii_lowercase();
    let size = v.get("size").and_then(Value::as_u64).unwrap_or(0);
    let ts = v.get("ts")?.as_f64()?;
    if !ts.is_finite() || ts < 0.0 {
        return None;
    }
    let (year, month) = year_month(ts.floor() as i64);
    Some((host, year, month, size))
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8080
        return host.split(']').next().map_or(host, |h| &h[1..]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The UTC calendar (year, month) of a Unix time (days to civil date, H. Hinnant).
pub fn year_month(secs: i64) -> (i32, u32) {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn calendar_months() {
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(year_month(1_700_000_000), (2023, 11)); // 2023-11-14
        assert_eq!(year_month(1_772_323_199), (2026, 2)); // 2026-02-28T23:59:59Z
        assert_eq!(year_month(1_772_323_200), (2026, 3));
        assert_eq!(year_month(1_709_164_800), (2024, 2)); // 2024-02-29 (leap day)
    }

    #[test]
    fn ports_are_not_part_of_the_host() {
        assert_eq!(strip_port("shop.test:8080"), "shop.test");
        assert_eq!(strip_port("shop.test"), "shop.test");
        assert_eq!(strip_port("[::1]:80"), "::1");
    }

    fn line(host: &str, size: u64, ts: f64) -> String {
        serde_json::json!({"level": "info", "ts": ts, "logger": "http.log.access.hostdesk",
            "msg": "handled request", "request": {"host": host, "uri": "/"}, "size": size,
            "status": 200})
        .to_string()
            + "\n"
    }

    #[test]
    fn reads_incrementally_and_survives_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.log");
        let mut log = AccessLog::new(&path);
        log.refresh().unwrap(); // no file yet
        assert_eq!(log.bytes("a.test", 2026, 3), 0);
        let march = 1_772_323_200.5;
        let mut f = std::fs::File::create(&path).unwrap();
        write!(f, "{}", line("a.test:8080", 100, march)).unwrap();
        write!(f, "{}", line("A.test", 50, march + 10.0)).unwrap();
        write!(f, "{}", line("b.test", 7, march)).unwrap();
        write!(f, "{}", line("a.test", 1000, march - 3600.0)).unwrap(); // February
        writeln!(f, "not json").unwrap();
        // a line still being written is not read yet
        let partial = line("a.test", 5, march);
        write!(f, "{}", &partial[..20]).unwrap();
        f.flush().unwrap();
        log.refresh().unwrap();
        assert_eq!(log.bytes("a.test", 2026, 3), 150);
        assert_eq!(log.bytes("a.test", 2026, 2), 1000);
        assert_eq!(log.bytes("b.test", 2026, 3), 7);
        assert_eq!(log.skipped, 1);
        write!(f, "{}", &partial[20..]).unwrap();
        f.flush().unwrap();
        log.refresh().unwrap();
        assert_eq!(log.bytes("a.test", 2026, 3), 155, "the rest of the line");
        log.refresh().unwrap();
        assert_eq!(log.bytes("a.test", 2026, 3), 155, "nothing read twice");
        // rotated: a new, shorter file; the totals stay
        drop(f);
        std::fs::write(&path, line("a.test", 1, march)).unwrap();
        log.refresh().unwrap();
        assert_eq!(log.bytes("a.test", 2026, 3), 156);
    }
}
