//! `hostdesk domain ...`: availability and price, registration, the list, owned domains'
//! records and their verification, renewals, what expires soon, the registrar / DNS / ACME
//! settings, and a site's certificate level or bundle.
//!
//! Keys (the registrar's, PowerDNS's, a bundle's private key) come from standard input or the
//! environment (`HOSTDESK_REGISTRAR_KEY`, `HOSTDESK_DNS_KEY`) or a file, never an argument, and
//! go to the OS keyring.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use hostdesk_app::domains::{
    self, AcmeSettings, BundleUpload, DnsSettings, RegisterRequest, RegistrantContact,
    RegistrarSettings,
};
use hostdesk_app::secrets::{self, Secret};
use hostdesk_app::store::domains::{Domain, Expiring};
use hostdesk_app::{provisioning, AppError, ErrorCode, Workspace};

use crate::output::{table, Output};

pub const REGISTRAR_KEY_VAR: &str = "HOSTDESK_REGISTRAR_KEY";
pub const DNS_KEY_VAR: &str = "HOSTDESK_DNS_KEY";

#[derive(Subcommand)]
pub enum DomainCmd {
    /// Ask the registrar whether names are free, and their price.
    Check {
        #[arg(required = true)]
        domains: Vec<String>,
        #[arg(long, default_value_t = 1)]
        years: u32,
    },
    /// Queue the registration of a domain for a client (`domain.register`; `--zone`: and its
    /// zone on the DNS server).
    Register {
        domain: String,
        #[arg(long)]
        client: i64,
        #[arg(long, default_value_t = 1)]
        years: u32,
        /// The subscription the renewal is billed with.
        #[arg(long)]
        subscription: Option<i64>,
        #[arg(long)]
        zone: bool,
    },
    /// Domains, newest first.
    List {
        #[arg(long)]
        client: Option<i64>,
        /// subdomain, owned or registered
        #[arg(long)]
        mode: Option<String>,
        /// pending, verifying, active, failed, expired or released
        #[arg(long)]
        state: Option<String>,
    },
    /// A domain: registration, expiry, zone, the records an owned domain needs, its
    /// certificate.
    Show { domain: String },
    /// Look up an owned domain's records now (verified once it points at the server).
    Verify { domain: String },
    /// Queue the renewal of registered domains that end within 30 days.
    RenewDue,
    /// Turn a domain's renewal with its subscription on or off.
    AutoRenew {
        domain: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Registered domains and certificates that end within N days.
    Expiring {
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// The registrar (Namecheap): set (key from --key-stdin or HOSTDESK_REGISTRAR_KEY) or show.
    #[command(subcommand)]
    Registrar(RegistrarCmd),
    /// The reseller's DNS server (PowerDNS): set (key from --key-stdin or HOSTDESK_DNS_KEY) or
    /// show.
    #[command(subcommand)]
    Dns(DnsCmd),
    /// The ACME CA Caddy servers use for automatic certificates.
    Acme {
        /// The ACME directory URL (default: Caddy's own: Let's Encrypt, ZeroSSL).
        #[arg(long)]
        ca: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// A PEM file on the web server that the CA's HTTPS chains to (repeat).
        #[arg(long = "trusted-root")]
        trusted_roots: Vec<String>,
        /// A PEM file on this machine to verify served certificates with (a private CA).
        #[arg(long)]
        check_roots: Option<String>,
    },
    /// A site's certificate: `--level none|automatic`, or a bundle (`--bundle chain.pem` with
    /// the private key from `--key-file` or standard input).
    Ssl {
        /// The site (id or domain).
        site: String,
        #[arg(long, value_parser = ["none", "automatic"])]
        level: Option<String>,
        #[arg(long)]
        bundle: Option<PathBuf>,
        #[arg(long)]
        key_file: Option<PathBuf>,
        #[arg(long)]
        key_stdin: bool,
    },
    /// Queue certificate checks: one site's now, or every certificate due a look.
    SslCheck { site: Option<String> },
}

#[derive(Subcommand)]
pub enum RegistrarCmd {
    Set {
        /// The API user (and account user name).
        #[arg(long)]
        user: String,
        /// The public IPv4 address the calls come from (on the account's allow list).
        #[arg(long)]
        client_ip: String,
        /// Default: Namecheap's production API; its sandbox is
        /// https://api.sandbox.namecheap.com/xml.response
        #[arg(long)]
        endpoint: Option<String>,
        /// A JSON file with the registrant contact (firstName, lastName, organization,
        /// address1, city, stateProvince, postalCode, country, phone, email).
        #[arg(long)]
        contact: Option<PathBuf>,
        #[arg(long)]
        key_stdin: bool,
    },
    Show,
}

#[derive(Subcommand)]
pub enum DnsCmd {
    Set {
        /// The PowerDNS API, e.g. https://dns.example.net:8081
        #[arg(long)]
        url: Option<String>,
        /// A name server of the zones (give two or more).
        #[arg(long = "nameserver")]
        nameservers: Vec<String>,
        /// The address sites point at when their server has no publicIp option.
        #[arg(long)]
        default_ip: Option<String>,
        /// Where owned domains are looked up: system, or IP[:PORT] of a DNS server.
        #[arg(long)]
        resolver: Option<String>,
        #[arg(long)]
        key_stdin: bool,
    },
    Show,
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            AppError::new(
                ErrorCode::Internal,
                format!("cannot start the runtime: {e}"),
            )
        })
}

