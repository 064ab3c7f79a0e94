//! Tables `appointments` and `appointment_series`. Times are the clinic's wall clock as `YYYY-MM-DDTHH:MM`
//! (`starts`, `ends`), which sort as text; check-in and visit times are RFC 3339 UTC.

use super::model::Status;
use crate::error::{Error, Missing, Result as StoreResult};
use rusqlite::{Connection, OptionalExtension};

/// An appointment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub id: i64,
    pub patient_id: i64,
    pub doctor_id: i64,
    pub series_id: Option<i64>,
    pub starts: String,
    pub ends: String,
    pub reason: String,
    pub reason_clinical: bool,
    pub status: Status,
    pub cancel_reason: String,
    pub arrived_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// What a new row or a change writes.
pub(crate) struct Slot<'a> {
    pub patient_id: i64,
    pub doctor_id: i64,
    pub starts: &'a str,
    pub ends: &'a str,
    pub reason: &'a str,
    pub reason_clinical: bool,
}

const SELECT: &str = "SELECT id, patient_id, doctor_id, series_id, starts, ends, reason, reason_clinical, status,
        cancel_reason, arrived_at, started_at, finished_at FROM appointments";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        patient_id: r.get(1)?,
        doctor_id: r.get(2)?,
        series_id: r.get(3)?,
        starts: r.get(4)?,
        ends: r.get(5)?,
        reason: r.get(6)?,
        reason_clinical: r.get(7)?,
        // The column's CHECK allows only the listed values.
        status: Status::parse(&r.get::<_, String>(8)?).unwrap_or(Status::Booked),
        cancel_reason: r.get(9)?,
        arrived_at: r.get(10)?,
        started_at: r.get(11)?,
        finished_at: r.get(12)?,
    })
}

fn collect(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<Vec<Row>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, read)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Starts a series; returns its id.
pub(crate) fn insert_series(tx: &Connection, every_weeks: u32, now: &str) -> StoreResult<i64> {
    tx.execute("INSERT INTO appointment_series (every_weeks, created_at) VALUES (?1, ?2)", (every_weeks, now))?;
    Ok(tx.last_insert_rowid())
}

/// Books one visit; returns its id.
pub(crate) fn insert(tx: &Connection, slot: &Slot<'_>, series_id: Option<i64>, now: &str) -> StoreResult<i64> {
    tx.execute(
        "INSERT INTO appointments (patient_id, doctor_id, series_id, starts, ends, reason, reason_clinical,
            created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        rusqlite::params![
            slot.patient_id,
            slot.doctor_id,
            series_id,
            slot.starts,
            slot.ends,
            slot.reason,
            slot.reason_clinical,
            now
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// One appointment.
pub(crate) fn get(conn: &Connection, id: i64) -> StoreResult<Option<Row>> {
    Ok(conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], read).optional()?)
}

/// One appointment, or `NotFound`.
pub(crate) fn require(conn: &Connection, id: i64) -> Result<Row, Error> {
    get(conn, id)?.ok_or(Error::NotFound(Missing::Appointment(id)))
}

/// Every appointment starting in `[from, to)` (wall-clock text), by start then doctor.
pub(crate) fn between(conn: &Connection, from: &str, to: &str) -> StoreResult<Vec<Row>> {
    collect(conn, &format!("{SELECT} WHERE starts >= ?1 AND starts < ?2 ORDER BY starts, doctor_id, id"), (from, to))
}

/// The doctor's appointments that still hold their time and overlap `[starts, ends)`, `except` one.
pub(crate) fn overlapping(
    conn: &Connection,
    doctor_id: i64,
    starts: &str,
    ends: &str,
    except: &[i64],
) -> StoreResult<Vec<Row>> {
    let except = serde_json::to_string(except).unwrap_or_else(|_| "[]".into());
    collect(
        conn,
        &format!(
            "{SELECT} WHERE doctor_id = ?1 AND starts < ?3 AND ends > ?2
               AND status NOT IN ('cancelled', 'no_show') AND id NOT IN (SELECT value FROM json_each(?4))
             ORDER BY starts"
        ),
        rusqlite::params![doctor_id, starts, ends, except],
    )
}

/// The series' appointments still booked from `starts` on, by start.
pub(crate) fn booked_in_series_from(conn: &Connection, series_id: i64, starts: &str) -> StoreResult<Vec<Row>> {
    collect(
        conn,
        &format!("{SELECT} WHERE series_id = ?1 AND starts >= ?2 AND status = 'booked' ORDER BY starts"),
        (series_id, starts),
    )
}

/// A patient's appointments from `from` on, by start.
pub(crate) fn of_patient_from(conn: &Connection, patient_id: i64, from: &str) -> StoreResult<Vec<Row>> {
    collect(conn, &format!("{SELECT} WHERE patient_id = ?1 AND starts >= ?2 ORDER BY starts"), (patient_id, from))
}

/// Moves a booked visit and rewrites what the form carries.
pub(crate) fn update(tx: &Connection, id: i64, slot: &Slot<'_>, now: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE appointments SET doctor_id = ?2, starts = ?3, ends = ?4, reason = ?5, reason_clinical = ?6,
            updated_at = ?7 WHERE id = ?1",
        rusqlite::params![id, slot.doctor_id, slot.starts, slot.ends, slot.reason, slot.reason_clinical, now],
    )?;
    Ok(())
}

/// Sets the status, and the moment it changed for check-in, start and finish.
pub(crate) fn set_status(tx: &Connection, id: i64, status: Status, cancel_reason: &str, now: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE appointments SET status = ?2, cancel_reason = ?3, updated_at = ?4,
            arrived_at = CASE WHEN ?2 = 'arrived' THEN ?4 ELSE arrived_at END,
            started_at = CASE WHEN ?2 = 'in_progress' THEN ?4 ELSE started_at END,
            finished_at = CASE WHEN ?2 = 'done' THEN ?4 ELSE finished_at END
          WHERE id = ?1",
        (id, status.as_str(), cancel_reason, now),
    )?;
    Ok(())
}

/// The appointments of these patients, by id.
pub(crate) fn ids_of_patients(conn: &Connection, patient_ids: &[i64]) -> StoreResult<Vec<i64>> {
    let ids = serde_json::to_string(patient_ids).unwrap_or_else(|_| "[]".into());
    let mut stmt =
        conn.prepare("SELECT id FROM appointments WHERE patient_id IN (SELECT value FROM json_each(?1)) ORDER BY id")?;
    let rows = stmt.query_map([ids], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(rows)
}
