//! X.509 certificates as Hostdesk needs them: read a PEM bundle the reseller uploads (subject,
//! issuer, names, validity), and read the certificate a site actually serves (its expiry is what
//! staff watch). Only the fields named here are decoded (a small DER reader), nothing is
//! verified here: the TLS client that fetches a served certificate verifies it.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::error::RemoteError;
use crate::http::{install_crypto_provider, HttpConfig};

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// The subjectAltName DNS names.
    pub dns_names: Vec<String>,
    /// RFC 3339 UTC.
    pub not_before: String,
    pub not_after: String,
    /// The serial number in hex.
    pub serial: String,
}

impl CertInfo {
    /// Whether the certificate names this host (exactly, or through a `*.` wildcard).
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.dns_names
            .iter()
            .chain(self.subject_cn.iter())
            .any(|n| {
                let n = n.to_ascii_lowercase();
                n == host
                    || n.strip_prefix("*.").is_some_and(|base| {
                        host.split_once('.').is_some_and(|(_, rest)| rest == base)
                    })
            })
    }
}

fn b64_value(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= b64_value(c)? << (18 - 6 * i);
        }
        let b = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&b[1..4]),
            3 => out.extend_from_slice(&b[1..3]),
            2 => out.push(b[1]),
            _ => return None,
        }
    }
    Some(out)
}

/// The DER blocks of every `-----BEGIN {label}-----` in a PEM text.
pub fn pem_blocks(pem: &str, label: &str) -> Vec<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(i) = rest.find(&begin) {
        let after = &rest[i + begin.len()..];
        let Some(j) = after.find(&end) else { break };
        if let Some(der) = base64_decode(&after[..j]) {
            out.push(der);
        }
        rest = &after[j + end.len()..];
    }
    out
}

/// A chain's PEM text split into its first certificate (the leaf) and the others (the CA
/// bundle, empty when there is none), each a PEM text of its own.
pub fn split_chain(pem: &str) -> (String, String) {
    const END: &str = "-----END CERTIFICATE-----";
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = pem;
    while let Some(i) = rest.find(BEGIN) {
        let Some(j) = rest[i..].find(END) else { break };
        blocks.push(format!("{}\n", &rest[i..i + j + END.len()]));
        rest = &rest[i + j + END.len()..];
    }
    let mut it = blocks.into_iter();
    let leaf = it.next().unwrap_or_default();
    (leaf, it.collect::<String>())
}

/// Whether a PEM text holds a private key (PKCS#8, RSA or EC), without reading it.
pub fn has_private_key(pem: &str) -> bool {
    ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
        .iter()
        .any(|l| !pem_blocks(pem, l).is_empty())
}

/// One DER element: (tag, content, the rest after it).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, head) = if first & 0x80 == 0 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for k in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + k)?);
        }
        (len, 2 + n)
    };
    let content = b.get(head..head + len)?;
    Some((tag, content, &b[head + len..]))
}

fn children(mut b: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let (t, c, rest) = tlv(b)?;
        out.push((t, c));
        b = rest;
    }
    Some(out)
}

/// UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ` → RFC 3339.
fn time(tag: u8, c: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(c).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: u32 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |i: usize| -> Option<u32> { rest.get(i..i + 2)?.parse().ok() };
    Some(format!(
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        n(0)?,
        n(2)?,
        n(4)?,
        n(6)?,
        n(8)?
    ))
}

/// The commonName (2.5.4.3) of a Name.
fn common_name(name: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    for (_, set) in children(name)? {
        for (_, atv) in children(set)? {
            let parts = children(atv)?;
            if let [(0x06, oid), (_, value)] = parts.as_slice() {
                if *oid == CN {
                    return Some(String::from_utf8_lossy(value).into_owned());
                }
            }
        }
    }
    None
}

/// The dNSNames of the subjectAltName extension (2.5.29.17).
fn san(extensions: &[u8]) -> Vec<String> {
    const SAN: &[u8] = &[0x55, 0x1D, 0x11];
    let mut out = Vec::new();
    let Some(outer) = children(extensions) else {
        return out;
    };
    for (_, seq) in outer {
        let Some(exts) = children(seq) else { continue };
        for (_, ext) in exts {
            let Some(parts) = children(ext) else { continue };
            if parts.first().map(|p| p.1) != Some(SAN) {
                continue;
            }
            let Some((_, octets)) = parts.last() else {
                continue;
            };
            let Some((_, names, _)) = tlv(octets) else {
                continue;
            };
            for (tag, v) in children(names).unwrap_or_default() {
                if tag == 0x82 {
                    out.push(String::from_utf8_lossy(v).into_owned());
                }
            }
        }
    }
    out
}

