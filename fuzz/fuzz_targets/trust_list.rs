//! A clinic's trust list (cleartext-signed JSON), read and checked with the site key it carries.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = galen_core::documents::trust::CheckedList::read(text);
    }
});
