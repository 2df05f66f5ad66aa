use hostdesk_app::catalog;
use hostdesk_app::core::catalog::{
    AccessGrant, ChoiceDraft, KitDraft, OptionDraft, Period, PriceDraft, ProductDraft, QuotaValue,
    Resource, TierDraft,
};
use hostdesk_app::{AppError, Workspace};

use crate::args::{KitCmd, OptionCmd, PriceArgs, ProductCmd, TierCmd};
use crate::output::{table, Output};

fn parse<T: std::str::FromStr<Err = String>>(field: &str, v: &str) -> Result<T, AppError> {
    v.parse().map_err(|m| AppError::invalid(field, m))
}

fn price(p: &PriceArgs) -> Result<PriceDraft, AppError> {
    Ok(PriceDraft {
        currency: p.currency.clone(),
        period: Some(parse::<Period>("period", &p.period)?),
        amount: p.price.clone(),
    })
}

fn prices_text(prices: &[hostdesk_app::store::catalog::PriceRow]) -> String {
    prices
        .iter()
        .map(|p| format!("{} {}/{}", p.amount, p.currency, p.period))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn product(ws: &mut Workspace, cmd: ProductCmd) -> Result<Output, AppError> {
    match cmd {
        ProductCmd::Add {
            code,
            name,
            kind,
            profile,
            platform,
            description,
            price: p,
        } => {
            let draft = ProductDraft {
                code,
                name,
                kind: Some(parse("kind", &kind)?),
                description,
                profile,
                platform,
                server_group: String::new(),
                prices: vec![price(&p)?],
            };
            Ok(Output::id(catalog::add_product(ws, &draft)?, "product"))
        }
        ProductCmd::List { all } => {
            let list = catalog::list_products(ws, all)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.code.clone(),
                        p.name.clone(),
                        p.kind.clone(),
                        prices_text(&p.prices),
                        if p.retired_at.is_some() {
                            "retired".into()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect();
            Ok(Output::new(
                &list,
                table(&["CODE", "NAME", "KIND", "PRICES", ""], &rows),
            ))
        }
        ProductCmd::Show { code } => {
            let d = catalog::show_product(ws, &code)?;
            let mut text = format!(
                "{} ({}) — {}\nprofile {}  platform {}\nprices {}\n",
                d.product.name,
                d.product.code,
                d.product.kind,
                d.product.profile,
                d.product.platform,
                prices_text(&d.product.prices)
            );
            for o in &d.options {
                let choices: Vec<String> = o.choices.iter().map(|c| c.code.clone()).collect();
                text.push_str(&format!("option {}: {}\n", o.code, choices.join(" | ")));
            }
            Ok(Output::new(&d, text))
        }
        ProductCmd::Trial { code, days } => crate::backup_cmd::trial(ws, &code, days),
        ProductCmd::Activation { code, activation } => {
            hostdesk_app::orders::set_activation(ws, &code, &activation)?;
            Ok(Output::new(
                &serde_json::json!({ "product": code, "activation": activation }),
                format!("{code}: subscriptions start {activation}"),
            ))
        }
        ProductCmd::SharedSite { code, site } => {
            hostdesk_app::orders::set_shared_site(ws, &code, site.as_deref())?;
            Ok(Output::new(
                &serde_json::json!({ "product": code, "sharedSite": site }),
                match &site {
                    Some(s) => format!("{code}: a demo package on {s}"),
                    None => format!("{code}: a site package again"),
                },
            ))
        }
        ProductCmd::Retire { code } => {
            catalog::retire_product(ws, &code)?;
            Ok(Output::new(
                &serde_json::json!({ "retired": code }),
                format!("retired {code}"),
            ))
        }
        ProductCmd::Reprice {
            code,
            price: p,
            apply_at_renewal,
        } => {
            let changed = catalog::reprice_product(ws, &code, &price(&p)?, apply_at_renewal)?;
            let d = catalog::show_product(ws, &code)?;
            let text = format!(
                "{code}: {}\n{} existing subscriptions change at their next renewal",
                prices_text(&d.product.prices),
                changed.len()
            );
            Ok(Output::new(
                &serde_json::json!({ "product": d.product, "changesAtRenewal": changed }),
                text,
            ))
        }
    }
}

/// `CODE:NAME[:MODIFIER][:KEY=VALUE...]`
fn choice(spec: &str, currency: &str, period: Period) -> Result<ChoiceDraft, AppError> {
    let mut parts = spec.split(':');
    let code = parts.next().unwrap_or_default().to_string();
    let name = parts.next().map(str::to_string).ok_or_else(|| {
        AppError::invalid(
            "choice",
            format!("'{spec}' should be CODE:NAME[:MODIFIER][:KEY=VALUE...]"),
        )
    })?;
    let mut c = ChoiceDraft {
        code,
        name,
        ..Default::default()
    };
    for part in parts {
        match part.split_once('=') {
            None => c.prices.push(PriceDraft {
                currency: currency.to_string(),
                period: Some(period),
                amount: part.to_string(),
            }),
            Some(("feature", v)) => c.feature = v.to_string(),
            Some(("ssl", v)) => c.ssl = Some(parse("ssl", v)?),
            Some(("domain", v)) => c.domain_mode = Some(parse("domain", v)?),
            Some((resource, v)) => {
                let resource: Resource = parse("choice", resource)?;
                let limit = if v == "unlimited" {
                    None
                } else {
                    Some(v.parse::<i64>().map_err(|_| {
                        AppError::invalid(
                            "choice",
                            format!("quota '{v}' is not a number or 'unlimited'"),
                        )
                    })?)
                };
                c.quota = Some(QuotaValue { resource, limit });
            }
        }
    }
    Ok(c)
}

pub fn option(ws: &mut Workspace, cmd: OptionCmd) -> Result<Output, AppError> {
    let OptionCmd::Add {
        code,
        name,
        product,
        choices,
        currency,
        period,
    } = cmd;
    let period: Period = parse("period", &period)?;
    let draft = OptionDraft {
        product_code: product.unwrap_or_default(),
        code,
        name,
        choices: choices
            .iter()
            .map(|s| choice(s, &currency, period))
            .collect::<Result<_, _>>()?,
    };
    Ok(Output::id(catalog::add_option(ws, &draft)?, "option"))
}

pub fn tier(ws: &mut Workspace, cmd: TierCmd) -> Result<Output, AppError> {
    match cmd {
        TierCmd::Add {
            code,
            name,
            hours,
            channels,
            response_hours,
            grants,
            price: p,
        } => {
            let draft = TierDraft {
                code,
                name,
                hours: Some(parse("hours", &hours)?),
                channels: channels
                    .iter()
                    .map(|c| parse("channel", c))
                    .collect::<Result<_, _>>()?,
                response_hours: Some(response_hours),
                prices: vec![price(&p)?],
                grants: grants
                    .iter()
                    .map(|g| {
                        g.split_once(':')
                            .map(|(t, r)| AccessGrant {
                                target: t.into(),
                                role: r.into(),
                            })
                            .ok_or_else(|| {
                                AppError::invalid("grant", format!("'{g}' should be TARGET:ROLE"))
                            })
                    })
                    .collect::<Result<_, _>>()?,
            };
            Ok(Output::id(catalog::add_tier(ws, &draft)?, "tier"))
        }
        TierCmd::List => {
            let tiers = catalog::overview(ws)?.tiers;
            let rows: Vec<Vec<String>> = tiers
                .iter()
                .map(|t| {
                    vec![
                        t.code.clone(),
                        t.name.clone(),
                        t.hours.clone(),
                        t.channels.join("+"),
                        prices_text(&t.prices),
                    ]
                })
                .collect();
            Ok(Output::new(
                &tiers,
                table(&["CODE", "NAME", "HOURS", "CHANNELS", "PRICES"], &rows),
            ))
        }
    }
}

pub fn kit(ws: &mut Workspace, cmd: KitCmd) -> Result<Output, AppError> {
    match cmd {
        KitCmd::Add {
            code,
            name,
            product,
            options,
            tier,
            price: p,
        } => {
            let draft = KitDraft {
                code,
                name,
                product_code: product,
                choices: options
                    .iter()
                    .map(|o| {
                        o.split_once('=')
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .ok_or_else(|| {
                                AppError::invalid(
                                    "option",
                                    format!("'{o}' should be OPTION=CHOICE"),
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
                tier_code: tier,
                prices: vec![price(&p)?],
            };
            Ok(Output::id(catalog::add_kit(ws, &draft)?, "kit"))
        }
        KitCmd::List => {
            let kits = catalog::overview(ws)?.kits;
            let rows: Vec<Vec<String>> = kits
                .iter()
                .map(|k| {
                    vec![
                        k.code.clone(),
                        k.name.clone(),
                        k.product_code.clone(),
                        k.tier_code.clone().unwrap_or_default(),
                        prices_text(&k.prices),
                    ]
                })
                .collect();
            Ok(Output::new(
                &kits,
                table(&["CODE", "NAME", "PRODUCT", "TIER", "PRICES"], &rows),
            ))
        }
    }
}
