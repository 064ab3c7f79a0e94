//! Encrypted, self-contained backups, and restores that never touch live data until the copy verifies.
//!
//! A backup file is:
//!
//! ```text
//! "GALENBK1" | header length (u32 LE) | header JSON | database length (u64 LE) | database bytes | MAC (32 bytes)
//! ```
//!
//! The database bytes are a SQLCipher snapshot under the clinic's key, and the header carries the key file, so
//! the backup opens with the recovery key (or the admin password) current when it was made. The MAC is
//! HMAC-SHA256 under a key derived from the database key, over everything before it: a truncated, padded or
//! altered backup is refused before anything is replaced.
//!
//! The header also carries the audit anchor of the log the backup holds (its head, signed by the site key): a
//! restore refuses a backup whose log does not reach its own anchor, and records in the restored log the newest
//! row of the log it replaced (`audit::table::record_restore`), so the rows it dropped are never silent.

pub mod drill;
pub mod schedule;

use crate::audit::anchor;
use crate::audit::table::{self as audit, Actor, Head, Outcome};
use crate::clinic::Clinic;
use crate::crypto::{self, Dek};
use crate::error::{io, Result, StoreError};
use crate::keyfile::{sync_dir, KeyFile};
use crate::permissions::Action;
use crate::recovery::RecoveryKey;
use crate::session::Session;
use crate::store::Store;
use crate::vault::{create_private_dir, remove_db_files, Vault};
use crate::Error;
use galen_proto::anchor::Anchor;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"GALENBK1";
const MAX_HEADER: u32 = 1 << 20;

/// Do not change: this is the header of every backup already written.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    created_at: String,
    schema_version: u32,
    key_file: KeyFile,
    /// The audit anchor of the log this backup holds; backups made before anchors have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    audit_anchor: Option<Anchor>,
}

/// What a backup or restore handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The backup file's size.
    pub bytes: u64,
    /// The schema version it holds.
    pub schema_version: u32,
}

fn mac_key(dek: &Dek) -> [u8; 32] {
    crypto::hmac(dek.expose(), b"galen backup mac v1")
}

fn new_mac(dek: &Dek) -> Hmac<Sha256> {
    // HMAC accepts any key length.
    #[allow(clippy::expect_used)]
    Hmac::<Sha256>::new_from_slice(&mac_key(dek)).expect("HMAC key")
}

/// Writes a backup of the open clinic to `dest` (admins only; atomically: a partial file, or one that does not
/// pass a restore's checks, never takes `dest`'s name).
pub fn backup(clinic: &Clinic, session: &Session, dest: &Path) -> Result<BackupSummary, Error> {
    let actor = clinic.authorize(session, Action::BackupCreate, None)?;
    // The backup's anchor is signed by the site key, made now if this clinic has none yet.
    crate::site::ensure_key(clinic, &actor)?;
    let summary = write_backup(clinic.vault(), clinic.store(), dest, clinic.now())?;
    let now = crate::clock::now_rfc3339();
    clinic.store().write(|tx| {
        schedule::record_manual(tx, &now, dest)?;
        audit::record(tx, &now, &actor, "backup.create", ("backup", ""), Outcome::Ok)
    })?;
    tracing::info!(bytes = summary.bytes, schema = summary.schema_version, "backup written");
    clinic.anchor_audit_log();
    Ok(summary)
}

