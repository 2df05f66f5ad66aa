//! Tax: a rate in basis points stored on each line (2000 = 20.00 %, 550 = 5.50 %), the tax of a
//! line rounded once, half away from zero; and which VAT rate applies to a buyer.
//!
//! The EU rule implemented by [`decide_tax`] (seller established in an EU member state):
//! - buyer in the seller's country: that country's standard rate;
//! - business buyer in another member state with a VAT id: 0 %, reverse charge
//!   (Article 196 of Directive 2006/112/EC);
//! - consumer (or business without a VAT id) in another member state: the buyer country's rate
//!   (the One-Stop Shop; the EUR 10 000 threshold option for the seller's own rate is not used);
//! - buyer outside the EU: 0 %, outside the scope of EU VAT.
//!
//! The rates are the standard rates in force on 2026-01-01. A rate is copied onto each line when
//! the line is drafted, so a later change of the table never alters an issued invoice.

use serde::Serialize;

use super::invalid;
use crate::{validate, CoreError, Money};

/// 100 %: no tax rate is higher.
pub const MAX_TAX_RATE_BPS: u32 = 10_000;

/// The tax on `net` at `rate_bps` basis points: `net x rate / 10000`, rounded half away from zero
/// (so a credit's tax is exactly the negation of the matching charge's tax).
pub fn tax_on(net: Money, rate_bps: u32) -> Result<Money, CoreError> {
    if rate_bps > MAX_TAX_RATE_BPS {
        return Err(invalid(
            "taxRateBps",
            format!("{rate_bps} basis points is more than 100 %"),
        ));
    }
    net.mul_ratio(i64::from(rate_bps), i64::from(MAX_TAX_RATE_BPS))
}

/// Standard VAT rates of the 27 EU member states in basis points (ISO 3166 codes; Greece is GR,
/// written EL in VAT ids). In force on 2026-01-01.
pub const EU_STANDARD_RATES: &[(&str, u32)] = &[
    ("AT", 2000),
    ("BE", 2100),
    ("BG", 2000),
    ("CY", 1900),
    ("CZ", 2100),
    ("DE", 1900),
    ("DK", 2500),
    ("EE", 2400),
    ("ES", 2100),
    ("FI", 2550),
    ("FR", 2000),
    ("GR", 2400),
    ("HR", 2500),
    ("HU", 2700),
    ("IE", 2300),
    ("IT", 2200),
    ("LT", 2100),
    ("LU", 1700),
    ("LV", 2100),
    ("MT", 1800),
    ("NL", 2100),
    ("PL", 2300),
    ("PT", 2300),
    ("RO", 2100),
    ("SE", 2500),
    ("SI", 2200),
    ("SK", 2300),
];

/// The standard VAT rate of an EU member state (`fr`, `FR`, `EL` for Greece), if it is one.
pub fn eu_standard_rate(country: &str) -> Option<u32> {
    let c = normalise(country);
    EU_STANDARD_RATES
        .iter()
        .find(|(code, _)| *code == c)
        .map(|(_, rate)| *rate)
}

pub fn is_eu_country(country: &str) -> bool {
    eu_standard_rate(country).is_some()
}

fn normalise(country: &str) -> String {
    let c = country.trim().to_ascii_uppercase();
    if c == "EL" {
        "GR".to_string()
    } else {
        c
    }
}

/// Who is buying: their country (ISO 3166 alpha-2), whether they buy as a business, and their
/// VAT id if they gave one (its validity, e.g. through VIES, is checked elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buyer<'a> {
    pub country: &'a str,
    pub is_business: bool,
    pub tax_id: Option<&'a str>,
}

/// Why a rate applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxTreatment {
    /// Buyer in the seller's country: its rate.
    Domestic,
    /// Business buyer with a VAT id in another member state: 0 %, the buyer accounts for VAT.
    ReverseCharge,
    /// Consumer in another member state: the buyer country's rate, declared through the OSS.
    Oss,
    /// Buyer outside the EU: 0 %, outside the scope of EU VAT.
    OutsideScope,
}

/// The rate for a buyer and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxDecision {
    pub rate_bps: u32,
    pub treatment: TaxTreatment,
    /// The country whose VAT is charged (None when no VAT is charged).
    pub vat_country: Option<String>,
}

pub const REVERSE_CHARGE_NOTE: &str = "Reverse charge: VAT to be accounted for by the recipient \
     (Article 196 of Council Directive 2006/112/EC)";
pub const OUTSIDE_SCOPE_NOTE: &str = "VAT: outside the scope of EU VAT";

