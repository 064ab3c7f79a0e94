//! Tables `patients` (the record), `patient_identifiers` (every MRN a patient answers to, merged-away ones
//! included, and every phone, for exact lookups) and `patient_search` (FTS5 over the names). All SQL on them is
//! here; the rest of Galen asks these functions.

use super::model::{Clinical, Demographics, Patient, Sex, Summary};
use super::shared::SharedPatient;
use crate::error::{Error, Missing, Result as StoreResult};
use crate::mrn;
use rusqlite::{Connection, OptionalExtension};

const SELECT: &str = "SELECT id, uuid, mrn, given_names, family_name, sex, coalesce(date_of_birth, ''), dob_estimated,
        coalesce(national_id, ''), phones, email, address, emergency_contact, consent_share, blood_type, allergies,
        conditions, pregnancy_status, pregnancy_as_of, notes, deceased, merged_into FROM patients";

const SUMMARY: &str = "SELECT id, coalesce(mrn, ''), given_names, family_name, coalesce(date_of_birth, ''),
        dob_estimated, sex, phones, deceased FROM patients";

fn json<T: serde::Serialize>(v: &T) -> String {
    // Plain strings, booleans and lists always serialize.
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// A row as the patient (clinical fields apart, for the caller to show or not).
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

fn read_summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<Summary> {
    Ok(Summary {
        id: r.get(0)?,
        mrn: r.get(1)?,
        given_names: r.get(2)?,
        family_name: r.get(3)?,
        date_of_birth: r.get(4)?,
        dob_estimated: r.get(5)?,
        sex: Sex::parse(&r.get::<_, String>(6)?).unwrap_or_default(),
        phones: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
        deceased: r.get(8)?,
    })
}

fn shared(r: &rusqlite::Row<'_>) -> rusqlite::Result<SharedPatient> {
    let (p, c) = read(r)?;
    Ok(SharedPatient::new(p, c))
}

/// One patient with their clinical fields, merged-away records included.
pub(crate) fn get(conn: &Connection, id: i64) -> StoreResult<Option<(Patient, Clinical)>> {
    Ok(conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], read).optional()?)
}

/// One patient, or `NotFound`.
pub(crate) fn require(conn: &Connection, id: i64) -> Result<Patient, Error> {
    get(conn, id)?.map(|(p, _)| p).ok_or_else(|| Error::NotFound(Missing::Patient(id)))
}

/// Phones are matched on their last 9 digits, so `+351 21 000 0000` and `21 000 0000` meet.
pub(crate) fn phone_key(p: &str) -> String {
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(9)..].to_owned()
}

/// The next MRN under the current prefix: one more than the highest issued, found through the MRN index.
pub(crate) fn next_mrn(conn: &Connection) -> StoreResult<String> {
    let prefix = crate::settings::table::mrn_prefix(conn)?;
    Ok(mrn::format(&prefix, last_sequence(conn, &prefix)? + 1))
}

/// The highest sequence number issued under `prefix`.
pub(crate) fn last_sequence(conn: &Connection, prefix: &str) -> StoreResult<u64> {
    let last: Option<String> = conn
        .query_row(
            "SELECT mrn FROM patients WHERE mrn > ?1 AND mrn < ?2 ORDER BY mrn DESC LIMIT 1",
            (format!("{prefix}-"), format!("{prefix}-~")),
            |r| r.get(0),
        )
        .optional()?;
    Ok(last.and_then(|m| m.get(prefix.len() + 1..m.len() - 1).and_then(|s| s.parse().ok())).unwrap_or(0))
}

/// Whether a received patient may keep `canonical` (a valid MRN) here: nobody here answers to it, and it is not
/// under this clinic's prefix, whose sequence only this clinic's registrations move.
fn keeps_received_mrn(conn: &Connection, canonical: &str) -> StoreResult<bool> {
    let own_prefix = crate::settings::table::mrn_prefix(conn)?;
    let under_own_prefix = canonical.strip_prefix(own_prefix.as_str()).is_some_and(|rest| rest.starts_with('-'));
    Ok(!under_own_prefix && by_mrn(conn, &mrn::normalize(canonical))?.is_none())
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

fn pregnancy_status_or_unknown(c: &Clinical) -> &str {
    if c.pregnancy_status.is_empty() {
        "unknown"
    } else {
        &c.pregnancy_status
    }
}

/// Inserts one validated patient with its lookup rows; returns its id.
pub(crate) fn insert(
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
            pregnancy_status_or_unknown(c),
            c.pregnancy_as_of,
            c.notes,
            now,
        ],
    )?;
    let id = tx.last_insert_rowid();
    index(tx, id, code, &d.given_names, &d.family_name, &d.phones)?;
    Ok(id)
}

