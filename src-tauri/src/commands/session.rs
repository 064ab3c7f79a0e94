//! Signing in and out, locking, and the idle clock (kept by galen-core; the UI polls it).

use crate::dto::SessionDto;
use crate::error::ApiError;
use crate::state::AppState;
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn login(state: State<'_, AppState>, username: String, password: String) -> Result<SessionDto, ApiError> {
    let mut inner = state.lock();
    let clinic = inner.clinic.as_ref().ok_or_else(|| ApiError::new("not_open", "The clinic is not open."))?;
    let session = clinic.login(&username, &password)?;
    let info = session.info().into();
    inner.session = Some(session);
    Ok(info)
}

#[tauri::command]
#[specta::specta]
pub async fn logout(state: State<'_, AppState>) -> Result<(), ApiError> {
    let inner = &mut *state.lock();
    if let (Some(clinic), Some(session)) = (inner.clinic.as_ref(), inner.session.take()) {
        clinic.logout(session)?;
    }
    Ok(())
}

/// The signed-in session as galen-core sees it now (locking it if it idled out), or `None`.
#[tauri::command]
#[specta::specta]
pub async fn session_status(state: State<'_, AppState>) -> Result<Option<SessionDto>, ApiError> {
    let inner = state.lock();
    match (inner.clinic.as_ref(), inner.session.as_ref()) {
        (Some(clinic), Some(session)) => {
            clinic.check_idle(session)?;
            Ok(Some(session.info().into()))
        }
        _ => Ok(None),
    }
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
