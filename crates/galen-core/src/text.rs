//! Cleaning and checking free text typed into forms: trimmed, NFC-normalised, length-limited.

use crate::error::{FieldError, FieldErrors};
use unicode_normalization::UnicodeNormalization;

/// Trims and NFC-normalises, so "Müller" typed two ways is stored one way.
pub fn clean(s: &str) -> String {
    s.trim().nfc().collect()
}

pub fn check_required(field: &str, value: &str, max_chars: usize) -> Result<(), FieldErrors> {
    if value.is_empty() {
        return Err(FieldErrors::one(FieldError::new(field, "This field is required.")));
    }
    check_max(field, value, max_chars)
}

pub fn check_max(field: &str, value: &str, max_chars: usize) -> Result<(), FieldErrors> {
    let n = value.chars().count();
    if n > max_chars {
        return Err(FieldErrors::one(FieldError::new(
            field,
            format!("Use at most {max_chars} characters (this has {n})."),
        )));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(FieldErrors::one(FieldError::new(field, "Remove the control characters from this text.")));
    }
    Ok(())
}

/// Lower-case without accents, for comparing names: "Müller" and "MULLER" fold to "muller".
pub fn fold(s: &str) -> String {
    s.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}
