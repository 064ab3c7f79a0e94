//! What a signed document's pages are drawn from besides its signed JSON: the layout version, the paper and
//! letterhead (logo included), the standing banner and the QR texts. The PDF carries it as the attachment
//! `galen-drawing.json`, so `pdf::verify_file` can draw the pages again from the signed JSON and this record, and
//! require the printed pages to be exactly those.

use super::layout::{Look, Standing, Words};
use crate::settings::{Logo, PaperSize};
use serde::{Deserialize, Serialize};

/// The attachment's file name.
pub const NAME: &str = "galen-drawing.json";

/// The layout version: what this Galen draws. Bump it whenever the same signed JSON and the same record would
/// draw different bytes (a layout change, a new printpdf): PDFs printed before would otherwise fail as "page
/// differs". A PDF drawn by another layout version cannot be checked page by page by this Galen (it says so).
pub const LAYOUT: u32 = 1;

/// The record, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drawing {
    /// The layout version that drew the pages.
    pub layout: u32,
    /// `a4` or `letter`.
    pub paper_size: String,
    /// The letterhead's address.
    pub address: String,
    /// The letterhead's phone.
    pub phone: String,
    /// The letterhead's logo, byte for byte.
    pub logo: Option<RecordedLogo>,
    /// The language the page is worded in (`en`, `pt`, `es`); records made before printouts spoke other
    /// languages have none, and were English.
    #[serde(default = "english")]
    pub language: String,
    /// The banner above the title (current, superseded, voided), as the clinic knew it when it printed.
    pub standing: Standing,
    /// The QR texts printed, in order.
    pub qr: Vec<String>,
}

fn english() -> String {
    "en".to_owned()
}

/// A logo as recorded: its media type and its bytes in base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedLogo {
    /// `image/png` or `image/jpeg`.
    pub mime: String,
    /// The image file, base64.
    pub base64: String,
}

impl Drawing {
    /// The record of a drawing by this Galen.
    pub fn new(look: &Look, standing: &Standing, qr: &[String]) -> Drawing {
        Drawing {
            layout: LAYOUT,
            paper_size: look.paper_size.as_str().to_owned(),
            address: look.address.clone(),
            phone: look.phone.clone(),
            logo: look
                .logo
                .as_ref()
                .map(|l| RecordedLogo { mime: l.mime.clone(), base64: data_encoding::BASE64.encode(&l.bytes) }),
            language: look.words.language().to_owned(),
            standing: standing.clone(),
            qr: qr.to_vec(),
        }
    }

    /// The paper and letterhead it records, or `None` if they are not ones Galen draws.
    pub fn look(&self) -> Option<Look> {
        if !crate::documents::wording::LANGUAGES.contains(&self.language.as_str()) {
            return None;
        }
        let logo = match &self.logo {
            None => None,
            Some(l) => {
                Some(Logo { mime: l.mime.clone(), bytes: data_encoding::BASE64.decode(l.base64.as_bytes()).ok()? })
            }
        };
        Some(Look {
            paper_size: PaperSize::parse(&self.paper_size)?,
            address: self.address.clone(),
            phone: self.phone.clone(),
            logo,
            words: Words::of(&self.language),
        })
    }

    /// As embedded.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, numbers and lists of them always serialize.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}
