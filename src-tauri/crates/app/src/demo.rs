//! The demo workspace: a catalog drawn from the seeds (Open Atrium site packages with premium
//! themes, extra features and user quotas; support tiers; Community / Business / Enterprise
//! kits; a client-account product with quotas) and a few dozen clients with subscriptions and
//! sites. Deterministic, so screenshots and tests see the same workspace every time.

use chrono::{Duration, NaiveDate};
use hostdesk_core::catalog::{
    AccessGrant, Channel, ChoiceDraft, DomainMode, KitDraft, OptionDraft, Period, PriceDraft,
    ProductDraft, ProductKind, QuotaValue, Resource, SslLevel, SupportHours, TierDraft,
};
use hostdesk_core::client::{ClientDraft, ClientKind, ContactDraft, ContactRole};
use hostdesk_core::period::next_anchor_after;
use hostdesk_store::subscriptions::NewSubscription;
use hostdesk_store::{catalog as cat, settings, subscriptions as subs};

use crate::{catalog, clients, status, AppError, ErrorCode, Result, Workspace};

/// Settings key set once the demo is loaded (its value: when).
pub const DEMO_KEY: &str = "demo_loaded_at";
/// The demo's master domain; sites are its subdomains.
pub const DEMO_DOMAIN: &str = "sites.example.net";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DemoOutcome {
    Loaded,
    AlreadyLoaded,
}

/// Fills an empty workspace with the demo. Loading it twice is harmless; loading it into a
/// workspace that already holds real data is refused.
pub fn load(ws: &mut Workspace) -> Result<DemoOutcome> {
    if settings::get(ws.conn(), DEMO_KEY)?.is_some() {
        return Ok(DemoOutcome::AlreadyLoaded);
    }
    if !status::report(ws)?.empty {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this workspace already holds clients or products; the demo is only loaded into an empty one",
        ));
    }
    // One transaction for the whole demo: it appears complete or not at all.
    ws.batch(|ws| {
        seed(ws)?;
        ws.write(|tx, ctx| Ok(settings::set(tx, DEMO_KEY, &ctx.at)?))
    })?;
    Ok(DemoOutcome::Loaded)
}

fn prices(list: &[(&str, Period, &str)]) -> Vec<PriceDraft> {
    list.iter()
        .map(|(c, p, a)| PriceDraft {
            currency: c.to_string(),
            period: Some(*p),
            amount: a.to_string(),
        })
        .collect()
}

/// A monthly price in each demo currency (EUR, USD, GBP, JPY).
fn monthly(eur: &str, usd: &str, gbp: &str, jpy: &str) -> Vec<PriceDraft> {
    prices(&[
        ("EUR", Period::Month, eur),
        ("USD", Period::Month, usd),
        ("GBP", Period::Month, gbp),
        ("JPY", Period::Month, jpy),
    ])
}

fn choice(code: &str, name: &str, modifier: [&str; 4]) -> ChoiceDraft {
    ChoiceDraft {
        code: code.into(),
        name: name.into(),
        prices: monthly(modifier[0], modifier[1], modifier[2], modifier[3]),
        ..Default::default()
    }
}

const FREE: [&str; 4] = ["0", "0", "0", "0"];

