//! Signing in and out, locking, and the idle clock (kept by galen-core; the UI polls it).

use crate::error::ApiError;
use crate::state::AppState;
use galen_core::session::SessionInfo;
use galen_core::{permissions, Action, Role};
use serde::Serialize;
use tauri::State;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    /// The account's id: a doctor's own column and queue in the appointment book.
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub locked: bool,
    pub must_change_password: bool,
    pub idle_timeout_secs: i64,
    /// Every action the role allows, from galen-core's one table: the UI shows what core would allow, and core
    /// still decides each call.
    pub can: Vec<Action>,
    /// Signing keys made after an admin reset this doctor's password, told at this sign-in.
    pub new_keys: Vec<NewKeyDto>,
}

/// "A new signing key was made for you on DATE after ADMIN reset your password."
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewKeyDto {
    pub made_at: String,
    pub reset_by: String,
    pub reset_at: String,
}

impl From<SessionInfo> for SessionDto {
    fn from(s: SessionInfo) -> Self {
        Self {
            can: permissions::allowed_to(s.role),
            user_id: s.user_id,
            username: s.username,
            display_name: s.display_name,
            role: s.role,
            locked: s.locked,
            must_change_password: s.must_change_password,
            idle_timeout_secs: s.idle_timeout_secs,
            new_keys: s
                .new_keys
                .into_iter()
                .map(|k| NewKeyDto { made_at: k.made_at, reset_by: k.reset_by, reset_at: k.reset_at })
                .collect(),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn login(state: State<'_, AppState>, username: String, password: String) -> Result<SessionDto, ApiError> {
    Ok(state.login(&username, &password)?.into())
}

#[tauri::command]
#[specta::specta]
pub async fn logout(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.logout()
}

/// The signed-in session as galen-core sees it now (locking it if it idled out), or `None`.
#[tauri::command]
#[specta::specta]
pub async fn session_status(state: State<'_, AppState>) -> Result<Option<SessionDto>, ApiError> {
    Ok(state.session_info()?.map(Into::into))
}

/// The user typed or clicked: that counts as activity for the idle lock.
#[tauri::command]
#[specta::specta]
pub async fn record_activity(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.with_session(|clinic, session| clinic.record_activity(session))
}

#[tauri::command]
#[specta::specta]
pub async fn lock_session(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.with_session(|clinic, session| clinic.lock(session))
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_session(state: State<'_, AppState>, password: String) -> Result<SessionDto, ApiError> {
    state.with_session(|clinic, session| {
        clinic.unlock(session, &password)?;
        Ok(session.info().into())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn change_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
) -> Result<SessionDto, ApiError> {
    state.with_session(|clinic, session| {
        clinic.change_own_password(session, &current_password, &new_password)?;
        Ok(session.info().into())
    })
}
