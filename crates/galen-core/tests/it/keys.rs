//! The key hierarchy over time: admin password changes and key rotation.

use crate::support::*;
use galen_core::{staff, Clinic, Error, Role, StoreError};

#[test]
fn changing_the_admin_password_rewraps_the_key() {
    let (fx, clinic, admin) = new_clinic();
    clinic.change_own_password(&admin, PASSWORD, "a brand new passphrase").expect("change");
    drop(clinic);
    wipe_keyring_entry(&fx);
    assert!(matches!(fx.vault.unlock_with_admin(ADMIN, PASSWORD), Err(StoreError::WrongAdminPassword)));
    fx.vault.unlock_with_admin(ADMIN, "a brand new passphrase").expect("the new password unlocks");
}

#[test]
fn rotation_rekeys_the_database_and_replaces_every_wrap() {
    let (fx, mut clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    let before = all_patients(&clinic, &doctor);
    let old_file = std::fs::read(fx.vault.db_path()).expect("read");
    let old_key = fx.vault.key_file().expect("key file").unwrap_with_recovery(&fx.recovery).expect("old");

    assert!(
        matches!(clinic.rotate_key(&doctor, PASSWORD), Err(Error::Denied { .. })),
        "only an admin may rotate the key"
    );
    assert!(
        matches!(clinic.rotate_key(&admin, "wrong password"), Err(Error::Store(StoreError::WrongAdminPassword))),
        "rotation needs the admin's password again"
    );
    let new_recovery = clinic.rotate_key(&admin, PASSWORD).expect("rotate");
    assert_eq!(all_patients(&clinic, &doctor), before, "the open clinic keeps working after rekey");
    drop(clinic);

    let kf = fx.vault.key_file().expect("key file");
    assert!(!kf.matches(&old_key), "the key file now describes a new key");
    assert!(matches!(kf.unwrap_with_recovery(&fx.recovery), Err(StoreError::WrongRecoveryKey)), "old key retired");
    assert_ne!(std::fs::read(fx.vault.db_path()).expect("read"), old_file, "every page was re-encrypted");

    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before);
    clinic.store().check_integrity().expect("rekeyed database is intact");
    drop(clinic);
    wipe_keyring_entry(&fx);
    let unlocked = fx.vault.unlock_with_recovery(&new_recovery).expect("the new recovery key unlocks");
    drop(unlocked.store);
    wipe_keyring_entry(&fx);
    fx.vault.unlock_with_admin(ADMIN, PASSWORD).expect("the admin password unlocks the new key");
}

#[test]
fn a_second_admin_gets_an_unlock_wrap_and_loses_it_when_disabled() {
    let (fx, mut clinic, admin) = new_clinic();
    let _bea = staff_session(&clinic, &admin, "bea", Role::Admin);
    assert!(fx.vault.key_file().expect("kf").has_admin_wrap("bea"), "a new admin can unlock the database");

    match staff::set_active(&mut clinic, &admin, "bea", false, None) {
        Err(Error::Invalid(e)) => assert_eq!(e.0[0].field, "password", "re-keying needs the acting admin's password"),
        other => panic!("disabling an admin without a password must be refused: {other:?}"),
    }
    let e = staff::set_active(&mut clinic, &admin, "bea", false, Some("not my password")).expect_err("wrong");
    assert!(matches!(e, Error::Store(StoreError::WrongAdminPassword)), "{e:?}");
    let bea = staff::list(&clinic, &admin).expect("list").into_iter().find(|m| m.username == "bea").expect("bea");
    assert!(bea.active, "a refused change changes nothing");

    let done = staff::set_active(&mut clinic, &admin, "bea", false, Some(PASSWORD)).expect("disable");
    assert!(!done.value.active);
    let recovery = done.new_recovery_key.expect("disabling an admin re-keys and issues a new recovery key");
    let kf = fx.vault.key_file().expect("kf");
    assert!(!kf.has_admin_wrap("bea"), "a disabled admin's wrap is gone");
    assert!(matches!(kf.unwrap_with_recovery(&fx.recovery), Err(StoreError::WrongRecoveryKey)), "old sheet retired");
    drop(clinic);
    wipe_keyring_entry(&fx);
    assert!(
        matches!(fx.vault.unlock_with_admin("bea", PASSWORD), Err(StoreError::WrongAdminPassword)),
        "the disabled admin's password opens nothing"
    );
    drop(fx.vault.unlock_with_recovery(&recovery).expect("the new recovery key opens the database"));
}

#[test]
fn only_revoking_an_admin_rekeys_and_nobody_resets_their_own_password() {
    let (fx, mut clinic, admin) = new_clinic();
    staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let before = fx.vault.key_file().expect("kf");
    let done = staff::set_active(&mut clinic, &admin, "rec", false, None).expect("no password needed");
    assert!(done.new_recovery_key.is_none());
    let reset = staff::reset_password(&mut clinic, &admin, "rec", None).expect("no password needed");
    assert!(reset.new_recovery_key.is_none());
    let after = fx.vault.key_file().expect("kf");
    assert!(after.unwrap_with_recovery(&fx.recovery).is_ok_and(|k| before.matches(&k)), "the key is unchanged");

    match staff::reset_password(&mut clinic, &admin, ADMIN, Some(PASSWORD)) {
        Err(Error::Invalid(e)) => assert_eq!(e.0[0].field, "username"),
        other => panic!("an admin changes their own password, never resets it: {other:?}"),
    }
}

