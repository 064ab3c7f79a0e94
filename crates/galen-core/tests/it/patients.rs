//! The patient registry through galen-core's public API: duplicates, merge, search, clinical visibility.

use crate::support::*;
use galen_core::patients::{self, search, Allergy, Clinical, Demographics, NewPatient, Sex};
use galen_core::{audit, Error, Role};

fn person(given: &str, family: &str, dob: &str, phone: &str, national_id: &str) -> NewPatient {
    NewPatient {
        demographics: Demographics {
            given_names: given.into(),
            family_name: family.into(),
            sex: Sex::Female,
            date_of_birth: dob.into(),
            phones: if phone.is_empty() { vec![] } else { vec![phone.into()] },
            national_id: national_id.into(),
            ..Default::default()
        },
        clinical: None,
    }
}

fn names(page: &search::Page) -> Vec<String> {
    page.results.iter().map(|s| format!("{} {}", s.given_names, s.family_name)).collect()
}

#[test]
fn search_finds_by_any_name_part_accents_mrn_phone_and_id_and_never_the_wrong_mrn() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let reg = |p: NewPatient| patients::register(&clinic, &rec, &p, false).expect("register");
    let ana = reg(person("Ana", "Albuquerque", "1980-02-29", "+351 21 000 0000", "12345678"));
    let jurgen = reg(person("Jürgen", "Müller", "1975-06-01", "+49 151 2345 6789", ""));
    reg(person("Anabela", "Costa", "1990-01-01", "", ""));
    reg(person("Αλέξανδρος", "Παπαδόπουλος", "1966-03-03", "", ""));
    let find = |q: &str| search::search(&clinic, &rec, q, 0, 20).expect("search");

    assert_eq!(names(&find("muller")), ["Jürgen Müller"], "accent-insensitive");
    assert_eq!(names(&find("MÜLL")), ["Jürgen Müller"], "case-insensitive, by prefix");
    assert_eq!(names(&find("ana alb")), ["Ana Albuquerque"], "parts of names, in order");
    assert_eq!(names(&find("albuquerque ana")), ["Ana Albuquerque"], "in any order");
    assert_eq!(find("ana").results.len(), 2, "prefix: Ana and Anabela");
    assert_eq!(names(&find("παπαδ")), ["Αλέξανδρος Παπαδόπουλος"], "Greek script");
    assert_eq!(names(&find(&ana.mrn)), ["Ana Albuquerque"], "by MRN");
    assert_eq!(names(&find(&ana.mrn.to_lowercase().replace('-', ""))), ["Ana Albuquerque"], "MRN layout is free");
    assert_eq!(names(&find("+351210000000")), ["Ana Albuquerque"], "phone without spaces");
    assert_eq!(names(&find("21 000 0000")), ["Ana Albuquerque"], "phone with spaces, no country code");
    assert_eq!(names(&find("1234-5678")), ["Ana Albuquerque"], "national ID, normalised");
    assert_eq!(names(&find("1975-06-01")), ["Jürgen Müller"], "date of birth");

    // An MRN with one character wrong finds nothing: not the wrong patient.
    let mut typo = jurgen.mrn.clone().into_bytes();
    let last = typo.len() - 2;
    typo[last] = if typo[last] == b'1' { b'2' } else { b'1' };
    let page = find(std::str::from_utf8(&typo).expect("ascii"));
    assert!(page.results.is_empty() && page.mrn_check_failed, "{page:?}");
    let err = patients::find_by_mrn(&clinic, &rec, std::str::from_utf8(&typo).expect("ascii")).expect_err("typo");
    assert!(matches!(err, Error::Invalid(ref e) if e.0[0].field == "mrn"), "{err:?}");
    assert_eq!(patients::find_by_mrn(&clinic, &rec, &jurgen.mrn).expect("resolves").id, jurgen.id);
}

#[test]
fn search_pages_through_many_results() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    for i in 0..25 {
        register(&clinic, &rec, &person("Maria", &format!("Silva{i:02}"), "1970-01-01", "", "")).expect("register");
    }
    let first = search::search(&clinic, &rec, "maria", 0, 10).expect("page 0");
    let third = search::search(&clinic, &rec, "maria", 2, 10).expect("page 2");
    assert_eq!((first.results.len(), first.more), (10, true));
    assert_eq!((third.results.len(), third.more), (5, false));
    assert!(first.results.iter().all(|a| third.results.iter().all(|b| a.id != b.id)), "pages do not overlap");
}

