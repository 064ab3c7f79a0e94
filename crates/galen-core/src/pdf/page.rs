//! A small page writer over printpdf: text that wraps and flows onto new pages, rules, filled boxes, QR codes,
//! barcodes and images, in points with y measured from the top of the page. Every page gets a footer with
//! "Page i of n" once the total is known.
//!
//! Drawing is deterministic: the same calls give byte-identical page content streams, fonts and images, and the
//! same file. printpdf names fonts and images with a process-wide counter and gives each file a random id, so
//! the writer names them itself, from a `seed` its caller chooses (a signed document's hash), and sets the id
//! from the same seed. `pdf::verify_file` depends on it: it draws a signed document again and compares.

use crate::documents::wording::Words;
use crate::settings::{Logo, PaperSize};
use printpdf::{
    Color, FontId, Greyscale, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Pt, RawImage, Rect, TextItem, WindingOrder, XObject, XObjectId, XObjectTransform,
};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The most pixels a logo may have (4096 × 2048, 32 MiB as RGBA).
const MAX_IMAGE_PIXELS: u64 = 4096 * 2048;

/// A PNG's or JPEG's width and height, from its header alone.
fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| bytes.get(i..i + 2).map(|b| u32::from(u16::from_be_bytes([b[0], b[1]])));
    let be32 = |i: usize| bytes.get(i..i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        return Some((be32(16)?, be32(20)?));
    }
    if !bytes.starts_with(&[0xff, 0xd8]) {
        return None;
    }
    // JPEG: walk the segments to the first start-of-frame marker (C0–CF but C4, C8 and CC).
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xff {
            return None;
        }
        let marker = bytes[i + 1];
        if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
            return Some((be16(i + 7)?, be16(i + 5)?));
        }
        i += 2 + be16(i + 2)? as usize;
    }
    None
}

/// How far inside its grid a QR's dark area is drawn, in modules (`Writer::qr`).
const QR_INSET: f32 = 0.15;

const REGULAR: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSansMono.ttf");

pub const MM: f32 = 72.0 / 25.4;
const MARGIN: f32 = 18.0 * MM;
/// Room kept free at the bottom of every page for the footer.
const FOOTER: f32 = 12.0 * MM;
const LEADING: f32 = 1.35;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
    Mono,
}

/// The embedded faces, parsed once per process (about 1 ms each).
fn faces() -> &'static [ParsedFont; 3] {
    static FACES: OnceLock<[ParsedFont; 3]> = OnceLock::new();
    FACES.get_or_init(|| {
        let parse = |bytes: &[u8]| {
            #[allow(clippy::expect_used)]
            ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).expect("the fonts shipped in assets/fonts parse")
        };
        [parse(REGULAR), parse(BOLD), parse(MONO)]
    })
}

fn font(face: Face) -> &'static ParsedFont {
    &faces()[face as usize]
}

/// The width of `text` set in `face` at `size` points.
pub fn text_width(face: Face, size: f32, text: &str) -> f32 {
    let f = font(face);
    let units: u32 = text
        .chars()
        .map(|c| f.lookup_glyph_index(c as u32).map(|g| u32::from(f.get_horizontal_advance(g))).unwrap_or(0))
        .sum();
    units as f32 * size / f32::from(f.font_metrics.units_per_em.max(1))
}

/// Splits `text` into lines no wider than `width`: at spaces where possible, inside a word only when it alone is
/// too wide. Explicit newlines are kept.
pub fn wrap(face: Face, size: f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if text_width(face, size, &candidate) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if text_width(face, size, &line) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        lines.push(line);
    }
    lines
}

pub fn paper_size(paper: PaperSize) -> (f32, f32) {
    match paper {
        PaperSize::A4 => (210.0 * MM, 297.0 * MM),
        PaperSize::Letter => (612.0, 792.0),
    }
}

/// What `Writer` draws on each page other than the first, and in every footer.
#[derive(Debug, Clone)]
pub struct Running {
    /// Shown at the top of continuation pages, e.g. "Clínica Sol — Prescription for Ana Müller (continued)".
    pub header: String,
    /// Shown at the bottom left of every page, before "Page i of n".
    pub footer: String,
    /// The language of the page: "Page i of n" and everything the layout prints.
    pub words: Words,
}

