//! Table `documents`: drafts and signed documents. A draft keeps its fields as JSON in `body`; signing stores
//! the patient and signer snapshots, the canonical bytes, the detached signature and the QR's signature, and the
//! row never changes again except for the back-links `superseded_by` and `voided_by`.

use super::model::{Body, PatientSnapshot, SignerSnapshot};
use crate::error::{Error, Missing, Result as StoreResult};
use rusqlite::{Connection, OptionalExtension};

/// A document as the rest of Galen sees it: its fields, and who signed it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The local id.
    pub id: i64,
    /// The uuid, the same at every site.
    pub uuid: String,
    /// The patient it is about.
    pub patient_id: i64,
    /// Signed (and so immutable), or a draft.
    pub signed: bool,
    /// Its fields.
    pub body: Body,
    /// The document this corrects.
    pub supersedes: Option<i64>,
    /// The correction that replaced it.
    pub superseded_by: Option<i64>,
    /// The notice that voided it.
    pub voided_by: Option<i64>,
    /// Who signed, once signed.
    pub signer: Option<SignerSnapshot>,
    /// When, once signed.
    pub signed_at: Option<String>,
}

/// What signing stored, exactly as stored: the parts a signature check rebuilds and compares. Every field is
/// `None` for a draft, and may be missing on a damaged row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stored {
    pub kind: String,
    pub body: String,
    pub clinic_name: Option<String>,
    pub patient_snapshot: Option<String>,
    pub signer_name: Option<String>,
    pub signer_licence: Option<String>,
    pub signer_fingerprint: Option<String>,
    pub signed_at: Option<String>,
    pub canonical: Option<String>,
    pub signature: Option<String>,
    pub qr_signature: Option<String>,
}

/// What signing writes.
#[derive(Debug)]
pub(crate) struct Signature<'a> {
    pub clinic_name: &'a str,
    pub patient: &'a PatientSnapshot,
    pub signer_id: i64,
    pub signer: &'a SignerSnapshot,
    pub signed_at: &'a str,
    pub canonical: &'a [u8],
    pub signature: &'a str,
    pub qr_signature: &'a str,
}

const SELECT: &str = "SELECT id, uuid, patient_id, status, body, supersedes, superseded_by, voided_by, signer_name,
        signer_licence, signer_fingerprint, signed_at FROM documents";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    let body: String = r.get(4)?;
    let name: Option<String> = r.get(8)?;
    Ok(Document {
        id: r.get(0)?,
        uuid: r.get(1)?,
        patient_id: r.get(2)?,
        signed: r.get::<_, String>(3)? == "signed",
        body: serde_json::from_str(&body)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e)))?,
        supersedes: r.get(5)?,
        superseded_by: r.get(6)?,
        voided_by: r.get(7)?,
        signer: match name {
            Some(name) => Some(SignerSnapshot { name, licence: r.get(9)?, fingerprint: r.get(10)? }),
            None => None,
        },
        signed_at: r.get(11)?,
    })
}

/// Drafts waiting for a signature, oldest first.
pub(crate) fn drafts(conn: &Connection, limit: u32) -> StoreResult<Vec<Document>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE status = 'draft' ORDER BY id LIMIT ?1"))?;
    let rows = stmt.query_map([limit], read)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// What `signer_id` signed at or after `since` (RFC 3339 UTC), newest first.
pub(crate) fn signed_by_since(
    conn: &Connection,
    signer_id: i64,
    since: &str,
    limit: u32,
) -> StoreResult<Vec<Document>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE status = 'signed' AND signer_id = ?1 AND signed_at >= ?2 ORDER BY signed_at DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(rusqlite::params![signer_id, since, limit], read)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// One document, or `NotFound`.
pub(crate) fn load(conn: &Connection, id: i64) -> Result<Document, Error> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], read)
        .optional()?
        .ok_or_else(|| Error::NotFound(Missing::Document(id)))
}

/// One document by uuid, if any.
pub(crate) fn by_uuid(conn: &Connection, uuid: &str) -> StoreResult<Option<Document>> {
    Ok(conn.query_row(&format!("{SELECT} WHERE uuid = ?1"), [uuid], read).optional()?)
}

/// A patient's documents, newest first.
pub(crate) fn for_patient(conn: &Connection, patient_id: i64) -> StoreResult<Vec<Document>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE patient_id = ?1 ORDER BY id DESC"))?;
    let docs = stmt.query_map([patient_id], read)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(docs)
}

/// What signing stored for a document (see [`Stored`]).
pub(crate) fn stored(conn: &Connection, id: i64) -> StoreResult<Stored> {
    Ok(conn.query_row(
        "SELECT kind, body, clinic_name, patient_snapshot, signer_name, signer_licence, signer_fingerprint, signed_at,
                canonical, signature, qr_signature
           FROM documents WHERE id = ?1",
        [id],
        |r| {
            Ok(Stored {
                kind: r.get(0)?,
                body: r.get(1)?,
                clinic_name: r.get(2)?,
                patient_snapshot: r.get(3)?,
                signer_name: r.get(4)?,
                signer_licence: r.get(5)?,
                signer_fingerprint: r.get(6)?,
                signed_at: r.get(7)?,
                canonical: r.get(8)?,
                signature: r.get(9)?,
                qr_signature: r.get(10)?,
            })
        },
    )?)
}

