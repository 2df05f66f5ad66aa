//! `domain.register` and `domain.renew`.
//!
//! Registration, after the client paid (the order's chain starts then):
//! 1. Is the domain in the reseller's account already? (A registration whose reply was lost is
//!    found here and recorded, not paid for twice.)
//! 2. Is it available? Taken: the domain's part of the first invoice is credited back, the
//!    domain is `failed`, and the job ends (dead, visible) — the site waiting on it does not go
//!    live on a name the client does not have.
//! 3. Register for N years; the registrar's id is saved the moment it returns. A refusal because
//!    the name went meanwhile is handled as 2; a failure whose outcome is unknown (timeout, 5xx)
//!    is retried, and the retry starts at 1.

use chrono::Datelike;
use hostdesk_core::Money;
use hostdesk_remote::registrar::{tld_of, Contact, RegisterDomain};
use hostdesk_remote::RemoteError;
use hostdesk_store::domains::{self as store, Domain, Registration};
use hostdesk_store::{clients, invoices};
use serde_json::{json, Value};

use super::jobs::{id_of, remote, DomainJobs};
use super::settings;
use crate::billing::invoices::{credit_note, CreditLineRequest};
use crate::runner::{JobCtx, JobError};
use crate::{AppError, ErrorCode, Result, Workspace};

/// The reason written on the credit note of a refused registration (also how a retry finds it).
fn refund_reason(name: &str) -> String {
    format!("domain {name} could not be registered (taken): its registration is credited back")
}

/// Amount in major units with two decimals (`"20.36"`) → minor units of that currency.
fn minor_of(amount: &str, currency: &str) -> Option<i64> {
    let c = hostdesk_core::money::Currency::from_code(currency).ok()?;
    Money::parse(amount, c).ok().map(|m| m.minor)
}

/// The registrant: the reseller's contact from the settings, with the client as organization
/// and the client's e-mail, country and phone where the client has them.
fn contact_for(conn: &hostdesk_store::Connection, d: &Domain) -> Result<Contact> {
    let mut c: Contact = settings::registrant(conn)?.into();
    if let Some(client_id) = d.client_id {
        let client = clients::get(conn, client_id)?;
        c.organization = client.name.clone();
        c.email = client.email.clone();
        if let Some(country) = client.country.filter(|x| !x.is_empty()) {
            c.country = country;
        }
        if client.phone.starts_with('+') && client.phone.contains('.') {
            c.phone = client.phone.clone();
        }
    }
    Ok(c)
}

/// Marks the domain refused and credits the client the domain's part of the first invoice
/// (once: the credit note's reason is looked for first).
pub(super) fn refuse(ws: &mut Workspace, domain_id: i64, why: &str) -> Result<Option<String>> {
    let d = store::get(ws.conn(), domain_id)?;
    let at = ws.clock().stamp();
    let mut number = d.credit_note.clone();
    if let (None, Some(invoice_id), true) = (&number, d.invoice_id, d.refund_minor > 0) {
        let reason = refund_reason(&d.name);
        let existing = invoices::credit_notes(ws.conn(), invoice_id)?
            .into_iter()
            .find(|n| n.reason == reason);
        number = Some(match existing {
            Some(n) => n.number,
            None => {
                let inv = invoices::get(ws.conn(), invoice_id)?;
                let line = invoices::lines(ws.conn(), invoice_id)?
                    .into_iter()
                    .find(|l| {
                        l.net_minor > 0
                            && (d.subscription_id.is_none()
                                || l.subscription_id == d.subscription_id)
                    })
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::Internal,
                            "the order's invoice has no line to credit",
                        )
                    })?;
                let amount =
                    crate::billing::money(d.refund_minor.min(line.net_minor), &inv.currency)?;
                credit_note(
                    ws,
                    &invoice_id.to_string(),
                    &reason,
                    &[CreditLineRequest {
                        line_key: line.key,
                        amount: Some(amount.amount_string()),
                    }],
                    false,
                )?
                .note
                .number
            }
        });
    }
    ws.write(|tx, ctx| {
        store::set_state(tx, d.id, "failed", Some(why), &at)?;
        if let Some(n) = &number {
            store::set_credit_note(tx, d.id, n, &at)?;
        }
        ctx.audit(
            tx,
            "domain",
            Some(d.id),
            "refused",
            None::<&()>,
            Some(&json!({ "reason": why, "creditNote": number })),
        )
    })?;
    Ok(number)
}

