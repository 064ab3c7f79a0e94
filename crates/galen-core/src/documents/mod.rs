//! `documents`: prescriptions, birth, death and sick-leave certificates, and void notices. A document is a
//! draft until a doctor signs it; then it is immutable. The signature is a detached OpenPGP signature over the
//! RFC 8785 canonical JSON of a versioned schema (`model::Canonical`). Verification rebuilds those bytes from
//! the stored columns, so changing any stored field breaks it.
//!
//! One room per job: `model.rs` (the signed fields and value lists), `table.rs` (the `documents` table),
//! `drafts.rs` (start, edit, correct; warnings), `sign.rs` (sign, void), `verify.rs` (the one reader of a signed
//! row, and the offline check), `view.rs` (what a screen shows, in one call), `export.rs` (files, public keys,
//! sharing), `qr/` (the printed QR: its formats and the field listing a verifier shows), `wording.rs` (how the
//! paper words values), `validate.rs` (field rules), `formulary.rs` (medicine names), `keys.rs` (doctors' keys:
//! standing, revocation, the trust list), `trust.rs` (reading trust lists) and `trust_lists.rs` (the lists this
//! computer imported).

mod drafts;
mod export;
pub mod formulary;
pub mod keys;
pub(crate) mod model;
pub mod qr;
mod sign;
pub(crate) mod table;
pub mod trust;
pub mod trust_lists;
pub mod validate;
mod verify;
mod view;
pub mod wording;

pub use drafts::{correct, create_draft, update_draft};
pub use export::{doctor_public_key, export, Exported, SharedDocument};
pub use model::*;
pub use sign::{sign, void};
pub use table::Document;
pub use verify::{check_signed, Verification};
pub use view::{list_for_patient, open, worklist, DocumentView, Worklist};

pub(crate) use export::shared_signed;
#[cfg(feature = "dev")]
pub(crate) use sign::qr_texts;
pub(crate) use verify::{signed_parts, SignedParts};

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies() -> Vec<Body> {
        vec![
            Body::Prescription(Prescription {
                issued_on: "2026-11-21".into(),
                pharmacy: "Farmácia Central".into(),
                notes: String::new(),
                lines: vec![RxLine {
                    medicament: "Amoxicillin 500 mg capsule".into(),
                    indication: "Otitis media".into(),
                    dose: "500".into(),
                    dose_unit: "mg".into(),
                    route: "by mouth".into(),
                    form: "capsule".into(),
                    quantity: 21,
                    frequency: 8,
                    frequency_unit: "hours".into(),
                    prn: false,
                    duration: 7,
                    duration_period: "days".into(),
                    refills: 0,
                    allow_substitution: true,
                    valid_until: "2026-12-21".into(),
                    comment: "Take with food".into(),
                }],
            }),
            Body::Birth(BirthCertificate {
                mother_name: "Maria Müller".into(),
                father_name: "Jürgen Müller".into(),
                date_of_birth: "2026-11-20".into(),
                country: "DE".into(),
                subdivision: "Bayern".into(),
                institution: "Clínica Sol".into(),
                observations: String::new(),
                certified_on: "2026-11-21".into(),
            }),
            Body::Death(DeathCertificate {
                died_at: "2026-11-20T23:15".into(),
                immediate_cause: "Pneumonia".into(),
                underlying_conditions: vec![UnderlyingCondition {
                    condition: "COPD".into(),
                    interval: 10,
                    unit: "years".into(),
                }],
                manner: "natural".into(),
                place: "health_center".into(),
                place_details: "Ward 3".into(),
                autopsy: false,
                country: "PT".into(),
                subdivision: "Lisboa".into(),
                institution: "Clínica Sol".into(),
                observations: String::new(),
            }),
            Body::SickLeave(SickLeave {
                unfit_from: "2026-11-21".into(),
                unfit_to: "2026-11-28".into(),
                restrictions: "No lifting over 5 kg".into(),
                diagnosis: String::new(),
                diagnosis_consent: false,
            }),
            Body::Void(VoidNotice {
                voids: "01a1fd6f-e9de-726b-865f-f92e56b1a898".into(),
                reason: "Wrong patient".into(),
            }),
        ]
    }

    /// The signed bytes never drift: a change here breaks every signature already given.
    /// Regenerate only for a new schema version: `GALEN_WRITE_GOLDEN=1 cargo test -p galen-core golden`.
    #[test]
    fn canonical_json_matches_the_golden_files() {
        let patient = PatientSnapshot {
            mrn: "SOL-0000042K".into(),
            given_names: "Ana Maria".into(),
            family_name: "Albuquerque".into(),
            date_of_birth: "1980-02-29".into(),
        };
        let signer = SignerSnapshot {
            name: "Dr Rui Costa".into(),
            licence: "CRM-12345".into(),
            fingerprint: "F640CCB3D1DF050F885747825A0D5C65D30AF5BB".into(),
        };
        for body in bodies() {
            let bytes = Canonical {
                schema: body.schema(),
                document: "01a1fd7c-952c-7132-a41d-b511a550bac2",
                clinic: "Clínica Sol",
                patient: &patient,
                signer: &signer,
                signed_at: "2026-11-21T10:00:00.000Z",
                supersedes: None,
                body: &body,
            }
            .bytes();
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("src/documents/golden/{}.json", body.kind()));
            if std::env::var_os("GALEN_WRITE_GOLDEN").is_some() {
                std::fs::write(&path, &bytes).expect("write golden");
            }
            let golden = std::fs::read(&path).expect("golden file exists");
            assert_eq!(String::from_utf8_lossy(&bytes), String::from_utf8_lossy(&golden), "{} drifted", body.kind());
        }
    }
}
