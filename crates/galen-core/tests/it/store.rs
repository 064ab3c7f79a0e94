//! The encrypted file itself: no plaintext on disk, and each way opening can fail has its own error.

use crate::support::*;
use galen_core::{patients, Role, StoreError};
use std::process::Command;

const MARKER: &str = "ZEBRA-MARKER-7Q3X";

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn patient_data_never_reaches_the_database_or_wal_file_in_plaintext() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    let mut p = patient(MARKER, MARKER);
    p.clinical = Some(galen_core::patients::Clinical { notes: MARKER.repeat(20), ..Default::default() });
    let id = register(&clinic, &doctor, &p).expect("register");
    let wal = fx.vault.db_path().with_file_name("galen.db-wal");
    assert!(wal.exists(), "the store runs in WAL mode, so the write sits in the -wal file first");
    assert!(!file_contains(&wal, MARKER), "the marker must not appear in the WAL file");
    drop(clinic);
    assert!(!file_contains(&fx.vault.db_path(), MARKER), "the marker must not appear in the database file");

    let (clinic, doctor) = reopen(&fx, "rui");
    let back = patients::get(&clinic, &doctor, id).expect("read");
    assert_eq!(back.demographics.given_names, MARKER);
    assert_eq!(back.clinical.map(|c| c.notes), Some(MARKER.repeat(20)));
}

#[test]
fn plain_sqlite_refuses_the_file() {
    let (fx, clinic, _) = new_clinic();
    drop(clinic);
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('select * from sqlite_master').fetchall()",
        ])
        .arg(fx.vault.db_path())
        .output()
        .expect("python3 runs");
    assert!(!out.status.success(), "Python's sqlite3 must not read an encrypted Galen file");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("file is not a database"), "unexpected sqlite3 error: {stderr}");
}

#[test]
fn a_wrong_key_in_the_keyring_gives_the_wrong_key_error() {
    let (fx, clinic, _) = new_clinic();
    drop(clinic);
    let db_id = fx.vault.key_file().expect("key file").db_id;
    fx.vault.keyring().store(&db_id, &galen_core::Sensitive::new([0x42; 32])).expect("overwrite entry");
    let err = fx.vault.open().expect_err("a foreign key must not open the database");
    assert!(matches!(err, StoreError::WrongKey), "got {err:?}");
    assert!(
        err.to_string().to_lowercase().contains("unlock with the admin password or the recovery key"),
        "names the way out: {err}"
    );
}

#[test]
fn a_missing_keyring_entry_says_so_and_the_admin_password_recovers_it_with_data_intact() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    let before = all_patients(&clinic, &doctor);
    drop(clinic);
    wipe_keyring_entry(&fx);

    let err = fx.vault.open().expect_err("no key in the keyring");
    assert!(matches!(err, StoreError::KeyMissing { .. }), "got {err:?}");
    assert!(err.to_string().contains("Secret Service"), "the message names the backend: {err}");

    assert!(matches!(fx.vault.unlock_with_admin(ADMIN, "not the password"), Err(StoreError::WrongAdminPassword)));
    let unlocked = fx.vault.unlock_with_admin(ADMIN, PASSWORD).expect("admin password unlocks");
    unlocked.keyring.as_ref().expect("the key goes back into the keyring");
    drop(unlocked.store);
    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before, "all data intact after recovery");
}

#[test]
fn a_missing_keyring_entry_is_recovered_by_the_recovery_key_with_data_intact() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    register(&clinic, &doctor, &patient("Jürgen", "Müller")).expect("register");
    let before = all_patients(&clinic, &doctor);
    drop(clinic);
    wipe_keyring_entry(&fx);

    let wrong = galen_core::RecoveryKey::generate();
    assert!(matches!(fx.vault.unlock_with_recovery(&wrong), Err(StoreError::WrongRecoveryKey)));
    let unlocked = fx.vault.unlock_with_recovery(&fx.recovery).expect("recovery key unlocks");
    unlocked.keyring.as_ref().expect("the key goes back into the keyring");
    drop(unlocked.store);
    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before, "all data intact after recovery");
}