/// How wide a field's label may be before it wraps (its column is 46 mm).
pub const FIELD_LABEL_FITS: f32 = 44.0 * MM;

pub struct Writer {
    doc: PdfDocument,
    fonts: [FontId; 3],
    pub width: f32,
    pub height: f32,
    pages: Vec<Vec<Op>>,
    /// The next baseline, from the top of the page.
    pub y: f32,
    running: Running,
    seed: [u8; 32],
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("pages", &self.pages.len()).field("y", &self.y).finish_non_exhaustive()
    }
}

impl Writer {
    /// A writer for one document; `seed` names its fonts and its file id (the same seed and the same drawing give
    /// the same bytes).
    pub fn new(title: &str, paper: PaperSize, running: Running, seed: &[u8]) -> Self {
        let mut doc = PdfDocument::new(title);
        doc.metadata.info.creator = "Galen".into();
        doc.metadata.info.producer = "Galen (printpdf)".into();
        let fonts = [Face::Regular, Face::Bold, Face::Mono].map(|face| {
            // Six capital letters: also the font subset's tag (ISO 32000-1 §9.6.4), e.g. `QWERTY+DejaVuSans`.
            let hash = Sha256::new().chain_update(seed).chain_update([face as u8]).finalize();
            let id = FontId(hash.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect());
            doc.resources.fonts.map.insert(id.clone(), PdfFont::new(font(face).clone()));
            id
        });
        let (width, height) = paper_size(paper);
        let seed = Sha256::digest(seed).into();
        Writer { doc, fonts, width, height, pages: vec![Vec::new()], y: MARGIN, running, seed }
    }

    pub fn left(&self) -> f32 {
        MARGIN
    }

    /// The language this page is worded in.
    pub fn words(&self) -> Words {
        self.running.words
    }

    pub fn right(&self) -> f32 {
        self.width - MARGIN
    }

    pub fn content_width(&self) -> f32 {
        self.width - 2.0 * MARGIN
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        // `pages` always holds at least the first page.
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page when fewer than `height` points are left above the footer.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > self.height - MARGIN - FOOTER + 6.0 * MM {
            self.new_page();
        }
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
        if !self.running.header.is_empty() {
            let header = self.running.header.clone();
            self.line(Face::Regular, 8.0, &header, 0.45);
            self.rule(0.5);
        }
    }

