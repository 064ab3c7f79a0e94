//! The admin's doctor-keys screen: each key with its standing, revoking one with a reason, and saving the
//! clinic's trust list and a revocation certificate where the admin chooses.

use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::documents::keys::{self, Cause as KeyCause, DoctorKey, KeyStatus};
use galen_core::documents::trust::CheckedList;
use serde::Serialize;
use tauri::{State, Window};

/// Why a key was made; the UI words it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum KeyCauseDto {
    FirstSignature,
    AfterReset { by: String, at: String },
    Replaced,
}

/// Where a key stands.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum KeyStatusDto {
    Active,
    Replaced { at: String },
    Revoked { at: String, by: String, reason: String },
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DoctorKeyDto {
    pub fingerprint: String,
    pub username: String,
    pub doctor: String,
    pub licence: String,
    pub created_at: String,
    pub cause: KeyCauseDto,
    pub status: KeyStatusDto,
    /// The clinic's site key certifies it.
    pub vouched: bool,
}

impl From<DoctorKey> for DoctorKeyDto {
    fn from(k: DoctorKey) -> Self {
        Self {
            fingerprint: k.fingerprint,
            username: k.username,
            doctor: k.doctor,
            licence: k.licence,
            created_at: k.created_at,
            cause: match k.cause {
                KeyCause::FirstSignature => KeyCauseDto::FirstSignature,
                KeyCause::AfterReset { by, at } => KeyCauseDto::AfterReset { by, at },
                KeyCause::Replaced => KeyCauseDto::Replaced,
            },
            status: match k.status {
                KeyStatus::Active => KeyStatusDto::Active,
                KeyStatus::Replaced { at } => KeyStatusDto::Replaced { at },
                KeyStatus::Revoked(r) => KeyStatusDto::Revoked { at: r.at, by: r.by, reason: r.reason },
            },
            vouched: k.vouched,
        }
    }
}

/// Every doctor key, oldest first (admins).
#[tauri::command]
#[specta::specta]
pub async fn doctor_keys(state: State<'_, AppState>) -> Result<Vec<DoctorKeyDto>, ApiError> {
    state.with_session(|c, s| Ok(keys::doctor_keys(c, s)?.into_iter().map(Into::into).collect()))
}

/// Revokes a doctor key with the reason (admins).
#[tauri::command]
#[specta::specta]
pub async fn doctor_key_revoke(
    state: State<'_, AppState>,
    fingerprint: String,
    reason: String,
) -> Result<DoctorKeyDto, ApiError> {
    state.with_session(|c, s| Ok(keys::revoke_key(c, s, &fingerprint, &reason)?.into()))
}

const ARMORED_FILES: (&str, &[&str]) = ("OpenPGP (armored)", &["asc"]);

/// Where a file was saved, and the site key's fingerprint for the people it is handed to to compare.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TrustListSavedDto {
    pub path: String,
    pub site_fingerprint: String,
}

fn write(path: &std::path::Path, text: &str) -> Result<String, ApiError> {
    let shown = path.display().to_string();
    std::fs::write(path, text).map_err(|e| ApiError::new("unwritable", format!("Cannot write {shown}: {e}")))?;
    Ok(shown)
}

/// Makes the clinic's trust list (admins), then asks where to save it (the dialog titled `title`); nothing when
/// the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn trust_list_save(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<TrustListSavedDto>, ApiError> {
    let (list, file_name) = state.with_session(|c, s| Ok((keys::trust_list(c, s)?, "clinic-trust.asc".to_owned())))?;
    let site_fingerprint =
        CheckedList::read(&list).map_err(|e| ApiError::new("internal", e.to_string()))?.site_fingerprint;
    let Some(path) = dialogs::save_to(&window, Ask { title: &title, filter: ARMORED_FILES }, &file_name).await else {
        return Ok(None);
    };
    Ok(Some(TrustListSavedDto { path: write(&path, &list)?, site_fingerprint }))
}

/// Asks where to save a revoked key's revocation certificate (admins; made before the dialog opens); where it went.
#[tauri::command]
#[specta::specta]
pub async fn revocation_save(
    window: Window,
    state: State<'_, AppState>,
    title: String,
    fingerprint: String,
) -> Result<Option<String>, ApiError> {
    let certificate = state.with_session(|c, s| keys::revocation_certificate(c, s, &fingerprint))?;
    let file_name = format!("revocation-{}.asc", fingerprint.get(..16).unwrap_or(&fingerprint));
    let Some(path) = dialogs::save_to(&window, Ask { title: &title, filter: ARMORED_FILES }, &file_name).await else {
        return Ok(None);
    };
    Ok(Some(write(&path, &certificate)?))
}
