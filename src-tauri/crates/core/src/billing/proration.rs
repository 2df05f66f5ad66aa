//! Proration: charge = price x days remaining / days in period, with the actual days of that
//! period, computed exactly and rounded once, half away from zero (9.95 x 30/31 = 9.63).

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::BillingPeriod;
use super::invalid;
use crate::{CoreError, Money};

/// `price x days / days_in_period`, rounded once. `0 <= days <= days_in_period`.
pub fn prorate(price: Money, days: i64, days_in_period: i64) -> Result<Money, CoreError> {
    if days_in_period <= 0 {
        return Err(invalid(
            "daysInPeriod",
            format!("{days_in_period} is not a period length in days"),
        ));
    }
    if !(0..=days_in_period).contains(&days) {
        return Err(invalid(
            "days",
            format!("{days} days do not fit in a period of {days_in_period} days"),
        ));
    }
    price.mul_ratio(days, days_in_period)
}

/// The prorated part of a period from a date to the period's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proration {
    /// The first day covered (included).
    pub from: NaiveDate,
    /// The end of the period (excluded).
    pub to: NaiveDate,
    pub days: i64,
    pub days_in_period: i64,
    pub amount: Money,
}

/// `price` prorated from `from` (included, inside `period`) to the end of `period`.
pub fn prorate_from(
    price: Money,
    period: &BillingPeriod,
    from: NaiveDate,
) -> Result<Proration, CoreError> {
    let days = period.days_from(from)?;
    let days_in_period = period.days();
    Ok(Proration {
        from,
        to: period.end,
        days,
        days_in_period,
        amount: prorate(price, days, days_in_period)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::dates::BillingCycle;
    use crate::Currency;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    #[test]
    fn examples_from_the_rules() {
        assert_eq!(prorate(eur(995), 30, 31).unwrap(), eur(963));
        assert_eq!(prorate(eur(10000), 14, 31).unwrap(), eur(4516));
    }

    #[test]
    fn proration_table_for_31_30_28_and_29_day_months() {
        // (price minor, period start, period end, from, days, days in period, amount minor)
        let table = [
            // 31 days: March 2026
            (
                995,
                d(2026, 3, 1),
                d(2026, 4, 1),
                d(2026, 3, 2),
                30,
                31,
                963,
            ),
            (
                10000,
                d(2026, 3, 1),
                d(2026, 4, 1),
                d(2026, 3, 18),
                14,
                31,
                4516,
            ),
            (
                10000,
                d(2026, 3, 1),
                d(2026, 4, 1),
                d(2026, 3, 1),
                31,
                31,
                10000,
            ),
            (
                10000,
                d(2026, 3, 1),
                d(2026, 4, 1),
                d(2026, 3, 31),
                1,
                31,
                323,
            ),
            // 30 days: April 2026
            (
                995,
                d(2026, 4, 1),
                d(2026, 5, 1),
                d(2026, 4, 16),
                15,
                30,
                498,
            ), // 497.5 -> 498
            (
                10000,
                d(2026, 4, 1),
                d(2026, 5, 1),
                d(2026, 4, 17),
                14,
                30,
                4667,
            ),
            (
                3000,
                d(2026, 4, 1),
                d(2026, 5, 1),
                d(2026, 4, 30),
                1,
                30,
                100,
            ),
            // 28 days: February 2026
            (
                995,
                d(2026, 2, 1),
                d(2026, 3, 1),
                d(2026, 2, 15),
                14,
                28,
                498,
            ), // 497.5 -> 498
            (
                10000,
                d(2026, 2, 1),
                d(2026, 3, 1),
                d(2026, 2, 15),
                14,
                28,
                5000,
            ),
            (
                2800,
                d(2026, 2, 1),
                d(2026, 3, 1),
                d(2026, 2, 28),
                1,
                28,
                100,
            ),
            // 29 days: February 2028
            (
                995,
                d(2028, 2, 1),
                d(2028, 3, 1),
                d(2028, 2, 15),
                15,
                29,
                515,
            ), // 514.66
            (
                10000,
                d(2028, 2, 1),
                d(2028, 3, 1),
                d(2028, 2, 16),
                14,
                29,
                4828,
            ), // 4827.59
            (
                2900,
                d(2028, 2, 1),
                d(2028, 3, 1),
                d(2028, 2, 29),
                1,
                29,
                100,
            ),
            // anchor 31 period of 28 days: Jan 31 -> Feb 28 2026
            (
                10000,
                d(2026, 1, 31),
                d(2026, 2, 28),
                d(2026, 2, 14),
                14,
                28,
                5000,
            ),
        ];
        for (price, start, end, from, days, dip, want) in table {
            let period = BillingPeriod::new(start, end).unwrap();
            let got = prorate_from(eur(price), &period, from).unwrap();
            assert_eq!(
                (got.days, got.days_in_period, got.amount.minor),
                (days, dip, want),
                "{price} from {from} in {start}..{end}"
            );
            assert_eq!(got.to, end);
        }
    }

    #[test]
    fn zero_and_three_decimal_currencies() {
        let jpy = Currency::from_code("JPY").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        // 1000 JPY x 14/31 = 451.6 -> 452 yen
        assert_eq!(prorate(Money::new(1000, jpy), 14, 31).unwrap().minor, 452);
        // 9.950 KWD x 30/31 = 9.62903 -> 9.629
        assert_eq!(prorate(Money::new(9950, kwd), 30, 31).unwrap().minor, 9629);
        // exactly half a fils rounds up: 0.005 KWD x 1/2 -> 0.003
        assert_eq!(prorate(Money::new(5, kwd), 1, 2).unwrap().minor, 3);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(prorate(eur(100), 1, 0).is_err());
        assert!(prorate(eur(100), 32, 31).is_err());
        assert!(prorate(eur(100), -1, 31).is_err());
        let period = BillingPeriod::new(d(2026, 3, 1), d(2026, 4, 1)).unwrap();
        assert!(prorate_from(eur(100), &period, d(2026, 4, 1)).is_err());
        assert!(prorate_from(eur(100), &period, d(2026, 2, 28)).is_err());
        assert_eq!(
            prorate(Money::new(i64::MAX, eur(0).currency), 31, 31)
                .unwrap()
                .minor,
            i64::MAX
        );
    }

    proptest! {
        #[test]
        fn prorating_the_whole_period_is_the_price(
            price in -1_000_000_000_000i64..1_000_000_000_000,
            anchor in 1u32..=31,
            days_from_epoch in 0i64..40_000,
        ) {
            let date = d(2000, 1, 1) + chrono::Duration::days(days_from_epoch);
            let period = BillingCycle::monthly(anchor).unwrap().period_containing(date).unwrap();
            let got = prorate_from(eur(price), &period, period.start).unwrap();
            prop_assert_eq!(got.amount, eur(price));
            prop_assert_eq!(got.days, got.days_in_period);
        }

        #[test]
        fn proration_is_monotonic_and_bounded(
            price in 0i64..1_000_000_000,
            dip in 1i64..=366,
            a in 0i64..=366,
            b in 0i64..=366,
        ) {
            let (a, b) = (a.min(dip), b.min(dip));
            let (lo, hi) = (a.min(b), a.max(b));
            let x = prorate(eur(price), lo, dip).unwrap().minor;
            let y = prorate(eur(price), hi, dip).unwrap().minor;
            prop_assert!(0 <= x && x <= y && y <= price);
        }
    }
}
