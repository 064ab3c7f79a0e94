//! The QR printed on every signed document, so that a pharmacist or a registrar can check offline, with only the
//! doctor's public key, that this doctor signed exactly what the paper says. Format: docs/qr-format.md.
//!
//! ```text
//! GALEN2:<base45(CBOR [zlib(payload), signing time, 64-byte compact OpenPGP signature over those zlib bytes])>
//! GALEN1:<base64url(summary JSON, RFC 8785)>.<base64url(OpenPGP signature over those bytes)>
//! ```
//!
//! Format 2 (`payload.rs`) carries every field a pharmacist or registrar acts on (the patient, the doctor, the
//! date and each prescription line), so the person at the counter compares the paper with the QR line by line.
//! Format 1, printed until Galen 0.2, carries only who, for whom, what kind and when, and binds the rest
//! through a SHA-256 of the canonical JSON; it is still read, never written. [`verify_text`] reads both.

mod base45;
mod payload;
mod report;

pub use payload::{Details, Line, LineRange, Patient, Signer};
pub use report::{labelled, report, Labelled, QrReport, Verified};

use crate::documents::model::Signed;
use crate::signing::compact::Compact;
use payload::Payload;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// How format 1's text begins.
pub const PREFIX_1: &str = "GALEN1:";
/// How format 2's text begins.
pub const PREFIX_2: &str = "GALEN2:";
/// The longest text a reader looks at, of any format (a version-40 QR holds 4,296 alphanumeric characters).
pub const MAX_CHARS: usize = 4000;
/// The longest format-1 text.
const MAX_CHARS_1: usize = 1000;
/// The most a format-2 payload may inflate to; Galen's are well under 2 KiB. The text comes from a stranger's
/// paper, so inflating stops here.
pub const MAX_PAYLOAD_BYTES: usize = 8 * 1024;
/// The longest text Galen puts in one printed QR: a version-15 symbol at error correction L holds 758
/// alphanumeric characters, and printed 50 mm wide its modules are large enough (0.65 mm) for `zbarimg` to read
/// it from a page rendered at 150 dpi even blurred and turned. (At M, the same text needs version 17, whose
/// 0.59 mm modules `zbarimg` does not read once blurred.) A prescription whose lines do not fit is split over
/// several QRs, each naming its lines.
pub const PRINT_CHARS: usize = 758;

/// Why a QR text does not verify. The front ends word it (the CLI through `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrProblem {
    /// The text does not start with a Galen prefix.
    NotGalen,
    /// A Galen prefix this version does not read, e.g. `GALEN3:`.
    UnknownFormat(String),
    /// Longer than any Galen QR.
    TooLong,
    /// Damaged, or not what its prefix promises (bad encoding, compression or structure).
    Malformed,
    /// A format-1 summary in another serialization than the one that was signed.
    NotCanonical,
    /// The signature does not verify with any of the keys given (the OpenPGP library's words follow).
    BadSignature(String),
    /// A format-1 summary that names another signing key than the one that verified it.
    OtherKey,
    /// The QR verifies but does not describe the signed document it is printed with (another document, other
    /// lines, or lines missing).
    NotThisDocument,
}

impl std::fmt::Display for QrProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QrProblem::NotGalen => f.write_str("this is not a Galen document QR (no GALEN1: or GALEN2: prefix)"),
            QrProblem::UnknownFormat(p) => {
                write!(f, "this QR is in a format this version of Galen does not know ({p}); use a newer Galen")
            }
            QrProblem::TooLong => f.write_str("the QR text is too long to be a Galen document QR"),
            QrProblem::Malformed => f.write_str("the QR text is damaged or malformed"),
            QrProblem::NotCanonical => f.write_str("the summary is not in canonical form"),
            QrProblem::BadSignature(why) => write!(f, "the signature does not match: {why}"),
            QrProblem::OtherKey => f.write_str("the summary names a different signing key"),
            QrProblem::NotThisDocument => {
                f.write_str("the QR does not describe the signed document it is printed with")
            }
        }
    }
}

/// A verified QR: every field it carries and the key that verified it. [`QrContents::fields`] lists them in
/// the order the paper shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrContents {
    /// 1 or 2.
    pub format: u8,
    /// The document's UUID.
    pub document: String,
    /// `prescription`, `birth`, `death`, `sick_leave` or `void`.
    pub kind: String,
    /// Who it is about. Format 1 carries no date of birth (it is empty).
    pub patient: Patient,
    /// Who signed. Format 1 carries the name and licence as one text, `Name (licence)`, in `name`.
    pub signer: Signer,
    /// When, RFC 3339.
    pub signed_at: String,
    /// What the document says; `None` for format 1, which binds the body only through `sha256`.
    pub details: Option<Details>,
    /// SHA-256 of the document's canonical JSON (the `UUID.json` that `galen document export` writes).
    pub sha256: [u8; 32],
    /// The fingerprint of the key that verified it, upper-case hex.
    pub fingerprint: String,
}

