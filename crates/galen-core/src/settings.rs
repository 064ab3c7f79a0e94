//! `settings`: clinic-wide settings as key/value rows (site name now; letterhead, paper size, idle timeout later).

use crate::error::Result;
use crate::store::{migrate::Migration, Store};
use rusqlite::OptionalExtension;

pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 2,
    sql: "CREATE TABLE settings (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
          ) STRICT;",
}];

const SITE_NAME: &str = "site.name";

pub fn site_name(store: &Store) -> Result<Option<String>> {
    get(store, SITE_NAME)
}

pub fn set_site_name(store: &Store, name: &str) -> Result<()> {
    set(store, SITE_NAME, name.trim())
}

fn get(store: &Store, key: &str) -> Result<Option<String>> {
    Ok(store.conn().query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn set(store: &Store, key: &str, value: &str) -> Result<()> {
    store.conn().execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )?;
    Ok(())
}
