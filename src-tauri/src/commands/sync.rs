//! Partner sync for admins: this site's identity, pairing with a partner, the sync status, and conflicts.
//! The network waits happen outside the clinic lock (`AppState` is a `sync::Db`), so the window stays usable.

use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use galen_core::{site, sync};
use serde::Serialize;
use tauri::{State, Window};

/// This clinic's identity towards a partner (public parts).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteIdentityDto {
    pub name: String,
    pub openpgp_fingerprint: String,
    pub safety_number: String,
    /// The day the client certificate expires (YYYY-MM-DD).
    pub certificate_valid_until: Option<String>,
}

impl From<site::SiteIdentity> for SiteIdentityDto {
    fn from(s: site::SiteIdentity) -> Self {
        SiteIdentityDto {
            certificate_valid_until: s.certificate_expires().map(|at| at.date().to_string()),
            name: s.name,
            openpgp_fingerprint: s.openpgp_fingerprint,
            safety_number: s.safety_number,
        }
    }
}

/// Who a pairing file says it is, and the safety number recomputed from its keys.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PartnerPreviewDto {
    pub name: String,
    pub safety_number: String,
}

impl From<site::PairingFile> for PartnerPreviewDto {
    fn from(f: site::PairingFile) -> Self {
        PartnerPreviewDto { name: f.site, safety_number: f.safety_number }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PartnerDto {
    pub name: String,
    pub url: String,
    pub safety_number: String,
    pub paired_at: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusDto {
    pub partner: Option<PartnerDto>,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub last_error_code: Option<String>,
    pub pending: i64,
    pub open_conflicts: i64,
    pub received_documents: i64,
}

impl From<sync::Status> for SyncStatusDto {
    fn from(s: sync::Status) -> Self {
        SyncStatusDto {
            partner: s.partner.map(|p| PartnerDto {
                name: p.name,
                url: p.url,
                safety_number: p.safety_number,
                paired_at: p.paired_at,
            }),
            last_attempt: s.last_attempt,
            last_success: s.last_success,
            last_error: s.last_error,
            last_error_code: s.last_error_code,
            pending: s.pending,
            open_conflicts: s.open_conflicts,
            received_documents: s.received_documents,
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncReportDto {
    pub queued: u32,
    pub pushed: u32,
    pub duplicates: u32,
    pub refused: u32,
    pub pulled: u32,
    pub new_conflicts: u32,
    pub rejected_here: u32,
}

impl From<sync::Report> for SyncReportDto {
    fn from(r: sync::Report) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        SyncReportDto {
            queued: n(r.queued),
            pushed: n(r.pushed),
            duplicates: n(r.duplicates),
            refused: n(r.refused),
            pulled: n(r.pulled),
            new_conflicts: n(r.new_conflicts),
            rejected_here: n(r.rejected_here),
        }
    }
}

/// One field of a conflict, both versions; `differs` marks what the two sites changed differently.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConflictFieldDto {
    pub field: String,
    pub local: String,
    pub incoming: String,
    pub differs: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConflictDto {
    pub id: i64,
    pub name: String,
    pub found_at: String,
    pub incoming_origin: String,
    pub fields: Vec<ConflictFieldDto>,
    /// Clinical fields differ: a clinician decides, in the patient's chart.
    pub clinical: bool,
    /// Allergies and conditions recorded here that the incoming version takes away (for a clinician).
    pub removes: Vec<RemovedDto>,
}

/// An allergy (by substance) or a condition that taking the incoming version removes.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum RemovedDto {
    Allergy(String),
    Condition(String),
}

impl From<galen_core::patients::shared::Removed> for RemovedDto {
    fn from(r: galen_core::patients::shared::Removed) -> Self {
        use galen_core::patients::shared::Removed;
        match r {
            Removed::Allergy(s) => RemovedDto::Allergy(s),
            Removed::Condition(s) => RemovedDto::Condition(s),
        }
    }
}

impl From<sync::Conflict> for ConflictDto {
    fn from(c: sync::Conflict) -> Self {
        // Field by field, as plain text a person can compare (the UI labels each field from its catalog).
        let flat = |p: &galen_core::patients::shared::SharedPatient| -> Vec<(String, String)> {
            match serde_json::to_value(p) {
                Ok(serde_json::Value::Object(map)) => {
                    map.into_iter().filter(|(k, _)| k != "uuid").map(|(k, v)| (k, plain_text(&v))).collect()
                }
                _ => Vec::new(),
            }
        };
        let incoming: std::collections::HashMap<String, String> = flat(&c.incoming).into_iter().collect();
        let fields = flat(&c.local)
            .into_iter()
            .map(|(field, local)| {
                let theirs = incoming.get(&field).cloned().unwrap_or_default();
                ConflictFieldDto { differs: local != theirs, field, local, incoming: theirs }
            })
            .collect();
        ConflictDto {
            id: c.id,
            name: format!("{} {}", c.local.given_names, c.local.family_name),
            found_at: c.found_at,
            incoming_origin: c.incoming_origin,
            fields,
            clinical: c.clinical,
            removes: c.removes.into_iter().map(Into::into).collect(),
        }
    }
}

/// A JSON value as a person reads it: lists joined with "; ", objects' values with ", ", true as ✓.
fn plain_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    let join =
        |items: Vec<String>, sep: &str| items.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(sep);
    match v {
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "✓".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => join(items.iter().map(plain_text).collect(), "; "),
        Value::Object(map) => join(map.values().map(plain_text).collect(), ", "),
    }
}

/// A pairing file's text, at most 64 KiB of it (`site::load_pairing_file`).
fn read(path: &str) -> Result<String, ApiError> {
    site::load_pairing_file(std::path::Path::new(path)).map_err(|e| ApiError::new("unreadable", e.to_string()))
}

/// This clinic's site identity, if made.
#[tauri::command]
#[specta::specta]
pub async fn site_identity(state: State<'_, AppState>) -> Result<Option<SiteIdentityDto>, ApiError> {
    state.with_session(|c, s| Ok(site::identity(c, s)?.map(Into::into)))
}

/// Creates the site identity (once).
#[tauri::command]
#[specta::specta]
pub async fn site_init(state: State<'_, AppState>) -> Result<SiteIdentityDto, ApiError> {
    state.with_session(|c, s| Ok(site::init(c, s)?.into()))
}

const PAIRING_FILES: (&str, &[&str]) = ("Galen pairing file", &["galen-pairing", "json"]);

/// Where this site's pairing file was saved, and its safety number.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PairingFileSavedDto {
    pub path: String,
    pub safety_number: String,
}

/// Asks where to save this site's pairing file (the dialog titled `title`) and writes it there; nothing when the
/// person cancelled. The file comes from galen-core (admins) before the dialog opens.
#[tauri::command]
#[specta::specta]
pub async fn site_pairing_file_save(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<PairingFileSavedDto>, ApiError> {
    let file = state.with_session(site::pairing_file)?;
    let json = serde_json::to_string_pretty(&file).map_err(|e| ApiError::new("internal", e.to_string()))?;
    let ask = Ask { title: &title, filter: PAIRING_FILES };
    let Some(path) = dialogs::save_to(&window, ask, "clinic.galen-pairing").await else { return Ok(None) };
    let shown = path.display().to_string();
    std::fs::write(&path, json + "\n")
        .map_err(|e| ApiError::new("unwritable", format!("Cannot write {shown}: {e}")))?;
    Ok(Some(PairingFileSavedDto { path: shown, safety_number: file.safety_number }))
}

/// Asks for a partner's pairing file (the dialog titled `title`; admins, checked before it opens), reads at most
/// 64 KiB of it and shows its name and the safety number recomputed from its keys. The shell keeps what it read
/// for `sync_pair`, so the pairing uses exactly the file the admin checked. Nothing when the person cancelled.
#[tauri::command]
#[specta::specta]
pub async fn sync_preview(
    window: Window,
    state: State<'_, AppState>,
    title: String,
) -> Result<Option<PartnerPreviewDto>, ApiError> {
    state.with_session(|c, s| c.authorize(s, galen_core::Action::SyncManage, None).map(drop))?;
    let Some(path) = dialogs::open_from(&window, Ask { title: &title, filter: PAIRING_FILES }).await else {
        return Ok(None);
    };
    let text = read(&path.display().to_string())?;
    let preview = state.with_session(|c, s| Ok(sync::preview(c, s, &text)?.into()))?;
    state.keep_pairing_file(text);
    Ok(Some(preview))
}

/// Pairs with the partner whose file `sync_preview` read, after the admin confirmed its safety number.
#[tauri::command]
#[specta::specta]
pub async fn sync_pair(
    state: State<'_, AppState>,
    url: String,
    safety_number: String,
) -> Result<SyncStatusDto, ApiError> {
    let text = state
        .kept_pairing_file()
        .ok_or_else(|| ApiError::new("invalid", "Choose the partner's pairing file first."))?;
    state.with_session(|c, s| {
        sync::pair(c, s, &text, &url, &safety_number)?;
        Ok(sync::status(c, s)?.into())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatusDto, ApiError> {
    state.with_session(|c, s| Ok(sync::status(c, s)?.into()))
}

/// Syncs now, as the signed-in admin.
#[tauri::command]
#[specta::specta]
pub async fn sync_now(state: State<'_, AppState>) -> Result<SyncReportDto, ApiError> {
    let permit = state.with_session(sync::permit)?;
    let state = state.inner().clone();
    let report = tauri::async_runtime::spawn_blocking(move || sync::run(&state, sync::Trigger::Person(permit)))
        .await
        .map_err(|e| ApiError::new("internal", e.to_string()))??;
    Ok(report.into())
}

#[tauri::command]
#[specta::specta]
pub async fn sync_conflicts(state: State<'_, AppState>) -> Result<Vec<ConflictDto>, ApiError> {
    state.with_session(|c, s| Ok(sync::conflicts(c, s)?.into_iter().map(Into::into).collect()))
}

/// The open conflicts about one patient, for the chart (clinicians decide the clinical ones there).
#[tauri::command]
#[specta::specta]
pub async fn patient_conflicts(state: State<'_, AppState>, patient_id: i64) -> Result<Vec<ConflictDto>, ApiError> {
    state.with_session(|c, s| Ok(sync::patient_conflicts(c, s, patient_id)?.into_iter().map(Into::into).collect()))
}

/// Resolves a conflict keeping this clinic's version (`keep_local`) or the one that arrived.
#[tauri::command]
#[specta::specta]
pub async fn sync_resolve(state: State<'_, AppState>, id: i64, keep_local: bool) -> Result<(), ApiError> {
    let resolution = if keep_local { sync::Resolution::KeepLocal } else { sync::Resolution::TakeIncoming };
    state.with_session(|c, s| sync::resolve(c, s, id, resolution))
}

#[cfg(test)]
mod tests {
    use super::read;

    /// A pairing file holds two public keys, a few KiB: the shell reads no more than 64 KiB of whatever it is given,
    /// so a huge file, or /dev/zero, which never ends, cannot fill memory.
    #[test]
    fn a_pairing_file_is_read_only_up_to_its_size_limit() {
        let dir = tempfile::tempdir().expect("tmp");
        let huge = dir.path().join("huge.galen-pairing");
        std::fs::write(&huge, " ".repeat(1 << 20)).expect("write");
        let e = read(&huge.display().to_string()).expect_err("a 1 MiB file is refused");
        assert!(e.message.contains("too large"), "{}", e.message);
        let e = read("/dev/zero").expect_err("an endless file is refused");
        assert!(e.message.contains("too large"), "{}", e.message);
    }
}
