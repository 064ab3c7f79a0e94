//! Versioned migrations, read as data: each table's SQL lives beside the module that owns it
//! (`src/<module>/migrations/NNNN_<what>.sql`) and `build.rs` lists the files, so this runner imports no domain
//! module. It applies them in order, one transaction each, and records the version in `PRAGMA user_version`.
//!
//! A shipped migration is never edited: `shipped_migrations_are_never_edited` pins each one's hash. The one data
//! step SQL alone could not do (version 8) is frozen here with it, in `backfill.rs`.

use crate::error::Result;
use rusqlite::Connection;

#[derive(Debug)]
pub(crate) struct Migration {
    /// Global, strictly increasing across all tables: the number the file name starts with.
    pub version: u32,
    pub sql: &'static str,
}

/// Every table's migrations, by version.
pub(crate) static ALL: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

pub const LATEST_SCHEMA: u32 = 16;

pub(crate) fn schema_version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Brings `conn` up to [`LATEST_SCHEMA`].
pub(crate) fn run(conn: &Connection) -> Result<()> {
    run_to(conn, LATEST_SCHEMA)
}

fn run_to(conn: &Connection, target: u32) -> Result<()> {
    // Each step reads the version under the write lock: another process opening the same file at the same time
    // (the app and the CLI) may have applied the step already.
    if schema_version(conn)? >= target {
        return Ok(());
    }
    loop {
        let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
        let current = schema_version(&tx)?;
        let Some(m) = ALL.iter().find(|m| m.version > current && m.version <= target) else { return Ok(()) };
        tx.execute_batch(m.sql)?;
        if m.version == 8 {
            super::backfill::mrns_and_search_v8(&tx)?;
        }
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        tracing::info!(version = m.version, "schema migrated");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn versions_are_unique_contiguous_and_end_at_latest() {
        let versions: Vec<u32> = ALL.iter().map(|m| m.version).collect();
        let expected: Vec<u32> = (1..=LATEST_SCHEMA).collect();
        assert_eq!(versions, expected, "migration versions must run 1..=LATEST_SCHEMA with no gaps or repeats");
    }

    #[test]
    fn patients_from_before_version_8_get_an_mrn_and_a_search_entry() {
        let conn = Connection::open_in_memory().expect("in-memory database");
        run_to(&conn, 7).expect("migrate to 7");
        conn.execute("INSERT INTO settings (key, value) VALUES ('site.name', 'Clínica Sol')", []).expect("site");
        for (given, family) in [("Ana", "Albuquerque"), ("Jürgen", "Müller")] {
            conn.execute(
                "INSERT INTO patients (uuid, given_names, family_name, created_at, updated_at) VALUES (?1, ?2, ?3, '', '')",
                (format!("{given}-uuid"), given, family),
            )
            .expect("old patient");
        }
        run(&conn).expect("migrate to the latest");
        let mrns: Vec<String> = conn
            .prepare("SELECT mrn FROM patients ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("mrns");
        assert_eq!(mrns, [crate::mrn::format("CLI", 1), crate::mrn::format("CLI", 2)], "prefix from the name");
        let found: i64 = conn
            .query_row("SELECT rowid FROM patient_search WHERE patient_search MATCH 'muller'", [], |r| r.get(0))
            .expect("Müller is searchable without the accent");
        assert_eq!(found, 2);
    }

    #[test]
    fn shipped_migrations_are_never_edited() {
        // Append a line when adding a migration; never change an existing line.
        #[rustfmt::skip]
        let pinned = [
            (1, "4ea7622d94ec6a58"),
            (2, "16e7ea988b8dddbb"),
            (3, "941d6447f54a586e"),
            (4, "898920654986bc2c"),
            (5, "d15613c3421d1757"),
            (6, "f1259741c2a9f1bc"),
            (7, "270bb7baa35c43e6"),
            (8, "a43d3cccbe845973"),
            (9, "88b922c26a7bc61e"),
            (10, "57044d642f7d634e"),
            (11, "2458ef008c8f95db"),
            (12, "19c10b336e548c0c"),
            (13, "a9bc178f6ff841c1"),
            (14, "89155a846c62fef8"),
            (15, "99fd9b03ed30822a"),
            (16, "03544ae91a9a579e"),
        ];
        assert_eq!(pinned.len(), LATEST_SCHEMA as usize, "pin every migration here as it ships");
        for (version, prefix) in pinned {
            let m = ALL.iter().find(|m| m.version == version).expect("pinned migration exists");
            let hash = data_encoding::HEXLOWER.encode(&Sha256::digest(m.sql.as_bytes()));
            assert!(hash.starts_with(prefix), "migration {version} was edited (hash {hash}); add a new one instead");
        }
    }
}
