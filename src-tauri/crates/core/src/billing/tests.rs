//! Properties and a scenario across the billing modules.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::catalog::{Period, Resource};
use crate::{Currency, Money};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn cur(c: &str) -> Currency {
    Currency::from_code(c).unwrap()
}

fn any_currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["EUR", "JPY", "KWD", "USD"]).prop_map(cur)
}

fn any_rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(vec![0u32, 550, 770, 1700, 1900, 2000, 2100, 2550, 2700]),
        0u32..=10_000,
    ]
}

fn any_kind() -> impl Strategy<Value = LineKind> {
    prop::sample::select(LineKind::ALL.to_vec())
}

/// Random lines of one currency: (kind, quantity, unit price, rate).
fn any_lines(c: Currency) -> impl Strategy<Value = Vec<LineDraft>> {
    prop::collection::vec(
        (
            any_kind(),
            1i64..1000,
            -10_000_000i64..100_000_000,
            any_rate(),
        ),
        0..20,
    )
    .prop_map(move |specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (kind, qty, unit, rate))| {
                LineDraft::build(LineInput {
                    kind,
                    description: format!("line {i}"),
                    period_from: d(2026, 3, 1),
                    period_to: d(2026, 4, 1),
                    quantity: qty,
                    unit_price: Money::new(unit, c),
                    net: None,
                    tax_rate_bps: rate,
                    key: line_key(i as i64, d(2026, 3, 1), kind, None),
                    usage: None,
                })
                .unwrap()
            })
            .collect()
    })
}

fn currency_and_lines() -> impl Strategy<Value = (Currency, Vec<LineDraft>)> {
    any_currency().prop_flat_map(|c| (Just(c), any_lines(c)))
}

