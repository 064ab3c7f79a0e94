//! A patient record as it arrives from another site (JSON), validated as sync validates it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = time::Date::from_calendar_date(2026, time::Month::June, 1).expect("a date");
    galen_core::fuzzing::shared_patient(data, today);
});
