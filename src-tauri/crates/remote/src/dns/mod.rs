//! DNS: zones on the reseller's own name server ([`PowerDns`], the PowerDNS Authoritative HTTP
//! API) and a small resolver ([`Resolver`]) that checks what a domain points at before a site
//! goes live on it.

pub mod powerdns;
pub mod resolve;

pub use powerdns::{PowerDns, PowerDnsConfig, RecordSet, Zone, ZoneOutcome};
pub use resolve::Resolver;

/// `example.com` → `example.com.` (PowerDNS names are absolute).
pub fn absolute(name: &str) -> String {
    let n = name.trim().to_ascii_lowercase();
    if n.ends_with('.') {
        n
    } else {
        format!("{n}.")
    }
}