fn seed_catalog(ws: &mut Workspace) -> Result<()> {
    catalog::add_product(
        ws,
        &ProductDraft {
            code: "oa-site".into(),
            name: "Open Atrium site".into(),
            kind: Some(ProductKind::Site),
            description:
                "A ready-to-use Open Atrium intranet: groups, discussions, files and calendars."
                    .into(),
            profile: "openatrium".into(),
            platform: "Open Atrium 2.6".into(),
            server_group: "atrium".into(),
            prices: monthly("19.00", "21.00", "17.00", "2900"),
        },
    )?;
    catalog::add_product(
        ws,
        &ProductDraft {
            code: "drupal-site".into(),
            name: "Drupal site".into(),
            kind: Some(ProductKind::Site),
            description: "A standard Drupal site on a managed platform.".into(),
            profile: "standard".into(),
            platform: "Drupal 10".into(),
            server_group: "drupal".into(),
            prices: monthly("9.95", "10.95", "8.95", "1500"),
        },
    )?;
    catalog::add_product(
        ws,
        &ProductDraft {
            code: "reseller-account".into(),
            name: "Hosting account".into(),
            kind: Some(ProductKind::Account),
            description:
                "The client is the product: an account with quotas on sites, disk and bandwidth."
                    .into(),
            prices: monthly("29.00", "32.00", "26.00", "4500"),
            ..Default::default()
        },
    )?;

    catalog::add_option(
        ws,
        &OptionDraft {
            product_code: "oa-site".into(),
            code: "theme".into(),
            name: "Theme".into(),
            choices: vec![
                choice("standard", "Standard theme", FREE),
                ChoiceDraft {
                    feature: "premium_theme".into(),
                    ..choice("premium", "Premium theme", ["5.00", "5.50", "4.50", "750"])
                },
            ],
        },
    )?;
    catalog::add_option(
        ws,
        &OptionDraft {
            product_code: "oa-site".into(),
            code: "features".into(),
            name: "Extended features".into(),
            choices: vec![
                choice("none", "None", FREE),
                ChoiceDraft {
                    feature: "oa_reader".into(),
                    ..choice(
                        "oa-reader",
                        "OA Reader (experimental)",
                        ["3.00", "3.30", "2.70", "450"],
                    )
                },
            ],
        },
    )?;
    let users = |code: &str, name: &str, limit: Option<i64>, m: [&str; 4]| ChoiceDraft {
        quota: Some(QuotaValue {
            resource: Resource::Users,
            limit,
        }),
        ..choice(code, name, m)
    };
    catalog::add_option(
        ws,
        &OptionDraft {
            code: "users".into(),
            name: "User quota".into(),
            choices: vec![
                users("10", "Up to 10 users", Some(10), FREE),
                users(
                    "50",
                    "Up to 50 users",
                    Some(50),
                    ["10.00", "11.00", "9.00", "1500"],
                ),
                users(
                    "unlimited",
                    "Unlimited users",
                    None,
                    ["25.00", "27.00", "22.00", "3700"],
                ),
            ],
            ..Default::default()
        },
    )?;
    let ssl = |code: &str, name: &str, level: SslLevel, m: [&str; 4]| ChoiceDraft {
        ssl: Some(level),
        ..choice(code, name, m)
    };
    catalog::add_option(
        ws,
        &OptionDraft {
            code: "ssl".into(),
            name: "Security".into(),
            choices: vec![
                ssl("auto", "Automatic certificate", SslLevel::Automatic, FREE),
                ssl(
                    "bundled",
                    "Bundled EV certificate",
                    SslLevel::Bundled,
                    ["4.00", "4.40", "3.60", "600"],
                ),
                ssl("none", "No HTTPS", SslLevel::None, FREE),
            ],
            ..Default::default()
        },
    )?;
    let dom = |code: &str, name: &str, mode: DomainMode, m: [&str; 4]| ChoiceDraft {
        domain_mode: Some(mode),
        ..choice(code, name, m)
    };
    catalog::add_option(
        ws,
        &OptionDraft {
            code: "domain".into(),
            name: "Domain".into(),
            choices: vec![
                dom(
                    "subdomain",
                    "Subdomain of ours",
                    DomainMode::Subdomain,
                    FREE,
                ),
                dom("owned", "Your own domain", DomainMode::Owned, FREE),
                dom(
                    "registered",
                    "Register a new domain",
                    DomainMode::Registered,
                    ["1.25", "1.40", "1.10", "190"],
                ),
            ],
            ..Default::default()
        },
    )?;
    let sites = |code: &str, name: &str, limit: i64, m: [&str; 4]| ChoiceDraft {
        quota: Some(QuotaValue {
            resource: Resource::Sites,
            limit: Some(limit),
        }),
        ..choice(code, name, m)
    };
    catalog::add_option(
        ws,
        &OptionDraft {
            product_code: "reseller-account".into(),
            code: "sites".into(),
            name: "Number of sites".into(),
            choices: vec![
                sites("5", "5 sites", 5, FREE),
                sites("20", "20 sites", 20, ["15.00", "16.50", "13.50", "2200"]),
                sites("50", "50 sites", 50, ["40.00", "44.00", "36.00", "6000"]),
            ],
        },
    )?;

    let tier = |code: &str,
                name: &str,
                hours,
                channels: Vec<Channel>,
                response,
                m: [&str; 4],
                grants: Vec<AccessGrant>| TierDraft {
        code: code.into(),
        name: name.into(),
        hours: Some(hours),
        channels,
        response_hours: Some(response),
        prices: monthly(m[0], m[1], m[2], m[3]),
        grants,
    };
    let grant = |role: &str| {
        vec![AccessGrant {
            target: "issue-tracker".into(),
            role: role.into(),
        }]
    };
    catalog::add_tier(
        ws,
        &tier(
            "community",
            "Community (forum)",
            SupportHours::H8x5,
            vec![Channel::Forum],
            72,
            FREE,
            vec![],
        ),
    )?;
    catalog::add_tier(
        ws,
        &tier(
            "business",
            "Business 8x5",
            SupportHours::H8x5,
            vec![Channel::Email, Channel::Forum],
            8,
            ["49.00", "54.00", "44.00", "7400"],
            grant("customer"),
        ),
    )?;
    catalog::add_tier(
        ws,
        &tier(
            "enterprise",
            "Enterprise 24x7",
            SupportHours::H24x7,
            vec![Channel::Email, Channel::Phone, Channel::Forum],
            1,
            ["199.00", "219.00", "179.00", "29900"],
            grant("priority-customer"),
        ),
    )?;

    let kit =
        |code: &str, name: &str, choices: &[(&str, &str)], tier: &str, m: [&str; 4]| KitDraft {
            code: code.into(),
            name: name.into(),
            product_code: "oa-site".into(),
            choices: choices
                .iter()
                .map(|(o, c)| (o.to_string(), c.to_string()))
                .collect(),
            tier_code: tier.into(),
            prices: monthly(m[0], m[1], m[2], m[3]),
        };
    catalog::add_kit(
        ws,
        &kit(
            "oa-community",
            "Community",
            &[
                ("users", "10"),
                ("theme", "standard"),
                ("ssl", "auto"),
                ("domain", "subdomain"),
            ],
            "community",
            ["19.00", "21.00", "17.00", "2900"],
        ),
    )?;
    catalog::add_kit(
        ws,
        &kit(
            "oa-business",
            "Business",
            &[
                ("users", "50"),
                ("theme", "premium"),
                ("ssl", "auto"),
                ("domain", "subdomain"),
            ],
            "business",
            ["69.00", "76.00", "62.00", "10400"],
        ),
    )?;
    catalog::add_kit(
        ws,
        &kit(
            "oa-enterprise",
            "Enterprise",
            &[
                ("users", "unlimited"),
                ("theme", "premium"),
                ("features", "oa-reader"),
                ("ssl", "bundled"),
                ("domain", "subdomain"),
            ],
            "enterprise",
            ["229.00", "252.00", "206.00", "34400"],
        ),
    )?;
    Ok(())
}

