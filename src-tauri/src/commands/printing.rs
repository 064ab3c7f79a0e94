//! Printouts: a signed document, a patient's ID card and labels, a doctor's day list, an appointment card, a
//! patient's access report, or the recovery sheet, saved as PDF where the user chose in the native dialog, or
//! sent down the system print path (galen-core decides which).

use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::pdf::{self, print::Route, Pdf, Printout};
use galen_core::RecoveryKey;
use serde::{Deserialize, Serialize};
use tauri::{State, Window};

/// What to print or save as PDF.
#[derive(Clone, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrintoutDto {
    Document {
        id: i64,
    },
    PatientCard {
        #[serde(rename = "patientId")]
        patient_id: i64,
    },
    DayList {
        date: String,
        #[serde(rename = "doctorId")]
        doctor_id: i64,
    },
    AppointmentCard {
        #[serde(rename = "appointmentId")]
        appointment_id: i64,
    },
    AccessReport {
        mrn: String,
    },
    RecoverySheet {
        #[serde(rename = "recoveryKey")]
        recovery_key: String,
    },
}

impl std::fmt::Debug for PrintoutDto {
    // The recovery key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrintoutDto::Document { id } => write!(f, "Document({id})"),
            PrintoutDto::PatientCard { patient_id } => write!(f, "PatientCard({patient_id})"),
            PrintoutDto::DayList { date, doctor_id } => write!(f, "DayList({date:?}, {doctor_id})"),
            PrintoutDto::AppointmentCard { appointment_id } => write!(f, "AppointmentCard({appointment_id})"),
            PrintoutDto::AccessReport { mrn } => write!(f, "AccessReport({mrn:?})"),
            PrintoutDto::RecoverySheet { .. } => f.write_str("RecoverySheet(..)"),
        }
    }
}

/// How a print left Galen; the UI says it in the reader's language.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "route", rename_all = "camelCase")]
pub enum PrintedDto {
    /// Queued with CUPS; `answer` is lp's.
    Printer { answer: String },
    /// Opened in the PDF viewer from `path`; `printerRefused` is why a printer did not take it (lp's words).
    Viewer {
        path: String,
        #[serde(rename = "printerRefused")]
        printer_refused: Option<String>,
    },
    /// No printer or viewer: the PDF waits at `path` until lock or sign-out.
    Saved { path: String },
    /// The recovery sheet, which no printer took: written nowhere.
    NotPrinted,
}

impl From<Route> for PrintedDto {
    fn from(route: Route) -> Self {
        match route {
            Route::Printer { answer } => PrintedDto::Printer { answer },
            Route::Viewer { path, printer_refused, .. } => {
                PrintedDto::Viewer { path: path.display().to_string(), printer_refused }
            }
            Route::Saved { path, .. } => PrintedDto::Saved { path: path.display().to_string() },
            Route::NotPrinted { .. } => PrintedDto::NotPrinted,
        }
    }
}

fn render(state: &AppState, what: PrintoutDto) -> Result<Pdf, ApiError> {
    let printout = match what {
        PrintoutDto::Document { id } => Printout::Document(id),
        PrintoutDto::PatientCard { patient_id } => Printout::PatientCard(patient_id),
        PrintoutDto::DayList { date, doctor_id } => Printout::DayList { date, doctor_id },
        PrintoutDto::AppointmentCard { appointment_id } => Printout::AppointmentCard(appointment_id),
        PrintoutDto::AccessReport { mrn } => Printout::AccessReport(mrn),
        // Knowing the current recovery key is the permission, so this works right after setup.
        PrintoutDto::RecoverySheet { recovery_key } => {
            return state.with_clinic(|c| pdf::recovery_sheet(c, &RecoveryKey::parse(&recovery_key)?));
        }
    };
    state.with_session(|c, s| pdf::render(c, s, &printout))
}

/// Asks where to save the PDF (the dialog titled `title`) and writes it there: the path written, or nothing when
/// the person cancelled. Rendering checks the permission before the dialog opens.
#[tauri::command]
#[specta::specta]
pub async fn printout_save(
    window: Window,
    state: State<'_, AppState>,
    what: PrintoutDto,
    title: String,
) -> Result<Option<String>, ApiError> {
    let pdf = render(&state, what)?;
    let ask = Ask { title: &title, filter: ("PDF", &["pdf"]) };
    let Some(path) = dialogs::save_to(&window, ask, &pdf.file_name).await else { return Ok(None) };
    let written = state.with_clinic(|c| pdf::save(c, &pdf, &path))?;
    Ok(Some(written.display().to_string()))
}

/// Prints through CUPS, or opens the PDF viewer, or says where the PDF was saved.
#[tauri::command]
#[specta::specta]
pub async fn printout_print(state: State<'_, AppState>, what: PrintoutDto) -> Result<PrintedDto, ApiError> {
    let pdf = render(&state, what)?;
    let printed = state.with_clinic(|c| pdf::print::print(c, &pdf, &pdf::print::Tools::from_path()))?;
    Ok(printed.into())
}

/// Re-keys the database and issues a new recovery key (admins, with their password again); the old one, and old
/// copies of the key file, stop working.
#[tauri::command]
#[specta::specta]
pub async fn recovery_key_replace(state: State<'_, AppState>, password: String) -> Result<String, ApiError> {
    state.with_session_mut(|c, s| Ok(shown(&c.rotate_key(s, &password)?)))
}

/// A new recovery key as the admin sees it once, to write down or print.
pub fn shown(key: &RecoveryKey) -> String {
    key.display_secret().expose().clone()
}
