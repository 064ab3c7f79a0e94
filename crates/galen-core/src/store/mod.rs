//! The encrypted clinic store: one SQLCipher file opened with a raw 256-bit key.
//!
//! Opening classifies every failure (not a Galen file, damaged pages, newer schema) into a [`StoreError`]
//! that says what to do next, and then brings the schema up to date.

mod backfill;
mod meta;
pub(crate) mod migrate;

use crate::crypto::Dek;
use crate::error::{io, Result, StoreError};
use crate::sensitive::Sensitive;
use rusqlite::{Connection, OpenFlags};
use std::io::Read;
use std::path::{Path, PathBuf};

pub use migrate::LATEST_SCHEMA;

/// An open, unlocked clinic database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Kept for the operations that need it while open: backups, new admin wraps, key rotation.
    dek: Dek,
}

impl Store {
    /// Creates a new, empty Galen database at `path` (which must not exist) and applies every migration.
    pub(crate) fn create(path: &Path, dek: Dek, db_id: &str) -> Result<Self> {
        Self::create_unexplained(path, dek, db_id).map_err(|e| explained(e, path))
    }

    fn create_unexplained(path: &Path, dek: Dek, db_id: &str) -> Result<Self> {
        // Owner-only from the first byte; SQLite gives the -wal and -shm files the same mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true).mode(0o600);
            options.open(path).map_err(io("create", path))?;
        }
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        apply_key(&conn, &dek)?;
        let store = Self { conn, path: path.to_owned(), dek };
        store.configure()?;
        migrate::run(&store.conn)?;
        meta::init(&store.conn, db_id)?;
        Ok(store)
    }

    /// Opens an existing database with a key already known to belong to this clinic.
    pub(crate) fn open(path: &Path, dek: Dek) -> Result<Self> {
        Self::open_unexplained(path, dek).map_err(|e| explained(e, path))
    }

    fn open_unexplained(path: &Path, dek: Dek) -> Result<Self> {
        refuse_obvious_strangers(path)?;
        refuse_without_its_log(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        apply_key(&conn, &dek)?;
        let store = Self { conn, path: path.to_owned(), dek };
        if let Err(e) = store.conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            return Err(store.explain_unreadable(e));
        }
        store.configure()?;
        if !meta::is_galen(&store.conn)? {
            return Err(StoreError::NotGalenDatabase {
                path: path.to_owned(),
                reason: "it opens, but holds no Galen tables".into(),
            });
        }
        let found = migrate::schema_version(&store.conn)?;
        if found > LATEST_SCHEMA {
            return Err(StoreError::NewerSchema { found, supported: LATEST_SCHEMA });
        }
        migrate::run(&store.conn)?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn dek(&self) -> &Dek {
        &self.dek
    }

    /// Runs `f` in one transaction: either all of its writes land, or none do.
    ///
    /// The transaction takes the write lock before its first read (`BEGIN IMMEDIATE`), waiting up to the busy
    /// timeout for another process's writer. A transaction that starts as a reader cannot wait later: when another
    /// writer committed since its first read, SQLite refuses it at once (SQLITE_BUSY_SNAPSHOT).
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, crate::Error>,
    ) -> Result<T, crate::Error> {
        let run = || {
            let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| match e {
            crate::Error::Store(StoreError::Sqlite(e)) => crate::Error::Store(self.explain(e)),
            other => other,
        })
    }

    /// SQLite's failure said in the user's terms: a full or read-only disk, a file Galen may not touch.
    pub(crate) fn explain(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(e, &self.path)
    }

    /// The database's id (in the key file too, binding the two).
    pub fn db_id(&self) -> Result<String> {
        meta::db_id(&self.conn)
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        migrate::schema_version(&self.conn)
    }

    /// The durability settings in force on this connection, for `galen status` and tests.
    pub fn durability(&self) -> Result<Durability> {
        let c = &self.conn;
        Ok(Durability {
            journal_mode: c.pragma_query_value(None, "journal_mode", |r| r.get(0))?,
            synchronous: c.pragma_query_value(None, "synchronous", |r| r.get(0))?,
            foreign_keys: c.pragma_query_value(None, "foreign_keys", |r| r.get(0))?,
        })
    }

    /// Reads every page: SQLCipher's HMAC check names each damaged page, then SQLite's own structural check.
    pub fn check_integrity(&self) -> Result<()> {
        // SQLCipher's check reads the file, not the write-ahead log: after a key rotation cut off before its
        // checkpoint, the file's pages are under the old key and the log holds every page under the new one.
        // Copy the log in first, so what is checked is what opens. (On a read-only disk it cannot; the file is
        // then checked as it is.)
        let _ = self.checkpoint();
        let mut pages = Vec::new();
        let mut details = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows {
            let line = row?;
            if let Some(p) = page_number(&line) {
                pages.push(p);
            }
            details.push(line);
        }
        if !details.is_empty() {
            return Err(StoreError::Corrupted { path: self.path.clone(), pages, detail: details.join("; ") });
        }
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        if lines != ["ok"] {
            return Err(StoreError::Corrupted { path: self.path.clone(), pages: Vec::new(), detail: lines.join("; ") });
        }
        Ok(())
    }

    /// Copies the database page by page into a new file encrypted with the same key: a consistent snapshot,
    /// even while the store is in use.
    pub(crate) fn snapshot_to(&self, dest: &Path) -> Result<()> {
        self.snapshot_unexplained(dest).map_err(|e| explained(e, dest))
    }

    fn snapshot_unexplained(&self, dest: &Path) -> Result<()> {
        let mut out = Connection::open(dest)?;
        apply_key(&out, &self.dek)?;
        rusqlite::backup::Backup::new(&self.conn, &mut out)?.run_to_completion(256, std::time::Duration::ZERO, None)?;
        // A backup copy is a single self-contained file.
        out.pragma_update(None, "journal_mode", "DELETE")?;
        Ok(())
    }

    /// Writes an unencrypted copy of the whole database to `dest` (benchmarks only: it is plaintext).
    #[cfg(feature = "dev")]
    pub(crate) fn export_plain(&self, dest: &Path) -> Result<()> {
        // The store's connection may not create files; an empty file is an empty SQLite database.
        std::fs::File::create(dest).map_err(io("create", dest))?;
        self.conn.execute("ATTACH DATABASE ?1 AS plaintext KEY ''", [dest.to_string_lossy()])?;
        self.conn.query_row("SELECT sqlcipher_export('plaintext')", [], |_| Ok(()))?;
        self.conn.execute_batch("DETACH DATABASE plaintext")?;
        Ok(())
    }

    /// Re-encrypts every page under `new` (SQLCipher `PRAGMA rekey`), in one transaction, and checks on disk that
    /// it landed.
    ///
    /// SQLCipher's rekey ignores a failed commit (a full disk): it answers "ok" and switches the connection to
    /// the new key while the file stays under the old one. So a second connection must open the file with the
    /// new key; if it cannot, this connection is reopened under the old key (which still opens the file) and the
    /// rekey is reported as failed.
    pub(crate) fn rekey(&mut self, new: Dek) -> Result<()> {
        let asked = self.conn.pragma_update(None, "rekey", key_literal(&new).expose());
        let landed = asked.is_ok() && opens_with(&self.path, &new);
        if landed {
            self.dek = new;
            // The re-encrypted pages are committed in the write-ahead log; copy them into the file now, so the
            // file alone is under the new key. A failure here loses nothing (the log is read on opening), and the
            // rekey must not be reported failed once it landed: the caller would keep the old key file.
            if let Err(e) = self.checkpoint() {
                tracing::warn!(error = %e, "the re-keyed pages stay in the write-ahead log until the next checkpoint");
            }
            return Ok(());
        }
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        apply_key(&conn, &self.dek)?;
        drop(std::mem::replace(&mut self.conn, conn));
        self.configure()?;
        let dir = self.path.parent().unwrap_or(&self.path);
        Err(match asked {
            Err(e) => self.explain(e),
            // A rekey writes every page again: it needs about the file's size free.
            Ok(()) if crate::error::lacks_room(dir, file_bytes(&self.path)) => {
                StoreError::DiskFull { path: dir.to_owned() }
            }
            Ok(()) => StoreError::RekeyNotWritten,
        })
    }

    /// Copies what it can of the write-ahead log into the main file without waiting for anyone (a PASSIVE
    /// checkpoint), and sets SQLite's automatic checkpoint to every `pages` pages (0: never): the commit benchmark
    /// compares saves with and without it.
    #[cfg(feature = "dev")]
    pub(crate) fn checkpoint_then_autocheckpoint(&self, pages: u32) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).map_err(|e| self.explain(e))?;
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        Ok(())
    }

    /// Flushes the write-ahead log into the main file, so the file alone is the whole database.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| self.explain(e))?;
        Ok(())
    }

    fn configure(&self) -> Result<()> {
        let c = &self.conn;
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "FULL")?;
        c.pragma_update(None, "foreign_keys", "ON")?;
        // Temporary tables and sort spills stay in memory, never in a plaintext temp file.
        c.pragma_update(None, "temp_store", "MEMORY")?;
        c.pragma_update(None, "secure_delete", "ON")?;
        // 64 MiB of decrypted pages: each page read from disk costs a decryption and an HMAC check.
        c.pragma_update(None, "cache_size", -65536)?;
        c.busy_timeout(crate::error::BUSY_TIMEOUT)?;
        Ok(())
    }

    /// The key is known to be right (the key check matched), so an unreadable file is damaged or foreign.
    fn explain_unreadable(&self, e: rusqlite::Error) -> StoreError {
        if e.sqlite_error_code() != Some(rusqlite::ErrorCode::NotADatabase) {
            return e.into();
        }
        match self.check_integrity() {
            Err(StoreError::Corrupted { path, pages, detail }) => {
                let total = file_pages(&self.path);
                if !pages.is_empty() && pages.len() as u64 >= total {
                    StoreError::NotGalenDatabase {
                        path: self.path.clone(),
                        reason: "no page opens with this clinic's key".into(),
                    }
                } else {
                    StoreError::Corrupted { path, pages, detail }
                }
            }
            _ => StoreError::Corrupted { path: self.path.clone(), pages: vec![1], detail: e.to_string() },
        }
    }
}

