//! Log lines: what Galen did and how it went, for whoever looks after the machine. Never who the patient is,
//! never a password, a key or a recovery key: events carry ids, counts, versions and error codes, not names or
//! free text (a test runs the real CLI at the most verbose level and searches its log for every secret and
//! name it typed).
//!
//! The app and the CLI write to `<data>/logs/galen.log.YYYY-MM-DD`, one file a day, the newest
//! [`KEEP_DAYS`] kept, in a folder only the owner reads. `GALEN_LOG` sets the levels (`tracing` filter syntax,
//! e.g. `debug` or `galen_core=debug,warn`; default `info`).

use crate::error::{Result, StoreError};
use crate::vault::{create_private_dir, Vault};
use tracing_subscriber::EnvFilter;

/// The environment variable that sets which log lines are written.
pub const LOG_ENV: &str = "GALEN_LOG";
/// How many daily log files are kept.
pub const KEEP_DAYS: usize = 14;

/// The levels `GALEN_LOG` asks for, `info` if unset or unreadable.
pub fn filter() -> EnvFilter {
    EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Sends this process's log lines to the clinic's data folder, if that folder exists (a mistyped `--data-dir`
/// creates nothing). Call once, at start; later calls do nothing.
pub fn to_data_folder(vault: &Vault) -> Result<()> {
    if !vault.dir().is_dir() {
        return Ok(());
    }
    let dir = vault.logs_dir();
    create_private_dir(&dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("galen.log")
        .max_log_files(KEEP_DAYS)
        .build(&dir)
        .map_err(|e| StoreError::Io { action: "open the log in", path: dir, source: std::io::Error::other(e) })?;
    let _already =
        tracing_subscriber::fmt().with_env_filter(filter()).with_writer(appender).with_ansi(false).try_init();
    Ok(())
}
