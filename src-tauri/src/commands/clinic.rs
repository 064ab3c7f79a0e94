//! Opening the clinic: status, first-run setup, and unlocking when the keyring lost the key.

use crate::dto::{AppStatus, SetupDone, SetupForm, Stage};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::clinic::Setup;
use galen_core::{settings, Clinic, RecoveryKey, StoreError};
use tauri::State;

/// Which screen to show. Opens the clinic through the keyring the first time it is asked.
#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, ApiError> {
    let mut inner = state.lock();
    if inner.clinic.is_none() {
        if !state.vault.is_initialized() {
            return Ok(status(Stage::Setup, None, None, None));
        }
        match Clinic::open(state.vault.clone()) {
            Ok(clinic) => inner.clinic = Some(clinic),
            Err(e @ (StoreError::KeyMissing { .. } | StoreError::KeyringUnavailable { .. } | StoreError::WrongKey)) => {
                return Ok(status(Stage::Unlock, Some(e.into()), None, None));
            }
            Err(e) => return Ok(status(Stage::Error, Some(e.into()), None, None)),
        }
    }
    let clinic = inner.clinic.as_ref().ok_or_else(|| ApiError::new("not_open", "not open"))?;
    let settings = settings::load(clinic.store()).map_err(ApiError::from)?;
    let session = match &inner.session {
        Some(s) => {
            clinic.check_idle(s)?;
            Some(s.info().into())
        }
        None => None,
    };
    let stage = if session.is_some() { Stage::Ready } else { Stage::Login };
    Ok(AppStatus { stage, problem: None, site_name: Some(settings.site_name), language: settings.language, session })
}

fn status(stage: Stage, problem: Option<ApiError>, site_name: Option<String>, language: Option<String>) -> AppStatus {
    AppStatus { stage, problem, site_name, language: language.unwrap_or_else(|| "en".into()), session: None }
}

/// First run: creates the clinic and its first admin, and returns the recovery key to show once.
#[tauri::command]
#[specta::specta]
pub async fn setup_clinic(state: State<'_, AppState>, form: SetupForm) -> Result<SetupDone, ApiError> {
    let mut inner = state.lock();
    let setup = Setup {
        site_name: form.site_name,
        admin_username: form.admin_username,
        admin_display_name: form.admin_display_name,
        admin_password: form.admin_password.into(),
    };
    let created = Clinic::create(state.vault.clone(), &setup)?;
    let done = SetupDone {
        recovery_key: created.recovery_key.display_secret().expose().clone(),
        keyring_warning: created.keyring.err().map(|e| e.to_string()),
    };
    inner.clinic = Some(created.clinic);
    Ok(done)
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_with_admin(state: State<'_, AppState>, username: String, password: String) -> Result<(), ApiError> {
    let unlocked = state.vault.unlock_with_admin(&username, &password)?;
    state.lock().clinic = Some(Clinic::new(state.vault.clone(), unlocked.store));
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_with_recovery_key(state: State<'_, AppState>, recovery_key: String) -> Result<(), ApiError> {
    let key = RecoveryKey::parse(&recovery_key)?;
    let unlocked = state.vault.unlock_with_recovery(&key)?;
    state.lock().clinic = Some(Clinic::new(state.vault.clone(), unlocked.store));
    Ok(())
}
