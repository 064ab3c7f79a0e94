//! Envelopes: how one record travels between a site and its partner. The plaintext is JSON `{meta, payload}`;
//! it is signed with the sender's OpenPGP site key and encrypted to the recipient's, in one OpenPGP message, so
//! every record gets its own session key. Both the clinic and the partner open envelopes with [`open`], which
//! names exactly why one is refused ([`Rejection`]); the caller adds the checks that need its database (nonce
//! and id replay).
//!
//! Envelopes are never compressed. A compressed-data packet is refused the moment it is met, before anything is
//! expanded: a few hundred bytes of bzip2 can expand to gigabytes, and its signature could only be checked after
//! the expansion. What is read is bounded besides: an envelope over [`MAX_ENVELOPE_BYTES`] is refused unparsed,
//! and no more than that is ever read out of one.

use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, SessionKey};
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::Key;
use openpgp::packet::{Packet, PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError,
    VerificationHelper,
};
use openpgp::parse::{PacketParser, Parse};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer};
use openpgp::serialize::SerializeInto;
use openpgp::types::SymmetricAlgorithm;
use sequoia_openpgp as openpgp;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::io::{Read, Write};
use time::OffsetDateTime;

static POLICY: StandardPolicy<'static> = StandardPolicy::new();

/// The version tag in every envelope's metadata; readers refuse others.
pub const FORMAT: &str = "galen-envelope-1";
/// The largest envelope accepted, sealed (a signed document with its doctor's key is a few KB).
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;
/// How far an envelope's `created_at` may be from the receiver's clock, either way.
pub const WINDOW: time::Duration = time::Duration::minutes(10);

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A patient record (`SharedPatient` at the clinic).
    Patient,
    /// A signed document (`SharedDocument` at the clinic).
    Document,
    /// The site's trust list: which keys are its doctors', signed by its site key (`SharedTrustList`).
    TrustList,
}

impl Kind {
    /// The kind as spelled on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Patient => "patient",
            Kind::Document => "document",
            Kind::TrustList => "trust_list",
        }
    }

    /// The kind spelled `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Patient, Kind::Document, Kind::TrustList].into_iter().find(|k| k.as_str() == s)
    }
}

/// An envelope's metadata. Do not change: it is signed (a new field needs a new [`FORMAT`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Always [`FORMAT`].
    pub format: String,
    /// The record's id (a UUIDv7), the same at every site.
    pub id: String,
    /// The record's version; (origin, id, version) names one record version everywhere.
    pub version: u32,
    /// When the envelope was sealed (RFC 3339, UTC). A re-send is sealed again, with a new nonce.
    pub created_at: String,
    /// 128 random bits, hex: an envelope is accepted once.
    pub nonce: String,
    /// OpenPGP fingerprint of the key that signed the envelope.
    pub sender: String,
    /// OpenPGP fingerprint of the key it is encrypted to.
    pub recipient: String,
    /// OpenPGP fingerprint of the site that wrote the record (the sender, unless the partner relays it).
    pub origin: String,
    /// What the record is.
    pub kind: Kind,
}

/// What is signed and encrypted. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plaintext {
    /// Who, what and when.
    pub meta: Meta,
    /// The record, as JSON.
    pub payload: serde_json::Value,
}

