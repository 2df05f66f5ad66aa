//! `hostdesk outbox list|show|retry` and `hostdesk mail settings|template`.
//!
//! The SMTP password is read from standard input (`--password-stdin`) or an environment
//! variable (`--password-env`, by default `HOSTDESK_SMTP_PASSWORD`), never from the command
//! line, and goes to the OS keyring (see `HOSTDESK_SECRETS` in `hostdesk_app::secrets`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use hostdesk_app::mail::templates::{self, TemplateView};
use hostdesk_app::mail::{outbox, smtp, MailKind, Security, SmtpSettings, SmtpSettingsInput};
use hostdesk_app::secrets::{self, Secret};
use hostdesk_app::store::outbox::OutboxMail;
use hostdesk_app::{AppError, Workspace};

use crate::output::{table, Output};

#[derive(Subcommand)]
pub enum OutboxCmd {
    /// Outgoing mail, newest first.
    List {
        /// queued, sending, sent or failed
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        client: Option<i64>,
        #[arg(long, default_value_t = 0)]
        offset: i64,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One mail: its text, Message-ID, state, and its send job's attempts.
    Show { id: i64 },
    /// Queue a failed mail again (and run its send job again now).
    Retry { id: i64 },
}

#[derive(Subcommand)]
pub enum MailCmd {
    /// Show the SMTP settings, or change the ones given.
    Settings(SettingsArgs),
    /// The templates of the mails Hostdesk sends.
    #[command(subcommand)]
    Template(TemplateCmd),
    /// Queue a test mail (`hostdesk jobs run` or the open app sends it).
    Test {
        #[arg(long)]
        to: String,
    },
}

#[derive(Args)]
pub struct SettingsArgs {
    /// The SMTP server's host name.
    #[arg(long)]
    pub host: Option<String>,
    /// Default: 25 (none), 587 (starttls) or 465 (tls).
    #[arg(long)]
    pub port: Option<i64>,
    /// The user to log in as (empty: no login).
    #[arg(long)]
    pub username: Option<String>,
    /// The sender address, e.g. billing@example.com.
    #[arg(long = "from")]
    pub from_addr: Option<String>,
    /// The sender's display name.
    #[arg(long)]
    pub from_name: Option<String>,
    /// none, starttls or tls.
    #[arg(long)]
    pub security: Option<String>,
    /// Read the password from standard input (its first line).
    #[arg(long, conflicts_with_all = ["password_env", "clear_password"])]
    pub password_stdin: bool,
    /// Read the password from this environment variable (default HOSTDESK_SMTP_PASSWORD).
    #[arg(long, value_name = "VAR", num_args = 0..=1,
          default_missing_value = smtp::SMTP_PASSWORD_VAR, conflicts_with = "clear_password")]
    pub password_env: Option<String>,
    /// Remove the stored password.
    #[arg(long)]
    pub clear_password: bool,
}

#[derive(Subcommand)]
pub enum TemplateCmd {
    /// Save the template of a kind of mail, for one product or (without --product) the default.
    Set {
        /// welcome, payment_failed, payment_reminder or site_suspended
        #[arg(long)]
        kind: String,
        /// A product code (default: every product without its own template).
        #[arg(long)]
        product: Option<String>,
        #[arg(long)]
        subject: String,
        /// A file holding the body (plain text, MiniJinja placeholders such as {{ client_name }}).
        #[arg(long)]
        body_file: PathBuf,
    },
    /// The template a mail of this kind (for this product) uses, and its variables.
    Show {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Remove a saved template: the workspace default or the built-in one takes over.
    Reset {
        #[arg(long)]
        kind: String,
        #[arg(long)]
        product: Option<String>,
    },
}

fn rows(list: &[OutboxMail]) -> String {
    let cells: Vec<Vec<String>> = list
        .iter()
        .map(|m| {
            vec![
                m.id.to_string(),
                m.state.clone(),
                m.kind.clone(),
                m.to_addr.clone(),
                m.subject.clone(),
                m.attempts.to_string(),
                m.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "STATE",
            "KIND",
            "TO",
            "SUBJECT",
            "TRIES",
            "LAST ERROR",
        ],
        &cells,
    )
}

pub fn outbox(ws: &mut Workspace, cmd: OutboxCmd) -> Result<Output, AppError> {
    match cmd {
        OutboxCmd::List {
            state,
            client,
            offset,
            limit,
        } => {
            let list = outbox::list(ws, state.as_deref(), client, offset, limit)?;
            Ok(Output::new(&list, rows(&list)))
        }
        OutboxCmd::Show { id } => {
            let d = outbox::show(ws, id)?;
            let m = &d.mail;
            let to = if m.to_name.is_empty() {
                m.to_addr.clone()
            } else {
                format!("{} <{}>", m.to_name, m.to_addr)
            };
            let mut text = format!(
                "mail #{} {} — {} (attempts {})\nto {to}\nsubject {}\nmessage-id {}\nkey {}\nqueued {}\n",
                m.id, m.kind, m.state, m.attempts, m.subject, m.message_id, m.dedupe_key, m.created_at
            );
            if let Some(at) = &m.sent_at {
                text.push_str(&format!("sent {at}\n"));
            }
            if let Some(e) = &m.last_error {
                text.push_str(&format!("last error {e}\n"));
            }
            if let Some(j) = &d.job {
                text.push_str(&format!(
                    "job #{} {} ({} of {} attempts)\n",
                    j.id, j.state, j.attempts, j.max_attempts
                ));
            }
            text.push_str(&format!("\n{}\n", m.body_text.trim_end()));
            Ok(Output::new(&d, text))
        }
        OutboxCmd::Retry { id } => {
            let m = outbox::retry(ws, id)?;
            Ok(Output::new(&m, format!("mail {id} queued again")))
        }
    }
}

fn read_password(a: &SettingsArgs) -> Result<Option<Secret>, AppError> {
    if a.password_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprint!("SMTP password: ");
            let _ = std::io::stderr().flush();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']);
        if p.is_empty() {
            return Err(AppError::invalid(
                "password",
                "standard input held no password (give it on the first line)",
            ));
        }
        return Ok(Some(Secret::new(p)));
    }
    if let Some(var) = &a.password_env {
        return match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
            _ => Err(AppError::invalid(
                "password",
                format!("the environment variable {var} is not set or empty"),
            )),
        };
    }
    Ok(None)
}

