//! A FHIR file to import (a Patient, a Bundle or NDJSON), read and mapped to the registration form as an import does.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = time::Date::from_calendar_date(2026, time::Month::June, 1).expect("a date");
    galen_core::fuzzing::fhir_import(data, today);
});
