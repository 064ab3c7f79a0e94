//! `galen verify FILE.pdf`: a Galen PDF checked offline from the files it carries.

use super::attach;
use crate::documents::{self, Signed};
use crate::signing::{self, BadSignature};

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
}

/// Largest PDF `verify_file` reads.
pub const MAX_PDF_BYTES: usize = 20 * 1024 * 1024;

/// Checks a Galen PDF offline from its attachments: the canonical JSON against its detached signature, with
/// `key` (the doctor's published public key) or, without one, the key embedded in the file.
pub fn verify_file(pdf: &[u8], key: Option<&str>) -> Result<FileVerified, BadSignature> {
    let bad = |why: String| BadSignature(why);
    if pdf.len() > MAX_PDF_BYTES {
        return Err(bad("the file is too large to be a Galen document".into()));
    }
    let files = attach::extract(pdf).map_err(bad)?;
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|(n, _)| pred(n)).map(|(_, b)| b.clone());
    let json = find(&|n| n.ends_with(".json"))
        .ok_or_else(|| bad("the PDF carries no signed document (no .json attachment)".into()))?;
    let signature = find(&|n| n.ends_with(".json.asc"))
        .ok_or_else(|| bad("the PDF carries no signature (no .json.asc attachment)".into()))?;
    let embedded = find(&|n| n.starts_with("doctor-") && n.ends_with(".asc"));
    let key_text = match (key, &embedded) {
        (Some(k), _) => k.to_owned(),
        (None, Some(k)) => String::from_utf8_lossy(k).into_owned(),
        (None, None) => {
            return Err(bad("the PDF carries no public key; give the doctor's public key to check it against".into()))
        }
    };
    let signed = documents::check_signed(&json, &String::from_utf8_lossy(&signature), &key_text)
        .map_err(|p| bad(p.to_string()))?;
    Ok(FileVerified {
        signed,
        trusted_key: key.is_some(),
        fingerprint: signing::fingerprint_of(&key_text).unwrap_or_default(),
    })
}
