//! The partner's own database: one SQLCipher file. Its identity (OpenPGP key, server CA), the paired sites, the
//! records they sent (unique on site, id and version), the nonces seen, and a log of every refused envelope.

use crate::files;
use crate::key::DbKey;
use crate::metrics::Metrics;
use crate::rate::{Limiter, RateLimit};
use galen_proto::anchor::{Anchor, AnchorError};
use galen_proto::envelope::{self, content_hash, par_map, Kind, Meta, OwnKey, PeerKey, Plaintext, Rejection};
use galen_proto::pairing::PairingFile;
use galen_proto::wire::{decode_envelope, encode_envelope, fitting_in_a_body, Pulled, PushResult, PushStatus};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use time::OffsetDateTime;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS identity (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        name        TEXT NOT NULL,
        server_ca   TEXT NOT NULL,
        server_ca_key TEXT,
        openpgp_key TEXT NOT NULL,
        created_at  TEXT NOT NULL
    ) STRICT;
    CREATE TABLE IF NOT EXISTS sites (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        ca_cert       TEXT NOT NULL,
        openpgp_key   TEXT NOT NULL,
        fingerprint   TEXT NOT NULL UNIQUE,
        safety_number TEXT NOT NULL,
        paired_at     TEXT NOT NULL,
        -- Set by `galen-partner unpair`: the site is no longer trusted; what it sent stays.
        unpaired_at   TEXT
    ) STRICT;
    CREATE TABLE IF NOT EXISTS records (
        seq         INTEGER PRIMARY KEY,
        site_id     INTEGER NOT NULL REFERENCES sites (id),
        kind        TEXT NOT NULL,
        record_id   TEXT NOT NULL,
        version     INTEGER NOT NULL,
        hash        TEXT NOT NULL,
        payload     TEXT NOT NULL,
        received_at TEXT NOT NULL,
        -- Another site sent the same record id and version with other contents: kept, flagged.
        conflict    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (site_id, record_id, version)
    ) STRICT;
    CREATE INDEX IF NOT EXISTS records_by_record ON records (record_id, version);
    CREATE TABLE IF NOT EXISTS nonces (
        nonce   TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX IF NOT EXISTS nonces_seen ON nonces (seen_at);
    CREATE TABLE IF NOT EXISTS rejections (
        id      INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        site_id INTEGER,
        reason  TEXT NOT NULL,
        detail  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX IF NOT EXISTS rejections_at ON rejections (at);
    -- Each site's newest audit anchor (the head of its audit chain, signed by its site key), as it sent it: never
    -- lowered, handed back at each sync so a clinic whose log was cut learns it.
    CREATE TABLE IF NOT EXISTS anchors (
        site_id     INTEGER PRIMARY KEY REFERENCES sites (id),
        row         INTEGER NOT NULL,
        anchor      TEXT NOT NULL,
        received_at TEXT NOT NULL
    ) STRICT;";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "{} does not open with {key}: that is not this database's key (restore the right key file from your \
         backup), or the file is damaged",
        database.display()
    )]
    WrongKey { database: std::path::PathBuf, key: String },
    #[error(
        "{} is an unencrypted database from an earlier galen-partner: stop the server and run \
         `galen-partner encrypt-database` once, which encrypts it in place",
        database.display()
    )]
    Plaintext { database: std::path::PathBuf },
    #[error(
        "{} is in use (is the server still running?): stop it (`systemctl stop galen-partner`) and run \
         `galen-partner encrypt-database` again; nothing was changed",
        database.display()
    )]
    InUse { database: std::path::PathBuf },
    /// The site was unpaired while the server ran (it still passes TLS until a restart).
    #[error("this site is no longer paired")]
    NotPaired,
    #[error("cannot {action} {}: {source}", path.display())]
    File { action: &'static str, path: std::path::PathBuf, source: std::io::Error },
}

impl StoreError {
    fn file(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.to_owned();
        move |source| StoreError::File { action, path, source }
    }
}

