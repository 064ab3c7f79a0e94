//! What a verifier shows for a scanned QR: the verdict and, only when it verifies, every field the QR carries,
//! labelled and worded as the paper words them, in the order the paper shows them, so the person at the counter
//! compares the paper with the list line by line. `galen verify --qr` prints it; the app's verify screen shows it.

use super::{verify_text, QrContents, QrField, QrProblem};
use crate::documents::wording::{timestamp, Words};
use serde::Serialize;

/// One field as a verifier shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Labelled {
    /// What the field is, for front ends that word labels themselves: `kind`, `patient`, `mrn`,
    /// `date_of_birth`, `issued_on`, `lines`, `line`, `born`, `mother`, `died_at`, `immediate_cause`, `manner`,
    /// `unfit_from`, `unfit_to`, `diagnosis`, `voids`, `signed_by`, `licence`, `signed_at`, `document`,
    /// `sha256`.
    pub id: &'static str,
    /// The label in English, e.g. "Patient" or "Line 3".
    pub label: String,
    /// The value as the paper words it.
    pub value: String,
    /// A prescription line's number as printed (`line` only).
    pub number: Option<u32>,
}

/// A verified QR's format and signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// 1 or 2.
    pub format: u8,
    /// The fingerprint of the key that verified it, upper-case hex.
    pub fingerprint: String,
    /// When it was signed, RFC 3339 (for trust lists to judge the key at that time).
    pub signed_at: String,
    /// The doctor's licence; `None` for format 1, which prints it inside the name.
    pub licence: Option<String>,
}

/// The verdict on a QR text and what it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrReport {
    /// Verified, or why not.
    pub verdict: Result<Verified, QrProblem>,
    /// Every field, in the paper's order; empty unless it verified (an unverified QR's contents are not shown).
    pub fields: Vec<Labelled>,
}

/// Verifies QR text (either format) against doctors' armored public keys and lists what it carries, its values
/// worded in `words` (the reader's language; labels stay English for front ends that word them by `id`).
pub fn report(text: &str, keys: &[&str], words: Words) -> QrReport {
    match verify_text(text, keys) {
        Ok(contents) => QrReport {
            verdict: Ok(Verified {
                format: contents.format,
                fingerprint: contents.fingerprint.clone(),
                signed_at: contents.signed_at.clone(),
                licence: Some(contents.signer.licence.clone()).filter(|_| contents.format >= 2),
            }),
            fields: labelled(&contents, words),
        },
        Err(problem) => QrReport { verdict: Err(problem), fields: Vec::new() },
    }
}

/// The fields of verified contents, labelled and worded.
pub fn labelled(c: &QrContents, words: Words) -> Vec<Labelled> {
    let field = |id, label: &str, value: String| Labelled { id, label: label.to_owned(), value, number: None };
    c.fields()
        .into_iter()
        .map(|f| match f {
            QrField::Kind(k) => field("kind", "Document", words.title(k).to_owned()),
            QrField::Patient(v) => field("patient", "Patient", v.to_owned()),
            QrField::Mrn(v) => field("mrn", "MRN", v.to_owned()),
            QrField::DateOfBirth(v) => field("date_of_birth", "Date of birth", v.to_owned()),
            QrField::IssuedOn(v) => field("issued_on", "Issued on", v.to_owned()),
            QrField::Lines(r) if r.is_whole() => {
                field("lines", "Lines", words.fill("qr.lines_all", &[("total", &r.total.to_string())]))
            }
            QrField::Lines(r) => {
                let n = |v: u32| v.to_string();
                let args = [("first", n(r.first)), ("last", n(r.last)), ("total", n(r.total))];
                let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                field("lines", "Lines", words.fill("qr.lines_part", &args))
            }
            QrField::Medicine(n, l) => {
                let rx = l.as_rx_line();
                let value = format!("{} · {}", words.rx_line(&rx), words.rx_details(&rx));
                Labelled { number: Some(n), ..field("line", &format!("Line {n}"), value) }
            }
            QrField::Born(v) => field("born", "Date of birth", v.to_owned()),
            QrField::Mother(v) => field("mother", "Mother", v.to_owned()),
            QrField::DiedAt(v) => field("died_at", "Date and time of death", v.replacen('T', " ", 1)),
            QrField::ImmediateCause(v) => field("immediate_cause", "Immediate cause", v.to_owned()),
            QrField::Manner(v) => field("manner", "Manner of death", words.value(v)),
            QrField::UnfitFrom(v) => field("unfit_from", "Unfit for work from", v.to_owned()),
            QrField::UnfitTo(v) => field("unfit_to", "Unfit for work to", v.to_owned()),
            QrField::Diagnosis(v) => field("diagnosis", "Diagnosis", v.to_owned()),
            QrField::Voids(v) => field("voids", "Voids document", v.to_owned()),
            QrField::SignedBy(v) => field("signed_by", "Signed by", v.to_owned()),
            QrField::Licence(v) => field("licence", "Licence", v.to_owned()),
            QrField::SignedAt(v) => field("signed_at", "Signed", timestamp(v)),
            QrField::Document(v) => field("document", "Document id", v.to_owned()),
            QrField::Sha256(h) => field("sha256", "SHA-256 of the signed JSON", data_encoding::HEXLOWER.encode(h)),
        })
        .collect()
}
