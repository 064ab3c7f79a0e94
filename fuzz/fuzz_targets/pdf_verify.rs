//! `galen verify FILE.pdf`: a PDF's attachments read, checked and its pages drawn again, with and without a key.
#![no_main]
use libfuzzer_sys::fuzz_target;

const DOCTOR: &str = include_str!("../keys/doctor.asc");

fuzz_target!(|data: &[u8]| {
    let _ = galen_core::pdf::verify_file(data, Some(DOCTOR));
    let _ = galen_core::pdf::verify_file(data, None);
});
