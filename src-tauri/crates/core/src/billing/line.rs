//! The typed invoice line draft and its idempotency key.
//!
//! Every line is built through [`LineDraft::build`], which computes `net = unit_price x
//! quantity` (or takes an exact prorated net), `tax = net x rate / 10000` rounded half away from
//! zero, and `total = net + tax`. The `key` identifies the line across invoice runs: a re-run
//! produces the same key, so the store adds only what is missing.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::invalid;
use super::quota::UsageFacts;
use super::tax::tax_on;
use crate::{CoreError, Currency, Money};

/// What a line bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The price of a full period.
    Recurring,
    /// A prorated charge: a first partial period, or the new plan's part after an upgrade.
    Proration,
    /// A credit for the unused part of a period (upgrade, immediate cancellation).
    Credit,
    /// A usage or quota fee (`A`), or pure usage billing.
    Usage,
    /// Units over the quota (`max(0, U - Q) x O`).
    Overage,
    /// Usage that arrived after its period was invoiced, billed on a later invoice.
    LateUsage,
    /// A line typed by staff.
    Manual,
}

impl LineKind {
    pub const ALL: &'static [LineKind] = &[
        LineKind::Recurring,
        LineKind::Proration,
        LineKind::Credit,
        LineKind::Usage,
        LineKind::Overage,
        LineKind::LateUsage,
        LineKind::Manual,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            LineKind::Recurring => "recurring",
            LineKind::Proration => "proration",
            LineKind::Credit => "credit",
            LineKind::Usage => "usage",
            LineKind::Overage => "overage",
            LineKind::LateUsage => "late_usage",
            LineKind::Manual => "manual",
        }
    }
}

impl std::str::FromStr for LineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        LineKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| format!("'{}' is not a line kind", s.trim()))
    }
}

impl std::fmt::Display for LineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The idempotency key of a subscription's line: `sub:42/2026-03-01/recurring`, with an
/// optional qualifier (a resource, a change reference): `sub:42/2026-03-01/usage/disk_mb`.
pub fn line_key(
    subscription_id: i64,
    period_start: NaiveDate,
    kind: LineKind,
    qualifier: Option<&str>,
) -> String {
    let mut key = format!("sub:{subscription_id}/{period_start}/{}", kind.as_str());
    if let Some(q) = qualifier {
        key.push('/');
        key.push_str(q);
    }
    key
}

/// The idempotency key of a manual line: `manual:REF` (the caller's reference, e.g. a draft id).
pub fn manual_key(reference: &str) -> String {
    format!("manual:{reference}")
}

/// What is needed to build a line; the amounts are derived by [`LineDraft::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    pub kind: LineKind,
    pub description: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub quantity: i64,
    pub unit_price: Money,
    /// `None`: net = unit price x quantity. `Some(net)`: an exact net (a prorated amount) and
    /// the unit price is informative.
    pub net: Option<Money>,
    pub tax_rate_bps: u32,
    pub key: String,
    pub usage: Option<UsageFacts>,
}

/// One invoice (or credit note) line, with its tax rate and tax stored on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineDraft {
    pub kind: LineKind,
    pub description: String,
    /// First day covered (included).
    pub period_from: NaiveDate,
    /// Last day covered (excluded); equal to `period_from` for a line without a period.
    pub period_to: NaiveDate,
    pub quantity: i64,
    pub unit_price: Money,
    pub net: Money,
    /// 2000 = 20.00 %.
    pub tax_rate_bps: u32,
    pub tax: Money,
    pub total: Money,
    pub key: String,
    /// The frozen rate (A, Q, U, O) of a usage, overage or late usage line.
    pub usage: Option<UsageFacts>,
}

impl LineDraft {
    /// Checks the input and computes net, tax (half away from zero) and total.
    pub fn build(input: LineInput) -> Result<LineDraft, CoreError> {
        let LineInput {
            kind,
            description,
            period_from,
            period_to,
            quantity,
            unit_price,
            net,
            tax_rate_bps,
            key,
            usage,
        } = input;
        let description = description.trim().to_string();
        if description.is_empty() {
            return Err(invalid("description", "a line needs a description"));
        }
        if key.trim().is_empty() {
            return Err(invalid("key", "a line needs an idempotency key"));
        }
        if period_to < period_from {
            return Err(invalid(
                "periodTo",
                format!("the line's period ends ({period_to}) before it starts ({period_from})"),
            ));
        }
        let net = match net {
            Some(n) => {
                same_currency(unit_price.currency, n.currency)?;
                n
            }
            None => unit_price.checked_mul(quantity)?,
        };
        let tax = tax_on(net, tax_rate_bps)?;
        let total = net.checked_add(tax)?;
        Ok(LineDraft {
            kind,
            description,
            period_from,
            period_to,
            quantity,
            unit_price,
            net,
            tax_rate_bps,
            tax,
            total,
            key,
            usage,
        })
    }

