//! Revoking a secret re-keys the database: after a new recovery key, or an admin disabled or reset, an old copy of
//! `galen.keys` together with the revoked secret opens nothing (security review, item 6).

use crate::support::*;
use galen_core::vault::Unlocked;
use galen_core::{staff, Role, StoreError, Vault};

/// Whether someone holding a copy of `galen.keys` from before (`old_keys`) gets into today's database with `unlock`.
fn old_key_file_opens_live_database(
    fx: &Fixture,
    old_keys: &[u8],
    unlock: impl FnOnce(&Vault) -> Result<Unlocked, StoreError>,
) -> bool {
    let thief = tempfile::tempdir().expect("tmp");
    let vault = Vault::new(thief.path().join("clinic"));
    std::fs::create_dir_all(vault.dir()).expect("mkdir");
    for suffix in ["", "-wal"] {
        let live = std::path::PathBuf::from(format!("{}{suffix}", fx.vault.db_path().display()));
        if live.exists() {
            std::fs::copy(&live, format!("{}{suffix}", vault.db_path().display())).expect("copy the live database");
        }
    }
    std::fs::write(vault.key_file_path(), old_keys).expect("old key file");
    unlock(&vault).is_ok()
}

fn key_file_bytes(fx: &Fixture) -> Vec<u8> {
    std::fs::read(fx.vault.key_file_path()).expect("read galen.keys")
}

#[test]
fn a_new_recovery_key_leaves_the_old_sheet_useless_even_with_an_old_key_file() {
    let (fx, mut clinic, admin) = new_clinic();
    let old_keys = key_file_bytes(&fx);
    assert!(old_key_file_opens_live_database(&fx, &old_keys, |v| v.unlock_with_recovery(&fx.recovery)), "sanity");

    let new = clinic.rotate_key(&admin, PASSWORD).expect("a new recovery key");
    drop(clinic);

    assert!(
        !old_key_file_opens_live_database(&fx, &old_keys, |v| v.unlock_with_recovery(&fx.recovery)),
        "the old sheet and an old galen.keys must not open the live database"
    );
    wipe_keyring_entry(&fx);
    fx.vault.unlock_with_recovery(&new).expect("the new recovery key opens it");
}

#[test]
fn a_disabled_admins_password_opens_nothing_even_with_an_old_key_file() {
    let (fx, mut clinic, admin) = new_clinic();
    staff_session(&clinic, &admin, "bea", Role::Admin);
    let old_keys = key_file_bytes(&fx);
    assert!(old_key_file_opens_live_database(&fx, &old_keys, |v| v.unlock_with_admin("bea", PASSWORD)), "sanity");

    let new = staff::set_active(&mut clinic, &admin, "bea", false, Some(PASSWORD)).expect("disable bea");
    assert!(new.new_recovery_key.is_some(), "the admin who disabled bea is shown a new recovery key");
    drop(clinic);

    assert!(
        !old_key_file_opens_live_database(&fx, &old_keys, |v| v.unlock_with_admin("bea", PASSWORD)),
        "a disabled admin's password and an old galen.keys must not open the live database"
    );
}

#[test]
fn a_reset_admins_old_password_opens_nothing_even_with_an_old_key_file() {
    let (fx, mut clinic, admin) = new_clinic();
    staff_session(&clinic, &admin, "bea", Role::Admin);
    let old_keys = key_file_bytes(&fx);

    let reset = staff::reset_password(&mut clinic, &admin, "bea", Some(PASSWORD)).expect("reset bea");
    assert!(reset.new_recovery_key.is_some());
    drop(clinic);

    assert!(
        !old_key_file_opens_live_database(&fx, &old_keys, |v| v.unlock_with_admin("bea", PASSWORD)),
        "the password bea had before the reset and an old galen.keys must not open the live database"
    );
}
