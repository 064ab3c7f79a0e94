//! Small, boring crypto building blocks: randomness, AEAD wrapping of keys, argon2id, keyed checks.
//!
//! Everything here uses maintained RustCrypto crates; nothing is hand-rolled beyond gluing them together.

use crate::sensitive::Sensitive;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The database encryption key: 32 random bytes used as SQLCipher's raw key.
pub type Dek = Sensitive<[u8; 32]>;

/// Fills a fresh array from the operating system's CSPRNG.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The OS RNG failing is not something a clinic app can recover from; there is no safe fallback.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut out).expect("the operating system's random number generator is unavailable");
    out
}

pub fn new_dek() -> Dek {
    Sensitive::new(random::<32>())
}

pub fn base64_encode(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64.decode(s.as_bytes()).ok()
}

/// HMAC-SHA256 of `msg` under `key`.
pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// A short public fingerprint of a key, so a wrong key is recognised without trying to decrypt anything.
/// It is a PRF output under the key itself and reveals nothing about the key.
pub(crate) fn key_check(dek: &Dek) -> String {
    data_encoding::HEXLOWER.encode(&hmac(dek.expose(), b"galen key check v1")[..16])
}

/// A secret sealed with XChaCha20-Poly1305; `aad` binds it to its purpose and database.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: String,
    pub ciphertext: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Ciphertext is not secret, but it is long and useless in a log.
        f.write_str("Sealed{..}")
    }
}

pub(crate) fn seal(key: &[u8; 32], aad: &str, plaintext: &[u8]) -> Sealed {
    let cipher = XChaCha20Poly1305::new(key.into());
    let nonce = random::<24>();
    // Encryption with a valid key and nonce cannot fail for in-memory buffers.
    #[allow(clippy::expect_used)]
    let ct = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: aad.as_bytes() })
        .expect("XChaCha20-Poly1305 encryption");
    Sealed { nonce: base64_encode(&nonce), ciphertext: base64_encode(&ct) }
}

/// Opens a [`Sealed`] value; `None` means the key is wrong or the data was altered.
pub(crate) fn open(key: &[u8; 32], aad: &str, sealed: &Sealed) -> Option<Sensitive<Vec<u8>>> {
    let nonce: [u8; 24] = base64_decode(&sealed.nonce)?.try_into().ok()?;
    let ct = base64_decode(&sealed.ciphertext)?;
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher.decrypt(&XNonce::from(nonce), Payload { msg: &ct, aad: aad.as_bytes() }).ok().map(Sensitive::new)
}

/// Parameters of the argon2id derivation that protects the admin's wrap of the database key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KdfParams {
    pub algorithm: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub salt: String,
}

impl KdfParams {
    /// DESIGN.md: m ≥ 64 MiB, t ≥ 3 for the key that unwraps the database key.
    pub fn for_unlock_password() -> Self {
        Self {
            algorithm: "argon2id".into(),
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
            salt: base64_encode(&random::<16>()),
        }
    }

    /// Derives a 32-byte key. `None` if the stored parameters are invalid or weaker than the floor.
    pub(crate) fn derive(&self, password: &str) -> Option<Sensitive<[u8; 32]>> {
        if self.algorithm != "argon2id" || self.memory_kib < 64 * 1024 || self.iterations < 3 {
            return None;
        }
        let salt = base64_decode(&self.salt)?;
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32)).ok()?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut buf = [0u8; 32];
        argon.hash_password_into(password.as_bytes(), &salt, &mut buf).ok()?;
        let out = Sensitive::new(buf);
        zeroize::Zeroize::zeroize(&mut buf);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_purpose() {
        let key = random::<32>();
        let sealed = seal(&key, "purpose-a", b"secret");
        assert_eq!(open(&key, "purpose-a", &sealed).map(|p| p.expose().clone()), Some(b"secret".to_vec()));
        assert!(open(&key, "purpose-b", &sealed).is_none(), "a wrap must not open under another purpose");
        assert!(open(&random::<32>(), "purpose-a", &sealed).is_none(), "a wrap must not open under another key");
    }

    #[test]
    fn kdf_refuses_parameters_below_the_floor() {
        let mut weak = KdfParams::for_unlock_password();
        weak.memory_kib = 1024;
        assert!(weak.derive("password").is_none(), "a tampered key file must not weaken the KDF");
    }
}
