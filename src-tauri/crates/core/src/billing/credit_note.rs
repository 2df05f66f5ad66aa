//! Credit notes: corrections of an issued invoice that mirror chosen lines with their stored tax
//! rate. Crediting what remains of a line mirrors its net and tax exactly; a partial credit
//! recomputes the tax per line, half-up, and never takes more tax than remains. Nothing may be
//! credited beyond what remains creditable on the original line.

use std::collections::HashSet;

use serde::Serialize;

use super::invalid;
use super::invoice::{totals, Totals};
use super::line::{same_currency, LineDraft};
use super::tax::tax_on;
use crate::{CoreError, Currency, Money};

/// A line of the issued invoice, with what earlier credit notes already credited on it
/// (as positive amounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditableLine {
    pub line: LineDraft,
    pub credited_net: Money,
    pub credited_tax: Money,
}

impl CreditableLine {
    /// A line nothing has been credited on yet.
    pub fn new(line: LineDraft) -> Self {
        let zero = Money::zero(line.currency());
        CreditableLine {
            line,
            credited_net: zero,
            credited_tax: zero,
        }
    }

    fn remaining(&self) -> Result<(Money, Money), CoreError> {
        Ok((
            self.line.net.checked_sub(self.credited_net)?,
            self.line.tax.checked_sub(self.credited_tax)?,
        ))
    }
}

/// How much of a line to credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditAmount {
    /// Everything that remains (the whole line if nothing was credited yet).
    Remaining,
    /// A positive net amount, at most what remains.
    Net(Money),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRequest {
    /// The key of the original line.
    pub line_key: String,
    pub amount: CreditAmount,
}

/// One line of a credit note (negative), and what the original line has credited after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteLine {
    /// The key of the original line this credits.
    pub credits_key: String,
    pub line: LineDraft,
    pub credited_net_after: Money,
    pub credited_tax_after: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteDraft {
    pub original_invoice: String,
    pub currency: Currency,
    pub lines: Vec<CreditNoteLine>,
    /// Negative sums.
    pub totals: Totals,
}

/// Drafts a credit note against the issued invoice `original_number`, whose lines are
/// `original`. `credit_ref` (e.g. the credit note draft's id) makes the new line keys unique:
/// `ORIGINAL_KEY/credit:REF`.
pub fn draft_credit_note(
    original_number: &str,
    credit_ref: &str,
    original: &[CreditableLine],
    requests: &[CreditRequest],
) -> Result<CreditNoteDraft, CoreError> {
    let Some(first) = original.first() else {
        return Err(invalid("original", "the original invoice has no lines"));
    };
    if requests.is_empty() {
        return Err(invalid("lines", "choose at least one line to credit"));
    }
    let currency = first.line.currency();
    let mut asked = HashSet::new();
    let mut lines = Vec::with_capacity(requests.len());
    for req in requests {
        if !asked.insert(req.line_key.as_str()) {
            return Err(invalid(
                "lines",
                format!("the line {} is chosen twice", req.line_key),
            ));
        }
        let Some(orig) = original.iter().find(|o| o.line.key == req.line_key) else {
            return Err(invalid(
                "lines",
                format!("{original_number} has no line {}", req.line_key),
            ));
        };
        lines.push(credit_line(
            original_number,
            credit_ref,
            currency,
            orig,
            req.amount,
        )?);
    }
    let credit_lines: Vec<LineDraft> = lines.iter().map(|l| l.line.clone()).collect();
    Ok(CreditNoteDraft {
        original_invoice: original_number.to_string(),
        currency,
        totals: totals(currency, &credit_lines)?,
        lines,
    })
}

