//! The admin screens: staff accounts, the audit log, settings, and what needs an admin's attention.

use crate::commands::printing::shown;
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::attention::{self, Certificate};
use galen_core::settings::{self, PaperSize};
use galen_core::{audit, staff, Role};
use serde::{Deserialize, Serialize};
use tauri::State;

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StaffDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub licence_number: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
}

impl From<staff::StaffMember> for StaffDto {
    fn from(m: staff::StaffMember) -> Self {
        Self {
            id: m.id,
            username: m.username,
            display_name: m.display_name,
            role: m.role,
            licence_number: m.licence_number,
            active: m.active,
            must_change_password: m.must_change_password,
        }
    }
}

#[derive(Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewStaffForm {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub licence_number: Option<String>,
    pub password: String,
}

impl std::fmt::Debug for NewStaffForm {
    // The password never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewStaffForm")
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl From<NewStaffForm> for staff::NewStaff {
    fn from(f: NewStaffForm) -> Self {
        staff::NewStaff {
            username: f.username,
            display_name: f.display_name,
            role: f.role,
            licence_number: f.licence_number,
            password: f.password.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryDto {
    pub id: i64,
    pub at: String,
    pub username: String,
    pub role: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub outcome: String,
    pub break_glass: bool,
}

impl From<audit::Entry> for AuditEntryDto {
    fn from(e: audit::Entry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            username: e.username,
            role: e.role,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            outcome: e.outcome,
            break_glass: e.break_glass,
        }
    }
}

/// The audit chain checked: how many rows, the anchor it reaches and the restores it records, or where it first
/// breaks, a log shorter than its anchor included (the UI words the break).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerifyDto {
    pub rows: Option<i64>,
    pub broken: Option<audit::Break>,
    /// The anchor the log was checked against and reaches, if there was one.
    pub anchor: Option<audit::Anchored>,
    /// The restores the log records, oldest first.
    pub restores: Vec<audit::Restore>,
}

impl From<Result<audit::Verified, audit::Break>> for AuditVerifyDto {
    fn from(r: Result<audit::Verified, audit::Break>) -> Self {
        match r {
            Ok(v) => AuditVerifyDto {
                rows: Some(i64::try_from(v.rows).unwrap_or(i64::MAX)),
                broken: None,
                anchor: v.anchor,
                restores: v.restores,
            },
            Err(b) => AuditVerifyDto { rows: None, broken: Some(b), anchor: None, restores: Vec::new() },
        }
    }
}

/// The settings screen's form, both ways. The logo travels as a `data:` URL.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    pub site_name: String,
    pub address: String,
    pub phone: String,
    pub logo_data_url: Option<String>,
    pub paper_size: PaperSize,
    pub idle_timeout_minutes: i64,
    /// A `Language`, checked by galen-core.
    pub language: String,
    /// The language printouts are worded in, a `Language`.
    pub printout_language: String,
    pub mrn_prefix: String,
}

impl From<settings::Settings> for SettingsDto {
    fn from(s: settings::Settings) -> Self {
        Self {
            site_name: s.site_name,
            address: s.address,
            phone: s.phone,
            logo_data_url: s.logo.map(|l| format!("data:{};base64,{}", l.mime, data_encoding::BASE64.encode(&l.bytes))),
            paper_size: s.paper_size,
            idle_timeout_minutes: s.idle_timeout_minutes,
            language: s.language,
            printout_language: s.printout_language,
            mrn_prefix: s.mrn_prefix,
        }
    }
}

impl From<SettingsDto> for settings::Settings {
    /// A `data:` URL that does not decode becomes an invalid logo, so galen-core reports it against `logo`.
    fn from(f: SettingsDto) -> Self {
        let logo = f.logo_data_url.as_deref().map(|url| {
            let (head, data) = url.split_once(',').unwrap_or(("", ""));
            settings::Logo {
                mime: head.trim_start_matches("data:").trim_end_matches(";base64").to_owned(),
                bytes: data_encoding::BASE64.decode(data.as_bytes()).unwrap_or_default(),
            }
        });
        settings::Settings {
            site_name: f.site_name,
            address: f.address,
            phone: f.phone,
            logo,
            paper_size: f.paper_size,
            idle_timeout_minutes: f.idle_timeout_minutes,
            language: f.language,
            printout_language: f.printout_language,
            mrn_prefix: f.mrn_prefix,
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn staff_list(state: State<'_, AppState>) -> Result<Vec<StaffDto>, ApiError> {
    state.with_session(|c, s| Ok(staff::list(c, s)?.into_iter().map(Into::into).collect()))
}

#[tauri::command]
#[specta::specta]
pub async fn staff_create(state: State<'_, AppState>, form: NewStaffForm) -> Result<StaffDto, ApiError> {
    state.with_session(|c, s| Ok(staff::add(c, s, &form.into())?.into()))
}

/// An account after a change, and the new recovery key when the change re-keyed the database (an admin disabled).
#[derive(Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StaffChangedDto {
    pub member: StaffDto,
    pub new_recovery_key: Option<String>,
}

impl std::fmt::Debug for StaffChangedDto {
    // The recovery key never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffChangedDto").field("member", &self.member).finish_non_exhaustive()
    }
}

/// `password` is the signed-in admin's own, needed when the change takes an admin's access away.
#[tauri::command]
#[specta::specta]
pub async fn staff_set_active(
    state: State<'_, AppState>,
    username: String,
    active: bool,
    password: Option<String>,
) -> Result<StaffChangedDto, ApiError> {
    state.with_session_mut(|c, s| {
        let done = staff::set_active(c, s, &username, active, password.as_deref())?;
        Ok(StaffChangedDto { member: done.value.into(), new_recovery_key: done.new_recovery_key.as_ref().map(shown) })
    })
}

/// The temporary password to hand to the user once, and the new recovery key when an admin was reset.
#[derive(Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetDto {
    pub temporary_password: String,
    pub new_recovery_key: Option<String>,
}

impl std::fmt::Debug for PasswordResetDto {
    // Neither secret prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResetDto").finish_non_exhaustive()
    }
}