#[test]
fn duplicates_are_refused_or_flagged_and_an_override_is_logged() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let first = patients::register(
        &clinic,
        &rec,
        &person("Ana", "Albuquerque", "1980-02-29", "912 345 678", "AB123456"),
        false,
    )
    .expect("register");

    // The same national ID is refused, naming the patient who has it.
    let Err(Error::Invalid(e)) =
        patients::register(&clinic, &rec, &person("Other", "Person", "1990-01-01", "", "ab 123 456"), false)
    else {
        panic!("same national ID must be refused")
    };
    assert_eq!(e.0[0].field, "national_id");
    assert!(e.0[0].message.contains(&first.mrn) && e.0[0].message.contains("Ana Albuquerque"), "{e}");

    // Likely duplicates: a transposed, unaccented name with the same date of birth; or the same phone.
    let check = |p: NewPatient, why: &str| match patients::register(&clinic, &rec, &p, false) {
        Err(Error::PossibleDuplicates(c)) => assert_eq!(c[0].patient.id, first.id, "{why}"),
        other => panic!("{why}: expected a duplicate warning, got {other:?}"),
    };
    check(person("Ana", "Albuqeurque", "1980-02-29", "", ""), "transposed letters, same DOB");
    check(person("ANA", "ALBUQUERQUE", "1980-02-29", "", ""), "case");
    check(person("Albuquerque", "Ana", "1980-02-29", "", ""), "name order swapped");
    check(person("Someone", "Else", "2001-01-01", "+351 912345678", ""), "same phone");
    // Not a duplicate: same name, different date of birth.
    patients::register(&clinic, &rec, &person("Ana", "Albuquerque", "1999-09-09", "", ""), false)
        .expect("different person");

    let before = patients::count(clinic.store()).expect("count");
    let forced =
        patients::register(&clinic, &rec, &person("Ana", "Albuqeurque", "1980-02-29", "", ""), true).expect("override");
    assert_eq!(patients::count(clinic.store()).expect("count"), before + 1);
    let log = audit::list(&clinic, &admin, &audit::Query { limit: 50, ..Default::default() }).expect("audit");
    assert!(
        log.iter().any(|r| r.action == "patient.duplicate_override" && r.entity_id == forced.id.to_string()),
        "the override is in the audit trail"
    );
}

#[test]
fn bad_input_writes_nothing() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let mut p = person("Ana", "Albuquerque", "2099-01-01", "12", "");
    p.demographics.email = "not-an-email".into();
    let Err(Error::Invalid(e)) = patients::register(&clinic, &rec, &p, false) else { panic!("invalid") };
    let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["date_of_birth", "phones.0", "email"], "every problem at once");
    assert_eq!(patients::count(clinic.store()).expect("count"), 0, "nothing half-written");
}

#[test]
fn receptionists_cannot_read_or_write_clinical_fields_and_doctors_can() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let doc = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let mut p = person("Ana", "Albuquerque", "1980-02-29", "", "");
    p.clinical = Some(Clinical {
        allergies: vec![Allergy {
            substance: "Penicillin".into(),
            severity: "severe".into(),
            reaction: "Hives".into(),
        }],
        notes: "asthma since childhood".into(),
        ..Default::default()
    });
    assert!(matches!(patients::register(&clinic, &rec, &p, false), Err(Error::Denied { .. })), "no clinical entry");
    let ana = patients::register(&clinic, &doc, &p, false).expect("a doctor registers with allergies");

    let seen = patients::get(&clinic, &rec, ana.id).expect("read");
    assert_eq!(seen.clinical, None, "no allergies or notes for a receptionist");
    assert!(matches!(
        patients::update(
            &clinic,
            &rec,
            ana.id,
            &NewPatient { demographics: seen.demographics.clone(), clinical: Some(Clinical::default()) }
        ),
        Err(Error::Denied { .. })
    ));
    let seen = patients::get(&clinic, &doc, ana.id).expect("read");
    let clinical = seen.clinical.expect("a doctor sees clinical fields");
    assert_eq!(clinical.allergies[0].substance, "Penicillin");
    assert_eq!(clinical.notes, "asthma since childhood");

    // A receptionist edits demographics; the clinical fields stay as they were.
    let mut d = seen.demographics.clone();
    d.email = "ana@example.org".into();
    patients::update(&clinic, &rec, ana.id, &patients::NewPatient { demographics: d.clone(), clinical: None })
        .expect("edit demographics");
    let again = patients::get(&clinic, &doc, ana.id).expect("read");
    assert_eq!(again.demographics.email, "ana@example.org");
    assert_eq!(again.clinical.expect("clinical").allergies.len(), 1);
}

