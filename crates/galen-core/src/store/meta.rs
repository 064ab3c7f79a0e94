//! `galen_meta`: one row that marks a file as a Galen database and names it.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension};

pub(crate) fn init(conn: &Connection, db_id: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO galen_meta (singleton, app, db_id, created_at) VALUES (1, 'galen', ?1, ?2)",
        (db_id, crate::clock::now_rfc3339()),
    )?;
    Ok(())
}

pub(crate) fn is_galen(conn: &Connection) -> Result<bool> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'galen_meta')",
        [],
        |r| r.get(0),
    )?;
    Ok(has_table && conn.query_row("SELECT app FROM galen_meta", [], |r| r.get::<_, String>(0)).optional()?.is_some())
}

pub(crate) fn db_id(conn: &Connection) -> Result<String> {
    Ok(conn.query_row("SELECT db_id FROM galen_meta", [], |r| r.get(0))?)
}
