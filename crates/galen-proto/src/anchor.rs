//! Audit anchors: the head of a clinic's audit chain (its newest row number and that row's hash), signed by the
//! clinic's OpenPGP site key. The clinic keeps its newest anchor in a file beside its database and in every backup,
//! and sends it to its partner at every sync; the partner keeps the newest per site and hands it back. A log that
//! no longer reaches its anchor was cut at its end.
//!
//! An anchor is numbers, a hash, a time and a signature: it tells nothing about any patient.
//!
//! ```
//! use galen_proto::anchor::Anchor;
//! use galen_proto::envelope::{OwnKey, PeerKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let site = OwnKey::from_armored(&OwnKey::generate("Clínica Sol (Galen site)")?)?;
//! let head = "4f".repeat(32);
//! let anchor = Anchor::new("0190f0aa-0000-7000-8000-000000000001", 42, &head, time::OffsetDateTime::now_utc())
//!     .signed_by(&site)?;
//! anchor.check(&PeerKey::from_armored(&site.public_armored())?)?;
//! # Ok(()) }
//! ```

use crate::envelope::{KeyError, OwnKey, PeerKey};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The version tag of every anchor; readers refuse others.
pub const FORMAT: &str = "galen-audit-anchor-v1";
/// The largest row number an anchor may name (2^53): far beyond any log, and room to count on from it.
pub const MAX_ROW: i64 = 1 << 53;
/// The largest anchor either side reads, as JSON with its armored signature (one is well under 1 KiB).
pub const MAX_ANCHOR_BYTES: usize = 16 * 1024;

/// The head of a clinic's audit chain. Do not change: it is signed (see [`Anchor::signed_text`]), stored in anchor
/// files and backups, and sent to partners; a new field needs a new [`FORMAT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// Always [`FORMAT`].
    pub format: String,
    /// The clinic database whose log this is.
    pub db_id: String,
    /// The newest row's number.
    pub row: i64,
    /// The newest row's hash: 64 lower-case hex digits.
    pub hash: String,
    /// When the anchor was made (RFC 3339, UTC).
    pub at: String,
    /// A detached OpenPGP signature (armored) over [`Anchor::signed_text`] by the clinic's site key; none when the
    /// clinic had no site key yet.
    #[serde(default)]
    pub signature: Option<String>,
}

/// Why an anchor is refused. Each has its own code, which the partner logs and returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// Not a well-formed anchor.
    #[error("the audit anchor is malformed: {0}")]
    Malformed(&'static str),
    /// Unsigned, or signed by another key than the site's.
    #[error("the audit anchor is not signed by this site's key")]
    WrongSigner,
}

impl AnchorError {
    /// The stable code used on the wire and in logs.
    pub fn code(&self) -> &'static str {
        match self {
            AnchorError::Malformed(_) => "malformed",
            AnchorError::WrongSigner => "wrong_signer",
        }
    }
}

impl Anchor {
    /// An unsigned anchor of row `row`, whose hash is `hash`, in database `db_id`, made at `at`.
    pub fn new(db_id: &str, row: i64, hash: &str, at: OffsetDateTime) -> Anchor {
        Anchor {
            format: FORMAT.into(),
            db_id: db_id.into(),
            row,
            hash: hash.into(),
            at: crate::rfc3339(at),
            signature: None,
        }
    }

    /// The bytes the signature covers: one field a line, in a fixed order.
    pub fn signed_text(&self) -> String {
        format!("{}\n{}\n{}\n{}\n{}\n", self.format, self.db_id, self.row, self.hash, self.at)
    }

    /// The same anchor, signed with `key` (the clinic's site key).
    pub fn signed_by(mut self, key: &OwnKey) -> Result<Anchor, KeyError> {
        self.signature = Some(key.sign_detached(self.signed_text().as_bytes())?);
        Ok(self)
    }

