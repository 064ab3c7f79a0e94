//! The pull side: open what the partner relays from other sites (on every core, no lock held), then apply a page
//! in one transaction that also moves the cursor. An edit that meets a local edit of the same patient becomes a
//! conflict for a person; a record that cannot be applied is logged and skipped.

use super::context::Context;
use super::table;
use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clinic::Clinic;
use crate::documents::trust::{CheckedList, SharedTrustList};
use crate::documents::{self, SharedDocument};
use crate::error::{Error, SyncFailure};
use crate::patients::shared::{self, SharedPatient};
use crate::patients::table as patients;
use galen_proto::envelope::{self, content_hash, Kind, Plaintext, Rejection};
use galen_proto::wire::{decode_envelope, Pulled};
use rusqlite::Connection;
use time::OffsetDateTime;

/// What became of one pulled envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Received {
    Applied,
    AlreadyHad,
    Conflict,
    Rejected,
}

fn contents(why: impl std::fmt::Display) -> Error {
    Error::Sync(SyncFailure::Contents(why.to_string()))
}

/// Opens one pulled envelope: CPU only, so a page is opened on every core with no lock held.
pub(super) fn open_pulled(ctx: &Context, pulled: &Pulled, now: OffsetDateTime) -> Result<envelope::Opened, Rejection> {
    decode_envelope(&pulled.envelope)
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
    let today = clinic.now().date();
    clinic.store().write(|tx| {
        let mut outcomes = Vec::with_capacity(page.len());
        for (pulled, opened) in page.iter().zip(opened) {
            table::move_cursor(tx, pulled.seq)?;
            let received = match opened {
                Err(rejection) => Err(rejection.code().to_owned()),
                Ok(o) if !table::first_sight(tx, &o.plaintext.meta.nonce, &at)? => {
                    Err(Rejection::ReplayedNonce.code().to_owned())
                }
                Ok(o) => {
                    // A savepoint, so contents that cannot be applied leave nothing half-written.
                    tx.execute_batch("SAVEPOINT envelope")?;
                    match apply(tx, &o.plaintext, &at, today) {
                        Ok(received) => {
                            tx.execute_batch("RELEASE envelope")?;
                            Ok(received)
                        }
                        Err(Error::Sync(why)) => {
                            tx.execute_batch("ROLLBACK TO envelope; RELEASE envelope")?;
                            Err(why.to_string())
                        }
                        Err(e) if breaks_a_constraint(&e) => {
                            tx.execute_batch("ROLLBACK TO envelope; RELEASE envelope")?;
                            Err(format!("it breaks a rule of this clinic's database ({e})"))
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            outcomes.push(match received {
                Ok(received) => received,
                Err(reason) => {
                    // The reason goes to the audit trail only: a content error may quote what was received.
                    tracing::warn!(seq = pulled.seq, "received envelope refused");
                    let what = format!("envelope {} from the partner: {reason}", pulled.seq);
                    audit::record(tx, &at, &Actor::sync(), "sync.rejected", ("envelope", &what), Outcome::Failed)?;
                    Received::Rejected
                }
            });
        }
        Ok(outcomes)
    })
}

/// A rule the database enforces (a unique national ID or MRN, a value from a list) that a received record breaks is
/// a fault of the record, not of the database: refused like any bad contents, it never stalls sync.
fn breaks_a_constraint(e: &Error) -> bool {
    matches!(e, Error::Store(crate::error::StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)))
        if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn apply(tx: &Connection, plain: &Plaintext, at: &str, today: time::Date) -> Result<Received, Error> {
    let meta = &plain.meta;
    let h = content_hash(meta.kind, &plain.payload);
    match meta.kind {
        Kind::Document => {
            let doc: SharedDocument = serde_json::from_value(plain.payload.clone()).map_err(contents)?;
            // Refused like any contents that cannot be applied (`receive_page` logs the reason and skips it).
            let signed = check(&doc).map_err(|p| contents(format!("document {}: {p}", doc.uuid)))?;
            if doc.uuid != meta.id || signed.document != doc.uuid {
                return Err(contents(format!("document {}: not the document its envelope names", doc.uuid)));
            }
            // A signed document never changes: the same uuid with other contents or another signer is a forgery or a
            // fault, refused (and logged) rather than ignored.
            if documents::table::by_uuid(tx, &doc.uuid)?.is_some() {
                return Err(contents(format!("document {}: a document of this clinic has this id", doc.uuid)));
            }
            if let Some((held, from)) = table::received_by_uuid(tx, &doc.uuid)? {
                if (&held.canonical, &held.signature, &held.signer_key, &from)
                    != (&doc.canonical, &doc.signature, &doc.signer_key, &meta.origin)
                {
                    return Err(contents(format!(
                        "document {}: another document with this id came from site {from} before",
                        doc.uuid
                    )));
                }
                return Ok(Received::AlreadyHad);
            }
            table::insert_received(tx, &doc, &meta.origin, at)?;
            table::remember(tx, Kind::Document, &meta.id, meta.version, &h, &meta.origin)?;
            Ok(Received::Applied)
        }
        Kind::TrustList => {
            let shared: SharedTrustList = serde_json::from_value(plain.payload.clone()).map_err(contents)?;
            let checked = CheckedList::read(&shared.list).map_err(|e| contents(format!("trust list: {e}")))?;
            // A site speaks for its own doctors only.
            if checked.site_fingerprint != meta.origin {
                return Err(contents("trust list: signed by another site than the one it came from"));
            }
            let list = &checked.list;
            // The first site to speak as a clinic keeps its name: another cannot vouch under it.
            if let Some(other) = table::trust_list_origin_named(tx, &list.clinic)?.filter(|o| *o != meta.origin) {
                return Err(contents(format!("trust list: another site already speaks as {} ({other})", list.clinic)));
            }
            let kept = table::keep_trust_list(tx, &meta.origin, &list.clinic, &list.issued_at, &shared.list, at)?;
            table::remember(tx, Kind::TrustList, &meta.id, meta.version, &h, &meta.origin)?;
            Ok(if kept { Received::Applied } else { Received::AlreadyHad })
        }
        Kind::Patient => {
            let received: SharedPatient = serde_json::from_value(plain.payload.clone()).map_err(contents)?;
            if received.uuid != meta.id {
                return Err(contents("a patient envelope's id is not the patient's"));
            }
            // Checked and cleaned like a local registration; a bad record is refused (and logged) whole.
            let incoming = received
                .validated(today)
                .map_err(|e| contents(format!("patient {}: {}", received.uuid, shared::describe(&e))))?;
            // What is kept and compared is the cleaned record.
            let h = content_hash(Kind::Patient, &serde_json::to_value(&incoming).map_err(contents)?);
            let local = patients::shared_by_uuid(tx, &incoming.uuid)?;
            let known = table::known(tx, Kind::Patient, &incoming.uuid)?;
            let local_hash =
                local.as_ref().map(|l| content_hash(Kind::Patient, &serde_json::to_value(l).unwrap_or_default()));
            // Same contents: nothing to do, whatever the version.
            if local_hash.as_deref() == Some(h.as_str()) {
                let version = known.map_or(meta.version, |(v, _)| v.max(meta.version));
                table::remember(tx, Kind::Patient, &meta.id, version, &h, &meta.origin)?;
                return Ok(Received::AlreadyHad);
            }
            let holder = patients::shared_national_id_holder(tx, &incoming)?;
            let clash = match (&local, &known) {
                // The same person registered here under another uuid.
                (None, _) => holder,
                // Edited here since it was last shared or received, or a version we already have differently.
                (Some(l), Some((v, kh))) if local_hash.as_deref() != Some(kh.as_str()) || meta.version <= *v => {
                    Some(l.clone())
                }
                (Some(l), None) => Some(l.clone()),
                // A national ID someone else here holds, or an allergy or condition taken away: a person decides
                // (resolving refuses the clash; a clinician decides on clinical data).
                (Some(l), Some(_)) if holder.is_some() || !l.removed_by(&incoming).is_empty() => Some(l.clone()),
                (Some(_), Some(_)) => None,
            };
            match clash {
                None => {
                    patients::apply_shared(tx, &incoming, at)?;
                    table::remember(tx, Kind::Patient, &meta.id, meta.version, &h, &meta.origin)?;
                    Ok(Received::Applied)
                }
                Some(mine) => {
                    let json = |p: &SharedPatient| serde_json::to_string(p).unwrap_or_default();
                    table::insert_conflict(
                        tx,
                        &incoming.uuid,
                        &json(&mine),
                        &json(&incoming),
                        &meta.origin,
                        meta.version,
                        at,
                    )?;
                    // Resolving shares a version newer than both.
                    if let Some((v, kh)) = known {
                        table::remember(tx, Kind::Patient, &meta.id, v.max(meta.version), &kh, &meta.origin)?;
                    }
                    audit::record(tx, at, &Actor::sync(), "sync.conflict", ("patient", &incoming.uuid), Outcome::Ok)?;
                    Ok(Received::Conflict)
                }
            }
        }
    }
}

/// The doctor's signature over a shared document, checked as anyone holding only the doctor's key would.
pub(super) fn check(doc: &SharedDocument) -> Result<documents::Signed, documents::Problem> {
    documents::check_signed(doc.canonical.as_bytes(), &doc.signature, &doc.signer_key)
}

/// Forgets nonces older than twice the window: an envelope that could carry one again is already refused as stale.
pub(super) fn forget_old_nonces(clinic: &Clinic) -> Result<(), Error> {
    let cutoff = galen_proto::rfc3339(clinic.now() - envelope::WINDOW * 2);
    clinic.store().write(|tx| Ok(table::forget_nonces_before(tx, &cutoff)?))
}
