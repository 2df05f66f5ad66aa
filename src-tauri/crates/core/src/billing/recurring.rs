//! The recurring charge of a period, and the first charge of a new subscription: from the order
//! date to the client's next billing date, prorated against the full period ending there.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::dates::{BillingCycle, BillingPeriod};
use super::invalid;
use super::line::{line_key, LineDraft, LineInput, LineKind};
use super::proration::prorate;
use crate::catalog::Period;
use crate::period::{anchor_in_month, next_anchor_after};
use crate::{CoreError, Money};

/// The first charge of a subscription ordered on `order_date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FirstCharge {
    /// The order date (included).
    pub from: NaiveDate,
    /// The client's next billing date (excluded); regular periods start here.
    pub to: NaiveDate,
    /// The full period that ends at `to`, against which the charge is prorated.
    pub full_period: BillingPeriod,
    pub days: i64,
    pub days_in_period: i64,
    pub amount: Money,
    /// True when the order fell on the anchor: a full period at the full price.
    pub is_full_period: bool,
    /// The subscription's cycle: its periods start on `to` and every period after it.
    pub cycle: BillingCycle,
}

/// The first charge for an order placed on `order_date` (the client's local date) for a
/// subscription billed every `period` on `anchor_day`. An order on the anchor date is a full
/// period; otherwise it covers `[order_date, next anchor)`, prorated against the full period
/// that ends at that anchor (for a quarter, the three months before it).
pub fn first_charge(
    order_date: NaiveDate,
    anchor_day: u32,
    period: Period,
    price: Money,
) -> Result<FirstCharge, CoreError> {
    let out_of_range = || invalid("orderDate", "the date is out of the supported range");
    let this_month = anchor_in_month(order_date.year(), order_date.month(), anchor_day)
        .ok_or_else(out_of_range)?;
    if this_month == order_date {
        let cycle = BillingCycle::starting_on(order_date, anchor_day, period)?;
        let full = cycle.period_containing(order_date)?;
        return Ok(FirstCharge {
            from: full.start,
            to: full.end,
            full_period: full,
            days: full.days(),
            days_in_period: full.days(),
            amount: price,
            is_full_period: true,
            cycle,
        });
    }
    // `BillingCycle::new` validates the anchor day before it is used to find the next anchor.
    BillingCycle::monthly(anchor_day)?;
    let to = next_anchor_after(order_date, anchor_day).ok_or_else(out_of_range)?;
    let cycle = BillingCycle::starting_on(to, anchor_day, period)?;
    let before = to.pred_opt().ok_or_else(out_of_range)?;
    let full = cycle.period_containing(before)?;
    let days = (to - order_date).num_days();
    Ok(FirstCharge {
        from: order_date,
        to,
        full_period: full,
        days,
        days_in_period: full.days(),
        amount: prorate(price, days, full.days())?,
        is_full_period: false,
        cycle,
    })
}

/// The line of a first charge: `Recurring` for a full period, `Proration` otherwise.
/// Key: `sub:ID/FROM/recurring` or `sub:ID/FROM/proration`.
pub fn first_charge_line(
    subscription_id: i64,
    charge: &FirstCharge,
    label: &str,
    price: Money,
    tax_rate_bps: u32,
) -> Result<LineDraft, CoreError> {
    if charge.is_full_period {
        let period = BillingPeriod::new(charge.from, charge.to)?;
        return recurring_line(subscription_id, &period, label, price, tax_rate_bps);
    }
    LineDraft::build(LineInput {
        kind: LineKind::Proration,
        description: format!(
            "{label}: {} to {} ({}/{} days)",
            charge.from, charge.to, charge.days, charge.days_in_period
        ),
        period_from: charge.from,
        period_to: charge.to,
        quantity: 1,
        unit_price: charge.amount,
        net: Some(charge.amount),
        tax_rate_bps,
        key: line_key(subscription_id, charge.from, LineKind::Proration, None),
        usage: None,
    })
}

