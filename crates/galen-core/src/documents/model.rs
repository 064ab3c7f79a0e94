//! The documents' fields (after GNU Health 5). These structs are serialized into the signed canonical bytes:
//! do not change: it is signed. Add a new schema version instead.

use crate::value_list::value_list;
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
    /// A [`Manner`].
    pub manner: String,
    /// A [`Place`].
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

value_list! {
    /// A prescription line's dose unit.
    pub enum DoseUnit {
        Mg = "mg", G = "g", Mcg = "mcg", Ml = "mL", Iu = "IU", Tablet = "tablet", Capsule = "capsule", Drop = "drop",
        Puff = "puff", Unit = "unit",
    }
}

value_list! {
    /// "Every N hours/days/weeks".
    pub enum FrequencyUnit { Hours = "hours", Days = "days", Weeks = "weeks" }
}

value_list! {
    /// "For N days/weeks/months".
    pub enum DurationPeriod { Days = "days", Weeks = "weeks", Months = "months" }
}

value_list! {
    /// The manner of death (after GNU Health).
    pub enum Manner {
        Natural = "natural", Suicide = "suicide", Homicide = "homicide", Undetermined = "undetermined",
        PendingInvestigation = "pending_investigation",
    }
}

value_list! {
    /// Where a death happened.
    pub enum Place { Home = "home", Work = "work", PublicPlace = "public_place", HealthCenter = "health_center" }
}

value_list! {
    /// How long an underlying condition had lasted.
    pub enum IntervalUnit {
        Minutes = "minutes", Hours = "hours", Days = "days", Weeks = "weeks", Months = "months", Years = "years",
    }
}

/// Something a doctor must acknowledge before signing a prescription. The front ends word it (the CLI through
/// `Display`, the app in the reader's language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Warning {
    /// A recorded allergy matches a prescribed medicine by name or by drug class.
    Allergy { substance: String, severity: String, medicament: String },
    /// The patient is recorded as pregnant.
    Pregnancy,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Allergy { substance, severity, medicament } => {
                write!(f, "Allergy: the patient is allergic to {substance} ({severity}); {medicament} is prescribed.")
            }
            Warning::Pregnancy => f.write_str(
                "Pregnancy: the patient is recorded as pregnant; check each medicine's safety in pregnancy.",
            ),
        }
    }
}

/// Why a signed document does not verify. The front ends word it (the CLI through `Display`, the app in the
/// reader's language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Problem {
    /// It is marked signed, but its signature data is missing.
    SignatureMissing,
    /// Its stored fields cannot be read back.
    Unreadable,
    /// Its kind was changed after signing.
    KindChanged,
    /// It is attached to a different patient than the one it was signed for.
    OtherPatient,
    /// Its stored fields no longer match the bytes that were signed.
    FieldsChanged,
    /// The signer's key is not on file.
    KeyMissing,
    /// The signed bytes are not a Galen document.
    NotAGalenDocument,
    /// The signed bytes name another signing key than the one that signed them.
    OtherSigner,
    /// The signature does not match the bytes (the OpenPGP library's own words follow).
    BadSignature(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::SignatureMissing => f.write_str("signed, but its signature data is missing"),
            Problem::Unreadable => f.write_str("its stored fields cannot be read"),
            Problem::KindChanged => f.write_str("its kind was changed after signing"),
            Problem::OtherPatient => {
                f.write_str("it is attached to a different patient than the one it was signed for")
            }
            Problem::FieldsChanged => f.write_str("its stored fields no longer match the bytes that were signed"),
            Problem::KeyMissing => f.write_str("the signer's key is not on file"),
            Problem::NotAGalenDocument => f.write_str("the signed file is not a Galen document"),
            Problem::OtherSigner => f.write_str("the document names a different signing key"),
            Problem::BadSignature(why) => f.write_str(why),
        }
    }
}

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

/// Everything a signature covers, serialized as RFC 8785 (JCS) canonical JSON ([`Canonical::bytes`]). Do not
/// change: it is signed.
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

impl Canonical<'_> {
    /// The RFC 8785 canonical JSON that a signature covers.
    pub fn bytes(&self) -> Vec<u8> {
        // Strings, numbers, booleans and lists of them always serialize.
        serde_jcs::to_vec(self).unwrap_or_default()
    }
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
