//! Resolving an order request against the catalog, and its price preview: the recurring price
//! (product or kit + option modifiers + tier) and the first charge, prorated from the order date
//! to the client's billing day, with its tax.

use chrono::NaiveDate;
use hostdesk_core::billing::{
    first_charge, first_charge_line, recurring_price, FirstCharge, LineDraft, PricePart,
};
use hostdesk_core::catalog::Period;
use hostdesk_core::Money;
use hostdesk_store::catalog::{self as store_catalog, PriceRow};
use hostdesk_store::clients::{self, Client};
use hostdesk_store::servers::{self as store_servers, Server};
use hostdesk_store::{Connection, StoreError};
use serde::{Deserialize, Serialize};

use crate::billing::issue::{client_billing, ClientBilling};
use crate::billing::{money, seller};
use crate::{AppError, ErrorCode, Result};

/// What staff order for a client.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderRequest {
    pub client_id: i64,
    /// A product code, or
    pub product: Option<String>,
    /// a kit code (its product, preselected options and tier at the kit price).
    pub kit: Option<String>,
    /// `option=choice` codes; they replace a kit's choice for the same option.
    pub options: Vec<String>,
    /// A support tier code (default: the kit's).
    pub tier: Option<String>,
    /// month (default), quarter or year.
    pub period: Option<String>,
    /// A full domain, or a single label made a subdomain of the server's master domain.
    pub domain: String,
    /// A server name (default: the server named like the product's server group, or the only
    /// server).
    pub server: Option<String>,
    /// stored, manual or later (default: stored when the client has a stored payment method,
    /// else manual).
    pub pay: Option<String>,
    /// Place it even beyond the client's quota (staff's explicit override, recorded in the
    /// audit log). Without it such an order is refused.
    #[serde(default)]
    pub override_quota: bool,
    /// How many years a domain registered for the client is registered for (1 to 10;
    /// default 1). Only with a registered domain.
    #[specta(optional)]
    pub domain_years: Option<u32>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct QuotePart {
    pub kind: String,
    pub label: String,
    pub amount: String,
}

/// The price preview of an order.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub client_name: String,
    pub product_code: String,
    pub product_name: String,
    pub kit_code: Option<String>,
    pub tier_code: Option<String>,
    pub choices: Vec<String>,
    pub currency: String,
    pub period: String,
    pub parts: Vec<QuotePart>,
    /// The price of every full period.
    pub recurring: String,
    pub recurring_minor: i64,
    /// The first charge covers [from, to): the order date to the client's billing day.
    pub first_from: String,
    pub first_to: String,
    pub days: i64,
    pub days_in_period: i64,
    pub first_net: String,
    pub tax_rate_bps: u32,
    pub first_tax: String,
    pub first_total: String,
    pub first_total_minor: i64,
    pub tax_note: Option<String>,
    /// The site's full domain.
    pub domain: String,
    pub server_name: String,
    /// How the subscription starts: on_payment, immediate or approval.
    pub activation: String,
    pub pay: String,
}

/// An order request with every code resolved to rows and ids.
pub(crate) struct Resolved {
    pub client: Client,
    pub product_id: i64,
    pub product_name: String,
    pub product_code: String,
    pub profile: String,
    pub platform: String,
    pub kit_id: Option<i64>,
    pub kit_code: Option<String>,
    pub tier_id: Option<i64>,
    pub tier_code: Option<String>,
    /// (option id, choice id) and the `option=choice` codes.
    pub choices: Vec<(i64, i64)>,
    pub choice_codes: Vec<String>,
    pub quotas: Vec<(String, Option<i64>)>,
    pub period: Period,
    pub parts: Vec<PricePart>,
    pub price: Money,
    pub first: FirstCharge,
    pub billing: ClientBilling,
    pub order_date: NaiveDate,
    /// The registration term of a domain registered for the client.
    pub domain_years: u32,
    pub domain: String,
    pub server: Server,
    /// A demo package's shared site: the order makes a group on it instead of a site.
    pub shared_site_id: Option<i64>,
    pub activation: String,
    pub pay: String,
    /// The quota this order goes beyond, placed with the staff's override.
    pub quota_breach: Option<crate::usage::quota::QuotaBreach>,
}

