//! Plan changes within a paid period.
//!
//! - An upgrade takes effect at once: a credit (negative) for the unused part of the old price
//!   and a charge for the new price over the same remaining days.
//! - A downgrade takes effect at the end of the period: no line now.
//! - A cancellation ends the subscription at the period end, or at once with a prorated credit
//!   of the unused part.
//!
//! The period passed in is the current, already invoiced period; dates are the client's local
//! dates.

use chrono::NaiveDate;
use serde::Serialize;

use super::dates::BillingPeriod;
use super::line::{line_key, same_currency, LineDraft, LineInput, LineKind};
use super::proration::prorate_from;
use crate::{CoreError, Money};

/// A change of plan on `on`, within `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanChange<'a> {
    pub subscription_id: i64,
    /// Distinguishes several changes within one period (e.g. the change's id); part of the keys.
    pub change_ref: &'a str,
    pub period: BillingPeriod,
    /// The day the change takes effect (included in the new plan).
    pub on: NaiveDate,
    pub old_label: &'a str,
    pub old_price: Money,
    pub new_label: &'a str,
    pub new_price: Money,
    pub tax_rate_bps: u32,
}

/// The two lines of an upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    pub effective: NaiveDate,
    pub days_remaining: i64,
    pub days_in_period: i64,
    /// Negative: the unused part of the old price. Key `sub:ID/START/credit/change:REF`.
    pub credit: LineDraft,
    /// The new price over the same days. Key `sub:ID/START/proration/change:REF`.
    pub charge: LineDraft,
}

impl Upgrade {
    pub fn lines(&self) -> [&LineDraft; 2] {
        [&self.credit, &self.charge]
    }
}

/// What a plan change does now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "when")]
pub enum ChangeOutcome {
    /// A dearer plan: credit and charge now; the recurring price follows from the next period.
    Immediate(Box<Upgrade>),
    /// A plan at the same or a lower price: it starts on `effective` (the period end).
    AtPeriodEnd { effective: NaiveDate },
}

/// An upgrade on `change.on`: credit the unused old price, charge the new one, same days.
pub fn upgrade(change: &PlanChange<'_>) -> Result<Upgrade, CoreError> {
    same_currency(change.old_price.currency, change.new_price.currency)?;
    let old = prorate_from(change.old_price, &change.period, change.on)?;
    let new = prorate_from(change.new_price, &change.period, change.on)?;
    let qualifier = format!("change:{}", change.change_ref);
    let start = change.period.start;
    let credit_amount = Money::new(0, old.amount.currency).checked_sub(old.amount)?;
    let credit = LineDraft::build(LineInput {
        kind: LineKind::Credit,
        description: format!(
            "{}: unused {} to {} ({}/{} days)",
            change.old_label, change.on, change.period.end, old.days, old.days_in_period
        ),
        period_from: change.on,
        period_to: change.period.end,
        quantity: 1,
        unit_price: credit_amount,
        net: Some(credit_amount),
        tax_rate_bps: change.tax_rate_bps,
        key: line_key(
            change.subscription_id,
            start,
            LineKind::Credit,
            Some(&qualifier),
        ),
        usage: None,
    })?;
    let charge = LineDraft::build(LineInput {
        kind: LineKind::Proration,
        description: format!(
            "{}: {} to {} ({}/{} days)",
            change.new_label, change.on, change.period.end, new.days, new.days_in_period
        ),
        period_from: change.on,
        period_to: change.period.end,
        quantity: 1,
        unit_price: new.amount,
        net: Some(new.amount),
        tax_rate_bps: change.tax_rate_bps,
        key: line_key(
            change.subscription_id,
            start,
            LineKind::Proration,
            Some(&qualifier),
        ),
        usage: None,
    })?;
    Ok(Upgrade {
        effective: change.on,
        days_remaining: old.days,
        days_in_period: old.days_in_period,
        credit,
        charge,
    })
}

/// A downgrade requested on `on`: it takes effect at the end of `period` (returned), no line now.
pub fn downgrade(period: &BillingPeriod, on: NaiveDate) -> Result<NaiveDate, CoreError> {
    period.days_from(on)?;
    Ok(period.end)
}

/// An upgrade when the new price is higher, otherwise a change at the period end.
pub fn change_plan(change: &PlanChange<'_>) -> Result<ChangeOutcome, CoreError> {
    same_currency(change.old_price.currency, change.new_price.currency)?;
    if change.new_price.minor > change.old_price.minor {
        Ok(ChangeOutcome::Immediate(Box::new(upgrade(change)?)))
    } else {
        Ok(ChangeOutcome::AtPeriodEnd {
            effective: downgrade(&change.period, change.on)?,
        })
    }
}