/// A key from standard input (its first non-empty line, or the whole PEM) or the variable.
fn read_key(
    stdin_flag: bool,
    var: &str,
    what: &str,
    whole: bool,
) -> Result<Option<Secret>, AppError> {
    if stdin_flag {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprint!("{what}: ");
            let _ = std::io::stderr().flush();
        }
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text)?;
        let text = if whole {
            text.trim().to_owned()
        } else {
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .to_owned()
        };
        if text.is_empty() {
            return Err(AppError::invalid(
                "key",
                format!("standard input held no {what}"),
            ));
        }
        return Ok(Some(Secret::new(text)));
    }
    Ok(std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim())))
}

fn domain_rows(list: &[Domain]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|d| {
            vec![
                d.name.clone(),
                d.mode.clone(),
                d.state.clone(),
                d.client_name.clone().unwrap_or_else(|| "-".into()),
                d.site_id
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
                d.expires_on.clone().unwrap_or_else(|| "-".into()),
                d.dns_zone.clone().unwrap_or_else(|| "-".into()),
                d.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "DOMAIN", "MODE", "STATE", "CLIENT", "SITE", "EXPIRES", "ZONE", "ERROR",
        ],
        &cells,
    )
}

fn expiring_rows(list: &[Expiring]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|x| {
            vec![
                x.expires.clone(),
                x.kind.clone(),
                x.name.clone(),
                x.client_name.clone().unwrap_or_else(|| "-".into()),
                x.state.clone(),
                if x.renews { "yes" } else { "no" }.into(),
            ]
        })
        .collect();
    table(
        &["EXPIRES", "KIND", "NAME", "CLIENT", "STATE", "RENEWS"],
        &cells,
    )
}

fn site_id(ws: &Workspace, key: &str) -> Result<i64, AppError> {
    Ok(provisioning::find_site(ws, key)?.id)
}

