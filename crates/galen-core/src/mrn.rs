//! Medical record numbers: a site prefix, a sequence and an ISO 7064 MOD 37-2 check character, e.g.
//! `SOL-0000042K`. MOD 37-2 is a pure system with a prime modulus, so it catches every single-character error
//! and every swap of two adjacent characters, anywhere in the MRN (prefix and check character included).
//!
//! Dashes and spaces are layout only: `SOL0000042K`, `sol-0000042-k` and `SOL-0000042K` are the same MRN.

use crate::error::{FieldError, FieldErrors};

/// The characters an MRN may contain, in ISO 7064 value order; `*` appears only as a check character.
const ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
/// Digits in the sequence part.
pub const SEQUENCE_DIGITS: usize = 7;
/// Letters a prefix may have.
pub const PREFIX_LEN: std::ops::RangeInclusive<usize> = 2..=6;

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The ISO 7064 MOD 37-2 check character for `data` (upper-case alphanumerics).
pub fn check_char(data: &str) -> Option<char> {
    let mut p: u32 = 0;
    for c in data.bytes() {
        let v = value(c).filter(|v| *v < 36)?;
        p = ((p + v) * 2) % 37;
    }
    let check = (38 - p % 37) % 37;
    Some(ALPHABET[check as usize] as char)
}

/// Whether the whole code (data plus trailing check character) is consistent.
fn checks_out(code: &str) -> bool {
    let (data, check) = code.split_at(code.len().saturating_sub(1));
    !data.is_empty() && check_char(data).is_some_and(|c| check.starts_with(c))
}

/// Upper-cases and drops dashes and spaces.
pub fn normalize(input: &str) -> String {
    input.chars().filter(|c| !matches!(c, '-' | ' ' | '\u{a0}')).flat_map(char::to_uppercase).collect()
}

/// A new MRN for sequence number `seq` under `prefix`.
pub fn format(prefix: &str, seq: u64) -> String {
    let data = format!("{prefix}{seq:0width$}", width = SEQUENCE_DIGITS);
    // The prefix is validated alphanumeric and the sequence is digits, so a check character always exists.
    let check = check_char(&data).unwrap_or('0');
    format!("{prefix}-{seq:0width$}{check}", width = SEQUENCE_DIGITS)
}

/// The canonical stored form (`PREFIX-SEQUENCECHECK`) of a typed MRN, or why it is not one.
pub fn parse(input: &str) -> Result<String, &'static str> {
    let code = normalize(input);
    let digits_from =
        code.find(|c: char| c.is_ascii_digit()).ok_or("An MRN has a prefix, digits and a check character.")?;
    let (prefix, rest) = code.split_at(digits_from);
    if !PREFIX_LEN.contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("An MRN starts with its clinic's 2 to 6 letter prefix.");
    }
    if rest.len() != SEQUENCE_DIGITS + 1 || !rest[..SEQUENCE_DIGITS].bytes().all(|b| b.is_ascii_digit()) {
        return Err("An MRN has 7 digits after its prefix, then a check character.");
    }
    if !checks_out(&code) {
        return Err("This MRN's check character does not match: a character is probably mistyped.");
    }
    Ok(format!("{prefix}-{rest}"))
}

/// Whether text typed into a search box is meant as an MRN (letters then digits, long enough).
pub fn looks_like_mrn(input: &str) -> bool {
    let code = normalize(input);
    let letters = code.chars().take_while(char::is_ascii_alphabetic).count();
    PREFIX_LEN.contains(&letters)
        && code.len() >= letters + SEQUENCE_DIGITS
        && code[letters..].chars().take(SEQUENCE_DIGITS).all(|c| c.is_ascii_digit())
}

