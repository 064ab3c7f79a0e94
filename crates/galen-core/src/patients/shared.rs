//! A patient as shared with a partner: the whole record of a patient who consented, in one serializable form.
//! Sync reads and writes it through `table.rs` (`consented`, `apply_shared`), so the `patients` table keeps one
//! owner.

use super::model::{Allergy, Clinical, EmergencyContact, Patient};
use serde::{Deserialize, Serialize};

/// A patient record in an envelope. Do not change: it is signed (a new field needs a new envelope format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedPatient {
    /// The uuid that links the sites.
    pub uuid: String,
    /// The MRN at the site that registered the patient.
    pub mrn: String,
    /// Given names.
    pub given_names: String,
    /// Family name.
    pub family_name: String,
    /// A `Sex`, as spelled on the wire.
    pub sex: String,
    /// `YYYY-MM-DD`, empty if unknown.
    pub date_of_birth: String,
    /// The date of birth is an estimate.
    pub dob_estimated: bool,
    /// A national identity number, or empty.
    pub national_id: String,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Email address.
    pub email: String,
    /// Postal address.
    pub address: String,
    /// Whom to call in an emergency.
    pub emergency_contact: EmergencyContact,
    /// A `BloodType`, or empty.
    pub blood_type: String,
    /// Recorded allergies.
    pub allergies: Vec<Allergy>,
    /// Ongoing conditions.
    pub conditions: Vec<String>,
    /// A `PregnancyStatus`.
    pub pregnancy_status: String,
    /// When the pregnancy status was recorded.
    pub pregnancy_as_of: String,
    /// Clinical notes.
    pub notes: String,
    /// A death certificate was signed.
    pub deceased: bool,
}

impl SharedPatient {
    /// The whole record of a patient, as it travels.
    pub(crate) fn new(p: Patient, c: Clinical) -> Self {
        let d = p.demographics;
        SharedPatient {
            uuid: p.uuid,
            mrn: p.mrn,
            given_names: d.given_names,
            family_name: d.family_name,
            sex: d.sex.as_str().into(),
            date_of_birth: d.date_of_birth,
            dob_estimated: p.dob_estimated,
            national_id: d.national_id,
            phones: d.phones,
            email: d.email,
            address: d.address,
            emergency_contact: d.emergency_contact,
            blood_type: c.blood_type,
            allergies: c.allergies,
            conditions: c.conditions,
            pregnancy_status: c.pregnancy_status,
            pregnancy_as_of: c.pregnancy_as_of,
            notes: c.notes,
            deceased: p.deceased,
        }
    }
}