/// A backup being written, under a temporary name in its folder until it verified.
const PARTIAL_PREFIX: &str = ".galen-backup";
/// The database copied for a backup, in the data folder.
const SNAPSHOT_PREFIX: &str = ".galen-snapshot";
/// A backup's private copy being checked (a restore, a drill), in the data folder.
const STAGED_PREFIX: &str = ".galen-restore";
/// A temporary file this old was left by a backup cut off (a kill, a power cut): none takes this long.
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes what backups cut off left in `dest_dir` and the data folder: temporary files at least an hour old,
/// so one another process is still writing is never taken. Returns what went.
pub(crate) fn remove_leftovers(vault: &Vault, dest_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for (dir, prefix) in [(dest_dir, PARTIAL_PREFIX), (vault.dir(), SNAPSHOT_PREFIX), (vault.dir(), STAGED_PREFIX)] {
        let entries = std::fs::read_dir(dir).map_err(io("read", dir))?;
        for entry in entries.flatten() {
            let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(prefix));
            let meta = match entry.metadata() {
                Ok(m) if ours && m.is_file() => m,
                _ => continue,
            };
            let old = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= LEFTOVER_AGE);
            if old {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(io("remove", &path))?;
                removed.push(path);
            }
        }
    }
    Ok(removed)
}

fn write_backup(vault: &Vault, store: &Store, dest: &Path, now: time::OffsetDateTime) -> Result<BackupSummary> {
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let snapshot = tempfile::Builder::new()
        .prefix(SNAPSHOT_PREFIX)
        .tempfile_in(vault.dir())
        .map_err(io("create a snapshot in", vault.dir()))?;
    // The anchor is the head before the snapshot: the snapshot holds that row and any written since.
    let audit_anchor = anchor::of_head(store.conn(), &store.db_id()?, now)?;
    store.snapshot_to(snapshot.path())?;
    let db_len = std::fs::metadata(snapshot.path()).map_err(io("read", snapshot.path()))?.len();
    let header = Header {
        format: "galen.backup.v1".into(),
        created_at: crate::clock::now_rfc3339(),
        schema_version: store.schema_version()?,
        key_file: vault.key_file()?,
        audit_anchor,
    };
    // Plain strings and numbers always serialize.
    #[allow(clippy::expect_used)]
    let header_json = serde_json::to_vec(&header).expect("backup header serializes");

    let out = tempfile::Builder::new().prefix(PARTIAL_PREFIX).tempfile_in(dir).map_err(io("create a file in", dir))?;
    let mut mac = new_mac(store.dek());
    {
        let mut w = MacWriter { inner: BufWriter::new(out.as_file()), mac: &mut mac };
        let write_err = io("write", dest);
        (|| {
            w.write_all(MAGIC)?;
            w.write_all(&(header_json.len() as u32).to_le_bytes())?;
            w.write_all(&header_json)?;
            w.write_all(&db_len.to_le_bytes())?;
            std::io::copy(&mut File::open(snapshot.path())?, &mut w)?;
            w.inner.flush()
        })()
        .map_err(write_err)?;
    }
    let tag = mac.finalize().into_bytes();
    let mut f = out.as_file();
    f.write_all(&tag).map_err(io("write", dest))?;
    f.sync_all().map_err(io("flush", dest))?;
    // Checked as a restore would check it before it takes its name: a backup that would not restore is none.
    drop(stage(vault, out.path(), |key_file| match key_file.matches(store.dek()) {
        true => Ok(store.dek().clone()),
        false => Err(StoreError::BadBackup { path: dest.to_owned(), reason: "its key file does not open it".into() }),
    })?);
    out.persist(dest).map_err(|e| StoreError::Io { action: "save", path: dest.to_owned(), source: e.error })?;
    sync_dir(dir)?;
    let bytes = std::fs::metadata(dest).map_err(io("read", dest))?.len();
    Ok(BackupSummary { bytes, schema_version: header.schema_version })
}

/// Who is restoring: an admin signed in to the current clinic, or, where there is no working clinic (a new
/// laptop, a damaged database), whoever holds the backup's recovery key.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per restore and moved, never stored
pub enum RestoreBy<'a> {
    /// An admin signed in to the working clinic, which is closed before its files are replaced.
    Admin {
        /// The open clinic.
        clinic: Clinic,
        /// The admin's session.
        session: &'a Session,
    },
    /// Only the backup's recovery key: for a new laptop or a database that no longer opens.
    RecoveryKeyOnly,
}

