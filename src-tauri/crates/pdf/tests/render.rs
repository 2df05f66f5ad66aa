//! Renders realistic invoices and checks them with poppler's real tools (`pdftotext`,
//! `pdfinfo`, `pdffonts`; Debian package `poppler-utils`).
#![allow(clippy::unwrap_used)]

mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::{buyer, description, invoice, seller, REVERSE_CHARGE};
use hostdesk_pdf::{render, render_with, DocumentKind, PdfDate, PdfError, RenderOptions};

struct Pdf {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn write(bytes: &[u8]) -> Pdf {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, bytes).unwrap();
    Pdf { _dir: dir, path }
}

fn tool(name: &str, args: &[&str], path: &Path) -> String {
    let out = Command::new(name)
        .args(args)
        .arg(path)
        .args(if name == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} ({e}): apt-get install poppler-utils"));
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The PDF's text, whitespace collapsed to single spaces.
fn text(pdf: &Pdf, args: &[&str]) -> String {
    let mut a = vec!["-enc", "UTF-8"];
    a.extend_from_slice(args);
    squash(&tool("pdftotext", &a, &pdf.path))
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pages(pdf: &Pdf) -> usize {
    let info = tool("pdfinfo", &[], &pdf.path);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(&squash(needle)),
        "missing {needle:?} in:\n{haystack}"
    );
}

#[test]
fn a_realistic_invoice_carries_everything_an_accountant_checks() {
    let doc = invoice(7);
    let pdf = write(&render(&doc).unwrap());
    assert_eq!(pages(&pdf), 1);
    let raw = text(&pdf, &["-raw"]);
    for needle in [
        "INVOICE",
        "Müller & Söhne Webhosting GmbH",
        "Straße des 17. Juni 135",
        "VAT ID: DE811907980",
        "Café Olé Société Coopérative de Restauration SARL",
        "12 rue de l'Église",
        "VAT ID: FR40303265045",
        "SIRET 303 265 045 00012",
        "Invoice no. INV-2026-000123",
        "Issue date 1 May 2026",
        "Due date 31 May 2026",
        "Period 1 May 2026 – 31 May 2026",
        "Total net 212.30",
        "Total tax 0.00",
        "Total EUR 212.30",
        "Paid 50.00",
        "Amount due EUR 162.30",
        "0% (reverse charge) 212.30 0.00",
        "IBAN: DE89 3704 0044 0532 0130 00",
        REVERSE_CHARGE,
        "Amtsgericht Charlottenburg HRB 123456 B",
        "Page 1 of 1",
    ] {
        assert_contains(&raw, needle);
    }
    for (i, line) in doc.lines.iter().enumerate() {
        assert_contains(&raw, &line.description);
        assert_contains(&raw, line.period.as_deref().unwrap());
        assert!(raw.contains(&line.total), "line {i} total {}", line.total);
    }
    // A line's amounts read left to right in column order.
    let layout = tool("pdftotext", &["-enc", "UTF-8", "-layout"], &pdf.path);
    let row = layout
        .lines()
        .find(|l| l.contains("Option: extra storage 10 GB"))
        .unwrap();
    assert_eq!(
        squash(row).split(' ').rev().take(6).collect::<Vec<_>>(),
        ["7.00", "0.00", "0%", "7.00", "3.50", "2"]
    );
}

#[test]
fn three_lines_fit_on_one_page() {
    let pdf = write(&render(&invoice(3)).unwrap());
    assert_eq!(pages(&pdf), 1);
    let raw = text(&pdf, &["-raw"]);
    for i in 0..3 {
        assert_contains(&raw, &description(i));
    }
}

#[test]
fn sixty_lines_paginate_with_the_table_header_on_every_page() {
    let doc = invoice(60);
    let pdf = write(&render(&doc).unwrap());
    let n = pages(&pdf);
    assert!(n >= 3, "{n} pages");
    let raw = text(&pdf, &["-raw"]);
    assert_contains(&raw, "Page 2 of");
    assert_contains(&raw, &format!("Page {n} of {n}"));
    for i in 0..60 {
        assert_contains(&raw, &description(i));
    }
    assert_contains(&raw, REVERSE_CHARGE);
    assert_contains(&raw, &format!("Amount due EUR {}", doc.totals.due));

    for page in 1..=n {
        let p = page.to_string();
        let t = text(&pdf, &["-raw", "-f", &p, "-l", &p]);
        assert_contains(&t, &format!("Page {page} of {n}"));
        assert_contains(&t, "INV-2026-000123");
        if page > 1 {
            assert_contains(&t, "Invoice INV-2026-000123 (continued)");
        }
        // Every page that holds lines repeats the table header.
        if t.contains("Open Atrium") {
            assert_contains(&t, "Description Qty Unit price Net Tax % Tax Total");
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    let a = render(&invoice(20)).unwrap();
    let b = render(&invoice(20)).unwrap();
    assert!(a == b, "same input, different bytes");
    let mut other = invoice(20);
    other.number = "INV-2026-000124".into();
    assert!(render(&other).unwrap() != a);
}

#[test]
fn the_output_is_pdf_a_with_embedded_subset_fonts() {
    let pdf = write(&render(&invoice(7)).unwrap());
    let meta = tool("pdfinfo", &["-meta"], &pdf.path);
    assert!(meta.contains("<pdfaid:part>3</pdfaid:part>"), "{meta}");
    assert!(
        meta.contains("<pdfaid:conformance>U</pdfaid:conformance>"),
        "{meta}"
    );
    let info = tool("pdfinfo", &[], &pdf.path);
    assert!(
        info.contains("Page size:       595.28 x 841.89 pts (A4)"),
        "{info}"
    );
    assert!(
        info.contains("CreationDate:    Fri May  1 00:00:00 2026"),
        "{info}"
    );
    let fonts = tool("pdffonts", &[], &pdf.path);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "{fonts}");
    for row in rows {
        assert!(row.contains("LiberationSans"), "{row}");
        // name type encoding emb sub uni
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            &cols[cols.len() - 5..cols.len() - 2],
            ["yes", "yes", "yes"],
            "{row}"
        );
    }
}

#[test]
fn a_credit_note_names_the_invoice_it_corrects() {
    let mut doc = invoice(2);
    doc.kind = DocumentKind::CreditNote {
        corrects: "INV-2026-000123".into(),
    };
    doc.number = "CN-2026-000007".into();
    doc.due_date = None;
    doc.totals.paid = None;
    let pdf = write(&render(&doc).unwrap());
    let raw = text(&pdf, &["-raw"]);
    for needle in [
        "CREDIT NOTE",
        "Credit note no. CN-2026-000007",
        "Corrects invoice INV-2026-000123",
        "Amount credited",
        "Page 1 of 1",
    ] {
        assert_contains(&raw, needle);
    }
    assert!(!raw.contains("Due date"), "{raw}");
    assert!(!raw.contains("Paid"), "{raw}");
}

const JAPANESE: &str = "株式会社さくらウェブ制作";

#[test]
fn characters_outside_the_font_keep_their_text_without_a_fallback_font() {
    let mut doc = invoice(3);
    doc.buyer.name = format!("{JAPANESE} (Sakura Web)");
    let pdf = write(&render(&doc).unwrap());
    let raw = text(&pdf, &["-raw"]);
    assert_contains(&raw, &format!("{JAPANESE} (Sakura Web)"));
}

const CJK_FONT: &str = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf";

#[test]
fn a_fallback_font_draws_cjk() {
    let Ok(cjk) = std::fs::read(CJK_FONT) else {
        eprintln!("skipped: {CJK_FONT} missing (Debian package fonts-droid-fallback)");
        return;
    };
    let mut doc = invoice(3);
    doc.buyer.name = JAPANESE.into();
    doc.lines[0].description = format!("Open Atrium site package — {JAPANESE}");
    let options = RenderOptions {
        fallback_fonts: vec![cjk],
        ..RenderOptions::default()
    };
    let bytes = render_with(&doc, &options).unwrap();
    // Only the used glyphs are embedded.
    assert!(bytes.len() < 200_000, "{} bytes", bytes.len());
    let pdf = write(&bytes);
    let raw = text(&pdf, &["-raw"]);
    assert_contains(&raw, JAPANESE);
    assert_contains(&raw, &format!("Open Atrium site package — {JAPANESE}"));
    let fonts = tool("pdffonts", &[], &pdf.path);
    assert!(fonts.contains("DroidSansFallback"), "{fonts}");
}

#[test]
fn a_bare_document_still_renders() {
    let doc = hostdesk_pdf::InvoiceDocument {
        number: "INV-1".into(),
        seller: seller(),
        buyer: buyer(),
        ..Default::default()
    };
    let pdf = write(&render(&doc).unwrap());
    assert_eq!(pages(&pdf), 1);
    assert_contains(&text(&pdf, &["-raw"]), "INV-1");
}

#[test]
fn long_notes_and_payment_instructions_flow_onto_more_pages() {
    let mut doc = invoice(10);
    doc.payment_instructions = (1..=80).map(|i| format!("Payment line {i}")).collect();
    doc.notes = (1..=40)
        .map(|i| format!("Note {i}: {}", "Lorem ipsum dolor sit amet. ".repeat(8)))
        .collect();
    let pdf = write(&render(&doc).unwrap());
    let n = pages(&pdf);
    assert!(n >= 4, "{n}");
    let raw = text(&pdf, &["-raw"]);
    assert_contains(&raw, "Payment line 80");
    assert_contains(&raw, "Note 40:");
    assert_contains(&raw, &format!("Page {n} of {n}"));
}

#[test]
fn invalid_input_is_a_typed_error() {
    let mut doc = invoice(1);
    doc.created = PdfDate::ymd(2026, 13, 1);
    assert!(matches!(render(&doc), Err(PdfError::Input(_))));
    let options = RenderOptions {
        fallback_fonts: vec![b"not a font".to_vec()],
        ..RenderOptions::default()
    };
    assert!(matches!(
        render_with(&invoice(1), &options),
        Err(PdfError::Font(_))
    ));
}
