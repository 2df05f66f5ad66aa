//! Fonts, shaping, measuring and wrapping.
//!
//! Text is shaped with rustybuzz (kerning, combining accents) one run per font: each character
//! goes to the first font of the chain (the embedded Liberation Sans of the wanted weight, then
//! the caller's fallback fonts) that has a glyph for it. A character no font has is drawn as a
//! placeholder glyph of the primary font while its text range still points at the real
//! character, so the PDF's text layer (copy, search, `pdftotext`) keeps it.

use std::ops::Range;
use std::sync::Arc;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Data;
use rustybuzz::{Direction, UnicodeBuffer};

use crate::PdfError;

static REGULAR: &[u8] = include_bytes!("../fonts/LiberationSans-Regular.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/LiberationSans-Bold.ttf");

/// The weight of a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Regular,
    Bold,
}

struct FaceData {
    bytes: Data,
    font: Font,
}

/// The embedded fonts plus the caller's fallbacks. Index 0 is regular, 1 bold, 2.. fallbacks.
pub(crate) struct Fonts {
    faces: Vec<FaceData>,
}

/// A run of glyphs in one font.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub face: usize,
    pub text: String,
    pub glyphs: Vec<KrillaGlyph>,
    /// Advance width in em.
    pub width: f32,
}

/// A shaped single line of text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shaped {
    pub runs: Vec<Run>,
    /// Advance width in em.
    pub width: f32,
}

impl Shaped {
    /// Width in points at `size`.
    pub fn width_at(&self, size: f32) -> f32 {
        self.width * size
    }
}

impl Fonts {
    pub fn new(fallbacks: &[Vec<u8>]) -> Result<Self, PdfError> {
        let mut faces = Vec::with_capacity(2 + fallbacks.len());
        for (i, bytes) in [Data::from(REGULAR), Data::from(BOLD)]
            .into_iter()
            .chain(fallbacks.iter().map(|f| Data::from(Arc::new(f.clone()))))
            .enumerate()
        {
            let font = Font::new(bytes.clone(), 0).ok_or_else(|| {
                PdfError::Font(format!("font {i} is not a readable TrueType/OpenType font"))
            })?;
            if rustybuzz::Face::from_slice(bytes.as_ref(), 0).is_none() {
                return Err(PdfError::Font(format!("font {i} cannot be shaped")));
            }
            faces.push(FaceData { bytes, font });
        }
        Ok(Self { faces })
    }

    pub fn krilla_font(&self, face: usize) -> Font {
        self.faces[face].font.clone()
    }

    fn rb_faces(&self) -> Vec<rustybuzz::Face<'_>> {
        // Checked in `new`: every face parses.
        self.faces
            .iter()
            .filter_map(|f| rustybuzz::Face::from_slice(f.bytes.as_ref(), 0))
            .collect()
    }

    fn chain(&self, style: Style) -> impl Iterator<Item = usize> {
        let primary = match style {
            Style::Regular => 0,
            Style::Bold => 1,
        };
        std::iter::once(primary).chain(2..self.faces.len())
    }

    /// Shape one line of text (newlines are treated as spaces).
    pub fn shape(&self, text: &str, style: Style) -> Shaped {
        let cleaned: String;
        let text = if text.chars().any(char::is_control) {
            cleaned = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            cleaned.as_str()
        } else {
            text
        };
        let faces = self.rb_faces();
        let primary = self.chain(style).next().unwrap_or(0);
        let chain: Vec<usize> = self.chain(style).collect();

        // 1. Split into segments of one font each (`None`: no font has the character).
        let mut segments: Vec<(Option<usize>, Range<usize>)> = Vec::new();
        for (at, c) in text.char_indices() {
            let end = at + c.len_utf8();
            let current = segments.last().map(|(face, _)| *face);
            let face = if is_mark(c) || c.is_whitespace() {
                match current {
                    Some(Some(f)) if faces[f].glyph_index(c).is_some() || !is_mark(c) => Some(f),
                    _ => chain
                        .iter()
                        .copied()
                        .find(|&f| faces[f].glyph_index(c).is_some())
                        .or(Some(primary)),
                }
            } else {
                chain
                    .iter()
                    .copied()
                    .find(|&f| faces[f].glyph_index(c).is_some())
            };
            match segments.last_mut() {
                Some((last, range)) if *last == face => range.end = end,
                _ => segments.push((face, at..end)),
            }
        }

        // 2. Shape each segment.
        let mut shaped = Shaped::default();
        for (face, range) in segments {
            let sub = &text[range];
            let run = match face {
                Some(f) => shape_run(&faces[f], f, sub),
                None => placeholder_run(&faces[primary], primary, sub),
            };
            shaped.width += run.width;
            shaped.runs.push(run);
        }
        shaped
    }

    /// Width of `text` in points.
    pub fn width(&self, text: &str, style: Style, size: f32) -> f32 {
        self.shape(text, style).width_at(size)
    }

    /// Greedy word wrap into lines no wider than `max_width` points. Explicit newlines start a
    /// new line; a word wider than a line is broken between characters.
    pub fn wrap(&self, text: &str, style: Style, size: f32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let space = self.width(" ", style, size);
        for paragraph in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in paragraph.split_whitespace() {
                let w = self.width(word, style, size);
                if !line.is_empty() && line_w + space + w <= max_width {
                    line.push(' ');
                    line.push_str(word);
                    line_w += space + w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if w <= max_width {
                    line = word.to_string();
                    line_w = w;
                } else {
                    // Break the long word between characters.
                    let mut piece = String::new();
                    for c in word.chars() {
                        let mut candidate = piece.clone();
                        candidate.push(c);
                        if !piece.is_empty() && self.width(&candidate, style, size) > max_width {
                            lines.push(std::mem::take(&mut piece));
                            piece.push(c);
                        } else {
                            piece = candidate;
                        }
                    }
                    line_w = self.width(&piece, style, size);
                    line = piece;
                }
            }
            lines.push(line);
        }
        // Drop trailing empty lines but keep at least one.
        while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }
}

