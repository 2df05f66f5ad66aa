//! One consolidated invoice draft per client, billing date and currency, and its totals: the
//! sum of line nets, the sum of line taxes, the grand total as the sum of line totals, and a
//! breakdown per tax rate. Lines are never re-taxed at the invoice level.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::Serialize;

use super::invalid;
use super::line::{same_currency, LineDraft};
use crate::{CoreError, Currency, Money};

/// The lines of one tax rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxBreakdown {
    pub rate_bps: u32,
    pub net: Money,
    pub tax: Money,
    pub total: Money,
}

/// Sums of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    /// One row per rate, lowest rate first.
    pub by_rate: Vec<TaxBreakdown>,
}

/// The totals of `lines`, all in `currency`; each line must satisfy `net + tax = total`.
pub fn totals(currency: Currency, lines: &[LineDraft]) -> Result<Totals, CoreError> {
    let zero = Money::zero(currency);
    let (mut net, mut tax, mut total) = (zero, zero, zero);
    let mut by_rate: BTreeMap<u32, TaxBreakdown> = BTreeMap::new();
    for line in lines {
        same_currency(currency, line.currency())?;
        line.verify()?;
        net = net.checked_add(line.net)?;
        tax = tax.checked_add(line.tax)?;
        total = total.checked_add(line.total)?;
        let row = by_rate.entry(line.tax_rate_bps).or_insert(TaxBreakdown {
            rate_bps: line.tax_rate_bps,
            net: zero,
            tax: zero,
            total: zero,
        });
        row.net = row.net.checked_add(line.net)?;
        row.tax = row.tax.checked_add(line.tax)?;
        row.total = row.total.checked_add(line.total)?;
    }
    Ok(Totals {
        net,
        tax,
        total,
        by_rate: by_rate.into_values().collect(),
    })
}

/// The candidates whose key is not among `existing_keys` (nor repeated earlier in the list):
/// what an invoice run, re-run or resumed after a crash, still has to add.
pub fn only_missing<'a>(
    candidates: Vec<LineDraft>,
    existing_keys: impl IntoIterator<Item = &'a str>,
) -> Vec<LineDraft> {
    let mut seen: HashSet<String> = existing_keys.into_iter().map(str::to_string).collect();
    candidates
        .into_iter()
        .filter(|l| seen.insert(l.key.clone()))
        .collect()
}

/// The draft of one client's consolidated invoice on one billing date, in one currency.
/// Its totals are kept in step with its lines. A draft may be empty; issuing one is refused
/// by whoever issues it (see [`InvoiceDraft::is_empty`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDraft {
    client_id: i64,
    billing_date: NaiveDate,
    currency: Currency,
    lines: Vec<LineDraft>,
    notes: Vec<String>,
    totals: Totals,
}

impl InvoiceDraft {
    /// Consolidates `lines` (of any of the client's subscriptions). Every line must be in
    /// `currency` (mixing currencies is an error), consistent, and have a unique key.
    /// `notes` are mentions the invoice must carry (e.g. the reverse charge note).
    pub fn build(
        client_id: i64,
        billing_date: NaiveDate,
        currency: Currency,
        lines: Vec<LineDraft>,
        notes: Vec<String>,
    ) -> Result<InvoiceDraft, CoreError> {
        let mut keys = HashSet::new();
        for line in &lines {
            if !keys.insert(line.key.as_str()) {
                return Err(invalid(
                    "lines",
                    format!("the line key {} appears twice", line.key),
                ));
            }
        }
        let totals = totals(currency, &lines)?;
        let mut notes: Vec<String> = notes
            .into_iter()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        notes.dedup();
        Ok(InvoiceDraft {
            client_id,
            billing_date,
            currency,
            lines,
            notes,
            totals,
        })
    }