/// `password` is the signed-in admin's own, needed when resetting an admin.
#[tauri::command]
#[specta::specta]
pub async fn staff_reset_password(
    state: State<'_, AppState>,
    username: String,
    password: Option<String>,
) -> Result<PasswordResetDto, ApiError> {
    state.with_session_mut(|c, s| {
        let reset = staff::reset_password(c, s, &username, password.as_deref())?;
        Ok(PasswordResetDto {
            temporary_password: reset.value.expose().clone(),
            new_recovery_key: reset.new_recovery_key.as_ref().map(shown),
        })
    })
}

#[tauri::command]
#[specta::specta]
pub async fn staff_clear_lock(state: State<'_, AppState>, username: String) -> Result<(), ApiError> {
    state.with_session(|c, s| staff::clear_throttle(c, s, &username))
}

/// The audit screen's filters; blank ones are ignored.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilterDto {
    pub mrn: Option<String>,
    pub username: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub break_glass: bool,
}

#[tauri::command]
#[specta::specta]
pub async fn audit_list(
    state: State<'_, AppState>,
    before_id: Option<i64>,
    limit: u32,
    filter: AuditFilterDto,
) -> Result<Vec<AuditEntryDto>, ApiError> {
    let AuditFilterDto { mrn, username, action, from, until, break_glass } = filter;
    let query = audit::Query { before_id, limit, only_break_glass: break_glass, mrn, username, action, from, until };
    state.with_session(|c, s| Ok(audit::list(c, s, &query)?.into_iter().map(Into::into).collect()))
}

/// Every action code the audit trail records, for the screen's action filter (the UI names each).
#[tauri::command]
#[specta::specta]
pub async fn audit_actions() -> Result<Vec<String>, ApiError> {
    Ok(audit::ACTIONS.iter().map(|(code, _)| (*code).to_owned()).collect())
}

#[tauri::command]
#[specta::specta]
pub async fn audit_verify(state: State<'_, AppState>) -> Result<AuditVerifyDto, ApiError> {
    state.with_session(|c, s| Ok(audit::verify(c, s)?.into()))
}

/// What needs an admin's attention, for their home page (beside the backup warnings).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AttentionDto {
    /// Sync, when paired.
    pub sync: Option<SyncHealthDto>,
    /// The newest audit-chain check.
    pub audit_check: Option<AuditCheckDto>,
    pub locked_out: Vec<LockedOutDto>,
    pub certificates: Vec<ExpiringDto>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncHealthDto {
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_code: Option<String>,
    pub open_conflicts: i64,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditCheckDto {
    pub at: String,
    pub by: String,
    pub intact: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct LockedOutDto {
    pub username: String,
    pub display_name: String,
    pub seconds: u64,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ExpiringDto {
    pub certificate: Certificate,
    pub expires: String,
    pub days_left: i64,
}

impl From<attention::Attention> for AttentionDto {
    fn from(a: attention::Attention) -> Self {
        AttentionDto {
            sync: a.sync.map(|s| SyncHealthDto {
                last_success: s.last_success,
                last_error: s.last_error,
                last_error_code: s.last_error_code,
                open_conflicts: s.open_conflicts,
            }),
            audit_check: a.audit_check.map(|c| AuditCheckDto { at: c.at, by: c.by, intact: c.intact }),
            locked_out: a
                .locked_out
                .into_iter()
                .map(|l| LockedOutDto { username: l.username, display_name: l.display_name, seconds: l.seconds })
                .collect(),
            certificates: a
                .certificates
                .into_iter()
                .map(|e| ExpiringDto { certificate: e.certificate, expires: e.expires, days_left: e.days_left })
                .collect(),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn admin_attention(state: State<'_, AppState>) -> Result<AttentionDto, ApiError> {
    state.with_session(|c, s| Ok(attention::attention(c, s)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn settings_get(state: State<'_, AppState>) -> Result<SettingsDto, ApiError> {
    state.with_clinic(|c| Ok(settings::load(c.store())?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn settings_update(state: State<'_, AppState>, form: SettingsDto) -> Result<SettingsDto, ApiError> {
    state.with_session(|c, s| {
        settings::update(c, s, &form.into())?;
        Ok(settings::load(c.store())?.into())
    })
}