/// Why an envelope was refused. Each has its own code, which the partner logs and returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Over [`MAX_ENVELOPE_BYTES`].
    #[error("the envelope is larger than {MAX_ENVELOPE_BYTES} bytes")]
    Oversized,
    /// Not an OpenPGP message, or not a Galen envelope inside.
    #[error("the envelope is not a Galen envelope: {0}")]
    Malformed(String),
    /// Holds a compressed-data packet, which Galen never writes (a decompression bomb, or not from Galen).
    #[error("the envelope is compressed, which Galen envelopes never are; it was refused unopened")]
    Compressed,
    /// Encrypted to someone else.
    #[error("the envelope is not encrypted to this receiver")]
    NotForUs,
    /// Altered after sealing.
    #[error("the envelope was altered after it was sealed")]
    Tampered,
    /// Signed by a key not paired.
    #[error("the envelope is signed by a key this receiver has not paired with")]
    UnknownSigner,
    /// Signed by a paired key other than the sender's.
    #[error("the envelope is signed by another paired site, not by the one that sent it")]
    WrongSigner,
    /// Sealed too long ago, or in the future.
    #[error("the envelope's timestamp is outside the accepted window of {} minutes", WINDOW.whole_minutes())]
    Stale,
    /// A nonce already seen.
    #[error("this envelope (its nonce) was already received")]
    ReplayedNonce,
    /// An id and version already received with other contents.
    #[error("this record id and version were already received with different contents")]
    ReplayedId,
}

impl Rejection {
    /// The stable code used on the wire and in logs.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Oversized => "oversized",
            Rejection::Malformed(_) => "malformed",
            Rejection::Compressed => "compressed",
            Rejection::NotForUs => "not_for_us",
            Rejection::Tampered => "tampered",
            Rejection::UnknownSigner => "unknown_signer",
            Rejection::WrongSigner => "wrong_signer",
            Rejection::Stale => "stale",
            Rejection::ReplayedNonce => "replayed_nonce",
            Rejection::ReplayedId => "replayed_id",
        }
    }
}

/// A site's or partner's own OpenPGP key, unlocked for sealing and opening envelopes.
pub struct OwnKey {
    cert: Cert,
    signer: KeyPair,
    decryptor: KeyPair,
}

impl std::fmt::Debug for OwnKey {
    // Secret key material never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnKey").field("fingerprint", &self.fingerprint()).finish_non_exhaustive()
    }
}

/// A key that cannot be read or used, or a message that cannot be sealed (the OpenPGP library's own words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The OpenPGP library could not read the key.
    #[error("the key cannot be read: {0}")]
    Unreadable(String),
    /// The key lacks a signing or encryption subkey.
    #[error("the key has no usable {0} subkey")]
    NoSubkey(&'static str),
    /// A secret key where a public one belongs.
    #[error("this is a secret key; only a public key is paired")]
    SecretGiven,
    /// The OpenPGP library could not seal the message.
    #[error("the envelope cannot be sealed: {0}")]
    Seal(String),
}

fn invalid(e: impl std::fmt::Display) -> KeyError {
    KeyError::Unreadable(e.to_string())
}

fn sealing(e: impl std::fmt::Display) -> KeyError {
    KeyError::Seal(e.to_string())
}

impl OwnKey {
    /// Reads an armored secret key (TSK) with unencrypted signing and encryption subkeys.
    pub fn from_armored(tsk: &str) -> Result<OwnKey, KeyError> {
        let cert = Cert::from_bytes(tsk.as_bytes()).map_err(invalid)?;
        let pick = |signing: bool| -> Result<KeyPair, KeyError> {
            let keys = cert.keys().unencrypted_secret().with_policy(&POLICY, None).supported().alive().revoked(false);
            let key = if signing { keys.for_signing().next() } else { keys.for_transport_encryption().next() };
            key.ok_or(KeyError::NoSubkey(if signing { "signing" } else { "encryption" }))?
                .key()
                .clone()
                .into_keypair()
                .map_err(invalid)
        };
        Ok(OwnKey { signer: pick(true)?, decryptor: pick(false)?, cert })
    }

    /// A new Cv25519 key with signing and transport-encryption subkeys, armored (TSK).
    pub fn generate(user_id: &str) -> Result<String, KeyError> {
        let (cert, _revocation) = CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_userid(user_id)
            .add_signing_subkey()
            .add_transport_encryption_subkey()
            .generate()
            .map_err(invalid)?;
        let armored = cert.as_tsk().armored().to_vec().map_err(invalid)?;
        String::from_utf8(armored).map_err(invalid)
    }

