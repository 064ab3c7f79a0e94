//! Backups that happen by themselves. An admin sets a folder (an external drive, a network share, a synced
//! folder), a time of day and/or "when the app closes", and how many to keep; the app while it is open, and the
//! CLI from a system timer, make each backup that is due (catching up one that was missed), verified before it
//! takes its name, and only then prune older generations by the rule.
//!
//! A generation's name carries its database and the moment it was made (`galen-2026-12-01T180000Z-1a2b3c4d.galenbak`),
//! so pruning never touches a file this clinic did not write there, and its time survives a copy.

use super::{drill, remove_leftovers, write_backup};
use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{io, Error, FieldErrors, Result as StoreResult, StoreError};
use crate::keyfile::sync_dir;
use crate::permissions::Action;
use crate::session::Session;
use crate::settings::table as settings;
use crate::store::Store;
use jiff::tz::TimeZone;
use std::path::{Path, PathBuf};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

const FOLDER: &str = "backup.folder";
const AT: &str = "backup.at";
const ON_CLOSE: &str = "backup.on_close";
const KEEP_DAILY: &str = "backup.keep_daily";
const KEEP_WEEKLY: &str = "backup.keep_weekly";
const KEEP_MONTHLY: &str = "backup.keep_monthly";
// What happened last, kept beside the schedule: the newest verified backup and the newest failure.
const LAST_OK_AT: &str = "backup.last_ok_at";
const LAST_OK_FILE: &str = "backup.last_ok_file";
const LAST_FAILURE_AT: &str = "backup.last_failure_at";
const LAST_FAILURE_CODE: &str = "backup.last_failure_code";
const LAST_FAILURE: &str = "backup.last_failure";

/// The file name's extension, as a manual backup's.
const EXTENSION: &str = "galenbak";
/// The most generations of each kind a rule may keep.
pub const KEEP_MAX: u32 = 400;
/// With a time of day, a backup is overdue when the newest is older than a day and this much.
const DAILY_GRACE: Duration = Duration::hours(2);
/// Without one (only when the app closes), when the newest is older than this.
const ON_CLOSE_ONLY_ALLOWS: Duration = Duration::days(7);

/// How many generations to keep: the newest of each of the last `daily` days, `weekly` weeks (ISO, Monday
/// first) and `monthly` months, by the computer's calendar. The newest backup is always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    /// Days.
    pub daily: u32,
    /// Weeks.
    pub weekly: u32,
    /// Months.
    pub monthly: u32,
}

impl Default for Keep {
    fn default() -> Self {
        Self { daily: 7, weekly: 4, monthly: 12 }
    }
}

/// When backups are made by themselves, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The folder they go to; it must exist when the schedule is set.
    pub folder: PathBuf,
    /// Every day at this local time (a missed one is made at the next chance).
    pub at: Option<Time>,
    /// Also each time the app closes.
    pub on_close: bool,
    /// How many to keep.
    pub keep: Keep,
}

/// What asks for a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The app's timer or the system timer: made only when the time of day has come since the last one.
    Timer,
    /// The app is closing: made when the schedule says so.
    Closing,
}

/// A scheduled backup made and verified, and what the rule pruned after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// The new generation.
    pub file: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Older generations removed.
    pub pruned: Vec<PathBuf>,
    /// The monthly restore drill, when it was due.
    pub drill: Option<Result<drill::Report, String>>,
}

/// Something the admin should act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// No schedule is set: backups happen only when someone remembers.
    NotScheduled,
    /// The folder is not there (a drive unplugged, a share not connected).
    FolderMissing(PathBuf),
    /// The newest verified backup is older than the schedule allows (or there is none).
    Overdue(Option<OffsetDateTime>),
    /// The latest attempt failed, after the newest backup.
    Failed {
        /// The error's code (`disk_full`, `backup_folder_missing`…), for a screen to word.
        code: String,
        /// The error as Galen said it.
        message: String,
    },
    /// The latest restore drill failed.
    DrillFailed(String),
}

