//! `patients`: the patient registry. Registration and edits with field-level validation, MRNs with a check
//! character, duplicate detection, merging, and search as you type (SQLite FTS5 inside the encrypted file).
//!
//! Tables (one module each): `patients` (here), `patient_identifiers` (every MRN a patient answers to, including
//! merged-away ones, and every phone, for exact lookups) and `patient_search` (FTS5 over the names; see
//! `search.rs`). Clinical fields are only read or written for roles allowed `PatientReadClinical` /
//! `PatientUpdateClinical` (or under emergency access).

mod duplicates;
mod model;
pub mod search;
pub mod seed;
pub mod shared;
pub mod validate;

pub use duplicates::Candidate;
pub use model::*;

use crate::audit::{self, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldError, FieldErrors, Result as StoreResult};
use crate::permissions::Action;
use crate::session::Session;
use crate::store::Store;
use crate::{mrn, settings};
use rusqlite::{Connection, OptionalExtension};

/// The clinic's MRN prefix: the setting, else up to three letters of the clinic's name.
pub fn mrn_prefix(conn: &Connection) -> StoreResult<String> {
    if let Some(p) = settings::mrn_prefix(conn)? {
        return Ok(p);
    }
    let site = settings::site_name_conn(conn)?.unwrap_or_default();
    let letters: String = crate::text::fold(&site).chars().filter(char::is_ascii_alphabetic).take(3).collect();
    Ok(if letters.len() >= 2 { letters.to_uppercase() } else { "GAL".into() })
}

/// The next MRN under the current prefix: one more than the highest issued, found through the MRN index.
fn next_mrn(conn: &Connection) -> StoreResult<String> {
    let prefix = mrn_prefix(conn)?;
    Ok(mrn::format(&prefix, last_sequence(conn, &prefix)? + 1))
}

fn last_sequence(conn: &Connection, prefix: &str) -> StoreResult<u64> {
    let last: Option<String> = conn
        .query_row(
            "SELECT mrn FROM patients WHERE mrn > ?1 AND mrn < ?2 ORDER BY mrn DESC LIMIT 1",
            (format!("{prefix}-"), format!("{prefix}-~")),
            |r| r.get(0),
        )
        .optional()?;
    Ok(last.and_then(|m| m.get(prefix.len() + 1..m.len() - 1).and_then(|s| s.parse().ok())).unwrap_or(0))
}

/// Writes the lookup rows for a patient: the MRN, the phones and the searchable names.
fn index(conn: &Connection, id: i64, code: &str, given: &str, family: &str, phones: &[String]) -> StoreResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO patient_identifiers (kind, value, patient_id) VALUES ('mrn', ?1, ?2)",
        (mrn::normalize(code), id),
    )?;
    conn.execute("DELETE FROM patient_identifiers WHERE kind = 'phone' AND patient_id = ?1", [id])?;
    for p in phones {
        conn.execute(
            "INSERT OR IGNORE INTO patient_identifiers (kind, value, patient_id) VALUES ('phone', ?1, ?2)",
            (phone_key(p), id),
        )?;
    }
    conn.execute("DELETE FROM patient_search WHERE rowid = ?1", [id])?;
    conn.execute("INSERT INTO patient_search (rowid, names) VALUES (?1, ?2)", (id, format!("{given} {family}")))?;
    Ok(())
}

/// Phones are matched on their last 9 digits, so `+351 21 000 0000` and `21 000 0000` meet.
pub(crate) fn phone_key(p: &str) -> String {
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(9)..].to_owned()
}

fn today(clinic: &Clinic) -> time::Date {
    clinic.now().date()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    // Plain strings, booleans and lists always serialize.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
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
    if !candidates.is_empty() && !override_duplicates {
        return Err(Error::PossibleDuplicates(candidates));
    }
    let now = clinic.now_rfc3339();
    let c = clinical.unwrap_or_default();
    let id = clinic.store().write(|tx| {
        let code = next_mrn(tx)?;
        let id = insert(tx, &code, &d, &dob, estimated, &c, &now)?;
        audit::record(tx, &now, &actor, "patient.create", ("patient", &id.to_string()), Outcome::Ok)?;
        if !candidates.is_empty() {
            audit::record(tx, &now, &actor, "patient.duplicate_override", ("patient", &id.to_string()), Outcome::Ok)?;
        }
        Ok(id)
    })?;
    get(clinic, session, id)
}

