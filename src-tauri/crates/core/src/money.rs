//! Money is an `i64` count of minor units in one ISO 4217 currency. No floats anywhere:
//! parsing, formatting and every operation are exact; ratios round once, half away from zero.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// An ISO 4217 currency with a defined number of minor-unit digits (EUR 2, JPY 0, KWD 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Looks up an ISO 4217 code such as `EUR` (upper case, as the standard writes it).
    pub fn from_code(code: &str) -> Result<Self, String> {
        let c = iso_currency::Currency::from_code(code).ok_or_else(|| {
            format!("'{code}' is not an ISO 4217 currency code (e.g. EUR, USD, JPY)")
        })?;
        if c.exponent().is_none() {
            return Err(format!(
                "'{code}' is not a currency with minor units (funds and metals are not)"
            ));
        }
        Ok(Currency(c))
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point: EUR 2, JPY 0, KWD 3.
    pub fn exponent(&self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }

    fn scale(&self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Currency::from_code(s.trim())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::from_code(&s).map_err(serde::de::Error::custom)
    }
}

/// An exact amount: `minor` units of `currency` (995 EUR = 9.95 EUR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a decimal amount written with a point: `9.95`, `-3`, `1000` (JPY), `1.250` (KWD).
    /// More decimals than the currency has, separators, exponents or overflow are errors.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, String> {
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        let well_formed = !int_part.is_empty()
            && int_part.bytes().all(|b| b.is_ascii_digit())
            && frac_part.bytes().all(|b| b.is_ascii_digit())
            && !(digits.contains('.') && frac_part.is_empty());
        if !well_formed {
            return Err(format!("'{t}' is not an amount; write it like 9.95"));
        }
        let exp = currency.exponent() as usize;
        if frac_part.len() > exp {
            return Err(match exp {
                0 => format!("{currency} has no minor units; write a whole number"),
                n => format!("{currency} has {n} decimal places at most"),
            });
        }
        let too_large = || format!("'{t}' is too large an amount");
        let int: i64 = int_part.parse().map_err(|_| too_large())?;
        let frac: i64 = if frac_part.is_empty() {
            0
        } else {
            let padded = format!("{frac_part:0<exp$}");
            padded.parse().map_err(|_| too_large())?
        };
        let minor = int
            .checked_mul(currency.scale())
            .and_then(|v| v.checked_add(frac))
            .ok_or_else(too_large)?;
        Ok(Money::new(if negative { -minor } else { minor }, currency))
    }

    /// The amount without the currency code, with exactly the currency's decimals: `9.95`.
    pub fn amount_string(&self) -> String {
        let exp = self.currency.exponent() as usize;
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10_u64.pow(exp as u32);
        format!("{sign}{}.{:0exp$}", abs / scale, abs % scale)
    }

    fn same_currency(&self, other: &Money) -> Result<(), CoreError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(CoreError::CurrencyMismatch(
                self.currency.code().into(),
                other.currency.code().into(),
            ))
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, CoreError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(CoreError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, CoreError> {
        self.same_currency(&other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(CoreError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, CoreError> {
        let minor = self.minor.checked_mul(factor).ok_or(CoreError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// `self x numerator / denominator`, computed exactly and rounded once, half away from zero
    /// (9.95 x 30/31 = 9.63; 100.00 x 14/31 = 45.16).
    pub fn mul_ratio(self, numerator: i64, denominator: i64) -> Result<Money, CoreError> {
        if denominator == 0 {
            return Err(CoreError::field("ratio", "the denominator is zero"));
        }
        let minor = round_div(
            i128::from(self.minor) * i128::from(numerator),
            i128::from(denominator),
        );
        let minor = i64::try_from(minor).map_err(|_| CoreError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }
}

/// `n / d` rounded half away from zero.
pub fn round_div(n: i128, d: i128) -> i128 {
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d {
        q + n.signum()
    } else {
        q
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(c: &str) -> Currency {
        Currency::from_code(c).unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        for (code, exp) in [
            ("EUR", 2),
            ("USD", 2),
            ("JPY", 0),
            ("KWD", 3),
            ("BHD", 3),
            ("CHF", 2),
        ] {
            assert_eq!(cur(code).exponent(), exp, "{code}");
        }
    }

    #[test]
    fn unknown_and_unitless_codes_are_refused() {
        assert!(Currency::from_code("EURO").is_err());
        assert!(Currency::from_code("eur").is_err());
        assert!(
            Currency::from_code("XAU").is_err(),
            "gold has no minor units"
        );
    }

    #[test]
    fn parse_examples() {
        let table: &[(&str, &str, Result<i64, &str>)] = &[
            ("9.95", "EUR", Ok(995)),
            ("9.9", "EUR", Ok(990)),
            ("9", "EUR", Ok(900)),
            ("-0.05", "EUR", Ok(-5)),
            ("+12.00", "EUR", Ok(1200)),
            ("1000", "JPY", Ok(1000)),
            ("1000.5", "JPY", Err("JPY has no minor units")),
            ("1.250", "KWD", Ok(1250)),
            ("1.2501", "KWD", Err("KWD has 3 decimal places")),
            ("9.999", "EUR", Err("EUR has 2 decimal places")),
            ("1,000.00", "EUR", Err("not an amount")),
            ("9.", "EUR", Err("not an amount")),
            (".5", "EUR", Err("not an amount")),
            ("1e3", "EUR", Err("not an amount")),
            ("", "EUR", Err("not an amount")),
            ("92233720368547758.08", "EUR", Err("too large")),
        ];
        for (text, code, want) in table {
            let got = Money::parse(text, cur(code));
            match (want, got) {
                (Ok(m), Ok(g)) => assert_eq!(g.minor, *m, "{text} {code}"),
                (Err(fragment), Err(e)) => assert!(e.contains(fragment), "{text}: {e}"),
                (w, g) => panic!("{text} {code}: wanted {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn format_examples() {
        assert_eq!(Money::new(995, cur("EUR")).to_string(), "9.95 EUR");
        assert_eq!(Money::new(-5, cur("EUR")).to_string(), "-0.05 EUR");
        assert_eq!(Money::new(1000, cur("JPY")).to_string(), "1000 JPY");
        assert_eq!(Money::new(1250, cur("KWD")).to_string(), "1.250 KWD");
        assert_eq!(
            Money::new(i64::MIN, cur("EUR")).amount_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn proration_examples_from_the_billing_rules() {
        let eur = cur("EUR");
        assert_eq!(Money::new(995, eur).mul_ratio(30, 31).unwrap().minor, 963);
        assert_eq!(
            Money::new(10000, eur).mul_ratio(14, 31).unwrap().minor,
            4516
        );
        assert_eq!(
            Money::new(-10000, eur).mul_ratio(14, 31).unwrap().minor,
            -4516
        );
        // exactly half rounds away from zero
        assert_eq!(Money::new(5, eur).mul_ratio(1, 2).unwrap().minor, 3);
        assert_eq!(Money::new(-5, eur).mul_ratio(1, 2).unwrap().minor, -3);
    }

    #[test]
    fn overflow_and_mismatch_are_errors() {
        let eur = cur("EUR");
        assert_eq!(
            Money::new(i64::MAX, eur).checked_add(Money::new(1, eur)),
            Err(CoreError::Overflow)
        );
        assert_eq!(
            Money::new(i64::MAX, eur).checked_mul(2),
            Err(CoreError::Overflow)
        );
        assert_eq!(
            Money::new(i64::MAX, eur).mul_ratio(3, 2),
            Err(CoreError::Overflow)
        );
        assert!(matches!(
            Money::new(1, eur).checked_add(Money::new(1, cur("USD"))),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(vec!["EUR", "JPY", "KWD", "USD", "GBP"]).prop_map(cur)
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(minor in (i64::MIN + 1)..i64::MAX, c in any_currency()) {
            let m = Money::new(minor, c);
            prop_assert_eq!(Money::parse(&m.amount_string(), c).unwrap(), m);
        }

        #[test]
        fn add_then_sub_is_identity(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let eur = cur("EUR");
            let sum = Money::new(a, eur).checked_add(Money::new(b, eur)).unwrap();
            prop_assert_eq!(sum.checked_sub(Money::new(b, eur)).unwrap().minor, a);
        }

        #[test]
        fn ratio_is_within_half_a_unit(a in -1_000_000_000i64..1_000_000_000, n in 0i64..366, d in 1i64..366) {
            let got = Money::new(a, cur("EUR")).mul_ratio(n, d).unwrap().minor;
            // |got*d - a*n| <= d/2 : the rounding error is at most half a minor unit
            let err = (i128::from(got) * i128::from(d) - i128::from(a) * i128::from(n)).abs();
            prop_assert!(2 * err <= i128::from(d));
        }

        #[test]
        fn whole_ratio_is_exact(a in -1_000_000_000i64..1_000_000_000, d in 1i64..366) {
            prop_assert_eq!(Money::new(a, cur("EUR")).mul_ratio(d, d).unwrap().minor, a);
        }
    }
}
