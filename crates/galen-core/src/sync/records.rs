//! The tables behind sync: what changed (`sync_records`), what waits to be sent (`sync_outbox`), what arrived
//! (`received_documents`, patients), what clashed (`sync_conflicts`), and which nonces were seen (`sync_nonces`).

use super::envelope::{self, Kind, Meta, Plaintext, Rejection};
use super::wire::{Pulled, PushResult, PushStatus};
use super::{sync_error, Conflict, Context, Resolution};
use crate::audit::{self, Actor, Outcome};
use crate::clinic::Clinic;
use crate::documents::{self, SharedDocument};
use crate::error::{Error, FieldError, FieldErrors};
use crate::patients::shared::{self, SharedPatient};
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

fn hash(json: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(json.as_bytes()))
}

/// What counts as a change, at the clinic and at the partner. A patient's MRN is each clinic's own label (a
/// received patient may get a new one), so it is left out: otherwise two clinics would keep re-sharing the same
/// patient under their two MRNs.
pub fn content_hash(kind: Kind, payload: &serde_json::Value) -> Result<String, Error> {
    let mut v = payload.clone();
    if let (Kind::Patient, Some(mrn)) = (kind, v.get_mut("mrn")) {
        *mrn = serde_json::Value::String(String::new());
    }
    Ok(hash(&to_json(&v)?))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(sync_error)
}

/// The newest version known of a record and its contents' hash.
fn known(conn: &Connection, kind: Kind, uuid: &str) -> Result<Option<(u32, String)>, Error> {
    Ok(conn
        .query_row("SELECT version, hash FROM sync_records WHERE kind = ?1 AND uuid = ?2", (kind.as_str(), uuid), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

fn remember(tx: &Connection, kind: Kind, uuid: &str, version: u32, hash: &str, origin: &str) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO sync_records (kind, uuid, version, hash, origin) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, uuid) DO UPDATE SET version = ?3, hash = ?4, origin = ?5",
        (kind.as_str(), uuid, version, hash, origin),
    )?;
    Ok(())
}

/// Queues every shared record whose contents changed since it was last shared or received, as its next version.
/// An older version still queued is replaced: only the newest needs to travel. Returns how many were queued.
pub(super) fn collect(clinic: &Clinic, me: &str) -> Result<usize, Error> {
    let conn = clinic.store().conn();
    let mut changed: Vec<(Kind, String, serde_json::Value)> = Vec::new();
    for p in shared::consented(conn)? {
        changed.push((Kind::Patient, p.uuid.clone(), serde_json::to_value(&p).map_err(sync_error)?));
    }
    // A signed document never changes: once shared it is skipped before its doctor's key is even loaded.
    let shared_before = |uuid: &str| Ok(known(conn, Kind::Document, uuid)?.is_some());
    for d in documents::shared_signed(conn, &shared_before)? {
        changed.push((Kind::Document, d.uuid.clone(), serde_json::to_value(&d).map_err(sync_error)?));
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        let mut queued = 0;
        for (kind, uuid, payload) in &changed {
            let h = content_hash(*kind, payload)?;
            let json = to_json(payload)?;
            let version = match known(tx, *kind, uuid)? {
                Some((_, old)) if old == h => continue,
                Some((v, _)) => v + 1,
                None => 1,
            };
            tx.execute("DELETE FROM sync_outbox WHERE kind = ?1 AND uuid = ?2", (kind.as_str(), uuid))?;
            tx.execute(
                "INSERT INTO sync_outbox (kind, uuid, version, payload, queued_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                (kind.as_str(), uuid, version, &json, &now),
            )?;
            remember(tx, *kind, uuid, version, &h, me)?;
            queued += 1;
        }
        Ok(queued)
    })
}

/// One queued record.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    pub seq: i64,
    kind: Kind,
    uuid: String,
    version: u32,
    payload: String,
}

