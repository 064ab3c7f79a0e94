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
    /// Seconds to wait, for `throttled`.
    pub retry_after_secs: Option<u32>,
    /// The patients this one may duplicate, for `possible_duplicates`.
    pub candidates: Vec<crate::wire::PatientSummaryDto>,
    /// What must be acknowledged, for `warnings_not_acknowledged`.
    pub warnings: Vec<galen_core::documents::Warning>,
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
            candidates: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        let code = match &e {
            Error::Store(s) => return s.into(),
            Error::WrongCredentials => "wrong_credentials",
            Error::Throttled { retry_after_secs } => {
                let mut api = ApiError::new("throttled", message);
                api.retry_after_secs = Some(u32::try_from(*retry_after_secs).unwrap_or(u32::MAX));
                return api;
            }
            Error::PasswordChangeRequired => "password_change_required",
            Error::Locked => "locked",
            Error::AccountDisabled => "account_disabled",
            Error::Denied { .. } => "denied",
            Error::NotFound { .. } => "not_found",
            Error::Crypto(_) => "crypto",
            Error::DoesNotVerify { .. } => "does_not_verify",
            Error::Printout(_) => "printout",
            Error::WarningsNotAcknowledged(warnings) => {
                let mut api = ApiError::new("warnings_not_acknowledged", message);
                api.warnings = warnings.clone();
                return api;
            }
            Error::AlreadySigned { .. } => "already_signed",
            Error::Sync { .. } => "sync",
            Error::PossibleDuplicates(candidates) => {
                let mut api = ApiError::new("possible_duplicates", message);
                api.candidates = candidates.iter().map(|c| c.patient.clone().into()).collect();
                return api;
            }
            Error::Invalid(fields) => {
                let mut api = ApiError::new("invalid", message);
                api.fields = fields
                    .0
                    .iter()
                    .map(|f| FieldMessage { field: f.field.clone(), message: f.message.clone() })
                    .collect();
                return api;
            }
        };
        ApiError::new(code, message)
    }
}

impl From<&StoreError> for ApiError {
    fn from(e: &StoreError) -> Self {
        let code = match e {
            StoreError::NotInitialized { .. } => "not_initialized",
            StoreError::KeyringUnavailable { .. } => "keyring_unavailable",
            StoreError::KeyMissing { .. } => "key_missing",
            StoreError::WrongKey => "wrong_key",
            StoreError::WrongAdminPassword => "wrong_credentials",
            StoreError::WrongRecoveryKey => "wrong_recovery_key",
            StoreError::MalformedRecoveryKey { .. } => "malformed_recovery_key",
            StoreError::Corrupted { .. } => "corrupted",
            StoreError::NewerSchema { .. } => "newer_schema",
            StoreError::BadBackup { .. } => "bad_backup",
            StoreError::BackupNeedsRecoveryKey => "backup_needs_recovery_key",
            _ => "store",
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        (&e).into()
    }
}