/// One field of a verified QR, typed, in the paper's order; front ends word the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrField<'a> {
    /// The document kind (the paper's title).
    Kind(&'a str),
    /// The patient's name.
    Patient(&'a str),
    /// The medical record number.
    Mrn(&'a str),
    /// The patient's date of birth.
    DateOfBirth(&'a str),
    /// A prescription's date.
    IssuedOn(&'a str),
    /// Which of a prescription's lines this QR carries.
    Lines(LineRange),
    /// One prescription line, numbered as printed.
    Medicine(u32, &'a Line),
    /// A birth certificate's date of birth.
    Born(&'a str),
    /// A birth certificate's mother.
    Mother(&'a str),
    /// A death certificate's date and time of death.
    DiedAt(&'a str),
    /// A death certificate's immediate cause.
    ImmediateCause(&'a str),
    /// A death certificate's manner of death.
    Manner(&'a str),
    /// A sick-leave certificate's first day.
    UnfitFrom(&'a str),
    /// A sick-leave certificate's last day.
    UnfitTo(&'a str),
    /// A sick-leave certificate's diagnosis, printed with consent.
    Diagnosis(&'a str),
    /// The document a void notice voids.
    Voids(&'a str),
    /// The doctor's name (format 1: name and licence).
    SignedBy(&'a str),
    /// The doctor's licence.
    Licence(&'a str),
    /// When it was signed, RFC 3339.
    SignedAt(&'a str),
    /// The document's UUID (in the paper's footer).
    Document(&'a str),
    /// SHA-256 of the canonical JSON.
    Sha256(&'a [u8; 32]),
}

impl QrContents {
    /// Every field, in the order the paper shows them: title, patient block, the document's own fields,
    /// signature block, then the document id and the hash.
    pub fn fields(&self) -> Vec<QrField<'_>> {
        let mut out =
            vec![QrField::Kind(&self.kind), QrField::Patient(&self.patient.name), QrField::Mrn(&self.patient.mrn)];
        if !self.patient.date_of_birth.is_empty() {
            out.push(QrField::DateOfBirth(&self.patient.date_of_birth));
        }
        match &self.details {
            None => {}
            Some(Details::Prescription { issued_on, range, lines }) => {
                out.push(QrField::IssuedOn(issued_on));
                out.push(QrField::Lines(*range));
                out.extend((range.first..).zip(lines).map(|(n, l)| QrField::Medicine(n, l)));
            }
            Some(Details::Birth { born, mother }) => out.extend([QrField::Born(born), QrField::Mother(mother)]),
            Some(Details::Death { died_at, immediate_cause, manner }) => out.extend([
                QrField::DiedAt(died_at),
                QrField::ImmediateCause(immediate_cause),
                QrField::Manner(manner),
            ]),
            Some(Details::SickLeave { from, to, diagnosis }) => {
                out.extend([QrField::UnfitFrom(from), QrField::UnfitTo(to)]);
                out.extend(diagnosis.as_deref().map(QrField::Diagnosis));
            }
            Some(Details::Void { voids }) => out.push(QrField::Voids(voids)),
        }
        out.push(QrField::SignedBy(&self.signer.name));
        if !self.signer.licence.is_empty() {
            out.push(QrField::Licence(&self.signer.licence));
        }
        out.extend([
            QrField::SignedAt(&self.signed_at),
            QrField::Document(&self.document),
            QrField::Sha256(&self.sha256),
        ]);
        out
    }
}

/// Checks QR text (either format) against doctors' armored public keys, e.g. the one doctor's key a pharmacy
/// holds, or every key of a trust list. Any changed character fails.
pub fn verify_text(text: &str, keys: &[&str]) -> Result<QrContents, QrProblem> {
    Ok(read(text, keys)?.0)
}

/// [`verify_text`] with one key.
pub fn verify(text: &str, key: &str) -> Result<QrContents, QrProblem> {
    verify_text(text, &[key])
}

/// What `read` found besides the contents: the exact signed payload (format 2) or summary (format 1).
enum Exact {
    Summary(Summary),
    Payload(Vec<u8>),
}

fn read(text: &str, keys: &[&str]) -> Result<(QrContents, Exact), QrProblem> {
    let text = text.trim();
    if text.len() > MAX_CHARS {
        return Err(QrProblem::TooLong);
    }
    if let Some(body) = text.strip_prefix(PREFIX_2) {
        return read_2(body, keys);
    }
    if let Some(body) = text.strip_prefix(PREFIX_1) {
        return read_1(body, keys);
    }
    match text.get(..7) {
        Some(p) if p.starts_with("GALEN") && p.ends_with(':') => Err(QrProblem::UnknownFormat(p.to_owned())),
        _ => Err(QrProblem::NotGalen),
    }
}

/// The first key that verifies a compact signature over `bytes`, and its fingerprint; else the last complaint.
fn signed_by_compact(
    keys: &[&str],
    signature: &crate::signing::compact::Compact,
    bytes: &[u8],
) -> Result<String, QrProblem> {
    let mut why = String::from("no key was given");
    for key in keys {
        match crate::signing::compact::verify(key, signature, bytes) {
            Ok(fingerprint) => return Ok(fingerprint),
            Err(e) => why = e.0,
        }
    }
    Err(QrProblem::BadSignature(why))
}

/// The first key that verifies `signature` over `bytes`, as its fingerprint; else the last key's complaint.
fn signed_by(keys: &[&str], signature: &[u8], bytes: &[u8]) -> Result<(String, String), QrProblem> {
    let mut why = String::from("no key was given");
    for key in keys {
        match crate::signing::verify_detached_raw(key, signature, bytes) {
            Ok(()) => return Ok(((*key).to_owned(), crate::signing::fingerprint_of(key).unwrap_or_default())),
            Err(e) => why = e.0,
        }
    }
    Err(QrProblem::BadSignature(why))
}

// ---- Format 2 ----

/// The CBOR envelope: an array of the zlib bytes, the signing time and the 64 signature bytes.
fn envelope(deflated: &[u8], signature: &Compact) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    // Writing into a Vec cannot fail.
    let _ = e
        .array(3)
        .and_then(|e| e.bytes(deflated))
        .and_then(|e| e.u32(signature.time))
        .and_then(|e| e.bytes(&signature.signature));
    e.into_writer()
}

/// Format 2's text for a zlib-compressed payload and the compact signature over exactly those bytes.
pub(crate) fn encode_2(deflated: &[u8], signature: &Compact) -> String {
    format!("{PREFIX_2}{}", base45::encode(&envelope(deflated, signature)))
}

/// How long format 2's text is for a payload that deflates to `deflated_len` bytes.
fn text_len_2(deflated_len: usize) -> usize {
    let probe = Compact { time: u32::MAX, signature: [0; 64] };
    PREFIX_2.len() + base45::encoded_len(envelope(&vec![0; deflated_len], &probe).len())
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(bytes);
    z.finish().unwrap_or_default()
}

/// Inflates at most `MAX_PAYLOAD_BYTES`, and only a zlib stream that ends exactly where the bytes do.
fn inflate(deflated: &[u8]) -> Option<Vec<u8>> {
    let mut z = flate2::read::ZlibDecoder::new(deflated);
    let mut out = Vec::new();
    (&mut z).take(MAX_PAYLOAD_BYTES as u64 + 1).read_to_end(&mut out).ok()?;
    (out.len() <= MAX_PAYLOAD_BYTES && z.total_in() == deflated.len() as u64).then_some(out)
}

fn read_2(body: &str, keys: &[&str]) -> Result<(QrContents, Exact), QrProblem> {
    let bytes = base45::decode(body).ok_or(QrProblem::Malformed)?;
    let mut d = minicbor::Decoder::new(&bytes);
    let (deflated, time, signature) = (|| -> Result<_, minicbor::decode::Error> {
        if d.array()? != Some(3) {
            return Ok(None);
        }
        Ok(Some((d.bytes()?, d.u32()?, d.bytes()?)))
    })()
    .ok()
    .flatten()
    .ok_or(QrProblem::Malformed)?;
    let signature = Compact { time, signature: signature.try_into().map_err(|_| QrProblem::Malformed)? };
    // One envelope, one encoding: nothing after it, and no longer headers than needed.
    if envelope(deflated, &signature) != bytes {
        return Err(QrProblem::Malformed);
    }
    let fingerprint = signed_by_compact(keys, &signature, deflated)?;
    let raw = inflate(deflated).ok_or(QrProblem::Malformed)?;
    let p = Payload::decode(&raw).ok_or(QrProblem::Malformed)?;
    let contents = QrContents {
        format: 2,
        document: p.document,
        kind: p.details.kind().to_owned(),
        patient: p.patient,
        signer: p.signer,
        signed_at: p.signed_at,
        details: Some(p.details),
        sha256: p.sha256,
        fingerprint,
    };
    Ok((contents, Exact::Payload(raw)))
}

/// The zlib-compressed payloads a signed document's QRs carry, to be signed one by one: one for a certificate or
/// a notice; for a prescription, its lines in order, as many to a QR as keep its text within `PRINT_CHARS`
/// (at least one). `None` for a document Galen cannot describe.
pub(crate) fn plan(signed: &Signed, canonical: &[u8]) -> Option<Vec<Vec<u8>>> {
    let whole = Payload::of(signed, canonical, None)?;
    let Details::Prescription { range, .. } = whole.details else { return Some(vec![deflate(&whole.encode())]) };
    let fits = |deflated: &[u8]| text_len_2(deflated.len()) <= PRINT_CHARS;
    let mut parts = Vec::new();
    let mut first = 1;
    while first <= range.total {
        let part = |last| Payload::of(signed, canonical, Some((first, last))).map(|p| deflate(&p.encode()));
        let mut last = first;
        let mut best = part(last)?;
        while last < range.total {
            match part(last + 1) {
                Some(next) if fits(&next) => {
                    best = next;
                    last += 1;
                }
                _ => break,
            }
        }
        parts.push(best);
        first = last + 1;
    }
    Some(parts)
}

/// For a format-2 text that verifies with `key`: the exact bytes its signature covers (the zlib payload) and that
/// signature as the standard binary OpenPGP packet it stands for, so that stock `gpg --verify SIG BYTES` can
/// check it too (docs/qr-format.md).
pub fn openpgp_parts(text: &str, key: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let body = text.trim().strip_prefix(PREFIX_2).filter(|b| b.len() <= MAX_CHARS)?;
    let bytes = base45::decode(body)?;
    let mut d = minicbor::Decoder::new(&bytes);
    if d.array().ok()? != Some(3) {
        return None;
    }
    let (deflated, time, signature) = (d.bytes().ok()?, d.u32().ok()?, d.bytes().ok()?);
    let compact = Compact { time, signature: signature.try_into().ok()? };
    let packet = crate::signing::compact::to_openpgp(key, &compact, deflated)?;
    Some((deflated.to_vec(), packet))
}

// ---- Format 1 ----

/// What a format-1 QR asserts. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Format version: 1.
    pub v: u8,
    /// The document UUID.
    pub doc: String,
    /// The document kind.
    pub kind: String,
    /// The patient's MRN.
    pub mrn: String,
    /// The patient's name as printed.
    pub patient: String,
    /// The doctor's name and licence as printed.
    pub signer: String,
    /// The signing key's fingerprint (upper-case hex).
    pub key: String,
    /// When it was signed.
    pub at: String,
    /// SHA-256 of the canonical JSON, base64url without padding: binds the summary to every field.
    pub sha256: String,
}

/// The SHA-256 of canonical bytes, base64url without padding.
pub fn digest(canonical: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(&Sha256::digest(canonical))
}

pub(crate) fn summary_bytes(s: &Summary) -> Vec<u8> {
    // Strings and a small integer always serialize.
    serde_jcs::to_vec(s).unwrap_or_default()
}

/// The format-1 summary of a signed document (for documents signed before format 2).
pub(crate) fn summary_1(signed: &Signed, canonical: &[u8]) -> Summary {
    let (p, s) = (&signed.patient, &signed.signer);
    Summary {
        v: 1,
        doc: signed.document.clone(),
        kind: signed.body().map(|b| b.kind().to_owned()).unwrap_or_default(),
        mrn: p.mrn.clone(),
        patient: format!("{} {}", p.given_names, p.family_name),
        signer: format!("{} ({})", s.name, s.licence),
        key: s.fingerprint.clone(),
        at: signed.signed_at.clone(),
        sha256: digest(canonical),
    }
}

/// Format 1's text for a summary and the raw signature over `summary_bytes`.
pub(crate) fn encode_1(summary: &Summary, raw_signature: &[u8]) -> String {
    format!(
        "{PREFIX_1}{}.{}",
        data_encoding::BASE64URL_NOPAD.encode(&summary_bytes(summary)),
        data_encoding::BASE64URL_NOPAD.encode(raw_signature)
    )
}

fn read_1(body: &str, keys: &[&str]) -> Result<(QrContents, Exact), QrProblem> {
    if body.len() > MAX_CHARS_1 {
        return Err(QrProblem::TooLong);
    }
    let (summary_b64, sig_b64) = body.split_once('.').ok_or(QrProblem::Malformed)?;
    let b64 = |s: &str| data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).map_err(|_| QrProblem::Malformed);
    let (summary, sig) = (b64(summary_b64)?, b64(sig_b64)?);
    let parsed: Summary = serde_json::from_slice(&summary).map_err(|_| QrProblem::Malformed)?;
    if summary_bytes(&parsed) != summary {
        return Err(QrProblem::NotCanonical);
    }
    let (key, fingerprint) = signed_by(keys, &sig, &summary)?;
    if crate::signing::fingerprint_of(&key).as_deref() != Some(parsed.key.as_str()) {
        return Err(QrProblem::OtherKey);
    }
    let sha256 = data_encoding::BASE64URL_NOPAD
        .decode(parsed.sha256.as_bytes())
        .ok()
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
        .ok_or(QrProblem::Malformed)?;
    let contents = QrContents {
        format: 1,
        document: parsed.doc.clone(),
        kind: parsed.kind.clone(),
        patient: Patient { name: parsed.patient.clone(), date_of_birth: String::new(), mrn: parsed.mrn.clone() },
        signer: Signer { name: parsed.signer.clone(), licence: String::new() },
        signed_at: parsed.at.clone(),
        details: None,
        sha256,
        fingerprint,
    };
    Ok((contents, Exact::Summary(parsed)))
}

// ---- On paper ----

/// One QR as printed: its text and, for a prescription, the lines it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// The QR's text.
    pub text: String,
    /// The lines it carries (format 2 prescriptions only).
    pub lines: Option<LineRange>,
}

/// Checks the QR texts printed with a signed document: each verifies with the doctor's `key` and carries exactly
/// what the signed JSON says, and together they carry every line once, in order. Documents signed before QRs
/// have none; format 1 has exactly one.
pub(crate) fn check_printed(
    signed: &Signed,
    canonical: &[u8],
    texts: &[String],
    key: &str,
) -> Result<Vec<Printed>, QrProblem> {
    let mut printed = Vec::new();
    let mut next_line = 1;
    for text in texts {
        let (contents, exact) = read(text, &[key])?;
        let lines = match (&exact, &contents.details) {
            (Exact::Summary(summary), _) if texts.len() == 1 && *summary == summary_1(signed, canonical) => None,
            (Exact::Payload(raw), Some(details)) => {
                let range = match details {
                    Details::Prescription { range, .. } => Some(*range),
                    _ if texts.len() == 1 => None,
                    _ => return Err(QrProblem::NotThisDocument),
                };
                let expected = Payload::of(signed, canonical, range.map(|r| (r.first, r.last)));
                if expected.map(|p| p.encode()).as_ref() != Some(raw) || range.is_some_and(|r| r.first != next_line) {
                    return Err(QrProblem::NotThisDocument);
                }
                next_line = range.map_or(next_line, |r| r.last + 1);
                range
            }
            _ => return Err(QrProblem::NotThisDocument),
        };
        printed.push(Printed { text: text.trim().to_owned(), lines });
    }
    if let Some(Printed { lines: Some(range), .. }) = printed.last() {
        if range.last != range.total {
            return Err(QrProblem::NotThisDocument);
        }
    }
    Ok(printed)
}

// ---- Drawing ----

/// The QR symbol as dark/light modules (with its 4-module quiet zone). Format-2 text (base45, so alphanumeric
/// mode) is encoded at error correction L, to keep its modules large in 50 mm (see `PRINT_CHARS`); anything else
/// at M.
pub fn modules(text: &str) -> Option<(usize, Vec<bool>)> {
    let level = if text.starts_with(PREFIX_2) { qrcode::EcLevel::L } else { qrcode::EcLevel::M };
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), level).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let full = width + 2 * quiet;
    let mut out = vec![false; full * full];
    for y in 0..width {
        for x in 0..width {
            out[(y + quiet) * full + x + quiet] = colors[y * width + x] == qrcode::Color::Dark;
        }
    }
    Some((full, out))
}

/// The QR version (1–40) `modules` gives this text.
pub fn version(text: &str) -> Option<usize> {
    modules(text).map(|(n, _)| (n - 8 - 17) / 4)
}

/// The QR as a standalone SVG, `scale` units per module.
pub fn svg(text: &str, scale: usize) -> Option<String> {
    let (n, m) = modules(text)?;
    let size = n * scale;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path d=\""
    );
    for (i, dark) in m.iter().enumerate() {
        if *dark {
            svg.push_str(&format!("M{} {}h1v1h-1z", i % n, i / n));
        }
    }
    svg.push_str("\"/></svg>");
    Some(svg)
}
