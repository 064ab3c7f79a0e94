//! The patient record as the rest of Galen sees it, and the form it is entered through.

use crate::value_list::value_list;
use serde::{Deserialize, Serialize};

value_list! {
    #[derive(Default)]
    pub enum Sex {
        #[default]
        Unknown = "unknown",
        Female = "female",
        Male = "male",
        Other = "other",
    }
}

value_list! {
    /// ABO and Rh; an empty blood type means not known.
    pub enum BloodType {
        APos = "A+", ANeg = "A-", BPos = "B+", BNeg = "B-", AbPos = "AB+", AbNeg = "AB-", OPos = "O+", ONeg = "O-",
    }
}

value_list! {
    /// How severe an allergy is.
    pub enum Severity { Unknown = "unknown", Mild = "mild", Moderate = "moderate", Severe = "severe" }
}

value_list! {
    pub enum PregnancyStatus { Unknown = "unknown", NotPregnant = "not_pregnant", Pregnant = "pregnant" }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmergencyContact {
    pub name: String,
    pub phone: String,
    pub relation: String,
}

/// Who the patient is and how to reach them: what a receptionist registers and edits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Demographics {
    /// One or more given names, space-separated.
    pub given_names: String,
    pub family_name: String,
    pub sex: Sex,
    /// `YYYY-MM-DD`. Leave empty and give `estimated_age` when the date is not known.
    pub date_of_birth: String,
    pub estimated_age: Option<u32>,
    pub national_id: String,
    pub phones: Vec<String>,
    pub email: String,
    pub address: String,
    pub emergency_contact: EmergencyContact,
    /// The patient agreed to share their record with the clinic's partner (used by sync).
    pub consent_share: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Allergy {
    pub substance: String,
    /// A [`Severity`].
    pub severity: String,
    pub reaction: String,
}

/// Clinical fields: seen and edited only by roles with clinical access.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clinical {
    /// A [`BloodType`], or empty when unknown.
    pub blood_type: String,
    pub allergies: Vec<Allergy>,
    pub conditions: Vec<String>,
    /// A [`PregnancyStatus`].
    pub pregnancy_status: String,
    /// `YYYY-MM-DD`: when the pregnancy status was recorded.
    pub pregnancy_as_of: String,
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPatient {
    pub demographics: Demographics,
    /// `None` when the person registering may not enter clinical data (a receptionist).
    pub clinical: Option<Clinical>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub id: i64,
    pub uuid: String,
    pub mrn: String,
    pub demographics: Demographics,
    /// `date_of_birth` as stored: the real date, or 1 January of the estimated birth year.
    pub dob_estimated: bool,
    pub deceased: bool,
    /// Set when this record was merged into another; it then only resolves old MRNs.
    pub merged_into: Option<i64>,
    /// `None` when the viewer may not see clinical fields (e.g. a receptionist).
    pub clinical: Option<Clinical>,
}

/// One line of a search result or a duplicate warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub id: i64,
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub dob_estimated: bool,
    pub sex: Sex,
    pub phones: Vec<String>,
    pub deceased: bool,
}

/// A patient who might be the one being registered, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub patient: Summary,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    SimilarNameSameBirthDate,
    SamePhone,
}