/// Replaces the clinic's data with `src`, only after the backup's MAC, SQLCipher page checks and SQLite's
/// integrity check all pass on a private copy. An admin's open clinic is closed before the swap, and its key
/// opens backups made under the same key without a recovery key. The restore is recorded in the audit trail
/// of the restored database.
pub fn restore(
    vault: &Vault,
    src: &Path,
    by: RestoreBy<'_>,
    recovery: Option<&RecoveryKey>,
) -> Result<BackupSummary, Error> {
    let (current, actor) = match by {
        RestoreBy::Admin { clinic, session } => {
            let actor = clinic.authorize(session, Action::BackupRestore, None)?;
            (Some(clinic.close().1), actor)
        }
        RestoreBy::RecoveryKeyOnly => (None, Actor::system()),
    };
    Ok(restore_verified(vault, src, current, recovery, &actor)?)
}

fn restore_verified(
    vault: &Vault,
    src: &Path,
    current: Option<Store>,
    recovery: Option<&RecoveryKey>,
    actor: &Actor,
) -> Result<BackupSummary> {
    let Staged { store: restored, file: staged, header, total, schema_version, db_id } =
        stage(vault, src, |key_file| match (&current, recovery) {
            (Some(store), _) if key_file.matches(store.dek()) => Ok(store.dek().clone()),
            (_, Some(key)) => key_file.unwrap_with_recovery(key),
            _ => Err(StoreError::BackupNeedsRecoveryKey),
        })?;
    // What the restore replaces: the live log up to its head, or up to its anchor if that names a later row (a
    // log already cut). Recorded in the restored log, whose next row takes the number after it.
    let live_head = match &current {
        Some(store) => audit::head(store.conn())?,
        None => None,
    };
    let anchored = match &current {
        Some(store) => anchor::current(vault, store)?,
        None => anchor::current_in(vault, restored.conn(), &db_id)?,
    };
    let anchored = anchored.map(|a| Head { row: a.row, hash: a.hash });
    let replaced = match (live_head, anchored) {
        (Some(live), Some(a)) => Some(if a.row > live.row { a } else { live }),
        (live, a) => live.or(a),
    };
    let now = crate::clock::now_rfc3339();
    restored.write(|tx| audit::record_restore(tx, &now, actor, replaced.as_ref())).map_err(|e| match e {
        Error::Store(s) => s,
        other => StoreError::BadBackup { path: src.to_owned(), reason: other.to_string() },
    })?;
    let new_anchor = anchor::of_head(restored.conn(), &db_id, time::OffsetDateTime::now_utc())?;
    restored.checkpoint()?;
    let dek = restored.dek().clone();
    drop(restored);
    let staged_path = staged.take()?;

    // Everything verified: close the live store and swap the files in.
    if let Some(store) = current {
        store.checkpoint()?;
        drop(store);
    }
    // The backup's key file waits beside the live one until the database is swapped, as a key rotation's does: a
    // crash between the two leaves a pair that opens (the admin's password or the backup's recovery key finishes
    // it), never a database whose key file is gone.
    let pending = vault.pending_key_file_path();
    header.key_file.save(&pending)?;
    let live = vault.db_path();
    remove_db_files(&live, false)?;
    std::fs::rename(&staged_path, &live).map_err(io("replace", &live))?;
    std::fs::rename(&pending, vault.key_file_path()).map_err(io("rename", &pending))?;
    // The anchor file now anchors the restored log (whose restore row explains the rows it replaced).
    match &new_anchor {
        Some(a) => anchor::save(vault, a)?,
        None => remove_anchor_file(vault)?,
    }
    sync_dir(vault.dir())?;
    // The keyring is a convenience: if it is unavailable, the clinic unlocks with the admin password.
    let _ = vault.keyring().store(&header.key_file.db_id, &dek);
    tracing::info!(bytes = total, schema = schema_version, "backup restored");
    Ok(BackupSummary { bytes: total, schema_version })
}

