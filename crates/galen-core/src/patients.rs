//! `patients`: the patient record. This is its first, minimal shape (names, date of birth, notes); the patient
//! registry adds the full record, MRNs, validation and search in later migrations.

use crate::error::Result;
use crate::store::{migrate::Migration, Store};
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
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub id: i64,
    pub uuid: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    pub notes: String,
}

/// Stores a new patient and returns its id once the write is durable (committed with `synchronous=FULL`).
pub fn register(store: &Store, p: &NewPatient) -> Result<i64> {
    let now = crate::clock::now_rfc3339();
    store.write(|tx| {
        tx.execute(
            "INSERT INTO patients (uuid, given_names, family_name, date_of_birth, notes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            (
                uuid::Uuid::now_v7().to_string(),
                p.given_names.trim(),
                p.family_name.trim(),
                p.date_of_birth.as_deref(),
                p.notes.trim(),
                &now,
            ),
        )?;
        Ok(tx.last_insert_rowid())
    })
}

pub fn get(store: &Store, id: i64) -> Result<Option<Patient>> {
    Ok(store
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
        .optional()?)
}

pub fn count(store: &Store) -> Result<i64> {
    Ok(store.conn().query_row("SELECT count(*) FROM patients", [], |r| r.get(0))?)
}
