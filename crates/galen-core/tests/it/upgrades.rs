//! Data that older Galens really wrote, opened by today's code. `tests/fixtures/schema-NN/` holds one clinic per
//! database schema Galen has had on main, made by that version's own `galen` CLI (scripts/make-schema-fixtures:
//! staff, a failed sign-in, two patients, prescriptions signed, voided and a sick-leave certificate, the site
//! identity, as far as each version had them). Each must open with the admin's password, migrate to the latest
//! schema, pass the integrity check, keep every row, find its patients, and still verify every signature.

use galen_core::documents::{self, Verification};
use galen_core::patients::{self, search::search};
use galen_core::pdf::{self, Printout};
use galen_core::{audit, Clinic, Session, Vault, LATEST_SCHEMA};
use std::path::{Path, PathBuf};

const ADMIN_PW: &str = "correct horse battery staple";
const DESK_PW: &str = "front desk morning coffee";
const DOCTOR_PW: &str = "stethoscope lantern river";

/// Every schema a build of main has had before today's; a new one is added with its fixture.
const SCHEMAS: [u32; 10] = [3, 7, 8, 10, 11, 12, 13, 14, 15, 16];

fn fixture(schema: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/schema-{schema}"))
}

/// A copy of the fixture in a temporary folder (the committed files stay as the old version left them).
fn copy_of(schema: u32, to: &Path) -> Vault {
    let from = fixture(schema);
    std::fs::create_dir_all(to).expect("clinic folder");
    for entry in std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{from:?}: {e}")) {
        let path = entry.expect("entry").path();
        if path.is_file() && path.file_name().is_some_and(|n| n != "MADE") {
            std::fs::copy(&path, to.join(path.file_name().expect("name"))).expect("copy");
        }
    }
    Vault::new(to)
}

/// Rows in `table` (one of this file's literals), read beside the clinic with the key in hand.
fn count(clinic: &Clinic, table: &str) -> i64 {
    let dek = clinic.vault().key_file().expect("key file").unwrap_with_admin("ana", ADMIN_PW).expect("key");
    let conn = crate::support::raw_connection_with(clinic.vault(), dek.expose());
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).expect(table)
}

fn sign_in(clinic: &Clinic, username: &str, password: &str, schema: u32) -> Session {
    clinic.login(username, password).unwrap_or_else(|e| panic!("schema {schema}: {username} signs in: {e}"))
}

#[test]
fn every_schema_has_a_fixture_and_each_was_made_at_its_schema() {
    let mut found: Vec<u32> = std::fs::read_dir(fixture(0).parent().expect("fixtures"))
        .expect("tests/fixtures")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("schema-")?.parse().ok())
        .collect();
    found.sort();
    assert_eq!(found, SCHEMAS, "one fixture per schema in SCHEMAS");
    assert_eq!(SCHEMAS.last().map(|s| s + 1), Some(LATEST_SCHEMA), "the schema before today's has its fixture");
    for schema in SCHEMAS {
        let made = std::fs::read_to_string(fixture(schema).join("MADE")).expect("MADE");
        assert!(made.starts_with(&format!("schema {schema}\n")), "schema-{schema}/MADE says {made:?}");
    }
}

#[test]
fn data_from_every_older_schema_opens_migrated_intact_and_verified() {
    for schema in SCHEMAS {
        let tmp = tempfile::tempdir().expect("temp dir");
        let vault = copy_of(schema, &tmp.path().join("clinic"));
        // The keyring never held these keys: the admin's password opens them, as on a new laptop.
        let unlocked = vault
            .unlock_with_admin("ana", ADMIN_PW)
            .unwrap_or_else(|e| panic!("schema {schema}: the admin's password opens the old data: {e}"));
        let clinic = Clinic::new(vault, unlocked.store);
        assert_eq!(clinic.store().schema_version().expect("version"), LATEST_SCHEMA, "schema {schema} migrated");
        clinic.store().check_integrity().unwrap_or_else(|e| panic!("schema {schema}: integrity: {e}"));
        assert_eq!(galen_core::settings::load(clinic.store()).expect("settings").site_name, "Clínica Sol");
        if schema >= 7 {
            staff_and_audit(&clinic, schema);
        }
        if schema >= 8 {
            patients_found_and_new_ones_registered(&clinic, schema);
        }
        if schema >= 10 {
            documents_still_verify(&clinic, schema);
        }
        if schema >= 12 {
            assert_eq!(count(&clinic, "site_identity"), 1, "schema {schema}: the site identity is kept");
        }
    }
}