/// A backup's database copied out to a private file beside the live one and checked as a restore checks it.
struct Staged {
    /// The copy, open (declared first: it closes before its file is removed).
    store: Store,
    file: StagedFile,
    header: Header,
    /// The backup file's size.
    total: u64,
    schema_version: u32,
    db_id: String,
}

/// A staged copy's file: removed with its companions unless it is taken to be swapped in.
struct StagedFile {
    path: PathBuf,
    taken: bool,
}

impl StagedFile {
    /// The closed copy's file, its companions removed (the store was checkpointed and closed first).
    fn take(mut self) -> Result<PathBuf> {
        remove_db_files(&self.path, false)?;
        self.taken = true;
        Ok(std::mem::take(&mut self.path))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.taken {
            // `Store::open` may have switched the copy to WAL: its companions go with it.
            let _ = remove_db_files(&self.path, true);
        }
    }
}

/// Copies `src`'s database to a private file beside the live one and checks it as a restore must before
/// anything is replaced: the lengths, the MAC over every byte (under the key `key` gives for the backup's key
/// file), SQLCipher's page checks, SQLite's integrity check, a schema this build knows, and the backup's own
/// audit anchor.
fn stage(vault: &Vault, src: &Path, key: impl FnOnce(&KeyFile) -> Result<Dek>) -> Result<Staged> {
    let bad = |reason: &str| StoreError::BadBackup { path: src.to_owned(), reason: reason.into() };
    let file = File::open(src).map_err(io("open", src))?;
    let total = file.metadata().map_err(io("read", src))?.len();
    let mut r = BufReader::new(file);
    let Prefix { header, header_len, header_json, db_len } = read_prefix(&mut r, total).map_err(bad)?;
    let dek = key(&header.key_file)?;

    create_private_dir(vault.dir())?;
    let staged = tempfile::Builder::new()
        .prefix(STAGED_PREFIX)
        .tempfile_in(vault.dir())
        .map_err(io("create a file in", vault.dir()))?;
    let mut mac = new_mac(&dek);
    mac.update(MAGIC);
    mac.update(&header_len.to_le_bytes());
    mac.update(&header_json);
    mac.update(&db_len.to_le_bytes());
    {
        let mut w = MacWriter { inner: BufWriter::new(staged.as_file()), mac: &mut mac };
        std::io::copy(&mut (&mut r).take(db_len), &mut w).map_err(io("copy", src))?;
        w.inner.flush().map_err(io("write", staged.path()))?;
    }
    let tag: [u8; 32] = read_array(&mut r).ok_or_else(|| bad("the file is truncated"))?;
    mac.verify_slice(&tag).map_err(|_| bad("its contents do not match its seal (damaged or altered)"))?;
    staged.as_file().sync_all().map_err(io("flush", staged.path()))?;
    let path = staged.into_temp_path().keep().map_err(|e| io("keep", vault.dir())(e.error))?;
    let file = StagedFile { path, taken: false };

    let store = Store::open(&file.path, dek)?;
    store.check_integrity()?;
    let schema_version = store.schema_version()?;
    let db_id = store.db_id()?;
    if let Some(own) = &header.audit_anchor {
        check_own_anchor(&store, &db_id, own).map_err(|reason| bad(&reason))?;
    }
    Ok(Staged { store, file, header, total, schema_version, db_id })
}

/// Checks a backup's own audit anchor against the log it holds: this database's, signed by its site key (when it
/// has one), and reached by the log. The anchor was made before the snapshot, so a log that falls short of it
/// was cut inside the backup. Returns why not, in words.
fn check_own_anchor(restored: &Store, db_id: &str, own: &Anchor) -> std::result::Result<(), String> {
    let damaged = |e: &dyn std::fmt::Display| format!("its audit anchor is not valid ({e})");
    own.well_formed().map_err(|e| damaged(&e))?;
    if own.db_id != db_id {
        return Err("its audit anchor belongs to another database".into());
    }
    match anchor::site_peer(restored.conn()) {
        Ok(Some(key)) => own.check(&key).map_err(|e| damaged(&e))?,
        Ok(None) => {}
        Err(e) => return Err(damaged(&e)),
    }
    match anchor::check(restored.conn(), own) {
        Ok(None) => Ok(()),
        Ok(Some(brk)) => Err(format!("its audit log does not reach its own anchor: {brk}")),
        Err(e) => Err(damaged(&e)),
    }
}

