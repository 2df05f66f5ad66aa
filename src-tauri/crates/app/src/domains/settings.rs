//! Where the registrar, the DNS server and the ACME CA are, as workspace settings; their keys
//! only in the keyring (`registrar:namecheap`, `dns:powerdns`).

use std::sync::Arc;

use hostdesk_remote::dns::{PowerDns, PowerDnsConfig, Resolver};
use hostdesk_remote::registrar::{Contact, NamecheapConfig, NamecheapRegistrar, Registrar};
use hostdesk_remote::{HttpConfig, RemoteError};
use hostdesk_store::settings as store_settings;
use hostdesk_store::Connection;
use serde::{Deserialize, Serialize};

use crate::secrets::{Secret, SecretStore};
use crate::{AppError, Result, Workspace};

pub const REGISTRAR_KIND: &str = "registrar_kind";
pub const REGISTRAR_ENDPOINT: &str = "registrar_endpoint";
pub const REGISTRAR_USER: &str = "registrar_user";
pub const REGISTRAR_CLIENT_IP: &str = "registrar_client_ip";
/// JSON of the registrant [`Contact`] (the reseller's details; the client's name and e-mail go
/// in the organization and e-mail fields of each registration).
pub const REGISTRANT: &str = "registrar_contact";
pub const DNS_API_URL: &str = "dns_api_url";
pub const DNS_NAMESERVERS: &str = "dns_nameservers";
pub const DNS_DEFAULT_IP: &str = "dns_default_ip";
/// Where owned domains' records are checked: `system` or `IP[:PORT]` of a DNS server.
pub const DNS_RESOLVER: &str = "dns_resolver";
pub const ACME_CA: &str = "acme_ca";
pub const ACME_EMAIL: &str = "acme_email";
/// PEM files on the web server that the ACME CA's own HTTPS chains to (comma-separated).
pub const ACME_ROOTS: &str = "acme_trusted_roots";
/// A PEM file (on this machine) of roots to verify served certificates with, instead of the
/// system's (a private or test CA).
pub const SSL_CHECK_ROOTS: &str = "ssl_check_roots";

pub fn registrar_secret(kind: &str) -> String {
    format!("registrar:{kind}")
}

pub const DNS_SECRET: &str = "dns:powerdns";

fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(store_settings::get(conn, key)?.filter(|v| !v.trim().is_empty()))
}

pub(crate) fn registrar_kind(conn: &Connection) -> Result<String> {
    Ok(get(conn, REGISTRAR_KIND)?.unwrap_or_else(|| "namecheap".into()))
}

pub(crate) fn dns_default_ip(conn: &Connection) -> Result<Option<String>> {
    get(conn, DNS_DEFAULT_IP)
}

pub(crate) fn nameservers(conn: &Connection) -> Result<Vec<String>> {
    Ok(get(conn, DNS_NAMESERVERS)?
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default())
}

pub(crate) fn resolver(conn: &Connection) -> Result<Resolver> {
    Resolver::parse(&get(conn, DNS_RESOLVER)?.unwrap_or_default())
        .map_err(|e| AppError::invalid(DNS_RESOLVER, e.to_string()))
}

pub(crate) fn registrant(conn: &Connection) -> Result<RegistrantContact> {
    Ok(get(conn, REGISTRANT)?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default())
}

pub(crate) fn check_roots(conn: &Connection) -> Result<Option<String>> {
    match get(conn, SSL_CHECK_ROOTS)? {
        None => Ok(None),
        Some(path) => std::fs::read_to_string(&path)
            .map(Some)
            .map_err(|e| AppError::invalid(SSL_CHECK_ROOTS, format!("{path}: {e}"))),
    }
}

