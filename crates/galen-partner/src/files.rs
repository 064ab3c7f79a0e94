//! Files the partner writes hold secrets (its database, its keys), so they are owner-only from their first byte:
//! created with mode 0600 in the call that creates them (`create_new`, so an existing file never lends its own
//! mode), never created loose and tightened afterwards, and errors are never ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Owner read and write, nothing for anyone else.
pub const OWNER_ONLY: u32 = 0o600;

/// Creates an empty file at `path` with `mode`, unless something is already there. Whether it created one.
pub fn create_new(path: &Path, mode: u32) -> std::io::Result<bool> {
    match options(mode).open(path) {
        Ok(file) => {
            file.sync_all()?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Takes group and other permissions away from `path` if it has any (files made by earlier versions); a
/// missing file is fine.
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = match std::fs::metadata(path) {
            Ok(m) => m.permissions().mode(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

/// Writes a file whole or not at all: a new temporary file (any leftover of a crash is removed first, so its
/// mode is never reused) created with `mode`, fsynced, renamed over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let temp = write_temporary(path, bytes, mode)?;
    std::fs::rename(&temp, path)?;
    sync_folder(path)
}

/// Writes a new file whole or not at all, never over an existing one: as [`write_atomically`], but the temporary
/// file is linked to `path` (which fails if `path` exists) rather than renamed over it.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let temp = write_temporary(path, bytes, mode)?;
    let linked = std::fs::hard_link(&temp, path);
    std::fs::remove_file(&temp)?;
    linked?;
    sync_folder(path)
}

/// Writes `bytes` to a new `<path>.new` created with `mode`, and fsyncs it.
fn write_temporary(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<PathBuf> {
    let temp = temporary(path);
    match std::fs::remove_file(&temp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = options(mode).open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(temp)
}

/// A rename or a link survives a crash once its folder is synced.
fn sync_folder(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// `<path>.new`, the name a file is written under before it replaces `path`.
pub fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

fn options(mode: u32) -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options
}
