//! A patient as shared with a partner: the whole record of a patient who consented, in one serializable form.
//! Sync reads it from here and writes received ones back here, so the `patients` table keeps one owner.

use super::{index, json, next_mrn, read, Allergy, Clinical, EmergencyContact, SELECT};
use crate::error::Result as StoreResult;
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// A patient record in an envelope. Do not change: it is signed (a new field needs a new envelope format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedPatient {
    pub uuid: String,
    /// The MRN at the site that registered the patient.
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub sex: String,
    pub date_of_birth: String,
    pub dob_estimated: bool,
    pub national_id: String,
    pub phones: Vec<String>,
    pub email: String,
    pub address: String,
    pub emergency_contact: EmergencyContact,
    pub blood_type: String,
    pub allergies: Vec<Allergy>,
    pub conditions: Vec<String>,
    pub pregnancy_status: String,
    pub pregnancy_as_of: String,
    pub notes: String,
    pub deceased: bool,
}

fn shared(r: &rusqlite::Row<'_>) -> rusqlite::Result<SharedPatient> {
    let (p, c): (_, Clinical) = read(r)?;
    let d = p.demographics;
    Ok(SharedPatient {
        uuid: p.uuid,
        mrn: p.mrn,
        given_names: d.given_names,
        family_name: d.family_name,
        sex: d.sex.as_str().into(),
        date_of_birth: d.date_of_birth,
        dob_estimated: p.dob_estimated,
        national_id: d.national_id,
        phones: d.phones,
        email: d.email,
        address: d.address,
        emergency_contact: d.emergency_contact,
        blood_type: c.blood_type,
        allergies: c.allergies,
        conditions: c.conditions,
        pregnancy_status: c.pregnancy_status,
        pregnancy_as_of: c.pregnancy_as_of,
        notes: c.notes,
        deceased: p.deceased,
    })
}

/// Every patient who consented to sharing (merged-away records excluded).
pub(crate) fn consented(conn: &Connection) -> StoreResult<Vec<SharedPatient>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE consent_share = 1 AND merged_into IS NULL ORDER BY id"))?;
    let rows = stmt.query_map([], shared)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The record with this uuid as it is here now, if any.
pub(crate) fn by_uuid(conn: &Connection, uuid: &str) -> StoreResult<Option<SharedPatient>> {
    Ok(conn.query_row(&format!("{SELECT} WHERE uuid = ?1"), [uuid], shared).optional()?)
}

/// Writes a received record: updates the patient with its uuid, or registers it. A received patient consented
/// where it came from, so it is shared onwards too. If its MRN is taken here by someone else, it gets a new one
/// from this clinic's sequence (the uuid is what links the sites). Returns the local id.
pub(crate) fn apply(tx: &Connection, p: &SharedPatient, now: &str) -> StoreResult<i64> {
    let existing: Option<(i64, String)> = tx
        .query_row("SELECT id, mrn FROM patients WHERE uuid = ?1", [&p.uuid], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let params = rusqlite::params![
        p.uuid,
        p.given_names,
        p.family_name,
        p.sex,
        p.date_of_birth,
        p.dob_estimated,
        (!p.national_id.is_empty()).then_some(&p.national_id),
        json(&p.phones),
        p.email,
        p.address,
        json(&p.emergency_contact),
        p.blood_type,
        json(&p.allergies),
        json(&p.conditions),
        if p.pregnancy_status.is_empty() { "unknown" } else { &p.pregnancy_status },
        p.pregnancy_as_of,
        p.notes,
        p.deceased,
        now,
    ];
    let (id, code) = match existing {
        Some((id, code)) => {
            tx.execute(
                "UPDATE patients SET given_names = ?2, family_name = ?3, sex = ?4, date_of_birth = ?5, dob_estimated = ?6,
                     national_id = ?7, phones = ?8, email = ?9, address = ?10, emergency_contact = ?11,
                     blood_type = ?12, allergies = ?13, conditions = ?14, pregnancy_status = ?15, pregnancy_as_of = ?16,
                     notes = ?17, deceased = ?18, consent_share = 1, updated_at = ?19
                 WHERE uuid = ?1",
                params,
            )?;
            (id, code)
        }
        None => {
            let taken: bool = tx.query_row("SELECT count(*) FROM patients WHERE mrn = ?1", [&p.mrn], |r| r.get(0))?;
            let code = if taken || crate::mrn::parse(&p.mrn).is_err() { next_mrn(tx)? } else { p.mrn.clone() };
            tx.execute(
                "INSERT INTO patients (uuid, given_names, family_name, sex, date_of_birth, dob_estimated, national_id,
                     phones, email, address, emergency_contact, blood_type, allergies, conditions, pregnancy_status,
                     pregnancy_as_of, notes, deceased, created_at, updated_at, consent_share, mrn)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?19, 1, ?20)",
                rusqlite::params_from_iter(params.iter().copied().chain([&code as &dyn rusqlite::ToSql])),
            )?;
            (tx.last_insert_rowid(), code)
        }
    };
    index(tx, id, &code, &p.given_names, &p.family_name, &p.phones)?;
    Ok(id)
}

/// Another patient here (not `uuid`) who holds this national ID: the same person registered at two sites.
pub(crate) fn national_id_holder(conn: &Connection, p: &SharedPatient) -> StoreResult<Option<SharedPatient>> {
    if p.national_id.is_empty() {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            &format!("{SELECT} WHERE national_id = ?1 AND merged_into IS NULL AND uuid <> ?2"),
            [&p.national_id, &p.uuid],
            shared,
        )
        .optional()?)
}
