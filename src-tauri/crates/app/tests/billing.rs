#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::atomic::AtomicBool;

use hostdesk_app::billing::bill_run::{self, BillRunOptions, BillRunReport};
use hostdesk_app::billing::invoices::{self, CreditLineRequest, InvoiceFilter};
use hostdesk_app::billing::usage;
use hostdesk_app::core::client::ClientDraft;
use hostdesk_app::store::subscriptions::{self as subs, NewSubscription};
use hostdesk_app::{clients, demo, settings, Clock, ErrorCode, Workspace};

const NOV: &str = "2026-11-10T09:00:00Z";

fn ws() -> Workspace {
    let mut ws = Workspace::open_in_memory(Clock::fixed(NOV).unwrap()).unwrap();
    demo::load(&mut ws).unwrap();
    ws
}

fn run(ws: &mut Workspace, now: &str, dry_run: bool) -> BillRunReport {
    ws.set_clock(Clock::fixed(now).unwrap());
    bill_run::run(
        ws,
        &BillRunOptions {
            through: None,
            dry_run,
        },
        &AtomicBool::new(false),
        |_, _| {},
    )
    .unwrap()
}

fn count(ws: &Workspace, sql: &str) -> i64 {
    ws.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_month_later_every_active_subscription_is_billed_once_on_one_invoice_per_client() {
    let mut ws = ws();
    let active = count(
        &ws,
        "SELECT count(*) FROM subscriptions WHERE state = 'active'",
    );
    let clients_active = count(
        &ws,
        "SELECT count(DISTINCT client_id) FROM subscriptions WHERE state = 'active'",
    );
    // nothing is due yet: the demo is billed up to today
    assert_eq!(run(&mut ws, NOV, false).invoices.len(), 0);

    let dry = run(&mut ws, "2027-01-05T09:00:00Z", true);
    assert!(!dry.invoices.is_empty());
    assert_eq!(
        count(&ws, "SELECT count(*) FROM invoices"),
        0,
        "a dry run writes nothing"
    );
    assert_eq!(count(&ws, "SELECT count(*) FROM number_series"), 0);

    // run through Dec 5: every client's December billing day is included once (days 1, 15, 28, 31 → some)
    let r = run(&mut ws, "2026-12-01T12:00:00Z", false);
    let billed_dec1 = r.invoices.len() as i64;
    assert!(billed_dec1 > 0);
    let r = run(&mut ws, "2027-01-01T12:00:00Z", false);
    assert!(!r.invoices.is_empty());
    // each active subscription has exactly one recurring line per period it was billed for
    let per_sub_period = count(&ws, "SELECT max(n) FROM (SELECT count(*) n FROM invoice_lines GROUP BY subscription_id, period_from, kind)");
    assert_eq!(per_sub_period, 1);
    let billed_subs = count(
        &ws,
        "SELECT count(DISTINCT subscription_id) FROM invoice_lines",
    );
    assert_eq!(billed_subs, active);
    // one invoice per client per billing date
    let dup = count(&ws, "SELECT count(*) FROM (SELECT client_id, billing_date, count(*) n FROM invoices GROUP BY 1, 2 HAVING n > 1)");
    assert_eq!(dup, 0);
    assert!(count(&ws, "SELECT count(DISTINCT client_id) FROM invoices") <= clients_active);
    // a second run adds nothing
    let again = run(&mut ws, "2027-01-01T12:00:00Z", false);
    assert_eq!((again.invoices.len(), again.lines), (0, 0));
    // numbers are gapless: 1..N
    let n = count(
        &ws,
        "SELECT count(*) FROM invoices WHERE number IS NOT NULL",
    );
    let max: String = ws
        .conn()
        .query_row("SELECT max(number) FROM invoices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        max,
        format!(
            "INV-2027-{:06}",
            count(
                &ws,
                "SELECT count(*) FROM invoices WHERE number LIKE 'INV-2027-%'"
            )
        )
    );
    assert_eq!(n, count(&ws, "SELECT count(DISTINCT number) FROM invoices"));
    // total = sum of lines, line total = net + tax
    assert_eq!(count(&ws, "SELECT count(*) FROM invoices i WHERE total_minor <> (SELECT sum(total_minor) FROM invoice_lines WHERE invoice_id = i.id)"), 0);
}

#[test]
fn issued_invoices_are_immutable() {
    let mut ws = ws();
    run(&mut ws, "2026-12-02T09:00:00Z", false);
    let e = ws
        .conn()
        .execute("UPDATE invoice_lines SET net_minor = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("immutable"), "{e}");
    let e = ws
        .conn()
        .execute("UPDATE invoices SET total_minor = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("immutable"), "{e}");
    let e = ws.conn().execute("DELETE FROM invoices", []).unwrap_err();
    assert!(e.to_string().contains("never deleted"), "{e}");
}

fn client(
    ws: &mut Workspace,
    name: &str,
    country: &str,
    company: bool,
    tax_id: &str,
    currency: &str,
) -> i64 {
    let id = clients::add(
        ws,
        &ClientDraft {
            kind: Some(if company { "company" } else { "person" }.parse().unwrap()),
            name: name.into(),
            email: "x@example.com".into(),
            country: country.into(),
            tax_id: tax_id.into(),
            currency: currency.into(),
            timezone: "Europe/Berlin".into(),
            billing_day: Some(1),
            ..Default::default()
        },
        &[],
    )
    .unwrap();
    let product: i64 = ws
        .conn()
        .query_row(
            "SELECT id FROM products WHERE code = 'drupal-site'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let price = if currency == "JPY" { 1500 } else { 995 };
    let sub = ws
        .write(|tx, ctx| {
            Ok(subs::insert(
                tx,
                &NewSubscription {
                    client_id: id,
                    product_id: product,
                    kit_id: None,
                    tier_id: None,
                    currency,
                    period: "month",
                    price_minor: price,
                    state: "active",
                    anchor_day: 1,
                    started_on: "2026-11-01",
                    next_due_on: Some("2026-12-01"),
                    expires_on: None,
                    choices: &[],
                    quotas: &[],
                },
                &ctx.at,
            )?)
        })
        .unwrap();
    let _ = sub;
    id
}

fn invoice_of(ws: &Workspace, client_id: i64) -> invoices::InvoiceDetail {
    let list = invoices::list(
        ws,
        &InvoiceFilter {
            client_id: Some(client_id),
            ..Default::default()
        },
    )
    .unwrap();
    invoices::show(ws, &list[0].invoice.id.to_string()).unwrap()
}

#[test]
fn vat_follows_the_buyer_domestic_reverse_charge_and_outside_the_eu() {
    let mut ws = ws();
    let fr = client(&mut ws, "Client FR", "FR", false, "", "EUR");
    let de = client(&mut ws, "Kunde GmbH", "DE", true, "DE123456789", "EUR");
    let us = client(&mut ws, "US Corp", "US", true, "", "USD");
    let jp = client(&mut ws, "Tokyo KK", "JP", true, "", "JPY");
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let f = invoice_of(&ws, fr);
    assert_eq!(
        (
            f.lines[0].tax_rate_bps,
            f.lines[0].tax_minor,
            f.view.total.as_str()
        ),
        (2000, 199, "11.94")
    );
    let d = invoice_of(&ws, de);
    assert_eq!(d.lines[0].tax_minor, 0);
    assert!(
        d.view.invoice.notes[0].contains("Reverse charge"),
        "{:?}",
        d.view.invoice.notes
    );
    let u = invoice_of(&ws, us);
    assert_eq!(u.lines[0].tax_minor, 0);
    let j = invoice_of(&ws, jp);
    assert_eq!(j.view.total, "1500", "a zero-decimal currency");
}

#[test]
fn usage_beyond_the_quota_is_billed_in_arrears_with_the_rate_frozen() {
    let mut ws = ws();
    let id = client(&mut ws, "Usage Co", "FR", false, "", "EUR");
    let sub: i64 = ws
        .conn()
        .query_row(
            "SELECT id FROM subscriptions WHERE client_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    usage::set_rate(&mut ws, sub, "users", Some(10), "5.00", "1.00").unwrap();
    usage::record(&mut ws, sub, "users", 12, Some("2026-11-15T10:00:00Z")).unwrap();
    usage::record(&mut ws, sub, "users", 14, Some("2026-11-20T10:00:00Z")).unwrap();
    assert!(
        !usage::record(&mut ws, sub, "users", 14, Some("2026-11-20T10:00:00Z")).unwrap(),
        "recorded once"
    );
    assert_eq!(
        usage::record(&mut ws, sub, "users", -1, None)
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
    assert_eq!(
        usage::record(&mut ws, sub, "cpu", 1, None)
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let inv = invoice_of(&ws, id);
    let kinds: Vec<(&str, i64, i64)> = inv
        .lines
        .iter()
        .map(|l| (l.kind.as_str(), l.quantity, l.net_minor))
        .collect();
    // recurring 9.95, fee A = 5.00, overage (14 - 10) x 1.00 = 4.00
    assert_eq!(
        kinds,
        [
            ("recurring", 1, 995),
            ("usage", 1, 500),
            ("overage", 4, 400)
        ]
    );
    let facts: serde_json::Value =
        serde_json::from_str(inv.lines[2].facts.as_deref().unwrap()).unwrap();
    assert_eq!(
        (facts["quota"].as_i64(), facts["used"].as_i64()),
        (Some(10), Some(14))
    );
}

#[test]
fn payments_partial_over_and_credit_applied_to_the_next_invoice() {
    let mut ws = ws();
    let id = client(&mut ws, "Payer", "FR", false, "", "EUR");
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let number = invoice_of(&ws, id).view.invoice.number.unwrap();
    let p = invoices::record_payment(&mut ws, &number, "5.00", "TRF-1").unwrap();
    assert_eq!(
        (p.status.as_str(), p.balance.as_str()),
        ("partially_paid", "6.94")
    );
    assert_eq!(
        invoices::record_payment(&mut ws, &number, "5.00", "TRF-1")
            .unwrap_err()
            .code,
        ErrorCode::Conflict,
        "same reference twice"
    );
    let p = invoices::record_payment(&mut ws, &number, "10.00", "TRF-2").unwrap();
    assert_eq!(
        (p.status.as_str(), p.overpayment.as_str()),
        ("paid", "3.06")
    );
    // the credit pays part of January's invoice
    run(&mut ws, "2027-01-01T12:00:00Z", false);
    let jan = invoices::list(
        &ws,
        &InvoiceFilter {
            client_id: Some(id),
            ..Default::default()
        },
    )
    .unwrap();
    let jan = &jan[0];
    assert_eq!(
        (
            jan.invoice.status.as_str(),
            jan.paid.as_str(),
            jan.balance.as_str()
        ),
        ("partially_paid", "3.06", "8.88")
    );
    assert_eq!(
        invoices::void(&mut ws, &number).unwrap_err().code,
        ErrorCode::Conflict,
        "a paid invoice is not void"
    );
}

#[test]
fn credit_notes_mirror_lines_and_never_exceed_the_original() {
    let mut ws = ws();
    let id = client(&mut ws, "Credit", "FR", false, "", "EUR");
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let inv = invoice_of(&ws, id);
    let number = inv.view.invoice.number.clone().unwrap();
    let key = inv.lines[0].key.clone();
    let part = invoices::credit_note(
        &mut ws,
        &number,
        "goodwill",
        &[CreditLineRequest {
            line_key: key.clone(),
            amount: Some("2.00".into()),
        }],
        false,
    )
    .unwrap();
    // Unpaid: the credit settles part of what is due.
    assert_eq!(
        (
            part.settlement.applied.as_str(),
            part.settlement.to_credit.as_str()
        ),
        ("2.40", "0.00")
    );
    let part = part.note;
    assert_eq!(
        (part.net_minor, part.tax_minor, part.total_minor),
        (-200, -40, -240)
    );
    assert!(part.number.starts_with("CN-2026-"));
    let after = invoices::show(&ws, &number).unwrap();
    assert_eq!(
        (
            after.view.invoice.status.as_str(),
            after.view.invoice.paid_minor
        ),
        ("partially_paid", 240)
    );
    assert_eq!(after.payments[0].method, "credit");
    assert_eq!(
        after.payments[0].reference,
        format!("credit note {}", part.number)
    );
    let rest = invoices::credit_note(&mut ws, &number, "cancelled", &[], false)
        .unwrap()
        .note;
    // Everything credited: nothing is due any more, nothing went to the client's credit.
    let after = invoices::show(&ws, &number).unwrap();
    assert_eq!(after.view.invoice.status, "paid");
    assert_eq!(after.view.balance, "0.00");
    assert_eq!(rest.net_minor + part.net_minor, -inv.lines[0].net_minor);
    assert_eq!(
        rest.tax_minor + part.tax_minor,
        -inv.lines[0].tax_minor,
        "the tax mirrors the original exactly"
    );
    let e = invoices::credit_note(&mut ws, &number, "again", &[], false).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = invoices::credit_note(
        &mut ws,
        &number,
        "too much",
        &[CreditLineRequest {
            line_key: key,
            amount: Some("0.01".into()),
        }],
        false,
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::Invalid, "{}", e.message);
}

/// A credit note on a paid invoice: nothing is due, so its amount becomes the client's credit,
/// which the next invoice uses. A refund is asked for an invoice paid by transfer: refused next
/// to the field, and nothing is written (no note, no number taken).
#[test]
fn a_credit_note_on_a_paid_invoice_becomes_client_credit_used_by_the_next_invoice() {
    let mut ws = ws();
    let id = client(&mut ws, "Paid", "FR", false, "", "EUR");
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let inv = invoice_of(&ws, id);
    let number = inv.view.invoice.number.clone().unwrap();
    invoices::record_payment(&mut ws, &number, &inv.view.total, "VIR-7").unwrap();

    let notes_before: i64 = ws
        .conn()
        .query_row("SELECT count(*) FROM credit_notes", [], |r| r.get(0))
        .unwrap();
    let e = invoices::credit_note(&mut ws, &number, "refund it", &[], true).unwrap_err();
    assert_eq!(e.fields[0].field, "refund", "{e:?}");
    assert!(invoices::show(&ws, &number)
        .unwrap()
        .credit_notes
        .is_empty());

    let key = inv.lines[0].key.clone();
    let issued = invoices::credit_note(
        &mut ws,
        &number,
        "goodwill",
        &[CreditLineRequest {
            line_key: key,
            amount: Some("5.00".into()),
        }],
        false,
    )
    .unwrap();
    assert_eq!(
        (
            issued.settlement.applied.as_str(),
            issued.settlement.to_credit.as_str()
        ),
        ("0.00", "6.00")
    );
    assert!(
        issued
            .note
            .number
            .ends_with(&format!("{:06}", notes_before + 1)),
        "no number was taken by the refusal: {}",
        issued.note.number
    );
    let after = invoices::show(&ws, &number).unwrap();
    assert_eq!(after.view.invoice.status, "paid");
    assert_eq!(after.payments.len(), 1, "only the transfer");
    assert_eq!(
        hostdesk_app::store::invoices::credit_balance(ws.conn(), id, "EUR").unwrap(),
        600
    );
    // The next bill run's invoice is paid from that credit first.
    run(&mut ws, "2027-01-01T12:00:00Z", false);
    let next = invoices::list(&ws, &Default::default())
        .unwrap()
        .into_iter()
        .find(|v| v.invoice.client_id == id && v.invoice.billing_date == "2027-01-01")
        .unwrap();
    assert_eq!(next.invoice.paid_minor, 600);
    assert_eq!(
        hostdesk_app::store::invoices::credit_balance(ws.conn(), id, "EUR").unwrap(),
        0
    );
}

#[test]
fn issuing_needs_the_sellers_details() {
    let mut ws = Workspace::open_in_memory(Clock::fixed(NOV).unwrap()).unwrap();
    let e = bill_run::run(
        &mut ws,
        &BillRunOptions::default(),
        &AtomicBool::new(false),
        |_, _| {},
    )
    .unwrap_err();
    assert!(e.message.contains("seller_name"), "{}", e.message);
    assert_eq!(
        settings::set(&mut ws, "seller_country", "Narnia")
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
    assert_eq!(
        settings::set(&mut ws, "invoice_series", "INV-{BAD}")
            .unwrap_err()
            .code,
        ErrorCode::Invalid
    );
    settings::set(&mut ws, "seller_country", "fr").unwrap();
    assert_eq!(
        settings::list(&ws).unwrap()[0],
        ("seller_country".to_string(), "FR".to_string())
    );
}

#[test]
fn the_invoice_pdf_carries_what_an_accountant_needs() {
    let mut ws = ws();
    let id = client(
        &mut ws,
        "Kunde Müller GmbH",
        "DE",
        true,
        "DE123456789",
        "EUR",
    );
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let number = invoice_of(&ws, id).view.invoice.number.unwrap();
    let pdf = hostdesk_app::billing::pdf::invoice_pdf(&ws, &number).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext is installed (poppler-utils, make deps)");
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        &number[..],
        "Atrium Hosting SARL",
        "FR40123456824",
        "Kunde Müller GmbH",
        "DE123456789",
        "9.95",
        "Reverse charge",
        "IBAN FR76",
    ] {
        assert!(
            text.contains(want),
            "{want:?} missing from the PDF:\n{text}"
        );
    }
    // the same invoice renders to the same bytes
    assert_eq!(
        hostdesk_app::billing::pdf::invoice_pdf(&ws, &number).unwrap(),
        pdf
    );
}

#[test]
fn a_price_change_applied_at_renewal_reaches_the_next_invoice_only() {
    use hostdesk_app::catalog;
    use hostdesk_app::core::catalog::{Period, PriceDraft};
    let mut ws = ws();
    let a = client(&mut ws, "Renews", "FR", false, "", "EUR");
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    assert_eq!(invoice_of(&ws, a).lines[0].net_minor, 995);
    ws.set_clock(Clock::fixed("2026-12-10T09:00:00Z").unwrap());
    let eur = PriceDraft {
        currency: "EUR".into(),
        period: Some(Period::Month),
        amount: "11.95".into(),
    };
    let changed = catalog::reprice_product(&mut ws, "drupal-site", &eur, true).unwrap();
    assert!(!changed.is_empty());
    // the issued December invoice is untouched; January's carries the new price
    assert_eq!(invoice_of(&ws, a).lines[0].net_minor, 995);
    run(&mut ws, "2027-01-01T12:00:00Z", false);
    let jan = invoice_of(&ws, a);
    assert_eq!(jan.lines[0].net_minor, 1195);
    // and so do the periods after it
    run(&mut ws, "2027-02-01T12:00:00Z", false);
    assert_eq!(invoice_of(&ws, a).lines[0].net_minor, 1195);
    // a kit subscription is not repriced by its product's price
    let kits: i64 = count(&ws, "SELECT count(*) FROM subscriptions WHERE kit_id IS NOT NULL AND renewal_price_minor IS NOT NULL");
    assert_eq!(kits, 0);
}

#[test]
fn usage_arriving_after_its_period_was_invoiced_goes_on_the_next_invoice_as_a_flagged_line() {
    let mut ws = ws();
    let id = client(&mut ws, "Late Co", "FR", false, "", "EUR");
    let sub: i64 = ws
        .conn()
        .query_row(
            "SELECT id FROM subscriptions WHERE client_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    usage::set_rate(&mut ws, sub, "users", Some(10), "5.00", "1.00").unwrap();
    usage::record(&mut ws, sub, "users", 14, Some("2026-11-20T10:00:00Z")).unwrap();
    run(&mut ws, "2026-12-01T12:00:00Z", false);
    let december = invoice_of(&ws, id);
    assert_eq!(count(&ws, "SELECT count(*) FROM late_usage"), 0);
    // November's usage grows after November was invoiced (a server reported late).
    usage::record(&mut ws, sub, "users", 17, Some("2026-11-25T10:00:00Z")).unwrap();
    assert_eq!(count(&ws, "SELECT count(*) FROM late_usage"), 1);

    run(&mut ws, "2027-01-01T12:00:00Z", false);
    // December's invoice is untouched; January's bills the 3 late units at the frozen rate.
    let again = invoices::show(&ws, &december.view.invoice.id.to_string()).unwrap();
    assert_eq!(again.lines, december.lines);
    let january: Vec<invoices::InvoiceView> = invoices::list(
        &ws,
        &InvoiceFilter {
            client_id: Some(id),
            ..Default::default()
        },
    )
    .unwrap();
    let jan = january
        .iter()
        .find(|v| v.invoice.billing_date == "2027-01-01")
        .unwrap();
    let lines = invoices::show(&ws, &jan.invoice.id.to_string())
        .unwrap()
        .lines;
    let late: Vec<_> = lines.iter().filter(|l| l.kind == "late_usage").collect();
    assert_eq!(late.len(), 1, "{lines:?}");
    assert_eq!((late[0].quantity, late[0].net_minor), (3, 300));
    assert!(late[0].flagged);
    assert_eq!(late[0].period_from.as_deref(), Some("2026-11-01"));
    assert_eq!(
        count(&ws, "SELECT count(*) FROM late_usage"),
        0,
        "billed once"
    );
    // A re-run adds nothing.
    let rerun = run(&mut ws, "2027-01-01T12:00:00Z", false);
    assert_eq!(rerun.lines, 0);
}
