//! The key hierarchy over time: admin password changes and key rotation.

use crate::support::*;
use galen_core::{patients, StoreError};

#[test]
fn changing_the_admin_password_rewraps_the_key() {
    let (clinic, store) = new_clinic();
    clinic.vault.set_admin_password(&store, ADMIN, "a brand new passphrase").expect("rewrap");
    drop(store);
    wipe_keyring_entry(&clinic);
    assert!(matches!(clinic.vault.unlock_with_admin(ADMIN, PASSWORD), Err(StoreError::WrongAdminPassword)));
    clinic.vault.unlock_with_admin(ADMIN, "a brand new passphrase").expect("the new password unlocks");
}

#[test]
fn rotation_rekeys_the_database_and_replaces_every_wrap() {
    let (clinic, mut store) = new_clinic();
    patients::register(&store, &patient("Ana", "Albuquerque")).expect("register");
    let before = all_patients(&store);
    let old_file = std::fs::read(clinic.vault.db_path()).expect("read");
    let old_key = clinic.vault.key_file().expect("key file").unwrap_with_recovery(&clinic.recovery).expect("old");

    assert!(
        matches!(clinic.vault.rotate_key(&mut store, ADMIN, "wrong password"), Err(StoreError::WrongAdminPassword)),
        "rotation needs the admin's password"
    );
    let new_recovery = clinic.vault.rotate_key(&mut store, ADMIN, PASSWORD).expect("rotate");
    assert_eq!(all_patients(&store), before, "the open store keeps working after rekey");
    drop(store);

    let kf = clinic.vault.key_file().expect("key file");
    assert!(!kf.matches(&old_key), "the key file now describes a new key");
    assert!(
        matches!(kf.unwrap_with_recovery(&clinic.recovery), Err(StoreError::WrongRecoveryKey)),
        "old recovery key retired"
    );
    assert_ne!(std::fs::read(clinic.vault.db_path()).expect("read"), old_file, "every page was re-encrypted");

    let store = clinic.vault.open().expect("the keyring holds the new key");
    assert_eq!(all_patients(&store), before);
    store.check_integrity().expect("rekeyed database is intact");
    drop(store);
    wipe_keyring_entry(&clinic);
    let unlocked = clinic.vault.unlock_with_recovery(&new_recovery).expect("the new recovery key unlocks");
    assert_eq!(all_patients(&unlocked.store), before);
    drop(unlocked.store);
    wipe_keyring_entry(&clinic);
    clinic.vault.unlock_with_admin(ADMIN, PASSWORD).expect("the admin password unlocks the new key");
}

#[test]
fn init_refuses_to_overwrite_an_existing_clinic() {
    let (clinic, _store) = new_clinic();
    let err = clinic.vault.init("someone", "another long password").expect_err("already set up");
    assert!(matches!(err, StoreError::AlreadyInitialized { .. }), "got {err:?}");
}

#[test]
fn opening_an_empty_folder_says_to_run_init() {
    let dir = tempfile::tempdir().expect("tmp");
    let err = galen_core::Vault::new(dir.path()).open().expect_err("nothing there");
    assert!(matches!(err, StoreError::NotInitialized { .. }), "got {err:?}");
    assert!(err.to_string().contains("galen init"), "{err}");
}
