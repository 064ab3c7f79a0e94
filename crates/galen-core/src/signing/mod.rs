//! Doctors' OpenPGP keys (Ed25519, via sequoia), created on first use, their secret parts encrypted with the
//! doctor's password (stored in `table.rs`). Detached signatures over canonical bytes, verifiable by stock GnuPG.
//!
//! A doctor may have several keys over time (a password reset by an admin makes the old secret unusable, so the
//! next signature gets a new key); old keys stay here so their signatures still verify.

use crate::error::{CryptoFailure, Error, Missing, Result as StoreResult};
use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use openpgp::parse::stream::{DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::serialize::SerializeInto;
use rusqlite::Connection;
use sequoia_openpgp as openpgp;

pub(crate) mod table;
use std::io::Write;

static POLICY: StandardPolicy<'static> = StandardPolicy::new();

/// Sequoia's errors describe packets and algorithms, never secret material.
fn crypto_error(e: impl std::fmt::Display) -> Error {
    Error::Crypto(CryptoFailure::OpenPgp(e.to_string()))
}

/// Creates a new signing key for a doctor, its secret encrypted with `password`, as their active key; returns
/// its fingerprint and the armored (encrypted) secret key.
pub(crate) fn create_key(
    conn: &Connection,
    staff_id: i64,
    user_id: &str,
    password: &str,
    now: &str,
) -> Result<(String, String), Error> {
    let (cert, _revocation) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::Cv25519)
        .add_userid(user_id)
        .add_signing_subkey()
        .set_password(Some(Password::from(password)))
        .generate()
        .map_err(crypto_error)?;
    let armored = String::from_utf8(cert.as_tsk().armored().to_vec().map_err(crypto_error)?).unwrap_or_default();
    let fingerprint = cert.fingerprint().to_hex();
    table::insert_active(conn, staff_id, &fingerprint, &armored, now)?;
    Ok((fingerprint, armored))
}

/// The doctor's current key (fingerprint and armored secret key), if any.
pub(crate) fn active_key(conn: &Connection, staff_id: i64) -> StoreResult<Option<(String, String)>> {
    table::active(conn, staff_id)
}

fn load_cert(armored: &str) -> Result<Cert, Error> {
    Cert::from_bytes(armored.as_bytes()).map_err(crypto_error)
}