#[test]
fn one_flipped_byte_is_reported_as_corruption_naming_the_page() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    for i in 0..200 {
        register(&clinic, &doctor, &patient(&format!("Person {i}"), "Filler")).expect("register");
    }
    drop(clinic); // closing checkpoints the WAL into the main file
    let path = fx.vault.db_path();
    let mut bytes = std::fs::read(&path).expect("read db");
    let page_size = 4096;
    let page = bytes.len() / page_size - 2; // a page near the end: data, not the schema
    bytes[page * page_size + 700] ^= 0x01;
    std::fs::write(&path, &bytes).expect("write db");

    let store = fx.vault.open().expect("page 1 is intact, so the database still opens");
    let err = store.check_integrity().expect_err("the flipped byte must be found");
    let expected = page as u32 + 1;
    match &err {
        StoreError::Corrupted { pages, .. } => assert_eq!(pages, &vec![expected], "the damaged page is named"),
        other => panic!("expected Corrupted, got {other:?}"),
    }
    assert!(err.to_string().contains(&format!("page {expected}")), "the message names the page: {err}");
    assert!(err.to_string().contains("restore the latest backup"), "the message says what to do: {err}");
}

#[test]
fn a_damaged_first_page_is_reported_as_corruption_not_a_crash() {
    let (fx, clinic, _) = new_clinic();
    drop(clinic);
    let path = fx.vault.db_path();
    let mut bytes = std::fs::read(&path).expect("read db");
    bytes[100] ^= 0xff;
    std::fs::write(&path, &bytes).expect("write db");
    let err = fx.vault.open().expect_err("page 1 is damaged");
    assert!(matches!(&err, StoreError::Corrupted { pages, .. } if pages.contains(&1)), "got {err:?}");
}

#[test]
fn a_file_that_is_not_galens_is_named_as_such() {
    let (fx, clinic, _) = new_clinic();
    drop(clinic);
    let path = fx.vault.db_path();
    let check = |contents: &[u8], reason: &str| {
        std::fs::write(&path, contents).expect("write");
        let err = fx.vault.open().expect_err("not a Galen database");
        assert!(matches!(err, StoreError::NotGalenDatabase { .. }), "{reason}: got {err:?}");
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    };
    let plain = fx.dir.path().join("plain.db");
    rusqlite::Connection::open(&plain).expect("plain").execute_batch("CREATE TABLE t(x);").expect("create");
    check(&std::fs::read(&plain).expect("read plain"), "unencrypted SQLite");
    check(b"", "empty or truncated");
    check(&[0x5a; 8192], "no page opens with this clinic's key");
}

#[test]
fn a_newer_schema_is_refused_without_changing_anything() {
    let (fx, clinic, _) = new_clinic();
    drop(clinic);
    raw_connection(&fx).pragma_update(None, "user_version", 999).expect("bump schema");
    let before = std::fs::read(fx.vault.db_path()).expect("read");
    let err = fx.vault.open().expect_err("schema 999 is from the future");
    assert!(matches!(err, StoreError::NewerSchema { found: 999, .. }), "got {err:?}");
    assert!(err.to_string().contains("newer version of Galen"), "{err}");
    assert_eq!(std::fs::read(fx.vault.db_path()).expect("read"), before, "nothing was changed");
}

#[test]
fn the_database_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    for name in ["galen.db", "galen.db-wal", "galen.keys"] {
        let mode = std::fs::metadata(fx.vault.dir().join(name)).expect(name).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
    let dir_mode = std::fs::metadata(fx.vault.dir()).expect("dir").permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[test]
fn the_store_runs_with_wal_full_sync_and_foreign_keys() {
    let (_fx, clinic, _) = new_clinic();
    let d = clinic.store().durability().expect("read pragmas");
    assert_eq!(d.journal_mode, "wal");
    assert_eq!(d.synchronous, 2, "synchronous=FULL is 2");
    assert!(d.foreign_keys, "foreign keys are enforced");
}
