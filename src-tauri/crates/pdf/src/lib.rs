//! Hostdesk invoice and credit-note PDFs.
//!
//! [`render`] turns an [`InvoiceDocument`] — every amount, rate and date already formatted by the
//! billing code; this crate never computes money — into the bytes of an A4 PDF:
//!
//! - the seller as letterhead (name, address, VAT id, contact), the title and the document's
//!   number, dates, period and currency top right;
//! - the buyer ("Bill to", with its VAT id) and a box with the amount due and the due date;
//! - the lines table (description with its service period, quantity, unit price, net, tax rate,
//!   tax, total; amounts right-aligned) flowing over as many pages as needed, its header repeated
//!   on every page;
//! - the tax breakdown per rate, the totals, the payment instructions and the notes (such as the
//!   reverse-charge mention);
//! - on every page a footer with the caller's text, the document number and "Page x of y".
//!
//! The output is PDF/A-3u (archival, every glyph mapped to Unicode so that the text can be
//! searched and extracted) and deterministic: the same input and options give the same bytes
//! (the creation date PDF/A requires is part of the input, [`InvoiceDocument::created`]).
//!
//! Everything happens offline. The font, Liberation Sans 2.1.5 (regular and bold, SIL Open Font
//! License 1.1, see `fonts/OFL.txt`), is compiled into the crate and subsetted into each PDF; it
//! covers Latin-1, Latin Extended-A/B, Greek and Cyrillic. It has no CJK glyphs: pass a CJK font
//! in [`RenderOptions::fallback_fonts`] (for example one read from the user's system at run time)
//! to draw, say, a Japanese client name; without one, each such character is drawn as a
//! placeholder box while the PDF's text layer still holds the real characters.

mod draw;
mod layout;
mod model;
mod text;

pub use model::{
    DocLine, DocumentKind, InvoiceDocument, Labels, Party, PdfDate, RenderOptions, TaxBreakdownRow,
    Totals,
};

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// A font (the embedded one or a fallback font from [`RenderOptions`]) could not be read.
    #[error("font: {0}")]
    Font(String),
    /// The input is invalid (an impossible creation date).
    #[error("invalid input: {0}")]
    Input(String),
    /// The PDF writer refused the document.
    #[error("pdf: {0}")]
    Pdf(String),
}

/// Renders `doc` to the bytes of a PDF with the default options (English labels, no fallback
/// font).
pub fn render(doc: &InvoiceDocument) -> Result<Vec<u8>, PdfError> {
    render_with(doc, &RenderOptions::default())
}

/// Renders `doc` to the bytes of a PDF.
pub fn render_with(doc: &InvoiceDocument, options: &RenderOptions) -> Result<Vec<u8>, PdfError> {
    let fonts = text::Fonts::new(&options.fallback_fonts)?;
    let pages = layout::layout(doc, &options.labels, &fonts);
    draw::draw(doc, options, &fonts, &pages)
}

// The unit tests share the integration tests' fixture, which names the crate.
#[cfg(test)]
extern crate self as hostdesk_pdf;
#[cfg(test)]
#[path = "../tests/fixtures/mod.rs"]
mod fixtures;
