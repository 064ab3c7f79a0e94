//! A clinic's data folder: the encrypted database, the key file beside it, and the database key in the OS
//! keyring. This is where setup, opening, unlocking and key rotation happen.
//!
//! ```text
//! <data dir>/galen.db     SQLCipher database (WAL: galen.db-wal, galen.db-shm)
//! <data dir>/galen.keys   the key file: wrapped keys only (see keyfile.rs)
//! <data dir>/galen.audit-anchor   the audit log's newest anchor (see audit/anchor.rs)
//! OS keyring              service "galen", user "database-key:<db id>"
//! ```

use crate::crypto::{self, Dek};
use crate::error::{io, Result, StoreError};
use crate::keyfile::KeyFile;
use crate::keyring::Keyring;
use crate::recovery::RecoveryKey;
use crate::store::Store;
use std::path::{Path, PathBuf};

/// The database file's name.
pub const DB_FILE: &str = "galen.db";
/// The key file's name.
pub const KEY_FILE: &str = "galen.keys";
/// The audit anchor file's name.
pub const ANCHOR_FILE: &str = "galen.audit-anchor";

/// The default data folder: the OS data directory (e.g. `~/.local/share/galen` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Galen", "galen").map(|d| d.data_dir().to_owned())
}

/// A clinic's data folder: the encrypted database, the key file beside it, and the database key in the OS keyring.
#[derive(Debug, Clone)]
pub struct Vault {
    dir: PathBuf,
    keyring: Keyring,
}

/// What setup produced. The recovery key is shown once and never stored in clear anywhere.
#[derive(Debug)]
pub struct Initialized {
    /// The new store, open.
    pub store: Store,
    /// Shown once; never stored in clear.
    pub recovery_key: RecoveryKey,
    /// `Err` if the key could not be put in the keyring; the clinic then unlocks with the admin password.
    pub keyring: Result<()>,
}

/// An unlocked store, and whether the key could be put back in the keyring.
#[derive(Debug)]
pub struct Unlocked {
    /// The store, open.
    pub store: Store,
    /// Whether the key could be put back in the keyring.
    pub keyring: Result<()>,
}

/// How the keyring entry looks, for `galen status`.
#[derive(Debug)]
pub enum KeyringState {
    /// It holds this database's key.
    Holds,
    /// It has no key for this database.
    Missing,
    /// It holds a key that does not open this database.
    WrongKey,
    /// It cannot be reached (why).
    Unavailable(String),
}

impl Vault {
    /// The data folder at `dir` (nothing is touched yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), keyring: Keyring::default() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    /// Failed admin-password unlocks, counted before the database is open (usernames hashed; no secrets).
    fn unlock_throttle_path(&self) -> PathBuf {
        self.dir.join("galen.unlock-throttle")
    }

    /// The log files (see `logging`).
    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// Printouts the print path left for a PDF viewer wait here (owner-only, like the data). The recovery sheet
    /// never does.
    pub fn printouts_dir(&self) -> PathBuf {
        self.dir.join("printouts")
    }

    /// Deletes every printout left for a viewer, so patient data does not outlive the session that printed it: at
    /// lock, sign-out, the app's close and whenever a clinic is opened (a crash's leftovers). A viewer that still
    /// shows one keeps its own copy in memory; a file it holds open (Windows) goes at the next of these.
    pub fn remove_printouts(&self) {
        let Ok(entries) = std::fs::read_dir(self.printouts_dir()) else { return };
        let mut removed = 0;
        for entry in entries.flatten() {
            removed += usize::from(std::fs::remove_file(entry.path()).is_ok());
        }
        if removed > 0 {
            tracing::info!(removed, "printouts removed");
        }
    }

    /// The key file.
    pub fn key_file_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// The audit log's anchor file: its head, signed by the site key, kept outside the database.
    pub fn anchor_path(&self) -> PathBuf {
        self.dir.join(ANCHOR_FILE)
    }

    /// The OS keyring.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Whether a clinic was set up here. A database Galen may not even look at (a folder that belongs to another
    /// user) counts as there, so opening it says why it cannot, rather than offering to set up a new clinic.
    pub fn is_initialized(&self) -> bool {
        self.db_path().try_exists().unwrap_or(true)
    }

    /// The key file, read.
    pub fn key_file(&self) -> Result<KeyFile> {
        if !self.is_initialized() {
            return Err(StoreError::NotInitialized { dir: self.dir.clone() });
        }
        KeyFile::load(&self.key_file_path())
    }

