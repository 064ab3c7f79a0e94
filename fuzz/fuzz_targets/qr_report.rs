//! QR text (GALEN1 and GALEN2), parsed and verified against a doctor's key, as a pharmacist's scan is.
#![no_main]
use libfuzzer_sys::fuzz_target;

const DOCTOR: &str = include_str!("../keys/doctor.asc");

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = galen_core::documents::qr::report(text, &[DOCTOR]);
    }
});
