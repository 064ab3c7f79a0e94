//! Compact signatures for the printed QR (docs/qr-format.md): an OpenPGP v4 signature of type binary whose hashed
//! area holds exactly two subpackets, its creation time and the signing key's fingerprint, and whose unhashed area
//! is empty, hashed with SHA-512. Everything in that packet but the time and the 64 signature bytes follows from
//! the doctor's key, so the QR carries only those (68 bytes instead of sequoia's ~190, which add a 32-byte salt
//! notation and an unhashed issuer). A verifier rebuilds the standard packet and checks it with the OpenPGP
//! library; as nothing is left unsigned or optional, one signature has one encoding, and any changed byte fails.

use super::{crypto_error as crypto, POLICY};
use crate::error::Error;
use crate::signing::BadSignature;
use openpgp::cert::prelude::*;
use openpgp::crypto::mpi;
use openpgp::packet::signature::subpacket::{Subpacket, SubpacketArea, SubpacketValue};
use openpgp::packet::signature::Signature4;
use openpgp::packet::Signature;
use openpgp::parse::Parse;
use openpgp::types::{HashAlgorithm, PublicKeyAlgorithm, SignatureType, Timestamp};
use openpgp::Fingerprint;
use sequoia_openpgp as openpgp;
use sha2::{Digest, Sha512};

/// The signature bytes a compact signature carries besides its time: Ed25519's R and S.
pub const SIGNATURE_BYTES: usize = 64;

/// A compact signature: when, and the 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compact {
    /// Seconds since the Unix epoch.
    pub time: u32,
    /// R and S, 32 bytes each, big-endian as OpenPGP's MPIs (EdDSA), or the Ed25519 signature as RFC 8032
    /// writes it (Ed25519, OpenPGP v6-style algorithm 27).
    pub signature: [u8; SIGNATURE_BYTES],
}

/// The hashed area: creation time, then issuer fingerprint.
fn hashed_area(time: u32, fpr: &Fingerprint) -> openpgp::Result<SubpacketArea> {
    SubpacketArea::new(vec![
        Subpacket::new(SubpacketValue::SignatureCreationTime(Timestamp::from(time)), false)?,
        Subpacket::new(SubpacketValue::IssuerFingerprint(fpr.clone()), false)?,
    ])
}

/// The SHA-512 the signature is made over (RFC 4880 §5.2.4): the message, then the v4 signature's hashed part
/// and trailer. Built by hand, as sequoia would add a salt; `sign` checks the result with sequoia.
fn digest(bytes: &[u8], pk_algo: PublicKeyAlgorithm, time: u32, fpr: &Fingerprint) -> Option<[u8; 64]> {
    let Fingerprint::V4(fpr) = fpr else { return None };
    let mut area = vec![5, 2];
    area.extend_from_slice(&time.to_be_bytes());
    area.extend_from_slice(&[22, 33, 4]);
    area.extend_from_slice(fpr);
    let mut head = vec![4, u8::from(SignatureType::Binary), u8::from(pk_algo), u8::from(HashAlgorithm::SHA512)];
    head.extend_from_slice(&(area.len() as u16).to_be_bytes());
    head.extend_from_slice(&area);
    let mut h = Sha512::new();
    h.update(bytes);
    h.update(&head);
    h.update([4, 0xff]);
    h.update((head.len() as u32).to_be_bytes());
    Some(h.finalize().into())
}