/// Where backups stand: the schedule, the newest verified backup, the next one, the latest drill, and what to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The schedule, if one is set.
    pub schedule: Option<Schedule>,
    /// The newest verified backup this clinic made (scheduled or not) and its file.
    pub last_ok: Option<(OffsetDateTime, PathBuf)>,
    /// When the next scheduled backup is due (already past: due now).
    pub next_at: Option<OffsetDateTime>,
    /// The generations in the folder, newest first.
    pub generations: Vec<Generation>,
    /// The latest restore drill.
    pub last_drill: Option<drill::Outcome>,
    /// What the admin should act on; empty when all is well.
    pub warnings: Vec<Warning>,
}

/// One scheduled backup in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its file.
    pub path: PathBuf,
    /// When it was made (from its name).
    pub made_at: OffsetDateTime,
}

/// The schedule, if an admin set one.
pub fn load(store: &Store) -> StoreResult<Option<Schedule>> {
    let conn = store.conn();
    let folder = settings::get(conn, FOLDER)?.unwrap_or_default();
    if folder.is_empty() {
        return Ok(None);
    }
    let number = |key, default| -> StoreResult<u32> {
        Ok(settings::get(conn, key)?.and_then(|v| v.parse().ok()).unwrap_or(default))
    };
    let defaults = Keep::default();
    Ok(Some(Schedule {
        folder: PathBuf::from(folder),
        at: settings::get(conn, AT)?.and_then(|v| parse_time_of_day(&v)),
        on_close: settings::get(conn, ON_CLOSE)?.as_deref() == Some("1"),
        keep: Keep {
            daily: number(KEEP_DAILY, defaults.daily)?,
            weekly: number(KEEP_WEEKLY, defaults.weekly)?,
            monthly: number(KEEP_MONTHLY, defaults.monthly)?,
        },
    }))
}