    /// When it was made, if its time reads.
    pub fn made_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.at, &Rfc3339).ok()
    }

    /// Checks that the anchor is well formed: its format, a row number, a hash of 64 hex digits, an RFC 3339 time,
    /// and nothing oversized.
    pub fn well_formed(&self) -> Result<(), AnchorError> {
        if self.format != FORMAT {
            return Err(AnchorError::Malformed("unknown format"));
        }
        if self.db_id.is_empty() || self.db_id.len() > 64 {
            return Err(AnchorError::Malformed("the database id"));
        }
        if !(0..=MAX_ROW).contains(&self.row) {
            return Err(AnchorError::Malformed("the row number"));
        }
        if self.hash.len() != 64 || !self.hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(AnchorError::Malformed("the hash is not 64 hex digits"));
        }
        if self.made_at().is_none() {
            return Err(AnchorError::Malformed("the time is not RFC 3339"));
        }
        if self.signature.as_ref().is_some_and(|s| s.len() > MAX_ANCHOR_BYTES / 2) {
            return Err(AnchorError::Malformed("the signature is too large"));
        }
        Ok(())
    }

    /// Checks that the anchor is well formed and signed by `key` (the site's key, as paired or as held).
    pub fn check(&self, key: &PeerKey) -> Result<(), AnchorError> {
        self.well_formed()?;
        let signature = self.signature.as_deref().ok_or(AnchorError::WrongSigner)?;
        if key.verifies_detached(self.signed_text().as_bytes(), signature) {
            Ok(())
        } else {
            Err(AnchorError::WrongSigner)
        }
    }

    /// Whether this anchor takes the place of `kept`: a later row, or the same row with the same hash (made
    /// again). An anchor is never lowered, nor its row given another hash.
    pub fn supersedes(&self, kept: &Anchor) -> bool {
        self.row > kept.row || (self.row == kept.row && self.hash == kept.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> OwnKey {
        OwnKey::from_armored(&OwnKey::generate(name).expect("generate")).expect("read")
    }

    fn peer(k: &OwnKey) -> PeerKey {
        PeerKey::from_armored(&k.public_armored()).expect("public")
    }

    fn anchor(row: i64) -> Anchor {
        Anchor::new("0190f0aa-0000-7000-8000-000000000001", row, &"ab".repeat(32), OffsetDateTime::now_utc())
    }

    #[test]
    fn an_anchor_verifies_only_with_its_site_key_and_only_as_signed() {
        let (site, other) = (key("site"), key("other"));
        let signed = anchor(42).signed_by(&site).expect("sign");
        assert_eq!(signed.check(&peer(&site)), Ok(()));
        assert_eq!(signed.check(&peer(&other)), Err(AnchorError::WrongSigner), "another key's");
        assert_eq!(anchor(42).check(&peer(&site)), Err(AnchorError::WrongSigner), "unsigned");
        for (field, altered) in [
            ("row", Anchor { row: 43, ..signed.clone() }),
            ("hash", Anchor { hash: "cd".repeat(32), ..signed.clone() }),
            ("db_id", Anchor { db_id: "another".into(), ..signed.clone() }),
            (
                "at",
                Anchor { at: crate::rfc3339(OffsetDateTime::now_utc() + time::Duration::days(1)), ..signed.clone() },
            ),
        ] {
            assert_eq!(altered.check(&peer(&site)), Err(AnchorError::WrongSigner), "{field} is signed");
        }
        let json = serde_json::to_string(&signed).expect("json");
        assert_eq!(serde_json::from_str::<Anchor>(&json).expect("reads"), signed, "the format round-trips");
        assert!(serde_json::from_str::<Anchor>(&json.replace("\"row\"", "\"extra\":1,\"row\"")).is_err());
    }

    #[test]
    fn a_malformed_anchor_is_named() {
        let good = anchor(1);
        assert_eq!(good.well_formed(), Ok(()));
        let bad = [
            Anchor { format: "v0".into(), ..good.clone() },
            Anchor { row: -1, ..good.clone() },
            Anchor { row: i64::MAX, ..good.clone() },
            Anchor { hash: "AB".repeat(32), ..good.clone() },
            Anchor { hash: "ab".into(), ..good.clone() },
            Anchor { at: "yesterday".into(), ..good.clone() },
            Anchor { db_id: String::new(), ..good.clone() },
        ];
        for a in bad {
            assert!(matches!(a.well_formed(), Err(AnchorError::Malformed(_))), "{a:?}");
        }
    }

    #[test]
    fn an_anchor_is_never_lowered_nor_its_row_rehashed() {
        let kept = anchor(10);
        assert!(anchor(11).supersedes(&kept));
        assert!(anchor(10).supersedes(&kept), "the same head made again");
        assert!(!anchor(9).supersedes(&kept));
        assert!(!Anchor { hash: "cd".repeat(32), ..anchor(10) }.supersedes(&kept));
    }
}
