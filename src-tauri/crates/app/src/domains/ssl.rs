//! `ssl.set` (a site's certificate level on its server) and `ssl.check` (the certificate the
//! site serves, its expiry recorded; one that nears its end unrenewed fails the job: a visible
//! renewal failure), and uploading a bundle (its key to the keyring only).

use std::net::SocketAddr;

use hostdesk_remote::certs::{has_private_key, pem_leaf_info, served_certificate};
use hostdesk_remote::{
    CaddyConfig, CaddyDriver, CaddyTls, CertificateSetting, Progress, SetCertificate, SiteTarget,
};
use hostdesk_store::domains::{self as store, Seen};
use hostdesk_store::servers::{self as store_servers, Server};
use serde::Deserialize;
use serde_json::{json, Value};

use super::jobs::{id_of, remote, DomainJobs};
use super::{key_entry, queue_ssl_set, settings, CERT_RENEWAL_ALARM_DAYS};
use crate::runner::{JobCtx, JobError};
use crate::secrets::{Secret, SecretStore};
use crate::{AppError, Result, Workspace};

/// A bundle staff upload for a site: its certificate chain (public) and private key.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct BundleUpload {
    pub site_id: i64,
    /// The certificate first, then its intermediates (PEM).
    pub certificate_pem: String,
}

/// Checks a bundle against the site's domain, keeps its key in the keyring (entry
/// `ssl:<domain>`) and its chain in the database, and queues `ssl.set`. Returns the job id.
pub fn upload_bundle(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    up: &BundleUpload,
    key_pem: &Secret,
) -> Result<i64> {
    let site = store_servers::get_site(ws.conn(), up.site_id)?;
    if let Some(server) = site
        .server_id
        .map(|s| store_servers::get(ws.conn(), s))
        .transpose()?
        .filter(|s| s.kind == "aegir")
    {
        return Err(AppError::invalid(
            "certificatePem",
            format!(
                "{} is an Aegir server: Aegir takes certificates from its own certificate service \
                 (Let's Encrypt or self-signed) and has no API to upload a bundle; choose the \
                 automatic level, or install the bundle on the server",
                server.name
            ),
        ));
    }
    let info =
        pem_leaf_info(&up.certificate_pem).map_err(|m| AppError::invalid("certificatePem", m))?;
    if !info.covers(&site.domain) {
        return Err(AppError::invalid(
            "certificatePem",
            format!(
                "the certificate names {} but not {}",
                info.dns_names
                    .iter()
                    .chain(info.subject_cn.iter())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                site.domain
            ),
        ));
    }
    let now = ws.clock().stamp();
    if info.not_after <= now {
        return Err(AppError::invalid(
            "certificatePem",
            format!("the certificate expired on {}", info.not_after),
        ));
    }
    if !has_private_key(key_pem.expose()) || has_private_key(&up.certificate_pem) {
        return Err(AppError::invalid(
            "key",
            "give the private key (PEM) apart from the certificate chain",
        ));
    }
    secrets.set(&key_entry(&site.domain), key_pem)?;
    let chain = up.certificate_pem.trim().to_owned() + "\n";
    ws.write(|tx, ctx| {
        let id =
            store::upsert_certificate(tx, site.id, &site.domain, "bundled", Some(&chain), &ctx.at)?;
        store::set_certificate_seen(
            tx,
            id,
            &Seen {
                issuer: info.issuer_cn.as_deref(),
                serial: &info.serial,
                not_before: &info.not_before,
                not_after: &info.not_after,
            },
            &ctx.at,
        )?;
        ctx.audit(
            tx,
            "site",
            Some(site.id),
            "ssl_bundle",
            None::<&()>,
            Some(&json!({
                "serial": info.serial, "notAfter": info.not_after
            })),
        )?;
        let cert = store::certificate(tx, id)?;
        queue_ssl_set(tx, ctx, &cert)
    })
}

fn caddy(server: &Server, h: &DomainJobs) -> std::result::Result<CaddyDriver, JobError> {
    let name = if server.username.trim().is_empty() {
        "srv0"
    } else {
        server.username.trim()
    };
    let mut c = CaddyConfig::new(&server.base_url, name)
        .map_err(|e| JobError::fatal(format!("server {}: {e}", server.name)))?;
    c.http = h.env.config.http.clone();
    CaddyDriver::new(c).map_err(|e| JobError::fatal(e.to_string()))
}

