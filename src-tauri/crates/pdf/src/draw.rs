//! Writes the laid-out pages with krilla.

use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::{Document, SerializeSettings};

use crate::layout::{Op, Rgb, PAGE_H, PAGE_W};
use crate::model::{DocumentKind, InvoiceDocument, PdfDate, RenderOptions};
use crate::text::Fonts;
use crate::PdfError;

pub(crate) fn draw(
    doc: &InvoiceDocument,
    options: &RenderOptions,
    fonts: &Fonts,
    pages: &[Vec<Op>],
) -> Result<Vec<u8>, PdfError> {
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_U)
        .finish()
        .map_err(|e| PdfError::Pdf(format!("configuration: {e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    document.set_metadata(metadata(doc, options)?);

    let size = Size::from_wh(PAGE_W, PAGE_H).ok_or_else(|| PdfError::Pdf("page size".into()))?;
    for ops in pages {
        let mut page = document.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    color,
                    shaped,
                } => {
                    surface.set_fill(Some(fill(*color)));
                    surface.set_stroke(None);
                    let mut cx = *x;
                    for run in &shaped.runs {
                        if !run.glyphs.is_empty() {
                            surface.draw_glyphs(
                                Point::from_xy(cx, *y),
                                &run.glyphs,
                                fonts.krilla_font(run.face),
                                &run.text,
                                *size,
                                false,
                            );
                        }
                        cx += run.width * size;
                    }
                }
                Op::Rect { x, y, w, h, color } => {
                    let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                        continue;
                    };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(fill(*color)));
                        surface.set_stroke(None);
                        surface.draw_path(&path);
                    }
                }
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                    color,
                } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            paint: color_of(*color).into(),
                            width: *width,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }

    document
        .finish()
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))
}

fn color_of(c: Rgb) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: color_of(c).into(),
        ..Fill::default()
    }
}

fn metadata(doc: &InvoiceDocument, options: &RenderOptions) -> Result<Metadata, PdfError> {
    let labels = &options.labels;
    let title = match &doc.kind {
        DocumentKind::Invoice => format!("{} {}", labels.invoice, doc.number),
        DocumentKind::CreditNote { .. } => format!("{} {}", labels.credit_note, doc.number),
    };
    let mut m = Metadata::new()
        .title(title)
        .authors(vec![doc.seller.name.clone()])
        .creator("Hostdesk".to_string())
        .document_id(format!("hostdesk:{}", doc.number));
    if !labels.language.trim().is_empty() {
        m = m.language(labels.language.clone());
    }
    Ok(m.creation_date(date_time(doc.created)?))
}

fn date_time(d: PdfDate) -> Result<DateTime, PdfError> {
    let valid = d.year >= 1
        && (1..=12).contains(&d.month)
        && (1..=31).contains(&d.day)
        && d.hour < 24
        && d.minute < 60
        && d.second < 60;
    if !valid {
        return Err(PdfError::Input(format!(
            "invalid creation date (InvoiceDocument::created) {d:?}"
        )));
    }
    Ok(DateTime::new(d.year)
        .month(d.month)
        .day(d.day)
        .hour(d.hour)
        .minute(d.minute)
        .second(d.second)
        .utc_offset_hour(0)
        .utc_offset_minute(0))
}
