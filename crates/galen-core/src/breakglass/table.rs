//! Table `break_glass`: each emergency access, with its reason, for the admin's review.

use crate::error::Result as StoreResult;
use rusqlite::Connection;

/// One emergency access as stored: who (a staff id), which patient, why and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub id: i64,
    pub user_id: i64,
    pub patient_id: i64,
    pub reason: String,
    pub at: String,
}

/// Records a grant; returns its id.
pub(crate) fn insert(
    tx: &Connection,
    user_id: i64,
    patient_id: i64,
    reason: &str,
    at: &str,
    until: &str,
) -> StoreResult<i64> {
    tx.execute(
        "INSERT INTO break_glass (user_id, patient_id, reason, at, until) VALUES (?1, ?2, ?3, ?4, ?5)",
        (user_id, patient_id, reason, at, until),
    )?;
    Ok(tx.last_insert_rowid())
}

/// Every grant, newest first.
pub(crate) fn all(conn: &Connection) -> StoreResult<Vec<Row>> {
    let mut stmt = conn.prepare("SELECT id, user_id, patient_id, reason, at FROM break_glass ORDER BY id DESC")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Row { id: r.get(0)?, user_id: r.get(1)?, patient_id: r.get(2)?, reason: r.get(3)?, at: r.get(4)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
