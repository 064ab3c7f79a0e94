//! A patient as shared with a partner: the whole record of a patient who consented, in one serializable form.
//! Sync reads and writes it through `table.rs` (`consented`, `apply_shared`), so the `patients` table keeps one
//! owner.

use super::model::{Allergy, Clinical, Demographics, EmergencyContact, Patient, Sex};
use super::validate;
use crate::error::{FieldError, FieldErrors};
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

impl SharedPatient {
    /// The record checked by the same rules as a local registration (names, date of birth, national ID, phones,
    /// clinical fields…) and cleaned the same way (trimmed, NFC, a national ID upper-cased), or every problem with
    /// it. A record from another site is as untrusted as a form: a bad one is refused, never half-applied.
    pub(crate) fn validated(&self, today: time::Date) -> Result<SharedPatient, FieldErrors> {
        let mut errors = FieldErrors::default();
        if uuid::Uuid::parse_str(&self.uuid).is_err() {
            errors.push("uuid", "Not a uuid.");
        }
        let sex = Sex::parse(&self.sex).unwrap_or_else(|| {
            errors.push("sex", "Not one of female, male, other or unknown.");
            Sex::Unknown
        });
        let demographics = Demographics {
            given_names: self.given_names.clone(),
            family_name: self.family_name.clone(),
            sex,
            date_of_birth: self.date_of_birth.clone(),
            estimated_age: None,
            national_id: self.national_id.clone(),
            phones: self.phones.clone(),
            email: self.email.clone(),
            address: self.address.clone(),
            emergency_contact: self.emergency_contact.clone(),
            consent_share: true,
        };
        let demographics = validate::demographics(&demographics, today).map_err(|e| errors.0.extend(e.0));
        let clinical = validate::clinical(&self.clinical(), sex, today).map_err(|e| errors.0.extend(e.0));
        let (Ok((d, dob, _)), Ok(c), true) = (demographics, clinical, errors.0.is_empty()) else { return Err(errors) };
        Ok(SharedPatient {
            uuid: self.uuid.clone(),
            mrn: self.mrn.clone(),
            given_names: d.given_names,
            family_name: d.family_name,
            sex: d.sex.as_str().into(),
            date_of_birth: dob,
            dob_estimated: self.dob_estimated,
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
            deceased: self.deceased,
        })
    }

    fn clinical(&self) -> Clinical {
        Clinical {
            blood_type: self.blood_type.clone(),
            allergies: self.allergies.clone(),
            conditions: self.conditions.clone(),
            pregnancy_status: self.pregnancy_status.clone(),
            pregnancy_as_of: self.pregnancy_as_of.clone(),
            notes: self.notes.clone(),
        }
    }

    /// Whether `other` differs from this record in a clinical field: taking it is a clinician's decision.
    pub(crate) fn clinical_differs(&self, other: &SharedPatient) -> bool {
        self.clinical() != other.clinical()
    }

    /// The allergies and conditions recorded here that `incoming` no longer has. A site never removes them from
    /// this clinic's record on its own: a clinician here decides.
    pub(crate) fn removed_by(&self, incoming: &SharedPatient) -> Vec<Removed> {
        let key = |s: &str| crate::text::fold(s).to_lowercase();
        let allergies = self
            .allergies
            .iter()
            .filter(|a| !incoming.allergies.iter().any(|b| key(&b.substance) == key(&a.substance)))
            .map(|a| Removed::Allergy(a.substance.clone()));
        let conditions = self
            .conditions
            .iter()
            .filter(|c| !incoming.conditions.iter().any(|d| key(d) == key(c)))
            .map(|c| Removed::Condition(c.clone()));
        allergies.chain(conditions).collect()
    }

    /// The record with its clinical fields left out, for someone who may not read them.
    pub(crate) fn without_clinical(self) -> SharedPatient {
        SharedPatient {
            blood_type: String::new(),
            allergies: Vec::new(),
            conditions: Vec::new(),
            pregnancy_status: String::new(),
            pregnancy_as_of: String::new(),
            notes: String::new(),
            ..self
        }
    }
}

/// An allergy or a condition recorded here that a received version takes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    /// An allergy, by substance.
    Allergy(String),
    /// A condition.
    Condition(String),
}

/// Field errors as one line for a log of refused records: `sex: Not one of …; date_of_birth: …`.
pub(crate) fn describe(errors: &FieldErrors) -> String {
    errors.0.iter().map(|FieldError { field, message }| format!("{field}: {message}")).collect::<Vec<_>>().join("; ")
}
