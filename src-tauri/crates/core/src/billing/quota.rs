//! Quota and usage billing per resource and period: `amount = A + max(0, U - Q) x O`, with `A`
//! the fee for quota `Q`, `U` the usage and `O` the overage unit price. `Q = None` is unlimited
//! (no overage); `A = 0` is pure usage billing. The rate is frozen on every line it produces.

use serde::{Deserialize, Serialize};

use super::dates::BillingPeriod;
use super::invalid;
use super::line::{line_key, same_currency, LineDraft, LineInput, LineKind};
use crate::catalog::Resource;
use crate::{CoreError, Money};

/// The rate of one resource for one period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageRate {
    pub resource: Resource,
    /// `A`: the fee for the quota (0 for pure usage billing).
    pub fee: Money,
    /// `Q`: units included (None: unlimited).
    pub quota: Option<i64>,
    /// `O`: the price of one unit over the quota.
    pub overage_unit_price: Money,
}

impl UsageRate {
    fn check(&self) -> Result<(), CoreError> {
        same_currency(self.fee.currency, self.overage_unit_price.currency)?;
        if self.fee.minor < 0 {
            return Err(invalid("fee", "the quota fee may not be negative"));
        }
        if self.overage_unit_price.minor < 0 {
            return Err(invalid(
                "overageUnitPrice",
                "the overage unit price may not be negative",
            ));
        }
        if self.quota.is_some_and(|q| q < 0) {
            return Err(invalid(
                "quota",
                "a quota is 0 or more (None means unlimited)",
            ));
        }
        Ok(())
    }
}

/// The rate and the usage as billed, frozen on the line so the bill can be explained later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageFacts {
    pub resource: Resource,
    /// `A`
    pub fee: Money,
    /// `Q` (None: unlimited)
    pub quota: Option<i64>,
    /// `U`
    pub used: i64,
    /// `O`
    pub overage_unit_price: Money,
    /// Units billed over the quota on this line.
    pub overage_units: i64,
    /// For late usage: the usage billed before (the line bills only the difference).
    pub previously_billed_used: Option<i64>,
}

/// The computed amount for one resource and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCharge {
    pub fee: Money,
    pub overage_units: i64,
    pub overage: Money,
    /// `A + max(0, U - Q) x O`
    pub amount: Money,
}

/// `A + max(0, U - Q) x O` for `used` units.
pub fn usage_amount(rate: &UsageRate, used: i64) -> Result<UsageCharge, CoreError> {
    rate.check()?;
    if used < 0 {
        return Err(invalid("used", format!("usage {used} is negative")));
    }
    let overage_units = match rate.quota {
        None => 0,
        Some(q) => (used - q).max(0),
    };
    let overage = rate.overage_unit_price.checked_mul(overage_units)?;
    Ok(UsageCharge {
        fee: rate.fee,
        overage_units,
        overage,
        amount: rate.fee.checked_add(overage)?,
    })
}

fn facts(rate: &UsageRate, used: i64, overage_units: i64, before: Option<i64>) -> UsageFacts {
    UsageFacts {
        resource: rate.resource,
        fee: rate.fee,
        quota: rate.quota,
        used,
        overage_unit_price: rate.overage_unit_price,
        overage_units,
        previously_billed_used: before,
    }
}

fn quota_text(rate: &UsageRate) -> String {
    match rate.quota {
        Some(q) => format!("quota {q}"),
        None => "unlimited".to_string(),
    }
}