fn staff_and_audit(clinic: &Clinic, schema: u32) {
    assert_eq!(count(clinic, "staff"), 3, "schema {schema}: ana, rita and rui");
    assert!(count(clinic, "login_throttle") >= 1, "schema {schema}: rita's failed sign-in is remembered");
    let admin = sign_in(clinic, "ana", ADMIN_PW, schema);
    sign_in(clinic, "rita", DESK_PW, schema);
    let before = count(clinic, "audit_log");
    assert!(before >= 3, "schema {schema}: the old version's audit entries are kept ({before})");
    let verified = audit::verify(clinic, &admin).expect("verify");
    assert!(verified.is_ok(), "schema {schema}: the old audit chain and today's entries verify: {verified:?}");
}

fn patients_found_and_new_ones_registered(clinic: &Clinic, schema: u32) {
    let desk = sign_in(clinic, "rita", DESK_PW, schema);
    let found = search(clinic, &desk, "muller", 0, 10).expect("search");
    let names: Vec<_> = found.results.iter().map(|p| (p.given_names.as_str(), p.family_name.as_str())).collect();
    assert_eq!(names, [("Jürgen", "Müller")], "schema {schema}: found without the accent");
    let mrn = &found.results[0].mrn;
    let by_mrn = patients::find_by_mrn(clinic, &desk, mrn).expect("by MRN");
    assert_eq!(by_mrn.demographics.national_id, "123456789", "schema {schema}");
    assert_eq!(by_mrn.demographics.date_of_birth, "1975-06-01", "schema {schema}");
    let found = search(clinic, &desk, "albuq", 0, 10).expect("search");
    assert_eq!(found.results.len(), 1, "schema {schema}: Ana Sofia Albuquerque by a prefix");
    let new = patients::register(clinic, &desk, &crate::support::patient("Marta", "Müller"), false)
        .unwrap_or_else(|e| panic!("schema {schema}: a new patient after the upgrade: {e}"));
    assert_ne!(&new.mrn, mrn, "schema {schema}: a new MRN");
    let found = search(clinic, &desk, "müller", 0, 10).expect("search");
    assert_eq!(found.results.len(), 2, "schema {schema}: old and new patients found together");
}

fn documents_still_verify(clinic: &Clinic, schema: u32) {
    let doctor = sign_in(clinic, "rui", DOCTOR_PW, schema);
    let desk = sign_in(clinic, "rita", DESK_PW, schema);
    let muller = search(clinic, &desk, "jurgen", 0, 10).expect("search").results[0].id;
    let listed = documents::list_for_patient(clinic, &doctor, muller).expect("documents");
    let mut kinds: Vec<_> = listed.iter().map(|d| (d.body.kind(), d.signed)).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [("prescription", true), ("prescription", true), ("sick_leave", true), ("void", true)],
        "schema {schema}: two prescriptions (one voided), the void notice and the certificate"
    );
    for d in &listed {
        let view = documents::open(clinic, &doctor, d.id).expect("open");
        assert!(
            matches!(view.verification, Verification::Valid { .. }),
            "schema {schema}: document {} ({}) still verifies: {:?}",
            d.id,
            d.body.kind(),
            view.verification
        );
    }
    let rx = listed.iter().find(|d| d.body.kind() == "prescription" && d.voided_by.is_none()).expect("rx");
    let printed = pdf::render(clinic, &doctor, &Printout::Document(rx.id)).expect("print the old prescription");
    let checked = pdf::verify_file(&printed.bytes, None)
        .unwrap_or_else(|e| panic!("schema {schema}: the old prescription printed today verifies: {e}"));
    assert_eq!(checked.signed.patient.family_name, "Müller", "schema {schema}");
}