/// A paired clinic.
#[derive(Clone)]
pub struct Site {
    pub id: i64,
    pub name: String,
    pub key: PeerKey,
    pub safety_number: String,
    pub ca_cert: String,
    verifier: Arc<dyn ClientCertVerifier>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

impl Site {
    /// Whether this site's CA issued `certificate` (DER) and it is valid now.
    pub fn issued(&self, certificate: &[u8]) -> bool {
        let der = CertificateDer::from(certificate.to_vec());
        self.verifier.verify_client_cert(&der, &[], UnixTime::now()).is_ok()
    }
}

fn now_rfc3339() -> String {
    galen_proto::rfc3339(OffsetDateTime::now_utc())
}

/// The partner's database, its key and its paired sites, shared by every request.
pub struct Partner {
    conn: Mutex<Connection>,
    key: OwnKey,
    /// The sites paired now: read again by [`Partner::reload`] while the server runs.
    sites: RwLock<Arc<[Site]>>,
    /// Relay each site's records to the other paired sites (an office with two laptops); off for a hospital that
    /// only collects.
    relay: bool,
    /// Each site's request budget.
    limiter: Limiter,
    /// How long refusals are kept for the operator to look into.
    keep_rejections: time::Duration,
    /// What the operator watches.
    metrics: Metrics,
}

/// Refusals are kept this long unless the configuration says otherwise (`keep_rejections_days`).
pub const KEEP_REJECTIONS: time::Duration = time::Duration::days(90);

impl std::fmt::Debug for Partner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partner").field("sites", &self.sites()).field("relay", &self.relay).finish_non_exhaustive()
    }
}

/// Opens the database file with its key, creating both the file and its encryption if needed: every page,
/// and every page of its WAL, is SQLCipher ciphertext. The file is owner-only from its first byte (SQLite would
/// create it 0644 and leave it so for a moment); SQLite gives its -wal and -shm files the same mode when it
/// creates them, and any made looser by an earlier version are tightened.
pub fn open_db(path: &Path, key: &DbKey) -> Result<Connection, StoreError> {
    files::create_new(path, files::OWNER_ONLY).map_err(StoreError::file("create", path))?;
    for file in [path.to_owned(), sidecar(path, "-wal"), sidecar(path, "-shm")] {
        files::restrict_to_owner(&file).map_err(StoreError::file("restrict the permissions of", &file))?;
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.pragma_update(None, "key", key.sqlcipher_literal().as_str())?;
    // SQLCipher reads nothing until asked: the first read tells a wrong key from the right one.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        return Err(match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => match refuse_plaintext(path) {
                Err(plaintext) => plaintext,
                Ok(()) => StoreError::WrongKey { database: path.to_owned(), key: key.origin().to_owned() },
            },
            _ => e.into(),
        });
    }
    // Temporary tables and sorts stay in memory, never in a plaintext temporary file.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
    )?;
    conn.execute_batch(SCHEMA)?;
    // Databases made before the CA key was kept (so certificates could be renewed) lack its column, and those
    // made before sites could be unpaired lack that one.
    add_column(&conn, "identity", "server_ca_key", "ALTER TABLE identity ADD COLUMN server_ca_key TEXT")?;
    add_column(&conn, "sites", "unpaired_at", "ALTER TABLE sites ADD COLUMN unpaired_at TEXT")?;
    Ok(conn)
}

fn add_column(conn: &Connection, table: &str, column: &str, alter: &str) -> Result<(), StoreError> {
    let sql = "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2";
    let has: bool = conn.query_row(sql, [table, column], |r| r.get(0))?;
    if !has {
        conn.execute_batch(alter)?;
    }
    Ok(())
}

