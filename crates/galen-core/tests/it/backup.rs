//! Backups open with the recovery key; restores verify everything before touching live data.

use crate::support::*;
use galen_core::{backup, patients, StoreError};

#[test]
fn a_backup_restores_to_identical_data() {
    let (clinic, store) = new_clinic();
    for (g, f) in [("Ana", "Albuquerque"), ("Jürgen", "Müller"), ("Αλέξανδρος", "Παπαδόπουλος")]
    {
        patients::register(&store, &patient(g, f)).expect("register");
    }
    let before = all_patients(&store);
    let file = clinic.dir.path().join("clinic.galenbak");
    backup::backup(&clinic.vault, &store, &file).expect("backup");

    patients::register(&store, &patient("Later", "Addition")).expect("register after backup");
    backup::restore(&clinic.vault, &file, Some(store), None).expect("restore");
    let store = clinic.vault.open().expect("open restored");
    assert_eq!(all_patients(&store), before, "the restored data is exactly the backed-up data");
    store.check_integrity().expect("restored database is intact");
}

#[test]
fn a_truncated_or_altered_backup_is_refused_and_live_data_is_untouched() {
    let (clinic, store) = new_clinic();
    patients::register(&store, &patient("Ana", "Albuquerque")).expect("register");
    let file = clinic.dir.path().join("clinic.galenbak");
    backup::backup(&clinic.vault, &store, &file).expect("backup");
    patients::register(&store, &patient("Only", "Live")).expect("register");
    let live = all_patients(&store);
    let full = std::fs::read(&file).expect("read backup");

    let check = |bytes: &[u8], reason: &str, store| {
        let bad = clinic.dir.path().join("bad.galenbak");
        std::fs::write(&bad, bytes).expect("write");
        let err = backup::restore(&clinic.vault, &bad, Some(store), None).expect_err("must be refused");
        assert!(matches!(err, StoreError::BadBackup { .. }), "{reason}: got {err:?}");
        assert!(err.to_string().contains(reason), "{reason}: {err}");
        let store = clinic.vault.open().expect("live store still opens");
        assert_eq!(all_patients(&store), live, "{reason}: live data unchanged");
        store
    };
    let store = check(&full[..full.len() / 2], "truncated", store);
    let store = check(&full[..full.len() - 1], "truncated", store);
    let mut flipped = full.clone();
    let at = flipped.len() - 100;
    flipped[at] ^= 1;
    let store = check(&flipped, "do not match its seal", store);
    check(b"not a backup at all", "not a Galen backup", store);
}

#[test]
fn a_backup_from_before_a_key_rotation_needs_its_recovery_key() {
    let (clinic, mut store) = new_clinic();
    patients::register(&store, &patient("Ana", "Albuquerque")).expect("register");
    let before = all_patients(&store);
    let file = clinic.dir.path().join("old.galenbak");
    backup::backup(&clinic.vault, &store, &file).expect("backup");
    clinic.vault.rotate_key(&mut store, ADMIN, PASSWORD).expect("rotate");

    let err = backup::restore(&clinic.vault, &file, Some(store), None).expect_err("old key");
    assert!(matches!(err, StoreError::BackupNeedsRecoveryKey), "got {err:?}");
    let store = clinic.vault.open().expect("live untouched");
    backup::restore(&clinic.vault, &file, Some(store), Some(&clinic.recovery)).expect("old recovery key opens it");
    let store = clinic.vault.open().expect("the keyring now holds the backup's key");
    assert_eq!(all_patients(&store), before);
}
