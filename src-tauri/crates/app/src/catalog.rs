//! Catalog use cases: products (with versioned prices), options, support tiers and kits.

use hostdesk_core::catalog::{KitDraft, OptionDraft, PriceDraft, ProductDraft, TierDraft};
use hostdesk_core::Errors;
use hostdesk_store::catalog::{self, Kit, PriceRow, Product, ProductOption, Tier};
use serde::Serialize;

use crate::{AppError, ErrorCode, Result, Workspace};

/// The whole catalog as the Catalog screen shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct CatalogOverview {
    pub products: Vec<Product>,
    pub options: Vec<ProductOption>,
    pub tiers: Vec<Tier>,
    pub kits: Vec<Kit>,
}

pub fn overview(ws: &Workspace) -> Result<CatalogOverview> {
    let (conn, at) = (ws.conn(), ws.clock().stamp());
    Ok(CatalogOverview {
        products: catalog::list_products(conn, true, &at)?,
        options: catalog::options_for(conn, None, &at)?,
        tiers: catalog::list_tiers(conn, &at)?,
        kits: catalog::list_kits(conn, &at)?,
    })
}

/// Checks a product draft without writing (the form's as-you-type messages).
pub fn check_product(draft: &ProductDraft) -> Vec<crate::FieldErrorDto> {
    match draft.validate() {
        Ok(_) => Vec::new(),
        Err(e) => e.fields().iter().map(Into::into).collect(),
    }
}

pub fn add_product(ws: &mut Workspace, draft: &ProductDraft) -> Result<i64> {
    let p = draft.validate()?;
    ws.write(|tx, ctx| {
        let id = catalog::insert_product(tx, &p, &ctx.at)?;
        ctx.audit(tx, "product", Some(id), "create", None::<&()>, Some(&p))?;
        Ok(id)
    })
}

pub fn list_products(ws: &Workspace, include_retired: bool) -> Result<Vec<Product>> {
    Ok(catalog::list_products(
        ws.conn(),
        include_retired,
        &ws.clock().stamp(),
    )?)
}

/// A product with its options and its whole price history.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ProductDetail {
    pub product: Product,
    pub options: Vec<ProductOption>,
    pub price_history: Vec<PriceRow>,
}

pub fn show_product(ws: &Workspace, code: &str) -> Result<ProductDetail> {
    let (conn, at) = (ws.conn(), ws.clock().stamp());
    let product = catalog::product(conn, code, &at)?;
    Ok(ProductDetail {
        options: catalog::options_for(conn, Some(product.id), &at)?,
        price_history: catalog::price_history(conn, "product", product.id)?,
        product,
    })
}

/// Retires a product: no new orders; existing subscriptions are untouched.
pub fn retire_product(ws: &mut Workspace, code: &str) -> Result<()> {
    ws.write(|tx, ctx| {
        catalog::retire_product(tx, code, &ctx.at)?;
        let id = catalog::product_id(tx, code)?;
        ctx.audit(
            tx,
            "product",
            Some(id),
            "retire",
            None::<&()>,
            Some(&ctx.at),
        )
    })
}

/// Gives a product a new price from now on: new orders pay it. Existing subscriptions keep the
/// price they were sold at unless `apply_at_renewal`, in which case each changes by the same
/// amount from its next billed period. History is never rewritten: a price row is added, none is
/// changed. Returns the subscriptions that will change at renewal.
pub fn reprice_product(
    ws: &mut Workspace,
    code: &str,
    price: &PriceDraft,
    apply_at_renewal: bool,
) -> Result<Vec<i64>> {
    let mut e = Errors::default();
    let prices =
        hostdesk_core::catalog::check_prices(&mut e, "price", std::slice::from_ref(price), false);
    e.finish()?;
    ws.write(|tx, ctx| {
        let id = catalog::product_id(tx, code)?;
        let before = catalog::prices_at(tx, "product", id, &ctx.at)?;
        for p in &prices {
            catalog::add_price(tx, "product", id, p, &ctx.at)?;
        }
        let after = catalog::prices_at(tx, "product", id, &ctx.at)?;
        ctx.audit(
            tx,
            "product",
            Some(id),
            "reprice",
            Some(&before),
            Some(&after),
        )?;
        let mut changed = Vec::new();
        if apply_at_renewal {
            for p in &prices {
                let (cur, per) = (p.amount.currency.code(), p.period.as_str());
                let old = before
                    .iter()
                    .find(|b| b.currency == cur && b.period == per)
                    .map(|b| b.amount_minor)
                    .unwrap_or(p.amount.minor);
                let ids = hostdesk_store::subscriptions::schedule_renewal_price(
                    tx,
                    id,
                    cur,
                    per,
                    p.amount.minor - old,
                )?;
                for s in &ids {
                    ctx.audit(
                        tx,
                        "subscription",
                        Some(*s),
                        "reprice_at_renewal",
                        Some(&old),
                        Some(&p.amount.minor),
                    )?;
                }
                changed.extend(ids);
            }
        }
        Ok(changed)
    })
}

pub fn add_option(ws: &mut Workspace, draft: &OptionDraft) -> Result<i64> {
    let o = draft.validate()?;
    ws.write(|tx, ctx| {
        let product_id = match &o.product_code {
            Some(code) => Some(catalog::product_id(tx, code)?),
            None => None,
        };
        let id = catalog::insert_option(tx, product_id, &o, &ctx.at)?;
        ctx.audit(tx, "option", Some(id), "create", None::<&()>, Some(&o))?;
        Ok(id)
    })
}

pub fn add_tier(ws: &mut Workspace, draft: &TierDraft) -> Result<i64> {
    let t = draft.validate()?;
    ws.write(|tx, ctx| {
        let id = catalog::insert_tier(tx, &t, &ctx.at)?;
        ctx.audit(tx, "tier", Some(id), "create", None::<&()>, Some(&t))?;
        Ok(id)
    })
}

pub fn add_kit(ws: &mut Workspace, draft: &KitDraft) -> Result<i64> {
    let k = draft.validate()?;
    ws.write(|tx, ctx| {
        let product_id = catalog::product_id(tx, &k.product_code)?;
        let tier_id = match &k.tier_code {
            Some(t) => Some(catalog::tier_id(tx, t)?),
            None => None,
        };
        let mut choice_ids = Vec::new();
        let mut seen_options = Vec::new();
        for (o, c) in &k.choices {
            let (option_id, choice_id) = catalog::resolve_choice(tx, product_id, o, c)?;
            if seen_options.contains(&option_id) {
                return Err(AppError::new(
                    ErrorCode::Invalid,
                    format!("the option '{o}' is chosen twice"),
                ));
            }
            seen_options.push(option_id);
            choice_ids.push(choice_id);
        }
        let id = catalog::insert_kit(tx, &k, product_id, tier_id, &choice_ids, &ctx.at)?;
        ctx.audit(tx, "kit", Some(id), "create", None::<&()>, Some(&k))?;
        Ok(id)
    })
}
