//! Trust lists: a clinic's signed word on which keys are its doctors'. `galen key export-trust` writes one; a
//! pharmacy, a registry or another clinic passes it to `galen verify … --trust FILE` (or imports it in the app),
//! and a signature then counts only if a list vouches for its key at the time it was made. The list is JSON in
//! OpenPGP's cleartext framework, signed by the clinic's site key, which it carries; whoever imports it compares
//! that key's fingerprint with the clinic out of band (docs/trust-list.md).

use crate::signing;
use serde::{Deserialize, Serialize};

/// The version tag; readers refuse others.
pub const FORMAT: &str = "galen-trust-1";
/// The largest trust list read (a clinic's doctors and their keys fit many times over).
pub const MAX_BYTES: usize = 1 << 20;

/// What a clinic vouches for. Do not change: it is signed (a new field needs a new format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// Always [`FORMAT`].
    pub format: String,
    /// The clinic's name.
    pub clinic: String,
    /// When the list was made, RFC 3339.
    pub issued_at: String,
    /// The clinic's site key (armored public key) that signed the list and certifies its doctors' keys.
    pub site_key: String,
    /// Every doctor key the clinic ever issued.
    pub doctors: Vec<TrustedKey>,
}

/// One doctor key and when it may sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// The doctor's name.
    pub name: String,
    /// Their professional licence number.
    pub licence: String,
    /// The key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// The key itself (armored public key, with the clinic's certification and any revocation), so that a list
    /// is all a pharmacy needs besides the document.
    pub key: String,
    /// Signatures from this time on, RFC 3339…
    pub valid_from: String,
    /// …until the doctor's next key replaced it (absent for a current key).
    pub valid_until: Option<String>,
    /// The clinic revoked it: signatures from then on fail.
    pub revoked: Option<TrustedRevocation>,
}

/// A trust list as sync carries it between sites (`Kind::TrustList`): the signed text, read with
/// [`CheckedList::read`] on arrival and again on every use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedTrustList {
    /// The cleartext-signed list.
    pub list: String,
}

/// A revocation as a trust list states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedRevocation {
    /// When, RFC 3339.
    pub at: String,
    /// Why, in the clinic's words.
    pub reason: String,
}

/// Why a trust list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// Larger than any trust list.
    #[error("This file is too large to be a trust list.")]
    TooLarge,
    /// Not a signed Galen trust list.
    #[error("This is not a Galen trust list.")]
    NotATrustList,
    /// A trust list of another format version.
    #[error("This trust list is from another version of Galen.")]
    OtherVersion,
    /// Its signature does not check with the site key it carries.
    #[error("The trust list's signature does not check: {0}")]
    BadSignature(String),
}

/// A trust list whose signature checked, and the fingerprint of the site key that signed it (for people to
/// compare with the clinic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedList {
    /// What it says.
    pub list: TrustList,
    /// The site key's fingerprint, upper-case hex.
    pub site_fingerprint: String,
}

/// What a set of trust lists says about a signature by `fingerprint` made at `signed_at`. The front ends word it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Vouch {
    /// A list vouches for the key at that time.
    Vouched {
        /// The clinic that vouches.
        clinic: String,
        /// Its site key's fingerprint.
        site_fingerprint: String,
        /// The doctor, as the list names them.
        name: String,
        /// Their licence.
        licence: String,
    },
    /// A list names the key, but it was revoked before the signature.
    Revoked {
        /// The clinic that revoked it.
        clinic: String,
        /// When.
        at: String,
        /// Why.
        reason: String,
    },
    /// A list names the key, but not for that time (before it was made, or after it was replaced).
    OutsideValidity {
        /// The clinic whose list names it.
        clinic: String,
    },
    /// A list names the key as another doctor's than the document says.
    OtherDoctor {
        /// The clinic whose list names it.
        clinic: String,
        /// The doctor the list names.
        name: String,
        /// Their licence.
        licence: String,
    },
    /// No list names the key.
    NotVouched,
}