/// `HH:MM` (24-hour) as a time of day.
pub fn parse_time_of_day(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    let all_digits = |p: &str| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(h) || m.len() != 2 || !all_digits(m) {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// A time of day as `HH:MM`.
pub fn format_time_of_day(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Sets the schedule, or with `None` stops scheduled backups (admins only; audited). The folder must exist and
/// take a file, so a mistyped path is caught now rather than at two in the morning.
pub fn set(clinic: &Clinic, session: &Session, schedule: Option<&Schedule>) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::BackupCreate, None)?;
    if let Some(s) = schedule {
        check(s)?;
    }
    let now = clinic.now_rfc3339();
    let values = match schedule {
        None => vec![(FOLDER, String::new())],
        Some(s) => vec![
            (FOLDER, s.folder.to_string_lossy().into_owned()),
            (AT, s.at.map(format_time_of_day).unwrap_or_default()),
            (ON_CLOSE, if s.on_close { "1" } else { "0" }.to_owned()),
            (KEEP_DAILY, s.keep.daily.to_string()),
            (KEEP_WEEKLY, s.keep.weekly.to_string()),
            (KEEP_MONTHLY, s.keep.monthly.to_string()),
        ],
    };
    clinic.store().write(|tx| {
        for (key, value) in &values {
            settings::put(tx, key, value)?;
        }
        let what = if schedule.is_some() { "backup.schedule" } else { "backup.unschedule" };
        audit::record(tx, &now, &actor, what, ("setting", FOLDER), Outcome::Ok)
    })
}

fn check(s: &Schedule) -> Result<(), Error> {
    let mut errors = FieldErrors::default();
    let folder = &s.folder;
    if folder.as_os_str().is_empty() {
        errors.push("folder", "Choose the folder backups go to.");
    } else if !folder.is_absolute() {
        errors.push("folder", "Give the folder's full path (starting with /).");
    } else if !folder.is_dir() {
        errors.push("folder", "This folder does not exist (is its drive plugged in?). Choose an existing folder.");
    } else if let Err(e) = tempfile::Builder::new().prefix(".galen-try").tempfile_in(folder) {
        errors.push("folder", format!("Galen cannot write in this folder ({e}). Choose one it may write to."));
    }
    if s.at.is_none() && !s.on_close {
        errors.push("at", "Choose a time of day, when the app closes, or both.");
    }
    let Keep { daily, weekly, monthly } = s.keep;
    if !(1..=KEEP_MAX).contains(&daily) {
        errors.push("keep_daily", format!("Keep between 1 and {KEEP_MAX} daily backups."));
    }
    for (field, n) in [("keep_weekly", weekly), ("keep_monthly", monthly)] {
        if n > KEEP_MAX {
            errors.push(field, format!("Keep at most {KEEP_MAX}."));
        }
    }
    errors.into_result()
}

/// Makes the scheduled backup if `trigger` makes one due, then prunes by the rule and, once a month, runs the
/// restore drill. Galen itself acts (no one is signed in at two in the morning); it only does what an admin
/// scheduled. `Ok(None)`: nothing was due. A failure is recorded (shown as a warning) and audited.
pub fn run_due(clinic: &Clinic, trigger: Trigger) -> Result<Option<Made>, Error> {
    let Some(schedule) = due(clinic, trigger)? else { return Ok(None) };
    let made = make(clinic, &Actor::system(), &schedule, &TimeZone::system())?;
    Ok(Some(made))
}

/// The schedule, if `trigger` makes a backup due now: a few small reads, for a timer that ticks often.
pub fn due(clinic: &Clinic, trigger: Trigger) -> StoreResult<Option<Schedule>> {
    let Some(schedule) = load(clinic.store())? else { return Ok(None) };
    let last = last_ok(clinic.store())?.map(|(at, _)| at);
    let due = match trigger {
        Trigger::Closing => schedule.on_close,
        Trigger::Timer => {
            schedule.at.is_some_and(|at| last.is_none_or(|l| l < last_slot(at, clinic.now(), &TimeZone::system())))
        }
    };
    Ok(due.then_some(schedule))
}

/// Makes a backup into the scheduled folder now, as a signed-in admin asked ("Back up now"), pruned by the rule.
pub fn run_now(clinic: &Clinic, session: &Session) -> Result<Made, Error> {
    let actor = clinic.authorize(session, Action::BackupCreate, None)?;
    let schedule = load(clinic.store())?.ok_or(StoreError::BackupNotScheduled)?;
    make(clinic, &actor, &schedule, &TimeZone::system())
}

fn make(clinic: &Clinic, actor: &Actor, schedule: &Schedule, tz: &TimeZone) -> Result<Made, Error> {
    match make_unrecorded(clinic, actor, schedule, tz) {
        Ok(made) => Ok(made),
        Err(e) => {
            // Recorded for the warning and the audit trail; if even that cannot be written (the clinic's own
            // disk is full), the error itself still reaches whoever asked.
            let (at, code, message) = (clinic.now_rfc3339(), e.code(), e.to_string());
            let _ = clinic.store().write(|tx| {
                settings::put(tx, LAST_FAILURE_AT, &at)?;
                settings::put(tx, LAST_FAILURE_CODE, code)?;
                settings::put(tx, LAST_FAILURE, &message)?;
                audit::record(tx, &at, actor, "backup.create", ("backup", ""), Outcome::Failed)
            });
            tracing::warn!(code, "scheduled backup failed");
            Err(e)
        }
    }
}

fn make_unrecorded(clinic: &Clinic, actor: &Actor, schedule: &Schedule, tz: &TimeZone) -> Result<Made, Error> {
    let folder = &schedule.folder;
    if !folder.is_dir() {
        return Err(StoreError::BackupFolderMissing { folder: folder.clone() }.into());
    }
    for leftover in remove_leftovers(clinic.vault(), folder)? {
        tracing::info!(file = %leftover.display(), "removed what a backup cut off left behind");
    }
    // The site key signs the backup's audit anchor.
    crate::site::ensure_key(clinic, actor)?;
    let db_id = clinic.store().db_id()?;
    let mut at = clinic.now();
    let mut file = folder.join(generation_name(&db_id, at));
    // Two in one second (a test's clock, a double click): the second takes the next free second.
    while file.exists() {
        at += Duration::seconds(1);
        file = folder.join(generation_name(&db_id, at));
    }
    let summary = write_backup(clinic.vault(), clinic.store(), &file, at)?;
    let name = file_name(&file);
    let at_text = crate::clock::rfc3339(at);
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        settings::put(tx, LAST_OK_AT, &at_text)?;
        settings::put(tx, LAST_OK_FILE, &file.to_string_lossy())?;
        audit::record(tx, &now, actor, "backup.create", ("backup", &name), Outcome::Ok)
    })?;
    tracing::info!(bytes = summary.bytes, "scheduled backup written");

    // Only now, with the new one verified and in place, may older ones go.
    let pruned = prune(clinic, actor, folder, &db_id, &schedule.keep, tz)?;
    clinic.anchor_audit_log();
    let drill = match drill::due(clinic.store(), clinic.now())? {
        true => Some(drill::run(clinic, actor, &file).map_err(|e| e.to_string())),
        false => None,
    };
    Ok(Made { file, bytes: summary.bytes, pruned, drill })
}

