//! `patients`: the patient record. This is its first, minimal shape (names, date of birth, notes); the patient
//! registry adds the full record, MRNs, validation and search in later migrations.

use crate::audit::{self, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors};
use crate::permissions::Action;
use crate::session::Session;
use crate::store::{migrate::Migration, Store};
use crate::text;
use rusqlite::OptionalExtension;

pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 3,
    sql: "CREATE TABLE patients (
            id            INTEGER PRIMARY KEY,
            uuid          TEXT NOT NULL UNIQUE,
            given_names   TEXT NOT NULL,
            family_name   TEXT NOT NULL,
            date_of_birth TEXT,
            notes         TEXT NOT NULL DEFAULT '',
            created_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL
          ) STRICT;",
}];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatient {
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    /// Clinical: hidden from roles without clinical access.
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub id: i64,
    pub uuid: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    /// `None` when the viewer may not see clinical fields (e.g. a receptionist).
    pub notes: Option<String>,
}

pub const NAME_MAX: usize = 200;
pub const NOTES_MAX: usize = 20_000;

/// Stores a new patient and returns its id once the write is durable (committed with `synchronous=FULL`).
pub fn register(clinic: &Clinic, session: &Session, p: &NewPatient) -> Result<i64, Error> {
    let actor = clinic.authorize(session, Action::PatientCreate, None)?;
    let (given, family, notes) = (text::clean(&p.given_names), text::clean(&p.family_name), text::clean(&p.notes));
    let mut errors = FieldErrors::default();
    errors.absorb(text::check_required("given_names", &given, NAME_MAX));
    errors.absorb(text::check_required("family_name", &family, NAME_MAX));
    errors.absorb(text::check_max("notes", &notes, NOTES_MAX));
    errors.into_result()?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute(
            "INSERT INTO patients (uuid, given_names, family_name, date_of_birth, notes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            (uuid::Uuid::now_v7().to_string(), &given, &family, p.date_of_birth.as_deref(), &notes, &now),
        )?;
        let id = tx.last_insert_rowid();
        audit::record(tx, &now, &actor, "patient.create", ("patient", &id.to_string()), Outcome::Ok)?;
        Ok(id)
    })
}

/// One patient; clinical fields only for a viewer allowed to see them (by role or emergency access).
pub fn get(clinic: &Clinic, session: &Session, id: i64) -> Result<Option<Patient>, Error> {
    let actor = clinic.authorize(session, Action::PatientReadDemographics, Some(id))?;
    let clinical = clinic.permits(session, Action::PatientReadClinical, Some(id))?;
    let found = clinic
        .store()
        .conn()
        .query_row(
            "SELECT id, uuid, given_names, family_name, date_of_birth, notes FROM patients WHERE id = ?1",
            [id],
            |r| {
                Ok(Patient {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    given_names: r.get(2)?,
                    family_name: r.get(3)?,
                    date_of_birth: r.get(4)?,
                    notes: r.get(5)?,
                })
            },
        )
        .optional()?;
    let Some(mut patient) = found else { return Ok(None) };
    if clinical.is_none() {
        patient.notes = None;
    }
    let viewer = clinical.unwrap_or(actor);
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &viewer, "patient.view", ("patient", &id.to_string()), Outcome::Ok))?;
    Ok(Some(patient))
}

pub(crate) fn require_exists(clinic: &Clinic, id: i64) -> Result<(), Error> {
    let exists: bool =
        clinic.store().conn().query_row("SELECT EXISTS (SELECT 1 FROM patients WHERE id = ?1)", [id], |r| r.get(0))?;
    exists.then_some(()).ok_or_else(|| Error::NotFound { what: format!("Patient {id}") })
}

/// How many patients are registered: an aggregate with nothing personal in it.
pub fn count(store: &Store) -> crate::error::Result<i64> {
    Ok(store.conn().query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?)
}
