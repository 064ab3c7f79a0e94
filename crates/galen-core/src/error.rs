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

    #[error("The database file {path} is damaged: {} failed the integrity check. Do not keep working on it: restore the latest backup.", describe_pages(.pages, .detail))]
    Corrupted { path: PathBuf, pages: Vec<u32>, detail: String },

    #[error("The database's write-ahead log {path} is missing: it holds the latest saved changes, not yet copied into the database. If it was moved or deleted, put it back beside the database and open again. If there is no copy, restore the latest backup (or delete {} too, to open the data as it was before those changes).", shm_of(.path).display())]
    WalMissing { path: PathBuf },

    #[error("This database was written by a newer version of Galen (schema {found}; this build knows up to {supported}). Install the newer Galen to open it; nothing was changed.")]
    NewerSchema { found: u32, supported: u32 },

    #[error("The key file {path} is missing or unreadable ({reason}). Restore it from a backup.")]
    KeyFile { path: PathBuf, reason: String },

    #[error("The backup {path} cannot be used: {reason}. The current data was not touched.")]
    BadBackup { path: PathBuf, reason: String },

    #[error("The backup folder {folder} is not there (is its drive plugged in, or its network share connected?), so no backup was made. Connect it, or choose another folder for backups; the backups already made are untouched.")]
    BackupFolderMissing { folder: PathBuf },

    #[error("No backup folder is set, so there is no scheduled backup to make. An admin sets one in Settings → Backups, or with `galen backup schedule set`.")]
    BackupNotScheduled,

    #[error("There is no backup of this clinic in {folder} yet. Make one first.")]
    NoBackupYet { folder: PathBuf },

    #[error("The disk holding {path} is full, so this was not saved. Free some space on it and try again; nothing that was saved before is lost.")]
    DiskFull { path: PathBuf },

    #[error("{path} is on a read-only disk or folder, so Galen cannot save to it. Make it writable again (check the disk is mounted read-write and not locked); nothing that was saved before is lost.")]
    ReadOnly { path: PathBuf },

    #[error("Galen may not {action} {path}: it belongs to {owner}, but Galen runs as {user}, and Galen keeps its files for their owner only. Give it back to {user} (for example: sudo chown -R {user} {dir}), or run Galen as {owner}; nothing was changed.", dir = .path.parent().unwrap_or(.path).display())]
    PermissionDenied { action: &'static str, path: PathBuf, owner: String, user: String },

    #[error("Another Galen program on this computer (the app, or a `galen` command) kept the clinic's database busy for over {seconds} seconds, so this was not saved. Try again in a moment; nothing that was saved before is lost.")]
    Busy { seconds: u64 },

    #[error("The database could not be re-encrypted under a new key, so it stays under its current key, which still opens it. Nothing was changed; try again, and tell the clinic's admin if it persists.")]
    RekeyNotWritten,

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
            StoreError::WalMissing { .. } => "wal_missing",
            StoreError::NewerSchema { .. } => "newer_schema",
            StoreError::KeyFile { .. } => "key_file",
            StoreError::BadBackup { .. } => "bad_backup",
            StoreError::BackupFolderMissing { .. } => "backup_folder_missing",
            StoreError::BackupNotScheduled => "backup_not_scheduled",
            StoreError::NoBackupYet { .. } => "no_backup_yet",
            StoreError::DiskFull { .. } => "disk_full",
            StoreError::ReadOnly { .. } => "read_only",
            StoreError::PermissionDenied { .. } => "permission_denied",
            StoreError::Busy { .. } => "database_busy",
            StoreError::RekeyNotWritten => "rekey_not_written",
            StoreError::Io { .. } => "io",
            StoreError::Sqlite(_) => "database",
        }
    }
}

/// How long a write waits for another process's writer before giving up with [`StoreError::Busy`].
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The write-ahead log's index beside it (`galen.db-wal` → `galen.db-shm`).
fn shm_of(wal: &std::path::Path) -> PathBuf {
    let text = wal.display().to_string();
    PathBuf::from(text.strip_suffix("-wal").map_or_else(|| format!("{text}-shm"), |db| format!("{db}-shm")))
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

/// Shorthand for wrapping an `std::io::Error` with what was being done and where: a full disk, a read-only disk
/// and a file that belongs to someone else get their own kinds (see [`StoreError::from_io`]).
pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.into();
    move |source| StoreError::from_io(action, path, source)
}