/// Refuses an unencrypted database (every SQLite file begins so; a SQLCipher file's first bytes are random),
/// naming the command that encrypts it.
pub fn refuse_plaintext(path: &Path) -> Result<(), StoreError> {
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head));
    match read {
        Ok(16) if &head == b"SQLite format 3\0" => Err(StoreError::Plaintext { database: path.to_owned() }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::File { action: "read", path: path.to_owned(), source: e }),
    }
}

/// Every table's row count, to check a copy against its original.
const COUNT_EACH_TABLE: [&str; 5] = [
    "SELECT count(*) FROM identity",
    "SELECT count(*) FROM sites",
    "SELECT count(*) FROM records",
    "SELECT count(*) FROM nonces",
    "SELECT count(*) FROM rejections",
];

/// Encrypts the unencrypted database at `path` in place with `key` (databases made before the partner
/// encrypted). Safe to interrupt: the encrypted copy is written beside it (`<path>.new`, owner-only), checked
/// row by row against the original, and only then renamed over it. It refuses while anything else has the
/// database open, since a running server would go on writing to the unencrypted file this replaces.
pub fn encrypt_in_place(path: &Path, key: &DbKey) -> Result<(), StoreError> {
    let plain = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    // Leaving WAL mode needs the only connection, and then this one holds an exclusive lock until it closes.
    plain.busy_timeout(std::time::Duration::ZERO)?;
    let in_use = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::InUse { database: path.to_owned() }
        }
        _ => e.into(),
    };
    let mode: String = plain.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).map_err(in_use)?;
    if mode != "delete" {
        return Err(StoreError::InUse { database: path.to_owned() });
    }
    plain.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;").map_err(in_use)?;

    let encrypted = files::temporary(path);
    match std::fs::remove_file(&encrypted) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(StoreError::file("remove", &encrypted)(e)),
        _ => {}
    }
    files::create_new(&encrypted, files::OWNER_ONLY).map_err(StoreError::file("create", &encrypted))?;
    let target = encrypted.to_string_lossy().into_owned();
    plain.execute("ATTACH DATABASE ?1 AS encrypted KEY ?2", (&target, key.sqlcipher_literal().as_str()))?;
    plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
    plain.execute_batch("DETACH DATABASE encrypted")?;

    let copy = Connection::open_with_flags(&encrypted, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    copy.pragma_update(None, "key", key.sqlcipher_literal().as_str())?;
    let integrity: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let mismatch = |what: String| {
        let copy = encrypted.display();
        StoreError::Invalid(format!(
            "the encrypted copy {copy} does not match the database ({what}); nothing was replaced"
        ))
    };
    if integrity != "ok" {
        return Err(mismatch(format!("integrity check: {integrity}")));
    }
    for sql in COUNT_EACH_TABLE {
        let (before, after): (i64, i64) =
            (plain.query_row(sql, [], |r| r.get(0))?, copy.query_row(sql, [], |r| r.get(0))?);
        if before != after {
            return Err(mismatch(format!("{sql}: {before}, and {after} in the copy")));
        }
    }
    drop(copy);
    std::fs::File::open(&encrypted).and_then(|f| f.sync_all()).map_err(StoreError::file("sync", &encrypted))?;
    // Renamed while the lock is still held, so nobody reads the old file in between.
    std::fs::rename(&encrypted, path).map_err(StoreError::file("replace", path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::file("sync", dir))?;
    }
    Ok(())
}

/// SQLite's companion file of the database at `path` ("-wal", "-shm").
fn sidecar(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// Creates the partner's identity: its OpenPGP key and the CA that issued its server certificate, whose key is
/// kept to renew that certificate (`server_ca`).
pub fn init(conn: &Connection, name: &str, server_ca: &str, server_ca_key: &str) -> Result<(), StoreError> {
    if identity(conn)?.is_some() {
        return Err(StoreError::Invalid("this partner already has an identity; clinics trust it".into()));
    }
    let key = OwnKey::generate(&format!("{name} (Galen partner)")).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO identity (id, name, server_ca, server_ca_key, openpgp_key, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)",
        (name, server_ca, server_ca_key, key, now_rfc3339()),
    )?;
    Ok(())
}

