//! Prescriptions and certificates: drafts, warnings, signing, verification on open, corrections and voids, and
//! documents other sites shared. A screen gets a document from one core call, `documents::open`.

use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::{svg_data_url, SignerDto};
use galen_core::documents::trust::Vouch;
use galen_core::documents::{self as core, formulary, Body, DocumentView, KeyNote, Problem, Verification, Warning};
use galen_core::sync;
use serde::{Deserialize, Serialize};
use tauri::State;

// The bodies mirror galen-core's signed fields one to one, in camelCase; `body_round_trips` checks every kind.
// The value-list fields stay strings (`DoseUnit`, `Manner`… name their values): a document from another site may
// hold one this version does not know.

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RxLineDto {
    pub medicament: String,
    pub indication: String,
    pub dose: String,
    pub dose_unit: String,
    pub route: String,
    pub form: String,
    pub quantity: u32,
    pub frequency: u32,
    pub frequency_unit: String,
    pub prn: bool,
    pub duration: u32,
    pub duration_period: String,
    pub refills: u32,
    pub allow_substitution: bool,
    pub valid_until: String,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PrescriptionDto {
    pub issued_on: String,
    pub pharmacy: String,
    pub notes: String,
    pub lines: Vec<RxLineDto>,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BirthDto {
    pub mother_name: String,
    pub father_name: String,
    pub date_of_birth: String,
    pub country: String,
    pub subdivision: String,
    pub institution: String,
    pub observations: String,
    pub certified_on: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UnderlyingDto {
    pub condition: String,
    pub interval: u32,
    pub unit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DeathDto {
    pub died_at: String,
    pub immediate_cause: String,
    pub underlying_conditions: Vec<UnderlyingDto>,
    pub manner: String,
    pub place: String,
    pub place_details: String,
    pub autopsy: bool,
    pub country: String,
    pub subdivision: String,
    pub institution: String,
    pub observations: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SickLeaveDto {
    pub unfit_from: String,
    pub unfit_to: String,
    pub restrictions: String,
    pub diagnosis: String,
    pub diagnosis_consent: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VoidDto {
    pub voids: String,
    pub reason: String,
}

/// A document's fields; `kind` is the document kind (`prescription`, `sick_leave`…).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyDto {
    Prescription(PrescriptionDto),
    Birth(BirthDto),
    Death(DeathDto),
    SickLeave(SickLeaveDto),
    Void(VoidDto),
}

/// Both conversions between a body DTO and galen-core's struct of the same fields: `plain` fields move as they are,
/// `lists` convert element by element.
macro_rules! mirror {
    ($dto:ident <=> $core:path { $($f:ident),* $(; lists: $($l:ident),*)? }) => {
        impl From<$dto> for $core {
            fn from(d: $dto) -> Self {
                Self { $($f: d.$f,)* $($($l: d.$l.into_iter().map(Into::into).collect(),)*)? }
            }
        }
        impl From<$core> for $dto {
            fn from(c: $core) -> Self {
                Self { $($f: c.$f,)* $($($l: c.$l.into_iter().map(Into::into).collect(),)*)? }
            }
        }
    };
}

mirror!(RxLineDto <=> core::RxLine {
    medicament, indication, dose, dose_unit, route, form, quantity, frequency, frequency_unit, prn, duration,
    duration_period, refills, allow_substitution, valid_until, comment
});
mirror!(PrescriptionDto <=> core::Prescription { issued_on, pharmacy, notes; lists: lines });
mirror!(BirthDto <=> core::BirthCertificate {
    mother_name, father_name, date_of_birth, country, subdivision, institution, observations, certified_on
});
mirror!(UnderlyingDto <=> core::UnderlyingCondition { condition, interval, unit });
mirror!(DeathDto <=> core::DeathCertificate {
    died_at, immediate_cause, manner, place, place_details, autopsy, country, subdivision, institution, observations;
    lists: underlying_conditions
});
mirror!(SickLeaveDto <=> core::SickLeave { unfit_from, unfit_to, restrictions, diagnosis, diagnosis_consent });
mirror!(VoidDto <=> core::VoidNotice { voids, reason });

impl From<BodyDto> for Body {
    fn from(b: BodyDto) -> Self {
        match b {
            BodyDto::Prescription(p) => Body::Prescription(p.into()),
            BodyDto::Birth(b) => Body::Birth(b.into()),
            BodyDto::Death(d) => Body::Death(d.into()),
            BodyDto::SickLeave(s) => Body::SickLeave(s.into()),
            BodyDto::Void(v) => Body::Void(v.into()),
        }
    }
}

impl From<Body> for BodyDto {
    fn from(b: Body) -> Self {
        match b {
            Body::Prescription(p) => BodyDto::Prescription(p.into()),
            Body::Birth(b) => BodyDto::Birth(b.into()),
            Body::Death(d) => BodyDto::Death(d.into()),
            Body::SickLeave(s) => BodyDto::SickLeave(s.into()),
            Body::Void(v) => BodyDto::Void(v.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSummaryDto {
    pub id: i64,
    pub kind: String,
    pub signed: bool,
    pub signed_at: Option<String>,
    pub signer: Option<SignerDto>,
    pub superseded_by: Option<i64>,
    pub voided_by: Option<i64>,
}

impl From<core::Document> for DocumentSummaryDto {
    fn from(d: core::Document) -> Self {
        Self {
            id: d.id,
            kind: d.body.kind().into(),
            signed: d.signed,
            signed_at: d.signed_at,
            signer: d.signer.map(Into::into),
            superseded_by: d.superseded_by,
            voided_by: d.voided_by,
        }
    }
}

/// A document's signature checked: valid, not signed yet, or why it fails (the UI words the problem).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum VerificationDto {
    /// `notes`: what to know about the signing key (made after a password reset, revoked since).
    Valid {
        notes: Vec<KeyNote>,
    },
    Unsigned,
    Invalid {
        problem: Problem,
    },
}

impl From<Verification> for VerificationDto {
    fn from(v: Verification) -> Self {
        match v {
            Verification::Valid { notes, .. } => VerificationDto::Valid { notes },
            Verification::Unsigned => VerificationDto::Unsigned,
            Verification::Invalid { problem } => VerificationDto::Invalid { problem },
        }
    }
}

/// One document as the viewer and editor show it.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DocumentDto {
    pub id: i64,
    pub uuid: String,
    pub patient_id: i64,
    pub signed: bool,
    pub body: BodyDto,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub voided_by: Option<i64>,
    pub signer: Option<SignerDto>,
    pub signed_at: Option<String>,
    /// Recomputed when the document is opened.
    pub verification: VerificationDto,
    /// What a signer must acknowledge first (allergies, pregnancy).
    pub warnings: Vec<Warning>,
    /// The printed QRs (docs/qr-format.md) as SVG `data:` URLs, in order, for signed documents: one, or for a long
    /// prescription one for each group of lines.
    pub qr_data_urls: Vec<String>,
}

impl From<DocumentView> for DocumentDto {
    fn from(v: DocumentView) -> Self {
        let d = v.document;
        Self {
            id: d.id,
            uuid: d.uuid,
            patient_id: d.patient_id,
            signed: d.signed,
            body: d.body.into(),
            supersedes: d.supersedes,
            superseded_by: d.superseded_by,
            voided_by: d.voided_by,
            signer: d.signer.map(Into::into),
            signed_at: d.signed_at,
            verification: v.verification.into(),
            warnings: v.warnings,
            qr_data_urls: v.qr_texts.iter().filter_map(|t| core::qr::svg(t, 4)).map(|svg| svg_data_url(&svg)).collect(),
        }
    }
}

/// A document another site shared, as the chart lists it and the viewer opens it. What was signed is shown only
/// when the doctor's signature verifies; otherwise `problem` says why.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedDocumentDto {
    pub uuid: String,
    pub kind: String,
    pub received_at: String,
    pub problem: Option<Problem>,
    /// The clinic the doctor signed at.
    pub clinic: Option<String>,
    pub signer: Option<SignerDto>,
    pub signed_at: Option<String>,
    /// The patient as the signed document names them.
    pub patient_name: Option<String>,
    /// Whether the clinic it came from vouches for the signer (its trust list): a valid signature counts as
    /// verified only when it does.
    pub vouch: Vouch,
    /// The clinic it came from, by the name its trust list gives (none until it shares one).
    pub sending_clinic: Option<String>,
    /// The patient whose chart holds it, when the signed document names someone else.
    pub filed_under_other: Option<String>,
    /// Absent in lists, and for a document this version of Galen cannot read.
    pub body: Option<BodyDto>,
}

impl ReceivedDocumentDto {
    /// For the chart's list: everything but the body.
    pub fn summary(r: &sync::ReceivedDocument) -> Self {
        let signed = r.contents.as_ref().ok();
        // The kind the doctor signed, rather than the sending site's label, whenever it can be read.
        let kind = signed.and_then(|s| s.body()).map_or_else(|| r.document.kind.clone(), |b| b.kind().into());
        Self {
            uuid: r.document.uuid.clone(),
            kind,
            received_at: r.received_at.clone(),
            problem: r.contents.as_ref().err().cloned(),
            clinic: signed.map(|s| s.clinic.clone()),
            signer: signed.map(|s| s.signer.clone().into()),
            signed_at: signed.map(|s| s.signed_at.clone()),
            patient_name: signed.map(|s| format!("{} {}", s.patient.given_names, s.patient.family_name)),
            vouch: r.vouch.clone(),
            sending_clinic: r.sending_clinic.clone(),
            filed_under_other: r.filed_under_other.clone(),
            body: None,
        }
    }

    /// For the viewer: the summary and what the doctor signed.
    pub fn whole(r: &sync::ReceivedDocument) -> Self {
        let body = r.contents.as_ref().ok().and_then(|s| s.body()).map(Into::into);
        Self { body, ..Self::summary(r) }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MedicineDto {
    pub name: String,
    pub strength: String,
    pub form: String,
}

impl From<&formulary::Medicine> for MedicineDto {
    fn from(m: &formulary::Medicine) -> Self {
        Self { name: m.name.into(), strength: m.strength.into(), form: m.form.into() }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn document_list(state: State<'_, AppState>, patient_id: i64) -> Result<Vec<DocumentSummaryDto>, ApiError> {
    state.with_session(|c, s| Ok(core::list_for_patient(c, s, patient_id)?.into_iter().map(Into::into).collect()))
}

/// A document on a doctor's worklist, with its patient.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemDto {
    pub document: DocumentSummaryDto,
    pub patient: crate::wire::PatientSummaryDto,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct WorklistDto {
    pub drafts: Vec<WorkItemDto>,
    pub signed_today: Vec<WorkItemDto>,
}

/// The signed-in doctor's paperwork: drafts waiting for a signature, and what they signed today.
#[tauri::command]
#[specta::specta]
pub async fn document_worklist(state: State<'_, AppState>) -> Result<WorklistDto, ApiError> {
    state.with_session(|c, s| {
        let w = core::worklist(c, s)?;
        let items = |list: Vec<(core::Document, galen_core::patients::Summary)>| {
            list.into_iter().map(|(d, p)| WorkItemDto { document: d.into(), patient: p.into() }).collect()
        };
        Ok(WorklistDto { drafts: items(w.drafts), signed_today: items(w.signed_today) })
    })
}

/// One document, with its signature checked afresh and the warnings a signer must acknowledge.
#[tauri::command]
#[specta::specta]
pub async fn document_get(state: State<'_, AppState>, id: i64) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| Ok(core::open(c, s, id)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn document_create(
    state: State<'_, AppState>,
    patient_id: i64,
    body: BodyDto,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| Ok(core::open(c, s, core::create_draft(c, s, patient_id, body.into())?.id)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn document_update(state: State<'_, AppState>, id: i64, body: BodyDto) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| Ok(core::open(c, s, core::update_draft(c, s, id, body.into())?.id)?.into()))
}

/// Signs with the doctor's password, typed again; the warnings must have been acknowledged.
#[tauri::command]
#[specta::specta]
pub async fn document_sign(
    state: State<'_, AppState>,
    id: i64,
    password: String,
    warnings_acknowledged: bool,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| Ok(core::open(c, s, core::sign(c, s, id, &password, warnings_acknowledged)?.id)?.into()))
}

/// Voids a signed document with a signed notice; returns the voided document.
#[tauri::command]
#[specta::specta]
pub async fn document_void(
    state: State<'_, AppState>,
    id: i64,
    reason: String,
    password: String,
) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| {
        core::void(c, s, id, &reason, &password)?;
        Ok(core::open(c, s, id)?.into())
    })
}

/// Starts a correction of a signed document; returns the new draft.
#[tauri::command]
#[specta::specta]
pub async fn document_correct(state: State<'_, AppState>, id: i64) -> Result<DocumentDto, ApiError> {
    state.with_session(|c, s| Ok(core::open(c, s, core::correct(c, s, id)?.id)?.into()))
}

/// Medicines from the bundled formulary whose name starts with `prefix` (for autocomplete).
#[tauri::command]
#[specta::specta]
pub async fn formulary_search(prefix: String) -> Result<Vec<MedicineDto>, ApiError> {
    Ok(formulary::search(&prefix, 12).into_iter().map(Into::into).collect())
}

/// The documents other sites shared about this patient (through the partner), newest first.
#[tauri::command]
#[specta::specta]
pub async fn received_list(state: State<'_, AppState>, patient_id: i64) -> Result<Vec<ReceivedDocumentDto>, ApiError> {
    state.with_session(|c, s| {
        Ok(sync::received_for_patient(c, s, patient_id)?.iter().map(ReceivedDocumentDto::summary).collect())
    })
}

/// A received document on a clinician's home, with the chart it is filed in.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedItemDto {
    pub patient_id: i64,
    pub document: ReceivedDocumentDto,
}

/// Documents received from other sites lately (two weeks, the newest 20), for a clinician's home.
#[tauri::command]
#[specta::specta]
pub async fn received_recent(state: State<'_, AppState>) -> Result<Vec<ReceivedItemDto>, ApiError> {
    state.with_session(|c, s| {
        Ok(sync::recently_received(c, s)?
            .iter()
            .map(|(patient_id, d)| ReceivedItemDto {
                patient_id: *patient_id,
                document: ReceivedDocumentDto::summary(d),
            })
            .collect())
    })
}

/// One received document, its doctor's signature checked afresh.
#[tauri::command]
#[specta::specta]
pub async fn received_get(
    state: State<'_, AppState>,
    patient_id: i64,
    uuid: String,
) -> Result<ReceivedDocumentDto, ApiError> {
    state.with_session(|c, s| Ok(ReceivedDocumentDto::whole(&sync::received_document(c, s, patient_id, &uuid)?)))
}