/// Inserts one validated patient with its lookup rows; returns its id.
fn insert(
    tx: &Connection,
    code: &str,
    d: &Demographics,
    dob: &str,
    estimated: bool,
    c: &Clinical,
    now: &str,
) -> StoreResult<i64> {
    tx.execute(
        "INSERT INTO patients (uuid, mrn, given_names, family_name, sex, date_of_birth, dob_estimated, national_id,
             phones, email, address, emergency_contact, consent_share, blood_type, allergies, conditions,
             pregnancy_status, pregnancy_as_of, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?20)",
        rusqlite::params![
            uuid::Uuid::now_v7().to_string(),
            code,
            d.given_names,
            d.family_name,
            d.sex.as_str(),
            dob,
            estimated,
            (!d.national_id.is_empty()).then_some(&d.national_id),
            json(&d.phones),
            d.email,
            d.address,
            json(&d.emergency_contact),
            d.consent_share,
            c.blood_type,
            json(&c.allergies),
            json(&c.conditions),
            c.pregnancy_status_or_unknown(),
            c.pregnancy_as_of,
            c.notes,
            now,
        ],
    )?;
    let id = tx.last_insert_rowid();
    index(tx, id, code, &d.given_names, &d.family_name, &d.phones)?;
    Ok(id)
}

impl Clinical {
    fn pregnancy_status_or_unknown(&self) -> &str {
        if self.pregnancy_status.is_empty() {
            "unknown"
        } else {
            &self.pregnancy_status
        }
    }
}

fn national_id_free(conn: &Connection, national_id: &str, except: Option<i64>) -> Result<(), Error> {
    if national_id.is_empty() {
        return Ok(());
    }
    let holder: Option<(i64, String, String, String)> = conn
        .query_row(
            "SELECT id, mrn, given_names, family_name FROM patients WHERE national_id = ?1 AND merged_into IS NULL",
            [national_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match holder {
        Some((id, code, given, family)) if Some(id) != except => {
            Err(Error::Invalid(FieldErrors::one(FieldError::new(
                "national_id",
                format!("This national ID already belongs to {given} {family} ({code}). Open that record instead."),
            ))))
        }
        _ => Ok(()),
    }
}

/// Replaces the demographics (receptionists and up). Clinical fields are untouched.
pub fn update_demographics(clinic: &Clinic, session: &Session, id: i64, d: &Demographics) -> Result<Patient, Error> {
    let actor = clinic.authorize(session, Action::PatientUpdateDemographics, Some(id))?;
    let current = require(clinic.store().conn(), id)?;
    let (d, dob, estimated) = validate::demographics(d, today(clinic)).map_err(Error::Invalid)?;
    national_id_free(clinic.store().conn(), &d.national_id, Some(id))?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute(
            "UPDATE patients SET given_names = ?2, family_name = ?3, sex = ?4, date_of_birth = ?5, dob_estimated = ?6,
                 national_id = ?7, phones = ?8, email = ?9, address = ?10, emergency_contact = ?11, consent_share = ?12,
                 updated_at = ?13
             WHERE id = ?1",
            rusqlite::params![
                id,
                d.given_names,
                d.family_name,
                d.sex.as_str(),
                dob,
                estimated,
                (!d.national_id.is_empty()).then_some(&d.national_id),
                json(&d.phones),
                d.email,
                d.address,
                json(&d.emergency_contact),
                d.consent_share,
                now,
            ],
        )?;
        index(tx, id, &current.mrn, &d.given_names, &d.family_name, &d.phones)?;
        audit::record(tx, &now, &actor, "patient.update", ("patient", &id.to_string()), Outcome::Ok)
    })?;
    get(clinic, session, id)
}

/// Replaces the clinical fields (doctors, or others under emergency access).
pub fn update_clinical(clinic: &Clinic, session: &Session, id: i64, c: &Clinical) -> Result<Patient, Error> {
    let actor = clinic.authorize(session, Action::PatientUpdateClinical, Some(id))?;
    let current = require(clinic.store().conn(), id)?;
    let c = validate::clinical(c, current.demographics.sex, today(clinic)).map_err(Error::Invalid)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute(
            "UPDATE patients SET blood_type = ?2, allergies = ?3, conditions = ?4, pregnancy_status = ?5,
                 pregnancy_as_of = ?6, notes = ?7, updated_at = ?8 WHERE id = ?1",
            rusqlite::params![
                id,
                c.blood_type,
                json(&c.allergies),
                json(&c.conditions),
                c.pregnancy_status,
                c.pregnancy_as_of,
                c.notes,
                now
            ],
        )?;
        audit::record(tx, &now, &actor, "patient.update_clinical", ("patient", &id.to_string()), Outcome::Ok)
    })?;
    get(clinic, session, id)
}

