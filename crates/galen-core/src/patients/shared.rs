//! A patient as shared with a partner: the whole record of a patient who consented, in one serializable form.
//! Sync reads and writes it through `table.rs` (`consented`, `apply_shared`), so the `patients` table keeps one
//! owner.

use super::model::{Allergy, Clinical, EmergencyContact, Patient};
use serde::{Deserialize, Serialize};

/// A patient record in an envelope. Do not change: it is signed (a new field needs a new envelope format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedPatient {
    pub uuid: String,
    /// The MRN at the site that registered the patient.
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub sex: String,
    pub date_of_birth: String,
    pub dob_estimated: bool,
    pub national_id: String,
    pub phones: Vec<String>,
    pub email: String,
    pub address: String,
    pub emergency_contact: EmergencyContact,
    pub blood_type: String,
    pub allergies: Vec<Allergy>,
    pub conditions: Vec<String>,
    pub pregnancy_status: String,
    pub pregnancy_as_of: String,
    pub notes: String,
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
