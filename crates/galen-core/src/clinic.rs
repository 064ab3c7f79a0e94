//! `Clinic`: an open clinic (its data folder, its unlocked store and a clock) and the front door to every
//! operation: sign-in, locking, and `authorize`, which applies the permission table to each call.

use crate::audit::anchor;
use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, FieldErrors, StoreError};
use crate::permissions::{self, Action, Role};
use crate::recovery::RecoveryKey;
use crate::sensitive::Sensitive;
use crate::session::{NewKeyNotice, Session, DEFAULT_IDLE_TIMEOUT};
use crate::settings::table as settings;
use crate::staff::table::{self as staff, NewStaff};
use crate::store::Store;
use crate::vault::Vault;
use crate::{password, text, throttle};
use std::sync::Arc;
use time::OffsetDateTime;

/// An open clinic: its data folder, its unlocked store and a clock.
#[derive(Debug)]
pub struct Clinic {
    vault: Vault,
    store: Store,
    clock: Arc<dyn Clock>,
}

/// What the first-run form collects: the clinic, then its first admin.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The clinic's name, as printed on documents.
    pub site_name: String,
    /// The first admin's username.
    pub admin_username: String,
    /// The first admin's full name.
    pub admin_display_name: String,
    /// The first admin's password (also unlocks the database).
    pub admin_password: Sensitive<String>,
}

/// A new clinic, and the recovery key to show once.
#[derive(Debug)]
pub struct Created {
    /// The clinic, open.
    pub clinic: Clinic,
    /// Shown once to write down or print; never stored in clear.
    pub recovery_key: RecoveryKey,
    /// `Err` if the key could not be stored in the keyring (the clinic then unlocks with the admin password).
    pub keyring: Result<(), StoreError>,
}

/// The longest clinic name, in characters.
pub const SITE_NAME_MAX: usize = 200;

impl Clinic {
    /// An open clinic over an unlocked store, on the system clock. Printouts a crash left behind are removed.
    pub fn new(vault: Vault, store: Store) -> Self {
        vault.remove_printouts();
        Self { vault, store, clock: Arc::new(SystemClock) }
    }

    /// Opens the clinic with the key from the OS keyring.
    pub fn open(vault: Vault) -> Result<Self, StoreError> {
        let store = vault.open()?;
        Ok(Self::new(vault, store))
    }

    /// Another connection to a clinic this process already has open, for background work (scheduled backups,
    /// checkpoints): unlike `open`, it leaves the printouts folder alone, since the person may be viewing one.
    pub fn open_beside(vault: Vault) -> Result<Self, StoreError> {
        let store = vault.open()?;
        Ok(Self { vault, store, clock: Arc::new(SystemClock) })
    }

    /// The same clinic on another clock (tests move time without sleeping).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// First run: validates everything, then creates the database, the first admin and the recovery key.
    pub fn create(vault: Vault, setup: &Setup) -> Result<Created, Error> {
        let site_name = text::clean(&setup.site_name);
        let admin = NewStaff {
            username: setup.admin_username.clone(),
            display_name: setup.admin_display_name.clone(),
            role: Role::Admin,
            licence_number: None,
            password: setup.admin_password.clone(),
        };
        // Validate against an empty in-memory schema, so nothing touches disk before the form is right.
        let scratch = rusqlite::Connection::open_in_memory()?;
        crate::store::migrate::run(&scratch)?;
        let mut errors = FieldErrors::default();
        errors.absorb(text::check_required("site_name", &site_name, SITE_NAME_MAX));
        let admin = match staff::validate(&scratch, &admin) {
            Ok(clean) => Some(clean),
            Err(Error::Invalid(e)) => {
                errors.0.extend(e.0);
                None
            }
            Err(other) => return Err(other),
        };
        errors.into_result()?;
        let Some(admin) = admin else { return Err(Error::Invalid(FieldErrors::default())) };

        let init = vault.init(&admin.username, admin.password.expose())?;
        let clinic = Clinic::new(vault, init.store);
        tracing::info!(dir = %clinic.vault.dir().display(), "clinic created");
        let now = clinic.now_rfc3339();
        clinic.store.write(|tx| {
            settings::put(tx, settings::SITE_NAME, &site_name)?;
            // Each clinic its own MRNs from the first registration, so two clinics never issue the same ones.
            settings::put(tx, settings::MRN_PREFIX, &crate::mrn::prefix_for(&site_name))?;
            let id = staff::insert(tx, &admin, &now)?;
            audit::record(tx, &now, &Actor::system(), "clinic.create", ("clinic", ""), Outcome::Ok)?;
            audit::record(tx, &now, &Actor::system(), "staff.create", ("staff", &id.to_string()), Outcome::Ok)
        })?;
        Ok(Created { clinic, recovery_key: init.recovery_key, keyring: init.keyring })
    }

