//! Staff passwords: the policy (length and a blocklist, no composition rules) and argon2id PHC hashing.

use crate::error::{FieldError, FieldErrors};
use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use std::collections::HashSet;
use std::sync::OnceLock;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 256;

static BLOCKLIST_TEXT: &str = include_str!("../../../assets/passwords/common-passwords.txt");

fn blocklist() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| BLOCKLIST_TEXT.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
}

/// Checks a new password against the policy; the error is attached to `field`.
pub fn check_policy(field: &str, password: &str) -> Result<(), FieldErrors> {
    let chars = password.chars().count();
    let message = if chars < MIN_CHARS {
        format!("Use at least {MIN_CHARS} characters (this has {chars}). A few unrelated words make a good password.")
    } else if chars > MAX_CHARS {
        format!("Use at most {MAX_CHARS} characters.")
    } else if is_common(password) {
        "This password is on a list of commonly used passwords. Choose something less predictable.".to_owned()
    } else {
        return Ok(());
    };
    Err(FieldErrors::one(FieldError::new(field, message)))
}

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let list = blocklist();
    let without_trailing_digits = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    list.contains(lower.as_str())
        || (without_trailing_digits.len() >= 4 && list.contains(without_trailing_digits))
        || lower.chars().all(|c| lower.starts_with(c))
}

/// OWASP's argon2id floor for stored password hashes: m = 19 MiB, t = 2, p = 1.
fn hasher() -> argon2::Argon2<'static> {
    // These constants are within argon2's limits.
    #[allow(clippy::expect_used)]
    let params = argon2::Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// An argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &str) -> String {
    let salt = crate::crypto::random::<16>();
    // Hashing with valid parameters and a 16-byte salt cannot fail.
    #[allow(clippy::expect_used)]
    hasher().hash_password_with_salt(password.as_bytes(), &salt).expect("argon2id hashing").to_string()
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// Spends the same time as a real check, so an unknown username answers no faster than a known one.
pub(crate) fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let _ = verify(password, DUMMY.get_or_init(|| hash("galen-dummy-password-for-timing")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blocklist_has_at_least_ten_thousand_entries() {
        assert!(blocklist().len() >= 10_000, "only {} entries", blocklist().len());
    }

    #[test]
    fn policy_table() {
        let check = |pw: &str, expected: Option<&str>| {
            let got = check_policy("password", pw).err().map(|e| e.0[0].message.clone());
            match (expected, got) {
                (None, None) => {}
                (Some(want), Some(got)) => assert!(got.contains(want), "{pw:?}: {got}"),
                (want, got) => panic!("{pw:?}: expected {want:?}, got {got:?}"),
            }
        };
        check("elevenchars", Some("at least 12 characters (this has 11)"));
        check("correct horse battery staple", None);
        check("áéíóúãõçñüøå", None); // 12 characters, more bytes: length counts characters
        check("1qaz2wsx3edc", Some("commonly used"));
        check("PASSWORD1234", Some("commonly used"));
        check("dragon12345678", Some("commonly used"));
        check("aaaaaaaaaaaaaaa", Some("commonly used"));
        check(&("x".repeat(120) + &"y".repeat(8)), None);
        check(&"xy".repeat(200), Some("at most 256"));
    }

    #[test]
    fn hashes_are_argon2id_phc_with_owasp_parameters_and_verify() {
        let h = hash("correct horse battery staple");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery staple", &h));
        assert!(!verify("correct horse battery stapler", &h));
        assert!(!verify("anything", "not a phc string"));
    }
}
