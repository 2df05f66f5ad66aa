//! The catalog: products, options and choices, tiers and kits, each with versioned prices.

use hostdesk_core::catalog::{
    AccessGrant, ChoiceFields, KitFields, OptionFields, Price, ProductFields, QuotaValue,
    TierFields,
};
use hostdesk_core::Money;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::{Result, StoreError};

/// A price in force: the newest row for its (currency, period) with `valid_from <= at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PriceRow {
    pub currency: String,
    pub period: String,
    pub amount_minor: i64,
    /// The amount written with the currency's decimals: `9.95`.
    pub amount: String,
    pub valid_from: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub description: String,
    pub profile: String,
    pub platform: String,
    pub server_group: String,
    pub retired_at: Option<String>,
    pub prices: Vec<PriceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub quota: Option<QuotaValue>,
    pub feature: String,
    pub ssl: Option<String>,
    pub domain_mode: Option<String>,
    pub prices: Vec<PriceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProductOption {
    pub id: i64,
    /// None: offered with every product.
    pub product_code: Option<String>,
    pub code: String,
    pub name: String,
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub hours: String,
    pub channels: Vec<String>,
    pub response_hours: i64,
    pub grants: Vec<AccessGrant>,
    pub retired_at: Option<String>,
    pub prices: Vec<PriceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Kit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub product_code: String,
    pub tier_code: Option<String>,
    /// `option=choice` codes.
    pub choices: Vec<String>,
    pub retired_at: Option<String>,
    pub prices: Vec<PriceRow>,
}

fn price_row(currency: String, period: String, minor: i64, valid_from: String) -> PriceRow {
    let amount = hostdesk_core::Currency::from_code(&currency)
        .map(|c| Money::new(minor, c).amount_string())
        .unwrap_or_else(|_| minor.to_string());
    PriceRow {
        currency,
        period,
        amount_minor: minor,
        amount,
        valid_from,
    }
}

pub fn add_price(
    conn: &Connection,
    owner: &str,
    owner_id: i64,
    p: &Price,
    from: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO prices (owner_kind, owner_id, currency, period, amount_minor, valid_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        owner,
        owner_id,
        p.amount.currency.code(),
        p.period.as_str(),
        p.amount.minor,
        from
    ])
    .map_err(|e| StoreError::unique_or(e, || "a price for that moment already exists".into()))?;
    Ok(())
}