fn prune(
    clinic: &Clinic,
    actor: &Actor,
    folder: &Path,
    db_id: &str,
    keep: &Keep,
    tz: &TimeZone,
) -> Result<Vec<PathBuf>, Error> {
    let generations = generations(folder, db_id)?;
    let times: Vec<OffsetDateTime> = generations.iter().map(|g| g.made_at).collect();
    let kept = kept(&times, keep, tz);
    let mut pruned = Vec::new();
    for (generation, keep) in generations.into_iter().zip(kept) {
        if keep {
            continue;
        }
        std::fs::remove_file(&generation.path).map_err(io("remove", &generation.path))?;
        let now = clinic.now_rfc3339();
        let name = file_name(&generation.path);
        clinic.store().write(|tx| audit::record(tx, &now, actor, "backup.prune", ("backup", &name), Outcome::Ok))?;
        pruned.push(generation.path);
    }
    if !pruned.is_empty() {
        sync_dir(folder)?;
    }
    Ok(pruned)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Drills the newest scheduled generation of this clinic (admins only, on demand).
pub fn drill_newest(clinic: &Clinic, session: &Session) -> Result<drill::Report, Error> {
    clinic.authorize(session, Action::BackupRestore, None)?;
    let s = load(clinic.store())?.ok_or(StoreError::BackupNotScheduled)?;
    if !s.folder.is_dir() {
        return Err(StoreError::BackupFolderMissing { folder: s.folder }.into());
    }
    let newest = generations(&s.folder, &clinic.store().db_id()?)?.into_iter().next();
    let file = newest.ok_or(StoreError::NoBackupYet { folder: s.folder })?.path;
    drill::run_now(clinic, session, &file)
}

/// Where backups stand, and what the admin should act on (admins: it names the folder and the files).
pub fn status(clinic: &Clinic, session: &Session) -> Result<Status, Error> {
    clinic.authorize(session, Action::BackupCreate, None)?;
    let store = clinic.store();
    let schedule = load(store)?;
    let last_ok = last_ok(store)?;
    let failure_at = settings::get(store.conn(), LAST_FAILURE_AT)?.and_then(|t| crate::clock::parse_rfc3339(&t));
    let last_drill = drill::last(store)?;
    let now = clinic.now();
    let tz = TimeZone::system();
    let mut warnings = Vec::new();
    let mut generations_found = Vec::new();
    let mut next_at = None;
    match &schedule {
        None => warnings.push(Warning::NotScheduled),
        Some(s) => {
            if s.folder.is_dir() {
                generations_found = generations(&s.folder, &store.db_id()?)?;
            } else {
                warnings.push(Warning::FolderMissing(s.folder.clone()));
            }
            let newest = last_ok.as_ref().map(|(at, _)| *at);
            let allowed = match s.at {
                Some(_) => Duration::days(1) + DAILY_GRACE,
                None => ON_CLOSE_ONLY_ALLOWS,
            };
            if newest.is_none_or(|t| now - t > allowed) {
                warnings.push(Warning::Overdue(newest));
            }
            next_at = s.at.map(|at| match newest.is_none_or(|l| l < last_slot(at, now, &tz)) {
                true => last_slot(at, now, &tz),
                false => next_slot(at, now, &tz),
            });
        }
    }
    if failure_at.is_some_and(|f| last_ok.as_ref().is_none_or(|(ok, _)| f > *ok)) {
        warnings.push(Warning::Failed {
            code: settings::get(store.conn(), LAST_FAILURE_CODE)?.unwrap_or_default(),
            message: settings::get(store.conn(), LAST_FAILURE)?.unwrap_or_default(),
        });
    }
    if let Some(drill) = last_drill.as_ref().filter(|d| !d.ok) {
        warnings.push(Warning::DrillFailed(drill.message.clone()));
    }
    Ok(Status { schedule, last_ok, next_at, generations: generations_found, last_drill, warnings })
}

/// The newest verified backup and its file, as recorded when it was made.
fn last_ok(store: &Store) -> StoreResult<Option<(OffsetDateTime, PathBuf)>> {
    let at = settings::get(store.conn(), LAST_OK_AT)?.and_then(|t| crate::clock::parse_rfc3339(&t));
    let file = settings::get(store.conn(), LAST_OK_FILE)?.unwrap_or_default();
    Ok(at.map(|at| (at, PathBuf::from(file))))
}

/// Records a backup made by hand (`galen backup FILE`, the Backup screen) as the newest verified one.
pub(super) fn record_manual(conn: &rusqlite::Connection, at: &str, file: &Path) -> StoreResult<()> {
    settings::put(conn, LAST_OK_AT, at)?;
    settings::put(conn, LAST_OK_FILE, &file.to_string_lossy())
}

fn digits(s: &str, n: usize) -> Option<&str> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// `galen-2026-12-01T180000Z-1a2b3c4d.galenbak`: the moment in UTC (names sort by time) and the database.
fn generation_name(db_id: &str, at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "galen-{:04}-{:02}-{:02}T{:02}{:02}{:02}Z-{}.{EXTENSION}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        db_tag(db_id)
    )
}