pub(super) async fn set(h: &DomainJobs, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let id = id_of(job, "certificateId")?;
    let secrets = h.secrets();
    let (cert, site, server, chain, key, acme) = h
        .with_ws(move |ws| {
            let cert = store::certificate(ws.conn(), id)?;
            let site = store_servers::get_site(ws.conn(), cert.site_id)?;
            let server = site
                .server_id
                .map(|s| store_servers::get(ws.conn(), s))
                .transpose()?
                .ok_or_else(|| {
                    AppError::invalid("site", format!("site {} is on no server", site.domain))
                })?;
            let (chain, key) = if cert.level == "bundled" {
                let chain = store::chain_pem(ws.conn(), id)?
                    .ok_or_else(|| AppError::invalid("certificate", "no bundle was uploaded"))?;
                let key = secrets.get(&key_entry(&cert.domain))?.ok_or_else(|| {
                    AppError::invalid(
                        "certificate",
                        format!(
                            "the private key of {} is not in {}: upload the bundle again",
                            cert.domain,
                            secrets.label()
                        ),
                    )
                })?;
                (Some(chain), Some(key))
            } else {
                (None, None)
            };
            Ok((
                cert,
                site,
                server,
                chain,
                key,
                settings::acme_settings(ws.conn())?,
            ))
        })
        .await?;
    let at = h.env.clock.stamp();
    let note = match server.kind.as_str() {
        "caddy" => {
            let tls = match (cert.level.as_str(), chain, key) {
                ("automatic", _, _) => CaddyTls::Acme {
                    ca: acme.ca.clone(),
                    email: acme.email.clone(),
                    trusted_roots_pem_files: acme.trusted_roots.clone(),
                },
                ("bundled", Some(certificate_pem), Some(key_pem)) => CaddyTls::Bundled {
                    certificate_pem,
                    key_pem,
                },
                _ => CaddyTls::Off,
            };
            let changed = caddy(&server, h)?
                .set_tls(&cert.domain, &tls)
                .await
                .map_err(|e| remote(&server.name, e))?;
            json!({ "already": changed.already })
        }
        "sandbox" => json!({ "simulated": true }),
        // The server's own SSL service through its API: Aegir's hosting_https, WHM's AutoSSL
        // and installssl. ssl.check then reads what the site serves.
        kind => {
            let driver = h.env.driver(&server)?;
            let setting = match (cert.level.as_str(), chain, key) {
                ("automatic", _, _) => CertificateSetting::Automatic,
                ("bundled", Some(certificate_pem), Some(key_pem)) => CertificateSetting::Bundled {
                    certificate_pem,
                    key_pem,
                },
                _ => CertificateSetting::Off,
            };
            let req = SetCertificate {
                site: SiteTarget {
                    name: site.domain.clone(),
                    remote_id: site.remote_id.clone(),
                },
                setting,
            };
            let changed = driver
                .set_certificate(&req)
                .await
                .map_err(|e| remote(&server.name, e))?;
            if let Progress::Pending { task } = &changed.progress {
                driver
                    .wait_task(task)
                    .await
                    .map_err(|e| remote(&server.name, e))?;
            }
            json!({ "already": changed.already, "server": kind })
        }
    };
    let simulated = server.kind == "sandbox";
    let level = cert.level.clone();
    h.with_ws(move |ws| {
        ws.write(|tx, _| {
            store::set_certificate_state(tx, id, "active", None, &at)?;
            if simulated && level == "automatic" {
                let nb = at.clone();
                let na = (chrono::DateTime::parse_from_rfc3339(&at)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .unwrap_or_default()
                    + chrono::Duration::days(90))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                store::set_certificate_seen(
                    tx,
                    id,
                    &Seen {
                        issuer: Some("Sandbox CA (simulated)"),
                        serial: "simulated",
                        not_before: &nb,
                        not_after: &na,
                    },
                    &at,
                )?;
            }
            Ok(())
        })
    })
    .await?;
    Ok(json!({ "domain": cert.domain, "level": cert.level, "server": server.name, "result": note }))
}

