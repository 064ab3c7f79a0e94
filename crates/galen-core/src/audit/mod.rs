//! The audit trail as admins read it: the newest rows first, and a check of the whole hash chain. What is
//! recorded, and how rows are chained, is `table.rs`.

pub(crate) mod table;

pub use table::{Actor, Break, Entry, Outcome, Query, Verified};

use crate::clinic::Clinic;
use crate::error::Error;
use crate::permissions::Action;
use crate::session::Session;

/// Verifies the chain (admins only) and records that it was checked.
pub fn verify(clinic: &Clinic, session: &Session) -> Result<Result<Verified, Break>, Error> {
    let actor = clinic.authorize(session, Action::AuditRead, None)?;
    let result = table::verify_chain(clinic.store().conn())?;
    let outcome = if result.is_ok() { Outcome::Ok } else { Outcome::Failed };
    clinic
        .store()
        .write(|tx| table::record(tx, &clinic.now_rfc3339(), &actor, "audit.verify", ("audit_log", ""), outcome))?;
    Ok(result)
}

/// The newest rows first (admins only).
pub fn list(clinic: &Clinic, session: &Session, q: &Query) -> Result<Vec<Entry>, Error> {
    clinic.authorize(session, Action::AuditRead, None)?;
    Ok(table::page(clinic.store().conn(), q)?)
}
