//! `login_throttle`: consecutive sign-in failures per username, persisted so a restart does not reset them.
//!
//! After `FREE_ATTEMPTS` failures in a row, each further failure locks the username for a delay that starts at
//! 30 s and doubles up to 1 h. Unknown usernames are throttled exactly like real ones, so the answers reveal
//! nothing about which accounts exist. Usernames are stored hashed: a password typed into the username box
//! must not sit in the table.
//!
//! The same counts apply wherever a password is typed again (signing, changing it, key operations). Before the
//! database is open (unlocking with an admin's password when the keyring lost the key) they live in a small file
//! beside the key file instead ([`locked_for_in`], [`fail_in`], [`clear_in`]).

use crate::error::{io, Result};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use time::{Duration, OffsetDateTime};

pub const FREE_ATTEMPTS: u32 = 5;
pub const FIRST_DELAY: Duration = Duration::seconds(30);
pub const MAX_DELAY: Duration = Duration::hours(1);

fn key(username: &str) -> String {
    let normalized = crate::staff::table::normalize_username(username);
    data_encoding::HEXLOWER.encode(&Sha256::digest(format!("galen throttle v1|{normalized}").as_bytes()))
}

/// The delay after the `failures`-th consecutive failure: none for the first four, then 30 s, 60 s, … 1 h.
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_ATTEMPTS {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(16);
    (FIRST_DELAY * 2_i32.pow(doublings)).min(MAX_DELAY)
}

/// Seconds until this username may try again, if it is locked out now.
pub(crate) fn locked_for(conn: &Connection, username: &str, now: OffsetDateTime) -> Result<Option<u64>> {
    let until: Option<Option<String>> = conn
        .query_row("SELECT locked_until FROM login_throttle WHERE username_hash = ?1", [key(username)], |r| r.get(0))
        .optional()?;
    Ok(until
        .flatten()
        .and_then(|u| crate::clock::parse_rfc3339(&u))
        .filter(|u| *u > now)
        .map(|u| ((u - now).whole_milliseconds() as u64).div_ceil(1000).max(1)))
}

/// Counts a failure; returns the lockout it started, in seconds, if any.
pub(crate) fn fail(conn: &Connection, username: &str, now: OffsetDateTime) -> Result<Option<u64>> {
    let failures: u32 = conn
        .query_row("SELECT failures FROM login_throttle WHERE username_hash = ?1", [key(username)], |r| r.get(0))
        .optional()?
        .unwrap_or(0)
        + 1;
    let delay = delay_after(failures);
    let until = (delay > Duration::ZERO).then(|| crate::clock::rfc3339(now + delay));
    conn.execute(
        "INSERT INTO login_throttle (username_hash, failures, locked_until) VALUES (?1, ?2, ?3)
         ON CONFLICT (username_hash) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
        (key(username), failures, until),
    )?;
    Ok((delay > Duration::ZERO).then(|| delay.whole_seconds() as u64))
}

pub(crate) fn clear(conn: &Connection, username: &str) -> Result<()> {
    conn.execute("DELETE FROM login_throttle WHERE username_hash = ?1", [key(username)])?;
    Ok(())
}

/// One username's count in the file, as the table holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Count {
    failures: u32,
    locked_until: Option<String>,
}

fn read_file(path: &Path) -> BTreeMap<String, Count> {
    // A missing or unreadable file counts nothing: the KDF still makes each guess slow.
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

fn write_file(path: &Path, counts: &BTreeMap<String, Count>) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io("write", path))?;
    serde_json::to_writer(tmp.as_file(), counts).map_err(|e| io("write", path)(e.into()))?;
    tmp.persist(path).map_err(|e| io("write", path)(e.error))?;
    Ok(())
}

/// Seconds until this username may try again, from the file at `path`.
pub(crate) fn locked_for_in(path: &Path, username: &str, now: OffsetDateTime) -> Option<u64> {
    let until = read_file(path).remove(&key(username))?.locked_until?;
    let until = crate::clock::parse_rfc3339(&until).filter(|u| *u > now)?;
    Some(((until - now).whole_milliseconds() as u64).div_ceil(1000).max(1))
}

/// Counts a failure in the file at `path`; returns the lockout it started, in seconds, if any.
pub(crate) fn fail_in(path: &Path, username: &str, now: OffsetDateTime) -> Result<Option<u64>> {
    let mut counts = read_file(path);
    let count = counts.entry(key(username)).or_default();
    count.failures += 1;
    let delay = delay_after(count.failures);
    count.locked_until = (delay > Duration::ZERO).then(|| crate::clock::rfc3339(now + delay));
    write_file(path, &counts)?;
    Ok((delay > Duration::ZERO).then(|| delay.whole_seconds() as u64))
}

/// Forgets a username's failures in the file at `path`.
pub(crate) fn clear_in(path: &Path, username: &str) -> Result<()> {
    let mut counts = read_file(path);
    if counts.remove(&key(username)).is_some() {
        write_file(path, &counts)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_starts_after_five_failures_and_doubles_to_an_hour() {
        let secs: Vec<i64> = (1..=14).map(|f| delay_after(f).whole_seconds()).collect();
        assert_eq!(secs, [0, 0, 0, 0, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