/// Where the site answers HTTPS: the server's `publicIp` / `httpsPort` options, else the
/// domain's own address (through the DNS settings' resolver) on port 443.
async fn site_addr(
    server: &Server,
    domain: &str,
    resolver: &hostdesk_remote::dns::Resolver,
) -> std::result::Result<SocketAddr, JobError> {
    let port = server
        .options
        .get("httpsPort")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(443);
    if let Some(ip) = server
        .options
        .get("publicIp")
        .and_then(Value::as_str)
        .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
    {
        return Ok(SocketAddr::new(ip, port));
    }
    let ips = resolver.ipv4(domain).await.map_err(|e| remote("DNS", e))?;
    let ip = ips.first().ok_or_else(|| {
        JobError::retry(format!(
            "{domain} does not resolve: cannot read its certificate"
        ))
    })?;
    Ok(SocketAddr::from((*ip, port)))
}

pub(super) async fn check(h: &DomainJobs, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let id = id_of(job, "certificateId")?;
    let (cert, server, resolver, roots) = h
        .with_ws(move |ws| {
            let cert = store::certificate(ws.conn(), id)?;
            let site = store_servers::get_site(ws.conn(), cert.site_id)?;
            let server = site
                .server_id
                .map(|s| store_servers::get(ws.conn(), s))
                .transpose()?
                .ok_or_else(|| {
                    AppError::invalid("site", format!("site {} is on no server", site.domain))
                })?;
            Ok((
                cert,
                server,
                settings::resolver(ws.conn())?,
                settings::check_roots(ws.conn())?,
            ))
        })
        .await?;
    if cert.level == "none" {
        return Ok(json!({ "domain": cert.domain, "level": "none" }));
    }
    if server.kind == "sandbox" {
        return Ok(json!({ "domain": cert.domain, "simulated": true, "notAfter": cert.not_after }));
    }
    let at = h.env.clock.stamp();
    let addr = site_addr(&server, &cert.domain, &resolver).await?;
    let served =
        match served_certificate(addr, &cert.domain, roots.as_deref(), &h.env.config.http).await {
            Ok(s) => s,
            Err(e) => {
                let why = format!("reading the certificate of {} at {addr}: {e}", cert.domain);
                let (w2, a2) = (why.clone(), at.clone());
                h.with_ws(move |ws| {
                    Ok(store::set_certificate_state(
                        ws.conn(),
                        id,
                        "failed",
                        Some(&w2),
                        &a2,
                    )?)
                })
                .await?;
                return Err(JobError {
                    message: why,
                    retryable: e.is_retryable(),
                });
            }
        };
    let alarm = (h.env.clock.now() + chrono::Duration::days(CERT_RENEWAL_ALARM_DAYS))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let problem = if !served.covers(&cert.domain) {
        Some(format!(
            "{} serves a certificate for {} instead",
            cert.domain,
            served.dns_names.join(", ")
        ))
    } else if served.not_after <= alarm {
        Some(format!(
            "the certificate of {} expires on {} and was not renewed{}",
            cert.domain,
            served.not_after,
            if cert.level == "bundled" {
                ": upload a new bundle"
            } else {
                " by the server"
            }
        ))
    } else {
        None
    };
    let (s2, p2, a2) = (served.clone(), problem.clone(), at.clone());
    h.with_ws(move |ws| {
        ws.write(|tx, _| {
            store::set_certificate_seen(
                tx,
                id,
                &Seen {
                    issuer: s2.issuer_cn.as_deref(),
                    serial: &s2.serial,
                    not_before: &s2.not_before,
                    not_after: &s2.not_after,
                },
                &a2,
            )?;
            store::set_certificate_state(
                tx,
                id,
                if p2.is_some() { "failed" } else { "active" },
                p2.as_deref(),
                &a2,
            )?;
            Ok(())
        })
    })
    .await?;
    if let Some(p) = problem {
        return Err(JobError::fatal(p));
    }
    Ok(
        json!({ "domain": cert.domain, "issuer": served.issuer_cn, "notAfter": served.not_after, "serial": served.serial }),
    )
}
