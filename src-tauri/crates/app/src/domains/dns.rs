//! `dns.zone` (a registered domain's zone on the reseller's PowerDNS, and the registrar pointed
//! at its name servers) and `domain.verify` (an owned domain's records seen pointing at the
//! server before the site is created).

use std::time::Duration;

use hostdesk_remote::dns::RecordSet;
use hostdesk_store::domains as store;
use hostdesk_store::servers as store_servers;
use serde_json::{json, Value};

use super::jobs::{id_of, remote, DomainJobs};
use super::{records_for, settings, target_ip};
use crate::runner::{JobCtx, JobError};
use crate::AppError;

/// How long an owned domain's verification keeps waiting (without using up attempts) for the
/// client to set the records.
pub const VERIFY_PATIENCE: Duration = Duration::from_secs(14 * 24 * 3600);

pub(super) fn verify_message(name: &str, expected: Option<&str>, found: &[String]) -> String {
    match (expected, found.is_empty()) {
        (None, _) => format!(
            "Hostdesk does not know the server's address for {name}: set the DNS default address or the server's publicIp"
        ),
        (Some(e), true) => format!("{name} does not resolve yet: its A record should be {e}"),
        (Some(e), false) if found.iter().any(|f| f == e) => format!("{name} points at {e}"),
        (Some(e), false) => format!(
            "{name} points at {} instead of {e}",
            found.join(", ")
        ),
    }
}

pub(super) async fn zone(h: &DomainJobs, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let id = id_of(job, "domainId")?;
    let secrets = h.secrets();
    let http = h.env.config.http.clone();
    let s2 = secrets.clone();
    let http2 = http.clone();
    let (d, pdns, ns, ip) = h
        .with_ws(move |ws| {
            let d = store::get(ws.conn(), id)?;
            let server = match d.site_id {
                Some(s) => store_servers::get_site(ws.conn(), s)?
                    .server_id
                    .map(|sid| store_servers::get(ws.conn(), sid))
                    .transpose()?,
                None => None,
            };
            let ip = target_ip(ws.conn(), server.as_ref())?;
            let ns = settings::nameservers(ws.conn())?;
            if ns.len() < 2 {
                return Err(AppError::invalid(
                    "dns",
                    "the zone needs the reseller's name servers (at least two): `hostdesk domain dns --nameserver ns1... --nameserver ns2...`",
                ));
            }
            Ok((d, settings::build_powerdns(ws.conn(), &*secrets, &http)?, ns, ip))
        })
        .await?;
    if d.state == "failed" {
        return Err(JobError::fatal(format!(
            "{} was not registered: no zone",
            d.name
        )));
    }
    let Some(ip) = ip else {
        return Err(JobError::fatal(format!(
            "Hostdesk does not know which address {} should point at: set the DNS default address (`hostdesk domain dns --default-ip`) or the server's publicIp",
            d.name
        )));
    };
    let records = vec![
        RecordSet::new(&d.name, "A", 3600, &[ip.as_str()]),
        RecordSet::new(
            &format!("www.{}", d.name),
            "CNAME",
            3600,
            &[&format!("{}.", d.name)],
        ),
    ];
    let out = pdns
        .ensure_zone(&d.name, &ns, &records)
        .await
        .map_err(|e| remote("PowerDNS", e))?;
    job.save(json!({ "zone": out.zone.id })).await?;
    // A registered domain points at our name servers.
    let mut pointed = false;
    if d.mode == "registered" {
        let registrar = h
            .with_ws(move |ws| settings::build_registrar(ws.conn(), &*s2, &http2))
            .await?;
        let info = registrar
            .info(&d.name)
            .await
            .map_err(|e| remote("registrar", e))?;
        let current: Vec<String> = info.map(|i| i.nameservers).unwrap_or_default();
        let mut want = ns.clone();
        want.sort();
        let mut have: Vec<String> = current
            .iter()
            .map(|n| n.trim_end_matches('.').to_owned())
            .collect();
        have.sort();
        if have != want {
            registrar
                .set_nameservers(&d.name, &ns)
                .await
                .map_err(|e| remote("registrar", e))?;
            pointed = true;
        }
    }
    let (zone_id, at, ip2) = (out.zone.id.clone(), h.env.clock.stamp(), ip.clone());
    h.with_ws(move |ws| Ok(store::set_zone(ws.conn(), id, &zone_id, Some(&ip2), &at)?))
        .await?;
    Ok(json!({
        "domain": d.name, "zone": out.zone.id, "created": out.created, "target": ip,
        "nameservers": ns, "registrarPointed": pointed
    }))
}

pub(super) async fn verify(h: &DomainJobs, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let id = id_of(job, "domainId")?;
    let (d, expected, resolver) = h
        .with_ws(move |ws| {
            let d = store::get(ws.conn(), id)?;
            let expected = records_for(ws.conn(), &d)?
                .into_iter()
                .find(|r| r.rtype == "A")
                .map(|r| r.value)
                .filter(|v| v.parse::<std::net::Ipv4Addr>().is_ok());
            Ok((d, expected, settings::resolver(ws.conn())?))
        })
        .await?;
    if d.state == "active" && d.verified_at.is_some() {
        return Ok(json!({ "domain": d.name, "already": true }));
    }
    let Some(expected) = expected else {
        return Err(JobError::fatal(verify_message(&d.name, None, &[])));
    };
    // A lookup that fails (SERVFAIL, no answer) is "not pointing here yet", like no record.
    let (found, lookup_error) = match resolver.ipv4(&d.name).await {
        Ok(ips) => (
            ips.iter().map(ToString::to_string).collect::<Vec<_>>(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let mut message = verify_message(&d.name, Some(&expected), &found);
    if let Some(e) = lookup_error {
        message = format!("{message} (lookup: {e})");
    }
    let at = h.env.clock.stamp();
    if found.contains(&expected) {
        h.with_ws(move |ws| {
            ws.write(|tx, ctx| {
                store::set_verified(tx, id, &at)?;
                ctx.audit(
                    tx,
                    "domain",
                    Some(id),
                    "verified",
                    None::<&()>,
                    Some(&expected),
                )
            })
        })
        .await?;
        return Ok(json!({ "domain": d.name, "verified": true, "found": found }));
    }
    // Not yet: wait for the client without using up attempts, for a while.
    let since = job
        .result
        .get("waitingSince")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| h.env.clock.now());
    if job.result.get("waitingSince").is_none() {
        job.save(json!({ "waitingSince": h.env.clock.stamp() }))
            .await?;
    }
    let waited = (h.env.clock.now() - since).to_std().unwrap_or_default();
    let msg2 = message.clone();
    let job_id = job.id;
    let patient = waited < VERIFY_PATIENCE;
    h.with_ws(move |ws| {
        store::set_state(ws.conn(), id, "verifying", Some(&msg2), &at)?;
        if patient {
            store_servers::grant_extra_attempt(ws.conn(), job_id)?;
        }
        Ok(())
    })
    .await?;
    if patient {
        Err(JobError::retry(format!(
            "waiting for the client's DNS: {message} (the site is created once it points at the server)"
        )))
    } else {
        Err(JobError::fatal(format!(
            "{message}: still not pointing at the server after 14 days; retry the job once the client has set the records"
        )))
    }
}
