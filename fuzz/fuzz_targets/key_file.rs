//! The key file beside the database, read as `KeyFile::load` reads it; the recovery key tried on it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        galen_core::fuzzing::key_file(text);
    }
});