fn credit_line(
    number: &str,
    credit_ref: &str,
    currency: Currency,
    orig: &CreditableLine,
    amount: CreditAmount,
) -> Result<CreditNoteLine, CoreError> {
    let line = &orig.line;
    let field = |m: String| invalid("lines", format!("{number}, line {}: {m}", line.key));
    same_currency(currency, line.currency())?;
    same_currency(currency, orig.credited_net.currency)?;
    same_currency(currency, orig.credited_tax.currency)?;
    line.verify()?;
    if line.net.minor <= 0 {
        return Err(field(
            "only a charge can be credited, not a credit or a zero line".into(),
        ));
    }
    let (rem_net, rem_tax) = orig.remaining()?;
    if orig.credited_net.minor < 0
        || orig.credited_tax.minor < 0
        || rem_net.minor < 0
        || rem_tax.minor < 0
    {
        return Err(field(
            "the amounts already credited are inconsistent".into(),
        ));
    }
    let (net, tax) = match amount {
        CreditAmount::Remaining => {
            if rem_net.minor == 0 {
                return Err(field("it has already been credited in full".into()));
            }
            (rem_net, rem_tax)
        }
        CreditAmount::Net(m) => {
            same_currency(currency, m.currency)?;
            if m.minor <= 0 {
                return Err(field(format!(
                    "{} is not a positive amount to credit",
                    m.amount_string()
                )));
            }
            if m.minor > rem_net.minor {
                return Err(field(format!(
                    "{} is more than the {} that remains creditable",
                    m.amount_string(),
                    rem_net.amount_string()
                )));
            }
            if m == rem_net {
                (rem_net, rem_tax)
            } else {
                let tax = tax_on(m, line.tax_rate_bps)?;
                (
                    m,
                    if tax.minor > rem_tax.minor {
                        rem_tax
                    } else {
                        tax
                    },
                )
            }
        }
    };
    let zero = Money::zero(currency);
    let neg_net = zero.checked_sub(net)?;
    let neg_tax = zero.checked_sub(tax)?;
    let whole_line = net == line.net;
    let (quantity, unit_price) =
        if whole_line && line.unit_price.checked_mul(line.quantity)? == line.net {
            (line.quantity, zero.checked_sub(line.unit_price)?)
        } else {
            (1, neg_net)
        };
    let credit = LineDraft {
        kind: line.kind,
        description: format!("Credit on {number}: {}", line.description),
        period_from: line.period_from,
        period_to: line.period_to,
        quantity,
        unit_price,
        net: neg_net,
        tax_rate_bps: line.tax_rate_bps,
        tax: neg_tax,
        total: neg_net.checked_add(neg_tax)?,
        key: format!("{}/credit:{credit_ref}", line.key),
        usage: line.usage,
    };
    credit.verify()?;
    Ok(CreditNoteLine {
        credits_key: line.key.clone(),
        line: credit,
        credited_net_after: orig.credited_net.checked_add(net)?,
        credited_tax_after: orig.credited_tax.checked_add(tax)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::line::{line_key, LineInput, LineKind};
    use chrono::NaiveDate;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("EUR").unwrap())
    }

    fn issued(sub: i64, qty: i64, unit: Money, rate: u32) -> CreditableLine {
        CreditableLine::new(
            LineDraft::build(LineInput {
                kind: LineKind::Recurring,
                description: "Business".into(),
                period_from: d(2026, 3, 1),
                period_to: d(2026, 4, 1),
                quantity: qty,
                unit_price: unit,
                net: None,
                tax_rate_bps: rate,
                key: line_key(sub, d(2026, 3, 1), LineKind::Recurring, None),
                usage: None,
            })
            .unwrap(),
        )
    }

    fn req(line: &CreditableLine, amount: CreditAmount) -> CreditRequest {
        CreditRequest {
            line_key: line.line.key.clone(),
            amount,
        }
    }

    #[test]
    fn full_credit_mirrors_the_line_exactly() {
        let a = issued(1, 3, eur(995), 2000); // 29.85 + 5.97
        let b = issued(2, 1, eur(10000), 550);
        let note = draft_credit_note(
            "INV-2026-000123",
            "cn1",
            &[a.clone(), b.clone()],
            &[req(&a, CreditAmount::Remaining)],
        )
        .unwrap();
        assert_eq!(note.lines.len(), 1);
        let l = &note.lines[0].line;
        assert_eq!((l.quantity, l.unit_price), (3, eur(-995)));
        assert_eq!((l.net, l.tax, l.total), (eur(-2985), eur(-597), eur(-3582)));
        assert_eq!(l.tax_rate_bps, 2000);
        assert_eq!(l.kind, LineKind::Recurring);
        assert_eq!(l.key, "sub:1/2026-03-01/recurring/credit:cn1");
        assert_eq!(l.description, "Credit on INV-2026-000123: Business");
        assert_eq!(note.lines[0].credits_key, a.line.key);
        assert_eq!(note.totals.total, eur(-3582));
        assert_eq!(
            (
                note.lines[0].credited_net_after,
                note.lines[0].credited_tax_after
            ),
            (eur(2985), eur(597))
        );
    }

    #[test]
    fn partial_credits_recompute_tax_and_never_exceed() {
        let mut a = issued(1, 1, eur(1000), 550); // net 10.00, tax 0.55
                                                  // credit 3.33: tax 0.18315 -> 0.18
        let note = draft_credit_note(
            "INV-1",
            "cn1",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Net(eur(333)))],
        )
        .unwrap();
        let l = &note.lines[0];
        assert_eq!(
            (l.line.net, l.line.tax, l.line.quantity),
            (eur(-333), eur(-18), 1)
        );
        a.credited_net = l.credited_net_after;
        a.credited_tax = l.credited_tax_after;
        // more than remains: refused
        let err = draft_credit_note(
            "INV-1",
            "cn2",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Net(eur(668)))],
        )
        .unwrap_err();
        assert!(err.to_string().contains("more than the 6.67"), "{err}");
        // the rest: mirrored exactly, so the sums come back to the original
        let note = draft_credit_note(
            "INV-1",
            "cn2",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Net(eur(667)))],
        )
        .unwrap();
        let l = &note.lines[0];
        assert_eq!((l.line.net, l.line.tax), (eur(-667), eur(-37)));
        assert_eq!(
            (l.credited_net_after, l.credited_tax_after),
            (a.line.net, a.line.tax)
        );
        a.credited_net = l.credited_net_after;
        a.credited_tax = l.credited_tax_after;
        // nothing left
        assert!(draft_credit_note(
            "INV-1",
            "cn3",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Remaining)]
        )
        .is_err());
        assert!(draft_credit_note(
            "INV-1",
            "cn3",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Net(eur(1)))]
        )
        .is_err());
    }

    #[test]
    fn tax_of_tiny_partial_credits_is_capped_by_what_remains() {
        // net 0.03 at 50 %: tax 0.015 -> 0.02. Three credits of 0.01 would each be 0.005 -> 0.01.
        let mut a = issued(1, 1, eur(3), 5000);
        assert_eq!(a.line.tax, eur(2));
        let mut taxes = vec![];
        for i in 0..3 {
            let note = draft_credit_note(
                "INV-1",
                &format!("cn{i}"),
                std::slice::from_ref(&a),
                &[req(&a, CreditAmount::Net(eur(1)))],
            )
            .unwrap();
            let l = &note.lines[0];
            taxes.push(l.line.tax.minor);
            a.credited_net = l.credited_net_after;
            a.credited_tax = l.credited_tax_after;
        }
        assert_eq!(taxes, [-1, -1, 0]);
        assert_eq!((a.credited_net, a.credited_tax), (a.line.net, a.line.tax));
    }

    #[test]
    fn refusals() {
        let a = issued(1, 1, eur(1000), 2000);
        let credit_line = {
            let mut c = issued(2, 1, eur(-500), 2000);
            c.line.kind = LineKind::Credit;
            c
        };
        let all = [a.clone(), credit_line.clone()];
        // nothing chosen, unknown line, a line twice, a credit line, zero or negative amounts
        assert!(draft_credit_note("INV-1", "x", &all, &[]).is_err());
        assert!(draft_credit_note("INV-1", "x", &[], &[req(&a, CreditAmount::Remaining)]).is_err());
        let unknown = CreditRequest {
            line_key: "nope".into(),
            amount: CreditAmount::Remaining,
        };
        assert!(draft_credit_note("INV-1", "x", &all, &[unknown]).is_err());
        assert!(draft_credit_note(
            "INV-1",
            "x",
            &all,
            &[
                req(&a, CreditAmount::Net(eur(1))),
                req(&a, CreditAmount::Net(eur(1)))
            ]
        )
        .is_err());
        assert!(draft_credit_note(
            "INV-1",
            "x",
            &all,
            &[req(&credit_line, CreditAmount::Remaining)]
        )
        .is_err());
        assert!(
            draft_credit_note("INV-1", "x", &all, &[req(&a, CreditAmount::Net(eur(0)))]).is_err()
        );
        assert!(
            draft_credit_note("INV-1", "x", &all, &[req(&a, CreditAmount::Net(eur(-5)))]).is_err()
        );
        let usd = Money::new(5, Currency::from_code("USD").unwrap());
        assert!(matches!(
            draft_credit_note("INV-1", "x", &all, &[req(&a, CreditAmount::Net(usd))]),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
        // already over-credited in the store: refused rather than trusted
        let mut broken = a.clone();
        broken.credited_net = eur(1001);
        assert!(draft_credit_note(
            "INV-1",
            "x",
            &[broken.clone()],
            &[req(&broken, CreditAmount::Remaining)]
        )
        .is_err());
    }

    #[test]
    fn credits_in_yen_and_dinar() {
        let jpy = Currency::from_code("JPY").unwrap();
        let a = issued(1, 1, Money::new(995, jpy), 1000); // tax 99.5 -> 100
        let note = draft_credit_note(
            "INV-1",
            "c",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Net(Money::new(495, jpy)))],
        )
        .unwrap();
        assert_eq!(note.lines[0].line.tax, Money::new(-50, jpy)); // 49.5 -> 50
        let kwd = Currency::from_code("KWD").unwrap();
        let a = issued(1, 1, Money::new(12345, kwd), 500); // tax 617
        let note = draft_credit_note(
            "INV-1",
            "c",
            std::slice::from_ref(&a),
            &[req(&a, CreditAmount::Remaining)],
        )
        .unwrap();
        assert_eq!(note.totals.total, Money::new(-12962, kwd));
    }
}
