//! Outgoing mail: an outbox table, sent by a job, retried, never lost, never sent twice.
//!
//! # How a use case sends a mail
//! ```ignore
//! ws.write(|tx, ctx| {
//!     // ... the order's own writes ...
//!     let vars = MailVars::from([
//!         ("client_name".into(), client.name.clone()),
//!         ("product_name".into(), product.name.clone()),
//!         ("site_url".into(), format!("https://{domain}")),
//!         ("login_url".into(), format!("https://{domain}/user/login")),
//!     ]);
//!     let rendered = mail::render(tx, Some(product.id), MailKind::Welcome, &vars)?;
//!     let mut m = OutgoingMail::new(&client.email, &client.name, MailKind::Welcome,
//!                                   format!("welcome:subscription:{sub_id}"), rendered);
//!     m.client_id = Some(client.id);
//!     m.after = vec![site_job, manager_job]; // sent once the site exists
//!     mail::enqueue(tx, &m, &ctx.at)?;
//!     Ok(())
//! })
//! ```
//! [`enqueue`] writes the outbox row and its `mail.send` job in the caller's transaction, so the
//! order and its mail commit together or not at all; the dedupe key makes a repeated enqueue a
//! no-op. The runner's [`MailSender`] does the sending (see its docs for the guarantees).
//!
//! A mail's text is rendered when it is queued and stored as sent: the outbox shows exactly
//! what went out. Do not put one-time login links (secrets held in memory only, see
//! `provisioning::LoginLinks`) into a mail: use the site's login page.
//!
//! # Files
//! - [`outbox`]: enqueue, and staff's list / show / retry.
//! - [`templates`]: the kinds of mail, their variables, per-product templates, rendering.
//! - [`smtp`]: the SMTP settings (password in the OS keyring only) and the sending itself.
//! - [`job`]: the `mail.send` job handler.

pub mod job;
pub mod outbox;
pub mod smtp;
pub mod templates;

pub use job::{MailConfig, MailSender};
pub use outbox::{enqueue, EnqueuedMail, MailDetail, OutgoingMail};
pub use smtp::{Security, SmtpSettings, SmtpSettingsInput, SMTP_SECRET};
pub use templates::{render, MailKind, MailVars, Rendered, TemplateSource};

/// The job kind that sends one outbox row (payload `{"outboxId": N}`, key `mail:N`).
pub const SEND_KIND: &str = "mail.send";