    /// Creates a new clinic database with a fresh key, wrapped for the first admin and a new recovery key.
    pub fn init(&self, admin_username: &str, admin_password: &str) -> Result<Initialized> {
        if self.is_initialized() {
            return Err(StoreError::AlreadyInitialized { dir: self.dir.clone() });
        }
        create_private_dir(&self.dir)?;
        let dek = crypto::new_dek();
        let db_id = uuid::Uuid::now_v7().to_string();
        let recovery_key = RecoveryKey::generate();
        KeyFile::new(&db_id, &dek, admin_username, admin_password, &recovery_key).save(&self.key_file_path())?;
        // Build the database under a temporary name, so a crash never leaves a half-made `galen.db`.
        let building = self.dir.join("galen.db.creating");
        remove_db_files(&building, true)?;
        let store = Store::create(&building, dek.clone(), &db_id)?;
        drop(store);
        std::fs::rename(&building, self.db_path()).map_err(io("rename", &building))?;
        crate::keyfile::sync_dir(&self.dir)?;
        let store = Store::open(&self.db_path(), dek.clone())?;
        let keyring = self.keyring.store(&db_id, &dek);
        Ok(Initialized { store, recovery_key, keyring })
    }

    /// Opens with the key from the OS keyring: the everyday path, no password needed.
    pub fn open(&self) -> Result<Store> {
        let kf = self.key_file()?;
        let dek = self.keyring.load(&kf.db_id)?;
        if !kf.matches(&dek) {
            return Err(StoreError::WrongKey);
        }
        match Store::open(&self.db_path(), dek) {
            // A rotation cut off while copying its log into the file leaves the first pages under the new key and
            // the rest under the old one until the log is copied in: that reads as damage, not as another key.
            Err(StoreError::NotGalenDatabase { .. } | StoreError::Corrupted { .. })
                if self.pending_key_file_path().exists() =>
            {
                Err(StoreError::RotationInterrupted)
            }
            other => other,
        }
    }

    /// A key file waiting for its database: a rotation's or a restore's, until the database is swapped.
    pub(crate) fn pending_key_file_path(&self) -> PathBuf {
        self.dir.join("galen.keys.next")
    }

    /// A rotation (or a restore) stopped after the database was re-keyed (or swapped) but before the new key file
    /// took its place: `unwrap` opens the waiting key file.
    fn finish_interrupted_rotation(&self, unwrap: impl FnOnce(&KeyFile) -> Result<Dek>) -> Result<Unlocked> {
        let pending = self.pending_key_file_path();
        let kf = KeyFile::load(&pending)?;
        let unlocked = self.unlock_with(&kf, unwrap(&kf)?)?;
        std::fs::rename(&pending, self.key_file_path()).map_err(io("rename", &pending))?;
        crate::keyfile::sync_dir(&self.dir)?;
        Ok(unlocked)
    }

    /// Unlocks with an admin's password, and puts the key back in the keyring.
    pub fn unlock_with_admin(&self, username: &str, password: &str) -> Result<Unlocked> {
        let counts = self.unlock_throttle_path();
        let now = time::OffsetDateTime::now_utc();
        if let Some(secs) = crate::throttle::locked_for_in(&counts, username, now) {
            return Err(StoreError::Throttled { retry_after_secs: secs });
        }
        let kf = self.key_file()?;
        let dek = match kf.unwrap_with_admin(username, password) {
            Err(StoreError::WrongAdminPassword) => {
                return Err(match crate::throttle::fail_in(&counts, username, now)? {
                    Some(secs) => StoreError::Throttled { retry_after_secs: secs },
                    None => StoreError::WrongAdminPassword,
                });
            }
            other => other?,
        };
        crate::throttle::clear_in(&counts, username)?;
        match self.unlock_with(&kf, dek) {
            Err(StoreError::NotGalenDatabase { .. } | StoreError::Corrupted { .. })
                if self.pending_key_file_path().exists() =>
            {
                self.finish_interrupted_rotation(|kf| kf.unwrap_with_admin(username, password))
            }
            other => other,
        }
    }

