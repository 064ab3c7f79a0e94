//! The admin screens: staff accounts, the audit log, backup and restore, settings.

use crate::dto::{AuditEntryDto, AuditVerifyDto, NewStaffForm, SettingsDto, StaffDto};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::backup::{self, RestoreBy};
use galen_core::{audit, settings, staff, RecoveryKey};
use std::path::PathBuf;
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn staff_list(state: State<'_, AppState>) -> Result<Vec<StaffDto>, ApiError> {
    state.with_session(|c, s| Ok(staff::list(c, s)?.into_iter().map(Into::into).collect()))
}

#[tauri::command]
#[specta::specta]
pub async fn staff_create(state: State<'_, AppState>, form: NewStaffForm) -> Result<StaffDto, ApiError> {
    state.with_session(|c, s| Ok(staff::add(c, s, &form.into())?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn staff_set_active(
    state: State<'_, AppState>,
    username: String,
    active: bool,
) -> Result<StaffDto, ApiError> {
    state.with_session(|c, s| Ok(staff::set_active(c, s, &username, active)?.into()))
}

/// Returns the temporary password, to hand to the user once.
#[tauri::command]
#[specta::specta]
pub async fn staff_reset_password(state: State<'_, AppState>, username: String) -> Result<String, ApiError> {
    state.with_session(|c, s| Ok(staff::reset_password(c, s, &username)?.expose().clone()))
}

#[tauri::command]
#[specta::specta]
pub async fn staff_clear_lock(state: State<'_, AppState>, username: String) -> Result<(), ApiError> {
    state.with_session(|c, s| staff::clear_throttle(c, s, &username))
}

#[tauri::command]
#[specta::specta]
pub async fn audit_list(
    state: State<'_, AppState>,
    before_id: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEntryDto>, ApiError> {
    let query = audit::Query { before_id, limit, only_break_glass: false };
    state.with_session(|c, s| Ok(audit::list(c, s, &query)?.into_iter().map(Into::into).collect()))
}

#[tauri::command]
#[specta::specta]
pub async fn audit_verify(state: State<'_, AppState>) -> Result<AuditVerifyDto, ApiError> {
    state.with_session(|c, s| {
        Ok(match audit::verify(c, s)? {
            Ok(v) => AuditVerifyDto { ok: true, rows: Some(v.rows as i64), problem: None },
            Err(brk) => AuditVerifyDto { ok: false, rows: None, problem: Some(brk.to_string()) },
        })
    })
}

#[tauri::command]
#[specta::specta]
pub async fn backup_create(state: State<'_, AppState>, path: String) -> Result<u64, ApiError> {
    state.with_session(|c, s| Ok(backup::backup(c, s, &PathBuf::from(&path))?.bytes))
}

/// Restores a backup over the open clinic (admins). Everyone is signed out; the app reopens the restored data.
#[tauri::command]
#[specta::specta]
pub async fn backup_restore(
    state: State<'_, AppState>,
    path: String,
    recovery_key: Option<String>,
) -> Result<(), ApiError> {
    let key = recovery_key.filter(|k| !k.trim().is_empty()).map(|k| RecoveryKey::parse(&k)).transpose()?;
    let mut inner = state.lock();
    let clinic = inner.clinic.take().ok_or_else(|| ApiError::new("not_open", "The clinic is not open."))?;
    let Some(session) = inner.session.take() else {
        inner.clinic = Some(clinic);
        return Err(ApiError::new("not_signed_in", "Please sign in."));
    };
    // Whatever happens, the session ends: a restore replaces the accounts too.
    backup::restore(&state.vault, &PathBuf::from(&path), RestoreBy::Admin { clinic, session: &session }, key.as_ref())?;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn settings_get(state: State<'_, AppState>) -> Result<SettingsDto, ApiError> {
    state.with_clinic(|c| Ok(settings::load(c.store())?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn settings_update(state: State<'_, AppState>, form: SettingsDto) -> Result<SettingsDto, ApiError> {
    state.with_session(|c, s| {
        settings::update(c, s, &form.into_settings())?;
        Ok(settings::load(c.store())?.into())
    })
}
