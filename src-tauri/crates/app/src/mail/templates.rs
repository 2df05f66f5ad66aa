//! The kinds of mail Hostdesk sends, the variables each may use, and their templates.
//!
//! A mail is rendered from the product's template of its kind, else the workspace default of
//! that kind, else the built-in default. Templates are [MiniJinja](https://docs.rs/minijinja)
//! (`{{ client_name }}`, `{% if ... %}`, filters), plain text, no HTML escaping. A template that
//! uses a variable its kind does not have is refused when it is saved; rendering with a
//! variable missing is an error, never an empty gap in a sent mail.

use std::collections::BTreeMap;

use hostdesk_store::{catalog, outbox as store, settings as store_settings, Connection};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::billing::seller;
use crate::{AppError, Result, Workspace};

/// Template variables by name; every value is text (amounts and dates already formatted).
pub type MailVars = BTreeMap<String, String>;

/// What a mail is about; each kind has its template and its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A new site is ready: its address and where to sign in. Sent once per subscription.
    Welcome,
    /// A charge was declined.
    PaymentFailed,
    /// An invoice is overdue (dunning).
    PaymentReminder,
    /// A site was suspended (dunning's last step, or staff).
    SiteSuspended,
    /// A trial or fixed term ended: the site is disabled, and deleted after the grace days.
    TrialExpired,
    /// A trial, a fixed term, a registered domain or a certificate ends in a few days.
    ExpiryReminder,
    /// A subscription reached 80% or 100% of a quota.
    QuotaAlert,
    /// Written by hand; has no template.
    Custom,
}

/// Set when rendering if the caller did not: the `seller_name` setting.
pub const SELLER_NAME: &str = "seller_name";

