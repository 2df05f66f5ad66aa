//! The input: a plain description of one invoice or credit note, every amount already formatted.

/// One invoice or credit note, as the billing code hands it over.
///
/// Every amount, rate and date is a display string: this crate never computes money. Empty
/// optional fields are left out of the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// Invoice, or credit note with the number of the invoice it corrects.
    pub kind: DocumentKind,
    /// The gapless number, e.g. `INV-2026-000123` or `CN-2026-000007`.
    pub number: String,
    /// The issue date as it should be printed, e.g. `2026-05-01` or `1 May 2026`.
    pub issue_date: String,
    /// The due date as it should be printed; `None` leaves the row out (a credit note).
    pub due_date: Option<String>,
    /// The billing period the document covers, e.g. `1 May 2026 – 31 May 2026`.
    pub period: Option<String>,
    /// The ISO 4217 code of every amount on the document, e.g. `EUR`. Amounts are printed as
    /// given and should carry no currency sign: this code is printed in the meta block and
    /// before the total and the amount due (`EUR 1,806.00`).
    pub currency: String,
    /// Who issues the document.
    pub seller: Party,
    /// Who is billed.
    pub buyer: Party,
    /// The lines, in order.
    pub lines: Vec<DocLine>,
    /// One row per tax rate.
    pub tax_breakdown: Vec<TaxBreakdownRow>,
    /// The totals block.
    pub totals: Totals,
    /// How to pay, one printed line each, e.g. `IBAN: FR76 3000 …`, `BIC: …`, `Reference: INV-…`.
    pub payment_instructions: Vec<String>,
    /// Legal notes, one paragraph each, e.g. the reverse-charge mention.
    pub notes: Vec<String>,
    /// Printed at the foot of every page, e.g. the seller's registration details.
    pub footer: Option<String>,
    /// Written as the PDF's creation date, which PDF/A requires: normally the issue date (or the
    /// moment of issue), in UTC. Part of the input so that a document always renders to the same
    /// bytes.
    pub created: PdfDate,
}

/// What the document is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DocumentKind {
    /// A plain invoice.
    #[default]
    Invoice,
    /// A credit note correcting the invoice numbered `corrects`.
    CreditNote {
        /// The number of the corrected invoice.
        corrects: String,
    },
}

/// The seller or the buyer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    /// The legal name, e.g. `Bäckerei Sonnenschein GmbH`.
    pub name: String,
    /// Street, postcode and city, ..., one printed line each.
    pub address_lines: Vec<String>,
    /// The country as it should be printed, e.g. `France`.
    pub country: Option<String>,
    /// The VAT or other tax identification number, e.g. `FR40303265045`.
    pub tax_id: Option<String>,
    /// A contact e-mail address.
    pub email: Option<String>,
    /// Anything else to print under the party, e.g. `SIRET 303 265 045 00012`.
    pub extra_lines: Vec<String>,
}

/// One invoice line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocLine {
    /// What was sold, e.g. `Open Atrium site package — Standard (intranet.example.fr)`.
    pub description: String,
    /// The service period of this line, printed under the description.
    pub period: Option<String>,
    /// The quantity, e.g. `1` or `12.5 GB`.
    pub quantity: String,
    /// The unit price.
    pub unit_price: String,
    /// The net amount (quantity × unit price).
    pub net: String,
    /// The tax rate, e.g. `20%` or `0%`.
    pub tax_rate: String,
    /// The tax amount.
    pub tax: String,
    /// The gross amount.
    pub total: String,
}

/// The net and tax amounts for one tax rate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaxBreakdownRow {
    /// The rate as printed, e.g. `20%` or `0% (reverse charge)`.
    pub rate: String,
    /// The net amount taxed at this rate.
    pub net: String,
    /// The tax at this rate.
    pub tax: String,
}

/// The totals of the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Sum of the net amounts.
    pub net: String,
    /// Sum of the tax amounts.
    pub tax: String,
    /// Net + tax.
    pub total: String,
    /// Already paid (or credited); `None` leaves the row out.
    pub paid: Option<String>,
    /// What remains to be paid (or to be refunded, on a credit note).
    pub due: String,
}

