//! The verify screen, for anyone at the machine, signed in or not (a pharmacy may run Galen only for this): the
//! trust lists this computer imported, and a document's check from its QR text or its PDF. Nothing here reads
//! the clinic's data; files come only from the shell's own open dialog.

use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::documents::trust::{CheckedList, MAX_BYTES};
use galen_core::documents::trust_lists;
use serde::Serialize;
use std::io::Read;
use tauri::{State, Window};

/// An imported trust list, as the screen lists it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TrustListDto {
    pub clinic: String,
    /// The site key's fingerprint, to compare with the clinic.
    pub site_fingerprint: String,
    pub issued_at: String,
    /// How many doctor keys it names.
    pub keys: u32,
}

impl From<&CheckedList> for TrustListDto {
    fn from(c: &CheckedList) -> Self {
        Self {
            clinic: c.list.clinic.clone(),
            site_fingerprint: c.site_fingerprint.clone(),
            issued_at: c.list.issued_at.clone(),
            keys: u32::try_from(c.list.doctors.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The trust lists this computer imported.
#[tauri::command]
#[specta::specta]
pub async fn trust_lists(state: State<'_, AppState>) -> Result<Vec<TrustListDto>, ApiError> {
    Ok(trust_lists::imported(&state.vault).iter().map(Into::into).collect())
}

const TRUST_FILES: (&str, &[&str]) = ("Galen trust list", &["asc", "txt"]);

/// Reads at most `limit` bytes of the file the person chose (and one more, to tell a longer one).
pub(crate) fn read_chosen(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, ApiError> {
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| ApiError::new("unreadable", format!("Cannot read {shown}: {e}")))?;
    if bytes.len() > limit {
        return Err(ApiError::new("too_large", format!("{shown} is too large for what it should be.")));
    }
    Ok(bytes)
}

/// Asks for a trust list file (the dialog titled `title`) and imports it; nothing when the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn trust_list_import(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<TrustListDto>, ApiError> {
    let Some(path) = dialogs::open_from(&window, Ask { title: &title, filter: TRUST_FILES }).await else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&read_chosen(&path, MAX_BYTES)?).into_owned();
    let checked = trust_lists::import(&state.vault, &text).map_err(|e| ApiError::new("trust_list", e.to_string()))?;
    Ok(Some((&checked).into()))
}

/// Forgets the imported list signed by the site key `fingerprint`.
#[tauri::command]
#[specta::specta]
pub async fn trust_list_forget(state: State<'_, AppState>, fingerprint: String) -> Result<bool, ApiError> {
    Ok(trust_lists::forget(&state.vault, &fingerprint))
}
