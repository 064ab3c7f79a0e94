//! `galen verify FILE.pdf`: a Galen PDF checked offline from the files it carries, and its pages checked against
//! them. The signed JSON must verify with the doctor's key; the QR texts it records must verify with the same
//! key and carry exactly what the JSON says; and drawing the JSON again, with the paper, letterhead and QRs the
//! file records (`drawing.rs`), must give exactly the pages the file shows. So a page redrawn, a word edited in
//! a content stream, or another document's attachments swapped in, all fail.

use super::compare::{self, Difference};
use super::drawing::{self, Drawing};
use super::{attach, layout};
use crate::documents::{self, qr, Problem, Signed};
use crate::signing;

/// What `verify_file` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerified {
    /// What the doctor signed: who, for whom, when.
    pub signed: Signed,
    /// True when checked against the key the caller supplied; false when only against the key inside the PDF,
    /// which proves the file is intact but not who made it until the fingerprint is compared.
    pub trusted_key: bool,
    /// The fingerprint of the key that checked it.
    pub fingerprint: String,
    /// How many pages were checked against the signed document.
    pub pages: usize,
}

/// Why a PDF does not verify. The front ends word it (the CLI through `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Larger than any Galen document.
    TooLarge,
    /// Not a PDF this reader can parse.
    NotAPdf,
    /// Its embedded files cannot be read (the reason follows).
    Attachments(String),
    /// It carries no signed JSON, no signature, or (without a key given) no public key.
    Missing(Missing),
    /// The signed JSON does not verify.
    Signature(Problem),
    /// It does not record how its pages were drawn (a PDF from before Galen 0.3, or one stripped of it), so
    /// the pages cannot be checked.
    NoDrawing,
    /// Its drawing record cannot be read.
    DrawingUnreadable,
    /// Drawn by a layout version this Galen does not draw.
    OtherLayout(u32),
    /// A QR it records does not verify, or does not carry what the signed JSON says.
    Qr(qr::QrProblem),
    /// The signed document is of a kind this Galen cannot draw.
    UnknownKind,
    /// The file has another number of pages than the signed document draws.
    PageCount {
        /// Pages in the file.
        printed: usize,
        /// Pages the signed document draws.
        signed: usize,
    },
    /// This page (from 1) differs from what was signed.
    PageDiffers(usize),
    /// The pages match, but the page tree holds more than Galen draws.
    PageTree,
}

/// A part a Galen PDF must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The signed JSON (`UUID.json`).
    SignedJson,
    /// Its signature (`UUID.json.asc`).
    Signature,
    /// The doctor's public key, when none was given.
    Key,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileProblem::TooLarge => f.write_str("the file is too large to be a Galen document"),
            FileProblem::NotAPdf => f.write_str("this is not a readable PDF file"),
            FileProblem::Attachments(why) => f.write_str(why),
            FileProblem::Missing(Missing::SignedJson) => {
                f.write_str("the PDF carries no signed document (no .json attachment)")
            }
            FileProblem::Missing(Missing::Signature) => {
                f.write_str("the PDF carries no signature (no .json.asc attachment)")
            }
            FileProblem::Missing(Missing::Key) => {
                f.write_str("the PDF carries no public key; give the doctor's public key to check it against")
            }
            FileProblem::Signature(p) => write!(f, "the signed document does not verify: {p}"),
            FileProblem::NoDrawing => f.write_str(
                "the PDF does not record how its pages were drawn (it was made before Galen 0.3, or that record was \
                 removed), so what is printed cannot be checked against what was signed",
            ),
            FileProblem::DrawingUnreadable => {
                f.write_str("the PDF's record of how its pages were drawn cannot be read")
            }
            FileProblem::OtherLayout(n) => write!(
                f,
                "the pages were drawn by Galen layout {n}, which this version of Galen (layout {}) cannot redraw \
                 to compare",
                drawing::LAYOUT
            ),
            FileProblem::Qr(p) => write!(f, "the printed QR does not match the signed document: {p}"),
            FileProblem::UnknownKind => {
                f.write_str("the signed document is of a kind this version of Galen cannot draw")
            }
            FileProblem::PageCount { printed, signed } => {
                write!(f, "the file has {printed} pages, but what was signed prints on {signed}")
            }
            FileProblem::PageDiffers(n) => write!(f, "the printed page {n} differs from what was signed"),
            FileProblem::PageTree => f.write_str("the file's pages hold more than what was signed"),
        }
    }
}

/// Largest PDF `verify_file` reads.
pub const MAX_PDF_BYTES: usize = 20 * 1024 * 1024;

