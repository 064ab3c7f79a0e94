//! A partner's or a clinic's pairing file, read and its safety number compared with what a person typed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(file) = galen_proto::pairing::PairingFile::read(text) {
            let _ = file.confirms("12345 67890 12345 67890");
        }
    }
});
