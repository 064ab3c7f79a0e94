//! The push side: queue every shared record that changed since it was last shared or received, seal queued
//! records for the partner, and take the partner's answer for each.

use super::context::{keys, Context};
use super::table::{self, Queued};
use crate::clinic::Clinic;
use crate::documents;
use crate::error::{Error, SyncFailure};
use galen_proto::envelope::{self, content_hash, Kind, Meta, Plaintext};
use galen_proto::wire::{PushResult, PushStatus};
use time::OffsetDateTime;

fn json<T: serde::Serialize>(v: &T) -> String {
    // Records are plain strings, numbers, booleans and lists: they always serialize.
    serde_json::to_string(v).unwrap_or_default()
}

/// Queues every shared record whose contents changed since it was last shared or received, as its next version.
/// An older version still queued is replaced: only the newest needs to travel. Returns how many were queued.
pub(super) fn collect(clinic: &Clinic, me: &str) -> Result<usize, Error> {
    let conn = clinic.store().conn();
    // Each record with the hash that tells whether it changed.
    let mut changed: Vec<(Kind, String, serde_json::Value, String)> = Vec::new();
    let mut add = |kind: Kind, uuid: &str, payload: serde_json::Value| {
        let h = content_hash(kind, &payload);
        changed.push((kind, uuid.to_owned(), payload, h));
    };
    for p in crate::patients::table::consented(conn)? {
        add(Kind::Patient, &p.uuid, serde_json::to_value(&p).unwrap_or_default());
    }
    // A signed document never changes: once shared it is skipped before its doctor's key is even loaded.
    let shared_before = |uuid: &str| Ok(table::known(conn, Kind::Document, uuid)?.is_some());
    for d in documents::shared_signed(conn, &shared_before)? {
        add(Kind::Document, &d.uuid, serde_json::to_value(&d).unwrap_or_default());
    }
    // This clinic's trust list, once it has doctor keys, so other sites can tell its doctors' keys from anyone's;
    // shared again when what it says changes (a new key, a replacement, a revocation), not each time it is signed.
    if !crate::signing::table::all(conn)?.is_empty() {
        let site_tsk = crate::site::table::secrets(conn)?.openpgp_key;
        let (digest, list) = documents::keys::shared_trust_list(clinic, &site_tsk)?;
        let list_id = table::own_trust_list_id(conn, me)?.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let payload = serde_json::to_value(documents::trust::SharedTrustList { list }).unwrap_or_default();
        changed.push((Kind::TrustList, list_id, payload, digest));
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        let mut queued = 0;
        for (kind, uuid, payload, h) in &changed {
            let h = h.clone();
            let version = match table::known(tx, *kind, uuid)? {
                Some((_, old)) if old == h => continue,
                Some((v, _)) => v + 1,
                None => 1,
            };
            table::enqueue(tx, *kind, uuid, version, &json(payload), &now)?;
            table::remember(tx, *kind, uuid, version, &h, me)?;
            queued += 1;
        }
        Ok(queued)
    })
}

/// Seals a queued record for the partner, with a fresh nonce and timestamp (a re-send is a new envelope).
pub(super) fn seal(ctx: &Context, row: &Queued, now: OffsetDateTime) -> Result<Vec<u8>, Error> {
    let me = ctx.me.fingerprint();
    let kind = Kind::parse(&row.kind)
        .ok_or_else(|| Error::Sync(SyncFailure::Contents(format!("unknown record kind {} in the outbox", row.kind))))?;
    let payload = serde_json::from_str(&row.payload)
        .map_err(|e| Error::Sync(SyncFailure::Contents(format!("queued record {}: {e}", row.uuid))))?;
    let plaintext = Plaintext {
        meta: Meta {
            format: envelope::FORMAT.into(),
            id: row.uuid.clone(),
            version: row.version,
            created_at: galen_proto::rfc3339(now),
            nonce: envelope::new_nonce(),
            sender: me.clone(),
            recipient: ctx.partner.fingerprint(),
            origin: me,
            kind,
        },
        payload,
    };
    envelope::seal(&ctx.me, &ctx.partner, &plaintext).map_err(keys)
}

/// Applies the partner's answers: stored and duplicate records leave the outbox; refused ones stay with the
/// reason. Returns (stored, duplicate, refused).
pub(super) fn acknowledge(
    clinic: &Clinic,
    batch: &[Queued],
    results: &[PushResult],
) -> Result<(usize, usize, usize), Error> {
    if results.len() != batch.len() {
        return Err(Error::Sync(SyncFailure::BadAnswer(format!(
            "{} answers for {} records sent",
            results.len(),
            batch.len()
        ))));
    }
    clinic.store().write(|tx| {
        let mut counts = (0, 0, 0);
        for (row, result) in batch.iter().zip(results) {
            match result.status {
                PushStatus::Stored => {
                    table::dequeue(tx, row.seq)?;
                    counts.0 += 1;
                }
                PushStatus::Duplicate => {
                    table::dequeue(tx, row.seq)?;
                    counts.1 += 1;
                }
                PushStatus::Rejected => {
                    table::refused(tx, row.seq, result.reason.as_deref().unwrap_or("rejected"))?;
                    counts.2 += 1;
                }
            }
        }
        Ok(counts)
    })
}
