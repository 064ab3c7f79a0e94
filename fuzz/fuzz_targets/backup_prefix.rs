//! A backup file's magic, header and lengths, read as a restore reads them before decrypting anything.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    galen_core::fuzzing::backup_prefix(data);
});