/// The prices in force at `at`, one per (currency, period).
pub fn prices_at(conn: &Connection, owner: &str, owner_id: i64, at: &str) -> Result<Vec<PriceRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.currency, p.period, p.amount_minor, max(p.valid_from) FROM prices p
          WHERE p.owner_kind = ?1 AND p.owner_id = ?2 AND p.valid_from <= ?3
          GROUP BY p.currency, p.period ORDER BY p.currency, p.period",
    )?;
    let rows = stmt.query_map(params![owner, owner_id, at], |r| {
        Ok(price_row(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every price an owner ever had, oldest first.
pub fn price_history(conn: &Connection, owner: &str, owner_id: i64) -> Result<Vec<PriceRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT currency, period, amount_minor, valid_from FROM prices
          WHERE owner_kind = ?1 AND owner_id = ?2 ORDER BY valid_from, currency, period",
    )?;
    let rows = stmt.query_map(params![owner, owner_id], |r| {
        Ok(price_row(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_product(conn: &Connection, p: &ProductFields, at: &str) -> Result<i64> {
    conn.execute(
        "INSERT INTO products (code, name, kind, description, profile, platform, server_group, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![p.code, p.name, p.kind.as_str(), p.description, p.profile, p.platform, p.server_group, at],
    )
    .map_err(|e| StoreError::unique_or(e, || format!("a product with code '{}' already exists", p.code)))?;
    let id = conn.last_insert_rowid();
    for price in &p.prices {
        add_price(conn, "product", id, price, at)?;
    }
    Ok(id)
}

pub fn product_id(conn: &Connection, code: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM products WHERE code = ?1", [code], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::not_found("product", code))
}

pub fn product(conn: &Connection, code: &str, at: &str) -> Result<Product> {
    let id = product_id(conn, code)?;
    product_by_id(conn, id, at)
}

pub fn product_by_id(conn: &Connection, id: i64, at: &str) -> Result<Product> {
    let mut p = conn
        .query_row(
            "SELECT id, code, name, kind, description, profile, platform, server_group, retired_at
               FROM products WHERE id = ?1",
            [id],
            |r| {
                Ok(Product {
                    id: r.get(0)?,
                    code: r.get(1)?,
                    name: r.get(2)?,
                    kind: r.get(3)?,
                    description: r.get(4)?,
                    profile: r.get(5)?,
                    platform: r.get(6)?,
                    server_group: r.get(7)?,
                    retired_at: r.get(8)?,
                    prices: Vec::new(),
                })
            },
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found("product", id))?;
    p.prices = prices_at(conn, "product", id, at)?;
    Ok(p)
}

pub fn list_products(conn: &Connection, include_retired: bool, at: &str) -> Result<Vec<Product>> {
    let ids: Vec<i64> = conn
        .prepare(
            "SELECT id FROM products WHERE ?1 OR retired_at IS NULL ORDER BY name COLLATE NOCASE",
        )?
        .query_map([include_retired], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.into_iter()
        .map(|id| product_by_id(conn, id, at))
        .collect()
}

pub fn retire_product(conn: &Connection, code: &str, at: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE products SET retired_at = ?2 WHERE code = ?1 AND retired_at IS NULL",
        params![code, at],
    )?;
    if n == 0 {
        product_id(conn, code)?;
        return Err(StoreError::Conflict(format!(
            "product '{code}' is already retired"
        )));
    }
    Ok(())
}

pub fn insert_option(
    conn: &Connection,
    product_id: Option<i64>,
    o: &OptionFields,
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO options (product_id, code, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![product_id, o.code, o.name, at],
    )
    .map_err(|e| {
        StoreError::unique_or(e, || {
            format!("an option with code '{}' already exists there", o.code)
        })
    })?;
    let id = conn.last_insert_rowid();
    for (i, c) in o.choices.iter().enumerate() {
        insert_choice(conn, id, i as i64, c, at)?;
    }
    Ok(id)
}

fn insert_choice(
    conn: &Connection,
    option_id: i64,
    pos: i64,
    c: &ChoiceFields,
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO choices (option_id, code, name, quota_resource, quota_limit, feature, ssl, domain_mode, position)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            option_id,
            c.code,
            c.name,
            c.quota.as_ref().map(|q| q.resource.as_str()),
            c.quota.as_ref().and_then(|q| q.limit),
            c.feature,
            c.ssl.map(|s| s.as_str()),
            c.domain_mode.map(|d| d.as_str()),
            pos
        ],
    )?;
    let id = conn.last_insert_rowid();
    for p in &c.prices {
        add_price(conn, "choice", id, p, at)?;
    }
    Ok(id)
}

/// The options a product offers (its own and the global ones), with their choices.
pub fn options_for(
    conn: &Connection,
    product_id: Option<i64>,
    at: &str,
) -> Result<Vec<ProductOption>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, p.code, o.code, o.name FROM options o LEFT JOIN products p ON p.id = o.product_id
          WHERE (?1 IS NULL) OR o.product_id IS NULL OR o.product_id = ?1
          ORDER BY o.product_id IS NOT NULL, o.id",
    )?;
    let opts: Vec<(i64, Option<String>, String, String)> = stmt
        .query_map([product_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(opts.len());
    for (id, product_code, code, name) in opts {
        out.push(ProductOption {
            id,
            product_code,
            code,
            name,
            choices: choices(conn, id, at)?,
        });
    }
    Ok(out)
}

fn choices(conn: &Connection, option_id: i64, at: &str) -> Result<Vec<Choice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, code, name, quota_resource, quota_limit, feature, ssl, domain_mode
           FROM choices WHERE option_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([option_id], |r| {
        let resource: Option<String> = r.get(3)?;
        let quota = match resource {
            Some(res) => Some(QuotaValue {
                resource: res.parse().map_err(|m: String| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        m.into(),
                    )
                })?,
                limit: r.get(4)?,
            }),
            None => None,
        };
        Ok(Choice {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            quota,
            feature: r.get(5)?,
            ssl: r.get(6)?,
            domain_mode: r.get(7)?,
            prices: Vec::new(),
        })
    })?;
    let mut out: Vec<Choice> = rows.collect::<rusqlite::Result<_>>()?;
    for c in &mut out {
        c.prices = prices_at(conn, "choice", c.id, at)?;
    }
    Ok(out)
}

/// Resolves `option=choice` codes for a product into (option id, choice id).
pub fn resolve_choice(
    conn: &Connection,
    product_id: i64,
    option: &str,
    choice: &str,
) -> Result<(i64, i64)> {
    conn.query_row(
        "SELECT o.id, c.id FROM options o JOIN choices c ON c.option_id = o.id
          WHERE o.code = ?2 AND c.code = ?3 AND (o.product_id IS NULL OR o.product_id = ?1)
          ORDER BY o.product_id IS NULL LIMIT 1",
        params![product_id, option, choice],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::not_found("option choice", format!("{option}={choice}")))
}

pub fn insert_tier(conn: &Connection, t: &TierFields, at: &str) -> Result<i64> {
    let channels: Vec<&str> = t.channels.iter().map(|c| c.as_str()).collect();
    let grants = serde_json::to_string(&t.grants).unwrap_or_else(|_| "[]".into());
    conn.execute(
        "INSERT INTO tiers (code, name, hours, channels, response_hours, grants, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            t.code,
            t.name,
            t.hours.as_str(),
            serde_json::json!(channels).to_string(),
            t.response_hours,
            grants,
            at
        ],
    )
    .map_err(|e| {
        StoreError::unique_or(e, || {
            format!("a tier with code '{}' already exists", t.code)
        })
    })?;
    let id = conn.last_insert_rowid();
    for p in &t.prices {
        add_price(conn, "tier", id, p, at)?;
    }
    Ok(id)
}

pub fn tier_id(conn: &Connection, code: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM tiers WHERE code = ?1", [code], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::not_found("tier", code))
}

pub fn list_tiers(conn: &Connection, at: &str) -> Result<Vec<Tier>> {
    let mut stmt = conn.prepare(
        "SELECT id, code, name, hours, channels, response_hours, grants, retired_at FROM tiers ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Tier {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            hours: r.get(3)?,
            channels: json(4, r.get(4)?)?,
            response_hours: r.get(5)?,
            grants: json(6, r.get(6)?)?,
            retired_at: r.get(7)?,
            prices: Vec::new(),
        })
    })?;
    let mut out: Vec<Tier> = rows.collect::<rusqlite::Result<_>>()?;
    for t in &mut out {
        t.prices = prices_at(conn, "tier", t.id, at)?;
    }
    Ok(out)
}

