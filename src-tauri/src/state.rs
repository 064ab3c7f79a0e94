//! What the shell holds between calls: the data folder, the open clinic and the signed-in session. Every rule
//! about them lives in galen-core; this only keeps them, opens and closes them, and hands them to the commands.

use crate::commands::clinic::{AppStatus, SetupDone, Stage};
use crate::error::ApiError;
use galen_core::backup::{self, RestoreBy};
use galen_core::clinic::Setup;
use galen_core::session::SessionInfo;
use galen_core::settings::{self, Language};
use galen_core::{Clinic, Error, RecoveryKey, Session, Store, StoreError, Vault};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Cheap to clone: clones share the same clinic and session (the background sync task holds one).
#[derive(Debug, Clone)]
pub struct AppState {
    pub vault: Vault,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    clinic: Option<Clinic>,
    session: Option<Session>,
    /// The partner's pairing file the admin last chose and saw previewed (public data), for pairing.
    pairing_file: Option<String>,
    /// The folder the admin last chose for scheduled backups, for saving the schedule.
    backup_folder: Option<PathBuf>,
    /// The FHIR file last previewed for import (patient data: forgotten after the import, a cancel or sign-out).
    import_file: Option<Vec<u8>>,
}

fn not_open() -> ApiError {
    ApiError::new("not_open", "The clinic database is not open yet.")
}

fn not_signed_in() -> ApiError {
    ApiError::new("not_signed_in", "Please sign in.")
}

