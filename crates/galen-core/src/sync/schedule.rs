//! When the app syncs by itself: every couple of minutes, longer after failures, and no sooner than a busy
//! partner asked.

use super::table;
use crate::clinic::Clinic;
use crate::error::Error;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// How often the app syncs by itself.
pub const BACKGROUND_EVERY: Duration = Duration::from_secs(120);
/// The longest the app waits between runs, whatever happened (also the longest a busy partner is obeyed).
pub(super) const BACKGROUND_LONGEST: Duration = Duration::from_secs(3600);

/// How long the app's background task waits before its next run: [`BACKGROUND_EVERY`], doubled for each failed
/// run in a row (counted in the database, so a restart does not hammer an unreachable partner), at most an hour;
/// and at least until the time a busy partner gave (HTTP 429, `Retry-After`), also kept in the database.
pub fn background_wait(clinic: &Clinic) -> Result<Duration, Error> {
    let state = table::run_state(clinic.store().conn())?;
    let backoff = BACKGROUND_EVERY.saturating_mul(1 << state.failures.min(6)).min(BACKGROUND_LONGEST);
    let until = state.busy_until.and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok());
    // A time already past (or a clock set back) asks for no wait.
    let asked = until.and_then(|at| Duration::try_from(at - clinic.now()).ok()).unwrap_or_default();
    Ok(backoff.max(asked.min(BACKGROUND_LONGEST)))
}