/// Whether the registrar's refusal says the name is not available.
fn is_taken(e: &RemoteError) -> bool {
    matches!(e, RemoteError::Remote { reason } if {
        let r = reason.to_ascii_lowercase();
        r.contains("not available") || r.contains("3019166") || r.contains("4019166") || r.contains("already registered")
    })
}

fn expiry_fallback(today: chrono::NaiveDate, years: i64) -> String {
    let y = today.year() + i32::try_from(years).unwrap_or(1);
    chrono::NaiveDate::from_ymd_opt(y, today.month(), today.day().min(28))
        .unwrap_or(today)
        .to_string()
}

/// A name that went to someone else: refused, credited back, and the job ends (dead: visible).
async fn taken(
    h: &DomainJobs,
    id: i64,
    name: &str,
    why: String,
) -> std::result::Result<Value, JobError> {
    let credit = h.with_ws(move |ws| refuse(ws, id, &why)).await?;
    Err(JobError::fatal(format!(
        "{name} is taken: not registered{}",
        credit
            .map(|n| format!("; the client was credited (credit note {n})"))
            .unwrap_or_default()
    )))
}

pub(super) async fn register(h: &DomainJobs, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let id = id_of(job, "domainId")?;
    let secrets = h.secrets();
    let http = h.env.config.http.clone();
    let (d, registrar, contact) = h
        .with_ws(move |ws| {
            let d = store::get(ws.conn(), id)?;
            let registrar = settings::build_registrar(ws.conn(), &*secrets, &http)?;
            let contact = contact_for(ws.conn(), &d)?;
            Ok((d, registrar, contact))
        })
        .await?;
    match d.state.as_str() {
        "active" if d.registrar_id.is_some() => {
            return Ok(json!({ "domain": d.name, "registrarId": d.registrar_id, "already": true }))
        }
        "failed" if d.credit_note.is_some() => {
            return Err(JobError::fatal(format!(
                "{} was refused earlier and credited back ({})",
                d.name,
                d.credit_note.unwrap_or_default()
            )))
        }
        _ => {}
    }
    let name = d.name.clone();
    let today = h.env.clock.now().date_naive();
    let record = |registrar_id: String,
                  cost: Option<(i64, String)>,
                  registered: Option<String>,
                  expires: Option<String>| {
        let at = h.env.clock.stamp();
        h.with_ws(move |ws| {
            ws.write(|tx, ctx| {
                store::set_registered(
                    tx,
                    id,
                    &Registration {
                        registrar_id: &registrar_id,
                        cost_minor: cost.as_ref().map(|c| c.0),
                        cost_currency: cost.as_ref().map(|c| c.1.as_str()),
                        registered_on: registered.as_deref(),
                        expires_on: expires.as_deref(),
                    },
                    &at,
                )?;
                ctx.audit(
                    tx,
                    "domain",
                    Some(id),
                    "registered",
                    None::<&()>,
                    Some(&json!({ "registrarId": registrar_id, "expiresOn": expires })),
                )
            })
        })
    };
    // 1. Already ours (a lost reply, or a retry after a crash)?
    if let Some(info) = registrar
        .info(&name)
        .await
        .map_err(|e| remote("registrar", e))?
    {
        record(
            info.registrar_id.clone(),
            None,
            info.created_on.clone(),
            info.expires_on.clone(),
        )
        .await?;
        return Ok(
            json!({ "domain": name, "registrarId": info.registrar_id, "expiresOn": info.expires_on, "found": true }),
        );
    }
    // 2. Still free?
    let available = registrar
        .check(std::slice::from_ref(&name))
        .await
        .map_err(|e| remote("registrar", e))?
        .first()
        .is_some_and(|a| a.available);
    if !available {
        return taken(
            h,
            id,
            &d.name,
            format!("{} is not available at the registrar", d.name),
        )
        .await;
    }
    // 3. Register.
    job.save(json!({ "registering": d.name })).await?;
    let req = RegisterDomain {
        domain: d.name.clone(),
        years: u32::try_from(d.years).unwrap_or(1),
        contact,
        nameservers: {
            let ns = h.with_ws(|ws| settings::nameservers(ws.conn())).await?;
            if ns.len() >= 2 {
                ns
            } else {
                Vec::new()
            }
        },
    };
    match registrar.register(&req).await {
        Ok(r) => {
            job.save(json!({ "registrarId": r.registrar_id })).await?;
            let currency = registrar
                .price(&tld_of(&d.name), req.years)
                .await
                .ok()
                .flatten()
                .map(|p| p.currency)
                .unwrap_or_else(|| "USD".into());
            let cost = r
                .charged
                .as_deref()
                .and_then(|a| minor_of(a, &currency))
                .map(|m| (m, currency));
            let info = registrar.info(&d.name).await.ok().flatten();
            let registered = info
                .as_ref()
                .and_then(|i| i.created_on.clone())
                .or(Some(today.to_string()));
            let expires = info
                .as_ref()
                .and_then(|i| i.expires_on.clone())
                .or_else(|| Some(expiry_fallback(today, d.years)));
            record(r.registrar_id.clone(), cost, registered, expires.clone()).await?;
            Ok(
                json!({ "domain": d.name, "registrarId": r.registrar_id, "orderId": r.order_id, "charged": r.charged, "expiresOn": expires }),
            )
        }
        Err(e) if is_taken(&e) => {
            taken(
                h,
                id,
                &d.name,
                format!("the registrar refused {}: {e}", d.name),
            )
            .await
        }
        Err(e) => {
            let why = e.to_string();
            let at = h.env.clock.stamp();
            let _ = h
                .with_ws(move |ws| Ok(store::set_state(ws.conn(), id, "pending", Some(&why), &at)?))
                .await;
            Err(remote("registrar", e))
        }
    }
}