const SELECT: &str = "SELECT id, uuid, mrn, given_names, family_name, sex, coalesce(date_of_birth, ''), dob_estimated,
        coalesce(national_id, ''), phones, email, address, emergency_contact, consent_share, blood_type, allergies,
        conditions, pregnancy_status, pregnancy_as_of, notes, deceased, merged_into FROM patients";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Patient, Clinical)> {
    let parse = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let demographics = Demographics {
        given_names: r.get(3)?,
        family_name: r.get(4)?,
        sex: Sex::parse(&parse(5)?).unwrap_or_default(),
        date_of_birth: r.get(6)?,
        estimated_age: None,
        national_id: r.get(8)?,
        phones: serde_json::from_str(&parse(9)?).unwrap_or_default(),
        email: r.get(10)?,
        address: r.get(11)?,
        emergency_contact: serde_json::from_str(&parse(12)?).unwrap_or_default(),
        consent_share: r.get(13)?,
    };
    let clinical = Clinical {
        blood_type: r.get(14)?,
        allergies: serde_json::from_str(&parse(15)?).unwrap_or_default(),
        conditions: serde_json::from_str(&parse(16)?).unwrap_or_default(),
        pregnancy_status: r.get(17)?,
        pregnancy_as_of: r.get(18)?,
        notes: r.get(19)?,
    };
    let patient = Patient {
        id: r.get(0)?,
        uuid: r.get(1)?,
        mrn: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        demographics,
        dob_estimated: r.get(7)?,
        deceased: r.get(20)?,
        merged_into: r.get(21)?,
        clinical: None,
    };
    Ok((patient, clinical))
}

fn require(conn: &Connection, id: i64) -> Result<Patient, Error> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], read)
        .optional()?
        .map(|(p, _)| p)
        .ok_or_else(|| Error::NotFound { what: format!("Patient {id}") })
}

/// The uuids other sites know a chart by: the patient's own and those of every record merged into it.
pub(crate) fn uuids_in_chart(conn: &Connection, id: i64) -> Result<Vec<String>, Error> {
    require(conn, id)?;
    let mut stmt = conn.prepare(
        "WITH RECURSIVE chart(id) AS (
             SELECT ?1 UNION SELECT p.id FROM patients p JOIN chart ON p.merged_into = chart.id)
         SELECT uuid FROM patients WHERE id IN chart ORDER BY id",
    )?;
    let uuids = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(uuids)
}

/// One patient, with clinical fields only for a viewer allowed to see them (by role or emergency access).
/// A merged-away record resolves to the patient it was merged into.
pub fn get(clinic: &Clinic, session: &Session, id: i64) -> Result<Patient, Error> {
    let target = match require(clinic.store().conn(), id)?.merged_into {
        Some(kept) => kept,
        None => id,
    };
    let actor = clinic.authorize(session, Action::PatientReadDemographics, Some(target))?;
    let clinical_viewer = clinic.permits(session, Action::PatientReadClinical, Some(target))?;
    let (mut patient, clinical) = clinic
        .store()
        .conn()
        .query_row(&format!("{SELECT} WHERE id = ?1"), [target], read)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: format!("Patient {target}") })?;
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
    let code = mrn::parse(typed).map_err(|m| Error::Invalid(FieldErrors::one(FieldError::new("mrn", m))))?;
    let id: Option<i64> = clinic
        .store()
        .conn()
        .query_row(
            "SELECT patient_id FROM patient_identifiers WHERE kind = 'mrn' AND value = ?1",
            [mrn::normalize(&code)],
            |r| r.get(0),
        )
        .optional()?;
    let id = id.ok_or_else(|| Error::NotFound { what: format!("MRN {code}") })?;
    get(clinic, session, id)
}

/// Merges `merged` into `kept` (doctors and admins). The merged record stays, marked, so its MRN still
/// resolves; its phones and MRN now lead to `kept`.
pub fn merge(clinic: &Clinic, session: &Session, kept: i64, merged: i64) -> Result<Patient, Error> {
    let actor = clinic.authorize(session, Action::PatientMerge, Some(kept))?;
    let conn = clinic.store().conn();
    let (a, b) = (require(conn, kept)?, require(conn, merged)?);
    let invalid = |m: &str| Error::Invalid(FieldErrors::one(FieldError::new("merge", m)));
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
        let moved_id = if ida.is_empty() && !idb.is_empty() { Some(idb.clone()) } else { None };
        tx.execute(
            "UPDATE patients SET merged_into = ?2, national_id = NULL, updated_at = ?3 WHERE id = ?1",
            (merged, kept, &now),
        )?;
        if let Some(nid) = moved_id {
            tx.execute("UPDATE patients SET national_id = ?2 WHERE id = ?1", (kept, nid))?;
        }
        tx.execute("UPDATE OR IGNORE patient_identifiers SET patient_id = ?1 WHERE patient_id = ?2", (kept, merged))?;
        tx.execute("DELETE FROM patient_identifiers WHERE patient_id = ?1", [merged])?;
        tx.execute("DELETE FROM patient_search WHERE rowid = ?1", [merged])?;
        audit::record(tx, &now, &actor, "patient.merge", ("patient", &format!("{merged}->{kept}")), Outcome::Ok)
    })?;
    get(clinic, session, kept)
}

/// How many patients are registered (merged-away records excluded): an aggregate with nothing personal in it.
pub fn count(store: &Store) -> crate::error::Result<i64> {
    Ok(store.conn().query_row("SELECT count(*) FROM patients WHERE merged_into IS NULL", [], |r| r.get(0))?)
}

pub(crate) fn require_exists(clinic: &Clinic, id: i64) -> Result<(), Error> {
    require(clinic.store().conn(), id).map(drop)
}
