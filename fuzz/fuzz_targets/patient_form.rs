//! The registration form's fields, validated as a registration or an edit validates them.
#![no_main]
use arbitrary::Arbitrary;
use galen_core::patients::{validate, Allergy, Clinical, Demographics, EmergencyContact, Sex};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    given_names: String,
    family_name: String,
    sex: u8,
    date_of_birth: String,
    estimated_age: Option<u32>,
    national_id: String,
    phones: Vec<String>,
    email: String,
    address: String,
    contact: (String, String, String),
    consent: bool,
    blood_type: String,
    allergies: Vec<(String, String, String)>,
    conditions: Vec<String>,
    pregnancy_status: String,
    pregnancy_as_of: String,
    notes: String,
    today: (i32, u16),
}

fuzz_target!(|i: Input| {
    let sex = [Sex::Unknown, Sex::Female, Sex::Male, Sex::Other][usize::from(i.sex % 4)];
    let d = Demographics {
        given_names: i.given_names,
        family_name: i.family_name,
        sex,
        date_of_birth: i.date_of_birth,
        estimated_age: i.estimated_age,
        national_id: i.national_id,
        phones: i.phones,
        email: i.email,
        address: i.address,
        emergency_contact: EmergencyContact { name: i.contact.0, phone: i.contact.1, relation: i.contact.2 },
        consent_share: i.consent,
    };
    let c = Clinical {
        blood_type: i.blood_type,
        allergies: i
            .allergies
            .into_iter()
            .map(|(substance, severity, reaction)| Allergy { substance, severity, reaction })
            .collect(),
        conditions: i.conditions,
        pregnancy_status: i.pregnancy_status,
        pregnancy_as_of: i.pregnancy_as_of,
        notes: i.notes,
    };
    // Any day from 1900 to 2199.
    let today = time::Date::from_ordinal_date(1900 + i.today.0.rem_euclid(300), 1 + i.today.1 % 365)
        .expect("a valid ordinal date");
    let _ = validate::demographics(&d, today);
    let _ = validate::clinical(&c, sex, today);
});
