//! `fhir`: the record in HL7 FHIR R4, for hospitals, registries and the patient's own copy. `export`: one signed
//! International Patient Summary per patient, or every patient as NDJSON; `import`: patients (with allergies and
//! conditions) from a Patient, a Bundle or NDJSON, checked as the registration form checks them and written in one
//! go. `model`: the typed subset of FHIR both use. docs/fhir.md maps every field.

mod export;
mod import;
mod model;

pub use export::{
    bulk, patient_summary, record_copy, record_copy_name, verify_bundle, Bulk, RecordCopy, Summary, SIG_FORMAT,
};
pub use import::{import, plan, Imported, Plan, Planned, Verdict, MAX_IMPORT_BYTES};

/// For the `fhir_import` fuzz target.
#[cfg(feature = "fuzzing")]
pub(crate) use import::fuzz_read;
