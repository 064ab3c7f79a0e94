//! Staff accounts as an admin manages them: add, list, disable or enable, reset a password, lift a sign-in
//! lock. Everyone changes their own password through `Clinic::change_own_password`. The table is `table.rs`.

pub(crate) mod table;

pub use table::{normalize_username, NewStaff, StaffMember, DISPLAY_NAME_MAX, LICENCE_MAX, USERNAME_MAX};

use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, Missing};
use crate::permissions::{Action, Role};
use crate::recovery::RecoveryKey;
use crate::sensitive::Sensitive;
use crate::session::Session;
use crate::{password, throttle};

fn require(clinic: &Clinic, username: &str) -> Result<StaffMember, Error> {
    table::find(clinic.store().conn(), username)?.ok_or_else(|| Error::NotFound(Missing::User(username.to_owned())))
}

/// Creates an account (admins only). An admin account also gets its own wrap of the database key.
pub fn add(clinic: &Clinic, session: &Session, new: &NewStaff) -> Result<StaffMember, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let clean = table::validate(clinic.store().conn(), new)?;
    let now = clinic.now_rfc3339();
    let id = clinic.store().write(|tx| {
        let id = table::insert(tx, &clean, &now)?;
        audit::record(tx, &now, &actor, "staff.create", ("staff", &id.to_string()), Outcome::Ok)?;
        Ok(id)
    })?;
    if clean.role == Role::Admin {
        clinic.vault().set_admin_password(clinic.store(), &clean.username, clean.password.expose())?;
    }
    table::by_id(clinic.store().conn(), id)?.ok_or_else(|| Error::NotFound(Missing::User(clean.username.clone())))
}

/// Every account, by username (admins).
pub fn list(clinic: &Clinic, session: &Session) -> Result<Vec<StaffMember>, Error> {
    clinic.authorize(session, Action::StaffManage, None)?;
    Ok(table::all(clinic.store().conn())?)
}

/// The result of a change to an account, and the new recovery key when the change revoked an admin's unlock
/// wrap: the database was then re-keyed, and that key (to show and print once) is the only one that opens it.
#[derive(Debug)]
pub struct Revoked<T> {
    /// What the change returns.
    pub value: T,
    /// The new recovery key, when the database was re-keyed.
    pub new_recovery_key: Option<RecoveryKey>,
}

/// Disables or re-enables an account. An admin cannot disable themself, nor the last active admin. Disabling an
/// admin re-keys the database, so `acting_password` (the signed-in admin's own) is needed then.
pub fn set_active(
    clinic: &mut Clinic,
    session: &Session,
    username: &str,
    active: bool,
    acting_password: Option<&str>,
) -> Result<Revoked<StaffMember>, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let target = require(clinic, username)?;
    if !active && target.id == session.user_id {
        return Err(Error::invalid("username", "You cannot disable your own account."));
    }
    if !active && target.role == Role::Admin && table::active_admins(clinic.store().conn())? <= 1 {
        return Err(Error::invalid("username", "This is the last active admin account; create another admin first."));
    }
    let revokes_wrap = !active && target.active && target.role == Role::Admin;
    let new_recovery_key = revoke_if(clinic, session, revokes_wrap, acting_password)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        table::set_active(tx, target.id, active, &now)?;
        let event = if active { "staff.enable" } else { "staff.disable" };
        audit::record(tx, &now, &actor, event, ("staff", &target.id.to_string()), Outcome::Ok)?;
        if new_recovery_key.is_some() {
            audit::record(tx, &now, &actor, "key.rotate", ("clinic", ""), Outcome::Ok)?;
        }
        Ok(())
    })?;
    Ok(Revoked { value: require(clinic, username)?, new_recovery_key })
}

/// Sets a random temporary password (returned, to hand over once) and forces a change at next sign-in. Resetting
/// an admin re-keys the database (their forgotten password's wrap must stop working), so `acting_password` (the
/// signed-in admin's own) is needed then. Nobody resets their own password: they change it.
pub fn reset_password(
    clinic: &mut Clinic,
    session: &Session,
    username: &str,
    acting_password: Option<&str>,
) -> Result<Revoked<Sensitive<String>>, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let target = require(clinic, username)?;
    if target.id == session.user_id {
        return Err(Error::invalid("username", "Change your own password instead of resetting it."));
    }
    let new_recovery_key = revoke_if(clinic, session, target.role == Role::Admin, acting_password)?;
    let temporary = temporary_password();
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        table::set_password_hash(tx, target.id, &password::hash(temporary.expose()), true, &now)?;
        throttle::clear(tx, &target.username)?;
        audit::record(tx, &now, &actor, "staff.password_reset", ("staff", &target.id.to_string()), Outcome::Ok)?;
        if new_recovery_key.is_some() {
            audit::record(tx, &now, &actor, "key.rotate", ("clinic", ""), Outcome::Ok)?;
        }
        Ok(())
    })?;
    Ok(Revoked { value: temporary, new_recovery_key })
}

/// Re-keys the database when `revokes` (the change takes away an admin's wrap), before anything else changes: a
/// wrong password changes nothing, and a failure after the re-key leaves only an extra rotation behind. Every other
/// admin's wrap goes with it; each gets a new one at their next sign-in.
fn revoke_if(
    clinic: &mut Clinic,
    session: &Session,
    revokes: bool,
    acting_password: Option<&str>,
) -> Result<Option<RecoveryKey>, Error> {
    if !revokes {
        return Ok(None);
    }
    let password = acting_password.filter(|p| !p.is_empty()).ok_or_else(|| {
        Error::invalid("password", "Type your own password: taking away an admin's access re-keys the database.")
    })?;
    Ok(Some(clinic.rekey(session, password)?))
}

/// Lifts a sign-in lockout early (admins only).
pub fn clear_throttle(clinic: &Clinic, session: &Session, username: &str) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let target = require(clinic, username)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        throttle::clear(tx, &target.username)?;
        audit::record(tx, &now, &actor, "staff.throttle_clear", ("staff", &target.id.to_string()), Outcome::Ok)
    })?;
    Ok(())
}

/// Four groups of four unambiguous characters: easy to read aloud, 80 bits of randomness.
fn temporary_password() -> Sensitive<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = crate::crypto::random::<16>();
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    Sensitive::new(chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-"))
}
