//! The database key. SQLCipher encrypts the partner's database with 32 random bytes used as a raw key (so no
//! KDF runs at each open), read from a file only the service account can read (`database_key`, made by
//! `galen-partner init`), or from a systemd credential (`database_key_credential`, under
//! `$CREDENTIALS_DIRECTORY`). The bytes are never printed: `Debug` is redacted and they are wiped on drop.

use crate::files;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The key's length: SQLCipher's AES-256 key.
pub const KEY_BYTES: usize = 32;

/// The database key and where it came from (named in errors, never the bytes).
pub struct DbKey {
    bytes: Zeroizing<[u8; KEY_BYTES]>,
    origin: String,
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbKey").field("origin", &self.origin).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the database key {}: {source}", file.display())]
    Read { file: PathBuf, source: std::io::Error },
    #[error(
        "{} is not a database key: it must hold 32 bytes (or 64 hexadecimal digits), and it holds {length} bytes",
        file.display()
    )]
    Malformed { file: PathBuf, length: usize },
    #[error("cannot create the database key {}: {source}", file.display())]
    Create { file: PathBuf, source: std::io::Error },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error(
        "the database key is the systemd credential {name}, but $CREDENTIALS_DIRECTORY is not set: run galen-partner \
         with that credential loaded (see the deployment guide), or set database_key instead"
    )]
    NoCredentials { name: String },
}

impl DbKey {
    /// A new random key held in memory only (tests, benchmarks).
    pub fn random() -> Result<DbKey, KeyError> {
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        getrandom::fill(bytes.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(DbKey { bytes, origin: "a key held in memory".into() })
    }

    /// Reads the key from `file`: 32 bytes, or 64 hexadecimal digits (what `systemd-creds` or `openssl rand -hex
    /// 32` may give), a trailing newline allowed.
    pub fn read(file: &Path) -> Result<DbKey, KeyError> {
        let content =
            Zeroizing::new(std::fs::read(file).map_err(|source| KeyError::Read { file: file.into(), source })?);
        let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
        if content.len() == KEY_BYTES {
            bytes.copy_from_slice(&content);
        } else {
            let hex = content.trim_ascii_end();
            let decoded = hex.len() == 2 * KEY_BYTES
                && data_encoding::HEXLOWER_PERMISSIVE.decode_mut(hex, bytes.as_mut()).is_ok();
            if !decoded {
                return Err(KeyError::Malformed { file: file.into(), length: content.len() });
            }
        }
        warn_if_others_can_read(file);
        Ok(DbKey { bytes, origin: format!("the key in {}", file.display()) })
    }

    /// Makes a new random key and writes it to `file`, owner-only, never over an existing file.
    pub fn create(file: &Path) -> Result<DbKey, KeyError> {
        let mut key = DbKey::random()?;
        files::write_new(file, key.bytes.as_ref(), files::OWNER_ONLY)
            .map_err(|source| KeyError::Create { file: file.into(), source })?;
        key.origin = format!("the key in {}", file.display());
        Ok(key)
    }

    /// Where the key came from, for messages ("the key in /var/lib/galen-partner/partner.db.key").
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// SQLCipher's raw-key syntax, `x'<64 hex>'`, which skips its KDF. For `PRAGMA key` only.
    pub(crate) fn sqlcipher_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", data_encoding::HEXLOWER.encode(self.bytes.as_ref())))
    }
}

/// A key file others can read protects nothing: say so in the journal (a systemd credential is fine as it is).
fn warn_if_others_can_read(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o007 != 0) {
            tracing::warn!(file = %file.display(), "the database key file is readable by every account: chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_as_raw_bytes_or_hex_and_never_prints() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("k");
        let made = DbKey::create(&file).expect("create");
        assert!(DbKey::create(&file).is_err(), "an existing key is never replaced");
        let raw = DbKey::read(&file).expect("raw");
        assert_eq!(raw.sqlcipher_literal(), made.sqlcipher_literal());
        let hex = data_encoding::HEXUPPER.encode(&std::fs::read(&file).expect("read")) + "\n";
        std::fs::write(&file, &hex).expect("write");
        assert_eq!(DbKey::read(&file).expect("hex").sqlcipher_literal(), made.sqlcipher_literal());
        let printed = format!("{made:?}");
        assert!(!printed.to_uppercase().contains(&hex[..16]), "{printed}");
        std::fs::write(&file, "short").expect("write");
        let err = DbKey::read(&file).expect_err("five bytes").to_string();
        assert!(err.contains("is not a database key") && err.contains("holds 5 bytes"), "{err}");
    }
}