impl Resolved {
    pub fn label(&self) -> String {
        match &self.kit_code {
            Some(_) => format!(
                "{} ({})",
                self.parts[0].label.trim_end_matches(" (kit)"),
                self.product_name
            ),
            None => self.product_name.clone(),
        }
    }

    /// The first charge's line for the subscription (0 in a preview).
    pub fn first_line(&self, subscription_id: i64) -> Result<LineDraft> {
        Ok(first_charge_line(
            subscription_id,
            &self.first,
            &self.label(),
            self.price,
            self.billing.tax.rate_bps,
        )?)
    }

    pub fn quote(&self) -> Result<Quote> {
        let line = self.first_line(0)?;
        Ok(Quote {
            client_name: self.client.name.clone(),
            product_code: self.product_code.clone(),
            product_name: self.product_name.clone(),
            kit_code: self.kit_code.clone(),
            tier_code: self.tier_code.clone(),
            choices: self.choice_codes.clone(),
            currency: self.client.currency.clone(),
            period: self.period.as_str().to_string(),
            parts: self
                .parts
                .iter()
                .map(|p| QuotePart {
                    kind: p.kind.to_string(),
                    label: p.label.clone(),
                    amount: p.amount.amount_string(),
                })
                .collect(),
            recurring: self.price.amount_string(),
            recurring_minor: self.price.minor,
            first_from: self.first.from.to_string(),
            first_to: self.first.to.to_string(),
            days: self.first.days,
            days_in_period: self.first.days_in_period,
            first_net: line.net.amount_string(),
            tax_rate_bps: line.tax_rate_bps,
            first_tax: line.tax.amount_string(),
            first_total: line.total.amount_string(),
            first_total_minor: line.total.minor,
            tax_note: self.billing.tax.note().map(str::to_string),
            domain: self.domain.clone(),
            server_name: self.server.name.clone(),
            activation: self.activation.clone(),
            pay: self.pay.clone(),
        })
    }
}

fn not_found(field: &str, e: StoreError) -> AppError {
    match e {
        StoreError::NotFound { entity, key } => {
            AppError::invalid(field, format!("no {entity} '{key}'"))
        }
        e => e.into(),
    }
}

fn price_in(
    prices: &[PriceRow],
    currency: &str,
    period: Period,
    what: &str,
) -> Result<Option<Money>> {
    prices
        .iter()
        .find(|p| p.currency == currency && p.period == period.as_str())
        .map(|p| money(p.amount_minor, currency))
        .transpose()
        .map_err(|e| AppError::invalid("price", format!("{what}: {}", e.message)))
}

fn required_price(
    prices: &[PriceRow],
    currency: &str,
    period: Period,
    what: &str,
    field: &str,
) -> Result<Money> {
    price_in(prices, currency, period, what)?.ok_or_else(|| {
        let offered: Vec<String> = prices
            .iter()
            .map(|p| format!("{} per {}", p.currency, p.period))
            .collect();
        AppError::invalid(
            field,
            format!(
                "{what} has no {currency} price per {}{}",
                period.as_str(),
                if offered.is_empty() {
                    String::new()
                } else {
                    format!(" (it has: {})", offered.join(", "))
                }
            ),
        )
    })
}

