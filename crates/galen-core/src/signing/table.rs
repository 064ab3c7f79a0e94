//! Table `doctor_keys`: each doctor's OpenPGP keys, the secret parts encrypted with the doctor's password. Keys
//! are never deleted, so old signatures keep verifying; one key per doctor is active.

use super::KeyCause;
use crate::error::Result as StoreResult;
use rusqlite::{Connection, OptionalExtension};

/// Stores a new key as the doctor's active one (their earlier keys stay, retired), with why it was made. A key
/// made after a reset is flagged for the doctor to be told at their next sign-in.
pub(crate) fn insert_active(
    conn: &Connection,
    staff_id: i64,
    fingerprint: &str,
    armored: &str,
    cause: &KeyCause,
    now: &str,
) -> StoreResult<()> {
    conn.execute("UPDATE doctor_keys SET active = 0 WHERE staff_id = ?1", [staff_id])?;
    let (code, reset_by, reset_at) = match cause {
        KeyCause::FirstSignature => ("first_signature", None, None),
        KeyCause::AfterReset { by, at } => ("after_reset", Some(by.as_str()), Some(at.as_str())),
        KeyCause::Replaced => ("replaced", None, None),
    };
    conn.execute(
        "INSERT INTO doctor_keys (staff_id, fingerprint, secret_key, active, created_at, cause, reset_by, reset_at,
             told_doctor)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![
            staff_id,
            fingerprint,
            armored,
            now,
            code,
            reset_by,
            reset_at,
            !matches!(cause, KeyCause::AfterReset { .. }),
        ],
    )?;
    Ok(())
}

/// A doctor key's record (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// Whose key (staff id).
    pub staff_id: i64,
    /// The doctor's current key.
    pub active: bool,
    /// When it was made, RFC 3339.
    pub created_at: String,
    /// Why it was made.
    pub cause: KeyCause,
    /// When an admin revoked it, who, and why.
    pub revoked: Option<Revoked>,
}

/// An admin's revocation of a doctor key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// When, RFC 3339: signatures made after it fail.
    pub at: String,
    /// The admin's username.
    pub by: String,
    /// Why, in the admin's words.
    pub reason: String,
}

const RECORD: &str =
    "SELECT fingerprint, staff_id, active, created_at, cause, reset_by, reset_at, revoked_at, revoked_by,
     revocation_reason FROM doctor_keys";

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    let cause = match (r.get::<_, String>(4)?.as_str(), r.get::<_, Option<String>>(5)?, r.get::<_, Option<String>>(6)?)
    {
        ("after_reset", Some(by), Some(at)) => KeyCause::AfterReset { by, at },
        ("first_signature", _, _) => KeyCause::FirstSignature,
        _ => KeyCause::Replaced,
    };
    let revoked = match (r.get::<_, Option<String>>(7)?, r.get::<_, Option<String>>(8)?, r.get::<_, Option<String>>(9)?)
    {
        (Some(at), by, reason) => Some(Revoked { at, by: by.unwrap_or_default(), reason: reason.unwrap_or_default() }),
        _ => None,
    };
    Ok(KeyRecord {
        fingerprint: r.get(0)?,
        staff_id: r.get(1)?,
        active: r.get(2)?,
        created_at: r.get(3)?,
        cause,
        revoked,
    })
}

/// The record of the key with this fingerprint.
pub(crate) fn record_of(conn: &Connection, fingerprint: &str) -> StoreResult<Option<KeyRecord>> {
    Ok(conn.query_row(&format!("{RECORD} WHERE fingerprint = ?1"), [fingerprint], record).optional()?)
}

/// Every doctor key, oldest first.
pub(crate) fn all(conn: &Connection) -> StoreResult<Vec<KeyRecord>> {
    let mut stmt = conn.prepare(&format!("{RECORD} ORDER BY id"))?;
    let rows = stmt.query_map([], record)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// When the doctor's newest key was made, if they ever had one.
pub(crate) fn newest_created(conn: &Connection, staff_id: i64) -> StoreResult<Option<String>> {
    Ok(conn.query_row("SELECT max(created_at) FROM doctor_keys WHERE staff_id = ?1", [staff_id], |r| r.get(0))?)
}

/// Keys made after a reset that the doctor has not been told about yet, marked told.
pub(crate) fn take_untold(conn: &Connection, staff_id: i64) -> StoreResult<Vec<KeyRecord>> {
    let mut stmt = conn.prepare(&format!("{RECORD} WHERE staff_id = ?1 AND told_doctor = 0 ORDER BY id"))?;
    let rows: Vec<KeyRecord> = stmt.query_map([staff_id], record)?.collect::<rusqlite::Result<_>>()?;
    conn.execute("UPDATE doctor_keys SET told_doctor = 1 WHERE staff_id = ?1", [staff_id])?;
    Ok(rows)
}

/// Marks a key revoked and stores its secret key with the revocation merged in (so every export carries it), and
/// the revocation alone when there is one.
pub(crate) fn revoke(
    conn: &Connection,
    fingerprint: &str,
    armored: &str,
    certificate: Option<&str>,
    r: &Revoked,
) -> StoreResult<()> {
    conn.execute(
        "UPDATE doctor_keys SET active = 0, secret_key = ?2, revocation_certificate = ?3, revoked_at = ?4,
             revoked_by = ?5, revocation_reason = ?6
         WHERE fingerprint = ?1",
        rusqlite::params![fingerprint, armored, certificate, &r.at, &r.by, &r.reason],
    )?;
    Ok(())
}

/// The key's revocation certificate (armored), once revoked (keys made before version 15 have none).
pub(crate) fn revocation_certificate(conn: &Connection, fingerprint: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row("SELECT revocation_certificate FROM doctor_keys WHERE fingerprint = ?1", [fingerprint], |r| r.get(0))
        .optional()?
        .flatten())
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
