//! The QR printed on every signed document: a compact signed summary that binds the canonical bytes' SHA-256,
//! so a pharmacist can check offline, with only the doctor's public key, that this doctor signed exactly this
//! document. Format: docs/qr-format.md.
//!
//! ```text
//! GALEN1:<base64url(summary JSON, RFC 8785)>.<base64url(binary OpenPGP detached signature over those bytes)>
//! ```

use crate::signing::BadSignature;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How format 1's text begins.
pub const PREFIX: &str = "GALEN1:";
/// Byte-mode QR at error correction M holds this many characters up to version 25; Galen's stay far below.
pub const MAX_CHARS: usize = 1000;

/// What the QR asserts. Do not change: it is signed (add a new prefix version instead).
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

/// The QR text for a summary and the raw signature over `summary_bytes`.
pub fn encode(summary: &Summary, raw_signature: &[u8]) -> String {
    format!(
        "{PREFIX}{}.{}",
        data_encoding::BASE64URL_NOPAD.encode(&summary_bytes(summary)),
        data_encoding::BASE64URL_NOPAD.encode(raw_signature)
    )
}

/// Checks QR text against a doctor's armored public key; returns what it asserts.
pub fn verify(text: &str, key: &str) -> Result<Summary, BadSignature> {
    let bad = |why: &str| BadSignature(why.to_owned());
    let body =
        text.trim().strip_prefix(PREFIX).ok_or_else(|| bad("this is not a Galen document QR (no GALEN1: prefix)"))?;
    if body.len() > MAX_CHARS {
        return Err(bad("the QR text is too long to be a Galen summary"));
    }
    let (summary_b64, sig_b64) =
        body.split_once('.').ok_or_else(|| bad("the QR text is malformed (no signature part)"))?;
    let summary = data_encoding::BASE64URL_NOPAD
        .decode(summary_b64.as_bytes())
        .map_err(|_| bad("the summary part is not base64url"))?;
    let sig = data_encoding::BASE64URL_NOPAD
        .decode(sig_b64.as_bytes())
        .map_err(|_| bad("the signature part is not base64url"))?;
    let parsed: Summary =
        serde_json::from_slice(&summary).map_err(|_| bad("the summary is not a Galen document summary"))?;
    if summary_bytes(&parsed) != summary {
        return Err(bad("the summary is not in canonical form"));
    }
    crate::signing::verify_detached_raw(key, &sig, &summary)?;
    if crate::signing::fingerprint_of(key).as_deref() != Some(parsed.key.as_str()) {
        return Err(bad("the summary names a different signing key"));
    }
    Ok(parsed)
}

/// The QR symbol as dark/light modules (with its 4-module quiet zone), at error correction M.
pub fn modules(text: &str) -> Option<(usize, Vec<bool>)> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
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
