//! The patient record as the rest of Galen sees it, and the form it is entered through.

use crate::value_list::value_list;
use serde::{Deserialize, Serialize};

value_list! {
    /// The sex recorded on the patient's record.
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
    /// Whether the patient is pregnant, as last recorded.
    pub enum PregnancyStatus { Unknown = "unknown", NotPregnant = "not_pregnant", Pregnant = "pregnant" }
}

/// Whom to call in an emergency.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmergencyContact {
    /// Their name.
    pub name: String,
    /// Their phone.
    pub phone: String,
    /// How they are related, e.g. `daughter`.
    pub relation: String,
}

/// Who the patient is and how to reach them: what a receptionist registers and edits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Demographics {
    /// One or more given names, space-separated.
    pub given_names: String,
    /// Family name(s).
    pub family_name: String,
    /// The sex recorded.
    pub sex: Sex,
    /// `YYYY-MM-DD`. Leave empty and give `estimated_age` when the date is not known.
    pub date_of_birth: String,
    /// Years, when the date of birth is not known.
    pub estimated_age: Option<u32>,
    /// A national identity number, unique among current patients.
    pub national_id: String,
    /// Up to three phone numbers.
    pub phones: Vec<String>,
    /// An email address.
    pub email: String,
    /// A postal address.
    pub address: String,
    /// Whom to call in an emergency.
    pub emergency_contact: EmergencyContact,
    /// The patient agreed to share their record with the clinic's partner (used by sync).
    pub consent_share: bool,
}

/// A recorded allergy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Allergy {
    /// What the patient is allergic to.
    pub substance: String,
    /// A [`Severity`].
    pub severity: String,
    /// What happens, in words.
    pub reaction: String,
}

/// Clinical fields: seen and edited only by roles with clinical access.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Clinical {
    /// A [`BloodType`], or empty when unknown.
    pub blood_type: String,
    /// Recorded allergies.
    pub allergies: Vec<Allergy>,
    /// Ongoing conditions, one per entry.
    pub conditions: Vec<String>,
    /// A [`PregnancyStatus`].
    pub pregnancy_status: String,
    /// `YYYY-MM-DD`: when the pregnancy status was recorded.
    pub pregnancy_as_of: String,
    /// Clinical notes.
    pub notes: String,
}

/// A patient as the registration form collects them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPatient {
    /// Who they are and how to reach them.
    pub demographics: Demographics,
    /// `None` when the person registering may not enter clinical data (a receptionist).
    pub clinical: Option<Clinical>,
}

/// A registered patient as a viewer may see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// The local id.
    pub id: i64,
    /// The uuid, the same at every site that shares them.
    pub uuid: String,
    /// The medical record number, e.g. `SOL-0000042K`.
    pub mrn: String,
    /// Who they are and how to reach them.
    pub demographics: Demographics,
    /// `date_of_birth` as stored: the real date, or 1 January of the estimated birth year.
    pub dob_estimated: bool,
    /// A signed death certificate names them.
    pub deceased: bool,
    /// Set when this record was merged into another; it then only resolves old MRNs.
    pub merged_into: Option<i64>,
    /// `None` when the viewer may not see clinical fields (e.g. a receptionist).
    pub clinical: Option<Clinical>,
}

/// One line of a search result or a duplicate warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The local id.
    pub id: i64,
    /// The MRN.
    pub mrn: String,
    /// Given names.
    pub given_names: String,
    /// Family name.
    pub family_name: String,
    /// `YYYY-MM-DD`, or 1 January of the estimated year.
    pub date_of_birth: String,
    /// The date of birth is an estimate.
    pub dob_estimated: bool,
    /// The sex recorded.
    pub sex: Sex,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// A signed death certificate names them.
    pub deceased: bool,
}

/// A patient who might be the one being registered, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The patient already registered.
    pub patient: Summary,
    /// Why they may be the same person.
    pub reason: Reason,
}

/// Why a patient may be a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A similar name (typos, swapped letters, either order) and the same date of birth.
    SimilarNameSameBirthDate,
    /// The same phone number.
    SamePhone,
}
