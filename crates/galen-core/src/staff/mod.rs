//! `staff`: user accounts. Each has a unique username, a display name, a role, a licence number (doctors),
//! an active flag and an argon2id password hash. Only admins manage accounts; everyone changes their own
//! password through `Clinic::change_own_password`.

use crate::audit::{self, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors};
use crate::permissions::{Action, Role};
use crate::sensitive::Sensitive;
use crate::session::Session;
use crate::{password, text};
use rusqlite::{Connection, OptionalExtension};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub licence_number: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
}

/// A new account as typed into the form.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub licence_number: Option<String>,
    pub password: Sensitive<String>,
}

pub const USERNAME_MAX: usize = 32;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const LICENCE_MAX: usize = 50;

/// Lower-cased and trimmed, so `Ana` and `ana ` are the same account.
pub fn normalize_username(u: &str) -> String {
    u.trim().to_lowercase()
}

/// Validates every field of a new account and returns the cleaned values, or all the field errors at once.
pub(crate) fn validate(conn: &Connection, s: &NewStaff) -> Result<NewStaff, Error> {
    let mut errors = FieldErrors::default();
    let username = normalize_username(&s.username);
    if username.chars().count() < 3 || username.chars().count() > USERNAME_MAX {
        errors.push("username", format!("Use 3 to {USERNAME_MAX} characters."));
    } else if !username.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)) {
        errors.push("username", "Use only letters a–z, digits, dots, dashes and underscores.");
    } else if find(conn, &username)?.is_some() {
        errors.push("username", "This username is already taken.");
    }
    let display_name = text::clean(&s.display_name);
    errors.absorb(text::check_required("display_name", &display_name, DISPLAY_NAME_MAX));
    let licence = s.licence_number.as_deref().map(text::clean).filter(|l| !l.is_empty());
    match (&licence, s.role) {
        (None, Role::Doctor) => errors.push("licence_number", "A doctor's professional licence number is required."),
        (Some(l), _) => errors.absorb(text::check_required("licence_number", l, LICENCE_MAX)),
        (None, _) => {}
    }
    errors.absorb(password::check_policy("password", s.password.expose()));
    errors.into_result()?;
    Ok(NewStaff { username, display_name, role: s.role, licence_number: licence, password: s.password.clone() })
}

pub(crate) fn insert(conn: &Connection, s: &NewStaff, now: &str) -> Result<i64, Error> {
    conn.execute(
        "INSERT INTO staff (username, display_name, role, licence_number, password_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        (&s.username, &s.display_name, s.role.as_str(), &s.licence_number, password::hash(s.password.expose()), now),
    )?;
    Ok(conn.last_insert_rowid())
}

const SELECT: &str = "SELECT id, username, display_name, role, licence_number, active, must_change_password FROM staff";

fn read_member(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffMember> {
    let role: String = r.get(3)?;
    Ok(StaffMember {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        // The CHECK constraint admits only known roles.
        role: Role::parse(&role).unwrap_or(Role::Receptionist),
        licence_number: r.get(4)?,
        active: r.get(5)?,
        must_change_password: r.get(6)?,
    })
}

pub(crate) fn find(conn: &Connection, username: &str) -> Result<Option<StaffMember>, Error> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE username = ?1"), [normalize_username(username)], read_member)
        .optional()?)
}

pub(crate) fn by_id(conn: &Connection, id: i64) -> Result<Option<StaffMember>, Error> {
    Ok(conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], read_member).optional()?)
}

pub(crate) fn password_hash(conn: &Connection, id: i64) -> Result<String, Error> {
    Ok(conn.query_row("SELECT password_hash FROM staff WHERE id = ?1", [id], |r| r.get(0))?)
}

pub(crate) fn set_password_hash(
    conn: &Connection,
    id: i64,
    phc: &str,
    must_change: bool,
    now: &str,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE staff SET password_hash = ?2, must_change_password = ?3, updated_at = ?4 WHERE id = ?1",
        (id, phc, must_change, now),
    )?;
    Ok(())
}

fn require(clinic: &Clinic, username: &str) -> Result<StaffMember, Error> {
    find(clinic.store().conn(), username)?.ok_or_else(|| Error::NotFound { what: format!("User {username:?}") })
}

/// Creates an account (admins only). An admin account also gets its own wrap of the database key.
pub fn add(clinic: &Clinic, session: &Session, new: &NewStaff) -> Result<StaffMember, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let clean = validate(clinic.store().conn(), new)?;
    let now = clinic.now_rfc3339();
    let id = clinic.store().write(|tx| {
        let id = insert(tx, &clean, &now)?;
        audit::record(tx, &now, &actor, "staff.create", ("staff", &id.to_string()), Outcome::Ok)?;
        Ok(id)
    })?;
    if clean.role == Role::Admin {
        clinic.vault().set_admin_password(clinic.store(), &clean.username, clean.password.expose())?;
    }
    by_id(clinic.store().conn(), id)?.ok_or_else(|| Error::NotFound { what: "The new account".into() })
}

pub fn list(clinic: &Clinic, session: &Session) -> Result<Vec<StaffMember>, Error> {
    clinic.authorize(session, Action::StaffManage, None)?;
    let mut stmt = clinic.store().conn().prepare(&format!("{SELECT} ORDER BY username"))?;
    let rows = stmt.query_map([], read_member)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Disables or re-enables an account. An admin cannot disable themself, nor the last active admin.
pub fn set_active(clinic: &Clinic, session: &Session, username: &str, active: bool) -> Result<StaffMember, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let target = require(clinic, username)?;
    if !active && target.id == session.user_id {
        return Err(Error::Invalid(FieldErrors::one(crate::error::FieldError::new(
            "username",
            "You cannot disable your own account.",
        ))));
    }
    if !active && target.role == Role::Admin {
        let admins: i64 = clinic.store().conn().query_row(
            "SELECT count(*) FROM staff WHERE role = 'admin' AND active = 1",
            [],
            |r| r.get(0),
        )?;
        if admins <= 1 {
            return Err(Error::Invalid(FieldErrors::one(crate::error::FieldError::new(
                "username",
                "This is the last active admin account; create another admin first.",
            ))));
        }
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute("UPDATE staff SET active = ?2, updated_at = ?3 WHERE id = ?1", (target.id, active, &now))?;
        let event = if active { "staff.enable" } else { "staff.disable" };
        audit::record(tx, &now, &actor, event, ("staff", &target.id.to_string()), Outcome::Ok)
    })?;
    if !active && target.role == Role::Admin {
        clinic.vault().remove_admin_password(&target.username)?;
    }
    require(clinic, username)
}

/// Sets a random temporary password (returned, to hand over once) and forces a change at next sign-in.
pub fn reset_password(clinic: &Clinic, session: &Session, username: &str) -> Result<Sensitive<String>, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let target = require(clinic, username)?;
    let temporary = temporary_password();
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        set_password_hash(tx, target.id, &password::hash(temporary.expose()), true, &now)?;
        crate::throttle::clear(tx, &target.username)?;
        audit::record(tx, &now, &actor, "staff.password_reset", ("staff", &target.id.to_string()), Outcome::Ok)
    })?;
    if target.role == Role::Admin {
        // The forgotten password's wrap is useless now; the new password gets one at the forced change.
        clinic.vault().remove_admin_password(&target.username)?;
    }
    Ok(temporary)
}

/// Lifts a sign-in lockout early (admins only).
pub fn clear_throttle(clinic: &Clinic, session: &Session, username: &str) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let target = require(clinic, username)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        crate::throttle::clear(tx, &target.username)?;
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
