//! Doctors' OpenPGP keys (Ed25519, via sequoia), created on first use, their secret parts encrypted with the
//! doctor's password (stored in `table.rs`). Detached signatures over canonical bytes, verifiable by stock GnuPG.
//!
//! A doctor may have several keys over time (a password reset by an admin makes the old secret unusable, so the
//! next signature gets a new key); old keys stay here so their signatures still verify.

use crate::error::{CryptoFailure, Error, Missing, Result as StoreResult};
use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper, VerifierBuilder,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::serialize::SerializeInto;
use openpgp::types::{ReasonForRevocation, RevocationKey, SignatureType};
use rusqlite::Connection;
use sequoia_openpgp as openpgp;

pub(crate) mod table;
use std::io::Write;

static POLICY: StandardPolicy<'static> = StandardPolicy::new();

/// Sequoia's errors describe packets and algorithms, never secret material.
fn crypto_error(e: impl std::fmt::Display) -> Error {
    Error::Crypto(CryptoFailure::OpenPgp(e.to_string()))
}

/// Why a doctor got a new signing key, as the key's row and its audit entry record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCause {
    /// Their first signature.
    FirstSignature,
    /// An admin reset their password, which left the earlier key locked: who, and when.
    AfterReset {
        /// The admin's username.
        by: String,
        /// When, RFC 3339.
        at: String,
    },
    /// The earlier key was revoked or could not be used for another reason.
    Replaced,
}

impl std::fmt::Display for KeyCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyCause::FirstSignature => write!(f, "first signature"),
            KeyCause::AfterReset { by, at } => write!(f, "after {by} reset the password on {at}"),
            KeyCause::Replaced => write!(f, "the earlier key could not be used"),
        }
    }
}

/// Creates a new signing key for a doctor as their active key, its secret encrypted with `password`. The
/// clinic's site key (`site_tsk`, armored) certifies its user ID, so whoever trusts the clinic can trust the key,
/// and is named in it as a designated revoker, so an admin can revoke it later without the doctor's password.
/// Returns its fingerprint and the armored (encrypted) secret key.
pub(crate) fn create_key(
    conn: &Connection,
    staff_id: i64,
    user_id: &str,
    password: &str,
    cause: &KeyCause,
    site_tsk: &str,
    now: &str,
) -> Result<(String, String), Error> {
    let site = load_cert(site_tsk)?;
    let revoker = RevocationKey::new(site.primary_key().key().pk_algo(), site.fingerprint(), false);
    let (cert, _) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::Cv25519)
        .add_userid(user_id)
        .add_signing_subkey()
        .set_revocation_keys(vec![revoker])
        .set_password(Some(Password::from(password)))
        .generate()
        .map_err(crypto_error)?;
    let cert = certify(&cert, site_tsk)?;
    let armored = tsk_armored(&cert)?;
    let fingerprint = cert.fingerprint().to_hex();
    table::insert_active(conn, staff_id, &fingerprint, &armored, cause, now)?;
    Ok((fingerprint, armored))
}

/// `cert` with its user IDs certified by the clinic's site key (positive certification: the clinic checked who
/// its doctor is). Stock GnuPG shows it with `--check-sigs` once the site key is imported.
fn certify(cert: &Cert, site_tsk: &str) -> Result<Cert, Error> {
    let mut signer = site_signer(site_tsk)?;
    let mut packets: Vec<openpgp::Packet> = Vec::new();
    for uid in cert.userids() {
        let sig = uid
            .userid()
            .certify(&mut signer, cert, SignatureType::PositiveCertification, None, None)
            .map_err(crypto_error)?;
        packets.push(sig.into());
    }
    Ok(cert.clone().insert_packets(packets).map_err(crypto_error)?.0)
}

/// Whether the site key (armored, public or secret) has certified `cert`'s user ID, and no revocation of that
/// certification by it is in `cert`.
pub(crate) fn certified_by(cert_armored: &str, site_armored: &str) -> bool {
    let (Ok(cert), Ok(site)) = (load_cert(cert_armored), load_cert(site_armored)) else { return false };
    let site_key = site.primary_key().key();
    cert.userids().any(|uid| {
        let by_site = |sig: &&openpgp::packet::Signature| {
            sig.get_issuers().iter().any(|i| i.aliases(openpgp::KeyHandle::from(site.fingerprint())))
        };
        let certified = uid
            .certifications()
            .filter(by_site)
            .any(|sig| sig.clone().verify_userid_binding(site_key, cert.primary_key().key(), uid.userid()).is_ok());
        let revoked = uid
            .other_revocations()
            .filter(by_site)
            .any(|sig| sig.clone().verify_userid_revocation(site_key, cert.primary_key().key(), uid.userid()).is_ok());
        certified && !revoked
    })
}

/// The key in `tsk` revoked by the clinic: a key revocation made by the site key as the key's designated revoker
/// (keys from before version 15 do not name it: for those, `None`), with the admin's `reason`, dated now, and the
/// site key's certification of it withdrawn. Both travel with every export of the public key; the revocation is
/// also handed out alone (`gpg --import` with the site key present marks the key revoked). Soft: signatures made
/// before it stand. Returns the key with both merged in, and the revocation alone (armored).
pub(crate) fn revoke(tsk: &str, site_tsk: &str, reason: &str) -> Result<(String, Option<String>), Error> {
    let cert = load_cert(tsk)?;
    let site = load_cert(site_tsk)?;
    let mut signer = site_signer(site_tsk)?;
    let designated = cert
        .revocation_keys(&POLICY)
        .any(|rk| rk.revoker().0 == site.primary_key().key().pk_algo() && rk.revoker().1 == &site.fingerprint());
    let mut packets: Vec<openpgp::Packet> = Vec::new();
    let revocation = if designated {
        let sig = CertRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::KeyRetired, reason.as_bytes())
            .map_err(crypto_error)?
            .build(&mut signer, &cert, None)
            .map_err(crypto_error)?;
        packets.push(sig.clone().into());
        Some(armored_revocation(&cert, &sig)?)
    } else {
        None
    };
    for uid in cert.userids() {
        let withdrawn = UserIDRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::UIDRetired, reason.as_bytes())
            .map_err(crypto_error)?
            .build(&mut signer, &cert, uid.userid(), None)
            .map_err(crypto_error)?;
        packets.push(withdrawn.into());
    }
    Ok((tsk_armored(&cert.insert_packets(packets).map_err(crypto_error)?.0)?, revocation))
}

