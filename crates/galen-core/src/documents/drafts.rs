//! Drafts: starting one (or a correction of a signed document), editing it, and the warnings a doctor must
//! acknowledge before signing it.

use super::formulary;
use super::model::{Body, PatientSnapshot, Warning};
use super::table::{self, Document};
use super::validate;
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::Error;
use crate::patients::table as patients;
use crate::permissions::Action;
use crate::session::Session;
use rusqlite::Connection;

/// Who may start or edit a draft of this kind.
pub(crate) fn draft_action(body: &Body) -> Action {
    match body {
        Body::Prescription(_) => Action::PrescriptionDraft,
        Body::Void(_) => Action::DocumentVoid,
        _ => Action::CertificateDraft,
    }
}

/// The patient as a document names them, whether their date of birth is estimated, and whether the record is
/// current (not merged away).
pub(crate) fn patient_snapshot(conn: &Connection, id: i64) -> Result<(PatientSnapshot, bool, bool), Error> {
    let p = patients::require(conn, id)?;
    let d = p.demographics;
    let snapshot = PatientSnapshot {
        mrn: p.mrn,
        given_names: d.given_names,
        family_name: d.family_name,
        date_of_birth: d.date_of_birth,
    };
    Ok((snapshot, p.dob_estimated, p.merged_into.is_none()))
}

fn check_body(clinic: &Clinic, patient_id: i64, body: &mut Body) -> Result<(), Error> {
    let conn = clinic.store().conn();
    let (snapshot, estimated, current) = patient_snapshot(conn, patient_id)?;
    if !current {
        return Err(Error::invalid("patient", "This record was merged; use the kept one."));
    }
    validate::body(body, clinic.now().date(), &snapshot.date_of_birth, estimated).map_err(Error::Invalid)?;
    if let Body::Void(v) = body {
        voidable(conn, patient_id, &v.voids)?;
    }
    if let Body::Birth(_) = body {
        if table::has_current_birth_certificate(conn, patient_id)? {
            return Err(Error::invalid(
                "kind",
                "This patient already has a birth certificate; write a correction of it instead.",
            ));
        }
    }
    Ok(())
}

/// Whether a void notice for `patient_id` may name `uuid`: a signed document of that patient, not voided yet, and
/// not a void notice itself. Checked when the notice is drafted and again when it is signed.
pub(crate) fn voidable(conn: &Connection, patient_id: i64, uuid: &str) -> Result<(), Error> {
    let refuse = |why: &str| Err(Error::invalid("voids", why));
    match table::by_uuid(conn, uuid)? {
        None => refuse("There is no document with this number."),
        Some(d) if d.patient_id != patient_id => refuse("That document belongs to another patient."),
        Some(d) if !d.signed => refuse("That document is a draft: delete or edit it instead of voiding it."),
        Some(d) if d.voided_by.is_some() => refuse("That document is already void."),
        Some(d) if matches!(d.body, Body::Void(_)) => refuse("A void notice cannot itself be voided."),
        Some(_) => Ok(()),
    }
}

/// Starts a draft (prescriptions: nurses and doctors; certificates: doctors).
pub fn create_draft(clinic: &Clinic, session: &Session, patient_id: i64, body: Body) -> Result<Document, Error> {
    create(clinic, session, patient_id, body, None)
}

/// A new draft; a correction (`supersedes`) copies fields that were already checked when they were signed.
pub(crate) fn create(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
    mut body: Body,
    supersedes: Option<i64>,
) -> Result<Document, Error> {
    let actor = clinic.authorize(session, draft_action(&body), Some(patient_id))?;
    if supersedes.is_none() {
        check_body(clinic, patient_id, &mut body)?;
    }
    let now = clinic.now_rfc3339();
    let id = clinic.store().write(|tx| {
        let id = table::insert_draft(tx, patient_id, actor.user_id, &body, supersedes, &now)?;
        audit::record(tx, &now, &actor, "document.create", ("document", &id.to_string()), Outcome::Ok)?;
        Ok(id)
    })?;
    table::load(clinic.store().conn(), id)
}

/// Replaces a draft's fields. Signed documents never change.
pub fn update_draft(clinic: &Clinic, session: &Session, id: i64, mut body: Body) -> Result<Document, Error> {
    let doc = table::load(clinic.store().conn(), id)?;
    let actor = clinic.authorize(session, draft_action(&doc.body), Some(doc.patient_id))?;
    if doc.signed {
        return Err(Error::AlreadySigned { id });
    }
    if body.kind() != doc.body.kind() {
        return Err(Error::invalid("kind", "A draft keeps its kind."));
    }
    let (snapshot, estimated, _) = patient_snapshot(clinic.store().conn(), doc.patient_id)?;
    validate::body(&mut body, clinic.now().date(), &snapshot.date_of_birth, estimated).map_err(Error::Invalid)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        table::update_draft(tx, id, &body, &now)?;
        audit::record(tx, &now, &actor, "document.update", ("document", &id.to_string()), Outcome::Ok)
    })?;
    table::load(clinic.store().conn(), id)
}

/// Starts a correction: a new draft with the same fields that, once signed, supersedes `id`.
pub fn correct(clinic: &Clinic, session: &Session, id: i64) -> Result<Document, Error> {
    let doc = table::load(clinic.store().conn(), id)?;
    if !doc.signed || doc.superseded_by.is_some() || doc.voided_by.is_some() || matches!(doc.body, Body::Void(_)) {
        return Err(Error::invalid("document", "Only a current signed document can be corrected."));
    }
    create(clinic, session, doc.patient_id, doc.body, Some(id))
}

/// What must be acknowledged before signing: recorded allergies matching a medicine by name or class, and
/// pregnancy. For callers that have checked the permission to read the document.
pub(crate) fn warnings(conn: &Connection, doc: &Document) -> Result<Vec<Warning>, Error> {
    let Body::Prescription(p) = &doc.body else { return Ok(Vec::new()) };
    let Some((_, clinical)) = patients::get(conn, doc.patient_id)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for line in &p.lines {
        let med = crate::text::fold(&line.medicament);
        for a in &clinical.allergies {
            let substance = crate::text::fold(&a.substance);
            if !substance.is_empty() && (med.contains(&substance) || formulary::same_class(&med, &substance)) {
                out.push(Warning::Allergy {
                    substance: a.substance.clone(),
                    severity: a.severity.clone(),
                    medicament: line.medicament.clone(),
                });
            }
        }
    }
    if clinical.pregnancy_status == "pregnant" {
        out.push(Warning::Pregnancy);
    }
    Ok(out)
}