fn remove_anchor_file(vault: &Vault) -> Result<()> {
    let path = vault.anchor_path();
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("remove", &path)(e)),
        _ => Ok(()),
    }
}

/// What precedes a backup's database bytes, read and checked before any key is tried.
struct Prefix {
    header: Header,
    header_len: u32,
    header_json: Vec<u8>,
    db_len: u64,
}

/// Reads the magic, the header and the database length of a backup `total` bytes long, and checks the lengths
/// add up to `total`. The error says why not, in words.
fn read_prefix(r: &mut impl Read, total: u64) -> std::result::Result<Prefix, &'static str> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).map_err(|_| "it is too short to be a Galen backup")?;
    if &magic != MAGIC {
        return Err("it is not a Galen backup file");
    }
    let header_len = u32::from_le_bytes(read_array(r).ok_or("the file is truncated")?);
    if header_len > MAX_HEADER {
        return Err("its header is damaged");
    }
    let mut header_json = vec![0u8; header_len as usize];
    r.read_exact(&mut header_json).map_err(|_| "the file is truncated")?;
    let header: Header = serde_json::from_slice(&header_json).map_err(|_| "its header is damaged")?;
    let db_len = u64::from_le_bytes(read_array(r).ok_or("the file is truncated")?);
    // A length no file could have (the sum overflows) is a truncated one, never a wrapped-around match.
    let expected_total = (8 + 4 + u64::from(header_len) + 8 + 32).checked_add(db_len);
    if expected_total != Some(total) {
        return Err(if expected_total.is_none_or(|expected| total < expected) {
            "the file is truncated (incomplete copy)"
        } else {
            "the file has extra bytes"
        });
    }
    Ok(Prefix { header, header_len, header_json, db_len })
}

/// The fuzz target's way in: the prefix of a backup held in memory, and the recovery key tried on its key file.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_prefix(bytes: &[u8], recovery: &RecoveryKey) {
    let total = bytes.len() as u64;
    if let Ok(prefix) = read_prefix(&mut std::io::Cursor::new(bytes), total) {
        let _ = prefix.header.key_file.unwrap_with_recovery(recovery);
        if let Some(anchor) = &prefix.header.audit_anchor {
            let _ = anchor.well_formed();
        }
    }
}

fn read_array<const N: usize>(r: &mut impl Read) -> Option<[u8; N]> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// Feeds every byte written into the MAC as well.
struct MacWriter<'a, W: Write> {
    inner: W,
    mac: &'a mut Hmac<Sha256>,
}

impl<W: Write> Write for MacWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.mac.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backup's magic, a minimal header and the given database length, with no database bytes after it.
    fn prefix_with_db_len(db_len: u64) -> Vec<u8> {
        let header = br#"{"format":"x","created_at":"","schema_version":1,"key_file":{"format":"","db_id":"","key_check":"","admin_wraps":[],"recovery_wrap":{"nonce":"","ciphertext":""}}}"#;
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&db_len.to_le_bytes());
        bytes
    }

    #[test]
    fn a_backup_claiming_a_database_near_u64_max_is_refused_not_overflowed() {
        for db_len in [u64::MAX, u64::MAX - 20, u64::MAX - 100] {
            let bytes = prefix_with_db_len(db_len);
            let refused = read_prefix(&mut std::io::Cursor::new(&bytes), bytes.len() as u64).err();
            assert_eq!(refused, Some("the file is truncated (incomplete copy)"), "database length {db_len}");
        }
    }
}
