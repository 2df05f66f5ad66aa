//! [`Resolver`]: what a name resolves to, either through the system's resolver or by asking one
//! DNS server directly (a plain UDP query for A records, RFC 1035), so staff can check the
//! records of a domain the client owns against the name server of their choice, and tests can
//! ask a PowerDNS on a loopback port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::error::RemoteError;

/// Where names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolver {
    /// The operating system's resolver (`getaddrinfo`).
    System,
    /// One DNS server, asked directly over UDP.
    Server(SocketAddr),
}

impl Resolver {
    /// `""` or `system` → the system's resolver; `HOST:PORT` or `IP` (port 53) → that server.
    pub fn parse(s: &str) -> Result<Resolver, RemoteError> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("system") {
            return Ok(Resolver::System);
        }
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(Resolver::Server(addr));
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Resolver::Server(SocketAddr::new(ip, 53)));
        }
        Err(RemoteError::InvalidRequest(format!(
            "'{s}' is not a DNS server address (IP or IP:PORT), nor 'system'"
        )))
    }

    /// The IPv4 addresses `name` resolves to (empty: no such name, or no A record).
    pub async fn ipv4(&self, name: &str) -> Result<Vec<Ipv4Addr>, RemoteError> {
        match self {
            Resolver::System => {
                let found = tokio::net::lookup_host((name.trim_end_matches('.'), 0)).await;
                match found {
                    Ok(addrs) => {
                        let mut out: Vec<Ipv4Addr> = addrs
                            .filter_map(|a| match a.ip() {
                                IpAddr::V4(v4) => Some(v4),
                                IpAddr::V6(_) => None,
                            })
                            .collect();
                        out.sort();
                        out.dedup();
                        Ok(out)
                    }
                    // "no such name" and "no address" both mean: not pointing here yet.
                    Err(_) => Ok(Vec::new()),
                }
            }
            Resolver::Server(addr) => query_a(*addr, name, Duration::from_secs(3)).await,
        }
    }
}

fn encode_name(name: &str, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| (1..=63).contains(l))
            .ok_or_else(|| RemoteError::InvalidRequest(format!("'{name}' is not a DNS name")))?;
        out.push(len);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

/// Skips a (possibly compressed) name; returns the offset after it.
fn skip_name(msg: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let len = *msg.get(i)?;
        if len & 0xC0 == 0xC0 {
            return Some(i + 2);
        }
        if len == 0 {
            return Some(i + 1);
        }
        i += 1 + usize::from(len);
    }
}

fn u16_at(msg: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?]))
}

/// Parses a reply to our query: the A records of its answer section.
fn parse_reply(msg: &[u8], id: u16) -> Result<Vec<Ipv4Addr>, String> {
    if msg.len() < 12 || u16_at(msg, 0) != Some(id) {
        return Err("not a reply to this query".into());
    }
    let rcode = msg[3] & 0x0F;
    match rcode {
        0 => {}
        // NXDOMAIN; REFUSED: an authoritative server that has no such zone. Either way the
        // name does not point anywhere through this server.
        3 | 5 => return Ok(Vec::new()),
        2 => return Err("the server failed (SERVFAIL)".into()),
        n => return Err(format!("the server answered rcode {n}")),
    }
    let qd = u16_at(msg, 4).unwrap_or(0);
    let an = u16_at(msg, 6).unwrap_or(0);
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(msg, i).ok_or("truncated question")? + 4;
    }
    let mut out = Vec::new();
    for _ in 0..an {
        i = skip_name(msg, i).ok_or("truncated answer")?;
        let rtype = u16_at(msg, i).ok_or("truncated answer")?;
        let rdlen = usize::from(u16_at(msg, i + 8).ok_or("truncated answer")?);
        let data = msg.get(i + 10..i + 10 + rdlen).ok_or("truncated answer")?;
        if rtype == 1 && rdlen == 4 {
            out.push(Ipv4Addr::new(data[0], data[1], data[2], data[3]));
        }
        i += 10 + rdlen;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Asks one server for the A records of `name` (recursion desired; CNAMEs the server
/// resolves itself are followed through its answer).
pub async fn query_a(
    server: SocketAddr,
    name: &str,
    timeout: Duration,
) -> Result<Vec<Ipv4Addr>, RemoteError> {
    let endpoint = format!("DNS udp://{server}");
    let id: u16 = fastid();
    let mut q = Vec::with_capacity(64);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    encode_name(name, &mut q)?;
    q.extend_from_slice(&[0, 1, 0, 1]); // A, IN
    let bind: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let sock = tokio::net::UdpSocket::bind(bind)
        .await
        .map_err(|e| RemoteError::Connect {
            endpoint: endpoint.clone(),
            detail: e.to_string(),
        })?;
    sock.connect(server)
        .await
        .map_err(|e| RemoteError::Connect {
            endpoint: endpoint.clone(),
            detail: e.to_string(),
        })?;
    let mut buf = vec![0u8; 4096];
    for _ in 0..3 {
        sock.send(&q).await.map_err(|e| RemoteError::Connect {
            endpoint: endpoint.clone(),
            detail: e.to_string(),
        })?;
        match tokio::time::timeout(timeout, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                return parse_reply(&buf[..n], id).map_err(|detail| RemoteError::Protocol {
                    endpoint: endpoint.clone(),
                    detail,
                })
            }
            Ok(Err(e)) => {
                return Err(RemoteError::Connect {
                    endpoint,
                    detail: e.to_string(),
                })
            }
            Err(_) => continue,
        }
    }
    Err(RemoteError::Timeout {
        what: format!("the DNS query for {name} to {server}"),
        after_ms: u64::try_from(timeout.as_millis() * 3).unwrap_or(u64::MAX),
    })
}

/// A query id that differs between queries (not a security feature: we only ask our own or
/// the staff's chosen server, over loopback or a trusted path).
fn fastid() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos ^ (nanos >> 16)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resolvers() {
        assert_eq!(Resolver::parse("").unwrap(), Resolver::System);
        assert_eq!(
            Resolver::parse("127.0.0.1:5353").unwrap(),
            Resolver::Server("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            Resolver::parse("9.9.9.9").unwrap(),
            Resolver::Server("9.9.9.9:53".parse().unwrap())
        );
        assert!(Resolver::parse("dns.example").is_err());
    }

    #[test]
    fn reads_an_answer_with_compression() {
        // id 7, response, 1 question, 1 answer: lumiere.fr A 203.0.113.10
        let mut m = vec![0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        encode_name("lumiere.fr", &mut m).unwrap();
        m.extend_from_slice(&[0, 1, 0, 1]);
        m.extend_from_slice(&[
            0xC0, 12, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 203, 0, 113, 10,
        ]);
        assert_eq!(
            parse_reply(&m, 7).unwrap(),
            vec![Ipv4Addr::new(203, 0, 113, 10)]
        );
        assert!(parse_reply(&m, 8).is_err());
        let mut nx = m.clone();
        nx[3] = 0x83;
        assert!(parse_reply(&nx, 7).unwrap().is_empty());
    }
}