/// The standard signature packet a compact signature stands for, made by key `fpr` of algorithm `pk_algo`.
fn packet(c: &Compact, pk_algo: PublicKeyAlgorithm, fpr: &Fingerprint, bytes: &[u8]) -> Option<Signature> {
    let d = digest(bytes, pk_algo, c.time, fpr)?;
    let mpis = match pk_algo {
        PublicKeyAlgorithm::EdDSA => {
            mpi::Signature::EdDSA { r: mpi::MPI::new(&c.signature[..32]), s: mpi::MPI::new(&c.signature[32..]) }
        }
        PublicKeyAlgorithm::Ed25519 => mpi::Signature::Ed25519 { s: Box::new(c.signature) },
        _ => return None,
    };
    let area = hashed_area(c.time, fpr).ok()?;
    Some(
        Signature4::new(
            SignatureType::Binary,
            pk_algo,
            HashAlgorithm::SHA512,
            area,
            SubpacketArea::default(),
            [d[0], d[1]],
            mpis,
        )
        .into(),
    )
}

/// Signs `bytes` with an unlocked doctor key, at `time` (Unix seconds).
pub(crate) fn sign(mut keypair: openpgp::crypto::KeyPair, bytes: &[u8], time: u32) -> Result<Compact, Error> {
    use openpgp::crypto::Signer as _;
    let public = keypair.public().clone();
    let (pk_algo, fpr) = (public.pk_algo(), public.fingerprint());
    let d = digest(bytes, pk_algo, time, &fpr).ok_or_else(|| crypto("a compact signature needs a v4 key"))?;
    let signature = match keypair.sign(HashAlgorithm::SHA512, &d).map_err(crypto)? {
        mpi::Signature::EdDSA { r, s } => {
            let mut out = [0u8; SIGNATURE_BYTES];
            out[..32].copy_from_slice(&r.value_padded(32).map_err(crypto)?);
            out[32..].copy_from_slice(&s.value_padded(32).map_err(crypto)?);
            out
        }
        mpi::Signature::Ed25519 { s } => *s,
        _ => return Err(crypto("a compact signature needs an Ed25519 key")),
    };
    let compact = Compact { time, signature };
    // The digest is built by hand: make sure the OpenPGP library agrees before anything is printed.
    let sig = packet(&compact, pk_algo, &fpr, bytes).ok_or_else(|| crypto("unsupported key"))?;
    sig.verify_message(&public, bytes).map_err(crypto)?;
    Ok(compact)
}

/// Checks a compact signature over `bytes` with an armored certificate: some signing-capable key of it, valid
/// at the signature's time under the standard policy, made it. Returns the certificate's (primary key's)
/// fingerprint, the one documents, key lists and trust lists name a doctor's key by.
pub fn verify(cert: &str, c: &Compact, bytes: &[u8]) -> Result<String, BadSignature> {
    let cert = Cert::from_bytes(cert.as_bytes()).map_err(|e| BadSignature(format!("the key cannot be read: {e}")))?;
    let when = std::time::SystemTime::from(Timestamp::from(c.time));
    let mut why = "the key has no key that could sign then".to_owned();
    for ka in cert.keys().with_policy(&POLICY, Some(when)).for_signing() {
        let key = ka.key();
        let Some(sig) = packet(c, key.pk_algo(), &key.fingerprint(), bytes) else { continue };
        match sig.verify_message(key, bytes) {
            Ok(()) => return Ok(cert.fingerprint().to_hex()),
            Err(e) => why = format!("the signature does not match: {e}"),
        }
    }
    Err(BadSignature(why))
}

/// The standard OpenPGP signature a compact one stands for, made by `cert`'s key that verifies it, binary
/// (what `gpg --verify SIG FILE` takes).
pub fn to_openpgp(cert: &str, c: &Compact, bytes: &[u8]) -> Option<Vec<u8>> {
    use openpgp::serialize::MarshalInto;
    let cert = Cert::from_bytes(cert.as_bytes()).ok()?;
    let when = std::time::SystemTime::from(Timestamp::from(c.time));
    cert.keys().with_policy(&POLICY, Some(when)).for_signing().find_map(|ka| {
        let key = ka.key();
        let sig = packet(c, key.pk_algo(), &key.fingerprint(), bytes)?;
        sig.verify_message(key, bytes).ok()?;
        openpgp::Packet::from(sig).to_vec().ok()
    })
}