    /// Draws one line of text with its baseline at `y` from the top; `grey` 0 is black.
    pub fn text_at(&mut self, x: f32, y: f32, face: Face, size: f32, text: &str, grey: f32) {
        let font = PdfFontHandle::External(self.fonts[face as usize].clone());
        let pos = Point { x: Pt(x), y: Pt(self.height - y) };
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFillColor { col: Color::Greyscale(Greyscale::new(grey, None)) },
            Op::SetFont { font, size: Pt(size) },
            Op::SetTextCursor { pos },
            Op::ShowText { items: vec![TextItem::Text(text.to_owned())] },
            Op::EndTextSection,
        ]);
    }

    /// One line at the left margin, moving down by its leading.
    pub fn line(&mut self, face: Face, size: f32, text: &str, grey: f32) {
        self.ensure(size * LEADING);
        self.y += size;
        let x = self.left();
        self.text_at(x, self.y, face, size, text, grey);
        self.y += size * (LEADING - 1.0);
    }

    /// Wrapped text starting `indent` points in from the left margin; it flows onto new pages.
    pub fn paragraph(&mut self, face: Face, size: f32, text: &str, indent: f32) {
        for l in wrap(face, size, text, self.content_width() - indent) {
            self.ensure(size * LEADING);
            self.y += size;
            let x = self.left() + indent;
            self.text_at(x, self.y, face, size, &l, 0.0);
            self.y += size * (LEADING - 1.0);
        }
    }

    /// Wrapped text with `label` (e.g. "2.") hanging in the left margin of its first line.
    pub fn numbered(&mut self, label: &str, face: Face, size: f32, text: &str, indent: f32) {
        self.ensure(size * LEADING * 2.0);
        let (x, first) = (self.left(), self.y + size);
        self.text_at(x, first, face, size, label, 0.0);
        self.paragraph(face, size, text, indent);
    }

    /// A label in grey and its value on the same line, the value wrapping under itself.
    pub fn field(&mut self, label: &str, value: &str) {
        const SIZE: f32 = 10.0;
        const LABEL: f32 = 46.0 * MM;
        let lines = wrap(Face::Regular, SIZE, value, self.content_width() - LABEL);
        // A label longer than its column (other languages' are) wraps under itself; English labels all fit on
        // one line, so their pages draw as they always did.
        let labels = wrap(Face::Regular, SIZE, label, FIELD_LABEL_FITS);
        self.ensure(SIZE * LEADING * lines.len().max(labels.len()).min(3) as f32);
        self.y += SIZE;
        let x = self.left();
        let top = self.y;
        for (i, l) in labels.iter().enumerate() {
            self.text_at(x, top + i as f32 * SIZE * LEADING, Face::Regular, SIZE, l, 0.4);
        }
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                self.ensure(SIZE * LEADING);
                self.y += SIZE * LEADING;
            }
            self.text_at(x + LABEL, self.y, Face::Regular, SIZE, l, 0.0);
        }
        self.y = self.y.max(top + (labels.len().max(1) - 1) as f32 * SIZE * LEADING);
        self.y += SIZE * (LEADING - 1.0);
    }

    pub fn gap(&mut self, points: f32) {
        self.y += points;
    }

    /// A horizontal line across the text column, with a little space around it.
    pub fn rule(&mut self, weight: f32) {
        self.y += 3.0;
        let (x, y, w) = (self.left(), self.y, self.content_width());
        self.fill(x, y, w, weight, 0.6);
        self.y += 5.0;
    }

    /// A filled rectangle whose top-left corner is (`x`, `y` from the top).
    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) {
        let rect = Rect {
            x: Pt(x),
            y: Pt(self.height - y - h),
            width: Pt(w),
            height: Pt(h),
            mode: Some(PaintMode::Fill),
            winding_order: Some(WindingOrder::NonZero),
        };
        self.ops().extend([
            Op::SetFillColor { col: Color::Greyscale(Greyscale::new(grey, None)) },
            Op::DrawRectangle { rectangle: rect },
        ]);
    }

    /// An outlined rectangle (e.g. the cut line of an ID card).
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32) {
        for (fx, fy, fw, fh) in [(x, y, w, 0.5), (x, y + h, w, 0.5), (x, y, 0.5, h), (x + w, y, 0.5, h + 0.5)] {
            self.fill(fx, fy, fw, fh, 0.5);
        }
    }

    /// Dark modules of a square `n`×`n` grid drawn `size` points wide, one rectangle per horizontal run.
    pub fn qr(&mut self, x: f32, y: f32, size: f32, (n, modules): &(usize, Vec<bool>)) {
        let n = *n;
        let m = size / n as f32;
        self.fill(x, y, size, size, 1.0);
        // The dark area's outline is drawn `QR_INSET` of a module inside the grid (dot-gain compensation, as print
        // shops do): a blurred print or scan spreads dark into light, and `zbarimg`'s adaptive threshold, averaged
        // over a wide window of white page, counts the spread as dark. Dark modules that touch stay joined.
        let inset = m * QR_INSET;
        let dark = |r: usize, c: usize| modules[r * n + c];
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if !dark(row, col) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && dark(row, col) {
                    col += 1;
                }
                // Split the run where the modules above or below change, so each piece is inset only on the sides
                // that face light.
                let edges = |c: usize| (row > 0 && dark(row - 1, c), row + 1 < n && dark(row + 1, c));
                let mut piece = start;
                while piece < col {
                    let (up, down) = edges(piece);
                    let mut end = piece + 1;
                    while end < col && edges(end) == (up, down) {
                        end += 1;
                    }
                    let left = x + piece as f32 * m + if piece == start { inset } else { 0.0 };
                    let right = x + end as f32 * m - if end == col { inset } else { 0.0 };
                    let top = y + row as f32 * m + if up { 0.0 } else { inset };
                    let bottom = y + (row + 1) as f32 * m - if down { 0.0 } else { inset };
                    self.fill(left, top, right - left, bottom - top, 0.0);
                    piece = end;
                }
            }
        }
    }

    /// A 1-D barcode: `modules` (1 = bar) across `w` points, `h` points tall.
    pub fn barcode(&mut self, x: f32, y: f32, w: f32, h: f32, modules: &[u8]) {
        let m = w / modules.len() as f32;
        self.fill(x, y, w, h, 1.0);
        let mut i = 0;
        while i < modules.len() {
            let start = i;
            while i < modules.len() && modules[i] == 1 {
                i += 1;
            }
            if i > start {
                self.fill(x + start as f32 * m, y, (i - start) as f32 * m, h, 0.0);
            } else {
                i += 1;
            }
        }
    }

    /// Draws a logo no larger than `max_w`×`max_h` points at (`x`, `y` from the top) and returns its width,
    /// or 0 when the image cannot be decoded (the letterhead then prints without it).
    pub fn image(&mut self, x: f32, y: f32, max_w: f32, max_h: f32, logo: &Logo) -> f32 {
        // A logo comes from settings or, when `verify_file` redraws a page, from a PDF of unknown origin: its
        // size is read from its header, and one that would decode to more than `MAX_IMAGE_PIXELS` is not drawn.
        if image_size(&logo.bytes).is_none_or(|(w, h)| u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS) {
            return 0.0;
        }
        let Ok(image) = RawImage::decode_from_bytes(&logo.bytes, &mut Vec::new()) else { return 0.0 };
        if image.width == 0 || image.height == 0 {
            return 0.0;
        }
        // At `dpi`, the image is width/dpi inches wide; pick the dpi that fits the box.
        let (w, h) = (image.width as f32, image.height as f32);
        let scale = (max_w / w).min(max_h / h);
        let dpi = 72.0 / scale;
        let id = XObjectId(format!("Im{}", self.doc.resources.xobjects.map.len() + 1));
        self.doc.resources.xobjects.map.insert(id.clone(), XObject::Image(image.clone()));
        let transform = XObjectTransform {
            translate_x: Some(Pt(x)),
            translate_y: Some(Pt(self.height - y - h * scale)),
            dpi: Some(dpi),
            ..Default::default()
        };
        self.ops().push(Op::UseXobject { id, transform });
        w * scale
    }

    /// Adds the footers and serializes the PDF.
    pub fn finish(self) -> Vec<u8> {
        let mut doc = self.finish_document();
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = doc.save_to(&mut out);
        out
    }

    /// Adds the footers and gives the PDF as a lopdf document, its streams compressed and its id set from the
    /// seed.
    pub fn finish_document(mut self) -> lopdf::Document {
        let total = self.pages.len();
        let footer = self.running.footer.clone();
        let pages = std::mem::take(&mut self.pages);
        let mut out = Vec::with_capacity(total);
        for (i, ops) in pages.into_iter().enumerate() {
            self.pages = vec![ops];
            let y = self.height - MARGIN + 4.0 * MM;
            let (left, right) = (self.left(), self.right());
            self.fill(left, y - 10.0, right - left, 0.4, 0.6);
            self.text_at(left, y, Face::Regular, 7.5, &footer, 0.35);
            let number = self.running.words.fill("page", &[("i", &(i + 1).to_string()), ("n", &total.to_string())]);
            let w = text_width(Face::Regular, 7.5, &number);
            self.text_at(right - w, y, Face::Regular, 7.5, &number, 0.35);
            let ops = std::mem::take(&mut self.pages).remove(0);
            out.push(PdfPage::new(Mm(self.width / MM), Mm(self.height / MM), ops));
        }
        let seed = self.seed;
        let mut doc = self.doc.with_pages(out).to_lopdf_document(&PdfSaveOptions::default(), &mut Vec::new());
        let id = lopdf::Object::String(seed[..16].to_vec(), lopdf::StringFormat::Hexadecimal);
        doc.trailer.set("ID", lopdf::Object::Array(vec![id.clone(), id]));
        doc.compress();
        doc
    }
}

#[cfg(test)]
mod image_size_tests {
    use super::image_size;

    #[test]
    fn sizes_come_from_png_and_jpeg_headers() {
        let png = include_bytes!("../../tests/it/logo.png");
        assert_eq!(image_size(png), Some((60, 30)));
        // SOI, an APP0 segment of 16 bytes, then SOF0: precision 8, height 30, width 60.
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 30, 0x00, 60]);
        assert_eq!(image_size(&jpeg), Some((60, 30)));
        assert_eq!(image_size(b"GIF89a"), None);
        assert_eq!(image_size(&jpeg[..10]), None, "cut short");
    }
}
