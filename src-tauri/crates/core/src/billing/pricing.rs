//! The recurring price of an order: the product's base price (or a kit's price, which covers the
//! kit's preselected options and tier) plus the modifiers of the options chosen beyond it plus the
//! support tier's price. Every part is in the client's currency for the same billing period.

use serde::Serialize;

use super::invalid;
use crate::{CoreError, Money};

/// One priced part of an order, as shown in the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PricePart {
    /// `product`, `kit`, `option` or `tier`.
    pub kind: &'static str,
    pub label: String,
    /// May be negative for an option that lowers the price.
    pub amount: Money,
}

/// The parts and their sum. The sum may not be negative.
pub fn recurring_price(parts: &[PricePart]) -> Result<Money, CoreError> {
    let Some(first) = parts.first() else {
        return Err(invalid("product", "an order needs a product or a kit"));
    };
    let mut total = Money::zero(first.amount.currency);
    for p in parts {
        total = total.checked_add(p.amount)?;
    }
    if total.minor < 0 {
        return Err(invalid(
            "options",
            format!(
                "the options bring the price below zero ({})",
                total.amount_string()
            ),
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    fn part(kind: &'static str, minor: i64) -> PricePart {
        PricePart {
            kind,
            label: kind.into(),
            amount: eur(minor),
        }
    }

    #[test]
    fn base_plus_modifiers_plus_tier() {
        let parts = [
            part("product", 995),
            part("option", 500),
            part("option", -100),
            part("tier", 2000),
        ];
        assert_eq!(recurring_price(&parts).unwrap(), eur(3395));
    }

    #[test]
    fn mixed_currencies_and_negative_totals_are_refused() {
        let jpy = Money::new(100, Currency::from_code("JPY").unwrap());
        let mixed = [
            part("product", 995),
            PricePart {
                kind: "tier",
                label: "t".into(),
                amount: jpy,
            },
        ];
        assert!(recurring_price(&mixed).is_err());
        let negative = [part("product", 100), part("option", -200)];
        let e = recurring_price(&negative).unwrap_err().to_string();
        assert!(e.contains("below zero"), "{e}");
        assert!(recurring_price(&[]).is_err());
    }
}
