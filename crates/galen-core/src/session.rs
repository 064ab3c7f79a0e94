//! Sessions: who is signed in, their idle clock, lock/unlock, and emergency access grants.
//!
//! A `Session` is only a token of who signed in. Every rule about it (idle lock, role, break-glass) is applied by
//! `Clinic::authorize`, which every operation calls first.

use crate::permissions::Role;
use crate::sensitive::Sensitive;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// How long a session may stay idle before it locks, unless settings say otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::minutes(10);
/// How long an emergency access grant lasts before it must be asked for again.
pub const BREAK_GLASS_FOR: Duration = Duration::hours(1);

/// A signed-in user: who, their role, and the state of their session (locked, idle clock, emergency grants).
#[derive(Debug)]
pub struct Session {
    pub(crate) user_id: i64,
    pub(crate) username: String,
    pub(crate) display_name: String,
    pub(crate) role: Role,
    pub(crate) state: Mutex<State>,
    /// Signing keys made for this doctor after an admin reset their password, not told before this sign-in.
    pub(crate) new_keys: Vec<NewKeyNotice>,
}

/// "A new signing key was made for you on DATE after ADMIN reset your password", told once, at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKeyNotice {
    /// When the key was made, RFC 3339.
    pub made_at: String,
    /// The admin who reset the password.
    pub reset_by: String,
    /// When they reset it, RFC 3339.
    pub reset_at: String,
}

#[derive(Debug)]
pub(crate) struct State {
    pub last_activity: OffsetDateTime,
    pub idle_timeout: Duration,
    pub locked: bool,
    pub must_change_password: bool,
    pub break_glass: Vec<Grant>,
    /// A doctor's unlocked signing key, held only while the session is unlocked.
    pub signing_key: Option<Sensitive<Vec<u8>>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub patient_id: i64,
    pub until: OffsetDateTime,
}

/// What the UI may show about the signed-in user. Holds nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Their account id.
    pub user_id: i64,
    /// Their username.
    pub username: String,
    /// Their full name.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// Locked (idle, or Ctrl+L): nothing but unlocking works.
    pub locked: bool,
    /// An admin reset the password: it must be changed first.
    pub must_change_password: bool,
    /// How long it may stay idle.
    pub idle_timeout_secs: i64,
    /// Signing keys made after an admin reset this doctor's password, told at this sign-in.
    pub new_keys: Vec<NewKeyNotice>,
}

impl Session {
    pub(crate) fn new(
        user_id: i64,
        username: String,
        display_name: String,
        role: Role,
        must_change_password: bool,
        now: OffsetDateTime,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            user_id,
            username,
            display_name,
            role,
            new_keys: Vec::new(),
            state: Mutex::new(State {
                last_activity: now,
                idle_timeout,
                locked: false,
                must_change_password,
                break_glass: Vec::new(),
                signing_key: None,
            }),
        }
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Their role when they signed in (each operation re-reads it).
    pub fn role(&self) -> Role {
        self.role
    }

    /// Their account's id.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    /// Their username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Who is signed in and the session's state now, for a front end to show.
    pub fn info(&self) -> SessionInfo {
        let st = self.state();
        SessionInfo {
            user_id: self.user_id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            locked: st.locked,
            must_change_password: st.must_change_password,
            idle_timeout_secs: st.idle_timeout.whole_seconds(),
            new_keys: self.new_keys.clone(),
        }
    }

    /// Whether a signing key is currently held in memory (dropped on every lock).
    pub fn holds_signing_key(&self) -> bool {
        self.state().signing_key.is_some()
    }

    /// Locks now and forgets everything that needs the password to get back.
    pub(crate) fn lock_state(st: &mut State) {
        st.locked = true;
        st.signing_key = None;
        st.break_glass.clear();
    }
}
