//! Prescriptions and certificates: drafts, warnings, signing, verification on open, corrections and voids.

use crate::dto::{BodyDto, DocumentDto, DocumentSummaryDto, MedicineDto, ReceivedDocumentDto};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::documents::{self, formulary};
use galen_core::sync;
use tauri::State;

#[tauri::command]
#[specta::specta]
pub async fn document_list(state: State<'_, AppState>, patient_id: i64) -> Result<Vec<DocumentSummaryDto>, ApiError> {
    state.with_session(|c, s| Ok(documents::list_for_patient(c, s, patient_id)?.into_iter().map(Into::into).collect()))
}

/// The documents other sites shared about this patient (through the partner), newest first.
#[tauri::command]
#[specta::specta]
pub async fn received_list(state: State<'_, AppState>, patient_id: i64) -> Result<Vec<ReceivedDocumentDto>, ApiError> {
    state.with_session(|c, s| {
        Ok(sync::received_for_patient(c, s, patient_id)?.iter().map(ReceivedDocumentDto::summary).collect())
    })
}

/// One received document, its doctor's signature checked afresh.
#[tauri::command]
#[specta::specta]
pub async fn received_get(
    state: State<'_, AppState>,
    patient_id: i64,
    uuid: String,
) -> Result<ReceivedDocumentDto, ApiError> {
    state.with_session(|c, s| Ok(ReceivedDocumentDto::whole(&sync::received_document(c, s, patient_id, &uuid)?)))
}

/// One document, with its signature checked afresh and the warnings a signer must acknowledge.
#[tauri::command]
#[specta::specta]
pub async fn document_get(state: State<'_, AppState>, id: i64) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| Ok(documents::open(c, s, id)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn document_create(
    state: State<'_, AppState>,
    patient_id: i64,
    body: BodyDto,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| {
        let draft = documents::create_draft(c, s, patient_id, body.into())?;
        Ok(documents::open(c, s, draft.id)?.into())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn document_update(state: State<'_, AppState>, id: i64, body: BodyDto) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| {
        documents::update_draft(c, s, id, body.into())?;
        Ok(documents::open(c, s, id)?.into())
    })
}

/// Signs with the doctor's password, typed again; the warnings must have been acknowledged.
#[tauri::command]
#[specta::specta]
pub async fn document_sign(
    state: State<'_, AppState>,
    id: i64,
    password: String,
    warnings_acknowledged: bool,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| {
        documents::sign(c, s, id, &password, warnings_acknowledged)?;
        Ok(documents::open(c, s, id)?.into())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn document_void(
    state: State<'_, AppState>,
    id: i64,
    reason: String,
    password: String,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| {
        documents::void(c, s, id, &reason, &password)?;
        Ok(documents::open(c, s, id)?.into())
    })
}

/// Starts a correction of a signed document; returns the new draft.
#[tauri::command]
#[specta::specta]
pub async fn document_correct(state: State<'_, AppState>, id: i64) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| {
        let draft = documents::correct(c, s, id)?;
        Ok(documents::open(c, s, draft.id)?.into())
    })
}

/// Medicines from the bundled formulary whose name starts with `prefix` (for autocomplete).
#[tauri::command]
#[specta::specta]
pub async fn formulary_search(prefix: String) -> Result<Vec<MedicineDto>, ApiError> {
    Ok(formulary::search(&prefix, 12).into_iter().map(Into::into).collect())
}
