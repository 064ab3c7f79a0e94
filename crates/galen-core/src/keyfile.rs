//! The key file beside the database: the database key wrapped for each admin and for the recovery key.
//!
//! It holds only wrapped keys, salts, parameters and a key check value; no plaintext secret. It is written
//! atomically (temporary file, fsync, rename) so a crash leaves either the old or the new file.

use crate::crypto::{self, Dek, KdfParams, Sealed};
use crate::error::{io, Result, StoreError};
use crate::recovery::RecoveryKey;
use crate::sensitive::Sensitive;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

const FORMAT: &str = "galen.keyfile.v1";

/// Do not change: this is the on-disk format of every clinic's key file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyFile {
    pub format: String,
    /// Names this database in the keyring; not secret.
    pub db_id: String,
    /// Recognises the right key without touching the database (see `crypto::key_check`).
    pub key_check: String,
    pub admin_wraps: Vec<AdminWrap>,
    pub recovery_wrap: Sealed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminWrap {
    pub username: String,
    pub kdf: KdfParams,
    pub sealed: Sealed,
}

impl KeyFile {
    /// A key file for a new database key, wrapped for one admin and the recovery key.
    pub fn new(db_id: &str, dek: &Dek, admin: &str, password: &str, recovery: &RecoveryKey) -> Self {
        let mut kf = Self {
            format: FORMAT.into(),
            db_id: db_id.into(),
            key_check: crypto::key_check(dek),
            admin_wraps: Vec::new(),
            recovery_wrap: crypto::seal(recovery.wrapping_key().expose(), &aad(db_id, "recovery"), dek.expose()),
        };
        kf.set_admin_wrap(dek, admin, password);
        kf
    }

    /// Adds or replaces `username`'s wrap (first admin, a new admin, or a changed password).
    pub fn set_admin_wrap(&mut self, dek: &Dek, username: &str, password: &str) {
        let kdf = KdfParams::for_unlock_password();
        // Freshly generated parameters are always valid.
        #[allow(clippy::expect_used)]
        let kek = kdf.derive(password).expect("fresh argon2id parameters are valid");
        let sealed = crypto::seal(kek.expose(), &aad(&self.db_id, &format!("admin:{username}")), dek.expose());
        self.admin_wraps.retain(|w| w.username != username);
        self.admin_wraps.push(AdminWrap { username: username.into(), kdf, sealed });
    }

    pub fn has_admin_wrap(&self, username: &str) -> bool {
        self.admin_wraps.iter().any(|w| w.username == username)
    }

    /// Whether `dek` is this database's key.
    pub fn matches(&self, dek: &Dek) -> bool {
        crypto::key_check(dek) == self.key_check
    }

    pub fn unwrap_with_admin(&self, username: &str, password: &str) -> Result<Dek> {
        // The same error whether the user or the password is wrong, so the file reveals no usernames.
        let wrap = self.admin_wraps.iter().find(|w| w.username == username).ok_or(StoreError::WrongAdminPassword)?;
        let kek = wrap.kdf.derive(password).ok_or(StoreError::WrongAdminPassword)?;
        let aad = aad(&self.db_id, &format!("admin:{username}"));
        self.to_dek(crypto::open(kek.expose(), &aad, &wrap.sealed)).ok_or(StoreError::WrongAdminPassword)
    }

    pub fn unwrap_with_recovery(&self, recovery: &RecoveryKey) -> Result<Dek> {
        let opened = crypto::open(recovery.wrapping_key().expose(), &aad(&self.db_id, "recovery"), &self.recovery_wrap);
        self.to_dek(opened).ok_or(StoreError::WrongRecoveryKey)
    }

    fn to_dek(&self, opened: Option<Sensitive<Vec<u8>>>) -> Option<Dek> {
        let bytes: [u8; 32] = opened?.expose().as_slice().try_into().ok()?;
        let dek = Sensitive::new(bytes);
        self.matches(&dek).then_some(dek)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bad = |reason: String| StoreError::KeyFile { path: path.to_owned(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied => StoreError::from_io("read", path.to_owned(), e),
            _ => bad(e.to_string()),
        })?;
        Self::parse(&text).map_err(bad)
    }

    /// Reads a key file's text; the error says why it is not one.
    pub(crate) fn parse(text: &str) -> std::result::Result<Self, String> {
        let kf: Self = serde_json::from_str(text).map_err(|e| format!("not a valid key file: {e}"))?;
        if kf.format != FORMAT {
            return Err(format!("unknown format {:?}", kf.format));
        }
        Ok(kf)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        // Serializing plain strings and numbers cannot fail.
        #[allow(clippy::expect_used)]
        let json = serde_json::to_vec_pretty(self).expect("key file serializes");
        write_atomically(path, &json)
    }
}

/// Binds each wrap to its database and purpose, so wraps cannot be swapped between files or admins.
fn aad(db_id: &str, purpose: &str) -> String {
    format!("galen.dek.v1|{db_id}|{purpose}")
}

/// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path`, and fsyncs the folder.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io("create a temporary file in", dir))?;
    // Errors name the file being replaced (the temporary one is removed when `tmp` drops).
    tmp.write_all(bytes).map_err(io("write", path))?;
    tmp.as_file().sync_all().map_err(io("flush", path))?;
    tmp.persist(path).map_err(|e| StoreError::Io { action: "replace", path: path.to_owned(), source: e.error })?;
    sync_dir(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io("flush the folder", dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wrap_opens_the_same_key_and_nothing_else() {
        let dek = crypto::new_dek();
        let recovery = RecoveryKey::generate();
        let kf = KeyFile::new("db-1", &dek, "admin", "correct horse battery", &recovery);
        let by_admin = kf.unwrap_with_admin("admin", "correct horse battery").expect("admin password unwraps");
        assert_eq!(by_admin.expose(), dek.expose());
        let by_recovery = kf.unwrap_with_recovery(&recovery).expect("recovery key unwraps");
        assert_eq!(by_recovery.expose(), dek.expose());
        assert!(matches!(kf.unwrap_with_admin("admin", "wrong"), Err(StoreError::WrongAdminPassword)));
        assert!(matches!(kf.unwrap_with_admin("nobody", "correct horse battery"), Err(StoreError::WrongAdminPassword)));
        assert!(matches!(kf.unwrap_with_recovery(&RecoveryKey::generate()), Err(StoreError::WrongRecoveryKey)));
    }

    #[test]
    fn the_key_file_holds_no_plaintext_key() {
        let dek = crypto::new_dek();
        let kf = KeyFile::new("db-1", &dek, "admin", "pw pw pw pw pw", &RecoveryKey::generate());
        let json = serde_json::to_string(&kf).expect("serializes");
        for encoded in [crypto::base64_encode(dek.expose()), data_encoding::HEXLOWER.encode(dek.expose())] {
            assert!(!json.contains(&encoded), "the raw key must never be in the key file");
        }
        let back: KeyFile = serde_json::from_str(&json).expect("round-trips");
        assert_eq!(back, kf, "the key file format must round-trip unchanged");
    }
}
