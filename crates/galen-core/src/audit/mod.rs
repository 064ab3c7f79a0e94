//! The audit trail as admins read it: the newest rows first, and a check of the whole hash chain against its
//! newest anchor. What is recorded, and how rows are chained, is `table.rs`; the anchor kept outside the
//! database, `anchor.rs`.

pub(crate) mod anchor;
pub(crate) mod table;

pub use table::{Actor, Anchored, Break, Entry, Head, Outcome, Query, Restore, Verified};

use crate::clinic::Clinic;
use crate::error::Error;
use crate::permissions::Action;
use crate::session::Session;

/// Verifies the chain, and that it still reaches its newest anchor (admins only); records that it was checked,
/// and anchors the log (making the site key, if the log is intact and the clinic has none, as a backup does).
pub fn verify(clinic: &Clinic, session: &Session) -> Result<Result<Verified, Break>, Error> {
    let actor = clinic.authorize(session, Action::AuditRead, None)?;
    let conn = clinic.store().conn();
    let mut result = table::verify_chain(conn)?;
    if let Ok(verified) = &mut result {
        if let Some(kept) = anchor::current(clinic.vault(), clinic.store())? {
            match anchor::check(conn, &kept)? {
                Some(brk) => result = Err(brk),
                None => verified.anchor = Some(Anchored { row: kept.row, signed: kept.signature.is_some() }),
            }
        }
    }
    let outcome = if result.is_ok() { Outcome::Ok } else { Outcome::Failed };
    clinic
        .store()
        .write(|tx| table::record(tx, &clinic.now_rfc3339(), &actor, "audit.verify", ("audit_log", ""), outcome))?;
    // The anchor of an intact log is signed by the site key, made now if the clinic has none yet. Unsigned
    // anchors made before it still count (`anchor::current_in`), so this never erases what they show.
    if result.is_ok() {
        if let Err(e) = crate::site::ensure_key(clinic, &actor) {
            tracing::warn!(code = e.code(), "the site key could not be made; the audit anchor stays unsigned");
        }
    }
    clinic.anchor_audit_log();
    Ok(result)
}

/// The newest rows first (admins only).
pub fn list(clinic: &Clinic, session: &Session, q: &Query) -> Result<Vec<Entry>, Error> {
    clinic.authorize(session, Action::AuditRead, None)?;
    Ok(table::page(clinic.store().conn(), q)?)
}