    /// Unlocks with the recovery key, and puts the key back in the keyring.
    pub fn unlock_with_recovery(&self, recovery: &RecoveryKey) -> Result<Unlocked> {
        let kf = self.key_file()?;
        let opened = kf.unwrap_with_recovery(recovery).and_then(|dek| self.unlock_with(&kf, dek));
        match opened {
            // A restore cut off before its key file took its place: the backup's recovery key opens the waiting one.
            Err(StoreError::WrongRecoveryKey | StoreError::NotGalenDatabase { .. } | StoreError::Corrupted { .. })
                if self.pending_key_file_path().exists() =>
            {
                self.finish_interrupted_rotation(|kf| kf.unwrap_with_recovery(recovery))
            }
            other => other,
        }
    }

    fn unlock_with(&self, kf: &KeyFile, dek: Dek) -> Result<Unlocked> {
        let store = Store::open(&self.db_path(), dek.clone())?;
        let keyring = self.keyring.store(&kf.db_id, &dek);
        tracing::info!(keyring_restored = keyring.is_ok(), "unlocked without the keyring");
        Ok(Unlocked { store, keyring })
    }

    /// What the keyring holds for this database.
    pub fn keyring_state(&self) -> Result<KeyringState> {
        let kf = self.key_file()?;
        Ok(match self.keyring.load(&kf.db_id) {
            Ok(dek) if kf.matches(&dek) => KeyringState::Holds,
            Ok(_) | Err(StoreError::WrongKey) => KeyringState::WrongKey,
            Err(StoreError::KeyMissing { .. }) => KeyringState::Missing,
            Err(e) => KeyringState::Unavailable(e.to_string()),
        })
    }

    /// Wraps the open store's key for `username` under `password` (a new admin, or a changed password).
    pub(crate) fn set_admin_password(&self, store: &Store, username: &str, password: &str) -> Result<()> {
        let mut kf = self.key_file()?;
        kf.set_admin_wrap(store.dek(), username, password);
        kf.save(&self.key_file_path())
    }

    /// Re-keys the database under a fresh key (`PRAGMA rekey`) and replaces every wrap: the rotating admin's,
    /// a new recovery key (returned, to show once) and the keyring entry. Other admins' wraps are dropped,
    /// because their passwords are not at hand; each gets a new one at their next sign-in. This is how any
    /// wrap is revoked: an old copy of `galen.keys` holds only the old key, which no longer opens the file.
    ///
    /// The admin's password is checked against the current wrap first, so a stolen open session cannot rotate.
    pub(crate) fn rotate_key(
        &self,
        store: &mut Store,
        admin_username: &str,
        admin_password: &str,
    ) -> Result<RecoveryKey> {
        let old = self.key_file()?;
        // Room first: re-encrypting writes every page again, and the rotation's audit row must fit after it, or
        // the rotation would be done but reported failed, its new recovery key never shown.
        let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
        let need = size(self.db_path()) + size(self.dir.join(format!("{DB_FILE}-wal"))) + (1 << 20);
        if crate::error::lacks_room(&self.dir, need) {
            return Err(StoreError::DiskFull { path: self.dir.clone() });
        }
        old.unwrap_with_admin(admin_username, admin_password)?;
        let new_dek = crypto::new_dek();
        let recovery = RecoveryKey::generate();
        let new_kf = KeyFile::new(&old.db_id, &new_dek, admin_username, admin_password, &recovery);
        // The new key file waits beside the old one until the database is re-keyed, so a crash in between
        // leaves a pair that still opens (see `finish_interrupted_rotation`).
        let pending = self.pending_key_file_path();
        new_kf.save(&pending)?;
        // If the database could not be re-keyed (a full disk), the old key file stays the one that opens it.
        if let Err(e) = store.checkpoint().and_then(|()| store.rekey(new_dek.clone())) {
            let _ = std::fs::remove_file(&pending);
            return Err(e);
        }
        std::fs::rename(&pending, self.key_file_path()).map_err(io("rename", &pending))?;
        crate::keyfile::sync_dir(&self.dir)?;
        self.keyring.store(&old.db_id, &new_dek)?;
        Ok(recovery)
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io("create the folder", dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io("protect", dir))?;
    }
    Ok(())
}

/// Removes a database's companion files (`-wal`, `-shm`, `-journal`) and, if `with_main`, the file itself.
pub(crate) fn remove_db_files(db: &Path, with_main: bool) -> Result<()> {
    let main = if with_main { &[""][..] } else { &[] };
    for suffix in main.iter().chain(&["-wal", "-shm", "-journal"]) {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::Io { action: "remove", path: p, source: e }),
        }
    }
    Ok(())
}