impl MailKind {
    /// The kinds that have templates.
    pub const TEMPLATED: &'static [MailKind] = &[
        MailKind::Welcome,
        MailKind::PaymentFailed,
        MailKind::PaymentReminder,
        MailKind::SiteSuspended,
        MailKind::TrialExpired,
        MailKind::ExpiryReminder,
        MailKind::QuotaAlert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Welcome => "welcome",
            MailKind::PaymentFailed => "payment_failed",
            MailKind::PaymentReminder => "payment_reminder",
            MailKind::SiteSuspended => "site_suspended",
            MailKind::TrialExpired => "trial_expired",
            MailKind::ExpiryReminder => "expiry_reminder",
            MailKind::QuotaAlert => "quota_alert",
            MailKind::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Result<MailKind> {
        let all = [MailKind::Custom];
        MailKind::TEMPLATED
            .iter()
            .chain(all.iter())
            .copied()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                AppError::invalid(
                    "kind",
                    format!(
                        "'{s}' is not a kind of mail; kinds: {}",
                        MailKind::TEMPLATED
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// The variables a template of this kind may use; rendering needs every one of them
    /// (`seller_name` is filled in from the settings when not given).
    pub fn vars(self) -> &'static [&'static str] {
        match self {
            MailKind::Welcome => &[
                "client_name",
                "product_name",
                "site_url",
                "login_url",
                SELLER_NAME,
            ],
            MailKind::PaymentFailed => &[
                "client_name",
                "invoice_number",
                "amount",
                "reason",
                SELLER_NAME,
            ],
            MailKind::PaymentReminder => &[
                "client_name",
                "invoice_number",
                "amount",
                "due_date",
                "days_overdue",
                SELLER_NAME,
            ],
            MailKind::SiteSuspended => &["client_name", "site_url", "reason", SELLER_NAME],
            MailKind::TrialExpired => &[
                "client_name",
                "product_name",
                "site_url",
                "expired_on",
                "delete_on",
                SELLER_NAME,
            ],
            MailKind::ExpiryReminder => &[
                "client_name",
                "product_name",
                "site_url",
                "expires_on",
                "days_left",
                SELLER_NAME,
            ],
            MailKind::QuotaAlert => &[
                "client_name",
                "product_name",
                "resource",
                "used",
                "limit",
                "percent",
                "period_end",
                SELLER_NAME,
            ],
            MailKind::Custom => &[],
        }
    }

    /// The built-in (subject, body) of this kind.
    pub fn builtin(self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            MailKind::Welcome => (
                "Your {{ product_name }} is ready: {{ site_url }}",
                "Hello {{ client_name }},\n\n\
                 Your {{ product_name }} is ready at {{ site_url }}.\n\n\
                 Sign in here: {{ login_url }}\n\n\
                 You are the site's manager: you can add your own users and change its settings.\n\n\
                 Welcome aboard,\n{{ seller_name }}\n",
            ),
            MailKind::PaymentFailed => (
                "We could not take the payment for invoice {{ invoice_number }}",
                "Hello {{ client_name }},\n\n\
                 The payment of {{ amount }} for invoice {{ invoice_number }} did not go through: \
                 {{ reason }}.\n\n\
                 Please check your payment details, or reply to this e-mail and we will help.\n\n\
                 {{ seller_name }}\n",
            ),
            MailKind::PaymentReminder => (
                "Reminder: invoice {{ invoice_number }} is {{ days_overdue }} days overdue",
                "Hello {{ client_name }},\n\n\
                 Invoice {{ invoice_number }} for {{ amount }} was due on {{ due_date }} and is \
                 still unpaid ({{ days_overdue }} days overdue).\n\n\
                 Please settle it soon to keep your sites running. If you have already paid, \
                 thank you, and please ignore this reminder.\n\n\
                 {{ seller_name }}\n",
            ),
            MailKind::SiteSuspended => (
                "Your site {{ site_url }} is suspended",
                "Hello {{ client_name }},\n\n\
                 Your site {{ site_url }} has been suspended: {{ reason }}.\n\n\
                 Its content is kept. Once the account is settled, it is enabled again.\n\n\
                 {{ seller_name }}\n",
            ),
            MailKind::TrialExpired => (
                "Your {{ product_name }} has ended: {{ site_url }} is disabled",
                "Hello {{ client_name }},\n\n\
                 Your {{ product_name }} ended on {{ expired_on }}, so {{ site_url }} is now \
                 disabled.\n\n\
                 Its content is kept until {{ delete_on }}; after that day it is backed up one \
                 last time and deleted. To keep it, reply to this e-mail and we will turn it into \
                 a paid subscription: your site stays as it is.\n\n\
                 {{ seller_name }}\n",
            ),
            MailKind::ExpiryReminder => (
                "Your {{ product_name }} ends in {{ days_left }} days",
                "Hello {{ client_name }},\n\n\
                 Your {{ product_name }} ({{ site_url }}) ends on {{ expires_on }}, \
                 {{ days_left }} days from now. After that day it stops working.\n\n\
                 To keep it, reply to this e-mail and we will renew it (a trial becomes a paid \
                 subscription): nothing changes for you.\n\n\
                 {{ seller_name }}\n",
            ),
            MailKind::QuotaAlert => (
                "{{ product_name }}: {{ percent }}% of your {{ resource }} quota is used",
                "Hello {{ client_name }},\n\n\
                 Your {{ product_name }} has used {{ used }} of its {{ limit }} {{ resource }} \
                 quota ({{ percent }}%) in the period that ends on {{ period_end }}.\n\n\
                 Usage over the quota is billed at the overage rate on your next invoice. To \
                 raise the quota, reply to this e-mail.\n\n\
                 {{ seller_name }}\n",
            ),
            MailKind::Custom => return None,
        })
    }
}

/// Where a rendered mail's template came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    Product,
    Workspace,
    BuiltIn,
}

/// A mail's subject (one line) and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    pub subject: String,
    pub body: String,
    pub source: TemplateSource,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // A template is staff's text, not a program: a loop that runs away stops here.
    env.set_fuel(Some(50_000));
    env
}

fn render_one(env: &Environment<'_>, field: &str, source: &str, vars: &MailVars) -> Result<String> {
    env.render_str(source, vars)
        .map_err(|e| AppError::invalid(field, template_error(&e)))
}