/// A database error said in the user's terms (see [`StoreError::from_sqlite`]).
fn explained(e: StoreError, db: &Path) -> StoreError {
    match e {
        StoreError::Sqlite(e) => StoreError::from_sqlite(e, db),
        other => other,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durability {
    pub journal_mode: String,
    /// 2 is FULL: each commit is fsynced before it returns.
    pub synchronous: i64,
    pub foreign_keys: bool,
}

/// Turns away files that cannot be ours before handing them to SQLCipher.
fn refuse_obvious_strangers(path: &Path) -> Result<()> {
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(io("open", path))?;
    let n = f.read(&mut head).map_err(io("read", path))?;
    let reason = if n < 16 {
        "the file is empty or truncated"
    } else if &head == b"SQLite format 3\0" {
        "it is an unencrypted SQLite file"
    } else {
        return Ok(());
    };
    Err(StoreError::NotGalenDatabase { path: path.to_owned(), reason: reason.into() })
}

/// Whether a fresh connection reads the file at `path` under `dek` (what the next opening will see).
fn opens_with(path: &Path, dek: &Dek) -> bool {
    let Ok(conn) = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE) else { return false };
    apply_key(&conn, dek).is_ok()
        && conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_ok()
}

/// After a crash the write-ahead log holds commits not yet copied into the file, and its index (`-shm`) counts
/// them. Opening without the log would silently show the older state (and reset the index), so a log the index
/// counts frames of must be there.
fn refuse_without_its_log(db: &Path) -> Result<()> {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let shm = PathBuf::from(format!("{}-shm", db.display()));
    if wal.exists() {
        return Ok(());
    }
    let mut head = [0u8; 20];
    let Ok(mut f) = std::fs::File::open(&shm) else { return Ok(()) };
    if f.read_exact(&mut head).is_err() {
        return Ok(());
    }
    // SQLite's wal-index header, in the machine's byte order: isInit at byte 12, mxFrame (frames in the log
    // that count) at bytes 16..20.
    let frames = u32::from_ne_bytes([head[16], head[17], head[18], head[19]]);
    if head[12] == 1 && frames > 0 {
        return Err(StoreError::WalMissing { path: wal });
    }
    Ok(())
}

fn apply_key(conn: &Connection, dek: &Dek) -> Result<()> {
    conn.pragma_update(None, "key", key_literal(dek).expose())?;
    Ok(())
}

/// SQLCipher's raw-key syntax, `x'<64 hex>'`, which skips its KDF.
fn key_literal(dek: &Dek) -> Sensitive<String> {
    Sensitive::new(format!("x'{}'", data_encoding::HEXLOWER.encode(dek.expose())))
}

fn page_number(line: &str) -> Option<u32> {
    line.split("page ").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

fn file_pages(path: &Path) -> u64 {
    file_bytes(path) / 4096
}

fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{opens_with, page_number, Store};
    use crate::error::StoreError;
    use std::process::Command;

    /// SQLCipher's `PRAGMA rekey` answers "ok" when its commit fails on a full disk, while the file stays under the
    /// old key. `Store::rekey` must notice, report the full disk and keep working under the old key. On a real
    /// tmpfs (mounting needs root; elsewhere this prints why and passes).
    #[test]
    fn a_rekey_that_does_not_fit_on_the_disk_fails_and_the_old_key_still_opens_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"]).arg(dir.path()).output();
        if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("SKIPPED: cannot mount a small tmpfs here (needs root): {mounted:?}");
            return;
        }
        let run = || {
            let db = dir.path().join("galen.db");
            let old = crate::crypto::new_dek();
            let mut store = Store::create(&db, old.clone(), "test-db").expect("create");
            store.conn().execute_batch("CREATE TABLE filler(b BLOB)").expect("table");
            for _ in 0..64 {
                store.conn().execute("INSERT INTO filler VALUES (randomblob(8000))", []).expect("insert");
            }
            store.checkpoint().expect("checkpoint");
            // Leave room for a few pages, far less than the ~600 KB a rekey writes again.
            let mut f = std::fs::File::create(dir.path().join("filler")).expect("filler");
            let free = || {
                let s = rustix::fs::statvfs(dir.path()).expect("statvfs");
                s.f_bavail * s.f_frsize
            };
            while free() > 32 * 1024 {
                if std::io::Write::write_all(&mut f, &[0u8; 4096]).is_err() {
                    break;
                }
            }
            drop(f);

            let new = crate::crypto::new_dek();
            let err = store.rekey(new.clone()).expect_err("no room to re-encrypt");
            assert!(matches!(err, StoreError::DiskFull { .. }), "got {err:?}");
            assert!(!opens_with(&db, &new), "the file is not under the new key");
            assert!(opens_with(&db, &old), "the old key still opens the file");
            let n: i64 = store.conn().query_row("SELECT count(*) FROM filler", [], |r| r.get(0)).expect("read");
            assert_eq!(n, 64, "the store goes on working under the old key");
            drop(store);
            assert!(opens_with(&db, &old), "and after closing");
        };
        let outcome = std::panic::catch_unwind(run);
        let _ = Command::new("umount").arg("-l").arg(dir.path()).status();
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    #[test]
    fn page_numbers_are_read_from_sqlcipher_messages() {
        assert_eq!(page_number("HMAC verification failed for page 3"), Some(3));
        assert_eq!(page_number("HMAC operation failed for page 12"), Some(12));
        assert_eq!(page_number("something else"), None);
    }
}