/// The armored public key for a fingerprint (any key Galen ever issued).
pub fn public_key(conn: &Connection, fingerprint: &str) -> Result<String, Error> {
    let armored = table::by_fingerprint(conn, fingerprint)?
        .ok_or_else(|| Error::NotFound(Missing::Key(fingerprint.to_owned())))?;
    let cert = load_cert(&armored)?;
    let bytes = cert.armored().to_vec().map_err(crypto_error)?;
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// The unlocked signing key in `armored`, or `None` if `password` does not unlock it. This is the slow,
/// password-derived step; keep the result only as long as one signature needs it.
pub(crate) fn unlock(armored: &str, password: &str) -> Result<Option<openpgp::crypto::KeyPair>, Error> {
    let cert = load_cert(armored)?;
    let key = cert
        .keys()
        .secret()
        .with_policy(&POLICY, None)
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .next()
        .ok_or(Error::Crypto(CryptoFailure::OpenPgp("the key has no usable signing subkey".into())))?
        .key()
        .clone();
    let Ok(unlocked) = key.decrypt_secret(&Password::from(password)) else { return Ok(None) };
    Ok(Some(unlocked.into_keypair().map_err(crypto_error)?))
}

/// An armored detached signature over `bytes` with an unlocked key (what GnuPG reads as a `.asc` file).
pub(crate) fn sign_with(keypair: openpgp::crypto::KeyPair, bytes: &[u8]) -> Result<String, Error> {
    Ok(String::from_utf8(sign_into(keypair, bytes, true)?).unwrap_or_default())
}

/// A binary detached signature (about 120 bytes for Ed25519), for the printed QR.
pub(crate) fn sign_raw(keypair: openpgp::crypto::KeyPair, bytes: &[u8]) -> Result<Vec<u8>, Error> {
    sign_into(keypair, bytes, false)
}

fn sign_into(keypair: openpgp::crypto::KeyPair, bytes: &[u8], armored: bool) -> Result<Vec<u8>, Error> {
    let mut sink = Vec::new();
    {
        let mut message = Message::new(&mut sink);
        if armored {
            message = Armorer::new(message).kind(openpgp::armor::Kind::Signature).build().map_err(crypto_error)?;
        }
        let mut signer =
            Signer::new(message, keypair).map_err(crypto_error)?.detached().build().map_err(crypto_error)?;
        signer.write_all(bytes).map_err(crypto_error)?;
        signer.finalize().map_err(crypto_error)?;
    }
    Ok(sink)
}

/// Re-encrypts a doctor's active key under a new password (their password changed).
pub(crate) fn reencrypt(conn: &Connection, staff_id: i64, old: &str, new: &str) -> Result<(), Error> {
    let Some((fingerprint, armored)) = active_key(conn, staff_id)? else { return Ok(()) };
    let cert = load_cert(&armored)?;
    let (old, new) = (Password::from(old), Password::from(new));
    let mut packets: Vec<openpgp::Packet> = Vec::new();
    for ka in cert.keys().secret() {
        let key = ka.key().clone();
        let key = match key.decrypt_secret(&old) {
            Ok(k) => k,
            Err(_) => {
                // Not unlockable with the old password (e.g. after an admin reset): retire it instead.
                table::retire(conn, &fingerprint)?;
                return Ok(());
            }
        };
        let key = key.encrypt_secret(&new).map_err(crypto_error)?;
        packets.push(if ka.primary() {
            openpgp::Packet::from(key.role_into_primary())
        } else {
            openpgp::Packet::from(key.role_into_subordinate())
        });
    }
    let (cert, _) = cert.insert_packets(packets).map_err(crypto_error)?;
    let armored = String::from_utf8(cert.as_tsk().armored().to_vec().map_err(crypto_error)?).unwrap_or_default();
    table::replace_secret(conn, &fingerprint, &armored)?;
    Ok(())
}

/// Why a detached signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadSignature(pub String);

struct Helper<'a>(&'a Cert);

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(vec![self.0.clone()])
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                if results.iter().any(|r| r.is_ok()) {
                    return Ok(());
                }
                let why = results.into_iter().filter_map(|r| r.err()).map(|e| e.to_string()).collect::<Vec<_>>();
                return Err(openpgp::Error::BadSignature(why.join("; ")).into());
            }
        }
        Err(openpgp::Error::BadSignature("no signature found".into()).into())
    }
}

/// Checks an armored detached signature over `bytes` against the armored public key `cert`.
pub fn verify_detached(cert: &str, signature: &str, bytes: &[u8]) -> Result<(), BadSignature> {
    verify_detached_raw(cert, signature.as_bytes(), bytes)
}

/// Checks a detached signature, armored or binary, over `bytes` against the armored public key `cert`.
pub fn verify_detached_raw(cert: &str, signature: &[u8], bytes: &[u8]) -> Result<(), BadSignature> {
    let cert = Cert::from_bytes(cert.as_bytes()).map_err(|e| BadSignature(format!("the key cannot be read: {e}")))?;
    let builder = DetachedVerifierBuilder::from_bytes(signature)
        .map_err(|e| BadSignature(format!("the signature cannot be read: {e}")))?;
    let mut verifier = builder
        .with_policy(&POLICY, None, Helper(&cert))
        .map_err(|e| BadSignature(format!("the signature cannot be checked: {e}")))?;
    verifier.verify_bytes(bytes).map_err(|e| BadSignature(format!("the signature does not match: {e}")))
}

/// The fingerprint of an armored public key, upper-case hex.
pub fn fingerprint_of(cert: &str) -> Option<String> {
    Cert::from_bytes(cert.as_bytes()).ok().map(|c| c.fingerprint().to_hex())
}
