//! The recovery key: 160 random bits shown once at setup and printed on the recovery sheet.
//!
//! Written as 32 base32 characters in groups of four (`ABCD-EFGH-…`). Parsing forgives case, spaces, dashes and
//! the look-alikes 0/O, 1/I and 8/B, so a key read back from paper still works.

use crate::crypto::{self, random};
use crate::error::StoreError;
use crate::sensitive::Sensitive;
use data_encoding::BASE32_NOPAD;

const BYTES: usize = 20;
const CHARS: usize = 32;

/// The recovery key: 160 random bits, shown as 8 groups of 4 base32 characters. Secret: never printed by `Debug`.
#[derive(Debug, Clone)]
pub struct RecoveryKey(Sensitive<[u8; BYTES]>);

impl RecoveryKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(Sensitive::new(random::<BYTES>()))
    }

    /// Parses what a person typed; the error says what is wrong without echoing the key.
    pub fn parse(input: &str) -> Result<Self, StoreError> {
        let cleaned: Sensitive<String> = Sensitive::new(
            input
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .map(|c| match c.to_ascii_uppercase() {
                    '0' => 'O',
                    '1' => 'I',
                    '8' => 'B',
                    other => other,
                })
                .collect(),
        );
        let text = cleaned.expose();
        if text.chars().count() != CHARS {
            return Err(StoreError::MalformedRecoveryKey {
                reason: format!("it has {} characters instead of {CHARS}", text.chars().count()),
            });
        }
        if let Some(bad) = text.chars().find(|c| !matches!(c, 'A'..='Z' | '2'..='7')) {
            return Err(StoreError::MalformedRecoveryKey { reason: format!("'{bad}' is not used in recovery keys") });
        }
        let bytes = BASE32_NOPAD
            .decode(text.as_bytes())
            .map_err(|_| StoreError::MalformedRecoveryKey { reason: "it could not be decoded".into() })?;
        let arr: [u8; BYTES] = bytes
            .try_into()
            .map_err(|_| StoreError::MalformedRecoveryKey { reason: "it has the wrong length".into() })?;
        Ok(Self(Sensitive::new(arr)))
    }

    /// The grouped form to show once and print. Callers must not log it.
    pub fn display_secret(&self) -> Sensitive<String> {
        let raw = Sensitive::new(BASE32_NOPAD.encode(self.0.expose()));
        let grouped: String = raw
            .expose()
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-");
        Sensitive::new(grouped)
    }

    /// The AEAD key that wraps the database key; the recovery key is high-entropy, so no slow KDF is needed.
    pub(crate) fn wrapping_key(&self) -> Sensitive<[u8; 32]> {
        Sensitive::new(crypto::hmac(self.0.expose(), b"galen recovery wrap v1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_displayed_key_parses_back_even_when_retyped_sloppily() {
        let key = RecoveryKey::generate();
        let shown = key.display_secret();
        assert_eq!(shown.expose().len(), 32 + 7, "eight groups of four joined by dashes");
        let sloppy = shown.expose().to_lowercase().replace('-', " ");
        let parsed = RecoveryKey::parse(&sloppy).expect("a lower-case, space-separated key is still valid");
        assert_eq!(parsed.0.expose(), key.0.expose());
    }

    #[test]
    fn malformed_keys_say_what_is_wrong() {
        let check = |input: &str, expected: &str| {
            let err = RecoveryKey::parse(input).expect_err(input).to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        };
        check("ABCD", "4 characters instead of 32");
        check("ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-456!", "'!' is not used");
        check("", "0 characters");
    }
}
