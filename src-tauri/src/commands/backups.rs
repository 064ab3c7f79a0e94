//! The Backup screen: a backup by hand and a restore, through the shell's own file dialogs; scheduled backups
//! (their folder chosen in the shell's folder dialog, never named by the page), run now, drills, and where
//! backups stand, which the admin's home also shows.

use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::backup;
use galen_core::backup::drill::Counted;
use galen_core::backup::schedule::{self, Keep, Schedule, Warning};
use galen_core::clock::rfc3339;
use galen_core::{Action, Error, FieldErrors, RecoveryKey};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tauri::{State, Window};

const BACKUP_FILES: (&str, &[&str]) = ("Galen backup", &["galenbak"]);

/// Asks where to save a backup (the dialog titled `title`) and writes it there: its size, or nothing when the
/// person cancelled (admins; checked before the dialog opens).
#[tauri::command]
#[specta::specta]
pub async fn backup_create(window: Window, state: State<'_, AppState>, title: String) -> Result<Option<u64>, ApiError> {
    let file_name = state.with_session(|c, s| {
        c.authorize(s, Action::BackupCreate, None)?;
        Ok(format!("galen-{}.galenbak", c.now().date()))
    })?;
    let ask = Ask { title: &title, filter: BACKUP_FILES };
    let Some(path) = dialogs::save_to(&window, ask, &file_name).await else { return Ok(None) };
    state.with_session(|c, s| Ok(Some(backup::backup(c, s, &path)?.bytes)))
}

/// Asks which backup to restore (the dialog titled `title`) and restores it over the open clinic (admins; checked
/// before the dialog opens). Everyone is signed out; the app reopens the restored data. Whether it restored.
#[tauri::command]
#[specta::specta]
pub async fn backup_restore(
    window: Window,
    state: State<'_, AppState>,
    title: String,
    recovery_key: Option<String>,
) -> Result<bool, ApiError> {
    let key = recovery_key.filter(|k| !k.trim().is_empty()).map(|k| RecoveryKey::parse(&k)).transpose()?;
    state.with_session(|c, s| c.authorize(s, Action::BackupRestore, None).map(drop))?;
    let Some(path) = dialogs::open_from(&window, Ask { title: &title, filter: BACKUP_FILES }).await else {
        return Ok(false);
    };
    state.restore(&path, key.as_ref())?;
    Ok(true)
}

/// The schedule as the screen edits it; the folder is the one shown, chosen in the shell's dialog.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDto {
    /// Shown only: the page never names the folder.
    pub folder: String,
    /// `HH:MM`, or empty for none.
    pub at: String,
    pub on_close: bool,
    pub keep_daily: u32,
    pub keep_weekly: u32,
    pub keep_monthly: u32,
}

impl From<&Schedule> for ScheduleDto {
    fn from(s: &Schedule) -> Self {
        Self {
            folder: s.folder.display().to_string(),
            at: s.at.map(schedule::format_time_of_day).unwrap_or_default(),
            on_close: s.on_close,
            keep_daily: s.keep.daily,
            keep_weekly: s.keep.weekly,
            keep_monthly: s.keep.monthly,
        }
    }
}

/// Something the admin should act on; the screen words it from `code`.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BackupWarningDto {
    /// `not_scheduled`, `folder_missing`, `overdue`, `failed` or `drill_failed`.
    pub code: &'static str,
    /// The folder, for `folder_missing`.
    pub folder: Option<String>,
    /// The newest verified backup, for `overdue` (none: never).
    pub at: Option<String>,
    /// For `failed`, the error's code, to translate.
    pub error_code: Option<String>,
    /// For `failed` and `drill_failed`, Galen's words, shown when there is no translation.
    pub message: Option<String>,
}

impl From<&Warning> for BackupWarningDto {
    fn from(w: &Warning) -> Self {
        let dto = |code| BackupWarningDto { code, folder: None, at: None, error_code: None, message: None };
        match w {
            Warning::NotScheduled => dto("not_scheduled"),
            Warning::FolderMissing(folder) => {
                BackupWarningDto { folder: Some(folder.display().to_string()), ..dto("folder_missing") }
            }
            Warning::Overdue(at) => BackupWarningDto { at: at.map(rfc3339), ..dto("overdue") },
            Warning::Failed { code, message } => {
                BackupWarningDto { error_code: Some(code.clone()), message: Some(message.clone()), ..dto("failed") }
            }
            Warning::DrillFailed(why) => BackupWarningDto { message: Some(why.clone()), ..dto("drill_failed") },
        }
    }
}

/// A restore drill's outcome: its counts when it passed, else why not.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DrillDto {
    pub at: String,
    pub ok: bool,
    pub file: String,
    /// Galen's words: the counts, or why it failed.
    pub message: String,
}

