//! `break_glass`: emergency access. A clinician may open one patient's record beyond their role by giving a
//! reason. The grant lasts an hour or until the session locks; every action under it is flagged in the audit
//! trail, and the reasons are kept in `table.rs` (not in the audit rows) for an admin to review.

mod table;

use crate::audit::table::{self as audit, Outcome};
use crate::clinic::{actor_of, Clinic};
use crate::error::{Error, FieldError, FieldErrors};
use crate::permissions::Action;
use crate::session::{Grant, Session, BREAK_GLASS_FOR};
use crate::staff::table as staff;
use crate::text;

/// The shortest reason accepted, in characters.
pub const REASON_MIN: usize = 10;
/// The longest reason accepted, in characters.
pub const REASON_MAX: usize = 500;

/// One emergency access, for the admin's review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Its number.
    pub id: i64,
    /// Who asked.
    pub username: String,
    /// For which patient.
    pub patient_id: i64,
    /// Why, in their words.
    pub reason: String,
    /// When, RFC 3339 UTC.
    pub at: String,
}

/// Grants the signed-in clinician emergency access to `patient_id` for an hour.
pub fn invoke(clinic: &Clinic, session: &Session, patient_id: i64, reason: &str) -> Result<(), Error> {
    // Any unlocked, active session may ask; the role check is below, and refusals are logged.
    clinic.permits(session, Action::PatientSearch, None)?;
    let conn = clinic.store().conn();
    let member = staff::by_id(conn, session.user_id)?.ok_or(Error::AccountDisabled)?;
    if !member.role.is_clinician() {
        // Not a clinician: no grant is possible, so this check refuses and logs the attempt.
        clinic.authorize(session, Action::PatientReadClinical, Some(patient_id))?;
        return Err(Error::Denied { role: member.role, action: Action::PatientReadClinical });
    }
    let reason = text::clean(reason);
    let mut errors = FieldErrors::default();
    errors.absorb(text::check_required("reason", &reason, REASON_MAX));
    if !reason.is_empty() && reason.chars().count() < REASON_MIN {
        errors.0.push(FieldError::new("reason", format!("Give a reason of at least {REASON_MIN} characters.")));
    }
    errors.into_result()?;
    crate::patients::table::require(conn, patient_id)?;
    let now = clinic.now();
    let until = now + BREAK_GLASS_FOR;
    let (at, until_s) = (crate::clock::rfc3339(now), crate::clock::rfc3339(until));
    let mut actor = actor_of(&member);
    actor.break_glass = true;
    clinic.store().write(|tx| {
        let id = table::insert(tx, member.id, patient_id, &reason, &at, &until_s)?;
        audit::record(tx, &at, &actor, "breakglass.invoke", ("break_glass", &id.to_string()), Outcome::Ok)
    })?;
    session.state().break_glass.push(Grant { patient_id, until });
    Ok(())
}

/// Every emergency access with its reason, newest first, for the admin's review.
pub fn review(clinic: &Clinic, session: &Session) -> Result<Vec<Invocation>, Error> {
    clinic.authorize(session, Action::AuditRead, None)?;
    let conn = clinic.store().conn();
    table::all(conn)?
        .into_iter()
        .map(|row| {
            let username = staff::by_id(conn, row.user_id)?.map(|m| m.username).unwrap_or_default();
            Ok(Invocation { id: row.id, username, patient_id: row.patient_id, reason: row.reason, at: row.at })
        })
        .collect()
}
