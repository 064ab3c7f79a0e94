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

/// The schema this build writes; an older file is migrated up to it when opened, a newer one refused.
pub const LATEST_SCHEMA: u32 = 17;

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

    /// One row per table, written with the columns the table was created with (later migrations only add columns).
    #[rustfmt::skip]
    const A_ROW_IN_EVERY_TABLE: &[(&str, &str)] = &[
        ("galen_meta", "INSERT INTO galen_meta VALUES (1, 'galen', 'db-1', '2026-01-02T03:04:05Z')"),
        ("settings", "INSERT INTO settings VALUES ('site.name', 'Clínica Sol')"),
        ("patients",
            "INSERT INTO patients (id, uuid, given_names, family_name, date_of_birth, notes, created_at, \
             updated_at) VALUES (1, 'p-1', 'Jürgen', 'Müller', '1975-06-01', 'n', 'c', 'u')"),
        ("staff", "INSERT INTO staff VALUES (1, 'rui', 'Dr Rui', 'doctor', 'CRM-1', 1, '$argon2id$x', 0, 'c', 'u')"),
        ("login_throttle", "INSERT INTO login_throttle VALUES ('h', 2, NULL)"),
        ("audit_log",
            "INSERT INTO audit_log VALUES (1, 'at', 1, 'rui', 'doctor', 'a', 'patient', '1', 'ok', 0, 'p', \
             'h')"),
        ("break_glass", "INSERT INTO break_glass VALUES (1, 1, 1, 'unconscious', 'at', 'until')"),
        ("patient_identifiers", "INSERT INTO patient_identifiers VALUES ('phone', '+351912345678', 1)"),
        ("patient_search", "INSERT INTO patient_search (rowid, names) VALUES (1, 'jurgen muller')"),
        ("documents",
            "INSERT INTO documents (id, uuid, kind, patient_id, author_id, status, body, supersedes, \
             superseded_by, voided_by, clinic_name, patient_snapshot, signer_id, signer_name, signer_licence, \
             signer_fingerprint, signed_at, canonical, signature, created_at, updated_at) VALUES (1, 'd-1', \
             'prescription', 1, 1, 'signed', '{}', NULL, NULL, NULL, 'Sol', '{}', 1, 'Dr Rui', 'CRM-1', \
             'FPR', 'at', '{\"a\":1}', 'sig', 'c', 'u')"),
        ("doctor_keys",
            "INSERT INTO doctor_keys (id, staff_id, fingerprint, secret_key, active, created_at) VALUES (1, \
             1, 'FPR', 'secret', 1, 'c')"),
        ("site_identity", "INSERT INTO site_identity VALUES (1, 'Sol', 'ca', 'cak', 'cc', 'ck', 'pgp', 'c')"),
        ("sync_partner",
            "INSERT INTO sync_partner (id, name, url, ca_cert, openpgp_key, safety_number, paired_at, cursor, \
             last_attempt, last_success, last_error, failures) VALUES (1, 'Partner', 'https://p', 'ca', \
             'pgp', '12345', 'at', 7, 'a', 's', 'e', 1)"),
        ("sync_records", "INSERT INTO sync_records VALUES ('patient', 'p-1', 2, 'h', 'Sol')"),
        ("sync_outbox", "INSERT INTO sync_outbox VALUES (1, 'patient', 'p-1', 2, '{}', 'at', 1, 'e')"),
        ("sync_conflicts",
            "INSERT INTO sync_conflicts VALUES (1, 'patient', 'p-1', '{}', '{}', 'Mar', 3, 'at', NULL, NULL)"),
        ("received_documents",
            "INSERT INTO received_documents VALUES ('d-2', 'sick_leave', 'p-1', '{}', 's', 'k', 'Mar', 'at')"),
        ("sync_nonces", "INSERT INTO sync_nonces VALUES ('n', 'at')"),
        ("received_trust_lists", "INSERT INTO received_trust_lists VALUES ('Mar', 'Clínica Mar', 'at', '[]', 'at')"),
        ("appointment_series", "INSERT INTO appointment_series VALUES (1, 2, 'at')"),
        ("appointments",
            "INSERT INTO appointments VALUES (1, 1, 1, 1, '2026-12-01T09:00', '2026-12-01T09:20', 'Check-up', 0, \
             'booked', '', NULL, NULL, NULL, 'at', 'at')"),
    ];

    fn tables(conn: &Connection) -> Vec<String> {
        conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'patient_search_%' ORDER BY name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("tables")
    }

    /// Every row of `table`, in the columns it has now (so later reads compare only what existed then).
    fn rows(conn: &Connection, table: &str, columns: &str) -> Vec<Vec<rusqlite::types::Value>> {
        // `table` and `columns` come from sqlite_master and PRAGMA table_info, never from input.
        let mut stmt = conn.prepare(&format!("SELECT {columns} FROM {table} ORDER BY 1")).expect("select");
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get(i)).collect()).and_then(|rows| rows.collect()).expect("rows")
    }

    fn columns(conn: &Connection, table: &str) -> String {
        let names: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .and_then(|mut s| s.query_map([table], |r| r.get(0))?.collect())
            .expect("columns");
        if names.is_empty() {
            "*".into()
        } else {
            names.join(", ")
        } // FTS tables list no columns here
    }

    #[test]
    fn rows_in_every_table_at_every_schema_survive_every_later_migration() {
        for start in 1..=LATEST_SCHEMA {
            let conn = Connection::open_in_memory().expect("in-memory database");
            run_to(&conn, start).expect("migrate to the starting schema");
            let existing = tables(&conn);
            for table in &existing {
                let listed = A_ROW_IN_EVERY_TABLE.iter().any(|(t, _)| t == table);
                assert!(listed, "no row for table {table}: add one to A_ROW_IN_EVERY_TABLE");
            }
            let mut before = Vec::new();
            // In the list's order: rows that others refer to come first.
            for (table, insert) in A_ROW_IN_EVERY_TABLE.iter().filter(|(t, _)| existing.iter().any(|e| e == t)) {
                let table = table.to_string();
                conn.execute_batch(insert).unwrap_or_else(|e| panic!("a row in {table} at schema {start}: {e}"));
                let cols = columns(&conn, &table);
                let rows = rows(&conn, &table, &cols);
                assert_eq!(rows.len(), 1, "{table} has its row at schema {start}");
                before.push((table, cols, rows));
            }
            run(&conn).unwrap_or_else(|e| panic!("migrating from schema {start} with a row in every table: {e}"));
            assert_eq!(schema_version(&conn).expect("version"), LATEST_SCHEMA);
            for (table, cols, rows_then) in before {
                assert_eq!(rows(&conn, &table, &cols), rows_then, "{table}'s row from schema {start} changed");
            }
            let (fk_errors,): (i64,) =
                conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| Ok((r.get(0)?,))).expect("fk");
            assert_eq!(fk_errors, 0, "foreign keys hold after migrating from schema {start}");
        }
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
            (17, "6b7f6fa85a92bb76"),
        ];
        assert_eq!(pinned.len(), LATEST_SCHEMA as usize, "pin every migration here as it ships");
        for (version, prefix) in pinned {
            let m = ALL.iter().find(|m| m.version == version).expect("pinned migration exists");
            let hash = data_encoding::HEXLOWER.encode(&Sha256::digest(m.sql.as_bytes()));
            assert!(hash.starts_with(prefix), "migration {version} was edited (hash {hash}); add a new one instead");
        }
    }
}
