//! The patient registry: search as you type, register and edit, the chart, and merge.

use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::{svg_data_url, PatientSummaryDto};
use galen_core::patients::{self, search, NewPatient, Sex};
use serde::{Deserialize, Serialize};
use tauri::State;

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AllergyDto {
    pub substance: String,
    pub severity: String,
    pub reaction: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ClinicalForm {
    pub blood_type: String,
    pub allergies: Vec<AllergyDto>,
    pub conditions: Vec<String>,
    pub pregnancy_status: String,
    pub pregnancy_as_of: String,
    pub notes: String,
}

/// The patient form, both ways. `clinical` is absent for roles that may not see it.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PatientForm {
    pub given_names: String,
    pub family_name: String,
    pub sex: Sex,
    pub date_of_birth: String,
    pub estimated_age: Option<u32>,
    pub national_id: String,
    pub phones: Vec<String>,
    pub email: String,
    pub address: String,
    pub emergency_name: String,
    pub emergency_phone: String,
    pub emergency_relation: String,
    pub consent_share: bool,
    pub clinical: Option<ClinicalForm>,
}

impl From<PatientForm> for NewPatient {
    fn from(f: PatientForm) -> Self {
        let d = patients::Demographics {
            given_names: f.given_names,
            family_name: f.family_name,
            sex: f.sex,
            date_of_birth: f.date_of_birth,
            estimated_age: f.estimated_age,
            national_id: f.national_id,
            phones: f.phones,
            email: f.email,
            address: f.address,
            emergency_contact: patients::EmergencyContact {
                name: f.emergency_name,
                phone: f.emergency_phone,
                relation: f.emergency_relation,
            },
            consent_share: f.consent_share,
        };
        let c = f.clinical.map(|c| patients::Clinical {
            blood_type: c.blood_type,
            allergies: c
                .allergies
                .into_iter()
                .map(|a| patients::Allergy { substance: a.substance, severity: a.severity, reaction: a.reaction })
                .collect(),
            conditions: c.conditions,
            pregnancy_status: c.pregnancy_status,
            pregnancy_as_of: c.pregnancy_as_of,
            notes: c.notes,
        });
        NewPatient { demographics: d, clinical: c }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PatientDto {
    pub id: i64,
    pub mrn: String,
    pub form: PatientForm,
    pub dob_estimated: bool,
    pub deceased: bool,
    /// The MRN as a Code 128 barcode, an SVG `data:` URL.
    pub barcode_data_url: Option<String>,
}

impl From<patients::Patient> for PatientDto {
    fn from(p: patients::Patient) -> Self {
        let d = p.demographics;
        let barcode = galen_core::mrn::barcode_svg(&p.mrn, 60).map(|svg| svg_data_url(&svg));
        Self {
            id: p.id,
            mrn: p.mrn,
            dob_estimated: p.dob_estimated,
            deceased: p.deceased,
            barcode_data_url: barcode,
            form: PatientForm {
                given_names: d.given_names,
                family_name: d.family_name,
                sex: d.sex,
                date_of_birth: d.date_of_birth,
                estimated_age: None,
                national_id: d.national_id,
                phones: d.phones,
                email: d.email,
                address: d.address,
                emergency_name: d.emergency_contact.name,
                emergency_phone: d.emergency_contact.phone,
                emergency_relation: d.emergency_contact.relation,
                consent_share: d.consent_share,
                clinical: p.clinical.map(|c| ClinicalForm {
                    blood_type: c.blood_type,
                    allergies: c
                        .allergies
                        .into_iter()
                        .map(|a| AllergyDto { substance: a.substance, severity: a.severity, reaction: a.reaction })
                        .collect(),
                    conditions: c.conditions,
                    pregnancy_status: c.pregnancy_status,
                    pregnancy_as_of: c.pregnancy_as_of,
                    notes: c.notes,
                }),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SearchPageDto {
    pub results: Vec<PatientSummaryDto>,
    pub more: bool,
    pub mrn_check_failed: bool,
}

impl From<search::Page> for SearchPageDto {
    fn from(p: search::Page) -> Self {
        Self {
            results: p.results.into_iter().map(Into::into).collect(),
            more: p.more,
            mrn_check_failed: p.mrn_check_failed,
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn patient_search(state: State<'_, AppState>, query: String, page: u32) -> Result<SearchPageDto, ApiError> {
    state.with_session(|c, s| Ok(search::search(c, s, &query, page, 20)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn patient_get(state: State<'_, AppState>, id: i64) -> Result<PatientDto, ApiError> {
    state.with_session(|c, s| Ok(patients::get(c, s, id)?.into()))
}

/// Registers (no `id`) or edits a patient. Clinical fields are saved only when the form carries them; galen-core
/// refuses them for roles without clinical access. Likely duplicates come back as `possible_duplicates`.
#[tauri::command]
#[specta::specta]
pub async fn patient_save(
    state: State<'_, AppState>,
    id: Option<i64>,
    form: PatientForm,
    override_duplicates: bool,
) -> Result<PatientDto, ApiError> {
    let new = NewPatient::from(form);
    state.with_session(|c, s| match id {
        None => Ok(patients::register(c, s, &new, override_duplicates)?.into()),
        Some(id) => Ok(patients::update(c, s, id, &new)?.into()),
    })
}

/// Merges the patient with MRN `duplicate_mrn` into `keep` (doctors and admins).
#[tauri::command]
#[specta::specta]
pub async fn patient_merge(
    state: State<'_, AppState>,
    keep: i64,
    duplicate_mrn: String,
) -> Result<PatientDto, ApiError> {
    state.with_session(|c, s| {
        let duplicate = patients::find_by_mrn(c, s, &duplicate_mrn)?;
        Ok(patients::merge(c, s, keep, duplicate.id)?.into())
    })
}
