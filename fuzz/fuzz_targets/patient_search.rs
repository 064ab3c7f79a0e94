//! The patient search on whatever is typed: it never fails on the query's text (see `fuzzing::search`).
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    page: u8,
    page_size: u8,
    query: String,
}

fuzz_target!(|input: Input| {
    galen_core::fuzzing::search(&input.query, u32::from(input.page), u32::from(input.page_size));
});
