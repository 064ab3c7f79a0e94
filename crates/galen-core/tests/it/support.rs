//! Shared helpers: a fresh clinic in a temporary folder, staff to act as, and raw SQL with the key in hand.

use galen_core::clinic::Setup;
use galen_core::clock::FakeClock;
use galen_core::patients::{self, Clinical, Demographics, NewPatient};
use galen_core::staff::{self, NewStaff};
use galen_core::{Clinic, RecoveryKey, Role, Session, Vault};
use std::sync::Arc;
use tempfile::TempDir;

pub const ADMIN: &str = "ana";
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug)]
pub struct Fixture {
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

/// `default` in the everyday run, `long` with `GALEN_LONG=1` (README, "Long runs").
pub fn long_or(default: usize, long: usize) -> usize {
    if std::env::var_os("GALEN_LONG").is_some_and(|v| v == "1") {
        long
    } else {
        default
    }
}

/// A new clinic with its first admin signed in.
pub fn new_clinic() -> (Fixture, Clinic, Session) {
    require_secret_service();
    let dir = tempfile::tempdir().expect("temp dir");
    let vault = Vault::new(dir.path().join("clinic"));
    let setup = Setup {
        site_name: "Clínica Sol".into(),
        admin_username: ADMIN.into(),
        admin_display_name: "Ana Admin".into(),
        admin_password: PASSWORD.into(),
    };
    let created = Clinic::create(vault.clone(), &setup).expect("a fresh clinic is created");
    created.keyring.expect("the test keyring accepts the database key");
    let admin = created.clinic.login(ADMIN, PASSWORD).expect("the first admin signs in");
    (Fixture { dir, vault, recovery: created.recovery_key }, created.clinic, admin)
}

/// The same clinic driven by a fake clock, for rules about time.
pub fn new_clinic_with_clock() -> (Fixture, Clinic, Session, FakeClock) {
    let (fx, clinic, _) = new_clinic();
    let clock = FakeClock::new(time::OffsetDateTime::now_utc());
    let clinic = clinic.with_clock(Arc::new(clock.clone()));
    let admin = clinic.login(ADMIN, PASSWORD).expect("admin signs in");
    (fx, clinic, admin, clock)
}

/// Creates an account with `role` (by the admin) and signs it in.
pub fn staff_session(clinic: &Clinic, admin: &Session, username: &str, role: Role) -> Session {
    let new = NewStaff {
        username: username.into(),
        display_name: format!("{username} ({role})"),
        role,
        licence_number: (role == Role::Doctor).then(|| "CRM-12345".into()),
        password: PASSWORD.into(),
    };
    staff::add(clinic, admin, &new).expect("admin creates the account");
    clinic.login(username, PASSWORD).expect("the new account signs in")
}

pub fn patient(given: &str, family: &str) -> NewPatient {
    NewPatient {
        demographics: Demographics {
            given_names: given.into(),
            family_name: family.into(),
            date_of_birth: "1980-02-29".into(),
            ..Default::default()
        },
        clinical: None,
    }
}

/// Registers a patient, accepting likely duplicates (the fixtures reuse names and dates); returns its id.
pub fn register(clinic: &Clinic, session: &Session, p: &NewPatient) -> Result<i64, galen_core::Error> {
    patients::register(clinic, session, p, true).map(|p| p.id)
}

/// A patient as `all_patients` lists it: (id, given, family, clinical).
pub type PatientRow = (i64, String, String, Option<Clinical>);

/// Every patient as (id, given, family, clinical), through a doctor's eyes: a fingerprint of the data. Only an id
/// that holds no patient is skipped; any other failure to read (a locked session, a damaged file) fails the test,
/// so "the data is intact" never compares two empty lists.
pub fn all_patients(clinic: &Clinic, doctor: &Session) -> Vec<PatientRow> {
    let count = patients::count(clinic.store()).expect("count");
    let found: Vec<_> = (1..=count + 20)
        .filter_map(|id| match patients::get(clinic, doctor, id) {
            Ok(p) => Some((p.id, p.demographics.given_names, p.demographics.family_name, p.clinical)),
            Err(galen_core::Error::NotFound(_)) => None,
            Err(e) => panic!("patient {id} cannot be read: {e}"),
        })
        .collect();
    assert!(count == 0 || !found.is_empty(), "{count} patients are stored, but none could be read");
    found
}

/// A plain rusqlite connection opened with the database key, as an attacker holding the key (or a test
/// simulating tampering) would. Bypasses every Galen rule.
pub fn raw_connection(fx: &Fixture) -> rusqlite::Connection {
    let dek = fx.vault.key_file().expect("key file").unwrap_with_recovery(&fx.recovery).expect("unwrap");
    raw_connection_with(&fx.vault, dek.expose())
}

/// The same with the key the keyring holds (which follows key rotations and restores).
pub fn raw_connection_from_keyring(fx: &Fixture) -> rusqlite::Connection {
    let db_id = fx.vault.key_file().expect("key file").db_id;
    let dek = fx.vault.keyring().load(&db_id).expect("the keyring holds the key");
    raw_connection_with(&fx.vault, dek.expose())
}

pub fn raw_connection_with(vault: &Vault, key: &[u8]) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(vault.db_path()).expect("open raw");
    conn.pragma_update(None, "key", format!("x'{}'", data_encoding::HEXLOWER.encode(key))).expect("set key");
    conn
}

pub fn wipe_keyring_entry(fx: &Fixture) {
    let db_id = fx.vault.key_file().expect("key file").db_id;
    fx.vault.keyring().delete(&db_id).expect("delete keyring entry");
}

/// Reopens the clinic through the keyring and signs in again as `username`.
pub fn reopen(fx: &Fixture, username: &str) -> (Clinic, Session) {
    let clinic = Clinic::open(fx.vault.clone()).expect("reopen via keyring");
    let session = clinic.login(username, PASSWORD).expect("sign in again");
    (clinic, session)
}

/// A random number below `n`, for a kill's moment.
pub fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("rng");
    u64::from_le_bytes(b) % n
}

/// Where scheduled backups stand, as an admin signed in now sees it (a fake clock idles earlier sessions out).
pub fn backup_status(clinic: &Clinic) -> galen_core::backup::schedule::Status {
    let admin = clinic.login(ADMIN, PASSWORD).expect("the admin signs in");
    galen_core::backup::schedule::status(clinic, &admin).expect("backup status")
}