/// The full price of one period. Key: `sub:ID/START/recurring`.
pub fn recurring_line(
    subscription_id: i64,
    period: &BillingPeriod,
    label: &str,
    price: Money,
    tax_rate_bps: u32,
) -> Result<LineDraft, CoreError> {
    LineDraft::build(LineInput {
        kind: LineKind::Recurring,
        description: format!("{label}: {} to {}", period.start, period.end),
        period_from: period.start,
        period_to: period.end,
        quantity: 1,
        unit_price: price,
        net: None,
        tax_rate_bps,
        key: line_key(subscription_id, period.start, LineKind::Recurring, None),
        usage: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    #[test]
    fn first_charge_examples() {
        // (order, anchor, period, price, to, full start, days, days in period, amount)
        let table = [
            // March has 31 days: 9.95 x 30/31 = 9.63
            (
                d(2026, 3, 2),
                1,
                Period::Month,
                995,
                d(2026, 4, 1),
                d(2026, 3, 1),
                30,
                31,
                963,
            ),
            // 100.00 x 14/31 = 45.16
            (
                d(2026, 3, 18),
                1,
                Period::Month,
                10000,
                d(2026, 4, 1),
                d(2026, 3, 1),
                14,
                31,
                4516,
            ),
            // April, 30 days
            (
                d(2026, 4, 16),
                1,
                Period::Month,
                995,
                d(2026, 5, 1),
                d(2026, 4, 1),
                15,
                30,
                498,
            ),
            // February, 28 and 29 days
            (
                d(2026, 2, 15),
                1,
                Period::Month,
                10000,
                d(2026, 3, 1),
                d(2026, 2, 1),
                14,
                28,
                5000,
            ),
            (
                d(2028, 2, 16),
                1,
                Period::Month,
                10000,
                d(2028, 3, 1),
                d(2028, 2, 1),
                14,
                29,
                4828,
            ),
            // anchor 15, order before the anchor in the month
            (
                d(2026, 3, 10),
                15,
                Period::Month,
                3100,
                d(2026, 3, 15),
                d(2026, 2, 15),
                5,
                28,
                554,
            ),
            // anchor 31: ordered Feb 10 2026 -> Feb 28, prorated against Jan 31..Feb 28
            (
                d(2026, 2, 10),
                31,
                Period::Month,
                2800,
                d(2026, 2, 28),
                d(2026, 1, 31),
                18,
                28,
                1800,
            ),
            // anchor 31 ordered Mar 1 -> Mar 31, against Feb 28..Mar 31 (31 days)
            (
                d(2026, 3, 1),
                31,
                Period::Month,
                3100,
                d(2026, 3, 31),
                d(2026, 2, 28),
                30,
                31,
                3000,
            ),
            // quarterly: Mar 10 -> Apr 1, against Jan 1..Apr 1 (90 days)
            (
                d(2026, 3, 10),
                1,
                Period::Quarter,
                9000,
                d(2026, 4, 1),
                d(2026, 1, 1),
                22,
                90,
                2200,
            ),
            // yearly: Dec 17 2026 -> Jan 1 2027, against 2026 (365 days)
            (
                d(2026, 12, 17),
                1,
                Period::Year,
                36500,
                d(2027, 1, 1),
                d(2026, 1, 1),
                15,
                365,
                1500,
            ),
            // yearly in a leap year: against 2028 (366 days)
            (
                d(2028, 12, 17),
                1,
                Period::Year,
                36600,
                d(2029, 1, 1),
                d(2028, 1, 1),
                15,
                366,
                1500,
            ),
        ];
        for (order, anchor, period, price, to, full_start, days, dip, amount) in table {
            let got = first_charge(order, anchor, period, eur(price)).unwrap();
            assert_eq!(
                (got.from, got.to, got.full_period.start, got.full_period.end),
                (order, to, full_start, to),
                "{order} anchor {anchor} {period}"
            );
            assert_eq!(
                (got.days, got.days_in_period, got.amount.minor),
                (days, dip, amount),
                "{order} anchor {anchor} {period}"
            );
            assert!(!got.is_full_period);
            // regular periods start at `to`
            let next = got.cycle.period_containing(to).unwrap();
            assert_eq!(next.start, to);
            assert_eq!(got.cycle.period(), period);
        }
    }

    #[test]
    fn an_order_on_the_anchor_is_a_full_period() {
        let got = first_charge(d(2026, 3, 1), 1, Period::Month, eur(995)).unwrap();
        assert!(got.is_full_period);
        assert_eq!(
            (got.from, got.to, got.amount),
            (d(2026, 3, 1), d(2026, 4, 1), eur(995))
        );
        // anchor 31 on Feb 28: the clamped anchor, a full period to Mar 31
        let got = first_charge(d(2026, 2, 28), 31, Period::Month, eur(995)).unwrap();
        assert!(got.is_full_period);
        assert_eq!((got.to, got.days), (d(2026, 3, 31), 31));
        // yearly on Feb 29
        let got = first_charge(d(2028, 2, 29), 29, Period::Year, eur(12000)).unwrap();
        assert!(got.is_full_period);
        assert_eq!((got.to, got.amount), (d(2029, 2, 28), eur(12000)));
        let line = first_charge_line(5, &got, "Business", eur(12000), 2000).unwrap();
        assert_eq!(line.kind, LineKind::Recurring);
        assert_eq!(line.key, "sub:5/2028-02-29/recurring");
        assert_eq!(
            (line.net, line.tax, line.total),
            (eur(12000), eur(2400), eur(14400))
        );
    }

    #[test]
    fn first_charge_lines() {
        let fc = first_charge(d(2026, 3, 18), 1, Period::Month, eur(10000)).unwrap();
        let line = first_charge_line(42, &fc, "Business", eur(10000), 2000).unwrap();
        assert_eq!(line.kind, LineKind::Proration);
        assert_eq!(line.key, "sub:42/2026-03-18/proration");
        assert_eq!(
            (line.net, line.tax, line.total),
            (eur(4516), eur(903), eur(5419))
        );
        assert_eq!(
            (line.period_from, line.period_to),
            (d(2026, 3, 18), d(2026, 4, 1))
        );
        assert_eq!(
            line.description,
            "Business: 2026-03-18 to 2026-04-01 (14/31 days)"
        );
        // the next line is the recurring one, keyed on the period start
        let next = fc.cycle.period_containing(fc.to).unwrap();
        let rec = recurring_line(42, &next, "Business", eur(10000), 2000).unwrap();
        assert_eq!(rec.key, "sub:42/2026-04-01/recurring");
        assert_eq!(
            (rec.period_from, rec.period_to),
            (d(2026, 4, 1), d(2026, 5, 1))
        );
    }

    #[test]
    fn zero_and_three_decimal_currencies() {
        let jpy = Currency::from_code("JPY").unwrap();
        let kwd = Currency::from_code("KWD").unwrap();
        let fc = first_charge(d(2026, 3, 18), 1, Period::Month, Money::new(1000, jpy)).unwrap();
        assert_eq!(fc.amount, Money::new(452, jpy)); // 451.6
        let fc = first_charge(d(2026, 3, 18), 1, Period::Month, Money::new(9950, kwd)).unwrap();
        assert_eq!(fc.amount, Money::new(4494, kwd)); // 4493.55
    }

    #[test]
    fn bad_anchor_is_an_error() {
        assert!(first_charge(d(2026, 3, 18), 0, Period::Month, eur(1)).is_err());
        assert!(first_charge(d(2026, 3, 18), 32, Period::Month, eur(1)).is_err());
    }

    proptest! {
        #[test]
        fn first_charge_is_within_the_price(
            days_from_epoch in 0i64..20_000,
            anchor in 1u32..=31,
            period in prop::sample::select(vec![Period::Month, Period::Quarter, Period::Year]),
            price in 0i64..1_000_000_000,
        ) {
            let order = d(2000, 1, 1) + chrono::Duration::days(days_from_epoch);
            let fc = first_charge(order, anchor, period, eur(price)).unwrap();
            prop_assert!(fc.from == order && fc.to > order);
            prop_assert!(fc.days >= 1 && fc.days <= fc.days_in_period);
            prop_assert!(0 <= fc.amount.minor && fc.amount.minor <= price);
            prop_assert_eq!(fc.full_period.end, fc.to);
            prop_assert_eq!(fc.is_full_period, fc.days == fc.days_in_period);
            if fc.is_full_period {
                prop_assert_eq!(fc.amount.minor, price);
            }
            // `to` is a billing date of the cycle, and the client's next anchor
            prop_assert_eq!(fc.cycle.period_containing(fc.to).unwrap().start, fc.to);
        }
    }
}
