//! The patient registry: search as you type, register and edit, the chart, and merge.

use crate::dto::{PatientDto, PatientForm, SearchPageDto};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::patients::{self, search, NewPatient};
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn patient_search(state: State<'_, AppState>, query: String, page: u32) -> Result<SearchPageDto, ApiError> {
    state.with_session(|c, s| Ok(search::search(c, s, &query, page, 20)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn patient_get(state: State<'_, AppState>, id: i64) -> Result<PatientDto, ApiError> {
    state.with_session(|c, s| Ok(patients::get(c, s, id)?.into()))
}

/// Registers (no `id`) or edits a patient. Clinical fields are saved only when the form carries them; galen-core
/// refuses them for roles without clinical access. Likely duplicates come back as `possible_duplicates`.
#[tauri::command]
#[specta::specta]
pub async fn patient_save(
    state: State<'_, AppState>,
    id: Option<i64>,
    form: PatientForm,
    override_duplicates: bool,
) -> Result<PatientDto, ApiError> {
    let (demographics, clinical) = form.into_parts();
    state.with_session(|c, s| {
        let saved = match id {
            None => patients::register(c, s, &NewPatient { demographics, clinical }, override_duplicates)?,
            Some(id) => {
                let p = patients::update_demographics(c, s, id, &demographics)?;
                match clinical {
                    Some(clinical) => patients::update_clinical(c, s, p.id, &clinical)?,
                    None => p,
                }
            }
        };
        Ok(saved.into())
    })
}

/// Merges the patient with MRN `duplicate_mrn` into `keep` (doctors and admins).
#[tauri::command]
#[specta::specta]
pub async fn patient_merge(
    state: State<'_, AppState>,
    keep: i64,
    duplicate_mrn: String,
) -> Result<PatientDto, ApiError> {
    state.with_session(|c, s| {
        let duplicate = patients::find_by_mrn(c, s, &duplicate_mrn)?;
        Ok(patients::merge(c, s, keep, duplicate.id)?.into())
    })
}