impl CheckedList {
    /// Reads a trust list and checks its signature with the site key it carries.
    pub fn read(text: &str) -> Result<CheckedList, TrustError> {
        if text.len() > MAX_BYTES {
            return Err(TrustError::TooLarge);
        }
        let unchecked = signing::cleartext_of(text).ok_or(TrustError::NotATrustList)?;
        let claimed: TrustList = serde_json::from_str(&unchecked).map_err(|_| TrustError::NotATrustList)?;
        if claimed.format != FORMAT {
            return Err(TrustError::OtherVersion);
        }
        let signed = signing::verify_cleartext(text, &claimed.site_key).map_err(|e| TrustError::BadSignature(e.0))?;
        // What the signature covers is what counts, not the text read before checking it.
        let list: TrustList = serde_json::from_str(&signed).map_err(|_| TrustError::NotATrustList)?;
        let site_fingerprint = signing::fingerprint_of(&list.site_key).ok_or(TrustError::NotATrustList)?;
        Ok(CheckedList { list, site_fingerprint })
    }
}

/// The armored public key a list gives for `fingerprint`, to check a signature with when none was supplied.
pub fn key_for<'a>(lists: &'a [CheckedList], fingerprint: &str) -> Option<&'a str> {
    lists
        .iter()
        .flat_map(|c| &c.list.doctors)
        .find(|k| k.fingerprint.eq_ignore_ascii_case(fingerprint))
        .map(|k| k.key.as_str())
}

/// What `lists` say about a signature by `fingerprint`, made at `signed_at` (RFC 3339) by the doctor with
/// `licence` as the document says (when it says it on its own): vouched if a list vouches for that key, as that doctor's, at that time; else
/// the most telling refusal.
pub fn vouch(lists: &[CheckedList], fingerprint: &str, signed_at: &str, licence: Option<&str>) -> Vouch {
    let Some(signed_at) = instant(signed_at) else { return Vouch::NotVouched };
    let mut verdict = Vouch::NotVouched;
    for checked in lists {
        let clinic = &checked.list.clinic;
        for key in checked.list.doctors.iter().filter(|k| k.fingerprint.eq_ignore_ascii_case(fingerprint)) {
            if licence.is_some_and(|l| l != key.licence) {
                verdict =
                    Vouch::OtherDoctor { clinic: clinic.clone(), name: key.name.clone(), licence: key.licence.clone() };
                continue;
            }
            if let Some(r) = key.revoked.as_ref().filter(|r| instant(&r.at).is_none_or(|at| signed_at >= at)) {
                verdict = Vouch::Revoked { clinic: clinic.clone(), at: r.at.clone(), reason: r.reason.clone() };
                continue;
            }
            let after_start = instant(&key.valid_from).is_some_and(|from| signed_at >= from);
            let before_end =
                key.valid_until.as_deref().is_none_or(|end| instant(end).is_some_and(|end| signed_at < end));
            if after_start && before_end {
                return Vouch::Vouched {
                    clinic: clinic.clone(),
                    site_fingerprint: checked.site_fingerprint.clone(),
                    name: key.name.clone(),
                    licence: key.licence.clone(),
                };
            }
            if matches!(verdict, Vouch::NotVouched) {
                verdict = Vouch::OutsideValidity { clinic: clinic.clone() };
            }
        }
    }
    verdict
}

/// An RFC 3339 time; times compare as instants, whatever their offsets.
fn instant(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

impl std::fmt::Display for Vouch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Vouch::Vouched { clinic, site_fingerprint, name, licence } => {
                write!(f, "{clinic} vouches for the signer: {name} (licence {licence}); clinic key {site_fingerprint}")
            }
            Vouch::Revoked { clinic, at, reason } => {
                write!(f, "{clinic} revoked the signing key at {at} ({reason}); it signed after that")
            }
            Vouch::OutsideValidity { clinic } => {
                write!(f, "{clinic} lists the signing key, but not for the time it signed")
            }
            Vouch::OtherDoctor { clinic, name, licence } => {
                write!(
                    f,
                    "{clinic} lists the signing key as {name}'s (licence {licence}), not the doctor the document names"
                )
            }
            Vouch::NotVouched => {
                write!(f, "valid signature, but the signer is not vouched for by any trust list given")
            }
        }
    }
}