    /// The encrypted store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The data folder.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The clinic's clock.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub(crate) fn now_rfc3339(&self) -> String {
        crate::clock::rfc3339(self.now())
    }

    /// Closes the store (it checkpoints on drop) and hands back the folder, e.g. before a restore.
    pub fn close(self) -> (Vault, Store) {
        (self.vault, self.store)
    }

    pub(crate) fn audit(
        &self,
        actor: &Actor,
        action: &str,
        entity: (&str, &str),
        outcome: Outcome,
    ) -> Result<(), Error> {
        let now = self.now_rfc3339();
        self.store.write(|tx| audit::record(tx, &now, actor, action, entity, outcome))
    }

    /// Signs in. Unknown users, disabled users and wrong passwords all get the same answer, and all count
    /// towards the same per-username throttle.
    pub fn login(&self, username: &str, password: &str) -> Result<Session, Error> {
        let now = self.now();
        let conn = self.store.conn();
        if let Some(secs) = throttle::locked_for(conn, username, now)? {
            // Never the typed username: it may be a password typed into the wrong box.
            tracing::warn!(retry_after_secs = secs, "sign-in refused: throttled");
            return Err(Error::Throttled { retry_after_secs: secs });
        }
        let account = staff::find(conn, username)?;
        let member = account.clone().filter(|m| m.active);
        let ok = match &member {
            Some(m) => password::verify(password, &staff::password_hash(conn, m.id)?),
            None => {
                password::verify_dummy(password);
                false
            }
        };
        if !ok {
            // A disabled account is named in the log (an old colleague trying their password matters), though the
            // answer is the same as for anyone.
            return Err(self.count_failure(username, account.as_ref().map(actor_of))?);
        }
        let Some(m) = member else { return Err(Error::WrongCredentials) };
        let actor = actor_of(&m);
        let at = crate::clock::rfc3339(now);
        let new_keys = self.store.write(|tx| {
            throttle::clear(tx, &m.username)?;
            audit::record(tx, &at, &actor, "login.ok", ("staff", &m.id.to_string()), Outcome::Ok)?;
            Ok(crate::signing::table::take_untold(tx, m.id)?)
        })?;
        if m.role == Role::Admin && !m.must_change_password && !self.vault.key_file()?.has_admin_wrap(&m.username) {
            // A new admin, or one whose wrap was dropped by a key rotation: the password is at hand, so wrap now.
            self.vault.set_admin_password(&self.store, &m.username, password)?;
        }
        tracing::info!(user_id = m.id, role = %m.role, "signed in");
        let idle = settings::idle_timeout(&self.store)?.unwrap_or(DEFAULT_IDLE_TIMEOUT);
        let mut session = Session::new(m.id, m.username, m.display_name, m.role, m.must_change_password, now, idle);
        session.new_keys = new_keys
            .into_iter()
            .filter_map(|k| match k.cause {
                crate::signing::KeyCause::AfterReset { by, at } => {
                    Some(NewKeyNotice { made_at: k.created_at, reset_by: by, reset_at: at })
                }
                _ => None,
            })
            .collect();
        Ok(session)
    }

    /// Records a failed password check and returns the error to show: throttled once the limit is reached.
    fn count_failure(&self, username: &str, actor: Option<Actor>) -> Result<Error, Error> {
        let now = self.now();
        let at = crate::clock::rfc3339(now);
        // Only a real account's name goes in the log; whatever else was typed might be a password.
        let actor = actor.unwrap_or(Actor { username: "(unknown)".into(), ..Actor::system() });
        let entity_id = actor.user_id.map(|i| i.to_string()).unwrap_or_default();
        let lockout = self.store.write(|tx| {
            let lockout = throttle::fail(tx, username, now)?;
            audit::record(tx, &at, &actor, "login.fail", ("staff", &entity_id), Outcome::Failed)?;
            if lockout.is_some() {
                audit::record(tx, &at, &actor, "login.lockout", ("staff", &entity_id), Outcome::Failed)?;
            }
            Ok(lockout)
        })?;
        tracing::warn!(known_account = !entity_id.is_empty(), lockout_secs = ?lockout, "sign-in failed");
        Ok(match lockout {
            Some(secs) => Error::Throttled { retry_after_secs: secs },
            None => Error::WrongCredentials,
        })
    }

    /// Writes the audit log's head, signed by the site key, to the anchor file beside the database, unless that
    /// file's anchor shows the log was cut (`audit::anchor`). Galen does it at sign-out, lock and idle lock, and
    /// after each verification, backup and sync run; the app calls it as it closes. A failure is logged, never
    /// fatal: the anchor is evidence kept on the side, and the next checkpoint writes it again.
    pub fn anchor_audit_log(&self) {
        if let Err(e) = anchor::refresh(&self.vault, &self.store, self.now()) {
            tracing::warn!(code = e.code(), "the audit anchor could not be written");
        }
    }

    /// Signs out (audited; the log anchored); printouts left for a viewer go.
    pub fn logout(&self, session: Session) -> Result<(), Error> {
        self.vault.remove_printouts();
        self.audit(&session_actor(&session), "logout", ("staff", &session.user_id.to_string()), Outcome::Ok)?;
        self.anchor_audit_log();
        Ok(())
    }

    /// Locks by hand (Ctrl+L): the signing key and any emergency grants are dropped, printouts left for a viewer
    /// go, and the log is anchored.
    pub fn lock(&self, session: &Session) -> Result<(), Error> {
        Session::lock_state(&mut session.state());
        self.vault.remove_printouts();
        self.audit(&session_actor(session), "session.lock", ("staff", &session.user_id.to_string()), Outcome::Ok)?;
        self.anchor_audit_log();
        Ok(())
    }

    /// Locks the session if it has been idle too long; returns whether it is locked. The UI polls this.
    pub fn check_idle(&self, session: &Session) -> Result<bool, Error> {
        let now = self.now();
        let mut st = session.state();
        if st.locked {
            return Ok(true);
        }
        if now - st.last_activity < st.idle_timeout {
            return Ok(false);
        }
        Session::lock_state(&mut st);
        drop(st);
        self.vault.remove_printouts();
        self.audit(&session_actor(session), "session.autolock", ("staff", &session.user_id.to_string()), Outcome::Ok)?;
        self.anchor_audit_log();
        Ok(true)
    }

    /// Counts user input (typing, clicking) as activity for the idle clock, unless already locked.
    pub fn record_activity(&self, session: &Session) -> Result<(), Error> {
        if self.check_idle(session)? {
            return Err(Error::Locked);
        }
        session.state().last_activity = self.now();
        Ok(())
    }

    /// Unlocks with the user's own password; failures count towards the same throttle as sign-in.
    pub fn unlock(&self, session: &Session, password: &str) -> Result<(), Error> {
        let now = self.now();
        let conn = self.store.conn();
        if let Some(secs) = throttle::locked_for(conn, &session.username, now)? {
            return Err(Error::Throttled { retry_after_secs: secs });
        }
        let member = staff::by_id(conn, session.user_id)?.filter(|m| m.active).ok_or(Error::AccountDisabled)?;
        if !password::verify(password, &staff::password_hash(conn, member.id)?) {
            return Err(self.count_failure(&session.username, Some(actor_of(&member)))?);
        }
        {
            let mut st = session.state();
            st.locked = false;
            st.last_activity = now;
        }
        let at = crate::clock::rfc3339(now);
        self.store.write(|tx| {
            throttle::clear(tx, &member.username)?;
            audit::record(tx, &at, &actor_of(&member), "session.unlock", ("staff", &member.id.to_string()), Outcome::Ok)
        })
    }

    /// Checks a password typed again by a signed-in user (signing, changing it, key operations) under the same
    /// persistent throttle as sign-in: a locked username is refused even with the right password, a wrong one
    /// counts (and is audited), a right one clears the count. `check` says whether the password is right.
    pub(crate) fn recheck_password(
        &self,
        member: &staff::StaffMember,
        check: impl FnOnce() -> Result<bool, Error>,
    ) -> Result<bool, Error> {
        let now = self.now();
        if let Some(secs) = throttle::locked_for(self.store.conn(), &member.username, now)? {
            return Err(Error::Throttled { retry_after_secs: secs });
        }
        let right = check()?;
        let at = crate::clock::rfc3339(now);
        let lockout = self.store.write(|tx| {
            if right {
                throttle::clear(tx, &member.username)?;
                return Ok(None);
            }
            let lockout = throttle::fail(tx, &member.username, now)?;
            let entity = ("staff", member.id.to_string());
            audit::record(tx, &at, &actor_of(member), "password.wrong", (entity.0, &entity.1), Outcome::Failed)?;
            Ok(lockout)
        })?;
        match lockout {
            Some(secs) => Err(Error::Throttled { retry_after_secs: secs }),
            None => Ok(right),
        }
    }

    /// Changes the signed-in user's own password (also the way out of an admin reset).
    pub fn change_own_password(&self, session: &Session, current: &str, new: &str) -> Result<(), Error> {
        self.ensure_unlocked(session)?;
        let conn = self.store.conn();
        let member = staff::by_id(conn, session.user_id)?.filter(|m| m.active).ok_or(Error::AccountDisabled)?;
        let mut errors = FieldErrors::default();
        if !self.recheck_password(&member, || Ok(password::verify(current, &staff::password_hash(conn, member.id)?)))? {
            errors.push("current_password", "This is not your current password.");
        }
        errors.absorb(password::check_policy("new_password", new));
        if current == new {
            errors.push("new_password", "Choose a password different from the current one.");
        }
        errors.into_result()?;
        let now = self.now_rfc3339();
        self.store.write(|tx| {
            staff::set_password_hash(tx, member.id, &password::hash(new), false, &now)?;
            crate::signing::reencrypt(tx, member.id, current, new)?;
            audit::record(
                tx,
                &now,
                &actor_of(&member),
                "staff.password_change",
                ("staff", &member.id.to_string()),
                Outcome::Ok,
            )
        })?;
        session.state().must_change_password = false;
        if member.role == Role::Admin {
            self.vault.set_admin_password(&self.store, &member.username, new)?;
        }
        Ok(())
    }

    /// Re-encrypts the database under a new key and issues a new recovery key (admins only, with their password
    /// again); returns the key, to show and print once. This is also how a lost recovery sheet is replaced:
    /// the old sheet, and any old copy of `galen.keys`, open nothing of today's database.
    pub fn rotate_key(&mut self, session: &Session, password: &str) -> Result<RecoveryKey, Error> {
        let actor = self.authorize(session, Action::KeyRotate, None)?;
        let recovery = self.rekey(session, password)?;
        self.audit(&actor, "key.rotate", ("clinic", ""), Outcome::Ok)?;
        Ok(recovery)
    }

    /// Re-keys the database (see `Vault::rotate_key`) once the signed-in admin's password checks. The caller has
    /// authorized the operation and audits it as `key.rotate`.
    pub(crate) fn rekey(&mut self, session: &Session, password: &str) -> Result<RecoveryKey, Error> {
        self.recheck_admin_password(session, password)?;
        let recovery = self.vault.rotate_key(&mut self.store, &session.username, password)?;
        tracing::info!(user_id = session.user_id, "database key rotated");
        Ok(recovery)
    }

    /// An admin's password typed again for a key operation, checked against their wrap of the database key (what
    /// the operation will use) under the throttle.
    fn recheck_admin_password(&self, session: &Session, password: &str) -> Result<(), Error> {
        let member = staff::by_id(self.store.conn(), session.user_id)?.ok_or(Error::AccountDisabled)?;
        let key_file = self.vault.key_file()?;
        let right =
            self.recheck_password(&member, || match key_file.unwrap_with_admin(&session.username, password) {
                Ok(_) => Ok(true),
                Err(StoreError::WrongAdminPassword) => Ok(false),
                Err(e) => Err(e.into()),
            })?;
        if right {
            Ok(())
        } else {
            Err(StoreError::WrongAdminPassword.into())
        }
    }

    /// Locked or idle sessions may do nothing; a reset password must be changed first.
    fn ensure_unlocked(&self, session: &Session) -> Result<(), Error> {
        if self.check_idle(session)? {
            return Err(Error::Locked);
        }
        Ok(())
    }

    /// The one permission check. Every operation calls it first; it refuses a locked or idle session, a
    /// disabled account and a pending password change, applies the role table and any emergency grant for
    /// `patient`, records denials, and counts as activity for the idle clock.
    pub fn authorize(&self, session: &Session, action: Action, patient: Option<i64>) -> Result<Actor, Error> {
        match self.permits(session, action, patient)? {
            Some(actor) => Ok(actor),
            None => {
                let entity = patient.map(|p| ("patient", p.to_string()));
                let (kind, id) = entity.as_ref().map_or(("action", action.as_str()), |(k, v)| (*k, v.as_str()));
                tracing::warn!(user_id = session.user_id, role = %session.role, action = ?action, "permission denied");
                self.audit(&session_actor(session), "access.denied", (kind, id), Outcome::Denied)?;
                Err(Error::Denied { role: session.role, action })
            }
        }
    }

    /// Like `authorize`, but a plain "no" is `None` and is not logged: for deciding what to show, e.g.
    /// whether a patient's clinical fields appear at all.
    pub fn permits(&self, session: &Session, action: Action, patient: Option<i64>) -> Result<Option<Actor>, Error> {
        self.ensure_unlocked(session)?;
        let member = staff::by_id(self.store.conn(), session.user_id)?.filter(|m| m.active);
        let Some(member) = member else { return Err(Error::AccountDisabled) };
        let now = self.now();
        let mut st = session.state();
        if st.must_change_password {
            return Err(Error::PasswordChangeRequired);
        }
        st.last_activity = now;
        // The role is re-read, so a change by an admin takes effect at once.
        let mut actor = actor_of(&member);
        if permissions::allowed(member.role, action) {
            return Ok(Some(actor));
        }
        st.break_glass.retain(|g| g.until > now);
        let granted = member.role.is_clinician()
            && action.break_glass_eligible()
            && patient.is_some_and(|p| st.break_glass.iter().any(|g| g.patient_id == p));
        actor.break_glass = granted;
        Ok(granted.then_some(actor))
    }
}

pub(crate) fn actor_of(m: &staff::StaffMember) -> Actor {
    Actor { user_id: Some(m.id), username: m.username.clone(), role: Some(m.role), break_glass: false }
}

fn session_actor(s: &Session) -> Actor {
    Actor { user_id: Some(s.user_id), username: s.username.clone(), role: Some(s.role), break_glass: false }
}
