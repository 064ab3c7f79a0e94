//! Table `staff`: user accounts. Each has a unique username, a display name, a role, a licence number (doctors),
//! an active flag and an argon2id password hash.

use crate::error::{Error, FieldErrors, Result as StoreResult};
use crate::permissions::Role;
use crate::sensitive::Sensitive;
use crate::{password, text};
use rusqlite::{Connection, OptionalExtension};

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// Its id.
    pub id: i64,
    /// Lower-case, unique.
    pub username: String,
    /// The full name, shown in the app and printed on documents.
    pub display_name: String,
    /// What they may do.
    pub role: Role,
    /// The professional licence number (doctors must have one).
    pub licence_number: Option<String>,
    /// May sign in.
    pub active: bool,
    /// Must choose a new password first.
    pub must_change_password: bool,
}

/// A new account as typed into the form.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// The username wanted.
    pub username: String,
    /// The full name.
    pub display_name: String,
    /// The role.
    pub role: Role,
    /// The licence number (required for doctors).
    pub licence_number: Option<String>,
    /// The password, checked against the policy.
    pub password: Sensitive<String>,
}

/// The longest username.
pub const USERNAME_MAX: usize = 32;
/// The longest full name.
pub const DISPLAY_NAME_MAX: usize = 100;
/// The longest licence number.
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

pub(crate) fn all(conn: &Connection) -> StoreResult<Vec<StaffMember>> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY username"))?;
    let rows = stmt.query_map([], read_member)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn set_active(conn: &Connection, id: i64, active: bool, now: &str) -> StoreResult<()> {
    conn.execute("UPDATE staff SET active = ?2, updated_at = ?3 WHERE id = ?1", (id, active, now))?;
    Ok(())
}

pub(crate) fn active_admins(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM staff WHERE role = 'admin' AND active = 1", [], |r| r.get(0))?)
}

/// How many accounts exist, active or not.
pub(crate) fn count(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM staff", [], |r| r.get(0))?)
}