#[test]
fn init_refuses_to_overwrite_an_existing_clinic() {
    let (fx, _clinic, _) = new_clinic();
    let err = fx.vault.init("someone", "another long password").expect_err("already set up");
    assert!(matches!(err, StoreError::AlreadyInitialized { .. }), "got {err:?}");
}

#[test]
fn setup_with_bad_fields_reports_every_field_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let vault = galen_core::Vault::new(dir.path().join("clinic"));
    let setup = galen_core::clinic::Setup {
        site_name: "   ".into(),
        admin_username: "a!".into(),
        admin_display_name: "".into(),
        admin_password: "short".into(),
    };
    let Err(Error::Invalid(errors)) = Clinic::create(vault.clone(), &setup) else { panic!("must be refused") };
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["site_name", "username", "display_name", "password"], "one message per field at fault");
    assert!(!vault.is_initialized(), "nothing is written when the form is wrong");
}

#[test]
fn opening_an_empty_folder_says_to_run_init() {
    let dir = tempfile::tempdir().expect("tmp");
    let err = galen_core::Vault::new(dir.path()).open().expect_err("nothing there");
    assert!(matches!(err, StoreError::NotInitialized { .. }), "got {err:?}");
    assert!(err.to_string().contains("Set up this clinic first"), "{err}");
}

/// The state a SIGKILL leaves when it lands while a key rotation's log is being copied into the file: the log holds
/// every page under the new key, the file's first page is under the new key and the rest still under the old one,
/// the new key file waits beside the old. Opening through the keyring used to call this "damaged: restore the
/// latest backup" (the chaos SIGKILL test found it); it is a rotation to finish, and the admin's password does.
#[test]
fn a_rotation_cut_off_while_its_log_was_copied_in_is_finished_not_called_damaged() {
    let (fx, mut clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    for i in 0..20 {
        register(&clinic, &doctor, &patient(&format!("Rota{i}"), "Tion")).expect("register");
    }
    let before = all_patients(&clinic, &doctor);
    let db_id = fx.vault.key_file().expect("key file").db_id;
    let (old_keys, old_dek) =
        (std::fs::read(fx.vault.key_file_path()).expect("key file"), fx.vault.keyring().load(&db_id).expect("old key"));
    let old_db = fx.dir.path().join("old.db");
    let raw = raw_connection_from_keyring(&fx);
    raw.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").expect("checkpoint");
    drop(raw);
    std::fs::copy(fx.vault.db_path(), &old_db).expect("the old file");
    clinic.rotate_key(&admin, PASSWORD).expect("rotate");
    drop(clinic);
    let (new_keys, new_dek) = (
        std::fs::read(fx.vault.key_file_path()).expect("new key file"),
        fx.vault.keyring().load(&db_id).expect("new key"),
    );

    // Re-key the old file to the same new key, in WAL mode with no checkpoint, and copy it as a crash would find it.
    let hex = |k: &[u8]| format!("x'{}'", data_encoding::HEXLOWER.encode(k));
    let rekeying = rusqlite::Connection::open(&old_db).expect("open old");
    rekeying.pragma_update(None, "key", hex(old_dek.expose())).expect("key");
    rekeying.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;").expect("wal");
    rekeying.pragma_update(None, "rekey", hex(new_dek.expose())).expect("rekey");
    let wal = std::fs::read(old_db.with_extension("db-wal")).expect("the rekey's log");
    let mut file = std::fs::read(&old_db).expect("the file, still under the old key");
    drop(rekeying);
    // The checkpoint got as far as page 1: its newest frame's image (32-byte log header; 24-byte frame headers).
    let page = 4096;
    let frame = (32..wal.len())
        .step_by(24 + page)
        .rfind(|&at| at + 24 + page <= wal.len() && u32::from_be_bytes(wal[at..at + 4].try_into().expect("4")) == 1)
        .expect("page 1 is in the log");
    file[..page].copy_from_slice(&wal[frame + 24..frame + 24 + page]);
    std::fs::write(fx.vault.db_path(), &file).expect("the half-copied file");
    std::fs::write(fx.vault.db_path().with_extension("db-wal"), &wal).expect("the log");
    let _ = std::fs::remove_file(fx.vault.db_path().with_extension("db-shm"));
    std::fs::write(fx.vault.key_file_path(), &old_keys).expect("the old key file, still in place");
    std::fs::write(fx.vault.dir().join("galen.keys.next"), &new_keys).expect("the new key file, waiting");
    fx.vault.keyring().store(&db_id, &old_dek).expect("the keyring still holds the old key");

    let err = Clinic::open(fx.vault.clone()).expect_err("the keyring's key no longer opens it");
    assert!(matches!(err, StoreError::RotationInterrupted), "a rotation to finish, not damage: {err:?}");
    fx.vault.unlock_with_admin(ADMIN, PASSWORD).expect("the admin's password finishes the rotation");
    let (clinic, doctor) = reopen(&fx, "rui");
    clinic.store().check_integrity().expect("intact");
    assert_eq!(all_patients(&clinic, &doctor), before, "every patient is there");
}