pub(super) async fn renew(h: &DomainJobs, job: &JobCtx) -> std::result::Result<Value, JobError> {
    let id = id_of(job, "domainId")?;
    let secrets = h.secrets();
    let http = h.env.config.http.clone();
    let (d, registrar) = h
        .with_ws(move |ws| {
            let d = store::get(ws.conn(), id)?;
            Ok((d, settings::build_registrar(ws.conn(), &*secrets, &http)?))
        })
        .await?;
    // A renewal whose reply was lost moved the expiry: compare with the one we had.
    let before = d.expires_on.clone();
    if let Some(done) = job.result.get("renewedTo").and_then(Value::as_str) {
        return Ok(json!({ "domain": d.name, "expiresOn": done, "already": true }));
    }
    let info = registrar
        .info(&d.name)
        .await
        .map_err(|e| remote("registrar", e))?;
    let Some(info) = info else {
        return Err(JobError::fatal(format!(
            "{} is not in the registrar account any more",
            d.name
        )));
    };
    if info.expires_on.is_some() && info.expires_on > before {
        let to = info.expires_on.clone().unwrap_or_default();
        let at = h.env.clock.stamp();
        let t2 = to.clone();
        h.with_ws(move |ws| Ok(store::set_expiry(ws.conn(), id, &t2, &at)?))
            .await?;
        return Ok(json!({ "domain": d.name, "expiresOn": to, "found": true }));
    }
    let r = registrar
        .renew(&d.name, 1)
        .await
        .map_err(|e| remote("registrar", e))?;
    let to = match r.expires_on.clone() {
        Some(t) => t,
        None => registrar
            .info(&d.name)
            .await
            .ok()
            .flatten()
            .and_then(|i| i.expires_on)
            .unwrap_or_default(),
    };
    job.save(json!({ "renewedTo": to })).await?;
    let at = h.env.clock.stamp();
    let t2 = to.clone();
    h.with_ws(move |ws| {
        ws.write(|tx, ctx| {
            store::set_expiry(tx, id, &t2, &at)?;
            ctx.audit(
                tx,
                "domain",
                Some(id),
                "renewed",
                before.as_ref(),
                Some(&t2),
            )
        })
    })
    .await?;
    Ok(json!({ "domain": d.name, "expiresOn": to, "charged": r.charged }))
}
