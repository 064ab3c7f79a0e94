//! The verify screen, for anyone at the machine, signed in or not (a pharmacy may run Galen only for this): the
//! trust lists this computer imported, and a document's check from its QR text or its PDF. Nothing here reads
//! the clinic's data; files come only from the shell's own open dialog.

use crate::commands::documents::BodyDto;
use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::SignerDto;
use galen_core::documents::trust::{self, CheckedList, Vouch, MAX_BYTES};
use galen_core::documents::{qr, trust_lists};
use galen_core::pdf;
use serde::Serialize;
use std::io::Read;
use tauri::{State, Window};

/// An imported trust list, as the screen lists it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct TrustListDto {
    pub clinic: String,
    /// The site key's fingerprint, to compare with the clinic.
    pub site_fingerprint: String,
    pub issued_at: String,
    /// How many doctor keys it names.
    pub keys: u32,
}

impl From<&CheckedList> for TrustListDto {
    fn from(c: &CheckedList) -> Self {
        Self {
            clinic: c.list.clinic.clone(),
            site_fingerprint: c.site_fingerprint.clone(),
            issued_at: c.list.issued_at.clone(),
            keys: u32::try_from(c.list.doctors.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The trust lists this computer imported.
#[tauri::command]
#[specta::specta]
pub async fn trust_lists(state: State<'_, AppState>) -> Result<Vec<TrustListDto>, ApiError> {
    Ok(trust_lists::imported(&state.vault).iter().map(Into::into).collect())
}

const TRUST_FILES: (&str, &[&str]) = ("Galen trust list", &["asc", "txt"]);

/// Reads at most `limit` bytes of the file the person chose (and one more, to tell a longer one).
pub(crate) fn read_chosen(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, ApiError> {
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| ApiError::new("unreadable", format!("Cannot read {shown}: {e}")))?;
    if bytes.len() > limit {
        return Err(ApiError::new("too_large", format!("{shown} is too large for what it should be.")));
    }
    Ok(bytes)
}

/// Asks for a trust list file (the dialog titled `title`) and imports it; nothing when the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn trust_list_import(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<TrustListDto>, ApiError> {
    let Some(path) = dialogs::open_from(&window, Ask { title: &title, filter: TRUST_FILES }).await else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&read_chosen(&path, MAX_BYTES)?).into_owned();
    let checked = trust_lists::import(&state.vault, &text).map_err(|e| ApiError::new("trust_list", e.to_string()))?;
    Ok(Some((&checked).into()))
}

/// Forgets the imported list signed by the site key `fingerprint`.
#[tauri::command]
#[specta::specta]
pub async fn trust_list_forget(state: State<'_, AppState>, fingerprint: String) -> Result<bool, ApiError> {
    Ok(trust_lists::forget(&state.vault, &fingerprint))
}

/// One field of a verified QR, as the paper words it; `id` names it for the screen's label.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedFieldDto {
    pub id: String,
    /// The label in English, for a field this screen has no word for.
    pub label: String,
    pub value: String,
    /// A prescription line's number.
    pub number: Option<u32>,
}

/// What checking a QR or a PDF found. `problem` set: it failed (nothing else is shown). Otherwise the signature
/// checks and `vouch` says whether an imported trust list vouches for the signer.
#[derive(Debug, Clone, Default, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct VerifyDto {
    pub problem: Option<String>,
    pub vouch: Option<Vouch>,
    /// The signing key's fingerprint.
    pub fingerprint: Option<String>,
    /// A QR's fields, in the paper's order.
    pub fields: Vec<VerifiedFieldDto>,
    /// A PDF: how many printed pages were found to be exactly what was signed.
    pub pages: Option<u32>,
    /// A PDF: who signed, for whom, when, and what.
    pub signer: Option<SignerDto>,
    pub signed_at: Option<String>,
    pub clinic: Option<String>,
    pub patient_name: Option<String>,
    pub body: Option<BodyDto>,
}

impl VerifyDto {
    fn failed(problem: String) -> Self {
        Self { problem: Some(problem), ..Self::default() }
    }
}

/// Checks QR text (typed, pasted or from a barcode scanner) against the keys of the imported trust lists.
#[tauri::command]
#[specta::specta]
pub async fn verify_qr(state: State<'_, AppState>, text: String, language: String) -> Result<VerifyDto, ApiError> {
    let lists = trust_lists::imported(&state.vault);
    let keys: Vec<&str> = lists.iter().flat_map(|c| &c.list.doctors).map(|d| d.key.as_str()).collect();
    if keys.is_empty() {
        return Err(ApiError::new(
            "no_trust_list",
            "Import the clinic's trust list first: it holds its doctors' keys.",
        ));
    }
    // The values in the reader's language, as their paper words them (the screen words the labels).
    let report = qr::report(&text, &keys, galen_core::documents::wording::Words::of(&language));
    Ok(match report.verdict {
        Err(problem) => VerifyDto::failed(problem.to_string()),
        Ok(v) => VerifyDto {
            vouch: Some(trust::vouch(&lists, &v.fingerprint, &v.signed_at, v.licence.as_deref())),
            fingerprint: Some(v.fingerprint),
            fields: report
                .fields
                .into_iter()
                .map(|f| VerifiedFieldDto { id: f.id.into(), label: f.label, value: f.value, number: f.number })
                .collect(),
            ..VerifyDto::default()
        },
    })
}

const PDF_FILES: (&str, &[&str]) = ("PDF", &["pdf"]);

/// Asks for a Galen PDF (the dialog titled `title`) and checks it, its pages included, with the key it carries;
/// the imported trust lists say whether that key is a doctor's. Nothing when the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn verify_pdf(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<VerifyDto>, ApiError> {
    let Some(path) = dialogs::open_from(&window, Ask { title: &title, filter: PDF_FILES }).await else {
        return Ok(None);
    };
    let bytes = read_chosen(&path, pdf::MAX_PDF_BYTES)?;
    let lists = trust_lists::imported(&state.vault);
    Ok(Some(match pdf::verify_file(&bytes, None) {
        Err(problem) => VerifyDto::failed(problem.to_string()),
        Ok(v) => {
            let s = &v.signed;
            VerifyDto {
                vouch: Some(trust::vouch(&lists, &s.signer.fingerprint, &s.signed_at, Some(&s.signer.licence))),
                fingerprint: Some(v.fingerprint.clone()),
                pages: Some(u32::try_from(v.pages).unwrap_or(u32::MAX)),
                signer: Some(s.signer.clone().into()),
                signed_at: Some(s.signed_at.clone()),
                clinic: Some(s.clinic.clone()),
                patient_name: Some(format!("{} {}", s.patient.given_names, s.patient.family_name)),
                body: s.body().map(Into::into),
                ..VerifyDto::default()
            }
        }
    }))
}
