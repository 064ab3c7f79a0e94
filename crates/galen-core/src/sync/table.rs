//! The tables behind sync: the paired partner and the run's state (`sync_partner`), the newest version of each
//! shared or received record (`sync_records`), what waits to be sent (`sync_outbox`), what clashed
//! (`sync_conflicts`), documents other sites shared (`received_documents`) and the nonces seen
//! (`sync_nonces`).

use crate::documents::SharedDocument;
use crate::error::Result as StoreResult;
use galen_proto::envelope::Kind;
use rusqlite::{Connection, OptionalExtension};

// The partner.

/// The paired partner as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartnerRow {
    pub name: String,
    pub url: String,
    pub ca_cert: String,
    pub openpgp_key: String,
    pub safety_number: String,
    pub paired_at: String,
}

pub(crate) fn insert_partner(tx: &Connection, p: &PartnerRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sync_partner (id, name, url, ca_cert, openpgp_key, safety_number, paired_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
        (&p.name, &p.url, &p.ca_cert, &p.openpgp_key, &p.safety_number, &p.paired_at),
    )?;
    Ok(())
}

pub(crate) fn partner(conn: &Connection) -> StoreResult<Option<PartnerRow>> {
    Ok(conn
        .query_row(
            "SELECT name, url, ca_cert, openpgp_key, safety_number, paired_at FROM sync_partner WHERE id = 1",
            [],
            |r| {
                Ok(PartnerRow {
                    name: r.get(0)?,
                    url: r.get(1)?,
                    ca_cert: r.get(2)?,
                    openpgp_key: r.get(3)?,
                    safety_number: r.get(4)?,
                    paired_at: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// When the last run started and succeeded, its error if it failed, how many runs failed in a row, and until when
/// a busy partner asked not to be called.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RunState {
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub failures: u32,
    pub busy_until: Option<String>,
}

pub(crate) fn run_state(conn: &Connection) -> StoreResult<RunState> {
    let sql = "SELECT last_attempt, last_success, last_error, failures, busy_until FROM sync_partner WHERE id = 1";
    Ok(conn
        .query_row(sql, [], |r| {
            Ok(RunState {
                last_attempt: r.get(0)?,
                last_success: r.get(1)?,
                last_error: r.get(2)?,
                failures: r.get(3)?,
                busy_until: r.get(4)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

pub(crate) fn run_started(tx: &Connection, at: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_partner SET last_attempt = ?1 WHERE id = 1", [at])?;
    Ok(())
}

pub(crate) fn run_succeeded(tx: &Connection, at: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_partner SET last_success = ?1, last_error = NULL, failures = 0 WHERE id = 1", [at])?;
    Ok(())
}

pub(crate) fn run_failed(tx: &Connection, error: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_partner SET last_error = ?1, failures = failures + 1 WHERE id = 1", [error])?;
    Ok(())
}

/// A run the partner cut short because it was busy: not a failure (it answered), but no call before `until`.
pub(crate) fn run_deferred(tx: &Connection, error: &str, until: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_partner SET last_error = ?1, busy_until = ?2 WHERE id = 1", [error, until])?;
    Ok(())
}

/// The partner's sequence number this clinic has applied up to.
pub(crate) fn cursor(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT cursor FROM sync_partner WHERE id = 1", [], |r| r.get(0))?)
}

pub(crate) fn move_cursor(tx: &Connection, past: i64) -> StoreResult<()> {
    tx.execute("UPDATE sync_partner SET cursor = max(cursor, ?1) WHERE id = 1", [past])?;
    Ok(())
}

// Record versions.

/// The newest version known of a record and its contents' hash.
pub(crate) fn known(conn: &Connection, kind: Kind, uuid: &str) -> StoreResult<Option<(u32, String)>> {
    Ok(conn
        .query_row("SELECT version, hash FROM sync_records WHERE kind = ?1 AND uuid = ?2", (kind.as_str(), uuid), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// The id this clinic shares its trust list under, once it has shared one.
pub(crate) fn own_trust_list_id(conn: &Connection, me: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT uuid FROM sync_records WHERE kind = ?1 AND origin = ?2",
            (Kind::TrustList.as_str(), me),
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn remember(
    tx: &Connection,
    kind: Kind,
    uuid: &str,
    version: u32,
    hash: &str,
    origin: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sync_records (kind, uuid, version, hash, origin) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, uuid) DO UPDATE SET version = ?3, hash = ?4, origin = ?5",
        (kind.as_str(), uuid, version, hash, origin),
    )?;
    Ok(())
}

/// Forgets a patient's shared hash, so the next run shares it again as a version newer than any known.
pub(crate) fn forget_patient_hash(tx: &Connection, uuid: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_records SET hash = '' WHERE kind = 'patient' AND uuid = ?1", [uuid])?;
    Ok(())
}

// The outbox.

/// One queued record.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub seq: i64,
    pub kind: String,
    pub uuid: String,
    pub version: u32,
    pub payload: String,
}

/// Queues a record's version, replacing an older one still queued: only the newest needs to travel.
pub(crate) fn enqueue(
    tx: &Connection,
    kind: Kind,
    uuid: &str,
    version: u32,
    payload: &str,
    now: &str,
) -> StoreResult<()> {
    tx.execute("DELETE FROM sync_outbox WHERE kind = ?1 AND uuid = ?2", (kind.as_str(), uuid))?;
    tx.execute(
        "INSERT INTO sync_outbox (kind, uuid, version, payload, queued_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        (kind.as_str(), uuid, version, payload, now),
    )?;
    Ok(())
}

pub(crate) fn outbox_after(conn: &Connection, after: i64, limit: usize) -> StoreResult<Vec<Queued>> {
    let mut stmt =
        conn.prepare("SELECT seq, kind, uuid, version, payload FROM sync_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt
        .query_map((after, limit as i64), |r| {
            Ok(Queued { seq: r.get(0)?, kind: r.get(1)?, uuid: r.get(2)?, version: r.get(3)?, payload: r.get(4)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn dequeue(tx: &Connection, seq: i64) -> StoreResult<()> {
    tx.execute("DELETE FROM sync_outbox WHERE seq = ?1", [seq])?;
    Ok(())
}

pub(crate) fn refused(tx: &Connection, seq: i64, reason: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1", (seq, reason))?;
    Ok(())
}

// Nonces.

/// Records a nonce as seen; false if it was seen before.
pub(crate) fn first_sight(tx: &Connection, nonce: &str, at: &str) -> StoreResult<bool> {
    Ok(tx.execute("INSERT OR IGNORE INTO sync_nonces (nonce, seen_at) VALUES (?1, ?2)", (nonce, at))? == 1)
}

pub(crate) fn forget_nonces_before(tx: &Connection, cutoff: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM sync_nonces WHERE seen_at < ?1", [cutoff])?;
    Ok(())
}

// Conflicts.

/// A conflict as stored: the two versions as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConflictRow {
    pub id: i64,
    pub uuid: String,
    pub local: String,
    pub incoming: String,
    pub incoming_origin: String,
    pub incoming_version: u32,
    pub found_at: String,
}

pub(crate) fn insert_conflict(
    tx: &Connection,
    uuid: &str,
    local: &str,
    incoming: &str,
    origin: &str,
    version: u32,
    at: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sync_conflicts (kind, uuid, local, incoming, incoming_origin, incoming_version, found_at)
         VALUES ('patient', ?1, ?2, ?3, ?4, ?5, ?6)",
        (uuid, local, incoming, origin, version, at),
    )?;
    Ok(())
}

const CONFLICT: &str =
    "SELECT id, uuid, local, incoming, incoming_origin, incoming_version, found_at FROM sync_conflicts";

fn read_conflict(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConflictRow> {
    Ok(ConflictRow {
        id: r.get(0)?,
        uuid: r.get(1)?,
        local: r.get(2)?,
        incoming: r.get(3)?,
        incoming_origin: r.get(4)?,
        incoming_version: r.get(5)?,
        found_at: r.get(6)?,
    })
}

pub(crate) fn open_conflicts(conn: &Connection) -> StoreResult<Vec<ConflictRow>> {
    let mut stmt = conn.prepare(&format!("{CONFLICT} WHERE resolved_at IS NULL ORDER BY id"))?;
    let rows = stmt.query_map([], read_conflict)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn open_conflict(conn: &Connection, id: i64) -> StoreResult<Option<ConflictRow>> {
    Ok(conn.query_row(&format!("{CONFLICT} WHERE id = ?1 AND resolved_at IS NULL"), [id], read_conflict).optional()?)
}

/// `resolution` is `kept_local` or `took_incoming`.
pub(crate) fn mark_resolved(tx: &Connection, id: i64, at: &str, resolution: &str) -> StoreResult<()> {
    tx.execute("UPDATE sync_conflicts SET resolved_at = ?2, resolution = ?3 WHERE id = ?1", (id, at, resolution))?;
    Ok(())
}

// Received documents.

/// A received document as first stored: its contents, signature, key and the site it came from.
pub(crate) fn received_by_uuid(conn: &Connection, uuid: &str) -> StoreResult<Option<(SharedDocument, String)>> {
    Ok(conn
        .query_row(
            "SELECT uuid, kind, patient_uuid, canonical, signature, signer_key, origin
               FROM received_documents WHERE uuid = ?1",
            [uuid],
            |r| Ok((shared_document(r)?, r.get(6)?)),
        )
        .optional()?)
}

/// Keeps a site's trust list if it is newer than the one held; true if it was.
pub(crate) fn keep_trust_list(
    tx: &Connection,
    origin: &str,
    clinic: &str,
    issued_at: &str,
    list: &str,
    at: &str,
) -> StoreResult<bool> {
    let kept = tx.execute(
        "INSERT INTO received_trust_lists (origin, clinic, issued_at, list, received_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (origin) DO UPDATE SET clinic = ?2, issued_at = ?3, list = ?4, received_at = ?5
          WHERE excluded.issued_at > received_trust_lists.issued_at",
        (origin, clinic, issued_at, list, at),
    )?;
    Ok(kept == 1)
}

/// The site whose trust list speaks as `clinic` (names compared as people read them), if one does.
pub(crate) fn trust_list_origin_named(conn: &Connection, clinic: &str) -> StoreResult<Option<String>> {
    let mut stmt = conn.prepare("SELECT origin, clinic FROM received_trust_lists")?;
    let named = crate::text::fold(&crate::text::clean(clinic));
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (origin, name) = row?;
        if crate::text::fold(&crate::text::clean(&name)) == named {
            return Ok(Some(origin));
        }
    }
    Ok(None)
}

/// The newest trust list the site `origin` shared, as signed text.
pub(crate) fn trust_list_of(conn: &Connection, origin: &str) -> StoreResult<Option<String>> {
    Ok(conn.query_row("SELECT list FROM received_trust_lists WHERE origin = ?1", [origin], |r| r.get(0)).optional()?)
}

/// A `received_documents` row whose first six columns are uuid, kind, patient_uuid, canonical, signature and
/// signer_key.
fn shared_document(r: &rusqlite::Row<'_>) -> rusqlite::Result<SharedDocument> {
    Ok(SharedDocument {
        uuid: r.get(0)?,
        kind: r.get(1)?,
        patient_uuid: r.get(2)?,
        canonical: r.get(3)?,
        signature: r.get(4)?,
        signer_key: r.get(5)?,
    })
}

/// Stores a received document once; false if its uuid was already here.
pub(crate) fn insert_received(tx: &Connection, doc: &SharedDocument, origin: &str, at: &str) -> StoreResult<bool> {
    let added = tx.execute(
        "INSERT OR IGNORE INTO received_documents
             (uuid, kind, patient_uuid, canonical, signature, signer_key, origin, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (&doc.uuid, &doc.kind, &doc.patient_uuid, &doc.canonical, &doc.signature, &doc.signer_key, origin, at),
    )?;
    Ok(added == 1)
}

/// Received documents, newest first, with where each came from and when: all of them, or those of the patients
/// with these uuids.
pub(crate) fn received(
    conn: &Connection,
    patient_uuids: Option<&[String]>,
    newest: Option<(&str, usize)>,
) -> StoreResult<Vec<(SharedDocument, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT uuid, kind, patient_uuid, canonical, signature, signer_key, origin, received_at
           FROM received_documents
          WHERE (?1 IS NULL OR patient_uuid IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR received_at >= ?2)
          ORDER BY received_at DESC, uuid LIMIT ?3",
    )?;
    let uuids = patient_uuids.map(|u| serde_json::to_string(u).unwrap_or_else(|_| "[]".into()));
    let (since, limit) = newest.map_or((None, -1), |(since, n)| (Some(since), i64::try_from(n).unwrap_or(i64::MAX)));
    let rows = stmt
        .query_map((uuids, since, limit), |r| Ok((shared_document(r)?, r.get(6)?, r.get(7)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The uuids of documents other sites sent about these patients (by their uuids).
pub(crate) fn received_uuids_of(conn: &Connection, patient_uuids: &[String]) -> StoreResult<Vec<String>> {
    let uuids = serde_json::to_string(patient_uuids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare(
        "SELECT uuid FROM received_documents WHERE patient_uuid IN (SELECT value FROM json_each(?1)) ORDER BY uuid",
    )?;
    let rows = stmt.query_map([uuids], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

// Counts for the status screen.

pub(crate) fn pending(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM sync_outbox", [], |r| r.get(0))?)
}

pub(crate) fn open_conflict_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL", [], |r| r.get(0))?)
}

pub(crate) fn received_count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM received_documents", [], |r| r.get(0))?)
}
