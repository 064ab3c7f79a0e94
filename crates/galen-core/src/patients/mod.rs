//! `patients`: the patient registry. Registration and edits with field-level validation, MRNs with a check
//! character, duplicate detection, merging, and search as you type (SQLite FTS5 inside the encrypted file).
//!
//! This module holds what a signed-in person does (each checked, acted and audited in one go); the tables
//! (`patients`, `patient_identifiers`, `patient_search`) are `table.rs`. Clinical fields are only read or
//! written for roles allowed `PatientReadClinical` / `PatientUpdateClinical` (or under emergency access).

mod duplicates;
pub(crate) mod model;
pub mod search;
pub mod shared;
pub(crate) mod table;
pub mod validate;

pub use model::*;

use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors, Missing};
use crate::mrn;
use crate::permissions::Action;
use crate::session::Session;
use crate::store::Store;

fn today(clinic: &Clinic) -> time::Date {
    clinic.now().date()
}

/// Registers a patient. Refuses a national ID already on file (naming the patient); returns
/// `Error::PossibleDuplicates` for likely duplicates unless `override_duplicates`, which is then logged.
pub fn register(
    clinic: &Clinic,
    session: &Session,
    new: &NewPatient,
    override_duplicates: bool,
) -> Result<Patient, Error> {
    let actor = clinic.authorize(session, Action::PatientCreate, None)?;
    if new.clinical.is_some() {
        clinic.authorize(session, Action::PatientUpdateClinical, None)?;
    }
    let checked = check_new(clinic, new)?;
    if !checked.candidates.is_empty() && !override_duplicates {
        return Err(Error::PossibleDuplicates(checked.candidates));
    }
    let now = clinic.now_rfc3339();
    let id = clinic.store().write(|tx| insert_checked(tx, &checked, &actor, &now))?;
    tracing::info!(patient_id = id, duplicates_overridden = checked.candidates.len(), "patient registered");
    get(clinic, session, id)
}

/// A new patient as the form's rules cleaned it, with the records it may duplicate: ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub demographics: Demographics,
    dob: String,
    estimated: bool,
    pub clinical: Clinical,
    pub candidates: Vec<Candidate>,
}

/// Checks a new patient as registering does (every field error at once; a national ID on file is refused),
/// and finds likely duplicates. Writes nothing; the caller has checked the permissions.
pub(crate) fn check_new(clinic: &Clinic, new: &NewPatient) -> Result<Checked, Error> {
    let today = today(clinic);
    let mut errors = FieldErrors::default();
    let demo = validate::demographics(&new.demographics, today);
    let (d, dob, estimated) = match demo {
        Ok(v) => (Some(v.0), v.1, v.2),
        Err(e) => {
            errors.0.extend(e.0);
            (None, String::new(), false)
        }
    };
    let clinical = match &new.clinical {
        Some(c) => match validate::clinical(c, new.demographics.sex, today) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        },
        None => None,
    };
    errors.into_result()?;
    let Some(d) = d else { return Err(Error::Invalid(FieldErrors::default())) };
    let conn = clinic.store().conn();
    national_id_free(conn, &d.national_id, None)?;
    let candidates = duplicates::find(conn, &d, &dob, None)?;
    Ok(Checked { demographics: d, dob, estimated, clinical: clinical.unwrap_or_default(), candidates })
}

/// Writes a checked patient and its audit rows inside `tx` (a duplicate override is logged); returns its id.
pub(crate) fn insert_checked(tx: &rusqlite::Connection, p: &Checked, actor: &Actor, now: &str) -> Result<i64, Error> {
    let code = table::next_mrn(tx)?;
    let id = table::insert(tx, &code, &p.demographics, &p.dob, p.estimated, &p.clinical, now)?;
    let entity = ("patient", id.to_string());
    audit::record(tx, now, actor, "patient.create", (entity.0, &entity.1), Outcome::Ok)?;
    if p.demographics.consent_share {
        audit::record(tx, now, actor, "patient.consent_given", (entity.0, &entity.1), Outcome::Ok)?;
    }
    if !p.candidates.is_empty() {
        audit::record(tx, now, actor, "patient.duplicate_override", (entity.0, &entity.1), Outcome::Ok)?;
    }
    Ok(id)
}

fn national_id_free(conn: &rusqlite::Connection, national_id: &str, except: Option<i64>) -> Result<(), Error> {
    if national_id.is_empty() {
        return Ok(());
    }
    match table::national_id_holder(conn, national_id)? {
        Some((id, code, given, family)) if Some(id) != except => Err(Error::invalid(
            "national_id",
            format!("This national ID already belongs to {given} {family} ({code}). Open that record instead."),
        )),
        _ => Ok(()),
    }
}

