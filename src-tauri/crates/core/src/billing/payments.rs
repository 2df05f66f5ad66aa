//! Allocating money to an invoice: a payment (any overpayment becomes client credit) or the
//! client's credit balance. An invoice never holds more than its total: what is paid on it is
//! between 0 and the total.

use serde::Serialize;

use super::invalid;
use crate::{CoreError, Money};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Unpaid,
    PartiallyPaid,
    Paid,
}

/// The status of an invoice of `total` on which `paid` has been allocated.
pub fn payment_status(total: Money, paid: Money) -> Result<PaymentStatus, CoreError> {
    check_invoice(total, paid)?;
    Ok(if paid == total {
        PaymentStatus::Paid
    } else if paid.minor == 0 {
        PaymentStatus::Unpaid
    } else {
        PaymentStatus::PartiallyPaid
    })
}

fn check_invoice(total: Money, paid: Money) -> Result<(), CoreError> {
    // Same currency, checked through the subtraction.
    let due = total.checked_sub(paid)?;
    if total.minor < 0 {
        return Err(invalid(
            "total",
            "an invoice with a negative total is settled by crediting the client, not by a payment",
        ));
    }
    if paid.minor < 0 || due.minor < 0 {
        return Err(invalid(
            "paid",
            format!(
                "{} paid does not fit an invoice of {}",
                paid.amount_string(),
                total.amount_string()
            ),
        ));
    }
    Ok(())
}

/// Where a payment went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAllocation {
    /// Allocated to the invoice.
    pub applied: Money,
    /// Beyond what was due: becomes client credit.
    pub overpayment: Money,
    pub paid_after: Money,
    pub balance_due: Money,
    pub status: PaymentStatus,
}

/// Allocates `payment` (positive) to an invoice of `total` on which `prior_paid` was allocated.
pub fn allocate_payment(
    total: Money,
    prior_paid: Money,
    payment: Money,
) -> Result<PaymentAllocation, CoreError> {
    check_invoice(total, prior_paid)?;
    if payment.minor <= 0 {
        return Err(invalid(
            "payment",
            format!("{} is not a positive payment", payment.amount_string()),
        ));
    }
    let (applied, rest, paid_after, due) = allocate(total, prior_paid, payment)?;
    Ok(PaymentAllocation {
        applied,
        overpayment: rest,
        paid_after,
        balance_due: due,
        status: payment_status(total, paid_after)?,
    })
}

/// Where a client credit balance went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditApplication {
    pub applied: Money,
    pub credit_left: Money,
    pub paid_after: Money,
    pub balance_due: Money,
    pub status: PaymentStatus,
}

/// Applies the client's `credit_balance` (0 or more) to an invoice of `total` on which
/// `prior_paid` was allocated: as much as is due, the rest stays on the client's balance.
pub fn apply_client_credit(
    total: Money,
    prior_paid: Money,
    credit_balance: Money,
) -> Result<CreditApplication, CoreError> {
    check_invoice(total, prior_paid)?;
    if credit_balance.minor < 0 {
        return Err(invalid(
            "creditBalance",
            format!("{} is not a credit balance", credit_balance.amount_string()),
        ));
    }
    let (applied, rest, paid_after, due) = allocate(total, prior_paid, credit_balance)?;
    Ok(CreditApplication {
        applied,
        credit_left: rest,
        paid_after,
        balance_due: due,
        status: payment_status(total, paid_after)?,
    })
}

