//! The SMTP server Hostdesk sends through, and the sending itself (lettre over tokio, rustls).
//!
//! The settings (host, port, username, from address and name, security) live in the settings
//! table; the password lives ONLY in the [`SecretStore`] (the OS keyring) under
//! [`SMTP_SECRET`]: never in SQLite, logs, errors or IPC replies ([`SmtpSettings`] says only
//! whether one is set).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use hostdesk_store::{outbox::OutboxMail, settings as store, Connection};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::secrets::{Secret, SecretStore};
use crate::{AppError, Result, Workspace};

/// The secret store entry of the SMTP password (server names cannot contain ':').
pub const SMTP_SECRET: &str = "mail:smtp";
/// Where the opt-in environment store (`HOSTDESK_SECRETS=env`) reads the SMTP password, and
/// where `hostdesk mail settings --password-env` takes it from by default.
pub const SMTP_PASSWORD_VAR: &str = "HOSTDESK_SMTP_PASSWORD";

pub const HOST: &str = "smtp_host";
pub const PORT: &str = "smtp_port";
pub const USERNAME: &str = "smtp_username";
pub const FROM_ADDR: &str = "smtp_from_addr";
pub const FROM_NAME: &str = "smtp_from_name";
pub const SECURITY: &str = "smtp_security";

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain SMTP (port 25); only to this machine when a password is sent.
    None,
    /// Plain connection upgraded with STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::Starttls => "starttls",
            Security::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Option<Security> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Some(Security::None),
            "starttls" => Some(Security::Starttls),
            "tls" => Some(Security::Tls),
            _ => None,
        }
    }

    pub fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::Starttls => 587,
            Security::Tls => 465,
        }
    }
}

/// The SMTP settings as staff see them: never the password, only whether one is stored.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SmtpSettings {
    /// False until a host and a from address are saved.
    pub configured: bool,
    pub host: String,
    pub port: u16,
    pub username: String,
    pub from_addr: String,
    pub from_name: String,
    pub security: Security,
    pub password_set: bool,
    /// Why the password store could not be asked (no keyring), if it could not.
    pub password_store_error: Option<String>,
}

/// What staff change. The password travels separately (see [`save_settings`]).
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct SmtpSettingsInput {
    pub host: String,
    /// Default: the security's usual port (25, 587, 465).
    pub port: Option<i64>,
    pub username: String,
    pub from_addr: String,
    pub from_name: String,
    pub security: Security,
}

/// What the sender needs, read from the settings table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub from_addr: String,
    pub from_name: String,
    pub security: Security,
}

/// The stored SMTP settings, or None while no host or from address is set.
pub fn load(conn: &Connection) -> hostdesk_store::Result<Option<SmtpConfig>> {
    let get = |k: &str| -> hostdesk_store::Result<String> {
        Ok(store::get(conn, k)?.unwrap_or_default())
    };
    let (host, from_addr) = (get(HOST)?, get(FROM_ADDR)?);
    if host.trim().is_empty() || from_addr.trim().is_empty() {
        return Ok(None);
    }
    let security = Security::parse(&get(SECURITY)?).unwrap_or_default();
    Ok(Some(SmtpConfig {
        host,
        port: get(PORT)?
            .parse()
            .unwrap_or_else(|_| security.default_port()),
        username: get(USERNAME)?,
        from_addr,
        from_name: get(FROM_NAME)?,
        security,
    }))
}

/// The settings for the settings form.
pub fn settings(ws: &Workspace, secrets: &dyn SecretStore) -> Result<SmtpSettings> {
    let c = load(ws.conn())?;
    let raw = |k: &str| -> Result<String> { Ok(store::get(ws.conn(), k)?.unwrap_or_default()) };
    // Without a login no password is used: the store is not asked (it may be unreachable).
    let (password_set, password_store_error) = if raw(USERNAME)?.trim().is_empty() {
        (false, None)
    } else {
        match secrets.get(SMTP_SECRET) {
            Ok(p) => (p.is_some_and(|p| !p.is_empty()), None),
            Err(e) => (false, Some(e.to_string())),
        }
    };
    let security = Security::parse(&raw(SECURITY)?).unwrap_or_default();
    Ok(SmtpSettings {
        configured: c.is_some(),
        host: raw(HOST)?,
        port: raw(PORT)?
            .parse()
            .unwrap_or_else(|_| security.default_port()),
        username: raw(USERNAME)?,
        from_addr: raw(FROM_ADDR)?,
        from_name: raw(FROM_NAME)?,
        security,
        password_set,
        password_store_error,
    })
}

fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks the input; every problem names its field.
pub fn check(input: &SmtpSettingsInput) -> Result<u16> {
    let mut errors = Vec::new();
    let host = input.host.trim();
    if host.is_empty() {
        errors.push(("host", "is required".to_owned()));
    } else if host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c == '/') {
        errors.push((
            "host",
            "is a host name or an IP address, e.g. smtp.example.com".to_owned(),
        ));
    }
    let port = match input.port {
        None => input.security.default_port(),
        Some(p) => match u16::try_from(p) {
            Ok(p) if p > 0 => p,
            _ => {
                errors.push(("port", "must be between 1 and 65535".to_owned()));
                0
            }
        },
    };
    if input.from_addr.trim().is_empty() {
        errors.push(("fromAddr", "is required".to_owned()));
    } else if input.from_addr.trim().parse::<Address>().is_err() {
        errors.push((
            "fromAddr",
            format!("'{}' is not an e-mail address", input.from_addr.trim()),
        ));
    }
    if input.from_name.len() > 200 || input.from_name.contains(['\r', '\n']) {
        errors.push((
            "fromName",
            "is one line of at most 200 characters".to_owned(),
        ));
    }
    if input.username.len() > 320 || input.username.contains(['\r', '\n']) {
        errors.push((
            "username",
            "is one line of at most 320 characters".to_owned(),
        ));
    }
    if input.security == Security::None && !input.username.trim().is_empty() && !is_loopback(host) {
        errors.push((
            "security",
            "without TLS the password would cross the network in the clear: use starttls or tls (plain SMTP with a password only to this machine)".to_owned(),
        ));
    }
    if errors.is_empty() {
        return Ok(port);
    }
    let mut e = AppError::invalid(errors[0].0, errors[0].1.clone());
    e.message = errors
        .iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    e.fields = errors
        .into_iter()
        .map(|(field, message)| crate::FieldErrorDto {
            field: field.to_owned(),
            message,
        })
        .collect();
    Err(e)
}