/// The uuid of a document by id.
/// When the key `fingerprint` first signed a document here, if it did.
pub(crate) fn first_signed_with(conn: &Connection, fingerprint: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row("SELECT min(signed_at) FROM documents WHERE signer_fingerprint = ?1", [fingerprint], |r| r.get(0))?)
}

pub(crate) fn uuid_of(conn: &Connection, id: i64) -> StoreResult<String> {
    Ok(conn.query_row("SELECT uuid FROM documents WHERE id = ?1", [id], |r| r.get(0))?)
}

/// Whether the patient has a birth certificate that is neither voided nor superseded.
pub(crate) fn has_current_birth_certificate(conn: &Connection, patient_id: i64) -> StoreResult<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE patient_id = ?1 AND kind = 'birth' AND voided_by IS NULL
                        AND superseded_by IS NULL)",
        [patient_id],
        |r| r.get(0),
    )?)
}

/// Inserts a draft; returns its id.
pub(crate) fn insert_draft(
    tx: &Connection,
    patient_id: i64,
    author_id: Option<i64>,
    body: &Body,
    supersedes: Option<i64>,
    now: &str,
) -> StoreResult<i64> {
    tx.execute(
        "INSERT INTO documents (uuid, kind, patient_id, author_id, status, body, supersedes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'draft', ?5, ?6, ?7, ?7)",
        rusqlite::params![
            uuid::Uuid::now_v7().to_string(),
            body.kind(),
            patient_id,
            author_id,
            serde_json::to_string(body).unwrap_or_default(),
            supersedes,
            now
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Replaces a draft's fields (a signed row is left alone).
pub(crate) fn update_draft(tx: &Connection, id: i64, body: &Body, now: &str) -> StoreResult<()> {
    tx.execute(
        "UPDATE documents SET body = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'draft'",
        (id, serde_json::to_string(body).unwrap_or_default(), now),
    )?;
    Ok(())
}

/// Turns a draft into a signed document, and links what it supersedes or voids.
pub(crate) fn mark_signed(tx: &Connection, doc: &Document, s: &Signature<'_>) -> StoreResult<()> {
    tx.execute(
        "UPDATE documents SET status = 'signed', clinic_name = ?2, patient_snapshot = ?3, signer_id = ?4, signer_name = ?5,
             signer_licence = ?6, signer_fingerprint = ?7, signed_at = ?8, canonical = ?9, signature = ?10, updated_at = ?8,
             qr_signature = ?11
         WHERE id = ?1 AND status = 'draft'",
        rusqlite::params![
            doc.id,
            s.clinic_name,
            serde_json::to_string(s.patient).unwrap_or_default(),
            s.signer_id,
            s.signer.name,
            s.signer.licence,
            s.signer.fingerprint,
            s.signed_at,
            String::from_utf8_lossy(s.canonical),
            s.signature,
            s.qr_signature
        ],
    )?;
    if let Some(old) = doc.supersedes {
        tx.execute("UPDATE documents SET superseded_by = ?2 WHERE id = ?1", (old, doc.id))?;
    }
    if let Body::Void(v) = &doc.body {
        tx.execute("UPDATE documents SET voided_by = ?2 WHERE uuid = ?1", (&v.voids, doc.id))?;
    }
    Ok(())
}

/// A signed document as it travels: uuid, kind, canonical JSON, signature and signer fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedRow {
    pub uuid: String,
    pub kind: String,
    pub patient_id: i64,
    pub canonical: String,
    pub signature: String,
    pub fingerprint: String,
}

/// Every signed document of these patients, oldest first.
pub(crate) fn signed_of(conn: &Connection, patient_ids: &[i64]) -> StoreResult<Vec<SignedRow>> {
    let ids = serde_json::to_string(patient_ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare(
        "SELECT uuid, kind, patient_id, canonical, signature, signer_fingerprint FROM documents
          WHERE status = 'signed' AND patient_id IN (SELECT value FROM json_each(?1))
          ORDER BY id",
    )?;
    let rows = stmt
        .query_map([ids], |r| {
            Ok(SignedRow {
                uuid: r.get(0)?,
                kind: r.get(1)?,
                patient_id: r.get(2)?,
                canonical: r.get(3)?,
                signature: r.get(4)?,
                fingerprint: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// How many documents are stored (drafts, signed and voided).
pub(crate) fn count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM documents", [], |r| r.get(0))?)
}

/// The documents written for these patients, as (id, uuid).
pub(crate) fn of_patients(conn: &Connection, patient_ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
    let ids = serde_json::to_string(patient_ids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn
        .prepare("SELECT id, uuid FROM documents WHERE patient_id IN (SELECT value FROM json_each(?1)) ORDER BY id")?;
    let rows = stmt.query_map([ids], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