/// Words in clinic names that say what kind of place it is, not which one: a prefix built from them would be
/// the same at every clinic ("Clínica Sol" and "Clínica Mar" both giving `CLI`).
const GENERIC_WORDS: &[&str] = &[
    "clinica",
    "clinic",
    "clinique",
    "klinik",
    "centro",
    "center",
    "centre",
    "medico",
    "medica",
    "medical",
    "medicina",
    "hospital",
    "saude",
    "salud",
    "health",
    "posto",
    "unidade",
    "unidad",
    "unit",
    "familia",
    "family",
    "care",
    "consultorio",
    "policlinica",
    "de",
    "da",
    "do",
    "das",
    "dos",
    "del",
    "la",
    "el",
    "los",
    "las",
    "the",
    "of",
    "and",
    "e",
    "y",
    "st",
    "dr",
    "dra",
];

/// The MRN prefix a new clinic starts with, from the words of its name that tell it apart: one word gives its
/// first three letters (`Clínica Sol` → `SOL`), several give the first two letters of the first and the
/// initials of the rest (`Clínica Santa Maria` → `SAM`), up to four. `GAL` when nothing is left.
pub fn prefix_for(site_name: &str) -> String {
    let folded = crate::text::fold(site_name).to_uppercase();
    let words: Vec<String> = folded
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty() && !GENERIC_WORDS.contains(&w.to_lowercase().as_str()))
        .map(str::to_owned)
        .collect();
    let prefix: String = match words.as_slice() {
        [] => String::new(),
        [only] => only.chars().take(3).collect(),
        [first, rest @ ..] => {
            first.chars().take(2).chain(rest.iter().filter_map(|w| w.chars().next())).take(4).collect()
        }
    };
    if PREFIX_LEN.contains(&prefix.len()) {
        prefix
    } else {
        "GAL".into()
    }
}

/// Checks a clinic's MRN prefix setting.
pub fn check_prefix(field: &str, prefix: &str) -> Result<(), FieldErrors> {
    if PREFIX_LEN.contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(FieldErrors::one(FieldError::new(field, "Use 2 to 6 capital letters A–Z.")))
    }
}

/// Quiet zone on each side of a Code 128 symbol, in modules (the standard asks for at least 10).
const QUIET_MODULES: usize = 10;

/// The MRN as Code 128 modules (1 = bar, 0 = space), quiet zones included: what any renderer draws.
pub fn barcode_modules(mrn: &str) -> Option<Vec<u8>> {
    let code = barcoders::sym::code128::Code128::new(format!("\u{0181}{mrn}")).ok()?;
    let mut modules = vec![0; QUIET_MODULES];
    modules.extend(code.encode());
    modules.extend(std::iter::repeat_n(0, QUIET_MODULES));
    Some(modules)
}