/// The registrar the settings describe, with its key from the keyring.
pub(crate) fn build_registrar(
    conn: &Connection,
    secrets: &dyn SecretStore,
    http: &HttpConfig,
) -> Result<Arc<dyn Registrar>> {
    let kind = registrar_kind(conn)?;
    let missing = || {
        AppError::invalid(
            "registrar",
            "no registrar is set: `hostdesk domain registrar --user U --client-ip IP --key-stdin` (or the Domains screen)",
        )
    };
    let remote = |e: RemoteError| AppError::invalid("registrar", e.to_string());
    match kind.as_str() {
        "namecheap" => {
            let user = get(conn, REGISTRAR_USER)?.ok_or_else(missing)?;
            let key = secrets.get(&registrar_secret(&kind))?.ok_or_else(|| {
                AppError::invalid(
                    "registrar",
                    format!("no Namecheap API key in {}: set it with `hostdesk domain registrar ... --key-stdin`", secrets.label()),
                )
            })?;
            let endpoint = get(conn, REGISTRAR_ENDPOINT)?
                .unwrap_or_else(|| hostdesk_remote::registrar::NAMECHEAP_PRODUCTION.into());
            let ip = get(conn, REGISTRAR_CLIENT_IP)?.unwrap_or_default();
            let mut c = NamecheapConfig::new(&endpoint, &user, key, &ip).map_err(remote)?;
            c.http = http.clone();
            Ok(Arc::new(NamecheapRegistrar::new(c).map_err(remote)?))
        }
        other => Err(AppError::invalid(
            "registrar",
            format!("'{other}' is not a registrar Hostdesk knows (namecheap)"),
        )),
    }
}

/// The PowerDNS the settings describe, with its key from the keyring.
pub(crate) fn build_powerdns(
    conn: &Connection,
    secrets: &dyn SecretStore,
    http: &HttpConfig,
) -> Result<PowerDns> {
    let url = get(conn, DNS_API_URL)?.ok_or_else(|| {
        AppError::invalid(
            "dns",
            "no DNS server is set: `hostdesk domain dns --url URL --nameserver ns1.. --nameserver ns2.. --key-stdin`",
        )
    })?;
    let key = secrets.get(DNS_SECRET)?.ok_or_else(|| {
        AppError::invalid("dns", format!("no PowerDNS API key in {}", secrets.label()))
    })?;
    let mut c =
        PowerDnsConfig::new(&url, key).map_err(|e| AppError::invalid("dns", e.to_string()))?;
    c.http = http.clone();
    PowerDns::new(c).map_err(|e| AppError::invalid("dns", e.to_string()))
}

/// The registrant contact of new registrations (the reseller's details; each registration
/// puts the client's name in the organization and the client's e-mail).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct RegistrantContact {
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

impl From<RegistrantContact> for Contact {
    fn from(c: RegistrantContact) -> Contact {
        Contact {
            first_name: c.first_name,
            last_name: c.last_name,
            organization: c.organization,
            address1: c.address1,
            city: c.city,
            state_province: c.state_province,
            postal_code: c.postal_code,
            country: c.country,
            phone: c.phone,
            email: c.email,
        }
    }
}