    /// The key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    /// The public key, armored, for a pairing file.
    pub fn public_armored(&self) -> String {
        String::from_utf8(self.cert.armored().to_vec().unwrap_or_default()).unwrap_or_default()
    }

    /// An armored detached signature over `bytes` (what `gpg --verify SIGNATURE FILE` checks).
    pub fn sign_detached(&self, bytes: &[u8]) -> Result<String, KeyError> {
        let mut sink = Vec::new();
        {
            let message = Message::new(&mut sink);
            let message = Armorer::new(message).kind(openpgp::armor::Kind::Signature).build().map_err(sealing)?;
            let mut signer =
                Signer::new(message, self.signer.clone()).map_err(sealing)?.detached().build().map_err(sealing)?;
            signer.write_all(bytes).map_err(sealing)?;
            signer.finalize().map_err(sealing)?;
        }
        String::from_utf8(sink).map_err(sealing)
    }
}

/// Someone else's public key, as paired, with its encryption subkeys picked once (validating a cert under the
/// policy costs several signature checks, too many to repeat per envelope).
#[derive(Debug, Clone)]
pub struct PeerKey {
    /// The key.
    pub cert: Cert,
    encryption: Vec<(openpgp::types::Features, Key<PublicParts, UnspecifiedRole>)>,
}

impl PeerKey {
    /// Reads an armored public key and picks its encryption subkeys.
    pub fn from_armored(armored: &str) -> Result<PeerKey, KeyError> {
        let cert = Cert::from_bytes(armored.as_bytes()).map_err(invalid)?;
        if cert.is_tsk() {
            return Err(KeyError::SecretGiven);
        }
        let valid = cert.with_policy(&POLICY, None).map_err(invalid)?;
        let features = valid.features().unwrap_or_else(openpgp::types::Features::sequoia);
        let encryption = valid
            .keys()
            .supported()
            .alive()
            .revoked(false)
            .for_transport_encryption()
            .map(|ka| (features.clone(), ka.key().clone().role_into_unspecified()))
            .collect::<Vec<_>>();
        if encryption.is_empty() {
            return Err(KeyError::NoSubkey("encryption"));
        }
        Ok(PeerKey { cert, encryption })
    }

    /// The key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    /// Whether `signature`, a detached signature (armored or binary, at most [`MAX_ENVELOPE_BYTES`]), is a good
    /// signature over `bytes` by this key.
    pub fn verifies_detached(&self, bytes: &[u8], signature: &str) -> bool {
        if signature.len() > MAX_ENVELOPE_BYTES {
            return false;
        }
        let helper = DetachedHelper(&self.cert);
        DetachedVerifierBuilder::from_bytes(signature.as_bytes())
            .and_then(|b| b.with_policy(&POLICY, None, helper))
            .and_then(|mut v| v.verify_bytes(bytes))
            .is_ok()
    }
}

/// Checks a detached signature against one key.
struct DetachedHelper<'a>(&'a Cert);

impl VerificationHelper for DetachedHelper<'_> {
    fn inspect(&mut self, pp: &PacketParser) -> openpgp::Result<()> {
        // A detached signature is signature packets only; anything compressed is refused unexpanded.
        if let Packet::CompressedData(_) = pp.packet {
            return Err(openpgp::Error::MalformedMessage("compressed data".into()).into());
        }
        Ok(())
    }

    fn get_certs(&mut self, _: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(vec![self.0.clone()])
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                if results.iter().any(|r| r.is_ok()) {
                    return Ok(());
                }
            }
        }
        Err(openpgp::Error::BadSignature("no good signature".into()).into())
    }
}