/// Where backups stand.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatusDto {
    pub schedule: Option<ScheduleDto>,
    /// The folder chosen in the dialog and not yet saved in the schedule.
    pub chosen_folder: Option<String>,
    pub last_ok_at: Option<String>,
    pub last_ok_file: Option<String>,
    pub next_at: Option<String>,
    /// Scheduled backups in the folder now.
    pub generations: u32,
    pub last_drill: Option<DrillDto>,
    pub warnings: Vec<BackupWarningDto>,
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

fn status(state: &AppState) -> Result<BackupStatusDto, ApiError> {
    let st = state.with_session(schedule::status)?;
    Ok(BackupStatusDto {
        schedule: st.schedule.as_ref().map(Into::into),
        chosen_folder: state.kept_backup_folder().map(|f| f.display().to_string()),
        last_ok_at: st.last_ok.as_ref().map(|(at, _)| rfc3339(*at)),
        last_ok_file: st.last_ok.as_ref().map(|(_, file)| file_name(file)),
        next_at: st.next_at.map(rfc3339),
        generations: u32::try_from(st.generations.len()).unwrap_or(u32::MAX),
        last_drill: st.last_drill.map(|d| DrillDto {
            at: rfc3339(d.at),
            ok: d.ok,
            file: file_name(&d.file),
            message: d.message,
        }),
        warnings: st.warnings.iter().map(Into::into).collect(),
    })
}

/// Where backups stand (admins), for the Backup screen and the admin's home.
#[tauri::command]
#[specta::specta]
pub async fn backup_status(state: State<'_, AppState>) -> Result<BackupStatusDto, ApiError> {
    status(&state)
}

/// Asks, in the shell's folder dialog titled `title`, where scheduled backups go (admins; checked before the
/// dialog opens). Kept until the schedule is saved; the status shows it.
#[tauri::command]
#[specta::specta]
pub async fn backup_folder_choose(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<BackupStatusDto, ApiError> {
    state.with_session(|c, s| c.authorize(s, Action::BackupCreate, None).map(drop))?;
    if let Some(folder) = dialogs::folder_from(&window, &title).await {
        state.keep_backup_folder(folder);
    }
    status(&state)
}

/// Saves the schedule: the folder chosen last, else the one already scheduled (admins; every field checked by
/// galen-core, `at` here as well).
#[tauri::command]
#[specta::specta]
pub async fn backup_schedule_set(state: State<'_, AppState>, form: ScheduleDto) -> Result<BackupStatusDto, ApiError> {
    let at = match form.at.trim() {
        "" => None,
        text => Some(schedule::parse_time_of_day(text).ok_or_else(|| {
            Error::Invalid(FieldErrors::one(galen_core::FieldError {
                field: "at".into(),
                message: "Give the time as HH:MM (24-hour), e.g. 02:30.".into(),
            }))
        })?),
    };
    // Read before `with_session`, which holds the state's lock.
    let chosen = state.kept_backup_folder();
    state.with_session(|c, s| {
        let folder = match chosen {
            Some(f) => f,
            None => schedule::load(c.store())?.map(|s| s.folder).unwrap_or_default(),
        };
        let keep = Keep { daily: form.keep_daily, weekly: form.keep_weekly, monthly: form.keep_monthly };
        schedule::set(c, s, Some(&Schedule { folder, at, on_close: form.on_close, keep }))
    })?;
    state.forget_backup_folder();
    status(&state)
}

/// Stops scheduled backups (admins); the backups made stay.
#[tauri::command]
#[specta::specta]
pub async fn backup_schedule_off(state: State<'_, AppState>) -> Result<BackupStatusDto, ApiError> {
    state.with_session(|c, s| schedule::set(c, s, None))?;
    state.forget_backup_folder();
    status(&state)
}

/// Makes a scheduled backup now (admins), pruned by the rule.
#[tauri::command]
#[specta::specta]
pub async fn backup_run_now(state: State<'_, AppState>) -> Result<BackupStatusDto, ApiError> {
    state.with_session(|c, s| schedule::run_now(c, s).map(drop))?;
    status(&state)
}

/// Restores the newest scheduled backup into a private copy, checks it and counts it (admins): the counts, as
/// (what, in the backup, now).
#[tauri::command]
#[specta::specta]
pub async fn backup_drill(state: State<'_, AppState>) -> Result<Vec<DrillCountDto>, ApiError> {
    let report = state.with_session(schedule::drill_newest)?;
    Ok(report.counts.into_iter().map(|(what, backup, live)| DrillCountDto { what, backup, live }).collect())
}

/// One count of a drill.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DrillCountDto {
    pub what: Counted,
    pub backup: i64,
    pub live: i64,
}