/// Checks a Galen PDF offline: the signed JSON it carries against its detached signature, with `key` (the
/// doctor's published public key) or, without one, the key embedded in the file; then its QRs and its pages
/// against that JSON.
pub fn verify_file(pdf: &[u8], key: Option<&str>) -> Result<FileVerified, FileProblem> {
    if pdf.len() > MAX_PDF_BYTES {
        return Err(FileProblem::TooLarge);
    }
    let doc = lopdf::Document::load_mem(pdf).map_err(|_| FileProblem::NotAPdf)?;
    let files = attach::extract_from(&doc).map_err(FileProblem::Attachments)?;
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|(n, _)| pred(n)).map(|(_, b)| b.clone());
    let json =
        find(&|n| n.ends_with(".json") && n != drawing::NAME).ok_or(FileProblem::Missing(Missing::SignedJson))?;
    let signature = find(&|n| n.ends_with(".json.asc")).ok_or(FileProblem::Missing(Missing::Signature))?;
    let embedded = find(&|n| n.starts_with("doctor-") && n.ends_with(".asc"));
    let key_text = match (key, &embedded) {
        (Some(k), _) => k.to_owned(),
        (None, Some(k)) => String::from_utf8_lossy(k).into_owned(),
        (None, None) => return Err(FileProblem::Missing(Missing::Key)),
    };
    let signed = documents::check_signed(&json, &String::from_utf8_lossy(&signature), &key_text)
        .map_err(FileProblem::Signature)?;

    let recorded = find(&|n| n == drawing::NAME).ok_or(FileProblem::NoDrawing)?;
    let record: Drawing = serde_json::from_slice(&recorded).map_err(|_| FileProblem::DrawingUnreadable)?;
    if record.layout != drawing::LAYOUT {
        return Err(FileProblem::OtherLayout(record.layout));
    }
    let look = record.look().ok_or(FileProblem::DrawingUnreadable)?;
    let printed_qr = qr::check_printed(&signed, &json, &record.qr, &key_text).map_err(FileProblem::Qr)?;
    let body = signed.body().ok_or(FileProblem::UnknownKind)?;
    let draw = || {
        let mut redrawn = layout::document(&look, &signed, &body, &record.standing, &printed_qr, &json);
        let mut bytes = Vec::new();
        redrawn.save_to(&mut bytes).map(|()| bytes).map_err(|_| FileProblem::UnknownKind)
    };
    #[cfg(not(feature = "fuzzing"))]
    let bytes = draw()?;
    #[cfg(feature = "fuzzing")]
    let bytes = fuzzing::redrawn(&[&json, &recorded, key_text.as_bytes()], draw)?;
    // Compare with the redrawn file as read back, as the printed one is: the same writer, the same numbers.
    let redrawn = lopdf::Document::load_mem(&bytes).map_err(|_| FileProblem::UnknownKind)?;
    compare::same_pages(&doc, &redrawn).map_err(|d| match d {
        Difference::PageCount { printed, signed } => FileProblem::PageCount { printed, signed },
        Difference::Page(n) => FileProblem::PageDiffers(n),
        Difference::Tree => FileProblem::PageTree,
    })?;
    Ok(FileVerified {
        pages: redrawn.get_pages().len(),
        signed,
        trusted_key: key.is_some(),
        fingerprint: signing::fingerprint_of(&key_text).unwrap_or_default(),
    })
}

/// Drawing is deterministic (the same signed JSON, drawing record and key draw the same bytes; the printing tests
/// hold it), so under the `fuzzing` feature the redrawn file is remembered for the last inputs: the fuzzer then
/// spends its time on the hostile file, not on drawing the same document again (7 inputs a second otherwise).
#[cfg(feature = "fuzzing")]
mod fuzzing {
    use super::FileProblem;
    use sha2::{Digest, Sha256};
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static DRAWN: RefCell<HashMap<[u8; 32], Vec<u8>>> = RefCell::new(HashMap::new());
    }

    pub(super) fn redrawn(
        inputs: &[&[u8]],
        draw: impl FnOnce() -> Result<Vec<u8>, FileProblem>,
    ) -> Result<Vec<u8>, FileProblem> {
        let mut hash = Sha256::new();
        for input in inputs {
            hash.update((input.len() as u64).to_le_bytes());
            hash.update(input);
        }
        let key: [u8; 32] = hash.finalize().into();
        if let Some(bytes) = DRAWN.with(|d| d.borrow().get(&key).cloned()) {
            return Ok(bytes);
        }
        let bytes = draw()?;
        DRAWN.with(|d| {
            let mut drawn = d.borrow_mut();
            if drawn.len() >= 16 {
                drawn.clear();
            }
            drawn.insert(key, bytes.clone());
        });
        Ok(bytes)
    }
}
