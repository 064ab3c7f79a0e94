//! What can go wrong when opening, unlocking or copying the clinic store, and what to do next.
//!
//! Every message names the next step for the person at the keyboard, in words any front end can show; the CLI adds
//! the command to type (`galen_cli`'s `next_step`). No variant carries a secret.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
// Each variant's #[error] message is its documentation.
#[allow(missing_docs)]
pub enum StoreError {
    #[error(
        "No Galen database was found in {dir}. Set up this clinic first, or choose the folder that holds its data."
    )]
    NotInitialized { dir: PathBuf },

    #[error("A Galen database already exists in {dir}; refusing to overwrite it. Choose another folder, or restore a backup to replace it.")]
    AlreadyInitialized { dir: PathBuf },

    #[error("The {backend} keyring is not available ({reason}). Your data is safe: unlock with the admin password or the recovery key.")]
    KeyringUnavailable { backend: &'static str, reason: String },

    #[error("The database key is not in the {backend} keyring (this happens after a new OS user account, a reinstalled desktop, or a cleared keyring). Your data is safe: unlock with the admin password or the recovery key; Galen will store the key in the keyring again.")]
    KeyMissing { backend: &'static str },

    #[error("The key held in the keyring does not open this database (it belongs to another database or was replaced). Unlock with the admin password or the recovery key.")]
    WrongKey,

    #[error("A key rotation was interrupted before it finished. Unlock with the admin password to complete it.")]
    RotationInterrupted,

    #[error(
        "This backup was made with a different database key. Give the recovery key that was current when it was made."
    )]
    BackupNeedsRecoveryKey,

    #[error("Wrong username or password for unlocking this database. Try again, or use the recovery key.")]
    WrongAdminPassword,

    #[error("Too many wrong passwords for unlocking this database. Wait {} before trying again, or use the recovery key.", human_duration(*.retry_after_secs))]
    Throttled { retry_after_secs: u64 },

    #[error("That recovery key does not open this database. Check it against the printed recovery sheet; letters and digits are grouped in fours.")]
    WrongRecoveryKey,

    #[error("That is not a well-formed recovery key: {reason}. It is 32 letters and digits in groups of four, as printed on the recovery sheet.")]
    MalformedRecoveryKey { reason: String },

    #[error("{path} is not a Galen database ({reason}). Check the data folder; if it is the right one, restore it from a backup.")]
    NotGalenDatabase { path: PathBuf, reason: String },

    #[error("The database file is damaged: {} failed the integrity check. Do not keep working on it: restore the latest backup.", describe_pages(.pages, .detail))]
    Corrupted { pages: Vec<u32>, detail: String },

    #[error("This database was written by a newer version of Galen (schema {found}; this build knows up to {supported}). Install the newer Galen to open it; nothing was changed.")]
    NewerSchema { found: u32, supported: u32 },

    #[error("The key file {path} is missing or unreadable ({reason}). Restore it from a backup.")]
    KeyFile { path: PathBuf, reason: String },

    #[error("The backup {path} cannot be used: {reason}. The current data was not touched.")]
    BadBackup { path: PathBuf, reason: String },

    #[error("Could not {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },

    #[error("Database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// A stable code for the kind of failure: what logs record and what the app's screens translate.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotInitialized { .. } => "not_initialized",
            StoreError::AlreadyInitialized { .. } => "already_initialized",
            StoreError::KeyringUnavailable { .. } => "keyring_unavailable",
            StoreError::KeyMissing { .. } => "key_missing",
            StoreError::WrongKey => "wrong_key",
            StoreError::RotationInterrupted => "rotation_interrupted",
            StoreError::BackupNeedsRecoveryKey => "backup_needs_recovery_key",
            StoreError::WrongAdminPassword => "wrong_credentials",
            StoreError::Throttled { .. } => "throttled",
            StoreError::WrongRecoveryKey => "wrong_recovery_key",
            StoreError::MalformedRecoveryKey { .. } => "malformed_recovery_key",
            StoreError::NotGalenDatabase { .. } => "not_galen_database",
            StoreError::Corrupted { .. } => "corrupted",
            StoreError::NewerSchema { .. } => "newer_schema",
            StoreError::KeyFile { .. } => "key_file",
            StoreError::BadBackup { .. } => "bad_backup",
            StoreError::Io { .. } => "io",
            StoreError::Sqlite(_) => "database",
        }
    }
}

