//! Domain registrars: the [`Registrar`] trait the domain jobs call, and [`NamecheapRegistrar`]
//! (the Namecheap XML API, from its public documentation).
//!
//! Every operation is safe to repeat after a lost reply, because the caller reconciles first:
//! [`Registrar::info`] tells whether the domain already sits in the reseller's account (a
//! registration whose reply was lost is found there, not paid for twice).

pub mod namecheap;
pub mod xml;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::RemoteError;

pub use namecheap::{NamecheapConfig, NamecheapRegistrar, NAMECHEAP_PRODUCTION, NAMECHEAP_SANDBOX};

/// Whether a name can be registered now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub domain: String,
    pub available: bool,
    /// A premium name costs more than the TLD's price (`premium_price`).
    pub premium: bool,
    pub premium_price: Option<String>,
    /// The registrar's reason when it could not tell (unsupported TLD...).
    pub note: Option<String>,
}

/// What the registrar charges the reseller for a registration (a decimal amount as text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrarPrice {
    pub tld: String,
    pub years: u32,
    /// For all the years, e.g. `"10.87"`.
    pub amount: String,
    pub currency: String,
}

/// The registrant (and admin, tech, billing) contact of a new domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Contact {
    pub first_name: String,
    pub last_name: String,
    pub organization: String,
    pub address1: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// `+CC.NUMBER`, e.g. `+33.612345678`.
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterDomain {
    pub domain: String,
    pub years: u32,
    pub contact: Contact,
    /// Empty: the registrar's own name servers.
    pub nameservers: Vec<String>,
}

/// A registration the registrar accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registered {
    pub domain: String,
    /// The registrar's id of the domain.
    pub registrar_id: String,
    pub order_id: Option<String>,
    pub transaction_id: Option<String>,
    /// What the reseller's account was charged, e.g. `"20.36"`.
    pub charged: Option<String>,
}

/// A domain in the reseller's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainInfo {
    pub domain: String,
    pub registrar_id: String,
    /// `YYYY-MM-DD`.
    pub created_on: Option<String>,
    /// `YYYY-MM-DD`.
    pub expires_on: Option<String>,
    pub status: String,
    pub nameservers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Renewed {
    pub domain: String,
    /// `YYYY-MM-DD`.
    pub expires_on: Option<String>,
    pub charged: Option<String>,
    pub order_id: Option<String>,
}

/// A domain registrar, as the domain jobs use it.
#[async_trait]
pub trait Registrar: Send + Sync {
    /// `namecheap`, ...
    fn kind(&self) -> &'static str;
    /// Who the registrar says the credentials belong to, and the account's balance (a cheap
    /// call that proves the credentials work).
    async fn test_connection(&self) -> Result<String, RemoteError>;
    async fn check(&self, domains: &[String]) -> Result<Vec<Availability>, RemoteError>;
    /// The reseller's price of registering a name under `tld` for `years`; `None` when the
    /// registrar does not list that TLD.
    async fn price(&self, tld: &str, years: u32) -> Result<Option<RegistrarPrice>, RemoteError>;
    /// Registers (and pays for) the domain. Call [`Registrar::info`] first: a registration
    /// whose reply was lost is found there.
    async fn register(&self, req: &RegisterDomain) -> Result<Registered, RemoteError>;
    /// The domain as the reseller's account holds it; `None` when it is not in the account.
    async fn info(&self, domain: &str) -> Result<Option<DomainInfo>, RemoteError>;
    async fn renew(&self, domain: &str, years: u32) -> Result<Renewed, RemoteError>;
    /// Points the domain at these name servers.
    async fn set_nameservers(
        &self,
        domain: &str,
        nameservers: &[String],
    ) -> Result<(), RemoteError>;
}

/// The TLD of a domain as registrars price it: `example.co.uk` → `co.uk` for the few
/// second-level registries resellers meet, else the last label.
pub fn tld_of(domain: &str) -> String {
    const SECOND_LEVEL: &[&str] = &[
        "co.uk", "org.uk", "me.uk", "ltd.uk", "com.au", "net.au", "org.au", "co.nz", "com.br",
        "com.mx", "co.za", "co.in", "com.cn",
    ];
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    for s in SECOND_LEVEL {
        if d.ends_with(&format!(".{s}")) {
            return (*s).to_owned();
        }
    }
    d.rsplit('.').next().unwrap_or("").to_owned()
}

/// Splits a domain into (second-level label, TLD): `shop.co.uk` → (`shop`, `co.uk`).
pub fn split_domain(domain: &str) -> Option<(String, String)> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let tld = tld_of(&d);
    let sld = d.strip_suffix(&format!(".{tld}"))?;
    if sld.is_empty() || sld.contains('.') {
        return None;
    }
    Some((sld.to_owned(), tld))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlds_and_labels() {
        assert_eq!(tld_of("lumiere.fr"), "fr");
        assert_eq!(tld_of("shop.co.uk"), "co.uk");
        assert_eq!(
            split_domain("Shop.co.uk."),
            Some(("shop".into(), "co.uk".into()))
        );
        assert_eq!(
            split_domain("lumiere.com"),
            Some(("lumiere".into(), "com".into()))
        );
        assert_eq!(split_domain("www.lumiere.com"), None);
        assert_eq!(split_domain("com"), None);
    }
}