fn template_error(e: &minijinja::Error) -> String {
    match e.line() {
        Some(line) => format!("{} (line {line})", e.detail().unwrap_or(&e.to_string())),
        None => e
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| e.to_string()),
    }
}

/// Subjects are one line: line breaks a template produced become spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Renders the mail of this kind for this product (None: no product): the product's
/// template, else the workspace default, else the built-in one. `vars` must hold exactly the
/// kind's [`MailKind::vars`] (`seller_name` may be left out: the setting fills it in).
pub fn render(
    conn: &Connection,
    product_id: Option<i64>,
    kind: MailKind,
    vars: &MailVars,
) -> Result<Rendered> {
    let Some(builtin) = kind.builtin() else {
        return Err(AppError::invalid(
            "kind",
            "a custom mail has no template: give its subject and body",
        ));
    };
    let allowed = kind.vars();
    if let Some(extra) = vars.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(AppError::invalid(
            "vars",
            format!(
                "the {} mail has no variable '{extra}'; it has: {}",
                kind.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    let mut vars = vars.clone();
    if !vars.contains_key(SELLER_NAME) {
        let name = store_settings::get(conn, seller::NAME)?
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "Your hosting team".to_owned());
        vars.insert(SELLER_NAME.to_owned(), name);
    }
    let missing: Vec<&str> = allowed
        .iter()
        .copied()
        .filter(|k| !vars.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(
            "vars",
            format!("the {} mail needs {}", kind.as_str(), missing.join(", ")),
        ));
    }
    let (subject, body, source) = match find(conn, product_id, kind)? {
        Some((t, source)) => (t.subject, t.body, source),
        None => (
            builtin.0.to_owned(),
            builtin.1.to_owned(),
            TemplateSource::BuiltIn,
        ),
    };
    let env = environment();
    let subject = one_line(&render_one(&env, "subject", &subject, &vars)?);
    let body = render_one(&env, "body", &body, &vars)?;
    if subject.is_empty() {
        return Err(AppError::invalid(
            "subject",
            format!("the {} mail's subject came out empty", kind.as_str()),
        ));
    }
    Ok(Rendered {
        subject,
        body,
        source,
    })
}

fn find(
    conn: &Connection,
    product_id: Option<i64>,
    kind: MailKind,
) -> Result<Option<(store::MailTemplate, TemplateSource)>> {
    if let Some(p) = product_id {
        if let Some(t) = store::template(conn, Some(p), kind.as_str())? {
            return Ok(Some((t, TemplateSource::Product)));
        }
    }
    Ok(store::template(conn, None, kind.as_str())?.map(|t| (t, TemplateSource::Workspace)))
}

/// Checks a template before it is saved: it parses, uses only its kind's variables, and
/// renders with sample values. Errors name the field (`subject` or `body`).
pub fn check(kind: MailKind, subject: &str, body: &str) -> Result<()> {
    if kind.builtin().is_none() {
        return Err(AppError::invalid("kind", "a custom mail has no template"));
    }
    let allowed = kind.vars();
    let env = environment();
    let sample: MailVars = allowed
        .iter()
        .map(|k| ((*k).to_owned(), format!("<{k}>")))
        .collect();
    for (field, text) in [("subject", subject), ("body", body)] {
        if text.trim().is_empty() {
            return Err(AppError::invalid(field, "is required"));
        }
        let t = env
            .template_from_str(text)
            .map_err(|e| AppError::invalid(field, template_error(&e)))?;
        let mut unknown: Vec<String> = t
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !allowed.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if !unknown.is_empty() {
            return Err(AppError::invalid(
                field,
                format!(
                    "unknown placeholder{} {}; the {} mail has: {}",
                    if unknown.len() > 1 { "s" } else { "" },
                    unknown
                        .iter()
                        .map(|u| format!("{{{{ {u} }}}}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    kind.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
        render_one(&env, field, text, &sample)?;
    }
    if subject.len() > 500 {
        return Err(AppError::invalid(
            "subject",
            "is longer than 500 characters",
        ));
    }
    Ok(())
}

/// One template as staff see it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    pub kind: MailKind,
    /// None: the workspace default.
    pub product_code: Option<String>,
    pub subject: String,
    pub body: String,
    pub source: TemplateSource,
    /// The variables it may use.
    pub vars: Vec<String>,
}

fn product_id(conn: &Connection, code: Option<&str>) -> Result<Option<i64>> {
    code.map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| catalog::product_id(conn, c))
        .transpose()
        .map_err(|e| match e {
            hostdesk_store::StoreError::NotFound { .. } => AppError::invalid(
                "product",
                format!("no product with code '{}'", code.unwrap_or_default()),
            ),
            e => e.into(),
        })
}

/// Saves the template of a kind for a product (by code; None: the workspace default), after
/// [`check`].
pub fn set(
    ws: &mut Workspace,
    product: Option<&str>,
    kind: MailKind,
    subject: &str,
    body: &str,
) -> Result<TemplateView> {
    check(kind, subject, body)?;
    let product_id = product_id(ws.conn(), product)?;
    let at = ws.clock().stamp();
    ws.write(|tx, ctx| {
        let before = store::template(tx, product_id, kind.as_str())?;
        let t = store::set_template(tx, product_id, kind.as_str(), subject, body, &at)?;
        ctx.audit(
            tx,
            "mail_template",
            Some(t.id),
            "set",
            before.as_ref(),
            Some(&t),
        )?;
        Ok(())
    })?;
    get(ws, product, kind)
}

/// The template a mail of this kind for this product would use (the built-in one if none is
/// stored).
pub fn get(ws: &Workspace, product: Option<&str>, kind: MailKind) -> Result<TemplateView> {
    let Some(builtin) = kind.builtin() else {
        return Err(AppError::invalid("kind", "a custom mail has no template"));
    };
    let product_id = product_id(ws.conn(), product)?;
    let (subject, body, source) = match find(ws.conn(), product_id, kind)? {
        Some((t, s)) => (t.subject, t.body, s),
        None => (
            builtin.0.to_owned(),
            builtin.1.to_owned(),
            TemplateSource::BuiltIn,
        ),
    };
    Ok(TemplateView {
        kind,
        product_code: product.map(str::to_owned).filter(|p| !p.trim().is_empty()),
        subject,
        body,
        source,
        vars: kind.vars().iter().map(|v| (*v).to_owned()).collect(),
    })
}

/// Removes a stored template: the next in line (workspace default, built-in) takes over.
pub fn reset(ws: &mut Workspace, product: Option<&str>, kind: MailKind) -> Result<bool> {
    let product_id = product_id(ws.conn(), product)?;
    ws.write(|tx, ctx| {
        let before = store::template(tx, product_id, kind.as_str())?;
        let removed = store::delete_template(tx, product_id, kind.as_str())?;
        if let Some(b) = &before {
            ctx.audit(
                tx,
                "mail_template",
                Some(b.id),
                "reset",
                Some(b),
                None::<&()>,
            )?;
        }
        Ok(removed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_passes_its_own_check() {
        for k in MailKind::TEMPLATED {
            let (s, b) = k.builtin().expect("templated kinds have a built-in");
            check(*k, s, b).unwrap_or_else(|e| panic!("{}: {}", k.as_str(), e.message));
        }
    }

    #[test]
    fn an_unknown_placeholder_is_refused_with_its_name() {
        let e = check(MailKind::Welcome, "Hi {{ client_nam }}", "body").unwrap_err();
        assert_eq!(e.fields[0].field, "subject");
        assert!(e.message.contains("{{ client_nam }}"), "{}", e.message);
        assert!(e.message.contains("client_name"), "{}", e.message);
    }

    #[test]
    fn a_syntax_error_names_the_field() {
        let e = check(MailKind::Welcome, "Hi", "Hello {{ client_name ").unwrap_err();
        assert_eq!(e.fields[0].field, "body");
    }

    #[test]
    fn kinds_round_trip() {
        for k in MailKind::TEMPLATED {
            assert_eq!(MailKind::parse(k.as_str()).unwrap(), *k);
        }
        assert!(MailKind::parse("nope").is_err());
    }
}