/// The registrar as staff set it (the key goes to the keyring).
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct RegistrarSettings {
    /// `namecheap`.
    pub kind: Option<String>,
    /// The API endpoint (default: Namecheap's production endpoint).
    pub endpoint: Option<String>,
    pub api_user: String,
    /// The public IPv4 address calls come from (on the registrar's allow list).
    pub client_ip: String,
    /// The registrant contact (the reseller's details).
    pub contact: Option<RegistrantContact>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RegistrarSettingsView {
    pub kind: String,
    pub endpoint: Option<String>,
    pub api_user: Option<String>,
    pub client_ip: Option<String>,
    pub contact: RegistrantContact,
    pub key_stored: bool,
    pub key_store: String,
}

/// Sets the registrar; the settings are checked by building the driver before anything is
/// written.
pub fn set_registrar(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    s: &RegistrarSettings,
    key: Option<Secret>,
) -> Result<()> {
    let kind = s.kind.as_deref().unwrap_or("namecheap").trim().to_owned();
    if kind != "namecheap" {
        return Err(AppError::invalid(
            "kind",
            format!("'{kind}' is not a registrar Hostdesk knows (namecheap)"),
        ));
    }
    let given = key.is_some();
    let key = match key {
        Some(k) => k,
        None => secrets.get(&registrar_secret(&kind))?.ok_or_else(|| {
            AppError::invalid("key", "give the registrar's API key (none is stored yet)")
        })?,
    };
    let endpoint = s
        .endpoint
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .unwrap_or(hostdesk_remote::registrar::NAMECHEAP_PRODUCTION)
        .to_owned();
    NamecheapConfig::new(&endpoint, &s.api_user, key.clone(), &s.client_ip)
        .map_err(|e| AppError::invalid("registrar", e.to_string()))?;
    if given {
        secrets.set(&registrar_secret(&kind), &key)?;
    }
    let contact = s
        .contact
        .as_ref()
        .map(|c| serde_json::to_string(c).unwrap_or_default());
    ws.write(|tx, ctx| {
        store_settings::set(tx, REGISTRAR_KIND, &kind)?;
        store_settings::set(tx, REGISTRAR_ENDPOINT, &endpoint)?;
        store_settings::set(tx, REGISTRAR_USER, s.api_user.trim())?;
        store_settings::set(tx, REGISTRAR_CLIENT_IP, s.client_ip.trim())?;
        if let Some(c) = &contact {
            store_settings::set(tx, REGISTRANT, c)?;
        }
        ctx.audit(tx, "setting", None, "registrar", None::<&()>, Some(&serde_json::json!({
            "kind": kind, "endpoint": endpoint, "apiUser": s.api_user.trim(), "clientIp": s.client_ip.trim()
        })))
    })
}

pub fn registrar_settings(
    ws: &Workspace,
    secrets: &dyn SecretStore,
) -> Result<RegistrarSettingsView> {
    let kind = registrar_kind(ws.conn())?;
    Ok(RegistrarSettingsView {
        endpoint: get(ws.conn(), REGISTRAR_ENDPOINT)?,
        api_user: get(ws.conn(), REGISTRAR_USER)?,
        client_ip: get(ws.conn(), REGISTRAR_CLIENT_IP)?,
        contact: registrant(ws.conn())?,
        key_stored: secrets
            .get(&registrar_secret(&kind))
            .ok()
            .flatten()
            .is_some(),
        key_store: secrets.label(),
        kind,
    })
}

/// The reseller's DNS server as staff set it (the key goes to the keyring).
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct DnsSettings {
    /// The PowerDNS API, e.g. `https://dns.example.net:8081`.
    pub api_url: Option<String>,
    /// The zones' name servers (at least two).
    pub nameservers: Vec<String>,
    /// The address sites' A records point at when the server has no `publicIp` option.
    pub default_ip: Option<String>,
    /// Where owned domains' records are checked: `system`, or `IP[:PORT]` of a DNS server.
    pub resolver: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DnsSettingsView {
    pub api_url: Option<String>,
    pub nameservers: Vec<String>,
    pub default_ip: Option<String>,
    pub resolver: Option<String>,
    pub key_stored: bool,
    pub key_store: String,
}

pub fn set_dns(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    s: &DnsSettings,
    key: Option<Secret>,
) -> Result<()> {
    let url = s
        .api_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if let Some(u) = url {
        let k = match &key {
            Some(k) => k.clone(),
            None => secrets.get(DNS_SECRET)?.ok_or_else(|| {
                AppError::invalid("key", "give the PowerDNS API key (none is stored yet)")
            })?,
        };
        PowerDnsConfig::new(u, k).map_err(|e| AppError::invalid("apiUrl", e.to_string()))?;
    }
    let ns: Vec<String> = s
        .nameservers
        .iter()
        .map(|n| n.trim().trim_end_matches('.').to_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    for n in &ns {
        hostdesk_core::validate::domain(n)
            .map_err(|m| AppError::invalid("nameservers", format!("{n}: {m}")))?;
    }
    if !ns.is_empty() && ns.len() < 2 {
        return Err(AppError::invalid(
            "nameservers",
            "give at least two name servers",
        ));
    }
    let ip = s
        .default_ip
        .as_deref()
        .map(str::trim)
        .filter(|i| !i.is_empty());
    if let Some(i) = ip {
        i.parse::<std::net::Ipv4Addr>()
            .map_err(|_| AppError::invalid("defaultIp", format!("'{i}' is not an IPv4 address")))?;
    }
    let resolver = s
        .resolver
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(r) = resolver {
        Resolver::parse(r).map_err(|e| AppError::invalid("resolver", e.to_string()))?;
    }
    if let Some(k) = &key {
        secrets.set(DNS_SECRET, k)?;
    }
    ws.write(|tx, ctx| {
        if let Some(u) = url {
            store_settings::set(tx, DNS_API_URL, u)?;
        }
        if !ns.is_empty() {
            store_settings::set(tx, DNS_NAMESERVERS, &ns.join(","))?;
        }
        if let Some(i) = ip {
            store_settings::set(tx, DNS_DEFAULT_IP, i)?;
        }
        if let Some(r) = resolver {
            store_settings::set(tx, DNS_RESOLVER, r)?;
        }
        ctx.audit(
            tx,
            "setting",
            None,
            "dns",
            None::<&()>,
            Some(&serde_json::json!({
                "apiUrl": url, "nameservers": ns, "defaultIp": ip, "resolver": resolver
            })),
        )
    })
}

pub fn dns_settings(ws: &Workspace, secrets: &dyn SecretStore) -> Result<DnsSettingsView> {
    Ok(DnsSettingsView {
        api_url: get(ws.conn(), DNS_API_URL)?,
        nameservers: nameservers(ws.conn())?,
        default_ip: dns_default_ip(ws.conn())?,
        resolver: get(ws.conn(), DNS_RESOLVER)?,
        key_stored: secrets.get(DNS_SECRET).ok().flatten().is_some(),
        key_store: secrets.label(),
    })
}

/// The ACME CA Caddy servers get certificates from (default: Caddy's own defaults).
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct AcmeSettings {
    /// The ACME directory URL.
    pub ca: Option<String>,
    pub email: Option<String>,
    /// PEM files on the web server that the CA's HTTPS chains to.
    pub trusted_roots: Vec<String>,
    /// A PEM file on this machine to verify served certificates with (a private CA).
    pub check_roots: Option<String>,
}

pub fn set_acme(ws: &mut Workspace, s: &AcmeSettings) -> Result<()> {
    if let Some(ca) = s.ca.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        hostdesk_remote::parse_base_url(ca).map_err(|e| AppError::invalid("ca", e.to_string()))?;
    }
    if let Some(e) = s.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        hostdesk_core::validate::email(e).map_err(|m| AppError::invalid("email", m))?;
    }
    let put = |tx: &Connection, k: &str, v: Option<&str>| -> Result<()> {
        store_settings::set(tx, k, v.map(str::trim).unwrap_or(""))?;
        Ok(())
    };
    ws.write(|tx, ctx| {
        put(tx, ACME_CA, s.ca.as_deref())?;
        put(tx, ACME_EMAIL, s.email.as_deref())?;
        put(tx, ACME_ROOTS, Some(&s.trusted_roots.join(",")))?;
        put(tx, SSL_CHECK_ROOTS, s.check_roots.as_deref())?;
        ctx.audit(tx, "setting", None, "acme", None::<&()>, Some(s))
    })
}

pub fn acme_settings(conn: &Connection) -> Result<AcmeSettings> {
    Ok(AcmeSettings {
        ca: get(conn, ACME_CA)?,
        email: get(conn, ACME_EMAIL)?,
        trusted_roots: get(conn, ACME_ROOTS)?
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        check_roots: get(conn, SSL_CHECK_ROOTS)?,
    })
}