fn describe_pages(pages: &[u32], detail: &str) -> String {
    match pages {
        [] => format!("the file ({detail})"),
        [p] => format!("page {p}"),
        many => format!("pages {}", many.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// What opening, unlocking or copying the store returns.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Shorthand for wrapping an `std::io::Error` with what was being done and where.
pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::Io { action, path, source }
}

/// One message for one form field, so a screen can show it next to the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as the form names it (`date_of_birth`, `lines.0.dose`).
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FieldError {
    /// `message` for `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Every field error found in one submission (all of them, not just the first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Just one field's error.
    pub fn one(e: FieldError) -> Self {
        Self(vec![e])
    }

    /// Adds `message` for `field`.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// Adds the errors of another check, if it failed.
    pub fn absorb(&mut self, other: Result<(), FieldErrors>) {
        if let Err(e) = other {
            self.0.extend(e.0);
        }
    }

    /// `Ok` when nothing was wrong, else `Error::Invalid` with every field's message.
    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self))
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        f.write_str(&parts.join("; "))
    }
}

/// What an operation on an open clinic can fail with.
#[derive(Debug, thiserror::Error)]
// Each variant's #[error] message is its documentation.
#[allow(missing_docs)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),

    /// Always this one message, whether the user is unknown, disabled or the password wrong.
    #[error("Wrong username or password.")]
    WrongCredentials,

    #[error("Too many failed sign-in attempts. Wait {} before trying again, or ask an admin to clear the lock.", human_duration(*.retry_after_secs))]
    Throttled { retry_after_secs: u64 },

    #[error("Your password was reset by an admin. Choose a new password to continue.")]
    PasswordChangeRequired,

    #[error("This session is locked. Enter your password to continue.")]
    Locked,

    #[error("Your account is no longer active. Ask an admin.")]
    AccountDisabled,

    #[error("Your role ({role}) does not allow this: {action}.")]
    Denied { role: crate::permissions::Role, action: crate::permissions::Action },

    #[error("Please correct: {0}")]
    Invalid(FieldErrors),

    #[error("{0} was not found.")]
    NotFound(Missing),

    /// The OpenPGP or X.509 library refused a key or a signature it was given to make (not a verification: that
    /// is `DoesNotVerify`).
    #[error("A key or signature could not be made: {0}. Nothing was saved; try again, and tell the clinic's admin if it persists.")]
    Crypto(CryptoFailure),

    #[error("Acknowledge these warnings before signing: {}", join(.0))]
    WarningsNotAcknowledged(Vec<crate::documents::model::Warning>),

    /// A signed document that fails its check never leaves the clinic (printed, exported or shared).
    #[error("Document {document} does not verify ({problem}), so it is not printed or exported. Nothing was changed; tell the clinic's admin.")]
    DoesNotVerify { document: String, problem: crate::documents::model::Problem },

    #[error("Document {id} has been signed and can no longer change. Write a correction, or void it.")]
    AlreadySigned { id: i64 },

    #[error("This may be a patient who is already registered ({} possible match(es)). Check the list; register anyway only if it is a different person.", .0.len())]
    PossibleDuplicates(Vec<crate::patients::model::Candidate>),

    #[error("Sync with the partner did not finish: {0}. Nothing was lost: what was not sent stays queued and is sent at the next sync.")]
    Sync(SyncFailure),

    /// A printout could not be assembled (the PDF library's own words).
    #[error("The PDF could not be made: {0}. Nothing was printed or saved.")]
    Printout(String),
}

/// What was looked for and not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Each variant's #[error] message is its documentation.
#[allow(missing_docs)]
pub enum Missing {
    #[error("Patient {0}")]
    Patient(i64),
    #[error("MRN {0}")]
    Mrn(String),
    #[error("Document {0}")]
    Document(i64),
    #[error("User {0:?}")]
    User(String),
    #[error("Signing key {0}")]
    Key(String),
    #[error("A signing key for {0} (it is created at their first signature)")]
    SigningKeyOf(String),
    #[error("This clinic's site identity (create it first)")]
    SiteIdentity,
    #[error("A partner (pair with one first)")]
    Partner,
    #[error("Open conflict {0}")]
    Conflict(i64),
    #[error("The received document")]
    ReceivedDocument,
}

