//! Page layout: turns an [`InvoiceDocument`] into pages of positioned drawing operations.
//!
//! Coordinates are PDF points (1/72 in) from the top-left corner of an A4 page, y downwards;
//! a text's `y` is its baseline.

use crate::model::{DocumentKind, InvoiceDocument, Labels};
use crate::text::{Fonts, Shaped, Style};

pub(crate) const PAGE_W: f32 = 595.28;
pub(crate) const PAGE_H: f32 = 841.89;
const LEFT: f32 = 42.0;
const RIGHT: f32 = PAGE_W - 42.0;
const CONTENT_W: f32 = RIGHT - LEFT;
const TOP: f32 = 40.0;
const PAD: f32 = 5.0;
/// Height of the lines table's header row.
const HEADER_H: f32 = 20.0;
/// Width of the left column of the summary (tax breakdown, payment) beside the totals.
const SUMMARY_LEFT_W: f32 = 265.0;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rgb(pub u8, pub u8, pub u8);

const INK: Rgb = Rgb(0x1F, 0x29, 0x37);
const MUTED: Rgb = Rgb(0x5F, 0x67, 0x73);
const ACCENT: Rgb = Rgb(0x1E, 0x4D, 0x8C);
const TINT: Rgb = Rgb(0xEE, 0xF3, 0xFA);
const SHADE: Rgb = Rgb(0xEF, 0xF1, 0xF4);
const RULE: Rgb = Rgb(0xD3, 0xD7, 0xDD);
const WHITE: Rgb = Rgb(0xFF, 0xFF, 0xFF);

/// One drawing operation.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        color: Rgb,
        shaped: Shaped,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
        color: Rgb,
    },
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

struct Column<'a> {
    label: &'a str,
    width: f32,
    align: Align,
}

/// Lay the document out; returns the pages, each a list of operations.
pub(crate) fn layout(doc: &InvoiceDocument, labels: &Labels, fonts: &Fonts) -> Vec<Vec<Op>> {
    let mut l = Layout::new(doc, labels, fonts);
    l.first_page_header();
    l.lines_table();
    l.summary();
    l.payment();
    l.notes();
    l.finish()
}

struct Layout<'a> {
    doc: &'a InvoiceDocument,
    labels: &'a Labels,
    fonts: &'a Fonts,
    /// Never empty.
    pages: Vec<Vec<Op>>,
    /// The index of the page being drawn on.
    current: usize,
    /// The top of the next element on the current page.
    y: f32,
    /// Content must end above this.
    bottom: f32,
    footer_lines: Vec<String>,
    /// The payment instructions were placed beside the totals.
    payment_done: bool,
}

