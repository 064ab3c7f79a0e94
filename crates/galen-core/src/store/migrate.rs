//! Versioned migrations. Each table's module declares its own migrations; this runner applies them in order,
//! one transaction each, and records the version in `PRAGMA user_version`.
//!
//! A shipped migration is never edited: `shipped_migrations_are_never_edited` pins each one's hash.

use crate::error::Result;
use rusqlite::Connection;

#[derive(Debug)]
pub(crate) struct Migration {
    /// Global, strictly increasing across all tables.
    pub version: u32,
    pub sql: &'static str,
    /// Data work SQL alone cannot do (e.g. computing check characters), run in the same transaction.
    pub post: Option<fn(&Connection) -> Result<()>>,
}

/// Every table's migrations. Add a module's list here when it gains a table.
fn all() -> Vec<&'static Migration> {
    let tables = [
        super::meta::MIGRATIONS,
        crate::settings::MIGRATIONS,
        crate::patients::MIGRATIONS,
        crate::staff::MIGRATIONS,
        crate::throttle::MIGRATIONS,
        crate::audit::MIGRATIONS,
        crate::breakglass::MIGRATIONS,
        crate::patients::MIGRATIONS_V8,
        crate::documents::MIGRATIONS,
        crate::signing::MIGRATIONS,
        crate::documents::MIGRATIONS_V11,
        crate::site::MIGRATIONS,
        crate::sync::MIGRATIONS,
    ];
    let mut all: Vec<&'static Migration> = tables.into_iter().flatten().collect();
    all.sort_by_key(|m| m.version);
    all
}

pub const LATEST_SCHEMA: u32 = 13;

pub(crate) fn schema_version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

pub(crate) fn run(conn: &Connection) -> Result<()> {
    let current = schema_version(conn)?;
    for m in all().into_iter().filter(|m| m.version > current) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(m.sql)?;
        if let Some(post) = m.post {
            post(&tx)?;
        }
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn versions_are_unique_contiguous_and_end_at_latest() {
        let versions: Vec<u32> = all().iter().map(|m| m.version).collect();
        let expected: Vec<u32> = (1..=LATEST_SCHEMA).collect();
        assert_eq!(versions, expected, "migration versions must run 1..=LATEST_SCHEMA with no gaps or repeats");
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
        ];
        assert_eq!(pinned.len(), LATEST_SCHEMA as usize, "pin every migration here as it ships");
        for (version, prefix) in pinned {
            let m = all().into_iter().find(|m| m.version == version).expect("pinned migration exists");
            let hash = data_encoding::HEXLOWER.encode(&Sha256::digest(m.sql.as_bytes()));
            assert!(hash.starts_with(prefix), "migration {version} was edited (hash {hash}); add a new one instead");
        }
    }
}
