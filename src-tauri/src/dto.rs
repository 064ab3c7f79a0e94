//! Wire types: what crosses the IPC boundary, converted from galen-core's domain types with `From`.
//! Secrets cross only where a person must see them once (a new recovery key, a temporary password).

use galen_core::{audit, session::SessionInfo, settings, staff, Role};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    Admin,
    Doctor,
    Nurse,
    Receptionist,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => RoleDto::Admin,
            Role::Doctor => RoleDto::Doctor,
            Role::Nurse => RoleDto::Nurse,
            Role::Receptionist => RoleDto::Receptionist,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Admin => Role::Admin,
            RoleDto::Doctor => Role::Doctor,
            RoleDto::Nurse => Role::Nurse,
            RoleDto::Receptionist => Role::Receptionist,
        }
    }
}

/// Where the app is in its life: which screen to show.
#[derive(Debug, Clone, Copy, Serialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// No clinic yet: first-run setup.
    Setup,
    /// The keyring could not give the key: unlock with the admin password or the recovery key.
    Unlock,
    /// Open, nobody signed in.
    Login,
    /// Someone is signed in (possibly locked: see `session.locked`).
    Ready,
    /// The database cannot be opened (damaged, newer schema...): `problem` says what to do.
    Error,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub stage: Stage,
    /// Why unlock or error was reached, in plain words.
    pub problem: Option<crate::error::ApiError>,
    pub site_name: Option<String>,
    pub language: String,
    pub session: Option<SessionDto>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
    pub locked: bool,
    pub must_change_password: bool,
    pub idle_timeout_secs: i64,
}

impl From<SessionInfo> for SessionDto {
    fn from(s: SessionInfo) -> Self {
        Self {
            username: s.username,
            display_name: s.display_name,
            role: s.role.into(),
            locked: s.locked,
            must_change_password: s.must_change_password,
            idle_timeout_secs: s.idle_timeout_secs,
        }
    }
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupForm {
    pub site_name: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupDone {
    /// Shown once, then forgotten by the UI.
    pub recovery_key: String,
    pub keyring_warning: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StaffDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
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
            role: m.role.into(),
            licence_number: m.licence_number,
            active: m.active,
            must_change_password: m.must_change_password,
        }
    }
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewStaffForm {
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
    pub licence_number: Option<String>,
    pub password: String,
}

impl From<NewStaffForm> for staff::NewStaff {
    fn from(f: NewStaffForm) -> Self {
        staff::NewStaff {
            username: f.username,
            display_name: f.display_name,
            role: f.role.into(),
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

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerifyDto {
    pub ok: bool,
    pub rows: Option<i64>,
    /// The first break, e.g. "row 5 was edited: its contents no longer match its hash".
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PaperSizeDto {
    A4,
    Letter,
}

/// The settings screen's form, both ways. The logo travels as a `data:` URL.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    pub site_name: String,
    pub address: String,
    pub phone: String,
    pub logo_data_url: Option<String>,
    pub paper_size: PaperSizeDto,
    pub idle_timeout_minutes: i64,
    pub language: String,
}

impl From<settings::Settings> for SettingsDto {
    fn from(s: settings::Settings) -> Self {
        Self {
            site_name: s.site_name,
            address: s.address,
            phone: s.phone,
            logo_data_url: s
                .logo
                .map(|l| format!("data:{};base64,{}", l.mime, galen_core::crypto::base64_encode(&l.bytes))),
            paper_size: match s.paper_size {
                settings::PaperSize::A4 => PaperSizeDto::A4,
                settings::PaperSize::Letter => PaperSizeDto::Letter,
            },
            idle_timeout_minutes: s.idle_timeout_minutes,
            language: s.language,
        }
    }
}

impl SettingsDto {
    /// Back to the domain type; a `data:` URL that does not decode becomes an invalid logo, so galen-core
    /// reports it against the `logo` field.
    pub fn into_settings(self) -> settings::Settings {
        let logo = self.logo_data_url.as_deref().map(|url| {
            let (head, data) = url.split_once(',').unwrap_or(("", ""));
            settings::Logo {
                mime: head.trim_start_matches("data:").trim_end_matches(";base64").to_owned(),
                bytes: galen_core::crypto::base64_decode(data).unwrap_or_default(),
            }
        });
        settings::Settings {
            site_name: self.site_name,
            address: self.address,
            phone: self.phone,
            logo,
            paper_size: match self.paper_size {
                PaperSizeDto::A4 => settings::PaperSize::A4,
                PaperSizeDto::Letter => settings::PaperSize::Letter,
            },
            idle_timeout_minutes: self.idle_timeout_minutes,
            language: self.language,
        }
    }
}