/// Saves the settings. `password`: Some replaces the one in the secret store, None keeps it;
/// `clear_password` removes it. The password never touches the database.
pub fn save_settings(
    ws: &mut Workspace,
    secrets: &dyn SecretStore,
    input: &SmtpSettingsInput,
    password: Option<&Secret>,
    clear_password: bool,
) -> Result<SmtpSettings> {
    let port = check(input)?;
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        secrets.set(SMTP_SECRET, p)?;
    } else if clear_password {
        secrets.delete(SMTP_SECRET)?;
    }
    let values = [
        (HOST, input.host.trim().to_owned()),
        (PORT, port.to_string()),
        (USERNAME, input.username.trim().to_owned()),
        (FROM_ADDR, input.from_addr.trim().to_owned()),
        (FROM_NAME, input.from_name.trim().to_owned()),
        (SECURITY, input.security.as_str().to_owned()),
    ];
    ws.write(|tx, ctx| {
        for (k, v) in &values {
            let before = store::get(tx, k)?;
            if before.as_deref() != Some(v.as_str()) {
                store::set(tx, k, v)?;
                ctx.audit(tx, "setting", None, k, before.as_ref(), Some(v))?;
            }
        }
        if password.is_some() || clear_password {
            let what = if password.is_some() { "set" } else { "cleared" };
            ctx.audit(
                tx,
                "setting",
                None,
                "smtp_password",
                None::<&()>,
                Some(&what),
            )?;
        }
        Ok(())
    })?;
    settings(ws, secrets)
}

/// Why a send failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// The server refused for good (a 5xx reply): retrying sends nothing.
    pub permanent: bool,
}

fn scrub(text: String, password: Option<&Secret>) -> String {
    match password {
        Some(p) if p.expose().len() >= 3 => text.replace(p.expose(), Secret::REDACTED),
        _ => text,
    }
}

/// The message as it goes on the wire: From, To, Subject, Date, the stored Message-ID, and a
/// UTF-8 plain-text body.
pub fn message(config: &SmtpConfig, mail: &OutboxMail, date: DateTime<Utc>) -> Result<Message> {
    let bad = |field: &str, e: &dyn std::fmt::Display| AppError::invalid(field, e.to_string());
    let from_addr: Address = config
        .from_addr
        .trim()
        .parse()
        .map_err(|e| bad("fromAddr", &e))?;
    let to_addr: Address = mail.to_addr.trim().parse().map_err(|e| bad("toAddr", &e))?;
    let name = |n: &str| Some(n.trim().to_owned()).filter(|n| !n.is_empty());
    Message::builder()
        .from(Mailbox::new(name(&config.from_name), from_addr))
        .to(Mailbox::new(name(&mail.to_name), to_addr))
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .date(SystemTime::from(date))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body_text.clone())
        .map_err(|e| bad("body", &e))
}

/// Sends one mail. Ok: the server's reply to the message (it accepted it).
pub async fn send(
    config: &SmtpConfig,
    password: Option<&Secret>,
    mail: &OutboxMail,
    date: DateTime<Utc>,
    timeout: Duration,
) -> std::result::Result<String, SendError> {
    let msg = message(config, mail, date).map_err(|e| SendError {
        message: format!("cannot build the message: {}", e.message),
        permanent: true,
    })?;
    let server = format!("{}:{}", config.host, config.port);
    let tls = |what: &str| -> std::result::Result<TlsParameters, SendError> {
        hostdesk_remote::install_crypto_provider();
        TlsParameters::new(config.host.clone()).map_err(|e| SendError {
            message: format!("SMTP server {server}: cannot set up {what}: {e}"),
            permanent: false,
        })
    };
    let tls = match config.security {
        Security::None => Tls::None,
        Security::Starttls => Tls::Required(tls("STARTTLS")?),
        Security::Tls => Tls::Wrapper(tls("TLS")?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.trim())
        .port(config.port)
        .tls(tls)
        .timeout(Some(timeout));
    if !config.username.trim().is_empty() {
        let Some(p) = password.filter(|p| !p.is_empty()) else {
            return Err(SendError {
                message: format!(
                    "SMTP user '{}' has no password: set it with `hostdesk mail settings --password-stdin` or in the app's Outbox settings",
                    config.username.trim()
                ),
                permanent: false,
            });
        };
        builder = builder.credentials(Credentials::new(
            config.username.trim().to_owned(),
            p.expose().to_owned(),
        ));
    }
    let transport = builder.build();
    match transport.send(msg).await {
        Ok(reply) => Ok(reply.message().collect::<Vec<_>>().join(" ")),
        Err(e) => Err(SendError {
            message: scrub(format!("SMTP server {server}: {e}"), password),
            permanent: e.is_permanent(),
        }),
    }
}