impl TaxDecision {
    /// The mention the invoice must carry, if any.
    pub fn note(&self) -> Option<&'static str> {
        match self.treatment {
            TaxTreatment::ReverseCharge => Some(REVERSE_CHARGE_NOTE),
            TaxTreatment::OutsideScope => Some(OUTSIDE_SCOPE_NOTE),
            TaxTreatment::Domestic | TaxTreatment::Oss => None,
        }
    }

    pub fn is_reverse_charge(&self) -> bool {
        self.treatment == TaxTreatment::ReverseCharge
    }
}

/// The VAT rate a seller established in `seller_country` (an EU member state) charges `buyer`.
pub fn decide_tax(seller_country: &str, buyer: &Buyer<'_>) -> Result<TaxDecision, CoreError> {
    let seller = normalise(seller_country);
    let Some(seller_rate) = eu_standard_rate(&seller) else {
        return Err(invalid(
            "sellerCountry",
            format!(
                "'{}' is not an EU member state; only EU sellers are supported",
                seller_country.trim()
            ),
        ));
    };
    let buyer_country =
        validate::country(&normalise(buyer.country)).map_err(|m| invalid("buyerCountry", m))?;
    if buyer_country == seller {
        return Ok(TaxDecision {
            rate_bps: seller_rate,
            treatment: TaxTreatment::Domestic,
            vat_country: Some(seller),
        });
    }
    let Some(buyer_rate) = eu_standard_rate(&buyer_country) else {
        return Ok(TaxDecision {
            rate_bps: 0,
            treatment: TaxTreatment::OutsideScope,
            vat_country: None,
        });
    };
    let has_tax_id = buyer.tax_id.is_some_and(|id| !id.trim().is_empty());
    if buyer.is_business && has_tax_id {
        return Ok(TaxDecision {
            rate_bps: 0,
            treatment: TaxTreatment::ReverseCharge,
            vat_country: None,
        });
    }
    Ok(TaxDecision {
        rate_bps: buyer_rate,
        treatment: TaxTreatment::Oss,
        vat_country: Some(buyer_country),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    fn cur(c: &str) -> Currency {
        Currency::from_code(c).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, cur("EUR"))
    }

    #[test]
    fn tax_rounds_half_up_per_line() {
        // (net minor, rate bps, tax minor)
        let table = [
            (1000, 2000, 200),
            (995, 2000, 199),  // 1.99
            (963, 2000, 193),  // 1.926
            (4516, 2000, 903), // 9.032
            (1000, 550, 55),   // 0.55
            (10, 550, 1),      // 0.55 cent -> 1 cent
            (9, 550, 0),       // 0.495 cents -> 0
            (1000, 770, 77),   // 0.77
            (650, 770, 50),    // 50.05 cents -> 50
            (50, 2000, 10),
            (25, 2000, 5),
            (5, 1000, 1),  // exactly 0.5 cent -> 1 cent
            (15, 1000, 2), // 1.5 -> 2
            (1000, 2550, 255),
            (333, 2550, 85), // 84.915 -> 85
            (1000, 0, 0),
            // credits: negative nets round away from zero, mirroring the charge
            (-995, 2000, -199),
            (-963, 2000, -193),
            (-5, 1000, -1),
            (-15, 1000, -2),
            (-10, 550, -1),
            (-9, 550, 0),
        ];
        for (net, rate, want) in table {
            assert_eq!(
                tax_on(eur(net), rate).unwrap(),
                eur(want),
                "{net} at {rate}"
            );
        }
    }

    #[test]
    fn tax_in_zero_and_three_decimal_currencies() {
        // 1 250 JPY at 10 % = 125; 995 JPY at 10 % = 99.5 -> 100
        assert_eq!(
            tax_on(Money::new(1250, cur("JPY")), 1000).unwrap().minor,
            125
        );
        assert_eq!(
            tax_on(Money::new(995, cur("JPY")), 1000).unwrap().minor,
            100
        );
        assert_eq!(
            tax_on(Money::new(-995, cur("JPY")), 1000).unwrap().minor,
            -100
        );
        // 12.345 KWD at 5 % = 0.61725 -> 0.617
        assert_eq!(
            tax_on(Money::new(12345, cur("KWD")), 500).unwrap().minor,
            617
        );
        // 0.010 KWD at 5 % = 0.0005 -> 0.001 (half up)
        assert_eq!(tax_on(Money::new(10, cur("KWD")), 500).unwrap().minor, 1);
    }

    #[test]
    fn rates_above_100_percent_and_overflow_are_errors() {
        assert!(tax_on(eur(100), 10_001).is_err());
        assert!(tax_on(eur(i64::MAX), 10_000).is_ok());
        assert!(tax_on(eur(i64::MAX), 9_999).is_ok());
    }

    #[test]
    fn eu_rates_table() {
        let want = [
            ("FR", 2000),
            ("DE", 1900),
            ("NL", 2100),
            ("IT", 2200),
            ("ES", 2100),
            ("BE", 2100),
            ("AT", 2000),
            ("IE", 2300),
            ("PT", 2300),
            ("SE", 2500),
            ("DK", 2500),
            ("FI", 2550),
            ("PL", 2300),
            ("LU", 1700),
            ("el", 2400),
            ("gr", 2400),
        ];
        for (c, rate) in want {
            assert_eq!(eu_standard_rate(c), Some(rate), "{c}");
        }
        assert_eq!(EU_STANDARD_RATES.len(), 27);
        for c in ["GB", "CH", "NO", "US", "XX", ""] {
            assert_eq!(eu_standard_rate(c), None, "{c}");
        }
        for (code, _) in EU_STANDARD_RATES {
            assert!(validate::country(code).is_ok(), "{code}");
        }
    }

    fn buyer<'a>(country: &'a str, business: bool, tax_id: Option<&'a str>) -> Buyer<'a> {
        Buyer {
            country,
            is_business: business,
            tax_id,
        }
    }

    #[test]
    fn who_pays_what() {
        use TaxTreatment::*;
        let table = [
            // (seller, buyer, business, tax id, rate, treatment, vat country)
            ("FR", "FR", false, None, 2000, Domestic, Some("FR")),
            (
                "FR",
                "fr",
                true,
                Some("FR40303265045"),
                2000,
                Domestic,
                Some("FR"),
            ),
            (
                "FR",
                "DE",
                true,
                Some("DE136695976"),
                0,
                ReverseCharge,
                None,
            ),
            ("FR", "DE", true, Some("  "), 1900, Oss, Some("DE")),
            ("FR", "DE", true, None, 1900, Oss, Some("DE")),
            ("FR", "DE", false, None, 1900, Oss, Some("DE")),
            (
                "FR",
                "DE",
                false,
                Some("DE136695976"),
                1900,
                Oss,
                Some("DE"),
            ),
            ("FR", "FI", false, None, 2550, Oss, Some("FI")),
            ("FR", "EL", false, None, 2400, Oss, Some("GR")),
            (
                "DE",
                "AT",
                true,
                Some("ATU12345678"),
                0,
                ReverseCharge,
                None,
            ),
            ("LU", "LU", false, None, 1700, Domestic, Some("LU")),
            ("LU", "BE", false, None, 2100, Oss, Some("BE")),
            ("FR", "US", false, None, 0, OutsideScope, None),
            (
                "FR",
                "CH",
                true,
                Some("CHE-123.456.789"),
                0,
                OutsideScope,
                None,
            ),
            ("FR", "GB", false, None, 0, OutsideScope, None),
            ("FR", "NO", true, None, 0, OutsideScope, None),
        ];
        for (seller, country, business, id, rate, treatment, vat) in table {
            let got = decide_tax(seller, &buyer(country, business, id)).unwrap();
            assert_eq!(
                (got.rate_bps, got.treatment, got.vat_country.as_deref()),
                (rate, treatment, vat),
                "{seller} -> {country} business={business} id={id:?}"
            );
        }
    }

    #[test]
    fn notes_for_zero_rated_supplies() {
        let rc = decide_tax("FR", &buyer("DE", true, Some("DE136695976"))).unwrap();
        assert!(rc.is_reverse_charge());
        assert!(rc.note().unwrap().contains("Article 196"));
        assert!(rc.note().unwrap().contains("2006/112/EC"));
        let out = decide_tax("FR", &buyer("US", false, None)).unwrap();
        assert!(out.note().unwrap().contains("outside the scope"));
        assert_eq!(
            decide_tax("FR", &buyer("FR", false, None)).unwrap().note(),
            None
        );
        assert_eq!(
            decide_tax("FR", &buyer("IT", false, None)).unwrap().note(),
            None
        );
    }

    #[test]
    fn bad_countries_are_errors() {
        assert!(decide_tax("US", &buyer("FR", false, None)).is_err());
        assert!(decide_tax("GB", &buyer("GB", false, None)).is_err());
        let e = decide_tax("FR", &buyer("ZZ", false, None)).unwrap_err();
        assert_eq!(e.fields()[0].field, "buyerCountry");
    }

    proptest! {
        #[test]
        fn credit_tax_mirrors_charge_tax(net in -1_000_000_000_000i64..1_000_000_000_000, rate in 0u32..=10_000) {
            let charge = tax_on(eur(net), rate).unwrap();
            let credit = tax_on(eur(-net), rate).unwrap();
            prop_assert_eq!(charge.minor, -credit.minor);
            // within half a minor unit of the exact tax
            let err = (i128::from(charge.minor) * 10_000 - i128::from(net) * i128::from(rate)).abs();
            prop_assert!(2 * err <= 10_000);
        }
    }
}