/// `text` signed by the site key in OpenPGP's cleartext framework: a person reads it as it is, and
/// `gpg --verify` checks it once the site key is imported.
pub(crate) fn cleartext_sign(site_tsk: &str, text: &str) -> Result<String, Error> {
    let site = load_cert(site_tsk)?;
    let keypair = site
        .keys()
        .unencrypted_secret()
        .with_policy(&POLICY, None)
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .next()
        .ok_or(Error::Crypto(CryptoFailure::OpenPgp("the site key has no signing subkey".into())))?
        .key()
        .clone()
        .into_keypair()
        .map_err(crypto_error)?;
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let mut signer =
            Signer::new(message, keypair).map_err(crypto_error)?.cleartext().build().map_err(crypto_error)?;
        signer.write_all(text.as_bytes()).map_err(crypto_error)?;
        signer.finalize().map_err(crypto_error)?;
    }
    Ok(String::from_utf8(sink).unwrap_or_default())
}

/// The text of a cleartext-signed message, checked against the armored public key `cert`.
pub fn verify_cleartext(message: &str, cert: &str) -> Result<String, BadSignature> {
    let cert = Cert::from_bytes(cert.as_bytes()).map_err(|e| BadSignature(format!("the key cannot be read: {e}")))?;
    let mut verifier = VerifierBuilder::from_bytes(message.as_bytes())
        .map_err(|e| BadSignature(format!("not a signed message: {e}")))?
        .with_policy(&POLICY, None, Helper(&cert))
        .map_err(|e| BadSignature(format!("the signature does not match: {e}")))?;
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut verifier, &mut text)
        .map_err(|e| BadSignature(format!("the signature does not match: {e}")))?;
    String::from_utf8(text).map_err(|_| BadSignature("the signed text is not UTF-8".into()))
}

/// The text of a cleartext-signed message, unchecked: only to find the key to check it with.
pub fn cleartext_of(message: &str) -> Option<String> {
    let body = message.split_once("-----BEGIN PGP SIGNED MESSAGE-----")?.1;
    let body = body.split_once("\n\n")?.1;
    let text = body.split_once("\n-----BEGIN PGP SIGNATURE-----")?.0;
    // Dash-escaped lines ("- -…") are the framework's, not the text's.
    Some(text.lines().map(|l| l.strip_prefix("- ").unwrap_or(l)).collect::<Vec<_>>().join("\n"))
}

fn site_signer(site_tsk: &str) -> Result<openpgp::crypto::KeyPair, Error> {
    let site = load_cert(site_tsk)?;
    site.primary_key().key().clone().parts_into_secret().map_err(crypto_error)?.into_keypair().map_err(crypto_error)
}

fn tsk_armored(cert: &Cert) -> Result<String, Error> {
    Ok(String::from_utf8(cert.as_tsk().armored().to_vec().map_err(crypto_error)?).unwrap_or_default())
}

/// A designated revocation as GnuPG imports it: the revoked key's primary public key and the revocation, in a
/// public-key block (alone, GnuPG would look the signature up under the revoker's key and reject it).
fn armored_revocation(cert: &Cert, sig: &openpgp::packet::Signature) -> Result<String, Error> {
    use openpgp::serialize::Serialize;
    let mut bytes = Vec::new();
    let mut writer = openpgp::armor::Writer::new(&mut bytes, openpgp::armor::Kind::PublicKey).map_err(crypto_error)?;
    let primary = cert.primary_key().key().clone().take_secret().0.role_into_primary();
    openpgp::Packet::from(primary).serialize(&mut writer).map_err(crypto_error)?;
    openpgp::Packet::from(sig.clone()).serialize(&mut writer).map_err(crypto_error)?;
    writer.finalize().map_err(crypto_error)?;
    Ok(String::from_utf8(bytes).unwrap_or_default())
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
    table::replace_secret(conn, &fingerprint, &tsk_armored(&cert)?)?;
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
    // Judge the key as it stood when it signed: a key retired (revoked) since keeps its earlier signatures, as
    // OpenPGP's soft revocations mean; Galen's own records say whether a signature came after a revocation.
    let mut verifier = builder
        .with_policy(&POLICY, signed_at(signature), Helper(&cert))
        .map_err(|e| BadSignature(format!("the signature cannot be checked: {e}")))?;
    verifier.verify_bytes(bytes).map_err(|e| BadSignature(format!("the signature does not match: {e}")))
}

/// When a detached signature says it was made.
fn signed_at(signature: &[u8]) -> Option<std::time::SystemTime> {
    let pile = openpgp::PacketPile::from_bytes(signature).ok()?;
    pile.descendants().find_map(|p| match p {
        openpgp::Packet::Signature(sig) => sig.signature_creation_time(),
        _ => None,
    })
}

/// The fingerprint of an armored public key, upper-case hex.
pub fn fingerprint_of(cert: &str) -> Option<String> {
    Cert::from_bytes(cert.as_bytes()).ok().map(|c| c.fingerprint().to_hex())
}
