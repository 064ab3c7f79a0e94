//! The one error the UI sees: `{code, message, fields}`, so a screen can put each message beside its field. The
//! UI translates `code` (and, for `warnings_not_acknowledged`, the typed `warnings`); `message` is galen-core's
//! English, shown when it has no translation.

use galen_core::{Error, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// A stable, machine-readable code the UI translates (e.g. `wrong_credentials`, `invalid`).
    pub code: &'static str,
    /// English text from galen-core, shown when the UI has no translation for `code`.
    pub message: String,
    /// One message per form field at fault (`invalid` only).
    pub fields: Vec<FieldMessage>,
    /// Seconds to wait, for `throttled` and `partner_busy`.
    pub retry_after_secs: Option<u32>,
    // The typed details of three codes, boxed slices so every command's `Result` stays small.
    /// The patients this one may duplicate, for `possible_duplicates`.
    pub candidates: Box<[crate::wire::PatientSummaryDto]>,
    /// What must be acknowledged, for `warnings_not_acknowledged`.
    pub warnings: Box<[galen_core::documents::Warning]>,
    /// What needs confirming, for `booking_needs_confirmation`.
    pub booking_warnings: Box<[galen_core::appointments::BookingWarning]>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after_secs: None,
            candidates: Box::default(),
            warnings: Box::default(),
            booking_warnings: Box::default(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let mut api = ApiError::new(e.code(), e.to_string());
        match e {
            Error::Throttled { retry_after_secs }
            | Error::Sync(galen_core::error::SyncFailure::Busy { retry_after_secs }) => {
                api.retry_after_secs = Some(u32::try_from(retry_after_secs).unwrap_or(u32::MAX));
            }
            Error::PossibleDuplicates(candidates) => {
                api.candidates = candidates.into_iter().map(|c| c.patient.into()).collect();
            }
            Error::WarningsNotAcknowledged(warnings) => api.warnings = warnings.into(),
            Error::BookingNeedsConfirmation(warnings) => api.booking_warnings = warnings.into(),
            Error::Invalid(fields) => {
                api.fields =
                    fields.0.into_iter().map(|f| FieldMessage { field: f.field, message: f.message }).collect();
            }
            _ => {}
        }
        api
    }
}

impl From<&StoreError> for ApiError {
    fn from(e: &StoreError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        (&e).into()
    }
}
