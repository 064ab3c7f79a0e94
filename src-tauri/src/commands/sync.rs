//! Partner sync for admins: this site's identity, pairing with a partner, the sync status, and conflicts.
//! The network waits happen outside the clinic lock (`AppState` is a `sync::Db`), so the window stays usable.

use crate::dto::{ConflictDto, PartnerPreviewDto, SiteIdentityDto, SyncReportDto, SyncStatusDto};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::{site, sync};
use tauri::State;

fn read(path: &str) -> Result<String, ApiError> {
    std::fs::read_to_string(path).map_err(|e| ApiError::new("unreadable", format!("Cannot read {path}: {e}")))
}

/// This clinic's site identity, if made.
#[tauri::command]
#[specta::specta]
pub async fn site_identity(state: State<'_, AppState>) -> Result<Option<SiteIdentityDto>, ApiError> {
    state.with_session(|c, s| Ok(site::identity(c, s)?.map(Into::into)))
}

/// Creates the site identity (once).
#[tauri::command]
#[specta::specta]
pub async fn site_init(state: State<'_, AppState>) -> Result<SiteIdentityDto, ApiError> {
    state.with_session(|c, s| Ok(site::init(c, s)?.into()))
}

/// Writes this site's pairing file where the admin chose; returns its safety number.
#[tauri::command]
#[specta::specta]
pub async fn site_pairing_file_save(state: State<'_, AppState>, path: String) -> Result<String, ApiError> {
    let file = state.with_session(site::pairing_file)?;
    let json = serde_json::to_string_pretty(&file).map_err(|e| ApiError::new("internal", e.to_string()))?;
    std::fs::write(&path, json + "\n").map_err(|e| ApiError::new("unwritable", format!("Cannot write {path}: {e}")))?;
    Ok(file.safety_number)
}

/// Reads a partner's pairing file: its name and the safety number recomputed from its keys.
#[tauri::command]
#[specta::specta]
pub async fn sync_preview(state: State<'_, AppState>, path: String) -> Result<PartnerPreviewDto, ApiError> {
    let text = read(&path)?;
    state.with_session(|c, s| Ok(sync::preview(c, s, &text)?.into()))
}

/// Pairs with the partner whose file is at `path`, after the admin confirmed its safety number.
#[tauri::command]
#[specta::specta]
pub async fn sync_pair(
    state: State<'_, AppState>,
    path: String,
    url: String,
    safety_number: String,
) -> Result<SyncStatusDto, ApiError> {
    let text = read(&path)?;
    state.with_session(|c, s| {
        sync::pair(c, s, &text, &url, &safety_number)?;
        Ok(sync::status(c, s)?.into())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatusDto, ApiError> {
    state.with_session(|c, s| Ok(sync::status(c, s)?.into()))
}

/// Syncs now, as the signed-in admin.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> Result<SyncReportDto, ApiError> {
    let permit = state.with_session(sync::permit)?;
    let state = state.inner().clone();
    let report = tauri::async_runtime::spawn_blocking(move || sync::run(&state, sync::Trigger::Person(permit)))
        .await
        .map_err(|e| ApiError::new("internal", e.to_string()))??;
    Ok(report.into())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_conflicts(state: State<'_, AppState>) -> Result<Vec<ConflictDto>, ApiError> {
    state.with_session(|c, s| Ok(sync::conflicts(c, s)?.into_iter().map(Into::into).collect()))
}

/// Resolves a conflict keeping this clinic's version (`keep_local`) or the one that arrived.
#[tauri::command]
#[specta::specta]
pub async fn sync_resolve(state: State<'_, AppState>, id: i64, keep_local: bool) -> Result<(), ApiError> {
    let resolution = if keep_local { sync::Resolution::KeepLocal } else { sync::Resolution::TakeIncoming };
    state.with_session(|c, s| sync::resolve(c, s, id, resolution))
}