/// Replaces a patient's demographics (validated) and their lookup rows.
pub(crate) fn update_demographics(
    tx: &Connection,
    current: &Patient,
    d: &Demographics,
    dob: &str,
    estimated: bool,
    now: &str,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE patients SET given_names = ?2, family_name = ?3, sex = ?4, date_of_birth = ?5, dob_estimated = ?6,
             national_id = ?7, phones = ?8, email = ?9, address = ?10, emergency_contact = ?11, consent_share = ?12,
             updated_at = ?13
         WHERE id = ?1",
        rusqlite::params![
            current.id,
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
    index(tx, current.id, &current.mrn, &d.given_names, &d.family_name, &d.phones)
}

/// Replaces a patient's clinical fields (validated).
pub(crate) fn update_clinical(tx: &Connection, id: i64, c: &Clinical, now: &str) -> StoreResult<()> {
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
    Ok(())
}

/// Marks a patient deceased (their death certificate was signed).
pub(crate) fn mark_deceased(tx: &Connection, id: i64, now: &str) -> StoreResult<()> {
    tx.execute("UPDATE patients SET deceased = 1, updated_at = ?2 WHERE id = ?1", (id, now))?;
    Ok(())
}

/// The current patient (not merged away) holding a national ID: id, MRN, given and family names.
pub(crate) fn national_id_holder(
    conn: &Connection,
    national_id: &str,
) -> StoreResult<Option<(i64, String, String, String)>> {
    Ok(conn
        .query_row(
            "SELECT id, mrn, given_names, family_name FROM patients WHERE national_id = ?1 AND merged_into IS NULL",
            [national_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?)
}

/// The patient an exact identifier (a normalised MRN, or a phone key) leads to.
pub(crate) fn by_mrn(conn: &Connection, normalized: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .query_row("SELECT patient_id FROM patient_identifiers WHERE kind = 'mrn' AND value = ?1", [normalized], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Every MRN a patient answers to, normalised (their own and those of records merged into them).
pub(crate) fn mrns(conn: &Connection, id: i64) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT value FROM patient_identifiers WHERE kind = 'mrn' AND patient_id = ?1")?;
    let mrns = stmt.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(mrns)
}

/// Every record read in a chart: its own and those merged into it, as (id, uuid).
pub(crate) fn records_in_chart(conn: &Connection, id: i64) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(
        "WITH RECURSIVE chart(id) AS (
             SELECT ?1 UNION SELECT p.id FROM patients p JOIN chart ON p.merged_into = chart.id)
         SELECT id, uuid FROM patients WHERE id IN chart ORDER BY id",
    )?;
    let records = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(records)
}

/// The uuids other sites know a chart by: the patient's own and those of every record merged into it.
pub(crate) fn uuids_in_chart(conn: &Connection, id: i64) -> Result<Vec<String>, Error> {
    require(conn, id)?;
    Ok(records_in_chart(conn, id)?.into_iter().map(|(_, uuid)| uuid).collect())
}

/// Merges `merged` into `kept`: the merged row stays, marked, its MRN and phones now lead to `kept`, and a national
/// ID only the merged record had moves over.
pub(crate) fn merge(
    tx: &Connection,
    kept: i64,
    merged: i64,
    moved_national_id: Option<&str>,
    now: &str,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE patients SET merged_into = ?2, national_id = NULL, updated_at = ?3 WHERE id = ?1",
        (merged, kept, now),
    )?;
    if let Some(nid) = moved_national_id {
        tx.execute("UPDATE patients SET national_id = ?2 WHERE id = ?1", (kept, nid))?;
    }
    tx.execute("UPDATE OR IGNORE patient_identifiers SET patient_id = ?1 WHERE patient_id = ?2", (kept, merged))?;
    tx.execute("DELETE FROM patient_identifiers WHERE patient_id = ?1", [merged])?;
    tx.execute("DELETE FROM patient_search WHERE rowid = ?1", [merged])?;
    Ok(())
}

/// How many patients are registered (merged-away records excluded).
pub(crate) fn count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM patients WHERE merged_into IS NULL", [], |r| r.get(0))?)
}

// Lookups for search and duplicate warnings: summaries of current (not merged-away) patients.