fn db_tag(db_id: &str) -> String {
    db_id.chars().filter(char::is_ascii_alphanumeric).take(8).collect::<String>().to_lowercase()
}

/// The moment in a generation's name, if the name is one this database's schedule writes.
fn parse_generation_name(name: &str, db_id: &str) -> Option<OffsetDateTime> {
    let rest = name.strip_prefix("galen-")?.strip_suffix(&format!("-{}.{EXTENSION}", db_tag(db_id)))?;
    let (date, time) = rest.split_once('T')?;
    let time = time.strip_suffix('Z')?;
    let mut d = date.split('-');
    let (y, mo, da) = (digits(d.next()?, 4)?, digits(d.next()?, 2)?, digits(d.next()?, 2)?);
    if d.next().is_some() || digits(time, 6).is_none() {
        return None;
    }
    let month = time::Month::try_from(mo.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(y.parse().ok()?, month, da.parse().ok()?).ok()?;
    let t = Time::from_hms(time[0..2].parse().ok()?, time[2..4].parse().ok()?, time[4..6].parse().ok()?).ok()?;
    Some(date.with_time(t).assume_utc())
}

/// This database's scheduled generations in `folder`, newest first. Other files are not Galen's to touch.
pub fn generations(folder: &Path, db_id: &str) -> Result<Vec<Generation>, Error> {
    let entries = std::fs::read_dir(folder).map_err(io("read", folder))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io("read", folder))?;
        let name = entry.file_name();
        let Some(made_at) = name.to_str().and_then(|n| parse_generation_name(n, db_id)) else { continue };
        if entry.file_type().map_err(io("read", entry.path()))?.is_file() {
            found.push(Generation { path: entry.path(), made_at });
        }
    }
    found.sort_by_key(|g| std::cmp::Reverse(g.made_at));
    Ok(found)
}