/// Combining marks stay in the font of the character they sit on.
fn is_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
        | 0x3099..=0x309A)
}

fn shape_run(face: &rustybuzz::Face<'_>, index: usize, text: &str) -> Run {
    let upem = face.units_per_em() as f32;
    let mut buffer = UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let dir = buffer.direction();
    let output = rustybuzz::shape(face, &[], buffer);
    let positions = output.glyph_positions();
    let infos = output.glyph_infos();

    let mut glyphs = Vec::with_capacity(output.len());
    let mut width = 0.0;
    for i in 0..output.len() {
        let pos = positions[i];
        let info = infos[i];
        let start = info.cluster as usize;
        // The cluster ends where the next cluster (in logical order) starts.
        let end = if dir == Direction::RightToLeft || dir == Direction::BottomToTop {
            infos[..i]
                .iter()
                .rev()
                .find(|o| o.cluster != info.cluster)
                .map_or(text.len(), |o| o.cluster as usize)
        } else {
            infos[i + 1..]
                .iter()
                .find(|o| o.cluster != info.cluster)
                .map_or(text.len(), |o| o.cluster as usize)
        };
        let advance = pos.x_advance as f32 / upem;
        width += advance;
        glyphs.push(KrillaGlyph::new(
            GlyphId::new(info.glyph_id),
            advance,
            pos.x_offset as f32 / upem,
            pos.y_offset as f32 / upem,
            pos.y_advance as f32 / upem,
            start..end.max(start),
            None,
        ));
    }
    Run {
        face: index,
        text: text.to_string(),
        glyphs,
        width,
    }
}

/// One placeholder glyph per character no font has (never `.notdef`, which PDF/A forbids).
fn placeholder_run(face: &rustybuzz::Face<'_>, index: usize, text: &str) -> Run {
    let upem = face.units_per_em() as f32;
    let glyph = ['\u{25A1}', '\u{FFFD}', '?']
        .into_iter()
        .find_map(|c| face.glyph_index(c))
        .unwrap_or_default();
    let advance = face.glyph_hor_advance(glyph).unwrap_or(0) as f32 / upem;
    let mut glyphs = Vec::new();
    let mut width = 0.0;
    for (at, c) in text.char_indices() {
        width += advance;
        glyphs.push(KrillaGlyph::new(
            GlyphId::new(u32::from(glyph.0)),
            advance,
            0.0,
            0.0,
            0.0,
            at..at + c.len_utf8(),
            None,
        ));
    }
    Run {
        face: index,
        text: text.to_string(),
        glyphs,
        width,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn latin_text_uses_the_embedded_font_only() {
        let fonts = Fonts::new(&[]).unwrap();
        let s = fonts.shape(
            "Bäckerei Sonnenschein GmbH · Café Olé · Müller & Söhne · Łódź · Œuvre",
            Style::Regular,
        );
        assert_eq!(s.runs.len(), 1);
        assert_eq!(s.runs[0].face, 0);
        assert!(s.runs[0].glyphs.iter().all(|g| g.glyph_id.to_u32() != 0));
    }

    #[test]
    fn decomposed_accents_stay_in_one_run() {
        let fonts = Fonts::new(&[]).unwrap();
        let s = fonts.shape("Cafe\u{301} Ole\u{301}", Style::Bold);
        assert_eq!(s.runs.len(), 1);
        assert_eq!(s.runs[0].face, 1);
    }

    #[test]
    fn missing_characters_get_a_placeholder_not_notdef() {
        let fonts = Fonts::new(&[]).unwrap();
        let s = fonts.shape("株式会社さくら Web", Style::Regular);
        assert!(s
            .runs
            .iter()
            .flat_map(|r| &r.glyphs)
            .all(|g| g.glyph_id.to_u32() != 0));
        let text: String = s.runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "株式会社さくら Web");
    }

    #[test]
    fn wrap_respects_width_and_breaks_long_words() {
        let fonts = Fonts::new(&[]).unwrap();
        let lines = fonts.wrap(
            "Open Atrium site package — Premium with 50 GB storage and daily backups",
            Style::Regular,
            9.0,
            120.0,
        );
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(fonts.width(l, Style::Regular, 9.0) <= 120.0, "{l}");
        }
        let long = fonts.wrap(&"x".repeat(200), Style::Regular, 9.0, 100.0);
        assert!(long.len() > 1);
        assert_eq!(long.concat(), "x".repeat(200));
        assert_eq!(
            fonts.wrap("", Style::Regular, 9.0, 100.0),
            vec![String::new()]
        );
    }

    #[test]
    fn a_broken_fallback_font_is_an_error() {
        assert!(matches!(
            Fonts::new(&[vec![1, 2, 3]]),
            Err(PdfError::Font(_))
        ));
    }
}