/// Every word the renderer prints itself, so that the billing code can translate them.
///
/// [`Labels::default`] is English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    /// The BCP 47 language of the labels, written into the PDF metadata, e.g. `en`.
    pub language: String,
    /// Title of an invoice.
    pub invoice: String,
    /// Title of a credit note.
    pub credit_note: String,
    /// "Invoice no." row label.
    pub invoice_number: String,
    /// "Credit note no." row label.
    pub credit_note_number: String,
    /// "Corrects invoice" row label (credit notes).
    pub corrects: String,
    /// "Issue date" row label.
    pub issue_date: String,
    /// "Due date" row label.
    pub due_date: String,
    /// "Period" row label.
    pub period: String,
    /// "Currency" row label.
    pub currency: String,
    /// Heading of the buyer block.
    pub bill_to: String,
    /// Label of a party's tax id.
    pub tax_id: String,
    /// Column: description.
    pub description: String,
    /// Column: quantity.
    pub quantity: String,
    /// Column: unit price.
    pub unit_price: String,
    /// Column: net amount.
    pub net: String,
    /// Column: tax rate.
    pub tax_rate: String,
    /// Column: tax amount.
    pub tax: String,
    /// Column: gross amount.
    pub total: String,
    /// Heading of the tax breakdown.
    pub tax_breakdown: String,
    /// Tax breakdown column: the rate.
    pub rate: String,
    /// Totals: net.
    pub total_net: String,
    /// Totals: tax.
    pub total_tax: String,
    /// Totals: gross.
    pub total_gross: String,
    /// Totals: already paid.
    pub paid: String,
    /// Totals: amount due (invoice).
    pub amount_due: String,
    /// Totals: amount to refund (credit note).
    pub amount_credited: String,
    /// Heading of the payment instructions.
    pub payment: String,
    /// Heading of the notes.
    pub notes: String,
    /// Page number; `{page}` and `{pages}` are replaced.
    pub page_of: String,
    /// Appended to the title on the pages after the first.
    pub continued: String,
}

impl Default for Labels {
    fn default() -> Self {
        let s = |v: &str| v.to_string();
        Self {
            language: s("en"),
            invoice: s("Invoice"),
            credit_note: s("Credit note"),
            invoice_number: s("Invoice no."),
            credit_note_number: s("Credit note no."),
            corrects: s("Corrects invoice"),
            issue_date: s("Issue date"),
            due_date: s("Due date"),
            period: s("Period"),
            currency: s("Currency"),
            bill_to: s("Bill to"),
            tax_id: s("VAT ID"),
            description: s("Description"),
            quantity: s("Qty"),
            unit_price: s("Unit price"),
            net: s("Net"),
            tax_rate: s("Tax %"),
            tax: s("Tax"),
            total: s("Total"),
            tax_breakdown: s("Tax breakdown"),
            rate: s("Rate"),
            total_net: s("Total net"),
            total_tax: s("Total tax"),
            total_gross: s("Total"),
            paid: s("Paid"),
            amount_due: s("Amount due"),
            amount_credited: s("Amount credited"),
            payment: s("Payment"),
            notes: s("Notes"),
            page_of: s("Page {page} of {pages}"),
            continued: s("(continued)"),
        }
    }
}

/// A date and time of day in UTC, written as the PDF's creation date.
///
/// The default is 1970-01-01 00:00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfDate {
    /// The year, e.g. 2026.
    pub year: u16,
    /// 1-12.
    pub month: u8,
    /// 1-31.
    pub day: u8,
    /// 0-23.
    pub hour: u8,
    /// 0-59.
    pub minute: u8,
    /// 0-59.
    pub second: u8,
}

impl PdfDate {
    /// Midnight UTC of the given day.
    pub fn ymd(year: u16, month: u8, day: u8) -> Self {
        Self {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }
}

impl Default for PdfDate {
    fn default() -> Self {
        Self::ymd(1970, 1, 1)
    }
}

/// How to render: the labels and extra fonts.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The words printed by the renderer (English by default).
    pub labels: Labels,
    /// TrueType/OpenType fonts (file bytes) tried, in order, for characters the embedded
    /// Liberation Sans lacks, e.g. a CJK font for a Japanese client name. Only the glyphs used
    /// are embedded. Without one, such characters print as a placeholder glyph while the text
    /// layer keeps the real characters (copy and search still work).
    pub fallback_fonts: Vec<Vec<u8>>,
}
