//! The OS keyring holding the database key: Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows. Each platform's store is named explicitly, so Galen never lands on keyring's in-memory mock.

use crate::crypto::Dek;
use crate::error::{Result, StoreError};
use crate::sensitive::Sensitive;

#[cfg(target_os = "linux")]
pub const BACKEND: &str = "Secret Service (GNOME Keyring / KWallet)";
#[cfg(target_os = "macos")]
pub const BACKEND: &str = "macOS Keychain";
#[cfg(windows)]
pub const BACKEND: &str = "Windows Credential Manager";

/// Where this installation keeps database keys, one entry per database id.
#[derive(Debug, Clone)]
pub struct Keyring {
    service: String,
}

impl Default for Keyring {
    fn default() -> Self {
        Self { service: "galen".into() }
    }
}

impl Keyring {
    pub fn backend(&self) -> &'static str {
        BACKEND
    }

    fn entry(&self, db_id: &str) -> Result<keyring::Entry> {
        let user = format!("database-key:{db_id}");
        #[cfg(target_os = "linux")]
        {
            let cred = keyring::secret_service::SsCredential::new_with_target(None, &self.service, &user)
                .map_err(unavailable)?;
            Ok(keyring::Entry::new_with_credential(Box::new(cred)))
        }
        #[cfg(not(target_os = "linux"))]
        keyring::Entry::new(&self.service, &user).map_err(unavailable)
    }

    pub fn load(&self, db_id: &str) -> Result<Dek> {
        let text = Sensitive::new(self.entry(db_id)?.get_password().map_err(|e| match e {
            keyring::Error::NoEntry => StoreError::KeyMissing { backend: BACKEND },
            other => unavailable(other),
        })?);
        let bytes = Sensitive::new(data_encoding::BASE64.decode(text.expose().as_bytes()).unwrap_or_default());
        let key: [u8; 32] = bytes.expose().as_slice().try_into().map_err(|_| StoreError::WrongKey)?;
        Ok(Sensitive::new(key))
    }

    pub fn store(&self, db_id: &str, dek: &Dek) -> Result<()> {
        let text = Sensitive::new(data_encoding::BASE64.encode(dek.expose()));
        self.entry(db_id)?.set_password(text.expose()).map_err(unavailable)
    }

    pub fn delete(&self, db_id: &str) -> Result<()> {
        match self.entry(db_id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Keeps the platform's reason but never its payload: `BadEncoding` would carry the secret itself.
fn unavailable(e: keyring::Error) -> StoreError {
    let reason = match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => inner.to_string(),
        keyring::Error::BadEncoding(_) => "the stored entry is not text".into(),
        keyring::Error::NoEntry => "no entry".into(),
        keyring::Error::Ambiguous(_) => "more than one matching entry".into(),
        other => other.to_string(),
    };
    StoreError::KeyringUnavailable { backend: BACKEND, reason }
}