/// `at` at the computer's local offset then, for showing.
pub fn in_local_time(at: OffsetDateTime) -> OffsetDateTime {
    local(at, &TimeZone::system())
}

/// The same moment at the computer's offset then.
fn local(at: OffsetDateTime, tz: &TimeZone) -> OffsetDateTime {
    let offset = jiff::Timestamp::from_second(at.unix_timestamp()).map(|ts| tz.to_offset(ts).seconds()).unwrap_or(0);
    at.to_offset(UtcOffset::from_whole_seconds(offset).unwrap_or(UtcOffset::UTC))
}

/// `date` at the local time `at`, as a moment (a time skipped by a clock change is taken after it).
fn moment(date: Date, at: Time, tz: &TimeZone) -> OffsetDateTime {
    let civil = jiff::civil::date(date.year() as i16, u8::from(date.month()) as i8, date.day() as i8).at(
        at.hour() as i8,
        at.minute() as i8,
        0,
        0,
    );
    match tz.to_ambiguous_timestamp(civil).compatible() {
        Ok(ts) => OffsetDateTime::from_unix_timestamp(ts.as_second()).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        Err(_) => date.with_time(at).assume_utc(),
    }
}

/// The latest moment at or before `now` when the daily backup at local time `at` was due.
fn last_slot(at: Time, now: OffsetDateTime, tz: &TimeZone) -> OffsetDateTime {
    let today = local(now, tz).date();
    let slot = moment(today, at, tz);
    match slot <= now {
        true => slot,
        false => moment(today.previous_day().unwrap_or(today), at, tz),
    }
}

/// The first moment after `now` when the daily backup at local time `at` is due.
fn next_slot(at: Time, now: OffsetDateTime, tz: &TimeZone) -> OffsetDateTime {
    let today = local(now, tz).date();
    let slot = moment(today, at, tz);
    match slot > now {
        true => slot,
        false => moment(today.next_day().unwrap_or(today), at, tz),
    }
}

/// A day, ISO week or month as a key: (year, its number in the year).
type PeriodOf = fn(Date) -> (i32, u32);