/// (applied, rest, paid after, due after)
fn allocate(
    total: Money,
    prior_paid: Money,
    amount: Money,
) -> Result<(Money, Money, Money, Money), CoreError> {
    let due = total.checked_sub(prior_paid)?;
    let applied = if amount.checked_sub(due)?.minor > 0 {
        due
    } else {
        amount
    };
    let rest = amount.checked_sub(applied)?;
    let paid_after = prior_paid.checked_add(applied)?;
    Ok((applied, rest, paid_after, total.checked_sub(paid_after)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    #[test]
    fn payments_examples() {
        use PaymentStatus::*;
        // (total, prior, payment, applied, overpayment, due, status)
        let table = [
            (10000, 0, 10000, 10000, 0, 0, Paid),
            (10000, 0, 4000, 4000, 0, 6000, PartiallyPaid),
            (10000, 4000, 6000, 6000, 0, 0, Paid),
            (10000, 4000, 7000, 6000, 1000, 0, Paid),
            (10000, 10000, 500, 0, 500, 0, Paid),
            (0, 0, 500, 0, 500, 0, Paid),
        ];
        for (total, prior, pay, applied, over, due, status) in table {
            let a = allocate_payment(eur(total), eur(prior), eur(pay)).unwrap();
            assert_eq!(
                (
                    a.applied.minor,
                    a.overpayment.minor,
                    a.balance_due.minor,
                    a.status
                ),
                (applied, over, due, status),
                "{total} {prior} {pay}"
            );
            assert_eq!(a.paid_after.minor, prior + applied);
        }
        assert_eq!(payment_status(eur(10000), eur(0)).unwrap(), Unpaid);
        assert_eq!(payment_status(eur(0), eur(0)).unwrap(), Paid);
    }

    #[test]
    fn client_credit_examples() {
        let a = apply_client_credit(eur(10000), eur(0), eur(2500)).unwrap();
        assert_eq!(
            (a.applied, a.credit_left, a.balance_due),
            (eur(2500), eur(0), eur(7500))
        );
        assert_eq!(a.status, PaymentStatus::PartiallyPaid);
        let a = apply_client_credit(eur(10000), eur(2000), eur(9000)).unwrap();
        assert_eq!(
            (a.applied, a.credit_left, a.balance_due),
            (eur(8000), eur(1000), eur(0))
        );
        assert_eq!(a.status, PaymentStatus::Paid);
        let a = apply_client_credit(eur(10000), eur(0), eur(0)).unwrap();
        assert_eq!((a.applied, a.status), (eur(0), PaymentStatus::Unpaid));
    }

    #[test]
    fn refusals() {
        assert!(allocate_payment(eur(100), eur(0), eur(0)).is_err());
        assert!(allocate_payment(eur(100), eur(0), eur(-1)).is_err());
        assert!(allocate_payment(eur(100), eur(101), eur(1)).is_err());
        assert!(allocate_payment(eur(100), eur(-1), eur(1)).is_err());
        assert!(allocate_payment(eur(-100), eur(0), eur(1)).is_err());
        assert!(apply_client_credit(eur(100), eur(0), eur(-1)).is_err());
        let usd = Money::new(1, Currency::from_code("USD").unwrap());
        assert!(matches!(
            allocate_payment(eur(100), eur(0), usd),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
    }

    #[test]
    fn yen_and_dinar() {
        let jpy = Currency::from_code("JPY").unwrap();
        let a = allocate_payment(
            Money::new(2201, jpy),
            Money::new(0, jpy),
            Money::new(3000, jpy),
        )
        .unwrap();
        assert_eq!(a.overpayment, Money::new(799, jpy));
        let kwd = Currency::from_code("KWD").unwrap();
        let a = allocate_payment(
            Money::new(12962, kwd),
            Money::new(0, kwd),
            Money::new(12000, kwd),
        )
        .unwrap();
        assert_eq!(a.balance_due.to_string(), "0.962 KWD");
    }

    proptest! {
        #[test]
        fn money_is_conserved(total in 0i64..1_000_000_000, prior_frac in 0u32..=100, pay in 1i64..2_000_000_000) {
            let prior = total * i64::from(prior_frac) / 100;
            let a = allocate_payment(eur(total), eur(prior), eur(pay)).unwrap();
            prop_assert_eq!(a.applied.minor + a.overpayment.minor, pay);
            prop_assert_eq!(a.paid_after.minor + a.balance_due.minor, total);
            prop_assert!(a.applied.minor >= 0 && a.overpayment.minor >= 0 && a.balance_due.minor >= 0);
            prop_assert_eq!(a.overpayment.minor > 0, prior + pay > total);
        }
    }
}
