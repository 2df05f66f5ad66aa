//! Writes the test fixture invoice as a PDF, to look at it:
//!
//! `cargo run -p hostdesk-pdf --example sample_invoice -- OUT.pdf [LINES] [--credit-note]
//! [--buyer NAME] [--fallback-font FONT.ttf]`
#![allow(clippy::unwrap_used)]

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use hostdesk_pdf::{DocumentKind, RenderOptions};

fn main() {
    let mut out = "/tmp/hostdesk-invoice.pdf".to_string();
    let mut lines = 7;
    let mut options = RenderOptions::default();
    let mut credit_note = false;
    let mut buyer = None;
    let mut args = std::env::args().skip(1);
    let mut positional = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--credit-note" => credit_note = true,
            "--buyer" => buyer = args.next(),
            "--fallback-font" => options
                .fallback_fonts
                .push(std::fs::read(args.next().unwrap()).unwrap()),
            _ if positional == 0 => {
                out = a;
                positional += 1;
            }
            _ => lines = a.parse().unwrap(),
        }
    }
    let mut doc = fixtures::invoice(lines);
    if let Some(name) = buyer {
        doc.buyer.name = name;
    }
    if credit_note {
        doc.kind = DocumentKind::CreditNote {
            corrects: doc.number.clone(),
        };
        doc.number = "CN-2026-000007".into();
        doc.due_date = None;
        doc.totals.paid = None;
        doc.totals.due = doc.totals.total.clone();
        doc.payment_instructions = vec!["The amount is refunded to the card on file.".into()];
    }
    let bytes = hostdesk_pdf::render_with(&doc, &options).unwrap();
    std::fs::write(&out, bytes).unwrap();
    println!("{out}");
}