impl<'a> Layout<'a> {
    fn new(doc: &'a InvoiceDocument, labels: &'a Labels, fonts: &'a Fonts) -> Self {
        let footer_lines = match doc.footer.as_deref() {
            Some(f) if !f.trim().is_empty() => fonts.wrap(f, Style::Regular, 7.0, CONTENT_W),
            _ => Vec::new(),
        };
        let bottom = footer_top(footer_lines.len()) - 14.0;
        Self {
            doc,
            labels,
            fonts,
            pages: vec![Vec::new()],
            current: 0,
            y: TOP,
            bottom,
            footer_lines,
            payment_done: false,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        &mut self.pages[self.current]
    }

    // ---- primitives -------------------------------------------------------------------------

    fn text(&mut self, x: f32, y: f32, s: &str, style: Style, size: f32, color: Rgb) -> f32 {
        let shaped = self.fonts.shape(s, style);
        let w = shaped.width_at(size);
        self.ops().push(Op::Text {
            x,
            y,
            size,
            color,
            shaped,
        });
        w
    }

    /// Right-aligned at `right`.
    fn text_right(&mut self, right: f32, y: f32, s: &str, style: Style, size: f32, color: Rgb) {
        self.text_right_fit(right, y, s, style, size, color, f32::INFINITY);
    }

    /// Right-aligned at `right`; the size shrinks (down to 60%) when wider than `max_w`.
    #[allow(clippy::too_many_arguments)]
    fn text_right_fit(
        &mut self,
        right: f32,
        y: f32,
        s: &str,
        style: Style,
        size: f32,
        color: Rgb,
        max_w: f32,
    ) {
        let shaped = self.fonts.shape(s, style);
        let mut size_used = size;
        if shaped.width_at(size) > max_w && shaped.width > 0.0 {
            size_used = (max_w / shaped.width).max(size * 0.6);
        }
        let x = right - shaped.width_at(size_used);
        self.ops().push(Op::Text {
            x,
            y,
            size: size_used,
            color,
            shaped,
        });
    }

    fn text_center(&mut self, center: f32, y: f32, s: &str, style: Style, size: f32, color: Rgb) {
        let shaped = self.fonts.shape(s, style);
        let x = center - shaped.width_at(size) / 2.0;
        self.ops().push(Op::Text {
            x,
            y,
            size,
            color,
            shaped,
        });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        self.ops().push(Op::Rect { x, y, w, h, color });
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32, color: Rgb) {
        self.ops().push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
            color,
        });
    }

    /// Wrapped left-aligned paragraph starting with its top at `top`; returns the new top.
    #[allow(clippy::too_many_arguments)]
    fn paragraph(
        &mut self,
        x: f32,
        top: f32,
        width: f32,
        s: &str,
        style: Style,
        size: f32,
        leading: f32,
        color: Rgb,
    ) -> f32 {
        let mut y = top;
        for line in self.fonts.wrap(s, style, size, width) {
            self.text(x, y + ascent(size), &line, style, size, color);
            y += leading;
        }
        y
    }

    fn title(&self) -> String {
        match self.doc.kind {
            DocumentKind::Invoice => self.labels.invoice.clone(),
            DocumentKind::CreditNote { .. } => self.labels.credit_note.clone(),
        }
    }

    fn money(&self, amount: &str) -> String {
        if self.doc.currency.trim().is_empty() {
            amount.to_string()
        } else {
            format!("{} {}", self.doc.currency, amount)
        }
    }

    // ---- pages ------------------------------------------------------------------------------

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        let title = format!(
            "{} {} {}",
            self.title(),
            self.doc.number,
            self.labels.continued
        );
        let baseline = TOP + ascent(11.0);
        let w = self.text(LEFT, baseline, &title, Style::Bold, 11.0, INK);
        let seller = self.doc.seller.name.clone();
        self.text_right_fit(
            RIGHT,
            baseline,
            &seller,
            Style::Regular,
            8.5,
            MUTED,
            (CONTENT_W - w - 20.0).max(40.0),
        );
        self.hline(LEFT, RIGHT, TOP + 20.0, 0.75, ACCENT);
        self.y = TOP + 34.0;
    }

    /// The height available for content on a continuation page.
    fn body_height(&self) -> f32 {
        self.bottom - TOP - 34.0
    }

    /// Makes room for `h` points, starting a new page when needed; returns true on a new page.
    fn ensure(&mut self, h: f32) -> bool {
        if self.y + h > self.bottom {
            self.new_page();
            true
        } else {
            false
        }
    }

    fn first_page_header(&mut self) {
        let doc = self.doc;
        let labels = self.labels;
        let left_w = 290.0;

        // Seller letterhead, top left.
        let mut ly = TOP;
        for line in self.fonts.wrap(&doc.seller.name, Style::Bold, 15.0, left_w) {
            self.text(LEFT, ly + ascent(15.0), &line, Style::Bold, 15.0, INK);
            ly += 18.0;
        }
        ly += 3.0;
        for line in party_details(&doc.seller, labels) {
            ly = self.paragraph(LEFT, ly, left_w, &line, Style::Regular, 8.5, 11.5, MUTED);
        }

        // Title and meta, top right.
        let title = self.title().to_uppercase();
        self.text_right_fit(
            RIGHT,
            TOP + ascent(22.0),
            &title,
            Style::Bold,
            22.0,
            ACCENT,
            215.0,
        );
        let mut ry = TOP + 36.0;
        let number_label = match doc.kind {
            DocumentKind::Invoice => &labels.invoice_number,
            DocumentKind::CreditNote { .. } => &labels.credit_note_number,
        };
        let mut meta: Vec<(&str, &str, Style)> = vec![(number_label, &doc.number, Style::Bold)];
        if let DocumentKind::CreditNote { corrects } = &doc.kind {
            meta.push((&labels.corrects, corrects, Style::Regular));
        }
        meta.push((&labels.issue_date, &doc.issue_date, Style::Regular));
        if let Some(due) = &doc.due_date {
            meta.push((&labels.due_date, due, Style::Bold));
        }
        if let Some(period) = &doc.period {
            meta.push((&labels.period, period, Style::Regular));
        }
        if !doc.currency.trim().is_empty() {
            meta.push((&labels.currency, &doc.currency, Style::Regular));
        }
        let meta_left = RIGHT - 215.0;
        for (label, value, style) in meta {
            let baseline = ry + ascent(8.5);
            self.text(meta_left, baseline, label, Style::Regular, 8.5, MUTED);
            self.text_right_fit(RIGHT, baseline, value, style, 8.5, INK, 130.0);
            ry += 12.5;
        }

        let mut y = ly.max(ry) + 10.0;
        self.hline(LEFT, RIGHT, y, 0.75, RULE);
        y += 14.0;

        // Buyer, left; amount box, right.
        let section_top = y;
        self.text(
            LEFT,
            y + ascent(7.5),
            &labels.bill_to.to_uppercase(),
            Style::Bold,
            7.5,
            MUTED,
        );
        y += 13.0;
        for line in self.fonts.wrap(&doc.buyer.name, Style::Bold, 11.0, left_w) {
            self.text(LEFT, y + ascent(11.0), &line, Style::Bold, 11.0, INK);
            y += 14.0;
        }
        y += 2.0;
        for line in party_details(&doc.buyer, labels) {
            y = self.paragraph(LEFT, y, left_w, &line, Style::Regular, 9.0, 11.5, INK);
        }

        let box_w = 215.0;
        let box_x = RIGHT - box_w;
        let box_h = 70.0;
        self.rect(box_x, section_top, box_w, box_h, TINT);
        self.rect(box_x, section_top, 3.0, box_h, ACCENT);
        let (due_label, sub) = match &doc.kind {
            DocumentKind::Invoice => (
                &labels.amount_due,
                doc.due_date
                    .as_ref()
                    .map(|d| format!("{} {}", labels.due_date, d)),
            ),
            DocumentKind::CreditNote { corrects } => (
                &labels.amount_credited,
                Some(format!("{} {}", labels.corrects, corrects)),
            ),
        };
        let inner = box_x + 14.0;
        self.text(
            inner,
            section_top + 17.0,
            &due_label.to_uppercase(),
            Style::Bold,
            7.5,
            MUTED,
        );
        let amount = self.money(&doc.totals.due);
        let shaped = self.fonts.shape(&amount, Style::Bold);
        let size = if shaped.width_at(18.0) > box_w - 28.0 && shaped.width > 0.0 {
            ((box_w - 28.0) / shaped.width).max(9.0)
        } else {
            18.0
        };
        self.ops().push(Op::Text {
            x: inner,
            y: section_top + 41.0,
            size,
            color: INK,
            shaped,
        });
        if let Some(sub) = sub {
            self.text(inner, section_top + 58.0, &sub, Style::Regular, 8.5, MUTED);
        }

        self.y = y.max(section_top + box_h) + 20.0;
    }

    fn columns(&self) -> Vec<Column<'a>> {
        let l = self.labels;
        let c = |label: &'a str, width: f32, align: Align| Column {
            label,
            width,
            align,
        };
        // Room for "-99,999.99" at 9 pt in every amount column.
        let fixed = 34.0 + 58.0 + 58.0 + 38.0 + 52.0 + 62.0;
        vec![
            c(&l.description, CONTENT_W - fixed, Align::Left),
            c(&l.quantity, 34.0, Align::Right),
            c(&l.unit_price, 58.0, Align::Right),
            c(&l.net, 58.0, Align::Right),
            c(&l.tax_rate, 38.0, Align::Right),
            c(&l.tax, 52.0, Align::Right),
            c(&l.total, 62.0, Align::Right),
        ]
    }

    fn table_header(&mut self) {
        let h = HEADER_H;
        self.rect(LEFT, self.y, CONTENT_W, h, SHADE);
        let baseline = self.y + 13.5;
        let mut x = LEFT;
        for col in self.columns() {
            match col.align {
                Align::Left => {
                    self.text(x + PAD, baseline, col.label, Style::Bold, 8.0, INK);
                }
                Align::Right => self.text_right_fit(
                    x + col.width - PAD,
                    baseline,
                    col.label,
                    Style::Bold,
                    8.0,
                    INK,
                    col.width - 2.0 * PAD,
                ),
            }
            x += col.width;
        }
        self.y += h;
    }

    fn lines_table(&mut self) {
        let doc = self.doc;
        let columns = self.columns();
        let desc_w = columns[0].width - 2.0 * PAD;
        self.ensure(HEADER_H + 30.0);
        self.table_header();
        for line in &doc.lines {
            let desc = self
                .fonts
                .wrap(&line.description, Style::Regular, 9.0, desc_w);
            let period = match line.period.as_deref() {
                Some(p) if !p.trim().is_empty() => self.fonts.wrap(p, Style::Regular, 7.5, desc_w),
                _ => Vec::new(),
            };
            let row_h = 5.0 + desc.len() as f32 * 11.0 + period.len() as f32 * 9.0 + 4.0;
            // A row is kept on one page, unless it is taller than a page: then it breaks
            // between its text lines.
            let first_h = 5.0 + 11.0 + 4.0;
            let need = if row_h <= self.body_height() - HEADER_H {
                row_h
            } else {
                first_h
            };
            if self.ensure(need) {
                self.table_header();
            }
            let top = self.y + 5.0;
            let values = [
                &line.quantity,
                &line.unit_price,
                &line.net,
                &line.tax_rate,
                &line.tax,
                &line.total,
            ];
            let mut x = LEFT + columns[0].width;
            for (i, (col, value)) in columns[1..].iter().zip(values).enumerate() {
                let style = if i == values.len() - 1 {
                    Style::Bold
                } else {
                    Style::Regular
                };
                self.text_right_fit(
                    x + col.width - PAD,
                    top + ascent(9.0),
                    value,
                    style,
                    9.0,
                    INK,
                    col.width - 2.0 * PAD,
                );
                x += col.width;
            }
            let mut ty = top;
            let texts = desc
                .iter()
                .map(|d| (d, 9.0, 11.0, INK))
                .chain(period.iter().map(|p| (p, 7.5, 9.0, MUTED)));
            for (t, size, leading, color) in texts {
                if ty + leading + 4.0 > self.bottom {
                    self.new_page();
                    self.table_header();
                    ty = self.y + 5.0;
                }
                self.text(
                    LEFT + PAD,
                    ty + ascent(size),
                    t,
                    Style::Regular,
                    size,
                    color,
                );
                ty += leading;
            }
            self.y = ty + 4.0;
            self.hline(LEFT, RIGHT, self.y, 0.5, RULE);
        }
    }

    fn summary(&mut self) {
        let doc = self.doc;
        let labels = self.labels;
        let breakdown_h = if doc.tax_breakdown.is_empty() {
            0.0
        } else {
            16.0 + 15.0 + doc.tax_breakdown.len() as f32 * 15.0
        };
        let totals_rows = 4 + usize::from(doc.totals.paid.is_some());
        let totals_h = totals_rows as f32 * 17.0 + 10.0;
        // The payment instructions go under the tax breakdown, beside the totals, when the
        // whole block fits on a page; otherwise they follow as a section of their own.
        let payment_lines: Vec<String> = doc
            .payment_instructions
            .iter()
            .flat_map(|l| self.fonts.wrap(l, Style::Regular, 8.5, SUMMARY_LEFT_W))
            .collect();
        let mut left_h = breakdown_h;
        if !payment_lines.is_empty() {
            let payment_h = 14.0 + payment_lines.len() as f32 * 11.5;
            let with_payment = left_h + if left_h > 0.0 { 14.0 } else { 0.0 } + payment_h;
            if with_payment.max(totals_h) <= self.body_height() {
                left_h = with_payment;
                self.payment_done = true;
            }
        }
        self.y += 14.0;
        // Kept together: on a fresh page the block starts at the top.
        self.ensure(left_h.max(totals_h));
        let top = self.y;

        // Tax breakdown, left.
        if !doc.tax_breakdown.is_empty() {
            let x = LEFT;
            let w = SUMMARY_LEFT_W;
            let (c_rate, c_net, c_tax) = (x + PAD, x + w - 80.0, x + w - PAD);
            let mut y = top;
            self.text(
                x,
                y + ascent(8.5),
                &labels.tax_breakdown,
                Style::Bold,
                8.5,
                ACCENT,
            );
            y += 16.0;
            self.rect(x, y, w, 15.0, SHADE);
            let b = y + 10.5;
            self.text(c_rate, b, &labels.rate, Style::Bold, 7.5, INK);
            self.text_right(c_net - PAD, b, &labels.net, Style::Bold, 7.5, INK);
            self.text_right(c_tax, b, &labels.tax, Style::Bold, 7.5, INK);
            y += 15.0;
            for row in &doc.tax_breakdown {
                let b = y + 10.5;
                let rate_w = w - 80.0 - 80.0;
                let shaped = self.fonts.shape(&row.rate, Style::Regular);
                let size = if shaped.width_at(8.5) > rate_w && shaped.width > 0.0 {
                    (rate_w / shaped.width).max(5.5)
                } else {
                    8.5
                };
                self.ops().push(Op::Text {
                    x: c_rate,
                    y: b,
                    size,
                    color: INK,
                    shaped,
                });
                self.text_right_fit(c_net - PAD, b, &row.net, Style::Regular, 8.5, INK, 70.0);
                self.text_right_fit(c_tax, b, &row.tax, Style::Regular, 8.5, INK, 70.0);
                y += 15.0;
                self.hline(x, x + w, y, 0.5, RULE);
            }
        }

        // Payment instructions, left under the breakdown.
        if self.payment_done {
            let mut y = top
                + if breakdown_h > 0.0 {
                    breakdown_h + 14.0
                } else {
                    0.0
                };
            let heading = labels.payment.clone();
            self.text(LEFT, y + ascent(8.5), &heading, Style::Bold, 8.5, ACCENT);
            y += 14.0;
            for line in &payment_lines {
                self.text(LEFT, y + ascent(8.5), line, Style::Regular, 8.5, INK);
                y += 11.5;
            }
        }

        // Totals, right.
        let w = 230.0;
        let x = RIGHT - w;
        let mut y = top;
        let row = |l: &mut Self, y: f32, label: &str, value: &str, style: Style, size: f32| {
            let b = y + 12.0;
            l.text(x + PAD, b, label, style, size, INK);
            l.text_right_fit(RIGHT - PAD, b, value, style, size, INK, w - 100.0);
        };
        row(
            self,
            y,
            &labels.total_net,
            &doc.totals.net,
            Style::Regular,
            9.0,
        );
        y += 17.0;
        row(
            self,
            y,
            &labels.total_tax,
            &doc.totals.tax,
            Style::Regular,
            9.0,
        );
        y += 17.0;
        self.hline(x, RIGHT, y, 0.75, INK);
        let total = self.money(&doc.totals.total);
        row(
            self,
            y + 1.0,
            &labels.total_gross,
            &total,
            Style::Bold,
            10.0,
        );
        y += 19.0;
        if let Some(paid) = &doc.totals.paid {
            row(self, y, &labels.paid, paid, Style::Regular, 9.0);
            y += 17.0;
        }
        y += 3.0;
        let due_label = match doc.kind {
            DocumentKind::Invoice => &labels.amount_due,
            DocumentKind::CreditNote { .. } => &labels.amount_credited,
        };
        self.rect(x, y, w, 21.0, ACCENT);
        let b = y + 14.5;
        self.text(x + PAD + 2.0, b, due_label, Style::Bold, 10.0, WHITE);
        let due = self.money(&doc.totals.due);
        self.text_right_fit(
            RIGHT - PAD - 2.0,
            b,
            &due,
            Style::Bold,
            10.0,
            WHITE,
            w - 100.0,
        );
        y += 21.0;

        self.y = (top + left_h).max(y) + 18.0;
    }

    fn section_heading(&mut self, heading: &str) {
        self.text(
            LEFT,
            self.y + ascent(9.0),
            heading,
            Style::Bold,
            9.0,
            ACCENT,
        );
        self.y += 14.0;
    }

    fn payment(&mut self) {
        if self.payment_done {
            return;
        }
        let lines: Vec<String> = self
            .doc
            .payment_instructions
            .iter()
            .flat_map(|l| self.fonts.wrap(l, Style::Regular, 8.5, CONTENT_W))
            .collect();
        if lines.is_empty() {
            return;
        }
        let h = 14.0 + lines.len() as f32 * 11.5;
        // Kept together when it fits on one page.
        if h <= self.body_height() {
            self.ensure(h);
        } else {
            self.ensure(14.0 + 11.5);
        }
        self.section_heading(&self.labels.payment.clone());
        for line in lines {
            self.ensure(11.5);
            self.text(LEFT, self.y + ascent(8.5), &line, Style::Regular, 8.5, INK);
            self.y += 11.5;
        }
        self.y += 14.0;
    }

    fn notes(&mut self) {
        let notes: Vec<Vec<String>> = self
            .doc
            .notes
            .iter()
            .filter(|n| !n.trim().is_empty())
            .map(|n| self.fonts.wrap(n, Style::Regular, 8.0, CONTENT_W))
            .collect();
        if notes.is_empty() {
            return;
        }
        let first_h = notes[0].len() as f32 * 10.5;
        self.ensure(14.0 + first_h.min(10.5 * 3.0));
        self.section_heading(&self.labels.notes.clone());
        for note in notes {
            let h = note.len() as f32 * 10.5;
            if h <= self.body_height() {
                self.ensure(h);
            }
            for line in note {
                self.ensure(10.5);
                self.text(LEFT, self.y + ascent(8.0), &line, Style::Regular, 8.0, INK);
                self.y += 10.5;
            }
            self.y += 4.0;
        }
    }

    /// Adds the footer (text, document number, "page x of y") to every page.
    fn finish(mut self) -> Vec<Vec<Op>> {
        let total = self.pages.len();
        let footer_lines = std::mem::take(&mut self.footer_lines);
        let number = self.doc.number.clone();
        let rule_y = footer_top(footer_lines.len());
        for i in 0..total {
            self.current = i;
            self.hline(LEFT, RIGHT, rule_y, 0.5, RULE);
            let mut y = rule_y + 11.0;
            for line in &footer_lines {
                self.text_center(PAGE_W / 2.0, y, line, Style::Regular, 7.0, MUTED);
                y += 9.0;
            }
            let page_of = self
                .labels
                .page_of
                .replace("{page}", &(i + 1).to_string())
                .replace("{pages}", &total.to_string());
            self.text(LEFT, PAGE_H - 26.0, &number, Style::Regular, 7.0, MUTED);
            self.text_right(RIGHT, PAGE_H - 26.0, &page_of, Style::Regular, 7.0, MUTED);
        }
        self.pages
    }
}