/// The MRN as a Code 128 barcode in SVG (2 units per module), for the chart, an ID card or a label.
pub fn barcode_svg(mrn: &str, height: u32) -> Option<String> {
    let modules = barcode_modules(mrn)?;
    let width = modules.len() * 2;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{width}\" height=\"{height}\" fill=\"#fff\"/>"
    );
    for (i, _) in modules.iter().enumerate().filter(|(_, m)| **m == 1) {
        svg.push_str(&format!("<rect x=\"{}\" width=\"2\" height=\"{height}\"/>", i * 2));
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_clinic_s_prefix_comes_from_the_words_that_tell_it_apart() {
        assert_eq!(prefix_for("Clínica Sol"), "SOL");
        assert_eq!(prefix_for("Clínica Mar"), "MAR");
        assert_eq!(prefix_for("Clínica Santa Maria"), "SAM");
        assert_eq!(prefix_for("Centro de Saúde de Olhão"), "OLH");
        assert_eq!(prefix_for("Hospital Central"), "CEN");
        assert_eq!(prefix_for("Clinic"), "GAL", "nothing but generic words");
        assert_eq!(prefix_for("Ω Clinic 7"), "GAL", "no letters A–Z left");
        for name in ["Clínica Sol", "Hospital Central", "São João da Madeira Family Care"] {
            assert!(check_prefix("p", &prefix_for(name)).is_ok(), "{name}");
        }
    }

    const SAMPLES: [&str; 4] = ["SOL-0000001", "SOL-0000042", "GAL-1234567", "AB-9876543"];

    fn sample_mrns() -> Vec<String> {
        SAMPLES
            .iter()
            .map(|s| {
                let (prefix, seq) = s.split_once('-').expect("sample");
                format(prefix, seq.parse().expect("digits"))
            })
            .collect()
    }

    #[test]
    fn formatted_mrns_parse_back_in_any_layout() {
        for mrn in sample_mrns() {
            assert_eq!(parse(&mrn), Ok(mrn.clone()));
            assert_eq!(parse(&mrn.to_lowercase().replace('-', " ")), Ok(mrn.clone()), "case and spacing are layout");
        }
    }

    #[test]
    fn every_single_substitution_is_rejected() {
        for mrn in sample_mrns() {
            let code = normalize(&mrn);
            for i in 0..code.len() {
                for &c in ALPHABET.iter() {
                    if c == code.as_bytes()[i] {
                        continue;
                    }
                    let mut typo = code.clone().into_bytes();
                    typo[i] = c;
                    let typo = String::from_utf8(typo).expect("ascii");
                    assert!(parse(&typo).is_err(), "{mrn}: substitution at {i} ({typo}) was accepted");
                }
            }
        }
    }

    #[test]
    fn every_adjacent_transposition_is_rejected() {
        for mrn in sample_mrns() {
            let code = normalize(&mrn);
            let b = code.as_bytes();
            for i in 0..b.len() - 1 {
                if b[i] == b[i + 1] {
                    continue; // swapping equal characters changes nothing
                }
                let mut typo = b.to_vec();
                typo.swap(i, i + 1);
                let typo = String::from_utf8(typo).expect("ascii");
                assert!(parse(&typo).is_err(), "{mrn}: transposition at {i} ({typo}) was accepted");
            }
        }
    }

    #[test]
    fn malformed_mrns_say_what_is_wrong() {
        let check = |input: &str, expected: &str| {
            let err = parse(input).expect_err(input);
            assert!(err.contains(expected), "{input:?}: {err}");
        };
        check("123456", "prefix");
        check("S-0000001X", "2 to 6 letter prefix");
        check("SOL-00001X", "7 digits");
        check("", "prefix");
    }

    #[test]
    fn the_barcode_is_standalone_svg_with_quiet_zones() {
        let svg = barcode_svg(&sample_mrns()[0], 60).expect("encodes");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "usable as an image: {svg:.80}");
        let modules = barcode_modules(&sample_mrns()[0]).expect("encodes");
        assert!(modules[..QUIET_MODULES].iter().chain(&modules[modules.len() - QUIET_MODULES..]).all(|m| *m == 0));
    }

    /// A real decoder (zbarimg, from zbar-tools) reads the MRN back from a rendered image.
    #[test]
    fn zbarimg_reads_the_barcode_back() {
        for mrn in sample_mrns() {
            let modules = barcode_modules(&mrn).expect("encodes");
            let (scale, height) = (3, 80);
            let width = modules.len() * scale;
            let mut pgm = format!("P5 {width} {height} 255\n").into_bytes();
            let row: Vec<u8> =
                modules.iter().flat_map(|m| std::iter::repeat_n(if *m == 1 { 0 } else { 255 }, scale)).collect();
            for _ in 0..height {
                pgm.extend_from_slice(&row);
            }
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("mrn.pgm");
            std::fs::write(&path, pgm).expect("write");
            let out = std::process::Command::new("zbarimg")
                .args(["--quiet", "--raw"])
                .arg(&path)
                .output()
                .expect("zbarimg runs (scripts/setup-deps installs zbar-tools)");
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), mrn, "zbarimg decodes {mrn}");
        }
    }
}