proptest! {
    #[test]
    fn invoice_total_is_the_sum_of_line_totals((c, lines) in currency_and_lines()) {
        for l in &lines {
            prop_assert_eq!(l.net.checked_add(l.tax).unwrap(), l.total);
            prop_assert_eq!(l.tax, tax_on(l.net, l.tax_rate_bps).unwrap());
        }
        let inv = InvoiceDraft::build(1, d(2026, 4, 1), c, lines.clone(), vec![]).unwrap();
        let t = inv.totals();
        prop_assert_eq!(t.total.minor, lines.iter().map(|l| l.total.minor).sum::<i64>());
        prop_assert_eq!(t.net.minor, lines.iter().map(|l| l.net.minor).sum::<i64>());
        prop_assert_eq!(t.tax.minor, lines.iter().map(|l| l.tax.minor).sum::<i64>());
        prop_assert_eq!(t.net.checked_add(t.tax).unwrap(), t.total);
        // the breakdown adds up to the totals too
        prop_assert_eq!(t.by_rate.iter().map(|r| r.total.minor).sum::<i64>(), t.total.minor);
        prop_assert_eq!(t.by_rate.iter().map(|r| r.tax.minor).sum::<i64>(), t.tax.minor);
    }

    #[test]
    fn credit_notes_never_exceed_the_original(
        (c, lines) in currency_and_lines(),
        // a sequence of (line index, amount tried) credit attempts
        attempts in prop::collection::vec((0usize..20, 1i64..200_000_000, any::<bool>()), 1..40),
    ) {
        let mut issued: Vec<CreditableLine> = lines
            .into_iter()
            .filter(|l| l.net.minor > 0)
            .map(CreditableLine::new)
            .collect();
        prop_assume!(!issued.is_empty());
        for (n, (idx, amount, whole)) in attempts.into_iter().enumerate() {
            let i = idx % issued.len();
            let request = CreditRequest {
                line_key: issued[i].line.key.clone(),
                amount: if whole { CreditAmount::Remaining } else { CreditAmount::Net(Money::new(amount, c)) },
            };
            let remaining = issued[i].line.net.minor - issued[i].credited_net.minor;
            match draft_credit_note("INV-1", &format!("cn{n}"), &issued, &[request]) {
                Ok(note) => {
                    let l = &note.lines[0];
                    prop_assert!(l.line.net.minor < 0 && -l.line.net.minor <= remaining);
                    prop_assert!(l.line.tax.minor <= 0);
                    prop_assert_eq!(l.line.net.checked_add(l.line.tax).unwrap(), l.line.total);
                    prop_assert_eq!(l.line.tax_rate_bps, issued[i].line.tax_rate_bps);
                    prop_assert_eq!(note.totals.total, l.line.total);
                    issued[i].credited_net = l.credited_net_after;
                    issued[i].credited_tax = l.credited_tax_after;
                }
                Err(_) => {
                    // refused only when asking for more than remains, or when nothing remains
                    prop_assert!(remaining == 0 || (!whole && amount > remaining));
                }
            }
            let o = &issued[i];
            prop_assert!(o.credited_net.minor <= o.line.net.minor);
            prop_assert!(o.credited_tax.minor <= o.line.tax.minor);
            prop_assert!(o.credited_net.minor >= 0 && o.credited_tax.minor >= 0);
            // fully credited lines have their tax fully credited too
            if o.credited_net == o.line.net {
                prop_assert_eq!(o.credited_tax, o.line.tax);
            }
        }
    }

    #[test]
    fn a_full_credit_note_cancels_the_invoice((c, lines) in currency_and_lines()) {
        let positive: Vec<LineDraft> = lines.into_iter().filter(|l| l.net.minor > 0).collect();
        prop_assume!(!positive.is_empty());
        let inv = InvoiceDraft::build(1, d(2026, 4, 1), c, positive.clone(), vec![]).unwrap();
        let issued: Vec<CreditableLine> = positive.into_iter().map(CreditableLine::new).collect();
        let requests: Vec<CreditRequest> = issued
            .iter()
            .map(|l| CreditRequest { line_key: l.line.key.clone(), amount: CreditAmount::Remaining })
            .collect();
        let note = draft_credit_note("INV-1", "all", &issued, &requests).unwrap();
        prop_assert_eq!(note.totals.total.minor, -inv.totals().total.minor);
        prop_assert_eq!(note.totals.tax.minor, -inv.totals().tax.minor);
        prop_assert_eq!(note.totals.by_rate.len(), inv.totals().by_rate.len());
    }

    #[test]
    fn prorating_any_whole_period_is_the_price(
        price in -1_000_000_000_000i64..1_000_000_000_000,
        c in any_currency(),
        anchor in 1u32..=31,
        phase in 1u32..=12,
        period in prop::sample::select(vec![Period::Month, Period::Quarter, Period::Year]),
        offset in 0i64..40_000,
    ) {
        let cycle = BillingCycle::new(anchor, period, phase).unwrap();
        let date = d(1990, 1, 1) + chrono::Duration::days(offset);
        let p = cycle.period_containing(date).unwrap();
        prop_assert!(p.contains(date));
        let whole = prorate_from(Money::new(price, c), &p, p.start).unwrap();
        prop_assert_eq!(whole.amount, Money::new(price, c));
        // consecutive periods tile the calendar
        let next = cycle.next_period(&p).unwrap();
        prop_assert_eq!(next.start, p.end);
        prop_assert_eq!(cycle.period_containing(p.end).unwrap(), next);
        // and never drift: every start is the anchor clamped to its month
        use chrono::Datelike;
        let last = crate::period::last_day_of_month(next.start.year(), next.start.month()).unwrap();
        prop_assert_eq!(next.start.day(), anchor.min(last));
    }

    #[test]
    fn same_price_upgrade_nets_to_zero(
        price in 0i64..1_000_000_000_000,
        c in any_currency(),
        anchor in 1u32..=31,
        offset in 0i64..40_000,
        into in 0i64..400,
        rate in any_rate(),
    ) {
        let cycle = BillingCycle::monthly(anchor).unwrap();
        let p = cycle.period_containing(d(1990, 1, 1) + chrono::Duration::days(offset)).unwrap();
        let on = p.start + chrono::Duration::days(into % p.days());
        let up = upgrade(&PlanChange {
            subscription_id: 1,
            change_ref: "x",
            period: p,
            on,
            old_label: "A",
            old_price: Money::new(price, c),
            new_label: "B",
            new_price: Money::new(price, c),
            tax_rate_bps: rate,
        })
        .unwrap();
        prop_assert_eq!(up.credit.total.checked_add(up.charge.total).unwrap(), Money::zero(c));
        prop_assert_eq!(up.credit.net.checked_add(up.charge.net).unwrap(), Money::zero(c));
    }
}