/// 128 random bits as hex.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    // Without the OS's randomness no envelope can be sealed safely; there is nothing to fall back to.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random number generator is unavailable");
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Signs `plaintext` with `me` and encrypts it to `to`. The result is a binary OpenPGP message.
pub fn seal(me: &OwnKey, to: &PeerKey, plaintext: &Plaintext) -> Result<Vec<u8>, KeyError> {
    let json = serde_json::to_vec(plaintext).map_err(sealing)?;
    let recipients =
        to.encryption.iter().map(|(features, key)| Recipient::new(features.clone(), key.key_handle(), key));
    let mut sink = Vec::with_capacity(json.len() + 512);
    {
        let message = Message::new(&mut sink);
        let message = Encryptor::for_recipients(message, recipients).build().map_err(sealing)?;
        let message = Signer::new(message, me.signer.clone()).map_err(sealing)?.build().map_err(sealing)?;
        let mut literal = LiteralWriter::new(message).build().map_err(sealing)?;
        literal.write_all(&json).map_err(sealing)?;
        literal.finalize().map_err(sealing)?;
    }
    Ok(sink)
}

/// What [`open`] found: the plaintext, and which of the candidate keys signed it.
#[derive(Debug, Clone)]
pub struct Opened {
    /// What was sealed.
    pub plaintext: Plaintext,
    /// Fingerprint of the candidate whose key made the good signature.
    pub signer: String,
}

/// What the helper learnt while sequoia drove it; read after the decryptor is gone, even when it failed.
#[derive(Default)]
struct Findings {
    /// Sequoia reached the encrypted part and asked for a key.
    asked_for_key: std::cell::Cell<bool>,
    /// This receiver's key recovered the session key.
    decrypted: std::cell::Cell<bool>,
    /// A compressed-data packet was met (and refused before it was expanded).
    compressed: std::cell::Cell<bool>,
    unknown_signer: std::cell::Cell<bool>,
    signer: std::cell::RefCell<Option<String>>,
}

struct Helper<'a> {
    me: &'a OwnKey,
    candidates: &'a [PeerKey],
    found: &'a Findings,
}

impl VerificationHelper for Helper<'_> {
    /// Sequoia shows each packet here before it descends into it: a compressed one stops the parse unexpanded.
    fn inspect(&mut self, pp: &PacketParser) -> openpgp::Result<()> {
        if let Packet::CompressedData(_) = pp.packet {
            self.found.compressed.set(true);
            return Err(openpgp::Error::MalformedMessage("compressed data".into()).into());
        }
        Ok(())
    }

    fn get_certs(&mut self, ids: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        // Only the candidate that made the signature: cloning and checking every paired site's key is slow.
        let wanted = |c: &&PeerKey| c.cert.keys().any(|k| ids.iter().any(|id| id.aliases(k.key().key_handle())));
        Ok(self.candidates.iter().filter(wanted).map(|c| c.cert.clone()).collect())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                for result in results {
                    match result {
                        Ok(good) => {
                            *self.found.signer.borrow_mut() = Some(good.ka.cert().fingerprint().to_hex());
                            return Ok(());
                        }
                        Err(VerificationError::MissingKey { .. }) => self.found.unknown_signer.set(true),
                        Err(_) => {}
                    }
                }
            }
        }
        Err(openpgp::Error::BadSignature("no good signature".into()).into())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        self.found.asked_for_key.set(true);
        let mut keypair = self.me.decryptor.clone();
        for pkesk in pkesks {
            if let Some((algo, session_key)) = pkesk.decrypt(&mut keypair, sym_algo) {
                self.found.decrypted.set(true);
                if decrypt(algo, &session_key) {
                    return Ok(Some(self.me.cert.clone()));
                }
            }
        }
        Ok(None)
    }
}

