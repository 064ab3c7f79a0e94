//! Every rule for a patient form, each with its own field-level message. Text is trimmed and NFC-normalised.

use super::model::*;
use crate::error::FieldErrors;
use crate::text;
use time::{Date, Month};

/// The longest name, in characters.
pub const NAME_MAX: usize = 100;
/// The longest address.
pub const ADDRESS_MAX: usize = 300;
/// The longest notes.
pub const NOTES_MAX: usize = 5000;
/// The longest email address.
pub const EMAIL_MAX: usize = 254;
/// The most phone numbers.
pub const MAX_PHONES: usize = 3;
/// The most allergies or conditions.
pub const MAX_LIST: usize = 50;
/// The oldest age accepted, in years.
pub const OLDEST_AGE: i32 = 130;

/// A calendar date written `YYYY-MM-DD`, the one date format Galen accepts.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    Date::from_calendar_date(y.parse().ok()?, Month::try_from(m.parse::<u8>().ok()?).ok()?, d.parse().ok()?).ok()
}

/// Digits with an optional leading `+`, spaces, dots, dashes and brackets dropped: `+351 21-000 0000` → `+351210000000`.
pub fn normalize_phone(s: &str) -> String {
    let trimmed = s.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    if trimmed.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    }
}

fn phone_ok(s: &str) -> bool {
    let allowed = s.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    let digits = s.chars().filter(char::is_ascii_digit).count();
    allowed && (7..=15).contains(&digits) && !s[1..].contains('+')
}

/// Upper-case letters and digits only: `123.456.789-0` → `1234567890`.
pub fn normalize_national_id(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).flat_map(char::to_uppercase).collect()
}

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Cleans and checks demographics; `today` bounds dates of birth.
pub fn demographics(d: &Demographics, today: Date) -> Result<(Demographics, String, bool), FieldErrors> {
    let mut e = FieldErrors::default();
    let given = text::clean(&d.given_names).split_whitespace().collect::<Vec<_>>().join(" ");
    let family = text::clean(&d.family_name).split_whitespace().collect::<Vec<_>>().join(" ");
    e.absorb(text::check_required("given_names", &given, NAME_MAX));
    e.absorb(text::check_required("family_name", &family, NAME_MAX));

    // Exactly one of a real date of birth or an estimated age.
    let dob_text = d.date_of_birth.trim();
    let (dob, estimated) = match (dob_text.is_empty(), d.estimated_age) {
        (false, _) => match parse_date(dob_text) {
            None => {
                e.push("date_of_birth", "Enter the date as YYYY-MM-DD, e.g. 1980-02-29.");
                (String::new(), false)
            }
            Some(date) if date > today => {
                e.push("date_of_birth", "The date of birth is in the future.");
                (String::new(), false)
            }
            Some(date) if today.year() - date.year() > OLDEST_AGE => {
                e.push("date_of_birth", format!("That would make the patient older than {OLDEST_AGE}."));
                (String::new(), false)
            }
            Some(date) => (date.to_string(), false),
        },
        (true, Some(age)) if age as i32 > OLDEST_AGE => {
            e.push("estimated_age", format!("An age above {OLDEST_AGE} is not possible."));
            (String::new(), true)
        }
        (true, Some(age)) => {
            let year = today.year() - age as i32;
            (Date::from_calendar_date(year, Month::January, 1).map(|d| d.to_string()).unwrap_or_default(), true)
        }
        (true, None) => {
            e.push("date_of_birth", "Enter the date of birth, or an estimated age if it is not known.");
            (String::new(), false)
        }
    };

    let national_id = normalize_national_id(&d.national_id);
    if !d.national_id.trim().is_empty() && !(4..=20).contains(&national_id.len()) {
        e.push("national_id", "A national ID has 4 to 20 letters and digits.");
    }
    let mut phones = Vec::new();
    for (i, p) in d.phones.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).enumerate() {
        if i >= MAX_PHONES {
            e.push("phones", format!("Give at most {MAX_PHONES} phone numbers."));
            break;
        }
        if phone_ok(p) {
            phones.push(p.to_owned());
        } else {
            e.push(&format!("phones.{i}"), "Enter a phone number of 7 to 15 digits, e.g. +351 21 000 0000.");
        }
    }
    let email = d.email.trim().to_owned();
    if !email.is_empty() && (email.chars().count() > EMAIL_MAX || !email_ok(&email)) {
        e.push("email", "Enter an email address like name@example.org.");
    }
    let address = text::clean(&d.address);
    e.absorb(text::check_max("address", &address, ADDRESS_MAX));
    let ec = EmergencyContact {
        name: text::clean(&d.emergency_contact.name),
        phone: d.emergency_contact.phone.trim().to_owned(),
        relation: text::clean(&d.emergency_contact.relation),
    };
    e.absorb(text::check_max("emergency_contact.name", &ec.name, NAME_MAX));
    e.absorb(text::check_max("emergency_contact.relation", &ec.relation, 50));
    if !ec.phone.is_empty() && !phone_ok(&ec.phone) {
        e.push("emergency_contact.phone", "Enter a phone number of 7 to 15 digits.");
    }
    if e.0.is_empty() {
        let clean = Demographics {
            given_names: given,
            family_name: family,
            sex: d.sex,
            date_of_birth: dob.clone(),
            estimated_age: d.estimated_age.filter(|_| estimated),
            national_id,
            phones,
            email,
            address,
            emergency_contact: ec,
            consent_share: d.consent_share,
        };
        Ok((clean, dob, estimated))
    } else {
        Err(e)
    }
}