pub fn domain(ws: &mut Workspace, cmd: DomainCmd) -> Result<Output, AppError> {
    match cmd {
        DomainCmd::Check {
            domains: names,
            years,
        } => {
            let secrets = secrets::from_env()?;
            let probe = domains::check_probe(ws, &*secrets, &names, years)?;
            let checks = runtime()?.block_on(probe.run())?;
            let cells: Vec<Vec<String>> = checks
                .iter()
                .map(|c| {
                    vec![
                        c.domain.clone(),
                        if c.available { "available" } else { "taken" }.into(),
                        match (&c.price, &c.currency) {
                            (Some(p), Some(cur)) => format!("{p} {cur} / {} y", c.years),
                            (Some(p), None) => p.clone(),
                            _ => "-".into(),
                        },
                        if c.premium { "premium" } else { "" }.into(),
                        c.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let text = table(&["DOMAIN", "STATUS", "PRICE", "", "NOTE"], &cells);
            Ok(Output::new(&checks, text))
        }
        DomainCmd::Register {
            domain,
            client,
            years,
            subscription,
            zone,
        } => {
            let q = domains::register_domain(
                ws,
                &RegisterRequest {
                    domain,
                    years,
                    client_id: client,
                    subscription_id: subscription,
                    zone,
                },
            )?;
            let text = format!(
                "queued the registration of {} for {} year(s): job(s) {}",
                q.domain.name,
                q.domain.years,
                q.jobs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(Output::new(&q, text))
        }
        DomainCmd::List {
            client,
            mode,
            state,
        } => {
            let list = domains::list(ws, client, mode.as_deref(), state.as_deref())?;
            let text = domain_rows(&list);
            Ok(Output::new(&list, text))
        }
        DomainCmd::Show { domain } => {
            let d = domains::show(ws, &domain)?;
            let mut text = domain_rows(std::slice::from_ref(&d.domain));
            if !d.records.is_empty() {
                text.push_str("\n\nrecords to set at the domain's DNS host:\n");
                let cells: Vec<Vec<String>> = d
                    .records
                    .iter()
                    .map(|r| vec![r.name.clone(), r.rtype.clone(), r.value.clone()])
                    .collect();
                text.push_str(&table(&["NAME", "TYPE", "VALUE"], &cells));
            }
            if let Some(c) = &d.certificate {
                text.push_str(&format!(
                    "\n\ncertificate: {} ({}), expires {}{}",
                    c.level,
                    c.state,
                    c.not_after.as_deref().unwrap_or("-"),
                    c.error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ));
            }
            Ok(Output::new(&d, text))
        }
        DomainCmd::Verify { domain } => {
            let probe = domains::verify_probe(ws, &domain)?;
            let v = runtime()?.block_on(probe.run())?;
            domains::record_verification(ws, &v)?;
            let text = if v.verified {
                format!("verified: {}", v.message)
            } else {
                format!("not yet: {}", v.message)
            };
            Ok(Output::new(&v, text))
        }
        DomainCmd::RenewDue => {
            let ids = domains::renew_due(ws)?;
            let text = if ids.is_empty() {
                "no renewal due".to_owned()
            } else {
                format!("queued {} renewal(s): jobs {ids:?}", ids.len())
            };
            Ok(Output::new(&serde_json::json!({ "jobs": ids }), text))
        }
        DomainCmd::AutoRenew { domain, state } => {
            let d = domains::set_auto_renew(ws, &domain, state == "on")?;
            let text = format!("{}: renewal with its subscription {state}", d.name);
            Ok(Output::new(&d, text))
        }
        DomainCmd::Expiring { days } => {
            let list = domains::expiring_soon(ws, days)?;
            let text = if list.is_empty() {
                format!("nothing ends within {days} days")
            } else {
                expiring_rows(&list)
            };
            Ok(Output::new(&list, text))
        }
        DomainCmd::Registrar(RegistrarCmd::Set {
            user,
            client_ip,
            endpoint,
            contact,
            key_stdin,
        }) => {
            let secrets = secrets::from_env()?;
            let key = read_key(key_stdin, REGISTRAR_KEY_VAR, "registrar API key", false)?;
            let contact: Option<RegistrantContact> = match contact {
                None => None,
                Some(p) => {
                    let text = std::fs::read_to_string(&p)?;
                    Some(serde_json::from_str(&text).map_err(|e| {
                        AppError::invalid("contact", format!("{}: {e}", p.display()))
                    })?)
                }
            };
            domains::set_registrar(
                ws,
                &*secrets,
                &RegistrarSettings {
                    kind: None,
                    endpoint,
                    api_user: user,
                    client_ip,
                    contact,
                },
                key,
            )?;
            let v = domains::registrar_settings(ws, &*secrets)?;
            Ok(Output::new(
                &v,
                format!("registrar {} set (key stored in {})", v.kind, v.key_store),
            ))
        }
        DomainCmd::Registrar(RegistrarCmd::Show) => {
            let secrets = secrets::from_env()?;
            let v = domains::registrar_settings(ws, &*secrets)?;
            let text = format!(
                "registrar {} at {}\nAPI user {}\nclient IP {}\nAPI key {}",
                v.kind,
                v.endpoint.as_deref().unwrap_or("(default)"),
                v.api_user.as_deref().unwrap_or("(not set)"),
                v.client_ip.as_deref().unwrap_or("(not set)"),
                if v.key_stored {
                    format!("stored in {}", v.key_store)
                } else {
                    format!("missing (none in {})", v.key_store)
                }
            );
            Ok(Output::new(&v, text))
        }
        DomainCmd::Dns(DnsCmd::Set {
            url,
            nameservers,
            default_ip,
            resolver,
            key_stdin,
        }) => {
            let secrets = secrets::from_env()?;
            let key = read_key(key_stdin, DNS_KEY_VAR, "PowerDNS API key", false)?;
            domains::set_dns(
                ws,
                &*secrets,
                &DnsSettings {
                    api_url: url,
                    nameservers,
                    default_ip,
                    resolver,
                },
                key,
            )?;
            let v = domains::dns_settings(ws, &*secrets)?;
            Ok(Output::new(
                &v,
                format!(
                    "DNS server set: {}",
                    v.api_url.as_deref().unwrap_or("(no API URL)")
                ),
            ))
        }
        DomainCmd::Dns(DnsCmd::Show) => {
            let secrets = secrets::from_env()?;
            let v = domains::dns_settings(ws, &*secrets)?;
            let text = format!(
                "PowerDNS {}\nname servers {}\ndefault address {}\nresolver {}\nAPI key {}",
                v.api_url.as_deref().unwrap_or("(not set)"),
                if v.nameservers.is_empty() {
                    "(none)".into()
                } else {
                    v.nameservers.join(", ")
                },
                v.default_ip.as_deref().unwrap_or("(none)"),
                v.resolver.as_deref().unwrap_or("system"),
                if v.key_stored {
                    format!("stored in {}", v.key_store)
                } else {
                    format!("missing (none in {})", v.key_store)
                }
            );
            Ok(Output::new(&v, text))
        }
        DomainCmd::Acme {
            ca,
            email,
            trusted_roots,
            check_roots,
        } => {
            let s = AcmeSettings {
                ca,
                email,
                trusted_roots,
                check_roots,
            };
            domains::set_acme(ws, &s)?;
            let v = domains::acme_settings(ws.conn())?;
            Ok(Output::new(
                &v,
                format!("ACME CA: {}", v.ca.as_deref().unwrap_or("Caddy's defaults")),
            ))
        }
        DomainCmd::Ssl {
            site,
            level,
            bundle,
            key_file,
            key_stdin,
        } => {
            let id = site_id(ws, &site)?;
            let job = match (level, bundle) {
                (Some(l), None) => domains::set_ssl_level(ws, id, &l)?,
                (None, Some(chain)) => {
                    let secrets = secrets::from_env()?;
                    let certificate_pem = std::fs::read_to_string(&chain)?;
                    let key = match key_file {
                        Some(p) => Secret::new(std::fs::read_to_string(p)?),
                        None => read_key(key_stdin, "HOSTDESK_SSL_KEY", "private key (PEM)", true)?
                            .ok_or_else(|| {
                                AppError::invalid(
                                    "key",
                                    "give the private key with --key-file or --key-stdin",
                                )
                            })?,
                    };
                    domains::upload_bundle(
                        ws,
                        &*secrets,
                        &BundleUpload {
                            site_id: id,
                            certificate_pem,
                        },
                        &key,
                    )?
                }
                _ => {
                    return Err(AppError::invalid(
                        "level",
                        "give --level none|automatic, or --bundle with its key",
                    ))
                }
            };
            Ok(Output::new(
                &serde_json::json!({ "job": job }),
                format!("queued ssl.set: job {job}"),
            ))
        }
        DomainCmd::SslCheck { site } => {
            let ids = match site {
                Some(s) => vec![domains::check_certificate(ws, site_id(ws, &s)?)?],
                None => domains::check_certificates(ws)?,
            };
            Ok(Output::new(
                &serde_json::json!({ "jobs": ids }),
                format!("queued {} certificate check(s)", ids.len()),
            ))
        }
    }
}