/// Reads one DER certificate.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    let bad = || "not an X.509 certificate".to_owned();
    let (_, cert, _) = tlv(der).ok_or_else(bad)?;
    let (_, tbs, _) = tlv(cert).ok_or_else(bad)?;
    let fields = children(tbs).ok_or_else(bad)?;
    // [0] version is optional.
    let mut i = usize::from(fields.first().map(|f| f.0) == Some(0xA0));
    let serial = fields.get(i).ok_or_else(bad)?.1;
    i += 2; // serial, signature algorithm
    let issuer = fields.get(i).ok_or_else(bad)?.1;
    let validity = children(fields.get(i + 1).ok_or_else(bad)?.1).ok_or_else(bad)?;
    let subject = fields.get(i + 2).ok_or_else(bad)?.1;
    let extensions = fields.iter().skip(i + 4).find(|f| f.0 == 0xA3).map(|f| f.1);
    let (t0, c0) = *validity.first().ok_or_else(bad)?;
    let (t1, c1) = *validity.get(1).ok_or_else(bad)?;
    Ok(CertInfo {
        subject_cn: common_name(subject),
        issuer_cn: common_name(issuer),
        dns_names: extensions.map(san).unwrap_or_default(),
        not_before: time(t0, c0).ok_or_else(bad)?,
        not_after: time(t1, c1).ok_or_else(bad)?,
        serial: serial.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// The first certificate of a PEM bundle (the leaf), read.
pub fn pem_leaf_info(pem: &str) -> Result<CertInfo, String> {
    let blocks = pem_blocks(pem, "CERTIFICATE");
    let leaf = blocks
        .first()
        .ok_or("no -----BEGIN CERTIFICATE----- block in the bundle")?;
    cert_info(leaf)
}

/// Connects to `addr` over TLS for `host` (SNI), verifies the certificate against the
/// platform's roots or only `roots_pem` when given, and reads the certificate served.
pub async fn served_certificate(
    addr: SocketAddr,
    host: &str,
    roots_pem: Option<&str>,
    http: &HttpConfig,
) -> Result<CertInfo, RemoteError> {
    install_crypto_provider();
    let endpoint = format!("TLS {host} at {addr}");
    let mut b = reqwest::Client::builder()
        .connect_timeout(http.connect_timeout)
        .timeout(http.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tls_info(true)
        .resolve(host, addr);
    if let Some(pem) = roots_pem {
        let certs: Vec<reqwest::Certificate> = pem_blocks(pem, "CERTIFICATE")
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .collect();
        if certs.is_empty() {
            return Err(RemoteError::InvalidRequest(
                "the trusted roots hold no certificate".into(),
            ));
        }
        b = b.tls_certs_only(certs);
    }
    let client = b
        .build()
        .map_err(|e| RemoteError::InvalidRequest(format!("cannot set up TLS: {e}")))?;
    let url = format!("https://{host}:{}/", addr.port());
    let resp = client.head(&url).send().await.map_err(|e| {
        let mut detail = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            detail = format!("{detail}: {s}");
            src = s.source();
        }
        if e.is_timeout() {
            RemoteError::Timeout {
                what: endpoint.clone(),
                after_ms: u64::try_from(http.request_timeout.as_millis()).unwrap_or(u64::MAX),
            }
        } else if detail.contains("certificate") || detail.contains("tls") {
            RemoteError::Tls {
                endpoint: endpoint.clone(),
                detail,
            }
        } else {
            RemoteError::Connect {
                endpoint: endpoint.clone(),
                detail,
            }
        }
    })?;
    let der = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|t| t.peer_certificate())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| RemoteError::Protocol {
            endpoint: endpoint.clone(),
            detail: "the TLS session showed no certificate".into(),
        })?;
    cert_info(&der).map_err(|detail| RemoteError::Protocol { endpoint, detail })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8h").unwrap(), b"hello!");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert!(base64_decode("a$==").is_none());
    }

    #[test]
    fn times() {
        assert_eq!(
            time(0x17, b"260131235959Z").as_deref(),
            Some("2026-01-31T23:59:59Z")
        );
        assert_eq!(
            time(0x18, b"20500101000000Z").as_deref(),
            Some("2050-01-01T00:00:00Z")
        );
        assert_eq!(time(0x17, b"2601"), None);
    }

    #[test]
    fn wildcard_cover() {
        let c = CertInfo {
            subject_cn: Some("lumiere.fr".into()),
            issuer_cn: None,
            dns_names: vec!["*.lumiere.fr".into()],
            not_before: String::new(),
            not_after: String::new(),
            serial: String::new(),
        };
        assert!(c.covers("lumiere.fr"));
        assert!(c.covers("www.lumiere.fr"));
        assert!(!c.covers("a.b.lumiere.fr"));
        assert!(!c.covers("lumiere.com"));
    }
}