/// When a cancellation takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelWhen {
    AtPeriodEnd,
    Immediately,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelRequest<'a> {
    pub subscription_id: i64,
    pub period: BillingPeriod,
    /// The day the cancellation is asked (for `Immediately`: the first day not used).
    pub on: NaiveDate,
    pub label: &'a str,
    pub price: Money,
    pub tax_rate_bps: u32,
    pub when: CancelWhen,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    /// The first day without service.
    pub ends_on: NaiveDate,
    /// For an immediate cancellation: the unused part, negative (None if it rounds to zero).
    /// Key `sub:ID/START/credit/cancel`.
    pub credit: Option<LineDraft>,
}

pub fn cancel(req: &CancelRequest<'_>) -> Result<Cancellation, CoreError> {
    let unused = prorate_from(req.price, &req.period, req.on)?;
    match req.when {
        CancelWhen::AtPeriodEnd => Ok(Cancellation {
            ends_on: req.period.end,
            credit: None,
        }),
        CancelWhen::Immediately => {
            let credit = if unused.amount.minor == 0 {
                None
            } else {
                let amount = Money::new(0, unused.amount.currency).checked_sub(unused.amount)?;
                Some(LineDraft::build(LineInput {
                    kind: LineKind::Credit,
                    description: format!(
                        "{}: cancelled, unused {} to {} ({}/{} days)",
                        req.label, req.on, req.period.end, unused.days, unused.days_in_period
                    ),
                    period_from: req.on,
                    period_to: req.period.end,
                    quantity: 1,
                    unit_price: amount,
                    net: Some(amount),
                    tax_rate_bps: req.tax_rate_bps,
                    key: line_key(
                        req.subscription_id,
                        req.period.start,
                        LineKind::Credit,
                        Some("cancel"),
                    ),
                    usage: None,
                })?)
            };
            Ok(Cancellation {
                ends_on: req.on,
                credit,
            })
        }
    }
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

    fn march() -> BillingPeriod {
        BillingPeriod::new(d(2026, 3, 1), d(2026, 4, 1)).unwrap()
    }

    fn change(on: NaiveDate, old: i64, new: i64) -> PlanChange<'static> {
        PlanChange {
            subscription_id: 42,
            change_ref: "7",
            period: march(),
            on,
            old_label: "Starter",
            old_price: eur(old),
            new_label: "Business",
            new_price: eur(new),
            tax_rate_bps: 2000,
        }
    }

    #[test]
    fn upgrade_mid_period() {
        // 14 of 31 days left: credit 9.95 x 14/31 = 4.49, charge 100.00 x 14/31 = 45.16
        let up = upgrade(&change(d(2026, 3, 18), 995, 10000)).unwrap();
        assert_eq!((up.days_remaining, up.days_in_period), (14, 31));
        assert_eq!(up.credit.kind, LineKind::Credit);
        assert_eq!(
            (up.credit.net, up.credit.tax, up.credit.total),
            (eur(-449), eur(-90), eur(-539))
        );
        assert_eq!(up.charge.kind, LineKind::Proration);
        assert_eq!(
            (up.charge.net, up.charge.tax, up.charge.total),
            (eur(4516), eur(903), eur(5419))
        );
        assert_eq!(up.credit.key, "sub:42/2026-03-01/credit/change:7");
        assert_eq!(up.charge.key, "sub:42/2026-03-01/proration/change:7");
        for l in up.lines() {
            assert_eq!(
                (l.period_from, l.period_to),
                (d(2026, 3, 18), d(2026, 4, 1))
            );
        }
        assert_eq!(
            up.credit.description,
            "Starter: unused 2026-03-18 to 2026-04-01 (14/31 days)"
        );
    }

    #[test]
    fn upgrade_on_the_first_day_swaps_whole_prices() {
        let up = upgrade(&change(d(2026, 3, 1), 995, 10000)).unwrap();
        assert_eq!((up.credit.net, up.charge.net), (eur(-995), eur(10000)));
    }

    #[test]
    fn change_plan_picks_upgrade_or_period_end() {
        match change_plan(&change(d(2026, 3, 18), 995, 10000)).unwrap() {
            ChangeOutcome::Immediate(up) => assert_eq!(up.effective, d(2026, 3, 18)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            change_plan(&change(d(2026, 3, 18), 10000, 995)).unwrap(),
            ChangeOutcome::AtPeriodEnd {
                effective: d(2026, 4, 1)
            }
        );
        assert_eq!(
            change_plan(&change(d(2026, 3, 18), 995, 995)).unwrap(),
            ChangeOutcome::AtPeriodEnd {
                effective: d(2026, 4, 1)
            }
        );
        assert_eq!(downgrade(&march(), d(2026, 3, 31)).unwrap(), d(2026, 4, 1));
        assert!(downgrade(&march(), d(2026, 4, 1)).is_err());
        assert!(upgrade(&change(d(2026, 2, 28), 995, 10000)).is_err());
        let mut mixed = change(d(2026, 3, 18), 995, 10000);
        mixed.new_price = Money::new(10000, Currency::from_code("USD").unwrap());
        assert!(matches!(
            change_plan(&mixed),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
    }

    fn cancel_req(on: NaiveDate, when: CancelWhen) -> CancelRequest<'static> {
        CancelRequest {
            subscription_id: 42,
            period: march(),
            on,
            label: "Business",
            price: eur(10000),
            tax_rate_bps: 2000,
            when,
        }
    }

    #[test]
    fn cancellations() {
        let c = cancel(&cancel_req(d(2026, 3, 18), CancelWhen::AtPeriodEnd)).unwrap();
        assert_eq!(
            c,
            Cancellation {
                ends_on: d(2026, 4, 1),
                credit: None
            }
        );
        let c = cancel(&cancel_req(d(2026, 3, 18), CancelWhen::Immediately)).unwrap();
        assert_eq!(c.ends_on, d(2026, 3, 18));
        let credit = c.credit.unwrap();
        assert_eq!(
            (credit.net, credit.tax, credit.total),
            (eur(-4516), eur(-903), eur(-5419))
        );
        assert_eq!(credit.key, "sub:42/2026-03-01/credit/cancel");
        assert!(cancel(&cancel_req(d(2026, 4, 1), CancelWhen::Immediately)).is_err());
        // a free plan cancelled at once: nothing to credit
        let mut free = cancel_req(d(2026, 3, 18), CancelWhen::Immediately);
        free.price = eur(0);
        assert_eq!(cancel(&free).unwrap().credit, None);
    }

    #[test]
    fn changes_in_yen_and_dinar() {
        let jpy = Currency::from_code("JPY").unwrap();
        let mut c = change(d(2026, 3, 18), 0, 0);
        c.old_price = Money::new(1000, jpy);
        c.new_price = Money::new(3000, jpy);
        c.tax_rate_bps = 1000;
        let up = upgrade(&c).unwrap();
        // 1000 x 14/31 = 451.6 -> 452; 3000 x 14/31 = 1354.8 -> 1355
        assert_eq!((up.credit.net.minor, up.charge.net.minor), (-452, 1355));
        assert_eq!((up.credit.tax.minor, up.charge.tax.minor), (-45, 136)); // 45.2, 135.5
        let kwd = Currency::from_code("KWD").unwrap();
        c.old_price = Money::new(9950, kwd);
        c.new_price = Money::new(19950, kwd);
        let up = upgrade(&c).unwrap();
        assert_eq!((up.credit.net.minor, up.charge.net.minor), (-4494, 9010)); // 4493.55, 9009.68
    }

    proptest! {
        #[test]
        fn same_price_change_nets_to_zero(
            price in 0i64..1_000_000_000,
            offset in 0i64..31,
            rate in 0u32..=10_000,
        ) {
            let mut c = change(d(2026, 3, 1) + chrono::Duration::days(offset), price, price);
            c.tax_rate_bps = rate;
            let up = upgrade(&c).unwrap();
            prop_assert_eq!(up.credit.net.checked_add(up.charge.net).unwrap().minor, 0);
            prop_assert_eq!(up.credit.tax.checked_add(up.charge.tax).unwrap().minor, 0);
            prop_assert_eq!(up.credit.total.checked_add(up.charge.total).unwrap().minor, 0);
        }

        #[test]
        fn upgrade_costs_the_price_difference_within_rounding(
            old in 0i64..1_000_000_000,
            extra in 0i64..1_000_000_000,
            offset in 0i64..31,
        ) {
            let on = d(2026, 3, 1) + chrono::Duration::days(offset);
            let up = upgrade(&change(on, old, old + extra)).unwrap();
            let net = up.credit.net.minor + up.charge.net.minor;
            let exact = i128::from(extra) * i128::from(up.days_remaining);
            let err = (i128::from(net) * 31 - exact).abs();
            // two roundings of at most half a unit each
            prop_assert!(err <= 31);
        }
    }
}
