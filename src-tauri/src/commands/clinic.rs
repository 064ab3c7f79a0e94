//! Opening the clinic: which screen to show, first-run setup, and unlocking when the keyring lost the key.

use crate::commands::session::SessionDto;
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::clinic::{Created, Setup};
use galen_core::RecoveryKey;
use serde::{Deserialize, Serialize};
use tauri::State;

/// Where the app is in its life: which screen to show.
#[derive(Debug, Clone, Copy, Serialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    /// No clinic yet: first-run setup.
    Setup,
    /// The keyring could not give the key: unlock with the admin password or the recovery key.
    Unlock,
    /// Open, nobody signed in.
    Login,
    /// Someone is signed in (possibly locked: see `session.locked`).
    Ready,
    /// The database cannot be opened (damaged, newer schema...): `problem` says what to do.
    Error,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub stage: Stage,
    /// Why unlock or error was reached, in plain words.
    pub problem: Option<ApiError>,
    pub site_name: Option<String>,
    pub language: galen_core::settings::Language,
    pub session: Option<SessionDto>,
}

#[derive(Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupForm {
    pub site_name: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: String,
}

impl From<SetupForm> for Setup {
    fn from(f: SetupForm) -> Self {
        Setup {
            site_name: f.site_name,
            admin_username: f.admin_username,
            admin_display_name: f.admin_display_name,
            admin_password: f.admin_password.into(),
        }
    }
}

#[derive(Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupDone {
    /// Shown once, then forgotten by the UI.
    pub recovery_key: String,
    pub keyring_warning: Option<String>,
}

impl From<&Created> for SetupDone {
    fn from(c: &Created) -> Self {
        SetupDone {
            recovery_key: c.recovery_key.display_secret().expose().clone(),
            keyring_warning: c.keyring.as_ref().err().map(ToString::to_string),
        }
    }
}

// Forms that carry a secret print it redacted.
impl std::fmt::Debug for SetupForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupForm").field("site_name", &self.site_name).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for SetupDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetupDone").field("keyring_warning", &self.keyring_warning).finish_non_exhaustive()
    }
}

/// Which screen to show. Opens the clinic through the keyring the first time it is asked.
#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, ApiError> {
    state.status()
}

/// First run: creates the clinic and its first admin, and returns the recovery key to show once.
#[tauri::command]
#[specta::specta]
pub async fn setup_clinic(state: State<'_, AppState>, form: SetupForm) -> Result<SetupDone, ApiError> {
    state.create(&form.into())
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_with_admin(state: State<'_, AppState>, username: String, password: String) -> Result<(), ApiError> {
    state.opened(state.vault.unlock_with_admin(&username, &password)?.store);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn unlock_with_recovery_key(state: State<'_, AppState>, recovery_key: String) -> Result<(), ApiError> {
    state.opened(state.vault.unlock_with_recovery(&RecoveryKey::parse(&recovery_key)?)?.store);
    Ok(())
}