impl StoreError {
    /// What failed doing `action` on `path`, said in the user's terms where the OS said something they can act on.
    pub(crate) fn from_io(action: &'static str, path: PathBuf, source: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match source.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge => {
                StoreError::DiskFull { path }
            }
            ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly { path },
            ErrorKind::PermissionDenied => {
                let (owner, user) = owners(&path);
                StoreError::PermissionDenied { action, path, owner, user }
            }
            _ => StoreError::Io { action, path, source },
        }
    }

    /// What SQLite's failure on the database file `db` means for the user: a full disk, a read-only one, or a
    /// file Galen may not touch get their own kinds; anything else stays a database error.
    pub(crate) fn from_sqlite(e: rusqlite::Error, db: &std::path::Path) -> Self {
        use rusqlite::ErrorCode;
        let Some(code) = e.sqlite_error_code() else { return StoreError::Sqlite(e) };
        let dir = db.parent().unwrap_or(db);
        match code {
            ErrorCode::DiskFull => StoreError::DiskFull { path: dir.to_owned() },
            // Past the busy timeout: another process held the write lock all that time.
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Busy { seconds: BUSY_TIMEOUT.as_secs() },
            ErrorCode::DatabaseCorrupt => {
                StoreError::Corrupted { path: db.to_owned(), pages: Vec::new(), detail: e.to_string() }
            }
            ErrorCode::ReadOnly => match first_unwritable(db) {
                Some(StoreError::PermissionDenied { action, path, owner, user }) => {
                    StoreError::PermissionDenied { action, path, owner, user }
                }
                _ => StoreError::ReadOnly { path: dir.to_owned() },
            },
            ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::SystemIoFailure => {
                first_unwritable(db).unwrap_or(StoreError::Sqlite(e))
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

/// Why the database, its companions or its folder cannot be written, found by trying: the first of them that
/// refuses, as a typed error (`None` when all of them take a write, so the cause was something else).
fn first_unwritable(db: &std::path::Path) -> Option<StoreError> {
    use std::io::Write;
    let dir = db.parent().unwrap_or(db);
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", db.display()));
        match std::fs::OpenOptions::new().read(true).write(true).open(&file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Some(StoreError::from_io("open", file, e)),
            Ok(_) => {}
        }
    }
    // A write into the folder: a full disk refuses it (a few pages, what the next commit would need).
    let probe = tempfile::Builder::new().prefix(".galen-probe").tempfile_in(dir);
    match probe {
        Err(e) => Some(StoreError::from_io("write in", dir.to_owned(), e)),
        Ok(mut f) => match f.write_all(&[0u8; 64 * 1024]).and_then(|()| f.as_file().sync_all()) {
            Err(e) => Some(StoreError::from_io("write in", dir.to_owned(), e)),
            Ok(()) => None,
        },
    }
}

/// Whether the disk holding `dir` has less than `need` bytes free for this user (`false` when it cannot tell).
pub(crate) fn lacks_room(dir: &std::path::Path, need: u64) -> bool {
    #[cfg(unix)]
    {
        rustix::fs::statvfs(dir).is_ok_and(|s| s.f_bavail.saturating_mul(s.f_frsize) < need)
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, need);
        false
    }
}

/// Who owns `path` (or the nearest folder above it that exists) and who Galen runs as, by name where the system
/// names them.
fn owners(path: &std::path::Path) -> (String, String) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = path.ancestors().find_map(|p| std::fs::metadata(p).ok()).map(|m| m.uid());
        // The process's own files show who it runs as, with no unsafe call.
        let user = std::fs::metadata("/proc/self").ok().map(|m| m.uid());
        let name = |uid: Option<u32>| match uid {
            Some(uid) => user_name(uid).unwrap_or_else(|| format!("user {uid}")),
            None => "another user".to_owned(),
        };
        (name(owner), name(user))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        ("another user".to_owned(), "this user".to_owned())
    }
}

/// The login name of `uid`, from the system's user list.
#[cfg(unix)]
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_owned())
    })
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

    #[error("Confirm before booking: {}", join(.0))]
    BookingNeedsConfirmation(Vec<crate::appointments::model::BookingWarning>),

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
    #[error("Appointment {0}")]
    Appointment(i64),
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
    /// The server at the partner's address did not prove it is the paired partner: its certificate expired, or
    /// the partner's certificate authority did not issue it (another server answering there). Nothing was sent.
    #[error("the server at {url} did not prove it is the paired partner ({cause}), so nothing was sent to it. If the partner's certificate expired or its operator set up a new one, ask them to renew it or pair again; otherwise another server may be answering at that address")]
    NotThePartner {
        /// The partner's address.
        url: String,
        /// TLS's own words (expired, unknown issuer…).
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
            Error::BookingNeedsConfirmation(_) => "booking_needs_confirmation",
            Error::Sync(SyncFailure::Busy { .. }) => "partner_busy",
            Error::Sync(SyncFailure::NotThePartner { .. }) => "partner_certificate",
            Error::Sync(SyncFailure::Unreachable { .. }) => "partner_unreachable",
            Error::Sync(SyncFailure::Refused { .. }) => "partner_refused",
            Error::Sync(SyncFailure::BadAnswer(_)) => "partner_bad_answer",
            Error::Sync(SyncFailure::RepeatedPage { .. }) => "partner_repeated_page",
            Error::Sync(SyncFailure::AnswerTooLarge) => "partner_answer_too_large",
            Error::Sync(SyncFailure::Keys(_)) => "sync_keys",
            Error::Sync(SyncFailure::ClinicClosed) => "sync_interrupted",
            Error::Sync(SyncFailure::Contents(_)) => "sync_contents",
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
