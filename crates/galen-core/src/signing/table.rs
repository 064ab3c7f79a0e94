//! Table `doctor_keys`: each doctor's OpenPGP keys, the secret parts encrypted with the doctor's password. Keys
//! are never deleted, so old signatures keep verifying; one key per doctor is active.

use crate::error::Result as StoreResult;
use rusqlite::{Connection, OptionalExtension};

/// Stores a new key as the doctor's active one (their earlier keys stay, retired).
pub(crate) fn insert_active(
    conn: &Connection,
    staff_id: i64,
    fingerprint: &str,
    armored: &str,
    now: &str,
) -> StoreResult<()> {
    conn.execute("UPDATE doctor_keys SET active = 0 WHERE staff_id = ?1", [staff_id])?;
    conn.execute(
        "INSERT INTO doctor_keys (staff_id, fingerprint, secret_key, active, created_at) VALUES (?1, ?2, ?3, 1, ?4)",
        (staff_id, fingerprint, armored, now),
    )?;
    Ok(())
}

/// The doctor's active key: fingerprint and armored secret key.
pub(crate) fn active(conn: &Connection, staff_id: i64) -> StoreResult<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT fingerprint, secret_key FROM doctor_keys WHERE staff_id = ?1 AND active = 1",
            [staff_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// The armored secret key with this fingerprint (any key Galen ever issued).
pub(crate) fn by_fingerprint(conn: &Connection, fingerprint: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row("SELECT secret_key FROM doctor_keys WHERE fingerprint = ?1", [fingerprint], |r| r.get(0))
        .optional()?)
}

/// The fingerprint of a doctor's current key, else of their newest.
pub(crate) fn latest_fingerprint(conn: &Connection, staff_id: i64) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT fingerprint FROM doctor_keys WHERE staff_id = ?1 ORDER BY active DESC, id DESC LIMIT 1",
            [staff_id],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn retire(conn: &Connection, fingerprint: &str) -> StoreResult<()> {
    conn.execute("UPDATE doctor_keys SET active = 0 WHERE fingerprint = ?1", [fingerprint])?;
    Ok(())
}

pub(crate) fn replace_secret(conn: &Connection, fingerprint: &str, armored: &str) -> StoreResult<()> {
    conn.execute("UPDATE doctor_keys SET secret_key = ?2 WHERE fingerprint = ?1", (fingerprint, armored))?;
    Ok(())
}