    pub fn currency(&self) -> Currency {
        self.net.currency
    }

    /// Checks a line that was stored or assembled by hand: one currency, `net + tax = total`.
    pub fn verify(&self) -> Result<(), CoreError> {
        let c = self.net.currency;
        for m in [self.unit_price, self.tax, self.total] {
            same_currency(c, m.currency)?;
        }
        if self.net.checked_add(self.tax)? != self.total {
            return Err(invalid(
                "total",
                format!(
                    "line {}: net {} + tax {} is not the total {}",
                    self.key,
                    self.net.amount_string(),
                    self.tax.amount_string(),
                    self.total.amount_string()
                ),
            ));
        }
        Ok(())
    }
}

pub(crate) fn same_currency(a: Currency, b: Currency) -> Result<(), CoreError> {
    if a == b {
        Ok(())
    } else {
        Err(CoreError::CurrencyMismatch(
            a.code().into(),
            b.code().into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    fn input(quantity: i64, unit: Money, rate: u32) -> LineInput {
        LineInput {
            kind: LineKind::Recurring,
            description: "Business plan".into(),
            period_from: d(2026, 3, 1),
            period_to: d(2026, 4, 1),
            quantity,
            unit_price: unit,
            net: None,
            tax_rate_bps: rate,
            key: line_key(42, d(2026, 3, 1), LineKind::Recurring, None),
            usage: None,
        }
    }

    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(
            line_key(42, d(2026, 3, 1), LineKind::Recurring, None),
            "sub:42/2026-03-01/recurring"
        );
        assert_eq!(
            line_key(42, d(2026, 3, 1), LineKind::Usage, Some("disk_mb")),
            "sub:42/2026-03-01/usage/disk_mb"
        );
        assert_eq!(
            line_key(
                7,
                d(2026, 3, 1),
                LineKind::LateUsage,
                Some("users/2026-04-03")
            ),
            "sub:7/2026-03-01/late_usage/users/2026-04-03"
        );
        assert_eq!(manual_key("d-9"), "manual:d-9");
        let mut all: Vec<String> = LineKind::ALL
            .iter()
            .map(|k| line_key(1, d(2026, 1, 1), *k, None))
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), LineKind::ALL.len());
    }

    #[test]
    fn kinds_round_trip_as_text() {
        for k in LineKind::ALL {
            assert_eq!(k.as_str().parse::<LineKind>().unwrap(), *k);
            assert_eq!(k.to_string(), k.as_str());
        }
        assert!("nope".parse::<LineKind>().is_err());
    }

    #[test]
    fn build_computes_net_tax_total() {
        let line = LineDraft::build(input(3, eur(995), 2000)).unwrap();
        assert_eq!(line.net, eur(2985));
        assert_eq!(line.tax, eur(597));
        assert_eq!(line.total, eur(3582));
        line.verify().unwrap();

        let mut i = input(1, eur(963), 550);
        i.net = Some(eur(963));
        let line = LineDraft::build(i).unwrap();
        // 9.63 x 5.5 % = 0.52965 -> 0.53
        assert_eq!((line.tax, line.total), (eur(53), eur(1016)));
    }

    #[test]
    fn build_refuses_bad_lines() {
        let mut i = input(1, eur(100), 2000);
        i.description = "  ".into();
        assert!(LineDraft::build(i).is_err());
        let mut i = input(1, eur(100), 2000);
        i.key = String::new();
        assert!(LineDraft::build(i).is_err());
        let mut i = input(1, eur(100), 2000);
        i.period_to = d(2026, 2, 1);
        assert!(LineDraft::build(i).is_err());
        assert!(LineDraft::build(input(1, eur(100), 10_001)).is_err());
        assert_eq!(
            LineDraft::build(input(2, eur(i64::MAX), 0)),
            Err(CoreError::Overflow)
        );
        let mut i = input(1, eur(100), 2000);
        i.net = Some(Money::new(100, Currency::from_code("USD").unwrap()));
        assert!(matches!(
            LineDraft::build(i),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
    }

    #[test]
    fn verify_catches_inconsistent_lines() {
        let mut line = LineDraft::build(input(1, eur(1000), 2000)).unwrap();
        line.total = eur(1199);
        assert!(line.verify().is_err());
    }
}