/// (name, kind, country, currency, time zone, contact first name)
const CLIENTS: &[(&str, ClientKind, &str, &str, &str, &str)] = &[
    (
        "Atelier Lumière",
        ClientKind::Company,
        "FR",
        "EUR",
        "Europe/Paris",
        "Camille",
    ),
    (
        "Bäckerei Sonnenschein GmbH",
        ClientKind::Company,
        "DE",
        "EUR",
        "Europe/Berlin",
        "Jonas",
    ),
    (
        "Northwind Cooperative",
        ClientKind::Company,
        "US",
        "USD",
        "America/Chicago",
        "Avery",
    ),
    (
        "Harbour & Finch Ltd",
        ClientKind::Company,
        "GB",
        "GBP",
        "Europe/London",
        "Olivia",
    ),
    (
        "Sakura Design Studio",
        ClientKind::Company,
        "JP",
        "JPY",
        "Asia/Tokyo",
        "Haruto",
    ),
    (
        "Van der Berg Architecten",
        ClientKind::Company,
        "NL",
        "EUR",
        "Europe/Amsterdam",
        "Sanne",
    ),
    (
        "Marie Dubois",
        ClientKind::Person,
        "FR",
        "EUR",
        "Europe/Paris",
        "Marie",
    ),
    (
        "Open Valley School District",
        ClientKind::Company,
        "US",
        "USD",
        "America/Denver",
        "Jordan",
    ),
    (
        "Koumbit Solidarity Network",
        ClientKind::Company,
        "FR",
        "EUR",
        "Europe/Paris",
        "Luc",
    ),
    (
        "Greenleaf Community Garden",
        ClientKind::Company,
        "GB",
        "GBP",
        "Europe/London",
        "Harry",
    ),
    (
        "Lukas Schneider",
        ClientKind::Person,
        "DE",
        "EUR",
        "Europe/Berlin",
        "Lukas",
    ),
    (
        "Riverside Health Clinic",
        ClientKind::Company,
        "US",
        "USD",
        "America/New_York",
        "Morgan",
    ),
    (
        "Café Olé Roasters",
        ClientKind::Company,
        "FR",
        "EUR",
        "Europe/Paris",
        "Inès",
    ),
    (
        "Tanaka Engineering",
        ClientKind::Company,
        "JP",
        "JPY",
        "Asia/Tokyo",
        "Yui",
    ),
    (
        "Emma Thompson",
        ClientKind::Person,
        "GB",
        "GBP",
        "Europe/London",
        "Emma",
    ),
    (
        "Fjord Outdoor Supply",
        ClientKind::Company,
        "NL",
        "EUR",
        "Europe/Amsterdam",
        "Daan",
    ),
    (
        "Pioneer Valley Makerspace",
        ClientKind::Company,
        "US",
        "USD",
        "America/Los_Angeles",
        "Riley",
    ),
    (
        "Institut Pasteur Alumni",
        ClientKind::Company,
        "FR",
        "EUR",
        "Europe/Paris",
        "Hugo",
    ),
    (
        "Müller & Söhne Verlag",
        ClientKind::Company,
        "DE",
        "EUR",
        "Europe/Berlin",
        "Mia",
    ),
    (
        "Blue Heron Yoga",
        ClientKind::Company,
        "US",
        "USD",
        "America/Chicago",
        "Casey",
    ),
    (
        "Oliver Bennett",
        ClientKind::Person,
        "GB",
        "GBP",
        "Europe/London",
        "Oliver",
    ),
    (
        "Lotus Tea House",
        ClientKind::Company,
        "JP",
        "JPY",
        "Asia/Tokyo",
        "Sota",
    ),
    (
        "De Groene Fiets",
        ClientKind::Company,
        "NL",
        "EUR",
        "Europe/Amsterdam",
        "Lotte",
    ),
    (
        "Summit Legal Partners",
        ClientKind::Company,
        "US",
        "USD",
        "America/New_York",
        "Taylor",
    ),
    (
        "Chloé Martin",
        ClientKind::Person,
        "FR",
        "EUR",
        "Europe/Paris",
        "Chloé",
    ),
    (
        "Alpine Ski School",
        ClientKind::Company,
        "DE",
        "EUR",
        "Europe/Berlin",
        "Felix",
    ),
    (
        "Castle Hill Museum Trust",
        ClientKind::Company,
        "GB",
        "GBP",
        "Europe/London",
        "Amelia",
    ),
    (
        "Hudson Valley Farmers Market",
        ClientKind::Company,
        "US",
        "USD",
        "America/New_York",
        "Quinn",
    ),
    (
        "Papeterie du Marais",
        ClientKind::Company,
        "FR",
        "EUR",
        "Europe/Paris",
        "Léa",
    ),
    (
        "Kyoto Language Academy",
        ClientKind::Company,
        "JP",
        "JPY",
        "Asia/Tokyo",
        "Aoi",
    ),
    (
        "Noah Fischer",
        ClientKind::Person,
        "DE",
        "EUR",
        "Europe/Berlin",
        "Noah",
    ),
    (
        "Lighthouse Relief Fund",
        ClientKind::Company,
        "NL",
        "EUR",
        "Europe/Amsterdam",
        "Bram",
    ),
    (
        "Prairie Wind Energy",
        ClientKind::Company,
        "US",
        "USD",
        "America/Chicago",
        "Drew",
    ),
    (
        "The Copper Kettle",
        ClientKind::Company,
        "GB",
        "GBP",
        "Europe/London",
        "George",
    ),
    (
        "Association Les Amis du Jazz",
        ClientKind::Company,
        "FR",
        "EUR",
        "Europe/Paris",
        "Jules",
    ),
    (
        "Sophie Wagner",
        ClientKind::Person,
        "DE",
        "EUR",
        "Europe/Berlin",
        "Sophie",
    ),
];

