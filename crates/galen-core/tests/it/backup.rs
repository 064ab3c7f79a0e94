//! Backups open with the recovery key; restores verify everything before touching live data.

use crate::support::*;
use galen_core::backup::{self, RestoreBy};
use galen_core::{Clinic, Error, Role, Session, StoreError};
use std::path::PathBuf;

#[test]
fn a_backup_restores_to_identical_data() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    for (g, f) in [("Ana", "Albuquerque"), ("Jürgen", "Müller"), ("Αλέξανδρος", "Παπαδόπουλος")]
    {
        register(&clinic, &doctor, &patient(g, f)).expect("register");
    }
    let before = all_patients(&clinic, &doctor);
    let file = fx.dir.path().join("clinic.galenbak");
    assert!(matches!(backup::backup(&clinic, &doctor, &file), Err(Error::Denied { .. })), "backups are for admins");
    backup::backup(&clinic, &admin, &file).expect("backup");

    register(&clinic, &doctor, &patient("Later", "Addition")).expect("register after backup");
    backup::restore(&fx.vault, &file, RestoreBy::Admin { clinic, session: &admin }, None).expect("restore");
    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before, "the restored data is exactly the backed-up data");
    clinic.store().check_integrity().expect("restored database is intact");
}

#[test]
fn a_truncated_or_altered_backup_is_refused_and_live_data_is_untouched() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    let file = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    register(&clinic, &doctor, &patient("Only", "Live")).expect("register");
    let live = all_patients(&clinic, &doctor);
    let full = std::fs::read(&file).expect("read backup");
    drop(clinic);

    let check = |bytes: &[u8], reason: &str| {
        let bad = fx.dir.path().join("bad.galenbak");
        std::fs::write(&bad, bytes).expect("write");
        let (clinic, admin) = reopen(&fx, ADMIN);
        let err = backup::restore(&fx.vault, &bad, RestoreBy::Admin { clinic, session: &admin }, None)
            .expect_err("must be refused");
        assert!(matches!(err, Error::Store(StoreError::BadBackup { .. })), "{reason}: got {err:?}");
        assert!(err.to_string().contains(reason), "{reason}: {err}");
        let (clinic, doctor) = reopen(&fx, "rui");
        assert_eq!(all_patients(&clinic, &doctor), live, "{reason}: live data unchanged");
    };
    check(&full[..full.len() / 2], "truncated");
    check(&full[..full.len() - 1], "truncated");
    let mut flipped = full.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 1;
    check(&flipped, "do not match its seal");
    check(b"not a backup at all", "not a Galen backup");
}

/// A clinic with one patient, backed up to the returned file, then re-keyed: the backup is under the older key.
/// Also what the clinic held at the backup.
fn backed_up_then_rotated() -> (Fixture, Clinic, Session, PathBuf, Vec<PatientRow>) {
    let (fx, mut clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    let before = all_patients(&clinic, &doctor);
    let file = fx.dir.path().join("old.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    clinic.rotate_key(&admin, PASSWORD).expect("rotate");
    (fx, clinic, admin, file, before)
}

#[test]
fn a_backup_from_before_a_key_rotation_needs_its_recovery_key() {
    let (fx, clinic, admin, file, before) = backed_up_then_rotated();

    let err =
        backup::restore(&fx.vault, &file, RestoreBy::Admin { clinic, session: &admin }, None).expect_err("old key");
    assert!(matches!(err, Error::Store(StoreError::BackupNeedsRecoveryKey)), "got {err:?}");
    let (clinic, admin) = reopen(&fx, ADMIN);
    backup::restore(&fx.vault, &file, RestoreBy::Admin { clinic, session: &admin }, Some(&fx.recovery))
        .expect("the old recovery key opens it");
    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before);
}

/// A restore swaps the database, then puts the backup's key file in place. Cut off between the two (SIGKILL, power),
/// the clinic still opens: the backup's key file waits beside the live one, and the admin's password or the
/// backup's recovery key finishes the restore. (Before, the key file was written after the swap with nothing
/// waiting: a crash between left a database no key file opened.)
#[test]
fn a_restore_cut_off_before_its_key_file_took_its_place_still_opens() {
    let (fx, clinic, admin, file, before) = backed_up_then_rotated();
    let db_id = fx.vault.key_file().expect("key file").db_id;
    let (newer_keys, newer_dek) = (
        std::fs::read(fx.vault.key_file_path()).expect("the rotated key file"),
        fx.vault.keyring().load(&db_id).expect("the rotated key"),
    );
    backup::restore(&fx.vault, &file, RestoreBy::Admin { clinic, session: &admin }, Some(&fx.recovery))
        .expect("restore");
    let restored_keys = std::fs::read(fx.vault.key_file_path()).expect("the backup's key file");
    let pending = fx.vault.dir().join("galen.keys.next");
    // The state a crash after the swap leaves: the restored database; the rotated key file and key in place; the
    // backup's key file waiting.
    let cut_off = || {
        std::fs::write(&pending, &restored_keys).expect("the waiting key file");
        std::fs::write(fx.vault.key_file_path(), &newer_keys).expect("the key file the restore replaces");
        fx.vault.keyring().store(&db_id, &newer_dek).expect("the key the restore replaces");
        let err = Clinic::open(fx.vault.clone()).expect_err("the keyring's key no longer opens the database");
        assert!(matches!(err, StoreError::RotationInterrupted), "got {err:?}");
    };

    cut_off();
    fx.vault.unlock_with_admin(ADMIN, PASSWORD).expect("the admin's password finishes the restore");
    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before, "the restored data");
    assert!(!pending.exists(), "the waiting key file took its place");
    drop(clinic);

    cut_off();
    fx.vault.unlock_with_recovery(&fx.recovery).expect("the backup's recovery key finishes the restore");
    let (clinic, doctor) = reopen(&fx, "rui");
    assert_eq!(all_patients(&clinic, &doctor), before, "the restored data");
    assert!(!pending.exists(), "the waiting key file took its place");
}

#[test]
fn a_new_laptop_restores_with_only_the_backup_and_its_recovery_key() {
    let (fx, clinic, admin) = new_clinic();
    let file = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    let laptop = galen_core::Vault::new(fx.dir.path().join("new-laptop"));
    let err = backup::restore(&laptop, &file, RestoreBy::RecoveryKeyOnly, None).expect_err("no key");
    assert!(matches!(err, Error::Store(StoreError::BackupNeedsRecoveryKey)), "got {err:?}");
    backup::restore(&laptop, &file, RestoreBy::RecoveryKeyOnly, Some(&fx.recovery)).expect("restore");
    let clinic = Clinic::open(laptop).expect("the keyring holds the key now");
    clinic.login(ADMIN, PASSWORD).expect("the same staff accounts came along");
}