/// A month of a client's life, end to end: order, usage, upgrade, invoice, credit note, payment.
#[test]
fn scenario_a_client_in_paris() {
    let eur = cur("EUR");
    let paris: Tz = "Europe/Paris".parse().unwrap();
    // Ordered at 23:30 UTC on March 28, already March 29 in Paris; anchor day 1.
    let ordered_at: DateTime<Utc> = "2026-03-28T23:30:00Z".parse().unwrap();
    let order_date = local_date(ordered_at, paris);
    assert_eq!(order_date, d(2026, 3, 29));
    let tax = decide_tax(
        "FR",
        &Buyer {
            country: "FR",
            is_business: false,
            tax_id: None,
        },
    )
    .unwrap();
    assert_eq!(tax.rate_bps, 2000);

    let fc = first_charge(order_date, 1, Period::Month, Money::new(2990, eur)).unwrap();
    assert_eq!(
        (fc.from, fc.to, fc.days, fc.days_in_period),
        (d(2026, 3, 29), d(2026, 4, 1), 3, 31)
    );
    assert_eq!(fc.amount, Money::new(289, eur)); // 29.90 x 3/31 = 2.8935..
    let first =
        first_charge_line(42, &fc, "Business", Money::new(2990, eur), tax.rate_bps).unwrap();

    // April: the recurring line, disk usage over quota, and an upgrade on April 18.
    let april = fc.cycle.period_containing(fc.to).unwrap();
    let rec = recurring_line(42, &april, "Business", Money::new(2990, eur), tax.rate_bps).unwrap();
    let disk = UsageRate {
        resource: Resource::DiskMb,
        fee: Money::new(500, eur),
        quota: Some(10_000),
        overage_unit_price: Money::new(1, eur),
    };
    let usage = usage_lines(42, &april, &disk, 10_250, tax.rate_bps).unwrap();
    let up = upgrade(&PlanChange {
        subscription_id: 42,
        change_ref: "1",
        period: april,
        on: d(2026, 4, 18),
        old_label: "Business",
        old_price: Money::new(2990, eur),
        new_label: "Enterprise",
        new_price: Money::new(9990, eur),
        tax_rate_bps: tax.rate_bps,
    })
    .unwrap();
    assert_eq!((up.days_remaining, up.days_in_period), (13, 30));

    let mut candidates = vec![first, rec];
    candidates.extend(usage);
    candidates.extend([up.credit.clone(), up.charge.clone()]);
    let mut inv = InvoiceDraft::build(
        7,
        april.start,
        eur,
        candidates.clone(),
        tax.note().map(str::to_string).into_iter().collect(),
    )
    .unwrap();
    // a re-run adds nothing
    assert!(inv.add_missing(candidates).unwrap().is_empty());
    let t = inv.totals().clone();
    let sum: i64 = inv.lines().iter().map(|l| l.total.minor).sum();
    assert_eq!(t.total.minor, sum);
    // 2.89 + 29.90 + 5.00 + 2.50 - 12.96 + 43.29 = 70.62 net
    assert_eq!(t.net, Money::new(289 + 2990 + 500 + 250 - 1296 + 4329, eur));
    assert_eq!(
        format_issue_number("INV-{YYYY}-{SEQ:6}", 2026, 123).unwrap(),
        "INV-2026-000123"
    );

    // Credit the disk overage in full, then pay.
    let issued: Vec<CreditableLine> = inv
        .lines()
        .iter()
        .cloned()
        .map(CreditableLine::new)
        .collect();
    let overage_key = line_key(42, april.start, LineKind::Overage, Some("disk_mb"));
    let note = draft_credit_note(
        "INV-2026-000123",
        "cn1",
        &issued,
        &[CreditRequest {
            line_key: overage_key,
            amount: CreditAmount::Remaining,
        }],
    )
    .unwrap();
    assert_eq!(note.totals.total, Money::new(-300, eur));
    let due = t.total.checked_add(note.totals.total).unwrap();
    let paid = allocate_payment(due, Money::zero(eur), Money::new(10_000, eur)).unwrap();
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert_eq!(paid.overpayment.minor, 10_000 - due.minor);
    let next =
        apply_client_credit(Money::new(11_988, eur), Money::zero(eur), paid.overpayment).unwrap();
    assert_eq!(next.applied, paid.overpayment);
    assert_eq!(next.status, PaymentStatus::PartiallyPaid);
}