/// The y of the footer's rule, given how many lines of footer text there are.
fn footer_top(lines: usize) -> f32 {
    PAGE_H - 26.0 - 14.0 - lines as f32 * 9.0 - 2.0
}

/// Distance from the top of a line box to the baseline.
fn ascent(size: f32) -> f32 {
    size * 0.8
}

/// The printed lines under a party's name.
fn party_details(p: &crate::model::Party, labels: &Labels) -> Vec<String> {
    let mut out: Vec<String> = p
        .address_lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .cloned()
        .collect();
    if let Some(c) = p.country.as_ref().filter(|c| !c.trim().is_empty()) {
        out.push(c.clone());
    }
    if let Some(t) = p.tax_id.as_ref().filter(|t| !t.trim().is_empty()) {
        out.push(format!("{}: {}", labels.tax_id, t));
    }
    if let Some(e) = p.email.as_ref().filter(|e| !e.trim().is_empty()) {
        out.push(e.clone());
    }
    out.extend(
        p.extra_lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned(),
    );
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::invoice;

    /// Every page's content stays inside the margins and above the footer.
    fn check_bounds(doc: &InvoiceDocument) -> usize {
        let fonts = Fonts::new(&[]).unwrap();
        let pages = layout(doc, &Labels::default(), &fonts);
        let footer_lines = doc
            .footer
            .as_deref()
            .map_or(0, |f| fonts.wrap(f, Style::Regular, 7.0, CONTENT_W).len());
        let rule = footer_top(footer_lines);
        for (p, ops) in pages.iter().enumerate() {
            for op in ops {
                match op {
                    Op::Text {
                        x, y, size, shaped, ..
                    } => {
                        let right = x + shaped.width_at(*size);
                        assert!(
                            *x >= LEFT - 0.01 && right <= RIGHT + 0.01,
                            "page {p}: {op:?}"
                        );
                        if *size > 7.0 {
                            assert!(*y < rule - 4.0, "page {p} overlaps the footer: {op:?}");
                        }
                        assert!(*y > TOP && *y < PAGE_H - 20.0, "page {p}: {op:?}");
                    }
                    Op::Rect { x, y, w, h, .. } => {
                        assert!(*x >= LEFT - 0.01 && x + w <= RIGHT + 0.01, "{op:?}");
                        assert!(*y >= TOP && y + h < rule, "page {p}: {op:?}");
                    }
                    Op::Line { x1, x2, y1, .. } => {
                        assert!(*x1 >= LEFT - 0.01 && *x2 <= RIGHT + 0.01, "{op:?}");
                        assert!(*y1 <= rule + 0.01, "page {p}: {op:?}");
                    }
                }
            }
        }
        pages.len()
    }

    #[test]
    fn content_stays_inside_the_page_for_any_number_of_lines() {
        let mut last = 0;
        for n in [0, 1, 3, 7, 12, 25, 60, 150] {
            let pages = check_bounds(&invoice(n));
            assert!(pages >= last, "{n} lines: {pages} pages");
            last = pages;
        }
        assert!(last >= 8);
    }

    #[test]
    fn a_row_taller_than_a_page_breaks_between_its_lines() {
        let mut doc = invoice(2);
        doc.lines[1].description = "A very long description of many words. ".repeat(300);
        assert!(check_bounds(&doc) >= 3);
    }

    #[test]
    fn long_names_and_huge_amounts_shrink_or_wrap_but_stay_inside() {
        let mut doc = invoice(4);
        doc.seller.name =
            "Bäckerei Sonnenschein Hosting- und Internetdienstleistungen GmbH & Co. KG".into();
        doc.buyer.name = doc.seller.name.repeat(2);
        doc.lines[0].total = "123,456,789,012.00".into();
        doc.lines[0].unit_price = "-123,456,789.00".into();
        doc.totals.due = "123,456,789,012,345.67".into();
        doc.tax_breakdown[0].rate =
            "20% standard rate of value added tax (metropolitan France)".into();
        let labels = Labels {
            credit_note: "Facture rectificative d'avoir".into(),
            ..Labels::default()
        };
        doc.kind = DocumentKind::CreditNote {
            corrects: "INV-2026-000123".into(),
        };
        let fonts = Fonts::new(&[]).unwrap();
        assert_eq!(layout(&doc, &labels, &fonts).len(), 1);
        check_bounds(&doc);
    }
}