/// Why the OpenPGP or X.509 library could not make a key or a signature (its own words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Each variant's #[error] message is its documentation.
#[allow(missing_docs)]
pub enum CryptoFailure {
    #[error("OpenPGP: {0}")]
    OpenPgp(String),
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("the new signing key does not unlock with this password")]
    NewKeyLocked,
}

/// Why a sync run stopped, or why one received record was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncFailure {
    /// The network or TLS failed (their own words name the cause: refused, timed out, certificate…).
    #[error("the partner at {url} could not be reached ({cause})")]
    Unreachable {
        /// The partner's address.
        url: String,
        /// The network's or TLS's own words.
        cause: String,
    },
    /// The partner answered with an error.
    #[error("the partner answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: String,
        /// The partner's explanation.
        message: String,
    },
    /// The partner's answer does not fit what was asked.
    #[error("the partner's answer makes no sense: {0}")]
    BadAnswer(String),
    /// The partner sent a page that does not move past what this clinic has (a bug, or a hostile partner): pulling
    /// on would repeat it for ever.
    #[error("the partner repeated a page (sequence {seq} is not after {after}, which this clinic already has); sync stopped rather than pull it again: tell the partner's operator")]
    RepeatedPage {
        /// The cursor, or the page's previous sequence number.
        after: i64,
        /// The sequence number that did not move past it.
        seq: i64,
    },
    /// The partner's answer is larger than any partner sends (`wire::MAX_BODY_BYTES`); the rest was not read.
    #[error("the partner's answer is larger than {} MiB, more than a partner ever sends; sync stopped without reading the rest: tell the partner's operator", galen_proto::wire::MAX_BODY_BYTES >> 20)]
    AnswerTooLarge,
    /// The partner is busy (HTTP 429: this clinic made too many requests) and said when to come back.
    #[error(
        "the partner is busy (this clinic made too many requests); sync tries again by itself in {retry_after_secs} s"
    )]
    Busy {
        /// Seconds the partner asked this clinic to wait (at most an hour).
        retry_after_secs: u64,
    },
    /// This clinic's site identity, or the paired partner's certificate or key, cannot be used.
    #[error("the keys for sync cannot be used: {0}")]
    Keys(String),
    /// The clinic was closed (locked away, restored) while sync was running.
    #[error("the clinic was closed while it ran")]
    ClinicClosed,
    /// A received record whose contents cannot be applied here; it is logged and skipped.
    #[error("{0}")]
    Contents(String),
}

impl Error {
    /// A stable code for the kind of failure: what logs record (never the message, which may name a patient)
    /// and what the app's screens translate.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Store(s) => s.code(),
            Error::WrongCredentials => "wrong_credentials",
            Error::Throttled { .. } => "throttled",
            Error::PasswordChangeRequired => "password_change_required",
            Error::Locked => "locked",
            Error::AccountDisabled => "account_disabled",
            Error::Denied { .. } => "denied",
            Error::Invalid(_) => "invalid",
            Error::NotFound(_) => "not_found",
            Error::Crypto(_) => "crypto",
            Error::WarningsNotAcknowledged(_) => "warnings_not_acknowledged",
            Error::DoesNotVerify { .. } => "does_not_verify",
            Error::AlreadySigned { .. } => "already_signed",
            Error::PossibleDuplicates(_) => "possible_duplicates",
            Error::Sync(SyncFailure::Busy { .. }) => "partner_busy",
            Error::Sync(_) => "sync",
            Error::Printout(_) => "printout",
        }
    }

    /// One field's error: how an operation refuses a form, so the screen shows it next to that field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid(FieldErrors::one(FieldError::new(field, message)))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(StoreError::Sqlite(e))
    }
}

fn join(items: &[impl std::fmt::Display]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

pub(crate) fn human_duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} seconds"),
        60..=3599 => format!("{} minutes", secs.div_ceil(60)),
        _ => format!("{} hour(s)", secs.div_ceil(3600)),
    }
}