/// A stable, readable slug: "Café Olé Roasters" -> "cafe-ole-roasters".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ß' => 's',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(40).collect()
}

/// The demo's hosting server: the simulated sandbox, whose sites are subdomains of
/// [`DEMO_DOMAIN`]. Orders placed in the demo are provisioned on it.
fn seed_server(ws: &mut Workspace) -> Result<i64> {
    let platforms = vec!["Open Atrium 2.6".to_string(), "Drupal 10".to_string()];
    let profiles = vec!["openatrium".to_string(), "standard".to_string()];
    ws.write(|tx, ctx| {
        Ok(hostdesk_store::servers::insert(
            tx,
            &hostdesk_store::servers::ServerFields {
                name: "sandbox",
                kind: "sandbox",
                base_url: "",
                username: "",
                master_domain: DEMO_DOMAIN,
                concurrency: 4,
                platforms: &platforms,
                profiles: &profiles,
                options: &serde_json::json!({}),
            },
            &ctx.at,
        )?)
    })
}

fn seed(ws: &mut Workspace) -> Result<()> {
    for (k, v) in [
        ("seller_name", "Atrium Hosting SARL (demo)"),
        ("seller_address", "12 rue des Serveurs, 69002 Lyon"),
        ("seller_country", "FR"),
        ("seller_tax_id", "FR40123456824"),
        ("seller_email", "billing@atrium-hosting.example"),
        ("payment_instructions", "Bank transfer to IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP, quoting the invoice number."),
    ] {
        crate::settings::set(ws, k, v)?;
    }
    seed_catalog(ws)?;
    let server_id = seed_server(ws)?;
    let today = ws.clock().now().date_naive();
    // Kits and stand-alone products, cycled so every kind shows up.
    let plans: [(&str, Option<&str>); 5] = [
        ("oa-site", Some("oa-community")),
        ("oa-site", Some("oa-business")),
        ("drupal-site", None),
        ("oa-site", Some("oa-enterprise")),
        ("reseller-account", None),
    ];
    for (i, (name, kind, country, currency, tz, first)) in CLIENTS.iter().enumerate() {
        let s = slug(name);
        let email_domain = format!("{s}.example");
        let billing_day = [1, 1, 15, 1, 28, 31][i % 6];
        let id = clients::add(
            ws,
            &ClientDraft {
                kind: Some(*kind),
                name: name.to_string(),
                email: format!("billing@{email_domain}.org"),
                phone: format!("+{} 555 01{:02}", 30 + i, i),
                address: format!("{} Market Street", 10 + i * 7),
                country: country.to_string(),
                tax_id: if *kind == ClientKind::Company && ["FR", "DE", "NL"].contains(country) {
                    format!("{country}{:09}", 100_000_000 + i * 7919)
                } else {
                    String::new()
                },
                currency: currency.to_string(),
                timezone: tz.to_string(),
                billing_day: Some(billing_day),
                notes: if i % 7 == 0 {
                    "Prefers e-mail; invoices to the accountant.".into()
                } else {
                    String::new()
                },
                status: None,
            },
            &[
                ContactDraft {
                    name: format!(
                        "{first} {}",
                        ["Martin", "Keller", "Ito", "Smith", "Jansen"][i % 5]
                    ),
                    email: format!("{}@{email_domain}.org", slug(first)),
                    phone: String::new(),
                    role: Some(ContactRole::Owner),
                },
                ContactDraft {
                    name: "Accounts".into(),
                    email: format!("accounts@{email_domain}.org"),
                    phone: String::new(),
                    role: Some(ContactRole::Billing),
                },
            ],
        )?;
        let n_subs = 1 + (i % 3 == 0) as usize;
        for k in 0..n_subs {
            let (product, kit) = plans[(i + k * 2) % plans.len()];
            let started = today - Duration::days((20 + i * 11 + k * 40) as i64);
            let state = if i % 11 == 5 {
                "suspended"
            } else if i % 13 == 7 {
                "pending"
            } else {
                "active"
            };
            subscribe(
                ws,
                id,
                product,
                kit,
                currency,
                billing_day as u32,
                started,
                state,
                &format!("{s}{}", if k > 0 { "-2" } else { "" }),
                server_id,
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn subscribe(
    ws: &mut Workspace,
    client_id: i64,
    product: &str,
    kit: Option<&str>,
    currency: &str,
    anchor_day: u32,
    started: NaiveDate,
    state: &str,
    site_name: &str,
    server_id: i64,
) -> Result<()> {
    ws.write(|tx, ctx| {
        let product_id = cat::product_id(tx, product)?;
        let p = cat::product_by_id(tx, product_id, &ctx.at)?;
        let price_of = |rows: &[hostdesk_store::catalog::PriceRow]| {
            rows.iter()
                .find(|r| r.currency == currency && r.period == "month")
                .map(|r| r.amount_minor)
                .unwrap_or(0)
        };
        let (kit_id, tier_id, picks, price) = match kit {
            Some(code) => {
                let k = cat::list_kits(tx, &ctx.at)?
                    .into_iter()
                    .find(|k| k.code == code)
                    .ok_or_else(|| AppError::new(ErrorCode::NotFound, format!("kit {code}")))?;
                let picks: Vec<(String, String)> = k
                    .choices
                    .iter()
                    .filter_map(|c| {
                        c.split_once('=')
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                    })
                    .collect();
                let tier_id = k
                    .tier_code
                    .as_deref()
                    .map(|t| cat::tier_id(tx, t))
                    .transpose()?;
                (Some(k.id), tier_id, picks, price_of(&k.prices))
            }
            None if product == "reseller-account" => (
                None,
                Some(cat::tier_id(tx, "business")?),
                vec![("sites".into(), "20".into())],
                0,
            ),
            None => (
                None,
                Some(cat::tier_id(tx, "community")?),
                vec![("users".into(), "10".into())],
                0,
            ),
        };
        let mut choices = Vec::new();
        let mut quotas = Vec::new();
        let mut price = if kit.is_some() {
            price
        } else {
            price_of(&p.prices)
        };
        let options = cat::options_for(tx, Some(product_id), &ctx.at)?;
        for (o, c) in &picks {
            let ids = cat::resolve_choice(tx, product_id, o, c)?;
            choices.push(ids);
            if let Some(ch) = options
                .iter()
                .flat_map(|x| &x.choices)
                .find(|x| x.id == ids.1)
            {
                if kit.is_none() {
                    price += price_of(&ch.prices);
                }
                if let Some(q) = &ch.quota {
                    quotas.push((q.resource.as_str().to_string(), q.limit));
                }
            }
        }
        let started_on = started.to_string();
        // Billed up to today: the next invoice is at the client's next billing day.
        let today = chrono::DateTime::parse_from_rfc3339(&ctx.at)
            .map(|t| t.date_naive())
            .unwrap_or(started);
        let next_due = next_anchor_after(today, anchor_day).map(|d| d.to_string());
        let sub_id = subs::insert(
            tx,
            &NewSubscription {
                client_id,
                product_id,
                kit_id,
                tier_id,
                currency,
                period: "month",
                price_minor: price,
                state,
                anchor_day: i64::from(anchor_day),
                started_on: &started_on,
                next_due_on: next_due.as_deref(),
                expires_on: None,
                choices: &choices,
                quotas: &quotas,
            },
            &ctx.at,
        )?;
        let site_status = match state {
            "active" => "active",
            "suspended" => "disabled",
            _ => "queued",
        };
        if p.kind == "site" {
            let domain = format!("{site_name}.{DEMO_DOMAIN}");
            let site = subs::insert_site(
                tx,
                sub_id,
                &domain,
                &p.platform,
                &p.profile,
                site_status,
                &ctx.at,
            )?;
            hostdesk_store::servers::set_site_server(tx, site, server_id, &ctx.at)?;
            let ssl = picks
                .iter()
                .find(|(o, _)| o == "ssl")
                .map(|(_, c)| c.as_str());
            record_domain(tx, &ctx.at, (client_id, sub_id, site), &domain, ssl)?;
            // The simulated server holds the sites that exist (queued ones are not created yet).
            if site_status != "queued" {
                tx.execute(
                    "INSERT INTO sandbox_sites (name, profile, status, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    (
                        &domain,
                        &p.profile,
                        if site_status == "active" {
                            "enabled"
                        } else {
                            "disabled"
                        },
                        &ctx.at,
                    ),
                )?;
            }
        }
        let created = subs::get(tx, sub_id)?;
        ctx.audit(
            tx,
            "subscription",
            Some(sub_id),
            "create",
            None::<&()>,
            Some(&created),
        )?;
        Ok(())
    })
}

/// A demo site's domain as an order records it (a subdomain of the demo's master domain) and
/// the certificate its `ssl` option names: an automatic one as the simulated server issued it
/// (90 days), a bundled one waiting for its bundle.
fn record_domain(
    tx: &hostdesk_store::Connection,
    at: &str,
    (client_id, subscription_id, site_id): (i64, i64, i64),
    domain: &str,
    ssl: Option<&str>,
) -> Result<()> {
    use hostdesk_store::domains as d;
    d::insert(
        tx,
        &d::NewDomain {
            name: domain,
            mode: "subdomain",
            client_id: Some(client_id),
            subscription_id: Some(subscription_id),
            site_id: Some(site_id),
            order_id: None,
            state: "active",
            registrar: None,
            years: 1,
            invoice_id: None,
            refund_minor: 0,
            target_ip: None,
        },
        at,
    )?;
    match ssl {
        Some("auto") => {
            let id = d::upsert_certificate(tx, site_id, domain, "automatic", None, at)?;
            let not_after = (chrono::DateTime::parse_from_rfc3339(at)
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?
                + Duration::days(90))
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            d::set_certificate_seen(
                tx,
                id,
                &d::Seen {
                    issuer: Some("Sandbox CA (simulated)"),
                    serial: "simulated",
                    not_before: at,
                    not_after: &not_after,
                },
                at,
            )?;
            d::set_certificate_state(tx, id, "active", None, at)?;
        }
        Some("bundled") => {
            let id = d::upsert_certificate(tx, site_id, domain, "bundled", None, at)?;
            d::set_certificate_state(
                tx,
                id,
                "failed",
                Some("no bundle uploaded yet: upload the certificate chain and its key"),
                at,
            )?;
        }
        _ => {}
    }
    Ok(())
}