#[test]
fn merging_keeps_an_audit_trail_and_the_old_mrn_still_resolves() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let doc = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let kept =
        patients::register(&clinic, &rec, &person("Ana", "Albuquerque", "1980-02-29", "", ""), false).expect("a");
    let dup = patients::register(
        &clinic,
        &rec,
        &person("Ana", "Albuqeurque", "1980-02-29", "912 000 111", "X99887766"),
        true,
    )
    .expect("b");
    assert!(matches!(patients::merge(&clinic, &rec, kept.id, dup.id), Err(Error::Denied { .. })), "not for reception");
    let merged = patients::merge(&clinic, &doc, kept.id, dup.id).expect("a doctor merges");
    assert_eq!(merged.demographics.national_id, "X99887766", "the national ID moved to the kept record");
    assert_eq!(patients::find_by_mrn(&clinic, &rec, &dup.mrn).expect("old MRN").id, kept.id, "old MRN resolves");
    assert_eq!(patients::get(&clinic, &rec, dup.id).expect("old id").id, kept.id, "old id resolves");
    let found = search::search(&clinic, &rec, "albuq", 0, 20).expect("search");
    assert_eq!(found.results.len(), 1, "the merged-away record no longer shows in search");
    assert_eq!(names(&search::search(&clinic, &rec, "912 000 111", 0, 5).expect("phone")), ["Ana Albuquerque"]);
    let log = audit::list(&clinic, &admin, &audit::Query { limit: 50, ..Default::default() }).expect("audit");
    assert!(log.iter().any(|r| r.action == "patient.merge" && r.entity_id == format!("{}->{}", dup.id, kept.id)));
    // Admins may merge too (demographics only).
    let third =
        patients::register(&clinic, &rec, &person("Ana", "Albuquerque", "1980-02-29", "", ""), true).expect("c");
    patients::merge(&clinic, &admin, kept.id, third.id).expect("an admin merges");
}

#[test]
fn seeding_is_deterministic_and_fast_enough_to_search() {
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    assert_eq!(galen_core::dev::seed::seed(&clinic, &rec, 2_000, 7).expect("seed"), 2_000);
    assert_eq!(patients::count(clinic.store()).expect("count"), 2_000);
    let (d, _) = galen_core::dev::seed::synthetic(7, 1234, clinic.now().year());
    let q = format!("{} {}", d.family_name, d.given_names);
    let page = search::search(&clinic, &rec, &q, 0, 20).expect("search");
    assert!(page.results.iter().any(|s| s.family_name == d.family_name && s.given_names == d.given_names), "{q}");
}

#[test]
fn recent_patients_are_the_ones_this_person_opened_and_the_newest_registered() {
    let (_fx, clinic, admin) = new_clinic();
    let front = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    let doctor = staff_session(&clinic, &admin, "drrui", Role::Doctor);
    let ids: Vec<i64> = ["Ana", "Bruno", "Carla", "Dora"]
        .iter()
        .map(|given| register(&clinic, &front, &patient(given, "Lima")).expect("registered"))
        .collect();
    for id in [ids[1], ids[0], ids[1]] {
        patients::get(&clinic, &front, id).expect("opened");
    }
    patients::get(&clinic, &doctor, ids[3]).expect("the doctor opens another");
    let recent = patients::recent(&clinic, &front, 3).expect("recent");
    let given = |list: &[patients::Summary]| list.iter().map(|s| s.given_names.clone()).collect::<Vec<_>>();
    // Registering opens the new record too, so Dora (registered last) follows the two opened since.
    assert_eq!(given(&recent.opened), ["Bruno", "Ana", "Dora"], "newest first, each once, only rita's");
    assert_eq!(given(&recent.registered), ["Dora", "Carla", "Bruno"]);
    let admin_recent = patients::recent(&clinic, &admin, 3).expect("admins search too");
    assert!(admin_recent.opened.is_empty());
}