    /// Adds the candidates whose key is not on the draft yet; returns the keys added.
    pub fn add_missing(&mut self, candidates: Vec<LineDraft>) -> Result<Vec<String>, CoreError> {
        let new = only_missing(candidates, self.lines.iter().map(|l| l.key.as_str()));
        let mut lines = self.lines.clone();
        lines.extend(new.iter().cloned());
        let totals = totals(self.currency, &lines)?;
        self.lines = lines;
        self.totals = totals;
        Ok(new.into_iter().map(|l| l.key).collect())
    }

    /// Removes the line with `key` from the draft, if it is there.
    pub fn remove_line(&mut self, key: &str) -> Result<Option<LineDraft>, CoreError> {
        let Some(pos) = self.lines.iter().position(|l| l.key == key) else {
            return Ok(None);
        };
        let mut lines = self.lines.clone();
        let removed = lines.remove(pos);
        self.totals = totals(self.currency, &lines)?;
        self.lines = lines;
        Ok(Some(removed))
    }

    pub fn client_id(&self) -> i64 {
        self.client_id
    }

    pub fn billing_date(&self) -> NaiveDate {
        self.billing_date
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    pub fn lines(&self) -> &[LineDraft] {
        &self.lines
    }

    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// The one amount to charge for the invoice.
    pub fn amount_due(&self) -> Money {
        self.totals.total
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::line::{line_key, LineInput, LineKind};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cur(c: &str) -> Currency {
        Currency::from_code(c).unwrap()
    }

    fn line(sub: i64, kind: LineKind, net: Money, rate: u32) -> LineDraft {
        LineDraft::build(LineInput {
            kind,
            description: format!("line {sub}"),
            period_from: d(2026, 3, 1),
            period_to: d(2026, 4, 1),
            quantity: 1,
            unit_price: net,
            net: None,
            tax_rate_bps: rate,
            key: line_key(sub, d(2026, 3, 1), kind, None),
            usage: None,
        })
        .unwrap()
    }

    #[test]
    fn totals_are_sums_of_lines_with_a_breakdown() {
        let eur = cur("EUR");
        let lines = vec![
            line(1, LineKind::Recurring, Money::new(995, eur), 2000),
            line(2, LineKind::Recurring, Money::new(995, eur), 2000),
            line(3, LineKind::Recurring, Money::new(1000, eur), 550),
            line(3, LineKind::Credit, Money::new(-449, eur), 2000),
            line(4, LineKind::Manual, Money::new(333, eur), 0),
        ];
        let inv = InvoiceDraft::build(7, d(2026, 4, 1), eur, lines, vec![]).unwrap();
        let t = inv.totals();
        // taxes per line: 199 + 199 + 55 - 90 + 0
        assert_eq!(t.net, Money::new(995 + 995 + 1000 - 449 + 333, eur));
        assert_eq!(t.tax, Money::new(199 + 199 + 55 - 90, eur));
        assert_eq!(t.total, t.net.checked_add(t.tax).unwrap());
        assert_eq!(inv.amount_due(), t.total);
        let rows: Vec<(u32, i64, i64)> = t
            .by_rate
            .iter()
            .map(|r| (r.rate_bps, r.net.minor, r.tax.minor))
            .collect();
        assert_eq!(rows, [(0, 333, 0), (550, 1000, 55), (2000, 1541, 308)]);
        // per-line rounding: 2 x 9.95 at 20 % is 1.99 + 1.99, not re-taxed as a sum
        assert_eq!(inv.lines().len(), 5);
    }

    #[test]
    fn one_currency_per_invoice() {
        let lines = vec![
            line(1, LineKind::Recurring, Money::new(995, cur("EUR")), 2000),
            line(2, LineKind::Recurring, Money::new(995, cur("USD")), 2000),
        ];
        assert!(matches!(
            InvoiceDraft::build(7, d(2026, 4, 1), cur("EUR"), lines, vec![]),
            Err(CoreError::CurrencyMismatch(_, _))
        ));
        let lines = vec![line(
            1,
            LineKind::Recurring,
            Money::new(995, cur("USD")),
            2000,
        )];
        assert!(InvoiceDraft::build(7, d(2026, 4, 1), cur("EUR"), lines, vec![]).is_err());
    }

    #[test]
    fn keys_are_unique_and_reruns_add_only_what_is_missing() {
        let eur = cur("EUR");
        let a = line(1, LineKind::Recurring, Money::new(995, eur), 2000);
        let b = line(2, LineKind::Recurring, Money::new(500, eur), 2000);
        let c = line(3, LineKind::Recurring, Money::new(700, eur), 2000);
        assert!(
            InvoiceDraft::build(7, d(2026, 4, 1), eur, vec![a.clone(), a.clone()], vec![]).is_err()
        );

        let mut inv = InvoiceDraft::build(7, d(2026, 4, 1), eur, vec![a.clone()], vec![]).unwrap();
        // the run after a crash proposes everything again
        let added = inv
            .add_missing(vec![a.clone(), b.clone(), c.clone(), b.clone()])
            .unwrap();
        assert_eq!(added, [b.key.clone(), c.key.clone()]);
        assert_eq!(inv.lines().len(), 3);
        assert_eq!(inv.totals().net, Money::new(995 + 500 + 700, eur));
        // and a re-run adds nothing
        assert!(inv
            .add_missing(vec![a.clone(), b.clone(), c.clone()])
            .unwrap()
            .is_empty());

        let store_keys = [a.key.as_str(), c.key.as_str()];
        let missing = only_missing(vec![a.clone(), b.clone(), c.clone()], store_keys);
        assert_eq!(missing, std::slice::from_ref(&b));

        assert_eq!(inv.remove_line(&b.key).unwrap(), Some(b.clone()));
        assert_eq!(inv.totals().net, Money::new(995 + 700, eur));
        assert_eq!(inv.remove_line(&b.key).unwrap(), None);
        // a line in another currency cannot sneak in
        let usd = line(9, LineKind::Manual, Money::new(1, cur("USD")), 0);
        assert!(inv.add_missing(vec![usd]).is_err());
        assert_eq!(inv.lines().len(), 2);
    }

    #[test]
    fn inconsistent_lines_are_refused() {
        let eur = cur("EUR");
        let mut bad = line(1, LineKind::Recurring, Money::new(995, eur), 2000);
        bad.tax = Money::new(198, eur);
        assert!(InvoiceDraft::build(7, d(2026, 4, 1), eur, vec![bad], vec![]).is_err());
    }

    #[test]
    fn notes_and_empty_drafts() {
        let eur = cur("EUR");
        let inv = InvoiceDraft::build(
            7,
            d(2026, 4, 1),
            eur,
            vec![],
            vec!["Reverse charge".into(), "Reverse charge".into(), " ".into()],
        )
        .unwrap();
        assert!(inv.is_empty());
        assert_eq!(inv.notes(), ["Reverse charge".to_string()]);
        assert_eq!(inv.totals().total, Money::zero(eur));
        assert!(inv.totals().by_rate.is_empty());
        assert_eq!(
            (inv.client_id(), inv.billing_date(), inv.currency()),
            (7, d(2026, 4, 1), eur)
        );
    }

    #[test]
    fn yen_and_dinar_invoices() {
        let jpy = cur("JPY");
        let lines = vec![
            line(1, LineKind::Recurring, Money::new(995, jpy), 1000),
            line(2, LineKind::Recurring, Money::new(1005, jpy), 1000),
        ];
        let inv = InvoiceDraft::build(1, d(2026, 4, 1), jpy, lines, vec![]).unwrap();
        // 99.5 -> 100 and 100.5 -> 101, per line
        assert_eq!(inv.totals().tax, Money::new(201, jpy));
        assert_eq!(inv.totals().total, Money::new(2201, jpy));
        assert_eq!(inv.totals().total.to_string(), "2201 JPY");
        let kwd = cur("KWD");
        let lines = vec![line(1, LineKind::Recurring, Money::new(12345, kwd), 500)];
        let inv = InvoiceDraft::build(1, d(2026, 4, 1), kwd, lines, vec![]).unwrap();
        assert_eq!(inv.totals().total.to_string(), "12.962 KWD");
    }
}
