//! A signed document's canonical JSON (`documents::Signed`), read and checked against its detached signature
//! and the doctor's key, as `galen verify` and a received document are. Input: the JSON, then optionally a NUL
//! byte and the armored signature to try (the seed's real signature otherwise).
#![no_main]
use libfuzzer_sys::fuzz_target;

const DOCTOR: &str = include_str!("../keys/doctor.asc");
const SIGNATURE: &str = include_str!("../keys/doctor-signature.asc");

fuzz_target!(|data: &[u8]| {
    let (json, signature) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], std::str::from_utf8(&data[at + 1..]).unwrap_or(SIGNATURE)),
        None => (data, SIGNATURE),
    };
    let _ = serde_json::from_slice::<galen_core::documents::Signed>(json);
    let _ = galen_core::documents::check_signed(json, signature, DOCTOR);
});
