//! Files Galen writes for a person outside its data folder: printouts and exports. The ground floor, so that
//! any room may write one without importing another.

use crate::error::Error;
use std::path::Path;

/// Writes a file only its owner can read (printouts and exports hold patient data or the recovery key), fsynced;
/// a file cut short (a full disk) is removed rather than left looking whole.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(crate::error::io("write", path))?;
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        // A half-written printout (a full disk) is not left behind to be mistaken for the whole.
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(crate::error::io("write", path)(e).into());
    }
    Ok(())
}
