//! Pairing files: what a site and a partner hand each other to pair, public parts only, with a safety number
//! people compare out of band. A reader recomputes the number from the keys in the file and never trusts the
//! number written there.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version tag of a pairing file; readers refuse others.
pub const FORMAT: &str = "galen-pairing-1";

/// The largest pairing file read. One holds a CA certificate and an OpenPGP public key, a few KiB; anything
/// bigger (or endless, like `/dev/zero`) is refused before it fills memory.
pub const MAX_FILE_BYTES: usize = 64 * 1024;

/// What a partner needs to know a site (and a site its partner): public parts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Who this is: the clinic's or partner's name.
    pub site: String,
    /// The CA (PEM): the other side trusts certificates it issued.
    pub ca_certificate: String,
    /// The OpenPGP public key (armored): envelopes from this side are signed with it.
    pub openpgp_public_key: String,
    /// For people to compare out of band; recomputed by the reader, never trusted from the file.
    pub safety_number: String,
}

/// Why a pairing file cannot be used. The message is for the person who chose the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingError {
    /// Not a pairing file at all.
    #[error("This is not a Galen pairing file.")]
    NotAPairingFile,
    /// A pairing file of another format version.
    #[error("This pairing file is from another version of Galen.")]
    OtherVersion,
    /// Its CA certificate cannot be read.
    #[error("Its CA certificate is not valid PEM.")]
    BadCertificate,
    /// Its OpenPGP key cannot be read.
    #[error("Its OpenPGP key cannot be read.")]
    BadKey,
    /// Larger than any pairing file ([`MAX_FILE_BYTES`]).
    #[error("This file is too large to be a pairing file.")]
    TooLarge,
    /// The file cannot be read; `reason` is the system's.
    #[error("The file cannot be read ({reason}).")]
    Unreadable {
        /// Why, as the system said it.
        reason: String,
    },
}

/// Reads a pairing file's text from disk, at most [`MAX_FILE_BYTES`] of it: larger files are refused unread.
pub fn load(path: &std::path::Path) -> Result<String, PairingError> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| PairingError::Unreadable { reason: e.to_string() };
    let mut text = String::new();
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // One byte more than allowed tells a file at the limit from a larger one.
    let read = file.take(MAX_FILE_BYTES as u64 + 1).read_to_string(&mut text);
    match read {
        Ok(n) if n > MAX_FILE_BYTES => Err(PairingError::TooLarge),
        Ok(_) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(PairingError::NotAPairingFile),
        Err(e) => Err(unreadable(e)),
    }
}

/// Twenty digits in groups of five from SHA-256 over the CA certificate (DER) and the OpenPGP fingerprint:
/// short enough to read over the phone, and it changes if either part is swapped.
pub fn safety_number(ca_der: &[u8], openpgp_fingerprint: &str) -> String {
    let digest = Sha256::new().chain_update(ca_der).chain_update(openpgp_fingerprint.as_bytes()).finalize();
    digest
        .chunks(4)
        .take(4)
        .map(|c| format!("{:05}", u32::from_be_bytes([c[0], c[1], c[2], c[3]]) % 100_000))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The DER inside a PEM certificate.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    data_encoding::BASE64.decode(body.as_bytes()).ok()
}

/// The fingerprint of an armored OpenPGP key, upper-case hex.
pub fn fingerprint_of(armored: &str) -> Option<String> {
    use sequoia_openpgp::parse::Parse;
    sequoia_openpgp::Cert::from_bytes(armored.as_bytes()).ok().map(|c| c.fingerprint().to_hex())
}

impl PairingFile {
    /// A pairing file for `site` from its CA certificate (PEM) and armored OpenPGP public key.
    pub fn new(site: &str, ca_certificate: &str, openpgp_public_key: &str) -> Result<PairingFile, PairingError> {
        let der = pem_to_der(ca_certificate).ok_or(PairingError::BadCertificate)?;
        let fingerprint = fingerprint_of(openpgp_public_key).ok_or(PairingError::BadKey)?;
        Ok(PairingFile {
            format: FORMAT.into(),
            site: site.into(),
            ca_certificate: ca_certificate.into(),
            openpgp_public_key: openpgp_public_key.into(),
            safety_number: safety_number(&der, &fingerprint),
        })
    }

    /// Reads a pairing file and recomputes its safety number from the keys it carries.
    pub fn read(text: &str) -> Result<PairingFile, PairingError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(PairingError::TooLarge);
        }
        let file: PairingFile = serde_json::from_str(text).map_err(|_| PairingError::NotAPairingFile)?;
        if file.format != FORMAT {
            return Err(PairingError::OtherVersion);
        }
        PairingFile::new(&file.site, &file.ca_certificate, &file.openpgp_public_key)
    }

    /// Whether `typed` is this file's safety number, however the person spaced it.
    pub fn confirms(&self, typed: &str) -> bool {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        digits(typed) == digits(&self.safety_number)
    }
}