fn settings_text(s: &SmtpSettings) -> String {
    if !s.configured && s.host.is_empty() {
        return "SMTP is not configured: hostdesk mail settings --host H --from ADDR [--username U --password-stdin]".into();
    }
    let mut t = format!(
        "smtp {}:{} ({})\nfrom {}{}\n",
        s.host,
        s.port,
        s.security.as_str(),
        if s.from_name.is_empty() {
            String::new()
        } else {
            format!("{} ", s.from_name)
        },
        format_args!("<{}>", s.from_addr)
    );
    if s.username.is_empty() {
        t.push_str("no login\n");
    } else {
        t.push_str(&format!(
            "user {} — password {}\n",
            s.username,
            if s.password_set { "set" } else { "NOT set" }
        ));
    }
    if let Some(e) = &s.password_store_error {
        t.push_str(&format!("password store: {e}\n"));
    }
    t
}

fn template_text(t: &TemplateView) -> String {
    format!(
        "{} template ({}){}\nvariables: {}\nsubject {}\n\n{}\n",
        t.kind.as_str(),
        match t.source {
            hostdesk_app::mail::TemplateSource::Product => "this product's",
            hostdesk_app::mail::TemplateSource::Workspace => "the workspace default",
            hostdesk_app::mail::TemplateSource::BuiltIn => "built in",
        },
        t.product_code
            .as_deref()
            .map(|p| format!(" for product {p}"))
            .unwrap_or_default(),
        t.vars.join(", "),
        t.subject,
        t.body.trim_end()
    )
}

pub fn mail(ws: &mut Workspace, cmd: MailCmd) -> Result<Output, AppError> {
    match cmd {
        MailCmd::Settings(a) => {
            let store = secrets::from_env()?;
            let current = smtp::settings(ws, &*store)?;
            let password = read_password(&a)?;
            let changes = a.host.is_some()
                || a.port.is_some()
                || a.username.is_some()
                || a.from_addr.is_some()
                || a.from_name.is_some()
                || a.security.is_some();
            if !changes && password.is_none() && !a.clear_password {
                return Ok(Output::new(&current, settings_text(&current)));
            }
            let security = match &a.security {
                None => current.security,
                Some(s) => Security::parse(s).ok_or_else(|| {
                    AppError::invalid(
                        "security",
                        format!("'{s}' is not one of: none, starttls, tls"),
                    )
                })?,
            };
            // A new security without a port takes that security's usual port.
            let port = match (a.port, &a.security) {
                (Some(p), _) => Some(p),
                (None, Some(_)) => None,
                (None, None) if current.host.is_empty() => None,
                (None, None) => Some(i64::from(current.port)),
            };
            let input = SmtpSettingsInput {
                host: a.host.unwrap_or(current.host),
                port,
                username: a.username.unwrap_or(current.username),
                from_addr: a.from_addr.unwrap_or(current.from_addr),
                from_name: a.from_name.unwrap_or(current.from_name),
                security,
            };
            let saved =
                smtp::save_settings(ws, &*store, &input, password.as_ref(), a.clear_password)?;
            Ok(Output::new(&saved, settings_text(&saved)))
        }
        MailCmd::Test { to } => {
            let q = outbox::queue_test(ws, &to)?;
            Ok(Output::new(
                &q,
                format!(
                    "test mail {} queued (job {}); `hostdesk jobs run --until-idle` sends it",
                    q.outbox_id, q.job_id
                ),
            ))
        }
        MailCmd::Template(TemplateCmd::Set {
            kind,
            product,
            subject,
            body_file,
        }) => {
            let kind = MailKind::parse(&kind)?;
            let body = std::fs::read_to_string(&body_file).map_err(|e| {
                AppError::invalid("body", format!("cannot read {}: {e}", body_file.display()))
            })?;
            let t = templates::set(ws, product.as_deref(), kind, &subject, &body)?;
            Ok(Output::new(&t, template_text(&t)))
        }
        MailCmd::Template(TemplateCmd::Show { kind, product }) => {
            let t = templates::get(ws, product.as_deref(), MailKind::parse(&kind)?)?;
            Ok(Output::new(&t, template_text(&t)))
        }
        MailCmd::Template(TemplateCmd::Reset { kind, product }) => {
            let kind = MailKind::parse(&kind)?;
            let removed = templates::reset(ws, product.as_deref(), kind)?;
            Ok(Output::new(
                &serde_json::json!({ "removed": removed }),
                if removed {
                    format!("{} template removed", kind.as_str())
                } else {
                    format!("no saved {} template", kind.as_str())
                },
            ))
        }
    }
}