/// The lines of one resource for one period:
/// - the fee `A` (kind `Usage`, quantity 1) when `A` is not zero;
/// - the units over the quota at `O` when there are any: kind `Overage`, or `Usage` when `A = 0`
///   (pure usage billing).
///
/// Nothing is billed (an empty list) when both are zero. Keys: `sub:ID/START/KIND/RESOURCE`.
pub fn usage_lines(
    subscription_id: i64,
    period: &BillingPeriod,
    rate: &UsageRate,
    used: i64,
    tax_rate_bps: u32,
) -> Result<Vec<LineDraft>, CoreError> {
    let charge = usage_amount(rate, used)?;
    let resource = rate.resource.as_str();
    let frozen = facts(rate, used, charge.overage_units, None);
    let mut lines = Vec::new();
    if rate.fee.minor != 0 {
        lines.push(LineDraft::build(LineInput {
            kind: LineKind::Usage,
            description: format!(
                "{resource}: {} ({} to {})",
                quota_text(rate),
                period.start,
                period.end
            ),
            period_from: period.start,
            period_to: period.end,
            quantity: 1,
            unit_price: rate.fee,
            net: None,
            tax_rate_bps,
            key: line_key(
                subscription_id,
                period.start,
                LineKind::Usage,
                Some(resource),
            ),
            usage: Some(frozen),
        })?);
    }
    if charge.overage_units > 0 && rate.overage_unit_price.minor != 0 {
        let (kind, description) = if rate.fee.minor == 0 {
            (
                LineKind::Usage,
                format!(
                    "{resource}: {} units used, {} ({} to {})",
                    used,
                    quota_text(rate),
                    period.start,
                    period.end
                ),
            )
        } else {
            (
                LineKind::Overage,
                format!(
                    "{resource}: {} units over {} (used {used}; {} to {})",
                    charge.overage_units,
                    quota_text(rate),
                    period.start,
                    period.end
                ),
            )
        };
        lines.push(LineDraft::build(LineInput {
            kind,
            description,
            period_from: period.start,
            period_to: period.end,
            quantity: charge.overage_units,
            unit_price: rate.overage_unit_price,
            net: None,
            tax_rate_bps,
            key: line_key(subscription_id, period.start, kind, Some(resource)),
            usage: Some(frozen),
        })?);
    }
    Ok(lines)
}

/// Usage that arrived after its period was invoiced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateUsage {
    pub subscription_id: i64,
    /// The period the usage belongs to (already invoiced).
    pub period: BillingPeriod,
    /// The rate frozen on the original invoice.
    pub rate: UsageRate,
    /// The usage billed on that invoice.
    pub billed_used: i64,
    /// The usage now known for the period (cumulative).
    pub used: i64,
    pub tax_rate_bps: u32,
}

