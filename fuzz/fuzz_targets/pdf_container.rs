//! A PDF from anywhere parsed, its attachments extracted and its pages compared with a real Galen printout's, as
//! `galen verify FILE.pdf` does after checking the signature (`pdf_verify` covers the whole path, far slower).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const REFERENCE: &[u8] = include_bytes!("../corpus/pdf_verify/prescription.pdf");

fn reference() -> &'static lopdf::Document {
    static DOC: OnceLock<lopdf::Document> = OnceLock::new();
    DOC.get_or_init(|| lopdf::Document::load_mem(REFERENCE).expect("the seed printout parses"))
}

fuzz_target!(|data: &[u8]| galen_core::fuzzing::pdf_container(data, reference()));
