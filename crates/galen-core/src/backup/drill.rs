//! Restore drills: a backup restored into a private copy beside the live database, opened and checked as a
//! restore checks it, and its main tables counted against the live ones. Live data is never touched. Run once a
//! month after a scheduled backup, and whenever an admin asks.

use super::stage;
use crate::audit::table::{self as audit, Actor, Outcome as AuditOutcome};
use crate::clinic::Clinic;
use crate::error::{Error, Result as StoreResult, StoreError};
use crate::permissions::Action;
use crate::session::Session;
use crate::settings::table as settings;
use crate::store::Store;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

const LAST_AT: &str = "backup.last_drill_at";
const LAST_OK: &str = "backup.last_drill_ok";
const LAST_FILE: &str = "backup.last_drill_file";
const LAST_MESSAGE: &str = "backup.last_drill";

/// How often the schedule runs a drill.
pub const EVERY: Duration = Duration::days(30);

/// What a drill counts in the backup and in the live database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Counted {
    /// Registered patients (merged-away records excluded).
    Patients,
    /// Documents: drafts, signed and voided.
    Documents,
    /// Staff accounts.
    Staff,
    /// Rows of the audit trail.
    AuditEntries,
}

impl Counted {
    /// Every count a drill reports, in order.
    pub const ALL: [Counted; 4] = [Counted::Patients, Counted::Documents, Counted::Staff, Counted::AuditEntries];

    /// Its name in a report.
    pub fn label(self) -> &'static str {
        match self {
            Counted::Patients => "patients",
            Counted::Documents => "documents",
            Counted::Staff => "staff accounts",
            Counted::AuditEntries => "audit entries",
        }
    }

    fn count(self, conn: &Connection) -> StoreResult<i64> {
        match self {
            Counted::Patients => crate::patients::table::count(conn),
            Counted::Documents => crate::documents::table::count(conn),
            Counted::Staff => crate::staff::table::count(conn),
            Counted::AuditEntries => Ok(audit::head(conn)?.map_or(0, |h| h.row)),
        }
    }
}

/// A drill that passed: the backup restores, and what it holds beside what the clinic holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The backup drilled.
    pub file: PathBuf,
    /// When it was made (its header's time).
    pub made_at: String,
    /// The schema it was made under.
    pub schema_version: u32,
    /// Each count: (what, in the backup, in the live database).
    pub counts: Vec<(Counted, i64, i64)>,
}

impl Report {
    /// One line: what it holds beside the live database.
    pub fn summary(&self) -> String {
        let counts: Vec<String> =
            self.counts.iter().map(|(what, backup, live)| format!("{} {backup}/{live}", what.label())).collect();
        format!("restores and checks clean; in the backup / now: {}", counts.join(", "))
    }
}

/// The latest drill, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// When it ran.
    pub at: OffsetDateTime,
    /// Whether the backup restored and checked clean.
    pub ok: bool,
    /// The backup it drilled.
    pub file: PathBuf,
    /// The report's summary, or why it failed.
    pub message: String,
}

/// Drills `file` (admins only, on demand; `schedule::drill_newest` drills the newest scheduled generation).
pub fn run_now(clinic: &Clinic, session: &Session, file: &Path) -> Result<Report, Error> {
    let actor = clinic.authorize(session, Action::BackupRestore, None)?;
    run(clinic, &actor, file)
}

/// Restores `file` into a private copy, checks it, counts it against the live database, and records the
/// outcome (shown on the admin's home, audited). The copy is removed whatever happens.
pub(super) fn run(clinic: &Clinic, actor: &Actor, file: &Path) -> Result<Report, Error> {
    let result = drill(clinic, file);
    let now = clinic.now_rfc3339();
    let (ok, message) = match &result {
        Ok(report) => (true, report.summary()),
        Err(e) => (false, e.to_string()),
    };
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    clinic.store().write(|tx| {
        settings::put(tx, LAST_AT, &now)?;
        settings::put(tx, LAST_OK, if ok { "1" } else { "0" })?;
        settings::put(tx, LAST_FILE, &file.to_string_lossy())?;
        settings::put(tx, LAST_MESSAGE, &message)?;
        let outcome = if ok { AuditOutcome::Ok } else { AuditOutcome::Failed };
        audit::record(tx, &now, actor, "backup.drill", ("backup", &name), outcome)
    })?;
    match ok {
        true => tracing::info!("restore drill passed"),
        false => tracing::warn!("restore drill failed"),
    }
    result
}

fn drill(clinic: &Clinic, file: &Path) -> Result<Report, Error> {
    let live = clinic.store();
    let staged = stage(clinic.vault(), file, |key_file| match key_file.matches(live.dek()) {
        true => Ok(live.dek().clone()),
        // Made under an earlier key (before a rotation): it needs that key's recovery key, which a drill has not.
        false => Err(StoreError::BackupNeedsRecoveryKey),
    })?;
    if staged.db_id != live.db_id()? {
        return Err(StoreError::BadBackup { path: file.to_owned(), reason: "it is another clinic's".into() }.into());
    }
    let mut counts = Vec::new();
    for what in Counted::ALL {
        counts.push((what, what.count(staged.store.conn())?, what.count(live.conn())?));
    }
    Ok(Report {
        file: file.to_owned(),
        made_at: staged.header.created_at.clone(),
        schema_version: staged.header.schema_version,
        counts,
    })
}

/// Whether the schedule's monthly drill is due.
pub(super) fn due(store: &Store, now: OffsetDateTime) -> StoreResult<bool> {
    Ok(last(store)?.is_none_or(|d| now - d.at >= EVERY))
}

/// The latest drill, if one ran.
pub fn last(store: &Store) -> StoreResult<Option<Outcome>> {
    let conn = store.conn();
    let Some(at) = settings::get(conn, LAST_AT)?.and_then(|t| crate::clock::parse_rfc3339(&t)) else {
        return Ok(None);
    };
    Ok(Some(Outcome {
        at,
        ok: settings::get(conn, LAST_OK)?.as_deref() == Some("1"),
        file: PathBuf::from(settings::get(conn, LAST_FILE)?.unwrap_or_default()),
        message: settings::get(conn, LAST_MESSAGE)?.unwrap_or_default(),
    }))
}