/// The server CA and its key, to renew the server certificate.
pub fn server_ca(conn: &Connection) -> Result<(String, String), StoreError> {
    let row: (String, Option<String>) = conn
        .query_row("SELECT server_ca, server_ca_key FROM identity WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(not_initialised)?;
    match row {
        (ca, Some(key)) => Ok((ca, key)),
        (_, None) => Err(StoreError::Invalid(
            "this partner was set up before its CA key was kept, so its certificate cannot be renewed: make a new \
             identity (`galen-partner init` on a new database) and pair the clinics again"
                .into(),
        )),
    }
}

/// (name, server CA PEM, secret key) if `init` has run.
fn identity(conn: &Connection) -> Result<Option<(String, String, String)>, StoreError> {
    Ok(conn
        .query_row("SELECT name, server_ca, openpgp_key FROM identity WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

fn not_initialised() -> StoreError {
    StoreError::Invalid("this partner has no identity yet: run `galen-partner init` first".into())
}

/// The pairing file clinics import.
pub fn pairing_file(conn: &Connection) -> Result<PairingFile, StoreError> {
    let (name, ca, tsk) = identity(conn)?.ok_or_else(not_initialised)?;
    let key = OwnKey::from_armored(&tsk).map_err(|e| StoreError::Invalid(e.to_string()))?;
    PairingFile::new(&name, &ca, &key.public_armored()).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Pairs a clinic from its pairing file, once a person confirmed its safety number with the clinic.
pub fn pair(conn: &Connection, file: &PairingFile, confirmed_number: &str) -> Result<(), StoreError> {
    if !file.confirms(confirmed_number) {
        return Err(StoreError::Invalid(
            "the safety number does not match this pairing file: do not pair, the file may not be the clinic's".into(),
        ));
    }
    let key = PeerKey::from_armored(&file.openpgp_public_key).map_err(|e| StoreError::Invalid(e.to_string()))?;
    // A site unpaired before may be paired again (from its file, its number confirmed again).
    let added = conn.execute(
        "INSERT INTO sites (name, ca_cert, openpgp_key, fingerprint, safety_number, paired_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (fingerprint) DO UPDATE SET name = excluded.name, ca_cert = excluded.ca_cert,
             openpgp_key = excluded.openpgp_key, safety_number = excluded.safety_number,
             paired_at = excluded.paired_at, unpaired_at = NULL
         WHERE sites.unpaired_at IS NOT NULL",
        (
            &file.site,
            &file.ca_certificate,
            &file.openpgp_public_key,
            key.fingerprint(),
            &file.safety_number,
            now_rfc3339(),
        ),
    )?;
    if added == 0 {
        return Err(StoreError::Invalid(format!("{} is already paired", file.site)));
    }
    Ok(())
}

/// A site as `galen-partner sites` lists it, paired or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub safety_number: String,
    pub paired_at: String,
    pub unpaired_at: Option<String>,
    /// The row its newest audit anchor names, and when that anchor came.
    pub anchored: Option<(i64, String)>,
}

/// Every site ever paired, unpaired ones too.
pub fn list_sites(conn: &Connection) -> Result<Vec<Listed>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT s.id, s.name, s.safety_number, s.paired_at, s.unpaired_at, a.row, a.received_at
           FROM sites s LEFT JOIN anchors a ON a.site_id = s.id ORDER BY s.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let anchored = match (r.get::<_, Option<i64>>(5)?, r.get::<_, Option<String>>(6)?) {
            (Some(row), Some(at)) => Some((row, at)),
            _ => None,
        };
        Ok(Listed {
            id: r.get(0)?,
            name: r.get(1)?,
            safety_number: r.get(2)?,
            paired_at: r.get(3)?,
            unpaired_at: r.get(4)?,
            anchored,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Unpairs the site `which` names (its id, or its name as `sites` lists it): its certificate and its envelopes
/// are refused from then on (the running server checks at each request; a restart drops its CA from TLS). What
/// it sent stays stored, as a record of what was accepted while it was trusted, but is no longer relayed.
pub fn unpair(conn: &Connection, which: &str) -> Result<Listed, StoreError> {
    let paired: Vec<Listed> = list_sites(conn)?.into_iter().filter(|s| s.unpaired_at.is_none()).collect();
    let by_id: Vec<&Listed> = paired.iter().filter(|s| s.id.to_string() == which).collect();
    let by_name: Vec<&Listed> = paired.iter().filter(|s| s.name == which).collect();
    let site = match (by_id.as_slice(), by_name.as_slice()) {
        ([site], _) | ([], [site]) => (*site).clone(),
        ([], []) => {
            return Err(StoreError::Invalid(format!(
                "there is no paired clinic {which}: `galen-partner sites` lists them, with their ids"
            )))
        }
        _ => {
            return Err(StoreError::Invalid(format!(
                "several paired clinics are called {which}: unpair one by its id (`galen-partner sites`)"
            )))
        }
    };
    conn.execute("UPDATE sites SET unpaired_at = ?1 WHERE id = ?2", (now_rfc3339(), site.id))?;
    Ok(site)
}

/// The paired sites (not the unpaired ones), ready to check certificates and signatures.
pub fn sites(conn: &Connection) -> Result<Vec<Site>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, ca_cert, openpgp_key, safety_number FROM sites WHERE unpaired_at IS NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<Vec<(i64, String, String, String, String)>>>()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rows.into_iter()
        .map(|(id, name, ca_cert, key, safety_number)| {
            let bad = |e: String| StoreError::Invalid(format!("paired site {name}: {e}"));
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_slice_iter(ca_cert.as_bytes()) {
                roots.add(ca.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| bad(e.to_string()))?;
            let key = PeerKey::from_armored(&key).map_err(|e| bad(e.to_string()))?;
            Ok(Site { id, name, key, safety_number, ca_cert, verifier })
        })
        .collect()
}

impl Partner {
    pub fn load(conn: Connection, relay: bool) -> Result<Partner, StoreError> {
        let (_, _, tsk) = identity(&conn)?.ok_or_else(not_initialised)?;
        let key = OwnKey::from_armored(&tsk).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let sites = RwLock::new(sites(&conn)?.into());
        let limiter = Limiter::new(RateLimit::DEFAULT);
        let keep_rejections = KEEP_REJECTIONS;
        Ok(Partner { conn: Mutex::new(conn), key, sites, relay, limiter, keep_rejections, metrics: Metrics::default() })
    }

    /// The counters the operator reads (`metrics_listen`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The same partner keeping refusals this long (the default is [`KEEP_REJECTIONS`]).
    pub fn with_rejections_kept_for(mut self, keep: time::Duration) -> Partner {
        self.keep_rejections = keep;
        self
    }

    /// Forgets what is no longer needed (see [`forget_old`]); the server runs it at startup, and each push does too.
    pub fn forget_old(&self) -> Result<Forgotten, StoreError> {
        forget_old(&self.db(), OffsetDateTime::now_utc(), self.keep_rejections)
    }

    /// The same partner with another request budget for each site (the default is [`RateLimit::DEFAULT`]).
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Partner {
        self.limiter = Limiter::new(limit);
        self
    }

    /// Spends one request of `site`'s budget, or says how long until it has one.
    pub fn admit(&self, site: &Site) -> Result<(), std::time::Duration> {
        self.limiter.admit(site.id)
    }

    /// The sites paired now.
    pub fn sites(&self) -> Arc<[Site]> {
        self.sites.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The paired site whose CA issued this client certificate.
    pub fn site_for(&self, certificate: &[u8]) -> Option<Site> {
        self.sites().iter().find(|s| s.issued(certificate)).cloned()
    }

    /// Reads the paired sites again (`galen-partner pair` and `unpair` run in other processes); whether they
    /// changed. The server calls it every few seconds, then trusts the new set of CAs.
    pub fn reload(&self) -> Result<bool, StoreError> {
        let now = sites(&self.db())?;
        // The safety number covers the site's CA and key, so a site paired again from a new file counts as changed.
        let paired = |list: &[Site]| list.iter().map(|s| (s.id, s.safety_number.clone())).collect::<Vec<_>>();
        if paired(&now) == paired(&self.sites()) {
            return Ok(false);
        }
        *self.sites.write().unwrap_or_else(|e| e.into_inner()) = now.into();
        Ok(true)
    }

    /// The paired sites' CA certificates (PEM), for the TLS layer's [`crate::tls::ClientCas`].
    pub fn client_cas(&self) -> String {
        self.sites().iter().map(|s| s.ca_cert.as_str()).collect::<Vec<_>>().join("\n")
    }

    /// Refuses a site unpaired since the server started (`galen-partner unpair` runs in another process).
    fn check_paired(&self, conn: &Connection, site: &Site) -> Result<(), StoreError> {
        let sql = "SELECT unpaired_at IS NULL FROM sites WHERE id = ?1";
        let paired: bool = conn.query_row(sql, [site.id], |r| r.get(0)).optional()?.unwrap_or(false);
        if paired {
            Ok(())
        } else {
            tracing::warn!(site = site.id, "refused a request from an unpaired site");
            Err(StoreError::NotPaired)
        }
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back), so go on.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens and stores a batch of envelopes from `site`, one answer each, in order. Each refusal is logged
    /// (stderr and the `rejections` table) with its reason.
    pub fn receive(&self, site: &Site, envelopes: &[String]) -> Result<Vec<PushResult>, StoreError> {
        self.check_paired(&self.db(), site)?;
        let now = OffsetDateTime::now_utc();
        let candidates: Vec<PeerKey> = self.sites().iter().map(|s| s.key.clone()).collect();
        // The crypto runs before the database lock is taken.
        let opened: Vec<Result<Plaintext, Rejection>> = par_map(envelopes, |b64| {
            let bytes = decode_envelope(b64).ok_or_else(|| Rejection::Malformed("not base64".into()))?;
            let o = envelope::open(&self.key, &candidates, &bytes, now)?;
            if o.signer != site.key.fingerprint() {
                return Err(Rejection::WrongSigner);
            }
            if o.plaintext.meta.origin != o.plaintext.meta.sender {
                return Err(Rejection::Malformed("a site may only send its own records".into()));
            }
            Ok(o.plaintext)
        });
        let at = now_rfc3339();
        let mut conn = self.db();
        let tx = conn.transaction()?;
        let mut results = Vec::with_capacity(opened.len());
        for item in opened {
            let outcome = match item {
                Ok(plain) => store_one(&tx, site, &plain, &at)?,
                Err(r) => Err(r),
            };
            results.push(match outcome {
                Ok(status) => PushResult { status, reason: None },
                Err(rejection) => {
                    // The code only; the detail, which may quote what arrived, stays in the rejections table.
                    tracing::warn!(site = %site.name, code = rejection.code(), "refused an envelope");
                    tx.execute(
                        "INSERT INTO rejections (at, site_id, reason, detail) VALUES (?1, ?2, ?3, ?4)",
                        (&at, site.id, rejection.code(), rejection.to_string()),
                    )?;
                    PushResult { status: PushStatus::Rejected, reason: Some(rejection.code().into()) }
                }
            });
        }
        forget_old(&tx, now, self.keep_rejections)?;
        tx.commit()?;
        for r in &results {
            match (&r.status, &r.reason) {
                (PushStatus::Stored, _) => self.metrics.stored(1),
                (PushStatus::Rejected, Some(code)) => self.metrics.rejected(code),
                _ => {}
            }
        }
        Ok(results)
    }

    /// Records from other sites after `after`, sealed for `site` (only when relaying): at most `limit`, and no more
    /// than fit in one body a clinic reads; `more` when others wait.
    pub fn pull(&self, site: &Site, after: i64, limit: usize) -> Result<(Vec<Pulled>, bool), StoreError> {
        self.check_paired(&self.db(), site)?;
        if !self.relay {
            return Ok((Vec::new(), false));
        }
        let rows: Vec<(i64, String, String, u32, String, String)> = {
            let conn = self.db();
            // An unpaired site's records stay stored but are no longer vouched for, so not passed on.
            let mut stmt = conn.prepare(
                "SELECT r.seq, r.kind, r.record_id, r.version, r.payload, s.fingerprint
                   FROM records r JOIN sites s ON s.id = r.site_id
                  WHERE r.seq > ?1 AND r.site_id <> ?2 AND s.unpaired_at IS NULL ORDER BY r.seq LIMIT ?3",
            )?;
            let rows = stmt
                .query_map((after, site.id, limit as i64 + 1), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            rows
        };
        let more = rows.len() > limit;
        let now = galen_proto::rfc3339(OffsetDateTime::now_utc());
        // Sealing is CPU-bound: the page is sealed on every core, as pushes are opened.
        let mut sealed = par_map(&rows[..rows.len().min(limit)], |(seq, kind, id, version, payload, origin)| {
            let plain = Plaintext {
                meta: Meta {
                    format: envelope::FORMAT.into(),
                    id: id.clone(),
                    version: *version,
                    created_at: now.clone(),
                    nonce: envelope::new_nonce(),
                    sender: self.key.fingerprint(),
                    recipient: site.key.fingerprint(),
                    origin: origin.clone(),
                    kind: Kind::parse(kind).ok_or_else(|| StoreError::Invalid(format!("kind {kind}")))?,
                },
                payload: serde_json::from_str(payload).map_err(|e| StoreError::Invalid(e.to_string()))?,
            };
            let bytes = envelope::seal(&self.key, &site.key, &plain).map_err(|e| StoreError::Invalid(e.to_string()))?;
            Ok(Pulled { seq: *seq, envelope: encode_envelope(&bytes) })
        })
        .into_iter()
        .collect::<Result<Vec<_>, StoreError>>()?;
        let fitting = fitting_in_a_body(&sealed);
        let more = more || fitting < sealed.len();
        sealed.truncate(fitting);
        Ok((sealed, more))
    }

    /// Keeps `anchor` as `site`'s audit anchor if it is signed by the site's key and supersedes the one kept (a
    /// later row, or the same row and hash): an anchor is never lowered. Returns whether it was stored and the
    /// anchor now kept, which the clinic checks against its own log; a refused anchor is logged as a refusal.
    pub fn keep_anchor(&self, site: &Site, anchor: &Anchor) -> Result<Result<(bool, Anchor), AnchorError>, StoreError> {
        self.check_paired(&self.db(), site)?;
        let at = now_rfc3339();
        if let Err(refused) = anchor.check(&site.key) {
            tracing::warn!(site = %site.name, code = refused.code(), "refused an audit anchor");
            self.db().execute(
                "INSERT INTO rejections (at, site_id, reason, detail) VALUES (?1, ?2, ?3, ?4)",
                (&at, site.id, refused.code(), format!("audit anchor: {refused}")),
            )?;
            self.metrics.rejected(refused.code());
            return Ok(Err(refused));
        }
        let mut conn = self.db();
        let tx = conn.transaction()?;
        let kept: Option<String> =
            tx.query_row("SELECT anchor FROM anchors WHERE site_id = ?1", [site.id], |r| r.get(0)).optional()?;
        // What is stored was checked when it came; one that no longer reads is replaced.
        let kept = kept.and_then(|json| serde_json::from_str::<Anchor>(&json).ok());
        let stored = kept.as_ref().is_none_or(|kept| anchor.supersedes(kept));
        let now_kept = if stored {
            let json = serde_json::to_string(anchor).map_err(|e| StoreError::Invalid(e.to_string()))?;
            tx.execute(
                "INSERT INTO anchors (site_id, row, anchor, received_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (site_id) DO UPDATE SET row = excluded.row, anchor = excluded.anchor,
                                                     received_at = excluded.received_at",
                (site.id, anchor.row, json, &at),
            )?;
            anchor.clone()
        } else {
            let kept = kept.unwrap_or_else(|| anchor.clone());
            tracing::warn!(site = %site.name, sent = anchor.row, kept = kept.row, "an audit anchor below the kept one");
            kept
        };
        tx.commit()?;
        Ok(Ok((stored, now_kept)))
    }

    /// How many records and refusals are stored (for tests and `galen-partner sites`).
    pub fn counts(&self) -> Result<(i64, i64), StoreError> {
        let conn = self.db();
        let records = conn.query_row("SELECT count(*) FROM records", [], |r| r.get(0))?;
        let rejections = conn.query_row("SELECT count(*) FROM rejections", [], |r| r.get(0))?;
        Ok((records, rejections))
    }

    /// The reasons refused envelopes were logged with, oldest first.
    pub fn rejection_reasons(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.db();
        let mut stmt = conn.prepare("SELECT reason FROM rejections ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

/// How many rows [`forget_old`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forgotten {
    pub nonces: usize,
    pub rejections: usize,
}

/// Deletes nonces older than twice the envelope window (an envelope carrying one again is refused as stale
/// anyway) and refusals older than `keep_rejections`, so the database does not grow without end.
fn forget_old(
    conn: &Connection,
    now: OffsetDateTime,
    keep_rejections: time::Duration,
) -> Result<Forgotten, StoreError> {
    let nonce_cutoff = galen_proto::rfc3339(now - envelope::WINDOW * 2);
    let nonces = conn.execute("DELETE FROM nonces WHERE seen_at < ?1", [nonce_cutoff])?;
    let rejection_cutoff = galen_proto::rfc3339(now - keep_rejections);
    let rejections = conn.execute("DELETE FROM rejections WHERE at < ?1", [rejection_cutoff])?;
    Ok(Forgotten { nonces, rejections })
}

/// Stores one opened envelope: refuses a seen nonce, answers a re-sent (site, id, version) as a duplicate, and
/// refuses the same id and version with other contents.
fn store_one(
    tx: &Connection,
    site: &Site,
    plain: &Plaintext,
    at: &str,
) -> Result<Result<PushStatus, Rejection>, StoreError> {
    let meta = &plain.meta;
    if tx.execute("INSERT OR IGNORE INTO nonces (nonce, seen_at) VALUES (?1, ?2)", (&meta.nonce, at))? == 0 {
        return Ok(Err(Rejection::ReplayedNonce));
    }
    let json = serde_json::to_string(&plain.payload).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let h = content_hash(meta.kind, &plain.payload);
    let existing: Option<String> = tx
        .query_row(
            "SELECT hash FROM records WHERE site_id = ?1 AND record_id = ?2 AND version = ?3",
            (site.id, &meta.id, meta.version),
            |r| r.get(0),
        )
        .optional()?;
    match existing {
        Some(old) if old == h => return Ok(Ok(PushStatus::Duplicate)),
        Some(_) => return Ok(Err(Rejection::ReplayedId)),
        None => {}
    }
    let conflict: bool = tx.query_row(
        "SELECT count(*) > 0 FROM records WHERE record_id = ?1 AND version = ?2 AND site_id <> ?3 AND hash <> ?4",
        (&meta.id, meta.version, site.id, &h),
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO records (site_id, kind, record_id, version, hash, payload, received_at, conflict)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (site.id, meta.kind.as_str(), &meta.id, meta.version, &h, &json, at, conflict),
    )?;
    Ok(Ok(PushStatus::Stored))
}