pub(super) fn outbox_batch(conn: &Connection, after: i64, limit: usize) -> Result<Vec<Queued>, Error> {
    let mut stmt =
        conn.prepare("SELECT seq, kind, uuid, version, payload FROM sync_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt
        .query_map((after, limit as i64), |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<Vec<(i64, String, String, u32, String)>>>()?;
    rows.into_iter()
        .map(|(seq, kind, uuid, version, payload)| {
            let kind = Kind::parse(&kind).ok_or_else(|| sync_error(format!("unknown record kind {kind}")))?;
            Ok(Queued { seq, kind, uuid, version, payload })
        })
        .collect()
}

/// Seals a queued record for the partner, with a fresh nonce and timestamp (a re-send is a new envelope).
pub(super) fn seal(ctx: &Context, row: &Queued, now: OffsetDateTime) -> Result<Vec<u8>, Error> {
    let me = ctx.me.fingerprint();
    let plaintext = Plaintext {
        meta: Meta {
            format: envelope::FORMAT.into(),
            id: row.uuid.clone(),
            version: row.version,
            created_at: crate::clock::rfc3339(now),
            nonce: envelope::new_nonce(),
            sender: me.clone(),
            recipient: ctx.partner.fingerprint(),
            origin: me,
            kind: row.kind,
        },
        payload: serde_json::from_str(&row.payload).map_err(sync_error)?,
    };
    envelope::seal(&ctx.me, &ctx.partner, &plaintext).map_err(sync_error)
}

/// Applies the partner's answers: stored and duplicate records leave the outbox; refused ones stay with the
/// reason. Returns (stored, duplicate, refused).
pub(super) fn acknowledge(
    clinic: &Clinic,
    batch: &[Queued],
    results: &[PushResult],
) -> Result<(usize, usize, usize), Error> {
    if results.len() != batch.len() {
        return Err(sync_error("the partner answered for a different number of records than were sent"));
    }
    clinic.store().write(|tx| {
        let mut counts = (0, 0, 0);
        for (row, result) in batch.iter().zip(results) {
            match result.status {
                PushStatus::Stored | PushStatus::Duplicate => {
                    tx.execute("DELETE FROM sync_outbox WHERE seq = ?1", [row.seq])?;
                    if result.status == PushStatus::Stored {
                        counts.0 += 1;
                    } else {
                        counts.1 += 1;
                    }
                }
                PushStatus::Rejected => {
                    tx.execute(
                        "UPDATE sync_outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
                        (row.seq, result.reason.as_deref().unwrap_or("rejected")),
                    )?;
                    counts.2 += 1;
                }
            }
        }
        Ok(counts)
    })
}

pub(super) fn cursor(conn: &Connection) -> Result<i64, Error> {
    Ok(conn.query_row("SELECT cursor FROM sync_partner WHERE id = 1", [], |r| r.get(0))?)
}

/// What became of one pulled envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Received {
    Applied,
    AlreadyHad,
    Conflict,
    Rejected,
}

/// Opens one pulled envelope: CPU only, so a page is opened on every core with no lock held.
pub(super) fn open_pulled(ctx: &Context, pulled: &Pulled, now: OffsetDateTime) -> Result<envelope::Opened, Rejection> {
    crate::crypto::base64_decode(&pulled.envelope)
        .ok_or_else(|| Rejection::Malformed("not base64".into()))
        .and_then(|bytes| envelope::open(&ctx.me, std::slice::from_ref(&ctx.partner), &bytes, now))
}

/// Applies a page of opened envelopes in order, in one transaction that also moves the cursor past them. A
/// refused envelope, or one whose contents cannot be applied, is logged in the audit trail with its reason and
/// skipped; only a failure of the database itself stops the page (and it is pulled again next time).
pub(super) fn receive_page(
    clinic: &Clinic,
    page: &[Pulled],
    opened: Vec<Result<envelope::Opened, Rejection>>,
) -> Result<Vec<Received>, Error> {
    let at = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        let mut outcomes = Vec::with_capacity(page.len());
        for (pulled, opened) in page.iter().zip(opened) {
            tx.execute("UPDATE sync_partner SET cursor = max(cursor, ?1) WHERE id = 1", [pulled.seq])?;
            let outcome = opened.and_then(|o| {
                let fresh = tx
                    .execute(
                        "INSERT OR IGNORE INTO sync_nonces (nonce, seen_at) VALUES (?1, ?2)",
                        (&o.plaintext.meta.nonce, &at),
                    )
                    .map_err(|e| Rejection::Malformed(e.to_string()))?;
                if fresh == 0 {
                    return Err(Rejection::ReplayedNonce);
                }
                Ok(o)
            });
            let received = match outcome {
                Err(rejection) => Err(rejection.code().to_owned()),
                Ok(o) => {
                    // A savepoint, so contents that cannot be applied leave nothing half-written.
                    tx.execute_batch("SAVEPOINT envelope")?;
                    match apply(tx, &o.plaintext, &at) {
                        Ok(received) => {
                            tx.execute_batch("RELEASE envelope")?;
                            Ok(received)
                        }
                        Err(Error::Sync { reason }) => {
                            tx.execute_batch("ROLLBACK TO envelope; RELEASE envelope")?;
                            Err(reason)
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            outcomes.push(match received {
                Ok(received) => received,
                Err(reason) => {
                    let what = format!("envelope {} from the partner: {reason}", pulled.seq);
                    let actor = super::system_actor();
                    audit::record(tx, &at, &actor, "sync.rejected", ("envelope", &what), Outcome::Failed)?;
                    Received::Rejected
                }
            });
        }
        Ok(outcomes)
    })
}

fn apply(tx: &Connection, plain: &Plaintext, at: &str) -> Result<Received, Error> {
    let meta = &plain.meta;
    let json = to_json(&plain.payload)?;
    let h = content_hash(meta.kind, &plain.payload)?;
    match meta.kind {
        Kind::Document => {
            let doc: SharedDocument = serde_json::from_value(plain.payload.clone()).map_err(sync_error)?;
            // Refused like any contents that cannot be applied (`receive_page` logs the reason and skips it).
            let signed = check(&doc).map_err(|e| sync_error(format!("document {}: {}", doc.uuid, e.0)))?;
            if doc.uuid != meta.id || signed.document != doc.uuid {
                return Err(sync_error(format!("document {}: not the document its envelope names", doc.uuid)));
            }
            let added = tx.execute(
                "INSERT OR IGNORE INTO received_documents
                     (uuid, kind, patient_uuid, canonical, signature, signer_key, origin, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    &doc.uuid,
                    &doc.kind,
                    &doc.patient_uuid,
                    &doc.canonical,
                    &doc.signature,
                    &doc.signer_key,
                    &meta.origin,
                    at,
                ),
            )?;
            remember(tx, Kind::Document, &meta.id, meta.version, &h, &meta.origin)?;
            Ok(if added == 1 { Received::Applied } else { Received::AlreadyHad })
        }
        Kind::Patient => {
            let incoming: SharedPatient = serde_json::from_value(plain.payload.clone()).map_err(sync_error)?;
            if incoming.uuid != meta.id {
                return Err(sync_error("a patient envelope's id is not the patient's"));
            }
            let local = shared::by_uuid(tx, &incoming.uuid)?;
            let known = known(tx, Kind::Patient, &incoming.uuid)?;
            let local_hash = match &local {
                Some(l) => Some(content_hash(Kind::Patient, &serde_json::to_value(l).map_err(sync_error)?)?),
                None => None,
            };
            // Same contents: nothing to do, whatever the version.
            if local_hash.as_deref() == Some(h.as_str()) {
                let version = known.map_or(meta.version, |(v, _)| v.max(meta.version));
                remember(tx, Kind::Patient, &meta.id, version, &h, &meta.origin)?;
                return Ok(Received::AlreadyHad);
            }
            let clash = match (&local, &known) {
                (None, _) => shared::national_id_holder(tx, &incoming)?,
                // Edited here since it was last shared or received, or a version we already have differently.
                (Some(l), Some((v, kh))) if local_hash.as_deref() != Some(kh.as_str()) || meta.version <= *v => {
                    Some(l.clone())
                }
                (Some(l), None) => Some(l.clone()),
                (Some(_), Some(_)) => None,
            };
            match clash {
                None => {
                    shared::apply(tx, &incoming, at)?;
                    remember(tx, Kind::Patient, &meta.id, meta.version, &h, &meta.origin)?;
                    Ok(Received::Applied)
                }
                Some(mine) => {
                    tx.execute(
                        "INSERT INTO sync_conflicts (kind, uuid, local, incoming, incoming_origin, incoming_version, found_at)
                         VALUES ('patient', ?1, ?2, ?3, ?4, ?5, ?6)",
                        (&incoming.uuid, to_json(&mine)?, &json, &meta.origin, meta.version, at),
                    )?;
                    // Resolving shares a version newer than both.
                    if let Some((v, kh)) = known {
                        remember(tx, Kind::Patient, &meta.id, v.max(meta.version), &kh, &meta.origin)?;
                    }
                    audit::record(
                        tx,
                        at,
                        &super::system_actor(),
                        "sync.conflict",
                        ("patient", &incoming.uuid),
                        Outcome::Ok,
                    )?;
                    Ok(Received::Conflict)
                }
            }
        }
    }
}

/// Forgets nonces older than twice the window: an envelope that could carry one again is already refused as stale.
pub(super) fn forget_old_nonces(clinic: &Clinic) -> Result<(), Error> {
    let cutoff = crate::clock::rfc3339(clinic.now() - envelope::WINDOW * 2);
    clinic.store().write(|tx| {
        tx.execute("DELETE FROM sync_nonces WHERE seen_at < ?1", [&cutoff])?;
        Ok(())
    })
}

pub(super) fn open_conflicts(conn: &Connection) -> Result<Vec<Conflict>, Error> {
    let mut stmt = conn.prepare(
        "SELECT id, uuid, local, incoming, incoming_origin, incoming_version, found_at FROM sync_conflicts
          WHERE resolved_at IS NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
        .collect::<rusqlite::Result<Vec<(i64, String, String, String, String, u32, String)>>>()?;
    rows.into_iter()
        .map(|(id, uuid, local, incoming, origin, incoming_version, found_at)| {
            Ok(Conflict {
                id,
                uuid,
                local: serde_json::from_str(&local).map_err(sync_error)?,
                incoming: serde_json::from_str(&incoming).map_err(sync_error)?,
                incoming_origin: origin,
                incoming_version,
                found_at,
            })
        })
        .collect()
}

pub(super) fn resolve(tx: &Connection, id: i64, resolution: Resolution, at: &str, actor: &Actor) -> Result<(), Error> {
    let row: Option<(String, String, String)> = tx
        .query_row(
            "SELECT uuid, local, incoming FROM sync_conflicts WHERE id = ?1 AND resolved_at IS NULL",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (uuid, local, incoming) = row.ok_or_else(|| Error::NotFound { what: format!("Open conflict {id}") })?;
    let chosen: SharedPatient =
        serde_json::from_str(if resolution == Resolution::KeepLocal { &local } else { &incoming })
            .map_err(sync_error)?;
    if resolution == Resolution::TakeIncoming {
        if let Some(holder) = shared::national_id_holder(tx, &chosen)? {
            // The same person registered at both sites: taking theirs would make two records of one person.
            let message = format!(
                "{} {} (MRN {}) is already registered here with national ID {}. Keep ours, then correct that \
                 record by hand if theirs was right.",
                holder.given_names, holder.family_name, holder.mrn, holder.national_id
            );
            return Err(Error::Invalid(FieldErrors::one(FieldError::new("national_id", message))));
        }
    }
    if resolution == Resolution::TakeIncoming || shared::by_uuid(tx, &uuid)?.is_none() {
        shared::apply(tx, &chosen, at)?;
    }
    // Forget the shared hash, so the next run shares the chosen record as a version newer than both.
    tx.execute("UPDATE sync_records SET hash = '' WHERE kind = 'patient' AND uuid = ?1", [&uuid])?;
    let (label, action) = match resolution {
        Resolution::KeepLocal => ("kept_local", "sync.conflict.keep_local"),
        Resolution::TakeIncoming => ("took_incoming", "sync.conflict.take_incoming"),
    };
    tx.execute("UPDATE sync_conflicts SET resolved_at = ?2, resolution = ?3 WHERE id = ?1", (id, at, label))?;
    audit::record(tx, at, actor, action, ("patient", &uuid), Outcome::Ok)
}

/// Received documents, newest first: all of them, or those of the patients with these uuids.
pub(super) fn received_documents(
    conn: &Connection,
    patient_uuids: Option<&[String]>,
) -> Result<Vec<super::ReceivedDocument>, Error> {
    let mut stmt = conn.prepare(
        "SELECT uuid, kind, patient_uuid, canonical, signature, signer_key, origin, received_at
           FROM received_documents
          WHERE ?1 IS NULL OR patient_uuid IN (SELECT value FROM json_each(?1))
          ORDER BY received_at DESC, uuid",
    )?;
    let uuids = patient_uuids.map(|u| to_json(&u)).transpose()?;
    let rows = stmt
        .query_map([uuids], |r| {
            Ok((
                SharedDocument {
                    uuid: r.get(0)?,
                    kind: r.get(1)?,
                    patient_uuid: r.get(2)?,
                    canonical: r.get(3)?,
                    signature: r.get(4)?,
                    signer_key: r.get(5)?,
                },
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|(document, origin, received_at)| {
            let contents = check(&document).map_err(|e| e.0);
            super::ReceivedDocument { document, origin, received_at, contents }
        })
        .collect())
}

/// The doctor's signature over a shared document, checked as anyone holding only the doctor's key would.
fn check(doc: &SharedDocument) -> Result<documents::Signed, crate::signing::BadSignature> {
    documents::check_signed(doc.canonical.as_bytes(), &doc.signature, &doc.signer_key)
}