/// Picks the server: the one named, else the one named like the product's server group, else
/// the only server.
fn pick_server(conn: &Connection, named: Option<&str>, group: &str) -> Result<Server> {
    if let Some(name) = named.filter(|n| !n.trim().is_empty()) {
        return store_servers::find_by_name(conn, name.trim())?
            .ok_or_else(|| AppError::invalid("server", format!("no server named '{name}'")));
    }
    if !group.is_empty() {
        if let Some(s) = store_servers::find_by_name(conn, group)? {
            return Ok(s);
        }
    }
    let all = store_servers::list(conn)?;
    match all.len() {
        1 => Ok(all.into_iter().next().expect("one server")),
        0 => Err(AppError::invalid(
            "server",
            "there is no server yet: add one (hostdesk server add) before taking orders",
        )),
        _ => Err(AppError::invalid(
            "server",
            format!(
                "choose a server: {}",
                all.iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The site's full domain: a single label becomes a subdomain of the server's master domain.
fn full_domain(domain: &str, server: &Server) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    if d.is_empty() {
        return Err(AppError::invalid("domain", "is required"));
    }
    let fqdn = if d.contains('.') {
        d
    } else if server.master_domain.is_empty() {
        return Err(AppError::invalid(
            "domain",
            format!(
                "server {} has no master domain: give a full domain name",
                server.name
            ),
        ));
    } else {
        format!("{d}.{}", server.master_domain)
    };
    hostdesk_core::validate::domain(&fqdn).map_err(|m| AppError::invalid("domain", m))
}

/// What a plan is made of, as asked (codes).
pub(crate) struct PlanAsk<'a> {
    pub product: Option<&'a str>,
    pub kit: Option<&'a str>,
    pub options: &'a [String],
    pub tier: Option<&'a str>,
    /// A subscription changing within a retired product or kit keeps it.
    pub allow_retired: bool,
}

/// A plan resolved against the catalog and priced in one currency and period.
pub(crate) struct Plan {
    pub product_id: i64,
    pub product_code: String,
    pub product_name: String,
    pub profile: String,
    pub platform: String,
    pub kit_id: Option<i64>,
    pub kit_code: Option<String>,
    pub tier_id: Option<i64>,
    pub tier_code: Option<String>,
    /// (option id, choice id) and the `option=choice` codes.
    pub choices: Vec<(i64, i64)>,
    pub choice_codes: Vec<String>,
    pub quotas: Vec<(String, Option<i64>)>,
    pub parts: Vec<PricePart>,
    pub price: Money,
}

/// Resolves a plan's codes and prices it: product or kit + option modifiers + tier.
pub(crate) fn price_plan(
    conn: &Connection,
    currency: &str,
    period: Period,
    ask: PlanAsk<'_>,
    at: &str,
) -> Result<Plan> {
    let currency = currency.to_string();
    let mut parts = Vec::new();
    let mut choice_codes: Vec<String> = Vec::new();
    let (product_code, kit, tier_code) = match (
        ask.product.filter(|s| !s.is_empty()),
        ask.kit.filter(|s| !s.is_empty()),
    ) {
        (Some(_), Some(_)) => {
            return Err(AppError::invalid(
                "product",
                "give a product or a kit, not both",
            ))
        }
        (None, None) => return Err(AppError::invalid("product", "choose a product or a kit")),
        (Some(p), None) => (p.to_string(), None, ask.tier.map(str::to_string)),
        (None, Some(k)) => {
            let kit = store_catalog::list_kits(conn, at)?
                .into_iter()
                .find(|x| x.code == k)
                .ok_or_else(|| AppError::invalid("kit", format!("no kit '{k}'")))?;
            if kit.retired_at.is_some() && !ask.allow_retired {
                return Err(AppError::invalid(
                    "kit",
                    format!("kit {k} is retired: it takes no new orders"),
                ));
            }
            let price = required_price(&kit.prices, &currency, period, &format!("kit {k}"), "kit")?;
            parts.push(PricePart {
                kind: "kit",
                label: format!("{} (kit)", kit.name),
                amount: price,
            });
            choice_codes = kit.choices.clone();
            let tier = ask.tier.map(str::to_string).or(kit.tier_code.clone());
            (kit.product_code.clone(), Some(kit), tier)
        }
    };
    let product =
        store_catalog::product(conn, &product_code, at).map_err(|e| not_found("product", e))?;
    if product.retired_at.is_some() && !ask.allow_retired {
        return Err(AppError::invalid(
            "product",
            format!("product {product_code} is retired: it takes no new orders"),
        ));
    }
    if kit.is_none() {
        let base = required_price(
            &product.prices,
            &currency,
            period,
            &format!("product {product_code}"),
            "product",
        )?;
        parts.push(PricePart {
            kind: "product",
            label: product.name.clone(),
            amount: base,
        });
    }
    // The request's choices replace the kit's for the same option.
    let kit_choices = choice_codes.clone();
    for o in ask.options {
        let (opt, choice) = o
            .split_once('=')
            .ok_or_else(|| AppError::invalid("options", format!("'{o}' is not option=choice")))?;
        choice_codes.retain(|c| c.split_once('=').map(|(k, _)| k) != Some(opt.trim()));
        choice_codes.push(format!("{}={}", opt.trim(), choice.trim()));
    }
    let options = store_catalog::options_for(conn, Some(product.id), at)?;
    let mut choices = Vec::new();
    let mut quotas = Vec::new();
    for code in &choice_codes {
        let (opt, ch) = code.split_once('=').unwrap_or((code, ""));
        let (option_id, choice_id) = store_catalog::resolve_choice(conn, product.id, opt, ch)
            .map_err(|_| {
                AppError::invalid(
                    "options",
                    format!("product {product_code} has no option {opt} with a choice {ch}"),
                )
            })?;
        choices.push((option_id, choice_id));
        let choice = options
            .iter()
            .flat_map(|o| o.choices.iter())
            .find(|c| c.id == choice_id)
            .ok_or_else(|| AppError::new(ErrorCode::Database, format!("choice {code} vanished")))?;
        if let Some(q) = &choice.quota {
            quotas.push((q.resource.as_str().to_string(), q.limit));
        }
        if !kit_choices.contains(code) {
            if let Some(m) = price_in(&choice.prices, &currency, period, code)? {
                parts.push(PricePart {
                    kind: "option",
                    label: format!("{} {}", opt, choice.name),
                    amount: m,
                });
            }
        }
    }
    let mut tier_id = None;
    if let Some(t) = tier_code.as_deref().filter(|t| !t.is_empty()) {
        let tier = store_catalog::list_tiers(conn, at)?
            .into_iter()
            .find(|x| x.code == t)
            .ok_or_else(|| AppError::invalid("tier", format!("no support tier '{t}'")))?;
        if tier.retired_at.is_some() && !ask.allow_retired {
            return Err(AppError::invalid(
                "tier",
                format!("support tier {t} is retired"),
            ));
        }
        tier_id = Some(tier.id);
        // A kit's own tier is in the kit price.
        let in_kit = kit.as_ref().and_then(|k| k.tier_code.as_deref()) == Some(t);
        if !in_kit {
            let price = required_price(
                &tier.prices,
                &currency,
                period,
                &format!("tier {t}"),
                "tier",
            )?;
            parts.push(PricePart {
                kind: "tier",
                label: format!("{} support", tier.name),
                amount: price,
            });
        }
    }
    let price = recurring_price(&parts)?;
    Ok(Plan {
        product_id: product.id,
        product_code,
        product_name: product.name,
        profile: product.profile,
        platform: product.platform,
        kit_id: kit.as_ref().map(|k| k.id),
        kit_code: kit.map(|k| k.code),
        tier_id,
        tier_code: tier_code.filter(|t| !t.is_empty()),
        choices,
        choice_codes,
        quotas,
        parts,
        price,
    })
}

pub(crate) fn resolve(
    conn: &Connection,
    req: &OrderRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Resolved> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let client = clients::get(conn, req.client_id).map_err(|e| not_found("clientId", e))?;
    if client.status != "active" {
        return Err(AppError::invalid(
            "clientId",
            format!(
                "client {} is {}: only active clients can order",
                client.name, client.status
            ),
        ));
    }
    let period: Period = req
        .period
        .as_deref()
        .unwrap_or("month")
        .parse()
        .map_err(|m: String| AppError::invalid("period", m))?;
    let plan = price_plan(
        conn,
        &client.currency,
        period,
        PlanAsk {
            product: req.product.as_deref(),
            kit: req.kit.as_deref(),
            options: &req.options,
            tier: req.tier.as_deref(),
            allow_retired: false,
        },
        &at,
    )?;
    let price = plan.price;
    let seller = seller::load(conn)?;
    let billing = client_billing(&client, &seller, now)?;
    let order_date = billing.today;
    let first = first_charge(order_date, client.billing_day as u32, period, price)?;
    let server_group: String = conn.query_row(
        "SELECT server_group FROM products WHERE id = ?1",
        [plan.product_id],
        |r| r.get(0),
    )?;
    let shared = hostdesk_store::orders::shared_site(conn, plan.product_id)?;
    let (server, domain, shared_site_id) = match &shared {
        // A demo package: a group on the shared site, no site of its own.
        Some(shared) => {
            let site = store_servers::find_site_by_domain(conn, shared)?.ok_or_else(|| {
                AppError::invalid(
                    "product",
                    format!("the demo package's shared site {shared} does not exist"),
                )
            })?;
            let server_id = site.server_id.ok_or_else(|| {
                AppError::invalid(
                    "product",
                    format!("the shared site {shared} is not placed on a server"),
                )
            })?;
            (
                store_servers::get(conn, server_id)?,
                site.domain,
                Some(site.id),
            )
        }
        None => {
            let server = pick_server(conn, req.server.as_deref(), &server_group)?;
            let domain = full_domain(&req.domain, &server)?;
            let chosen = crate::domains::order_domain(
                conn,
                plan.product_id,
                &plan.choices,
                &client.currency,
                period,
                &at,
            )?;
            crate::domains::check_order_domain(&chosen.mode, &domain, &server)?;
            if req.domain_years.is_some() && chosen.mode != "registered" {
                return Err(AppError::invalid(
                    "domainYears",
                    "only a domain registered for the client has a registration term",
                ));
            }
            if let Some(s) = store_servers::find_site_by_domain(conn, &domain)? {
                return Err(AppError::invalid(
                    "domain",
                    format!("{domain} is taken (site {} of {})", s.id, s.client_name),
                ));
            }
            (server, domain, None)
        }
    };
    let domain_years = req.domain_years.unwrap_or(1);
    if !(1..=10).contains(&domain_years) {
        return Err(AppError::invalid(
            "domainYears",
            "a registration lasts 1 to 10 years",
        ));
    }
    let quota_breach =
        crate::usage::quota::check_order(conn, client.id, &plan.quotas, shared_site_id.is_none())?;
    if let Some(b) = quota_breach.as_ref().filter(|_| !req.override_quota) {
        return Err(b.error());
    }
    let activation = hostdesk_store::orders::activation(conn, plan.product_id)?;
    let pay = match req.pay.as_deref().filter(|p| !p.is_empty()) {
        Some(p @ ("stored" | "manual" | "later")) => p.to_string(),
        Some(p) => {
            return Err(AppError::invalid(
                "pay",
                format!("'{p}' is not one of: stored, manual, later"),
            ))
        }
        None if hostdesk_store::orders::default_payment_method(conn, client.id)?.is_some() => {
            "stored".into()
        }
        None => "manual".into(),
    };
    if pay == "stored" && hostdesk_store::orders::default_payment_method(conn, client.id)?.is_none()
    {
        return Err(AppError::invalid(
            "pay",
            format!(
                "client {} has no stored payment method: add one (hostdesk payment-method add) or choose manual",
                client.name
            ),
        ));
    }
    if pay == "later" && activation == "on_payment" && first.amount.minor > 0 {
        return Err(AppError::invalid(
            "pay",
            format!(
                "product {} is provisioned after payment: choose stored or manual",
                plan.product_code
            ),
        ));
    }
    Ok(Resolved {
        client,
        product_id: plan.product_id,
        product_name: plan.product_name,
        product_code: plan.product_code,
        profile: plan.profile,
        platform: plan.platform,
        kit_id: plan.kit_id,
        kit_code: plan.kit_code,
        tier_id: plan.tier_id,
        tier_code: plan.tier_code,
        choices: plan.choices,
        choice_codes: plan.choice_codes,
        quotas: plan.quotas,
        period,
        parts: plan.parts,
        price,
        first,
        billing,
        order_date,
        domain_years,
        domain,
        server,
        shared_site_id,
        activation,
        pay,
        quota_breach,
    })
}