impl AppState {
    pub fn new(vault: Vault) -> Self {
        Self { vault, inner: Arc::new(Mutex::new(Inner::default())) }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the open clinic, signed in or not.
    pub fn with_clinic<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, ApiError> {
        let inner = self.lock();
        let clinic = inner.clinic.as_ref().ok_or_else(not_open)?;
        Ok(f(clinic)?)
    }

    /// Runs `f` as the signed-in user; galen-core decides whether they may.
    pub fn with_session<T>(&self, f: impl FnOnce(&Clinic, &Session) -> Result<T, Error>) -> Result<T, ApiError> {
        let inner = self.lock();
        let clinic = inner.clinic.as_ref().ok_or_else(not_open)?;
        let session = inner.session.as_ref().ok_or_else(not_signed_in)?;
        Ok(f(clinic, session)?)
    }

    /// The same with the clinic mutable, for the operations that re-key the database.
    pub fn with_session_mut<T>(
        &self,
        f: impl FnOnce(&mut Clinic, &Session) -> Result<T, Error>,
    ) -> Result<T, ApiError> {
        let inner = &mut *self.lock();
        let clinic = inner.clinic.as_mut().ok_or_else(not_open)?;
        let session = inner.session.as_ref().ok_or_else(not_signed_in)?;
        Ok(f(clinic, session)?)
    }

    /// Keeps the pairing file the admin chose and saw previewed, for `sync_pair`.
    pub fn keep_pairing_file(&self, text: String) {
        self.lock().pairing_file = Some(text);
    }

    /// Keeps the folder the admin chose in the shell's dialog, for `backup_schedule_set`.
    pub fn keep_backup_folder(&self, folder: PathBuf) {
        self.lock().backup_folder = Some(folder);
    }

    /// The folder kept by `keep_backup_folder`.
    pub fn kept_backup_folder(&self) -> Option<PathBuf> {
        self.lock().backup_folder.clone()
    }

    /// Forgets the folder kept by `keep_backup_folder` (saved, or the schedule stopped).
    pub fn forget_backup_folder(&self) {
        self.lock().backup_folder = None;
    }

    /// Keeps the FHIR file the person chose and saw previewed, for `record_import`.
    pub fn keep_import_file(&self, bytes: Vec<u8>) {
        self.lock().import_file = Some(bytes);
    }

    /// The file kept by `keep_import_file`.
    pub fn kept_import_file(&self) -> Option<Vec<u8>> {
        self.lock().import_file.clone()
    }

    pub fn forget_import_file(&self) {
        self.lock().import_file = None;
    }

    /// The pairing file kept by `keep_pairing_file`.
    pub fn kept_pairing_file(&self) -> Option<String> {
        self.lock().pairing_file.clone()
    }

    /// Which screen to show; opens the clinic through the keyring the first time it is asked.
    pub fn status(&self) -> Result<AppStatus, ApiError> {
        let mut inner = self.lock();
        let status =
            |stage, problem| AppStatus { stage, problem, site_name: None, language: Language::En, session: None };
        if inner.clinic.is_none() {
            if !self.vault.is_initialized() {
                return Ok(status(Stage::Setup, None));
            }
            match Clinic::open(self.vault.clone()) {
                Ok(clinic) => inner.clinic = Some(clinic),
                Err(
                    e @ (StoreError::KeyMissing { .. } | StoreError::KeyringUnavailable { .. } | StoreError::WrongKey),
                ) => {
                    return Ok(status(Stage::Unlock, Some(e.into())));
                }
                Err(e) => return Ok(status(Stage::Error, Some(e.into()))),
            }
        }
        let clinic = inner.clinic.as_ref().ok_or_else(not_open)?;
        let settings = settings::load(clinic.store()).map_err(ApiError::from)?;
        let session = match &inner.session {
            Some(s) => {
                clinic.check_idle(s)?;
                Some(s.info().into())
            }
            None => None,
        };
        let stage = if session.is_some() { Stage::Ready } else { Stage::Login };
        let language = Language::parse(&settings.language).unwrap_or(Language::En);
        Ok(AppStatus { stage, problem: None, site_name: Some(settings.site_name), language, session })
    }

    /// First run: creates the clinic and keeps it open.
    pub fn create(&self, setup: &Setup) -> Result<SetupDone, ApiError> {
        let mut inner = self.lock();
        let created = Clinic::create(self.vault.clone(), setup)?;
        let done = SetupDone::from(&created);
        inner.clinic = Some(created.clinic);
        Ok(done)
    }

    /// Keeps a store unlocked without the keyring (admin password or recovery key) as the open clinic.
    pub fn opened(&self, store: Store) {
        self.lock().clinic = Some(Clinic::new(self.vault.clone(), store));
    }

    pub fn login(&self, username: &str, password: &str) -> Result<SessionInfo, ApiError> {
        let mut inner = self.lock();
        let clinic = inner.clinic.as_ref().ok_or_else(not_open)?;
        let session = clinic.login(username, password)?;
        let info = session.info();
        inner.session = Some(session);
        Ok(info)
    }

    pub fn logout(&self) -> Result<(), ApiError> {
        let inner = &mut *self.lock();
        inner.import_file = None;
        if let (Some(clinic), Some(session)) = (inner.clinic.as_ref(), inner.session.take()) {
            clinic.logout(session)?;
        }
        Ok(())
    }

    /// The signed-in session as galen-core sees it now (locking it if it idled out), if anyone is signed in.
    pub fn session_info(&self) -> Result<Option<SessionInfo>, ApiError> {
        let inner = self.lock();
        match (inner.clinic.as_ref(), inner.session.as_ref()) {
            (Some(clinic), Some(session)) => {
                clinic.check_idle(session)?;
                Ok(Some(session.info()))
            }
            _ => Ok(None),
        }
    }

    /// Restores a backup over the open clinic as the signed-in admin. Whatever happens, the session ends (a
    /// restore replaces the accounts too) and the clinic is closed; the UI reopens it.
    pub fn restore(&self, path: &Path, key: Option<&RecoveryKey>) -> Result<(), ApiError> {
        let mut inner = self.lock();
        let clinic = inner.clinic.take().ok_or_else(not_open)?;
        let Some(session) = inner.session.take() else {
            inner.clinic = Some(clinic);
            return Err(not_signed_in());
        };
        backup::restore(&self.vault, path, RestoreBy::Admin { clinic, session: &session }, key)?;
        Ok(())
    }
}

/// Sync reaches the clinic one short step at a time, so its network waits never hold the lock.
impl galen_core::sync::Db for AppState {
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error> {
        let inner = self.lock();
        let clinic = inner.clinic.as_ref().ok_or(Error::Sync(galen_core::error::SyncFailure::ClinicClosed))?;
        f(clinic)
    }
}