/// Cleans and checks the clinical fields of a patient of `sex`; every problem at once.
pub fn clinical(c: &Clinical, sex: Sex, today: Date) -> Result<Clinical, FieldErrors> {
    let mut e = FieldErrors::default();
    let blood_type = c.blood_type.trim().to_uppercase();
    if !blood_type.is_empty() && !BloodType::NAMES.contains(&blood_type.as_str()) {
        e.push("blood_type", "Choose one of A+, A−, B+, B−, AB+, AB−, O+, O−, or leave it empty.");
    }
    if c.allergies.len() > MAX_LIST {
        e.push("allergies", format!("Record at most {MAX_LIST} allergies."));
    }
    let mut allergies = Vec::new();
    for (i, a) in c.allergies.iter().enumerate() {
        let substance = text::clean(&a.substance);
        let reaction = text::clean(&a.reaction);
        let severity =
            if a.severity.trim().is_empty() { "unknown".to_owned() } else { a.severity.trim().to_lowercase() };
        e.absorb(text::check_required(&format!("allergies.{i}.substance"), &substance, NAME_MAX));
        e.absorb(text::check_max(&format!("allergies.{i}.reaction"), &reaction, 200));
        if !Severity::NAMES.contains(&severity.as_str()) {
            e.push(&format!("allergies.{i}.severity"), "Choose mild, moderate, severe or unknown.");
        }
        allergies.push(Allergy { substance, severity, reaction });
    }
    if c.conditions.len() > MAX_LIST {
        e.push("conditions", format!("Record at most {MAX_LIST} conditions."));
    }
    let conditions: Vec<String> = c.conditions.iter().map(|s| text::clean(s)).filter(|s| !s.is_empty()).collect();
    for (i, cond) in conditions.iter().enumerate() {
        e.absorb(text::check_max(&format!("conditions.{i}"), cond, NAME_MAX));
    }
    let status =
        if c.pregnancy_status.trim().is_empty() { "unknown".to_owned() } else { c.pregnancy_status.trim().to_owned() };
    if !PregnancyStatus::NAMES.contains(&status.as_str()) {
        e.push("pregnancy_status", "Choose unknown, not pregnant or pregnant.");
    } else if status == "pregnant" && sex == Sex::Male {
        e.push("pregnancy_status", "A patient recorded as male cannot be recorded as pregnant; check the sex field.");
    }
    let as_of = c.pregnancy_as_of.trim().to_owned();
    if !as_of.is_empty() {
        match parse_date(&as_of) {
            None => e.push("pregnancy_as_of", "Enter the date as YYYY-MM-DD."),
            Some(d) if d > today => e.push("pregnancy_as_of", "This date is in the future."),
            Some(_) => {}
        }
    }
    let notes = text::clean(&c.notes);
    e.absorb(text::check_max("notes", &notes, NOTES_MAX));
    if e.0.is_empty() {
        Ok(Clinical { blood_type, allergies, conditions, pregnancy_status: status, pregnancy_as_of: as_of, notes })
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 11 - 21);

    fn base() -> Demographics {
        Demographics {
            given_names: "Ana".into(),
            family_name: "Albuquerque".into(),
            date_of_birth: "1980-02-29".into(),
            ..Default::default()
        }
    }

    /// One rule per row: (what to change, the field that must complain, part of its message).
    #[test]
    fn each_demographic_rule_has_its_field_message() {
        let check = |change: &dyn Fn(&mut Demographics), field: &str, message: &str| {
            let mut d = base();
            change(&mut d);
            let errors = demographics(&d, TODAY).expect_err(field).0;
            let e = errors.iter().find(|e| e.field == field).unwrap_or_else(|| panic!("{field}: {errors:?}"));
            assert!(e.message.contains(message), "{field}: {}", e.message);
        };
        check(&|d| d.given_names = "   ".into(), "given_names", "required");
        check(&|d| d.family_name = String::new(), "family_name", "required");
        check(&|d| d.family_name = "x".repeat(101), "family_name", "at most 100");
        check(&|d| d.date_of_birth = "2030-01-01".into(), "date_of_birth", "in the future");
        check(&|d| d.date_of_birth = "1850-01-01".into(), "date_of_birth", "older than 130");
        check(&|d| d.date_of_birth = "1981-02-29".into(), "date_of_birth", "YYYY-MM-DD");
        check(&|d| d.date_of_birth = "29/02/1980".into(), "date_of_birth", "YYYY-MM-DD");
        check(&|d| d.date_of_birth = String::new(), "date_of_birth", "estimated age");
        check(
            &|d| {
                d.date_of_birth = String::new();
                d.estimated_age = Some(150)
            },
            "estimated_age",
            "not possible",
        );
        check(&|d| d.email = "ana@".into(), "email", "name@example.org");
        check(&|d| d.email = "ana albuquerque@example.org".into(), "email", "name@example.org");
        check(&|d| d.phones = vec!["12345".into()], "phones.0", "7 to 15 digits");
        check(&|d| d.phones = vec!["+351 21 000 0000".into(), "call me".into()], "phones.1", "7 to 15 digits");
        check(&|d| d.national_id = "1-2".into(), "national_id", "4 to 20");
        check(&|d| d.address = "a".repeat(301), "address", "at most 300");
        check(&|d| d.emergency_contact.phone = "abc".into(), "emergency_contact.phone", "7 to 15");
    }

    #[test]
    fn text_is_trimmed_and_nfc_normalized_and_estimated_ages_become_a_year() {
        let mut d = base();
        d.family_name = "  Mu\u{0308}ller  ".into(); // "Müller" with a combining diaeresis
        d.given_names = " Ana   Maria ".into();
        let (clean, dob, estimated) = demographics(&d, TODAY).expect("valid");
        assert_eq!(clean.family_name, "Müller");
        assert_eq!(clean.family_name.chars().count(), 6, "composed to one ü");
        assert_eq!(clean.given_names, "Ana Maria");
        assert_eq!((dob.as_str(), estimated), ("1980-02-29", false));
        d.date_of_birth = String::new();
        d.estimated_age = Some(40);
        let (_, dob, estimated) = demographics(&d, TODAY).expect("valid");
        assert_eq!((dob.as_str(), estimated), ("1986-01-01", true));
    }

    #[test]
    fn clinical_rules_have_field_messages() {
        let check = |change: &dyn Fn(&mut Clinical), sex: Sex, field: &str| {
            let mut c = Clinical::default();
            change(&mut c);
            let errors = clinical(&c, sex, TODAY).expect_err(field).0;
            assert!(errors.iter().any(|e| e.field == field), "{field}: {errors:?}");
        };
        check(&|c| c.blood_type = "C+".into(), Sex::Female, "blood_type");
        check(
            &|c| c.allergies = vec![Allergy { substance: " ".into(), ..Default::default() }],
            Sex::Female,
            "allergies.0.substance",
        );
        check(
            &|c| {
                c.allergies =
                    vec![Allergy { substance: "x".into(), severity: "deadly".into(), reaction: String::new() }]
            },
            Sex::Female,
            "allergies.0.severity",
        );
        check(&|c| c.pregnancy_status = "pregnant".into(), Sex::Male, "pregnancy_status");
        check(&|c| c.pregnancy_as_of = "2030-01-01".into(), Sex::Female, "pregnancy_as_of");
        check(&|c| c.notes = "n".repeat(5001), Sex::Female, "notes");
    }

    #[test]
    fn phones_and_ids_normalize() {
        assert_eq!(normalize_phone("+351 21-000 0000"), "+351210000000");
        assert_eq!(normalize_phone("(21) 000.0000"), "210000000");
        assert_eq!(normalize_national_id("123.456.789-0x"), "1234567890X");
    }
}
