//! What the shell holds between calls: the data folder, the open clinic and the signed-in session. Every rule
//! about them lives in galen-core; this only keeps them and hands them to the commands.

use crate::error::ApiError;
use galen_core::{Clinic, Error, Session, Vault};
use std::sync::{Arc, Mutex, MutexGuard};

/// Cheap to clone: clones share the same clinic and session (the background sync task holds one).
#[derive(Debug, Clone)]
pub struct AppState {
    pub vault: Vault,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
pub struct Inner {
    pub clinic: Option<Clinic>,
    pub session: Option<Session>,
}

impl AppState {
    pub fn new(vault: Vault) -> Self {
        Self { vault, inner: Arc::new(Mutex::new(Inner::default())) }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
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
        let session = inner.session.as_ref().ok_or_else(|| ApiError::new("not_signed_in", "Please sign in."))?;
        Ok(f(clinic, session)?)
    }
}

/// Sync reaches the clinic one short step at a time, so its network waits never hold the lock.
impl galen_core::sync::Db for AppState {
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error> {
        let inner = self.lock();
        let clinic = inner.clinic.as_ref().ok_or_else(|| Error::Sync(galen_core::error::SyncFailure::ClinicClosed))?;
        f(clinic)
    }
}

fn not_open() -> ApiError {
    ApiError::new("not_open", "The clinic database is not open yet.")
}
