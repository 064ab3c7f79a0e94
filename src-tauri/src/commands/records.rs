//! Whole records in and out, in HL7 FHIR: the copy of a record a patient asks for (a folder the person names in
//! the shell's save dialog), and importing patients from another system's file (chosen in the shell's open
//! dialog; the file stays here, in memory, between its preview and the import, never named by the page).

use crate::dialogs::{self, Ask};
use crate::error::{ApiError, FieldMessage};
use crate::state::AppState;
use crate::wire::PatientSummaryDto;
use galen_core::fhir::{self, Verdict};
use galen_core::Action;
use serde::Serialize;
use tauri::{State, Window};

/// The record copy written: its folder and files.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecordCopyDto {
    pub folder: String,
    pub files: Vec<String>,
    /// Signed documents left out because they do not verify (their uuids).
    pub left_out: Vec<String>,
}

/// Asks for a new folder's name (the save dialog titled `title`) and writes the patient's record copy in it, or
/// nothing when the person cancelled. The permission is checked before the dialog opens.
#[tauri::command]
#[specta::specta]
pub async fn record_copy(
    window: Window,
    state: State<'_, AppState>,
    patient_id: i64,
    title: String,
) -> Result<Option<RecordCopyDto>, ApiError> {
    let name = state.with_session(|c, s| fhir::record_copy_name(c, s, patient_id))?;
    let ask = Ask { title: &title, filter: ("Folder", &["*"]) };
    let Some(folder) = dialogs::save_to(&window, ask, &name).await else { return Ok(None) };
    let copy = state.with_session(|c, s| fhir::record_copy(c, s, patient_id, &folder))?;
    Ok(Some(RecordCopyDto { folder: copy.folder.display().to_string(), files: copy.files, left_out: copy.left_out }))
}

/// One patient of an import file and what would become of them.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PlannedDto {
    pub source: String,
    pub name: String,
    pub birth_date: String,
    pub allergies: u32,
    pub conditions: u32,
    pub clinical_left_out: u32,
    /// `ready`, `duplicate` or `refused`.
    pub outcome: &'static str,
    /// The patients already here they may be (`duplicate`).
    pub candidates: Vec<PatientSummaryDto>,
    /// Why not (`refused`), each field as FHIR names it.
    pub problems: Vec<FieldMessage>,
}

/// What importing the chosen file would do.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ImportPlanDto {
    /// The file's name, to show.
    pub file: String,
    pub patients: Vec<PlannedDto>,
    pub not_imported: Vec<String>,
}

const FHIR_FILES: (&str, &[&str]) = ("FHIR (JSON, NDJSON)", &["json", "ndjson"]);

/// Asks for a FHIR file (the open dialog titled `title`), keeps it, and says what importing it would do; nothing
/// when the person cancelled. The permission is checked before the dialog opens.
#[tauri::command]
#[specta::specta]
pub async fn record_import_preview(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<ImportPlanDto>, ApiError> {
    state.with_session(|c, s| c.authorize(s, Action::RecordImport, None).map(drop))?;
    let Some(path) = dialogs::open_from(&window, Ask { title: &title, filter: FHIR_FILES }).await else {
        return Ok(None);
    };
    let bytes = super::verify::read_chosen(&path, fhir::MAX_IMPORT_BYTES)?;
    let plan = state.with_session(|c, s| fhir::plan(c, s, &bytes))?;
    state.keep_import_file(bytes);
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Some(ImportPlanDto {
        file,
        not_imported: plan.not_imported,
        patients: plan
            .patients
            .into_iter()
            .map(|p| {
                let (outcome, candidates, problems) = match p.outcome {
                    Verdict::Ready => ("ready", Vec::new(), Vec::new()),
                    Verdict::LikelyDuplicate(c) => {
                        ("duplicate", c.into_iter().map(|c| c.patient.into()).collect(), Vec::new())
                    }
                    Verdict::Refused(errors) => (
                        "refused",
                        Vec::new(),
                        errors.into_iter().map(|e| FieldMessage { field: e.field, message: e.message }).collect(),
                    ),
                };
                let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
                PlannedDto {
                    source: p.source,
                    name: p.name,
                    birth_date: p.birth_date,
                    allergies: count(p.allergies),
                    conditions: count(p.conditions),
                    clinical_left_out: count(p.clinical_left_out),
                    outcome,
                    candidates,
                    problems,
                }
            })
            .collect(),
    }))
}

/// Imports the file last previewed: every patient in one go, or none (`force` registers likely duplicates, and
/// is logged). The file is forgotten once imported.
#[tauri::command]
#[specta::specta]
pub async fn record_import(state: State<'_, AppState>, force: bool) -> Result<Vec<PatientSummaryDto>, ApiError> {
    state.with_session(|c, s| c.authorize(s, Action::RecordImport, None).map(drop))?;
    let bytes = state.kept_import_file().ok_or_else(|| ApiError::new("invalid", "Choose a file to import first."))?;
    let done = state.with_session(|c, s| fhir::import(c, s, &bytes, force))?;
    state.forget_import_file();
    Ok(done.patients.into_iter().map(Into::into).collect())
}

/// Forgets the file last previewed (the person cancelled).
#[tauri::command]
#[specta::specta]
pub async fn record_import_cancel(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.forget_import_file();
    Ok(())
}
