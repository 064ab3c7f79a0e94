//! Ways in for the fuzz targets (fuzz/, `cargo fuzz`) to parsers that are not public: built only with the
//! `fuzzing` feature, so the public API stays as it is. Each takes untrusted bytes as they arrive from outside.

use crate::keyfile::KeyFile;
use crate::patients::shared::SharedPatient;
use crate::recovery::RecoveryKey;
use crate::store::Store;
use crate::Sensitive;
use std::cell::RefCell;

/// A fixed recovery key (all zero bits): tried on every key file the targets read.
fn recovery_key() -> RecoveryKey {
    // 32 base32 characters of zero bits; a valid recovery key by construction.
    #[allow(clippy::expect_used)]
    RecoveryKey::parse("AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA").expect("a well-formed recovery key")
}

/// Reads a key file's text as `KeyFile::load` does, and tries the recovery key on it.
pub fn key_file(text: &str) {
    if let Ok(kf) = KeyFile::parse(text) {
        let _ = kf.unwrap_with_recovery(&recovery_key());
    }
}

/// Reads a backup's magic, header and lengths as a restore does before decrypting anything, and tries the
/// recovery key on the key file its header carries.
pub fn backup_prefix(bytes: &[u8]) {
    crate::backup::fuzz_prefix(bytes, &recovery_key());
}

/// Reads a patient record as it arrives from another site and validates it as sync does.
pub fn shared_patient(json: &[u8], today: time::Date) {
    if let Ok(p) = serde_json::from_slice::<SharedPatient>(json) {
        if let Ok(clean) = p.validated(today) {
            // Validation is idempotent: a cleaned record passes again, unchanged.
            assert_eq!(clean.validated(today).as_ref(), Ok(&clean), "a validated record validates to itself");
        }
    }
}

thread_local! {
    static SEARCH: RefCell<Option<(tempfile::TempDir, Store)>> = const { RefCell::new(None) };
}

/// Runs the patient search on an empty database with Galen's schema. Whatever is typed, the search answers (it
/// never fails on the query's text).
pub fn search(query: &str, page: u32, page_size: u32) {
    SEARCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        #[allow(clippy::expect_used)]
        let (_, store) = slot.get_or_insert_with(|| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let store = Store::create(&dir.path().join("fuzz.db"), Sensitive::new([7u8; 32]), "fuzz")
                .expect("a fresh database");
            (dir, store)
        });
        if let Err(e) = crate::patients::search::run(store.conn(), query, page, page_size) {
            panic!("the search failed on {query:?}: {e}");
        }
    });
}

/// The hostile half of `verify_file` without drawing the document again (which costs ~100 ms an input and would
/// keep a long run from ever finishing): the PDF parsed, its attachments extracted, and its pages compared with
/// `reference`'s, as a verification compares them with the redrawn ones.
pub fn pdf_container(printed: &[u8], reference: &lopdf::Document) {
    if printed.len() > crate::pdf::MAX_PDF_BYTES {
        return;
    }
    let Ok(doc) = lopdf::Document::load_mem(printed) else { return };
    let _ = crate::pdf::attach::extract_from(&doc);
    let _ = crate::pdf::fuzz_same_pages(&doc, reference);
    // Both ways round: the walk must be as calm when the hostile file is the one it follows.
    let _ = crate::pdf::fuzz_same_pages(reference, &doc);
}

/// Reads a FHIR file as an import does (a Patient, a Bundle or NDJSON) and maps each Patient to the registration
/// form, then through the form's checks: whatever the file holds, an answer or a clear refusal, never a panic.
pub fn fhir_import(bytes: &[u8], today: time::Date) {
    crate::fhir::fuzz_read(bytes, today);
}