/// Decrypts an envelope with `me`, checks that one of `candidates` signed it and that its metadata is well formed,
/// addressed to `me`, and fresh at `now`. Replay checks need the receiver's store and are the caller's.
pub fn open(me: &OwnKey, candidates: &[PeerKey], bytes: &[u8], now: OffsetDateTime) -> Result<Opened, Rejection> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(Rejection::Oversized);
    }
    let found = Findings::default();
    let helper = Helper { me, candidates, found: &found };
    let mut json = Vec::new();
    // Without compression the contents are smaller than the envelope; reading one byte more tells if they are not.
    let result = DecryptorBuilder::from_bytes(bytes)
        .map_err(|e| Rejection::Malformed(e.to_string()))?
        .buffer_size(MAX_ENVELOPE_BYTES)
        .with_policy(&POLICY, None, helper)
        .and_then(|d| d.take(MAX_ENVELOPE_BYTES as u64 + 1).read_to_end(&mut json).map_err(Into::into));
    if let Err(e) = result {
        return Err(if found.compressed.get() {
            Rejection::Compressed
        } else if found.unknown_signer.get() {
            Rejection::UnknownSigner
        } else if found.decrypted.get() {
            Rejection::Tampered
        } else if found.asked_for_key.get() {
            Rejection::NotForUs
        } else {
            Rejection::Malformed(e.to_string())
        });
    }
    if json.len() > MAX_ENVELOPE_BYTES {
        return Err(Rejection::Oversized);
    }
    let signer = found.signer.take().ok_or(Rejection::Tampered)?;
    let plaintext: Plaintext =
        serde_json::from_slice(&json).map_err(|e| Rejection::Malformed(format!("its contents: {e}")))?;
    let meta = &plaintext.meta;
    if meta.format != FORMAT {
        return Err(Rejection::Malformed(format!("unknown format {:?}", meta.format)));
    }
    if uuid::Uuid::parse_str(&meta.id).map(|u| u.get_version_num()) != Ok(7) {
        return Err(Rejection::Malformed("the id is not a UUIDv7".into()));
    }
    if meta.nonce.len() != 32 || data_encoding::HEXLOWER.decode(meta.nonce.as_bytes()).is_err() {
        return Err(Rejection::Malformed("the nonce is not 128 bits of hex".into()));
    }
    if meta.recipient != me.fingerprint() {
        return Err(Rejection::NotForUs);
    }
    if meta.sender != signer {
        return Err(Rejection::WrongSigner);
    }
    let created = OffsetDateTime::parse(&meta.created_at, &time::format_description::well_known::Rfc3339)
        .map_err(|_| Rejection::Malformed("created_at is not an RFC 3339 time".into()))?;
    if (created - now).abs() > WINDOW {
        return Err(Rejection::Stale);
    }
    Ok(Opened { plaintext, signer })
}

/// What counts as a change, at the clinic and at the partner: the hash of a record's contents. A patient's MRN is
/// each clinic's own label (a received patient may get a new one), so it is left out: otherwise two clinics would
/// keep re-sharing the same patient under their two MRNs.
pub fn content_hash(kind: Kind, payload: &serde_json::Value) -> String {
    let mut v = payload.clone();
    if let (Kind::Patient, Some(mrn)) = (kind, v.get_mut("mrn")) {
        *mrn = serde_json::Value::String(String::new());
    }
    // A JSON value always serializes.
    let json = serde_json::to_vec(&v).unwrap_or_default();
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&json))
}