pub(crate) fn with_national_id(conn: &Connection, national_id: &str) -> StoreResult<Vec<Summary>> {
    let mut stmt = conn.prepare(&format!("{SUMMARY} WHERE national_id = ?1 AND merged_into IS NULL"))?;
    let rows = stmt.query_map([national_id], read_summary)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// `kind` is `mrn` (a normalised MRN) or `phone` (a [`phone_key`]).
pub(crate) fn with_identifier(conn: &Connection, kind: &str, value: &str) -> StoreResult<Vec<Summary>> {
    let mut stmt = conn.prepare(&format!(
        "{SUMMARY} WHERE id IN (SELECT patient_id FROM patient_identifiers WHERE kind = ?1 AND value = ?2)
           AND merged_into IS NULL"
    ))?;
    let rows = stmt.query_map([kind, value], read_summary)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Born on `date` (`YYYY-MM-DD`), alphabetically, at most `limit`.
pub(crate) fn born_on(conn: &Connection, date: &str, limit: u32) -> StoreResult<Vec<Summary>> {
    let mut stmt = conn.prepare(&format!(
        "{SUMMARY} WHERE date_of_birth = ?1 AND merged_into IS NULL ORDER BY family_name, given_names LIMIT ?2"
    ))?;
    let rows = stmt.query_map((date, limit), read_summary)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Names matching an FTS5 query, in rowid order (FTS5 streams them, so a limit stops it early).
pub(crate) fn names_matching(conn: &Connection, fts: &str, limit: usize) -> StoreResult<Vec<Summary>> {
    let mut stmt = conn.prepare(&format!(
        "{SUMMARY} WHERE id IN (SELECT rowid FROM patient_search WHERE patient_search MATCH ?1 LIMIT ?2)
           AND merged_into IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map(rusqlite::params![fts, limit as i64], read_summary)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The summaries of `ids` (merged-away records included, as they were booked), in no particular order: one
/// query for a whole list, such as a week of the appointment book.
pub(crate) fn summaries(conn: &Connection, ids: &[i64]) -> StoreResult<Vec<Summary>> {
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare(&format!("{SUMMARY} WHERE id IN (SELECT value FROM json_each(?1))"))?;
    let rows = stmt.query_map([ids], read_summary)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The patients registered most recently, newest first (merged-away records excluded).
pub(crate) fn recently_registered(conn: &Connection, limit: u32) -> StoreResult<Vec<Summary>> {
    let mut stmt = conn.prepare(&format!("{SUMMARY} WHERE merged_into IS NULL ORDER BY id DESC LIMIT ?1"))?;
    let rows = stmt.query_map([limit], read_summary)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

// Sharing with a partner: a consented patient's whole record, read and written as a `SharedPatient`.

/// Every patient who consented to sharing (merged-away records excluded).
pub(crate) fn consented(conn: &Connection) -> StoreResult<Vec<SharedPatient>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE consent_share = 1 AND merged_into IS NULL ORDER BY id"))?;
    let rows = stmt.query_map([], shared)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Every chart's id (merged-away records excluded), or only those of patients who consented to sharing.
pub(crate) fn chart_ids(conn: &Connection, consented_only: bool) -> StoreResult<Vec<i64>> {
    let mut stmt = conn
        .prepare("SELECT id FROM patients WHERE merged_into IS NULL AND (?1 = 0 OR consent_share = 1) ORDER BY id")?;
    let rows = stmt.query_map([consented_only], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The id and uuid of every patient who consented to sharing (merged-away records excluded).
pub(crate) fn consented_uuids(conn: &Connection) -> StoreResult<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare("SELECT id, uuid FROM patients WHERE consent_share = 1 AND merged_into IS NULL ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The local id of the patient with this uuid, if any.
pub(crate) fn id_by_uuid(conn: &Connection, uuid: &str) -> StoreResult<Option<i64>> {
    Ok(conn.query_row("SELECT id FROM patients WHERE uuid = ?1", [uuid], |r| r.get(0)).optional()?)
}

/// The chart a record with this uuid is read in: its own, or the one it was merged into.
pub(crate) fn chart_of_uuid(conn: &Connection, uuid: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .query_row(
            "WITH RECURSIVE up(id, next) AS (
                 SELECT id, merged_into FROM patients WHERE uuid = ?1
                 UNION SELECT p.id, p.merged_into FROM patients p JOIN up ON p.id = up.next)
             SELECT id FROM up WHERE next IS NULL",
            [uuid],
            |r| r.get(0),
        )
        .optional()?)
}

/// The record with this uuid as it is here now, if any.
pub(crate) fn shared_by_uuid(conn: &Connection, uuid: &str) -> StoreResult<Option<SharedPatient>> {
    Ok(conn.query_row(&format!("{SELECT} WHERE uuid = ?1"), [uuid], shared).optional()?)
}

/// Another patient here (not `p` itself) who holds `p`'s national ID: the same person registered at two sites.
pub(crate) fn shared_national_id_holder(conn: &Connection, p: &SharedPatient) -> StoreResult<Option<SharedPatient>> {
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

/// Writes a received (validated) record: updates the patient with its uuid, or registers it. An update never
/// touches consent: a withdrawal here stands. A new patient consented where they came from, so they are shared
/// onwards too. A new patient keeps the MRN they came with, in canonical form, unless it is not a valid MRN, is
/// taken here (however it is spelled), or carries this clinic's prefix (which would move this clinic's sequence);
/// then they get the next MRN of this clinic's own (the uuid is what links the sites). Returns the local id.
pub(crate) fn apply_shared(tx: &Connection, p: &SharedPatient, now: &str) -> StoreResult<i64> {
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
                     notes = ?17, deceased = ?18, updated_at = ?19
                 WHERE uuid = ?1",
                params,
            )?;
            (id, code)
        }
        None => {
            let code = match mrn::parse(&p.mrn) {
                Ok(canonical) if keeps_received_mrn(tx, &canonical)? => canonical,
                _ => next_mrn(tx)?,
            };
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
