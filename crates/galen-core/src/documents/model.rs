//! The documents' fields (after GNU Health 5). These structs are serialized into the signed canonical bytes:
//! do not change: it is signed. Add a new schema version instead.

use serde::{Deserialize, Serialize};

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    Prescription(Prescription),
    Birth(BirthCertificate),
    Death(DeathCertificate),
    SickLeave(SickLeave),
    Void(VoidNotice),
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Prescription(_) => "prescription",
            Body::Birth(_) => "birth",
            Body::Death(_) => "death",
            Body::SickLeave(_) => "sick_leave",
            Body::Void(_) => "void",
        }
    }

    /// The versioned schema name written into the signed bytes.
    pub fn schema(&self) -> &'static str {
        match self {
            Body::Prescription(_) => "galen.prescription.v1",
            Body::Birth(_) => "galen.birth_certificate.v1",
            Body::Death(_) => "galen.death_certificate.v1",
            Body::SickLeave(_) => "galen.sick_leave.v1",
            Body::Void(_) => "galen.void_notice.v1",
        }
    }
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Prescription {
    /// `YYYY-MM-DD`.
    pub issued_on: String,
    pub pharmacy: String,
    pub notes: String,
    pub lines: Vec<RxLine>,
}

/// One medicine on a prescription. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RxLine {
    pub medicament: String,
    pub indication: String,
    /// A decimal number as text, e.g. "500" or "2.5", so the signed bytes never depend on float printing.
    pub dose: String,
    pub dose_unit: String,
    pub route: String,
    pub form: String,
    pub quantity: u32,
    /// Every `frequency` `frequency_unit`; ignored when `prn`.
    pub frequency: u32,
    pub frequency_unit: String,
    /// As needed.
    pub prn: bool,
    pub duration: u32,
    pub duration_period: String,
    pub refills: u32,
    pub allow_substitution: bool,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    pub comment: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BirthCertificate {
    pub mother_name: String,
    pub father_name: String,
    /// Must equal the patient's recorded date of birth.
    pub date_of_birth: String,
    pub country: String,
    pub subdivision: String,
    pub institution: String,
    pub observations: String,
    pub certified_on: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnderlyingCondition {
    pub condition: String,
    pub interval: u32,
    pub unit: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeathCertificate {
    /// `YYYY-MM-DDTHH:MM`, local time of the clinic.
    pub died_at: String,
    pub immediate_cause: String,
    pub underlying_conditions: Vec<UnderlyingCondition>,
    /// One of `MANNERS`.
    pub manner: String,
    /// One of `PLACES`.
    pub place: String,
    pub place_details: String,
    pub autopsy: bool,
    pub country: String,
    pub subdivision: String,
    pub institution: String,
    pub observations: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SickLeave {
    pub unfit_from: String,
    pub unfit_to: String,
    pub restrictions: String,
    /// Printed only with the patient's recorded consent.
    pub diagnosis: String,
    pub diagnosis_consent: bool,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VoidNotice {
    /// The UUID of the signed document this notice voids.
    pub voids: String,
    pub reason: String,
}

pub const DOSE_UNITS: [&str; 10] = ["mg", "g", "mcg", "mL", "IU", "tablet", "capsule", "drop", "puff", "unit"];
pub const FREQUENCY_UNITS: [&str; 3] = ["hours", "days", "weeks"];
pub const DURATION_PERIODS: [&str; 3] = ["days", "weeks", "months"];
pub const MANNERS: [&str; 5] = ["natural", "suicide", "homicide", "undetermined", "pending_investigation"];
pub const PLACES: [&str; 4] = ["home", "work", "public_place", "health_center"];
pub const INTERVAL_UNITS: [&str; 6] = ["minutes", "hours", "days", "weeks", "months", "years"];

/// What the signed bytes say about the patient, taken at signing. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSnapshot {
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: String,
}

/// Who signed, as written into the signed bytes. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerSnapshot {
    pub name: String,
    pub licence: String,
    pub fingerprint: String,
}

/// Everything a signature covers, serialized as RFC 8785 (JCS) canonical JSON. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canonical<'a> {
    pub schema: &'static str,
    pub document: &'a str,
    pub clinic: &'a str,
    pub patient: &'a PatientSnapshot,
    pub signer: &'a SignerSnapshot,
    pub signed_at: &'a str,
    pub supersedes: Option<&'a str>,
    pub body: &'a Body,
}

/// A signed document read back from its canonical JSON, as someone holding only the bytes, the signature and
/// the doctor's public key sees it (`documents::check_signed`). The body stays JSON until asked for: a newer
/// Galen's schema still shows who signed what and when.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Signed {
    pub schema: String,
    pub document: String,
    pub clinic: String,
    pub patient: PatientSnapshot,
    pub signer: SignerSnapshot,
    pub signed_at: String,
    pub supersedes: Option<String>,
    body: serde_json::Value,
}

impl Signed {
    /// The body, if it is one this version of Galen knows.
    pub fn body(&self) -> Option<Body> {
        serde_json::from_value(self.body.clone()).ok()
    }
}