/// Which of `made` (newest first) the rule keeps: the newest of each of the last `keep.daily` local days,
/// `keep.weekly` ISO weeks and `keep.monthly` months that have a backup, and always the newest.
fn kept(made: &[OffsetDateTime], keep: &Keep, tz: &TimeZone) -> Vec<bool> {
    let mut kept = vec![false; made.len()];
    if let Some(first) = kept.first_mut() {
        *first = true;
    }
    let dates: Vec<Date> = made.iter().map(|t| local(*t, tz).date()).collect();
    let periods: [(u32, PeriodOf); 3] = [
        (keep.daily, |d| (d.year(), d.ordinal() as u32)),
        (keep.weekly, |d| {
            let (year, week, _) = d.to_iso_week_date();
            (year, week as u32)
        }),
        (keep.monthly, |d| (d.year(), u8::from(d.month()) as u32)),
    ];
    for (count, period_of) in periods {
        let mut seen: Vec<(i32, u32)> = Vec::new();
        for (i, date) in dates.iter().enumerate() {
            let period = period_of(*date);
            if seen.contains(&period) {
                continue;
            }
            if seen.len() as u32 >= count {
                break;
            }
            seen.push(period);
            kept[i] = true;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    fn lisbon() -> TimeZone {
        TimeZone::get("Europe/Lisbon").unwrap_or(TimeZone::UTC)
    }

    #[test]
    fn a_generation_name_reads_back_and_other_names_are_not_ours() {
        let db = "1A2B3C4D-5e6f-7a8b";
        let at = datetime!(2026-12-01 18:00:05 UTC);
        let name = generation_name(db, at);
        assert_eq!(name, "galen-2026-12-01T180005Z-1a2b3c4d.galenbak");
        assert_eq!(parse_generation_name(&name, db), Some(at));
        for other in [
            "galen-2026-12-01T180005Z-99999999.galenbak",
            "galen-2026-12-01T180005Z-1a2b3c4d.galenbak.part",
            "galen-2026-13-01T180005Z-1a2b3c4d.galenbak",
            "galen-2026-12-01T18000Z-1a2b3c4d.galenbak",
            "clinic-2026-12-01.galenbak",
            ".galen-backupXYZ",
        ] {
            assert_eq!(parse_generation_name(other, db), None, "{other}");
        }
    }

    #[test]
    fn the_daily_slot_is_local_time_and_yesterdays_until_it_comes() {
        let tz = lisbon();
        // 18:00 in Lisbon is 18:00 UTC in winter and 17:00 UTC in summer.
        let winter = datetime!(2026-12-01 12:00 UTC);
        assert_eq!(last_slot(time!(18:00), winter, &tz), datetime!(2026-11-30 18:00 UTC));
        assert_eq!(next_slot(time!(18:00), winter, &tz), datetime!(2026-12-01 18:00 UTC));
        let summer = datetime!(2026-07-01 17:30 UTC);
        assert_eq!(last_slot(time!(18:00), summer, &tz), datetime!(2026-07-01 17:00 UTC));
        assert_eq!(next_slot(time!(18:00), summer, &tz), datetime!(2026-07-02 17:00 UTC));
        // 01:30 on the night the clocks go forward (01:00 → 02:00 on 29 March 2026) does not exist: after it.
        assert_eq!(moment(time::macros::date!(2026 - 03 - 29), time!(01:30), &tz), datetime!(2026-03-29 01:30 UTC));
    }

    #[test]
    fn the_rule_keeps_the_newest_of_each_day_week_and_month() {
        let tz = TimeZone::UTC;
        // Two a day (09:00 and 18:00) for 100 days up to Tuesday 1 December 2026, newest first.
        let newest = datetime!(2026-12-01 18:00 UTC);
        let made: Vec<OffsetDateTime> =
            (0..200).map(|i| newest - Duration::days(i / 2) - Duration::hours(9 * (i % 2))).collect();
        let keep = Keep { daily: 7, weekly: 4, monthly: 3 };
        let kept_times: Vec<OffsetDateTime> =
            made.iter().zip(kept(&made, &keep, &tz)).filter(|(_, k)| *k).map(|(t, _)| *t).collect();
        let expected = vec![
            // The evening one of each of the last 7 days.
            datetime!(2026-12-01 18:00 UTC),
            datetime!(2026-11-30 18:00 UTC),
            datetime!(2026-11-29 18:00 UTC),
            datetime!(2026-11-28 18:00 UTC),
            datetime!(2026-11-27 18:00 UTC),
            datetime!(2026-11-26 18:00 UTC),
            datetime!(2026-11-25 18:00 UTC),
            // The newest of each of the last 4 ISO weeks: this week's (1 Dec) and last week's (Sunday 29 Nov) are
            // kept already; then the two Sundays before.
            datetime!(2026-11-22 18:00 UTC),
            datetime!(2026-11-15 18:00 UTC),
            // The newest of each of the last 3 months: December's and November's are kept already; October's last.
            datetime!(2026-10-31 18:00 UTC),
        ];
        assert_eq!(kept_times, expected);
    }

    #[test]
    fn the_newest_is_kept_whatever_the_rule() {
        let made = [datetime!(2026-12-01 18:00 UTC), datetime!(2026-12-01 09:00 UTC)];
        assert_eq!(kept(&made, &Keep { daily: 1, weekly: 0, monthly: 0 }, &TimeZone::UTC), vec![true, false]);
        assert_eq!(kept(&[], &Keep::default(), &TimeZone::UTC), Vec::<bool>::new());
    }

    #[test]
    fn times_of_day_are_read_strictly() {
        assert_eq!(parse_time_of_day("18:00"), Some(time!(18:00)));
        assert_eq!(parse_time_of_day("7:05"), Some(time!(07:05)));
        for bad in ["24:00", "18:60", "18", "18:0", "-1:00", "18:00:00", "", "a:bc", "+1:00"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
        assert_eq!(format_time_of_day(time!(07:05)), "07:05");
    }
}