/// `f` over `items` on every core, results in order: sealing and opening envelopes is CPU-bound, and both the
/// clinic and the partner do a batch at a time.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let f = &f;
        let parts: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
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

    fn meta(from: &OwnKey, to: &OwnKey, at: OffsetDateTime) -> Meta {
        Meta {
            format: FORMAT.into(),
            id: uuid::Uuid::now_v7().to_string(),
            version: 1,
            created_at: crate::rfc3339(at),
            nonce: new_nonce(),
            sender: from.fingerprint(),
            recipient: to.fingerprint(),
            origin: from.fingerprint(),
            kind: Kind::Patient,
        }
    }

    #[test]
    fn an_envelope_opens_only_for_its_recipient_and_names_each_refusal() {
        let (site, partner, other) = (key("site"), key("partner"), key("other site"));
        let now = OffsetDateTime::now_utc();
        let plain = Plaintext { meta: meta(&site, &partner, now), payload: serde_json::json!({"name": "Müller"}) };
        let sealed = seal(&site, &peer(&partner), &plain).expect("seal");
        let opened = open(&partner, &[peer(&other), peer(&site)], &sealed, now).expect("opens");
        assert_eq!(opened.plaintext, plain, "the round trip keeps every field");
        assert_eq!(opened.signer, site.fingerprint());
        assert!(!sealed.windows(7).any(|w| w == "Müller".as_bytes()), "the payload is encrypted");

        let again = seal(&site, &peer(&partner), &plain).expect("seal");
        assert_ne!(again, sealed, "each envelope has its own session key");

        assert_eq!(open(&other, &[peer(&site)], &sealed, now).expect_err("refused"), Rejection::NotForUs);
        assert_eq!(open(&partner, &[peer(&other)], &sealed, now).expect_err("refused"), Rejection::UnknownSigner);
        let mut tampered = sealed.clone();
        let i = tampered.len() - 40;
        tampered[i] ^= 1;
        assert_eq!(open(&partner, &[peer(&site)], &tampered, now).expect_err("refused"), Rejection::Tampered);
        let late = now + WINDOW + time::Duration::seconds(1);
        assert_eq!(open(&partner, &[peer(&site)], &sealed, late).expect_err("refused"), Rejection::Stale);
        assert!(matches!(open(&partner, &[peer(&site)], b"garbage", now), Err(Rejection::Malformed(_))));
        let huge = vec![0u8; MAX_ENVELOPE_BYTES + 1];
        assert_eq!(open(&partner, &[peer(&site)], &huge, now).expect_err("refused"), Rejection::Oversized);

        // Signed by `other` while claiming to be from `site`.
        let mut forged = plain.clone();
        forged.meta.nonce = new_nonce();
        let sealed = seal(&other, &peer(&partner), &forged).expect("seal");
        assert_eq!(
            open(&partner, &[peer(&site), peer(&other)], &sealed, now).expect_err("refused"),
            Rejection::WrongSigner
        );
    }

    /// Seals like [`seal`], with a compressed-data packet around the signed contents.
    fn seal_compressed(me: &OwnKey, to: &PeerKey, plaintext: &Plaintext) -> Vec<u8> {
        use openpgp::serialize::stream::Compressor;
        use openpgp::types::CompressionAlgorithm;
        let recipients =
            to.encryption.iter().map(|(features, key)| Recipient::new(features.clone(), key.key_handle(), key));
        let mut sink = Vec::new();
        let message = Message::new(&mut sink);
        let message = Encryptor::for_recipients(message, recipients).build().expect("encryptor");
        let message = Compressor::new(message).algo(CompressionAlgorithm::Uncompressed).build().expect("compressor");
        let message = Signer::new(message, me.signer.clone()).expect("signer").build().expect("signer");
        let mut literal = LiteralWriter::new(message).build().expect("literal");
        literal.write_all(&serde_json::to_vec(plaintext).expect("json")).expect("write");
        literal.finalize().expect("finalize");
        sink
    }

    /// A compressed-data packet is refused before its contents are read, whatever algorithm it names: here
    /// "uncompressed", which needs no compression library to write (galen-partner's tests/partner/hostile.rs sends
    /// real bzip2, zlib and zip bombs made by gpg to both sides).
    #[test]
    fn a_compressed_envelope_is_refused_even_when_authentic() {
        let (site, partner) = (key("site"), key("partner"));
        let now = OffsetDateTime::now_utc();
        let plain = Plaintext { meta: meta(&site, &partner, now), payload: serde_json::json!({"name": "Müller"}) };
        let sealed = seal_compressed(&site, &peer(&partner), &plain);
        assert_eq!(open(&partner, &[peer(&site)], &sealed, now).expect_err("refused"), Rejection::Compressed);
    }
}
