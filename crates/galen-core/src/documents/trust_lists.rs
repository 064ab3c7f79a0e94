//! The trust lists this computer imported, for the verify screen (a pharmacy's counter, or a clinic checking
//! another clinic's paper): `<data dir>/trust-lists/<site key fingerprint>.asc`, one per clinic, the newest kept.
//! They are public and signed, so they need neither a clinic nor a signed-in person; each is checked again
//! whenever it is read.

use super::trust::{CheckedList, TrustError, MAX_BYTES};
use crate::error::StoreError;
use crate::vault::Vault;
use std::io::Read;
use std::path::PathBuf;

/// Why a trust list could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// It is not a trust list one can use.
    #[error("{0}")]
    Unusable(#[from] TrustError),
    /// This computer already holds a newer list from the same clinic.
    #[error("A newer trust list from {clinic} is already imported (issued {held}).")]
    Older {
        /// The clinic.
        clinic: String,
        /// When the held one was issued.
        held: String,
    },
    /// It could not be written.
    #[error("{0}")]
    Store(#[from] StoreError),
}

fn dir(vault: &Vault) -> PathBuf {
    vault.dir().join("trust-lists")
}

/// Reads at most `MAX_BYTES` (and one more, to tell a longer file) of `path`.
fn read_bounded(path: &std::path::Path) -> Option<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path).ok()?.take(MAX_BYTES as u64 + 1).read_to_end(&mut bytes).ok()?;
    String::from_utf8(bytes).ok()
}

/// Every imported list whose signature still checks, by clinic name.
pub fn imported(vault: &Vault) -> Vec<CheckedList> {
    let Ok(entries) = std::fs::read_dir(dir(vault)) else { return Vec::new() };
    let mut lists: Vec<CheckedList> = entries
        .flatten()
        .filter_map(|e| {
            let list = read_bounded(&e.path()).and_then(|text| CheckedList::read(&text).ok());
            if list.is_none() {
                tracing::warn!(file = %e.path().display(), "an imported trust list no longer reads; ignored");
            }
            list
        })
        .collect();
    lists.sort_by(|a, b| a.list.clinic.cmp(&b.list.clinic));
    lists
}

/// Imports a trust list (its text, read by the caller at most `MAX_BYTES` + 1): checked, then kept in place of
/// an older list from the same site key.
pub fn import(vault: &Vault, text: &str) -> Result<CheckedList, ImportError> {
    let checked = CheckedList::read(text)?;
    let path = dir(vault).join(format!("{}.asc", checked.site_fingerprint));
    if let Some(held) = read_bounded(&path).and_then(|t| CheckedList::read(&t).ok()) {
        if held.list.issued_at > checked.list.issued_at {
            return Err(ImportError::Older { clinic: held.list.clinic, held: held.list.issued_at });
        }
    }
    crate::vault::create_private_dir(&dir(vault))?;
    crate::keyfile::write_atomically(&path, text.as_bytes())?;
    tracing::info!(site = %checked.site_fingerprint, "trust list imported");
    Ok(checked)
}

/// Forgets the list signed by the site key `fingerprint`; whether there was one.
pub fn forget(vault: &Vault, fingerprint: &str) -> bool {
    // Only a fingerprint names a file here: nothing else reaches the path.
    if fingerprint.is_empty() || !fingerprint.chars().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    std::fs::remove_file(dir(vault).join(format!("{}.asc", fingerprint.to_ascii_uppercase()))).is_ok()
}
