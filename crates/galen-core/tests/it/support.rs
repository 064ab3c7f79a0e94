//! Shared helpers: a fresh clinic in a temporary folder, and raw SQL with the key in hand.

use galen_core::patients::{self, NewPatient};
use galen_core::{RecoveryKey, Store, Vault};
use tempfile::TempDir;

pub const ADMIN: &str = "ana";
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug)]
pub struct Clinic {
    pub dir: TempDir,
    pub vault: Vault,
    pub recovery: RecoveryKey,
}

/// Fails loudly, rather than silently testing something else, when there is no private keyring.
fn require_secret_service() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a real Secret Service: run them via scripts/with-test-keyring (see README)"
    );
}

pub fn new_clinic() -> (Clinic, Store) {
    require_secret_service();
    let dir = tempfile::tempdir().expect("temp dir");
    let vault = Vault::new(dir.path().join("clinic"));
    let setup = vault.init(ADMIN, PASSWORD).expect("a fresh clinic initialises");
    setup.keyring.expect("the test keyring accepts the database key");
    (Clinic { dir, vault, recovery: setup.recovery_key }, setup.store)
}

pub fn patient(given: &str, family: &str) -> NewPatient {
    NewPatient {
        given_names: given.into(),
        family_name: family.into(),
        date_of_birth: Some("1980-02-29".into()),
        notes: String::new(),
    }
}

/// Every patient as (given, family, notes), in id order: a cheap fingerprint of the data.
pub fn all_patients(store: &Store) -> Vec<(i64, String, String, String)> {
    (1..=patients::count(store).expect("count") + 50)
        .filter_map(|id| patients::get(store, id).expect("read patient"))
        .map(|p| (p.id, p.given_names, p.family_name, p.notes))
        .collect()
}

/// A plain rusqlite connection opened with the database key, as an attacker holding the key (or a test
/// simulating tampering) would. Bypasses every Galen rule.
pub fn raw_connection(clinic: &Clinic) -> rusqlite::Connection {
    let dek = clinic.vault.key_file().expect("key file").unwrap_with_recovery(&clinic.recovery).expect("unwrap");
    let conn = rusqlite::Connection::open(clinic.vault.db_path()).expect("open raw");
    let key = format!("x'{}'", data_encoding::HEXLOWER.encode(dek.expose()));
    conn.pragma_update(None, "key", &key).expect("set key");
    conn
}

pub fn wipe_keyring_entry(clinic: &Clinic) {
    let db_id = clinic.vault.key_file().expect("key file").db_id;
    clinic.vault.keyring().delete(&db_id).expect("delete keyring entry");
}
