//! The documents' fields (after GNU Health 5). These structs are serialized into the signed canonical bytes:
//! do not change: it is signed. Add a new schema version instead.

use crate::value_list::value_list;
use serde::{Deserialize, Serialize};

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A prescription.
    Prescription(Prescription),
    /// A birth certificate.
    Birth(BirthCertificate),
    /// A death certificate.
    Death(DeathCertificate),
    /// A sick-leave certificate.
    SickLeave(SickLeave),
    /// A signed notice voiding another document.
    Void(VoidNotice),
}

impl Body {
    /// The kind as stored and shown: `prescription`, `birth`, `death`, `sick_leave` or `void`.
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
    /// The pharmacy it is meant for, if any.
    pub pharmacy: String,
    /// Free notes for the pharmacist.
    pub notes: String,
    /// The medicines, in order.
    pub lines: Vec<RxLine>,
}

/// One medicine on a prescription. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RxLine {
    /// The medicine, with strength and form if given.
    pub medicament: String,
    /// What it is for.
    pub indication: String,
    /// A decimal number as text, e.g. "500" or "2.5", so the signed bytes never depend on float printing.
    pub dose: String,
    /// A [`DoseUnit`].
    pub dose_unit: String,
    /// How it is taken, e.g. `by mouth`.
    pub route: String,
    /// Its form, e.g. `capsule`.
    pub form: String,
    /// How many to dispense.
    pub quantity: u32,
    /// Every `frequency` `frequency_unit`; ignored when `prn`.
    pub frequency: u32,
    /// A [`FrequencyUnit`].
    pub frequency_unit: String,
    /// As needed.
    pub prn: bool,
    /// For how long (see `duration_period`).
    pub duration: u32,
    /// A [`DurationPeriod`].
    pub duration_period: String,
    /// How many repeats the pharmacy may dispense.
    pub refills: u32,
    /// Whether the pharmacy may dispense a generic.
    pub allow_substitution: bool,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    /// A short comment for the patient.
    pub comment: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BirthCertificate {
    /// The mother's full name.
    pub mother_name: String,
    /// The father's full name, if known.
    pub father_name: String,
    /// Must equal the patient's recorded date of birth.
    pub date_of_birth: String,
    /// Country of birth.
    pub country: String,
    /// Region or state.
    pub subdivision: String,
    /// Where the birth took place.
    pub institution: String,
    /// Anything else the doctor records.
    pub observations: String,
    /// `YYYY-MM-DD`: the day the doctor certifies.
    pub certified_on: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnderlyingCondition {
    /// The condition.
    pub condition: String,
    /// How long before death it began (see `unit`).
    pub interval: u32,
    /// An [`IntervalUnit`].
    pub unit: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeathCertificate {
    /// `YYYY-MM-DDTHH:MM`, local time of the clinic.
    pub died_at: String,
    /// The immediate cause of death.
    pub immediate_cause: String,
    /// Conditions leading to it, at most ten.
    pub underlying_conditions: Vec<UnderlyingCondition>,
    /// A [`Manner`].
    pub manner: String,
    /// A [`Place`].
    pub place: String,
    /// More about the place, e.g. the ward.
    pub place_details: String,
    /// Whether an autopsy was done.
    pub autopsy: bool,
    /// Country of death.
    pub country: String,
    /// Region or state.
    pub subdivision: String,
    /// Where the death was certified.
    pub institution: String,
    /// Anything else the doctor records.
    pub observations: String,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SickLeave {
    /// `YYYY-MM-DD`: the first day unfit for work.
    pub unfit_from: String,
    /// `YYYY-MM-DD`: the last day unfit for work.
    pub unfit_to: String,
    /// What the patient may and may not do.
    pub restrictions: String,
    /// Printed only with the patient's recorded consent.
    pub diagnosis: String,
    /// The patient agreed to the diagnosis being printed.
    pub diagnosis_consent: bool,
}

/// Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VoidNotice {
    /// The UUID of the signed document this notice voids.
    pub voids: String,
    /// Why the document is void.
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
    Allergy {
        /// The recorded allergen.
        substance: String,
        /// How severe the recorded allergy is (a `Severity`).
        severity: String,
        /// The prescribed medicine it matches.
        medicament: String,
    },
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
    /// The key was revoked before this was signed.
    KeyRevoked {
        /// When the key was revoked, RFC 3339.
        at: String,
        /// Why, in the admin's words.
        reason: String,
    },
}

/// Something a reader of a valid signature should also know about the key that made it. The front ends word it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum KeyNote {
    /// The key was made after an admin reset the doctor's password (the earlier key was locked by the reset).
    MadeAfterReset {
        /// The admin's username.
        by: String,
        /// When the password was reset, RFC 3339.
        at: String,
    },
    /// The key was revoked after this was signed: the signature stands, later ones do not.
    RevokedLater {
        /// When, RFC 3339.
        at: String,
        /// Why, in the admin's words.
        reason: String,
    },
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
            Problem::KeyRevoked { at, reason } => write!(f, "the signing key was revoked on {at} ({reason})"),
        }
    }
}

impl std::fmt::Display for KeyNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyNote::MadeAfterReset { by, at } => {
                write!(f, "the signing key was made after {by} reset the doctor's password on {at}")
            }
            KeyNote::RevokedLater { at, reason } => {
                write!(f, "the signing key was revoked on {at} ({reason}), after this was signed")
            }
        }
    }
}

/// What the signed bytes say about the patient, taken at signing. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientSnapshot {
    /// The patient's MRN at the signing clinic.
    pub mrn: String,
    /// Given names.
    pub given_names: String,
    /// Family name.
    pub family_name: String,
    /// `YYYY-MM-DD`, empty if unknown.
    pub date_of_birth: String,
}

/// Who signed, as written into the signed bytes. Do not change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerSnapshot {
    /// The doctor's full name.
    pub name: String,
    /// Their professional licence number.
    pub licence: String,
    /// Their signing key's fingerprint (upper-case hex).
    pub fingerprint: String,
}

/// Everything a signature covers, serialized as RFC 8785 (JCS) canonical JSON ([`Canonical::bytes`]). Do not
/// change: it is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canonical<'a> {
    /// The versioned schema, e.g. `galen.prescription.v1`.
    pub schema: &'static str,
    /// The document's uuid.
    pub document: &'a str,
    /// The clinic's name.
    pub clinic: &'a str,
    /// Who it is about.
    pub patient: &'a PatientSnapshot,
    /// Who signed.
    pub signer: &'a SignerSnapshot,
    /// When, RFC 3339 UTC.
    pub signed_at: &'a str,
    /// The uuid of the document this corrects, if any.
    pub supersedes: Option<&'a str>,
    /// The fields of its kind.
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
    /// The versioned schema.
    pub schema: String,
    /// The document's uuid.
    pub document: String,
    /// The clinic's name.
    pub clinic: String,
    /// Who it is about.
    pub patient: PatientSnapshot,
    /// Who signed.
    pub signer: SignerSnapshot,
    /// When, RFC 3339 UTC.
    pub signed_at: String,
    /// The uuid of the document this corrects, if any.
    pub supersedes: Option<String>,
    body: serde_json::Value,
}

impl Signed {
    /// The body, if it is one this version of Galen knows.
    pub fn body(&self) -> Option<Body> {
        serde_json::from_value(self.body.clone()).ok()
    }
}