/// A `LateUsage` line billing the extra units over the quota on a later invoice, or `None` when
/// the late usage adds nothing billable. A lower usage than billed is not credited here: that
/// correction is a credit note on the original invoice.
/// Key: `sub:ID/START/late_usage/RESOURCE/BILLED..USED`, the same on a re-run.
pub fn late_usage_line(late: &LateUsage) -> Result<Option<LineDraft>, CoreError> {
    let before = usage_amount(&late.rate, late.billed_used)?;
    let now = usage_amount(&late.rate, late.used)?;
    let extra_units = now.overage_units - before.overage_units;
    if extra_units <= 0 || late.rate.overage_unit_price.minor == 0 {
        return Ok(None);
    }
    let resource = late.rate.resource.as_str();
    let period = late.period;
    LineDraft::build(LineInput {
        kind: LineKind::LateUsage,
        description: format!(
            "{resource}: late usage for {} to {}: {extra_units} more units over {} (used {}, billed {})",
            period.start,
            period.end,
            quota_text(&late.rate),
            late.used,
            late.billed_used
        ),
        period_from: period.start,
        period_to: period.end,
        quantity: extra_units,
        unit_price: late.rate.overage_unit_price,
        net: None,
        tax_rate_bps: late.tax_rate_bps,
        key: line_key(
            late.subscription_id,
            period.start,
            LineKind::LateUsage,
            Some(&format!("{resource}/{}..{}", late.billed_used, late.used)),
        ),
        usage: Some(facts(
            &late.rate,
            late.used,
            extra_units,
            Some(late.billed_used),
        )),
    })
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    fn rate(fee: i64, quota: Option<i64>, o: i64) -> UsageRate {
        UsageRate {
            resource: Resource::DiskMb,
            fee: eur(fee),
            quota,
            overage_unit_price: eur(o),
        }
    }

    fn march() -> BillingPeriod {
        BillingPeriod::new(d(2026, 3, 1), d(2026, 4, 1)).unwrap()
    }

    #[test]
    fn the_formula_examples() {
        // (A, Q, O, U, overage units, amount)
        let table = [
            (1000, Some(100), 5, 150, 50, 1250), // over quota
            (1000, Some(100), 5, 100, 0, 1000),  // U = Q
            (1000, Some(100), 5, 40, 0, 1000),   // U < Q: the fee, nothing back
            (1000, Some(100), 5, 0, 0, 1000),    // no usage
            (1000, None, 5, 1_000_000, 0, 1000), // unlimited
            (0, Some(0), 2, 37, 37, 74),         // pure usage billing
            (0, Some(10), 2, 37, 27, 54),        // pure usage with a free allowance
            (0, Some(10), 2, 3, 0, 0),           // pure usage under the allowance
            (0, None, 2, 37, 0, 0),              // unlimited and free
            (2500, Some(0), 0, 99, 99, 2500),    // hard quota with free overage
        ];
        for (a, q, o, u, units, amount) in table {
            let got = usage_amount(&rate(a, q, o), u).unwrap();
            assert_eq!(
                (got.overage_units, got.amount.minor),
                (units, amount),
                "A={a} Q={q:?} O={o} U={u}"
            );
            assert_eq!(got.fee.checked_add(got.overage).unwrap(), got.amount);
        }
    }

    #[test]
    fn bad_rates_are_errors() {
        assert!(usage_amount(&rate(100, Some(1), 1), -1).is_err());
        assert!(usage_amount(&rate(-100, Some(1), 1), 1).is_err());
        assert!(usage_amount(&rate(100, Some(-1), 1), 1).is_err());
        assert!(usage_amount(&rate(100, Some(1), -1), 1).is_err());
        let mut mixed = rate(100, Some(1), 1);
        mixed.overage_unit_price = Money::new(1, Currency::from_code("USD").unwrap());
        assert!(matches!(
            usage_amount(&mixed, 5),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
        assert_eq!(
            usage_amount(&rate(0, Some(0), i64::MAX), 2),
            Err(CoreError::Overflow)
        );
    }

    #[test]
    fn lines_freeze_the_rate() {
        let lines = usage_lines(42, &march(), &rate(1000, Some(100), 5), 150, 2000).unwrap();
        assert_eq!(lines.len(), 2);
        let (fee, over) = (&lines[0], &lines[1]);
        assert_eq!(fee.kind, LineKind::Usage);
        assert_eq!((fee.quantity, fee.net, fee.tax), (1, eur(1000), eur(200)));
        assert_eq!(fee.key, "sub:42/2026-03-01/usage/disk_mb");
        assert_eq!(over.kind, LineKind::Overage);
        assert_eq!(
            (over.quantity, over.unit_price, over.net),
            (50, eur(5), eur(250))
        );
        assert_eq!(over.tax, eur(50));
        assert_eq!(over.key, "sub:42/2026-03-01/overage/disk_mb");
        let frozen = over.usage.unwrap();
        assert_eq!(
            (
                frozen.fee,
                frozen.quota,
                frozen.used,
                frozen.overage_unit_price
            ),
            (eur(1000), Some(100), 150, eur(5))
        );
        assert_eq!(fee.usage, over.usage);
        assert_eq!(
            (over.period_from, over.period_to),
            (d(2026, 3, 1), d(2026, 4, 1))
        );
    }

    #[test]
    fn lines_for_the_special_cases() {
        // U <= Q: only the fee
        let lines = usage_lines(1, &march(), &rate(1000, Some(100), 5), 100, 0).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].kind, LineKind::Usage);
        // unlimited: only the fee
        let lines = usage_lines(1, &march(), &rate(1000, None, 5), 10_000, 0).unwrap();
        assert_eq!(lines.len(), 1);
        // pure usage billing: one usage line of U - Q units
        let lines = usage_lines(1, &march(), &rate(0, Some(0), 3), 12, 2000).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].kind, LineKind::Usage);
        assert_eq!((lines[0].quantity, lines[0].net), (12, eur(36)));
        // nothing to bill
        assert!(usage_lines(1, &march(), &rate(0, Some(50), 3), 12, 2000)
            .unwrap()
            .is_empty());
        // a re-run gives the same keys
        let again = usage_lines(1, &march(), &rate(0, Some(0), 3), 12, 2000).unwrap();
        assert_eq!(
            again[0].key,
            usage_lines(1, &march(), &rate(0, Some(0), 3), 12, 2000).unwrap()[0].key
        );
    }

    #[test]
    fn usage_in_yen_and_dinar() {
        let jpy = Currency::from_code("JPY").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        let r = UsageRate {
            resource: Resource::Users,
            fee: Money::new(500, jpy),
            quota: Some(5),
            overage_unit_price: Money::new(120, jpy),
        };
        assert_eq!(usage_amount(&r, 8).unwrap().amount, Money::new(860, jpy));
        let lines = usage_lines(3, &march(), &r, 8, 1000).unwrap();
        assert_eq!(lines[1].tax, Money::new(36, jpy));
        let r = UsageRate {
            resource: Resource::BandwidthMb,
            fee: Money::new(1500, kwd),
            quota: Some(1000),
            overage_unit_price: Money::new(3, kwd),
        };
        // 1.500 + 250 x 0.003 = 2.250 KWD
        assert_eq!(
            usage_amount(&r, 1250).unwrap().amount,
            Money::new(2250, kwd)
        );
    }

    #[test]
    fn late_usage_bills_only_the_extra_units() {
        let late = LateUsage {
            subscription_id: 9,
            period: march(),
            rate: rate(1000, Some(100), 5),
            billed_used: 120,
            used: 150,
            tax_rate_bps: 2000,
        };
        let line = late_usage_line(&late).unwrap().unwrap();
        assert_eq!(line.kind, LineKind::LateUsage);
        assert_eq!((line.quantity, line.net, line.tax), (30, eur(150), eur(30)));
        assert_eq!(line.key, "sub:9/2026-03-01/late_usage/disk_mb/120..150");
        assert_eq!(line.usage.unwrap().previously_billed_used, Some(120));
        assert_eq!(
            (line.period_from, line.period_to),
            (d(2026, 3, 1), d(2026, 4, 1))
        );
        // under quota before, over after: only the part over the quota
        let l = late_usage_line(&LateUsage {
            billed_used: 80,
            ..late
        })
        .unwrap()
        .unwrap();
        assert_eq!(l.quantity, 50);
        // still under quota, unlimited, lower or equal usage: nothing
        assert!(late_usage_line(&LateUsage {
            billed_used: 10,
            used: 90,
            ..late
        })
        .unwrap()
        .is_none());
        assert!(late_usage_line(&LateUsage {
            rate: rate(1000, None, 5),
            ..late
        })
        .unwrap()
        .is_none());
        assert!(late_usage_line(&LateUsage { used: 120, ..late })
            .unwrap()
            .is_none());
        assert!(late_usage_line(&LateUsage { used: 110, ..late })
            .unwrap()
            .is_none());
    }

    proptest! {
        #[test]
        fn lines_add_up_to_the_formula(
            a in 0i64..1_000_000,
            q in proptest::option::of(0i64..10_000),
            o in 0i64..10_000,
            u in 0i64..100_000,
        ) {
            let r = rate(a, q, o);
            let charge = usage_amount(&r, u).unwrap();
            let want = a + (u - q.unwrap_or(u)).max(0) * o;
            prop_assert_eq!(charge.amount.minor, want);
            let lines = usage_lines(1, &march(), &r, u, 0).unwrap();
            let sum: i64 = lines.iter().map(|l| l.net.minor).sum();
            prop_assert_eq!(sum, want);
        }
    }
}