/// Edits a patient: the demographics (receptionists and up) and, when the form carries them, the clinical
/// fields (doctors, or others under emergency access). Every field is checked first; both are written in one
/// transaction, each with its audit row.
pub fn update(clinic: &Clinic, session: &Session, id: i64, new: &NewPatient) -> Result<Patient, Error> {
    let actor = clinic.authorize(session, Action::PatientUpdateDemographics, Some(id))?;
    let clinician = match &new.clinical {
        Some(_) => Some(clinic.authorize(session, Action::PatientUpdateClinical, Some(id))?),
        None => None,
    };
    let conn = clinic.store().conn();
    let current = table::require(conn, id)?;
    let mut errors = FieldErrors::default();
    let demographics = validate::demographics(&new.demographics, today(clinic)).map_err(|e| errors.0.extend(e.0));
    let clinical = match &new.clinical {
        Some(c) => {
            validate::clinical(c, new.demographics.sex, today(clinic)).map(Some).map_err(|e| errors.0.extend(e.0))
        }
        None => Ok(None),
    };
    errors.into_result()?;
    let (Ok((d, dob, estimated)), Ok(clinical)) = (demographics, clinical) else {
        return Err(Error::Invalid(FieldErrors::default()));
    };
    national_id_free(conn, &d.national_id, Some(id))?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        table::update_demographics(tx, &current, &d, &dob, estimated, &now)?;
        audit::record(tx, &now, &actor, "patient.update", ("patient", &id.to_string()), Outcome::Ok)?;
        // Consent is the patient's decision about sharing: its own entry, so the trail shows who recorded it.
        if d.consent_share != current.demographics.consent_share {
            let action = if d.consent_share { "patient.consent_given" } else { "patient.consent_withdrawn" };
            audit::record(tx, &now, &actor, action, ("patient", &id.to_string()), Outcome::Ok)?;
        }
        if let (Some(c), Some(clinician)) = (&clinical, &clinician) {
            table::update_clinical(tx, id, c, &now)?;
            audit::record(tx, &now, clinician, "patient.update_clinical", ("patient", &id.to_string()), Outcome::Ok)?;
        }
        Ok(())
    })?;
    get(clinic, session, id)
}

/// One patient, with clinical fields only for a viewer allowed to see them (by role or emergency access).
/// A merged-away record resolves to the patient it was merged into.
pub fn get(clinic: &Clinic, session: &Session, id: i64) -> Result<Patient, Error> {
    let target = match table::require(clinic.store().conn(), id)?.merged_into {
        Some(kept) => kept,
        None => id,
    };
    let actor = clinic.authorize(session, Action::PatientReadDemographics, Some(target))?;
    let clinical_viewer = clinic.permits(session, Action::PatientReadClinical, Some(target))?;
    let (mut patient, clinical) =
        table::get(clinic.store().conn(), target)?.ok_or_else(|| Error::NotFound(Missing::Patient(target)))?;
    if clinical_viewer.is_some() {
        patient.clinical = Some(clinical);
    }
    let viewer: Actor = clinical_viewer.unwrap_or(actor);
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &viewer, "patient.view", ("patient", &target.to_string()), Outcome::Ok))?;
    Ok(patient)
}

/// The patient an MRN belongs to (following merges). A typo in the MRN is a field error, never another patient.
pub fn find_by_mrn(clinic: &Clinic, session: &Session, typed: &str) -> Result<Patient, Error> {
    clinic.authorize(session, Action::PatientSearch, None)?;
    let code = mrn::parse(typed).map_err(|m| Error::invalid("mrn", m))?;
    let id = table::by_mrn(clinic.store().conn(), &mrn::normalize(&code))?
        .ok_or_else(|| Error::NotFound(Missing::Mrn(code.to_string())))?;
    get(clinic, session, id)
}

/// Merges `merged` into `kept` (doctors and admins). The merged record stays, marked, so its MRN still
/// resolves; its phones and MRN now lead to `kept`.
pub fn merge(clinic: &Clinic, session: &Session, kept: i64, merged: i64) -> Result<Patient, Error> {
    let actor = clinic.authorize(session, Action::PatientMerge, Some(kept))?;
    let conn = clinic.store().conn();
    let (a, b) = (table::require(conn, kept)?, table::require(conn, merged)?);
    let invalid = |m: &str| Error::invalid("merge", m);
    if kept == merged {
        return Err(invalid("Choose two different patients."));
    }
    if a.merged_into.is_some() || b.merged_into.is_some() {
        return Err(invalid("One of these records was already merged into another."));
    }
    let (ida, idb) = (&a.demographics.national_id, &b.demographics.national_id);
    if !ida.is_empty() && !idb.is_empty() && ida != idb {
        return Err(invalid("These patients have different national IDs; check that they are the same person."));
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        let moved_id = (ida.is_empty() && !idb.is_empty()).then_some(idb.as_str());
        table::merge(tx, kept, merged, moved_id, &now)?;
        tracing::info!(kept, merged, "patients merged");
        audit::record(tx, &now, &actor, "patient.merge", ("patient", &format!("{merged}->{kept}")), Outcome::Ok)
    })?;
    get(clinic, session, kept)
}

/// How many patients are registered (merged-away records excluded): an aggregate with nothing personal in it.
pub fn count(store: &Store) -> crate::error::Result<i64> {
    table::count(store.conn())
}

/// The patients a front desk reaches for first: those this person opened lately and those registered lately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recent {
    /// Opened by the signed-in person, newest first.
    pub opened: Vec<Summary>,
    /// Registered at this clinic, newest first.
    pub registered: Vec<Summary>,
}

/// Up to `limit` of each kind of recent patient, for the search page before anything is typed.
pub fn recent(clinic: &Clinic, session: &Session, limit: u32) -> Result<Recent, Error> {
    clinic.authorize(session, Action::PatientSearch, None)?;
    let conn = clinic.store().conn();
    let limit = limit.clamp(1, 50);
    let ids = audit::recently_opened(conn, session.user_id(), limit as usize)?;
    let found = table::summaries(conn, &ids)?;
    let opened = ids.iter().filter_map(|id| found.iter().find(|s| s.id == *id).cloned()).collect();
    Ok(Recent { opened, registered: table::recently_registered(conn, limit)? })
}