/// Parses a JSON column, reporting a bad value as a conversion failure of that column.
fn json<T: serde::de::DeserializeOwned>(i: usize, text: String) -> rusqlite::Result<T> {
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

/// Inserts a kit whose product, tier and choices were resolved to ids by the caller.
pub fn insert_kit(
    conn: &Connection,
    k: &KitFields,
    product_id: i64,
    tier_id: Option<i64>,
    choice_ids: &[i64],
    at: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO kits (code, name, product_id, tier_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![k.code, k.name, product_id, tier_id, at],
    )
    .map_err(|e| StoreError::unique_or(e, || format!("a kit with code '{}' already exists", k.code)))?;
    let id = conn.last_insert_rowid();
    for c in choice_ids {
        conn.execute(
            "INSERT INTO kit_choices (kit_id, choice_id) VALUES (?1, ?2)",
            params![id, c],
        )?;
    }
    for p in &k.prices {
        add_price(conn, "kit", id, p, at)?;
    }
    Ok(id)
}

pub fn kit_id(conn: &Connection, code: &str) -> Result<i64> {
    conn.query_row("SELECT id FROM kits WHERE code = ?1", [code], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::not_found("kit", code))
}

pub fn list_kits(conn: &Connection, at: &str) -> Result<Vec<Kit>> {
    let mut stmt = conn.prepare(
        "SELECT k.id, k.code, k.name, p.code, t.code, k.retired_at,
                (SELECT group_concat(o.code || '=' || c.code, ',')
                   FROM kit_choices kc JOIN choices c ON c.id = kc.choice_id JOIN options o ON o.id = c.option_id
                  WHERE kc.kit_id = k.id)
           FROM kits k JOIN products p ON p.id = k.product_id LEFT JOIN tiers t ON t.id = k.tier_id
          ORDER BY k.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let choices: Option<String> = r.get(6)?;
        Ok(Kit {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            product_code: r.get(3)?,
            tier_code: r.get(4)?,
            choices: choices
                .map(|c| c.split(',').map(String::from).collect())
                .unwrap_or_default(),
            retired_at: r.get(5)?,
            prices: Vec::new(),
        })
    })?;
    let mut out: Vec<Kit> = rows.collect::<rusqlite::Result<_>>()?;
    for k in &mut out {
        k.prices = prices_at(conn, "kit", k.id, at)?;
    }
    Ok(out)
}
