//! Printouts: a signed document, a patient's ID card and labels, or the recovery sheet, saved as PDF where the
//! user chose in the native dialog, or sent down the system print path (galen-core decides which).

use crate::dto::{PrintedDto, PrintoutDto};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::pdf::{self, Pdf, Printout};
use galen_core::RecoveryKey;
use std::path::PathBuf;
use tauri::State;

fn render(state: &AppState, what: PrintoutDto) -> Result<Pdf, ApiError> {
    match what {
        PrintoutDto::Document { id } => state.with_session(|c, s| pdf::render(c, s, &Printout::Document(id))),
        PrintoutDto::PatientCard { patient_id } => {
            state.with_session(|c, s| pdf::render(c, s, &Printout::PatientCard(patient_id)))
        }
        // Knowing the current recovery key is the permission, so this works right after setup.
        PrintoutDto::RecoverySheet { recovery_key } => {
            state.with_clinic(|c| pdf::recovery_sheet(c, &RecoveryKey::parse(&recovery_key)?))
        }
    }
}

/// Writes the PDF to `path` (from the save dialog); returns the path written.
#[tauri::command]
#[specta::specta]
pub async fn printout_save(state: State<'_, AppState>, what: PrintoutDto, path: String) -> Result<String, ApiError> {
    let pdf = render(&state, what)?;
    let written = state.with_clinic(|c| pdf::save(c, &pdf, &PathBuf::from(&path)))?;
    Ok(written.display().to_string())
}

/// Prints through CUPS, or opens the PDF viewer, or says where the PDF was saved.
#[tauri::command]
#[specta::specta]
pub async fn printout_print(state: State<'_, AppState>, what: PrintoutDto) -> Result<PrintedDto, ApiError> {
    let pdf = render(&state, what)?;
    let printed = state.with_clinic(|c| pdf::print::print(c, &pdf, &pdf::print::Tools::from_path()))?;
    Ok(printed.into())
}

/// Issues a new recovery key (admins, with their password again); the old one stops working.
#[tauri::command]
#[specta::specta]
pub async fn recovery_key_replace(state: State<'_, AppState>, password: String) -> Result<String, ApiError> {
    state.with_session(|c, s| Ok(c.replace_recovery_key(s, &password)?.display_secret().expose().clone()))
}
