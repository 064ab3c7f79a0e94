//! Prescriptions and certificates: drafts, warnings, signing, verification on open, corrections and voids.

use crate::dto::{BodyDto, DocumentDto, DocumentSummaryDto, MedicineDto, ReceivedDocumentDto};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::documents::{self, formulary};
use galen_core::sync;
use tauri::State;

/// A draft as the editor and viewer need it: unsigned, with the warnings a signer must acknowledge.
fn draft_dto(c: &galen_core::Clinic, doc: documents::Document) -> Result<DocumentDto, galen_core::Error> {
    let warnings = documents::warnings(c, &doc)?;
    Ok(DocumentDto::new(doc, documents::Verification::Unsigned, warnings))
}

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
    state.with_session(|c, s| {
        let doc = documents::get(c, s, id)?;
        let verification = documents::verify(c, s, id)?;
        let warnings = if doc.signed { Vec::new() } else { documents::warnings(c, &doc)? };
        let qr = documents::qr_text(c, s, id)?;
        Ok(DocumentDto::new(doc, verification, warnings).with_qr(qr))
    })
}

#[tauri::command]
#[specta::specta]
pub async fn document_create(
    state: State<'_, AppState>,
    patient_id: i64,
    body: BodyDto,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| draft_dto(c, documents::create_draft(c, s, patient_id, body.into())?))
}

#[tauri::command]
#[specta::specta]
pub async fn document_update(state: State<'_, AppState>, id: i64, body: BodyDto) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| draft_dto(c, documents::update_draft(c, s, id, body.into())?))
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
        let qr = documents::qr_text(c, s, id)?;
        Ok(DocumentDto::new(documents::get(c, s, id)?, documents::verify(c, s, id)?, Vec::new()).with_qr(qr))
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
        Ok(DocumentDto::new(documents::get(c, s, id)?, documents::verify(c, s, id)?, Vec::new()))
    })
}

/// Starts a correction of a signed document; returns the new draft.
#[tauri::command]
#[specta::specta]
pub async fn document_correct(state: State<'_, AppState>, id: i64) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| draft_dto(c, documents::correct(c, s, id)?))
}

/// Medicines from the bundled formulary whose name starts with `prefix` (for autocomplete).
#[tauri::command]
#[specta::specta]
pub async fn formulary_search(prefix: String) -> Result<Vec<MedicineDto>, ApiError> {
    Ok(formulary::search(&prefix, 12).into_iter().map(Into::into).collect())
}
