//! `settings`: clinic-wide settings as key/value rows (site name now; letterhead, paper size, idle timeout later).

use crate::audit::{self, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldError, FieldErrors, Result};
use crate::permissions::Action;
use crate::session::Session;
use crate::store::{migrate::Migration, Store};
use crate::text;
use rusqlite::{Connection, OptionalExtension};
use time::Duration;

pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 2,
    sql: "CREATE TABLE settings (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
          ) STRICT;",
}];

pub(crate) const SITE_NAME: &str = "site.name";
const IDLE_TIMEOUT_SECS: &str = "session.idle_timeout_secs";

pub const IDLE_MINUTES_RANGE: std::ops::RangeInclusive<i64> = 1..=240;

/// The clinic's name, as printed on documents. Not secret: shown before sign-in.
pub fn site_name(store: &Store) -> Result<Option<String>> {
    get(store.conn(), SITE_NAME)
}

pub fn set_site_name(clinic: &Clinic, session: &Session, name: &str) -> Result<(), Error> {
    let name = text::clean(name);
    text::check_required("site_name", &name, crate::clinic::SITE_NAME_MAX).map_err(Error::Invalid)?;
    update(clinic, session, SITE_NAME, &name)
}

pub fn idle_timeout(store: &Store) -> Result<Option<Duration>> {
    Ok(get(store.conn(), IDLE_TIMEOUT_SECS)?.and_then(|s| s.parse().ok()).map(Duration::seconds))
}

/// Sets how long a session may sit idle before it locks (applies from the next sign-in).
pub fn set_idle_timeout_minutes(clinic: &Clinic, session: &Session, minutes: i64) -> Result<(), Error> {
    if !IDLE_MINUTES_RANGE.contains(&minutes) {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new(
            "idle_timeout_minutes",
            format!("Choose between {} and {} minutes.", IDLE_MINUTES_RANGE.start(), IDLE_MINUTES_RANGE.end()),
        ))));
    }
    update(clinic, session, IDLE_TIMEOUT_SECS, &(minutes * 60).to_string())
}

fn update(clinic: &Clinic, session: &Session, key: &str, value: &str) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::SettingsManage, None)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        put(tx, key, value)?;
        audit::record(tx, &now, &actor, "settings.update", ("setting", key), Outcome::Ok)
    })
}

fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub(crate) fn put(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )?;
    Ok(())
}
