//! The FHIR R4 resources Galen writes and reads, as typed serde structs for exactly the elements it uses (no FHIR
//! model crate: see docs/fhir.md for why). Empty elements are left out when written, as FHIR requires; elements
//! Galen does not use are ignored when read.

use serde::{Deserialize, Serialize};

// The code systems and codes Galen writes and reads (docs/fhir.md lists where each goes).
pub(super) const LOINC: &str = "http://loinc.org";
pub(super) const SNOMED: &str = "http://snomed.info/sct";
pub(super) const UCUM: &str = "http://unitsofmeasure.org";
pub(super) const URI: &str = "urn:ietf:rfc:3986";
pub(super) const V2_0203: &str = "http://terminology.hl7.org/CodeSystem/v2-0203";
pub(super) const EMPTY_REASON: &str = "http://terminology.hl7.org/CodeSystem/list-empty-reason";
pub(super) const SIGNATURE_TYPE: &str = "urn:iso-astm:E1762-95:2013";
/// LOINC's code for the ABO and Rh blood group, as an Observation's code.
pub(super) const BLOOD_GROUP: (&str, &str) = ("882-1", "ABO and Rh group [Type] in Blood");
/// LOINC's code for the pregnancy status, as an Observation's code.
pub(super) const PREGNANCY_STATUS: (&str, &str) = ("82810-3", "Pregnancy status");
/// Galen's pregnancy statuses and the SNOMED CT findings IPS uses for them.
pub(super) const PREGNANCY_FINDINGS: [(&str, &str, &str); 3] = [
    ("pregnant", "77386006", "Pregnant"),
    ("not_pregnant", "60001007", "Not pregnant"),
    ("unknown", "261665006", "Unknown"),
];

/// Whether an element is empty, so it is left out of the JSON (FHIR forbids empty strings, arrays and objects).
pub(crate) trait Empty {
    fn is_empty(&self) -> bool;
}

impl<T> Empty for Option<T> {
    fn is_empty(&self) -> bool {
        self.is_none()
    }
}

impl<T> Empty for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl Empty for String {
    fn is_empty(&self) -> bool {
        String::is_empty(self)
    }
}

/// A FHIR element or resource: camelCase, every field optional on the wire and left out when empty.
macro_rules! element {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($(#[$fm])* #[serde(default, skip_serializing_if = "Empty::is_empty")] pub $field: $ty,)*
        }
    };
}

element! {
    /// A code from a code system.
    pub struct Coding { system: String, code: String, display: String }
}

element! {
    /// Codes and, always, the text they stand for.
    pub struct CodeableConcept { coding: Vec<Coding>, text: String }
}

impl CodeableConcept {
    /// Only text: Galen records most things in words, and never invents a code for them.
    pub fn text(text: &str) -> Option<Self> {
        (!text.is_empty()).then(|| CodeableConcept { coding: Vec::new(), text: text.to_owned() })
    }

    /// One code from `system`, with its display.
    pub fn code(system: &str, code: &str, display: &str) -> Self {
        CodeableConcept {
            coding: vec![Coding { system: system.into(), code: code.into(), display: display.into() }],
            text: String::new(),
        }
    }

    /// Whether any of its codings is `code` in `system`.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding.iter().any(|c| c.system == system && c.code == code)
    }
}

element! {
    /// A pointer to another resource in the same Bundle (`urn:uuid:…`).
    pub struct Reference { reference: String, display: String }
}

impl Reference {
    /// A reference to a Bundle entry's full URL.
    pub fn to(full_url: &str) -> Option<Self> {
        Some(Reference { reference: full_url.to_owned(), display: String::new() })
    }
}

element! {
    /// An identifier in a namespace.
    pub struct Identifier {
        #[serde(rename = "use")]
        use_: String,
        #[serde(rename = "type")]
        type_: Option<CodeableConcept>,
        system: String,
        value: String,
    }
}

element! {
    /// A person's name.
    pub struct HumanName {
        #[serde(rename = "use")]
        use_: String,
        text: String,
        family: String,
        given: Vec<String>,
    }
}

element! {
    /// A phone number or email address.
    pub struct ContactPoint { system: String, value: String }
}

element! {
    /// An address (Galen keeps it as one text).
    pub struct Address { text: String, line: Vec<String>, city: String, postal_code: String, country: String }
}

element! {
    /// Someone to contact about the patient.
    pub struct PatientContact {
        relationship: Vec<CodeableConcept>,
        name: Option<HumanName>,
        telecom: Vec<ContactPoint>,
    }
}

element! {
    /// A human-readable summary (XHTML), which FHIR asks of every resource and section.
    pub struct Narrative { status: String, div: String }
}

element! {
    /// An amount with its unit (UCUM where the unit has a code there).
    pub struct Quantity {
        value: Option<serde_json::Number>,
        unit: String,
        system: String,
        code: String,
    }
}

element! {
    /// A start and an end.
    pub struct Period { start: String, end: String }
}

element! {
    /// A note.
    pub struct Annotation { text: String }
}

element! {
    /// A signature, as FHIR carries one: who signed what kind of signature when, and its bytes (base64).
    pub struct Signature {
        #[serde(rename = "type")]
        type_: Vec<Coding>,
        when: String,
        who: Option<Reference>,
        sig_format: String,
        data: String,
    }
}

element! {
    /// A file inside a resource (base64).
    pub struct Attachment { content_type: String, language: String, data: String, title: String, creation: String }
}

element! {
    /// The patient.
    pub struct Patient {
        resource_type: String,
        id: String,
        identifier: Vec<Identifier>,
        name: Vec<HumanName>,
        telecom: Vec<ContactPoint>,
        gender: String,
        birth_date: String,
        deceased_boolean: Option<bool>,
        deceased_date_time: String,
        address: Vec<Address>,
        contact: Vec<PatientContact>,
    }
}

element! {
    /// One reaction to an allergen.
    pub struct Reaction { manifestation: Vec<CodeableConcept>, severity: String }
}

element! {
    /// An allergy or intolerance.
    pub struct AllergyIntolerance {
        resource_type: String,
        id: String,
        clinical_status: Option<CodeableConcept>,
        code: Option<CodeableConcept>,
        patient: Option<Reference>,
        note: Vec<Annotation>,
        reaction: Vec<Reaction>,
    }
}

element! {
    /// A problem on the patient's list.
    pub struct Condition {
        resource_type: String,
        id: String,
        clinical_status: Option<CodeableConcept>,
        category: Vec<CodeableConcept>,
        code: Option<CodeableConcept>,
        subject: Option<Reference>,
    }
}

element! {
    /// A fact about the patient with a coded name: here, the blood group and the pregnancy status.
    pub struct Observation {
        resource_type: String,
        id: String,
        status: String,
        category: Vec<CodeableConcept>,
        code: Option<CodeableConcept>,
        subject: Option<Reference>,
        effective_date_time: String,
        value_codeable_concept: Option<CodeableConcept>,
    }
}

element! {
    /// When a medicine is taken: every `period` `period_unit`.
    pub struct TimingRepeat {
        frequency: Option<u32>,
        period: Option<u32>,
        period_unit: String,
    }
}

element! {
    /// A schedule.
    pub struct Timing { repeat: Option<TimingRepeat> }
}

element! {
    /// How much per dose.
    pub struct DoseAndRate { dose_quantity: Option<Quantity> }
}

element! {
    /// How a medicine is taken, in words and in parts.
    pub struct Dosage {
        text: String,
        patient_instruction: String,
        timing: Option<Timing>,
        as_needed_boolean: Option<bool>,
        route: Option<CodeableConcept>,
        dose_and_rate: Vec<DoseAndRate>,
    }
}

element! {
    /// How long a dispensing should last.
    pub struct Duration { value: Option<u32>, unit: String, system: String, code: String }
}

element! {
    /// What the pharmacy may hand over.
    pub struct DispenseRequest {
        validity_period: Option<Period>,
        number_of_repeats_allowed: Option<u32>,
        quantity: Option<Quantity>,
        expected_supply_duration: Option<Duration>,
    }
}

element! {
    /// Whether the pharmacy may substitute a generic.
    pub struct Substitution { allowed_boolean: Option<bool> }
}

element! {
    /// One prescribed medicine.
    pub struct MedicationRequest {
        resource_type: String,
        id: String,
        status: String,
        status_reason: Option<CodeableConcept>,
        intent: String,
        medication_codeable_concept: Option<CodeableConcept>,
        subject: Option<Reference>,
        authored_on: String,
        requester: Option<Reference>,
        reason_code: Vec<CodeableConcept>,
        group_identifier: Option<Identifier>,
        note: Vec<Annotation>,
        supporting_information: Vec<Reference>,
        dosage_instruction: Vec<Dosage>,
        dispense_request: Option<DispenseRequest>,
        substitution: Option<Substitution>,
    }
}

element! {
    /// A doctor who signed something.
    pub struct Practitioner { resource_type: String, id: String, identifier: Vec<Identifier>, name: Vec<HumanName> }
}

element! {
    /// The clinic.
    pub struct Organization { resource_type: String, id: String, identifier: Vec<Identifier>, name: String }
}

element! {
    /// One file of a DocumentReference.
    pub struct Content { attachment: Option<Attachment> }
}

element! {
    /// A link between documents (this one replaces another).
    pub struct RelatesTo { code: String, target: Option<Reference> }
}

element! {
    /// A signed document: its PDF, its signed JSON and its signer's public key.
    pub struct DocumentReference {
        resource_type: String,
        id: String,
        master_identifier: Option<Identifier>,
        status: String,
        doc_status: String,
        #[serde(rename = "type")]
        type_: Option<CodeableConcept>,
        subject: Option<Reference>,
        date: String,
        author: Vec<Reference>,
        description: String,
        relates_to: Vec<RelatesTo>,
        content: Vec<Content>,
    }
}

element! {
    /// Who took part in an activity.
    pub struct ProvenanceAgent { who: Option<Reference> }
}

element! {
    /// Who made (and signed) some resources.
    pub struct Provenance {
        resource_type: String,
        id: String,
        target: Vec<Reference>,
        recorded: String,
        agent: Vec<ProvenanceAgent>,
        signature: Vec<Signature>,
    }
}

element! {
    /// Who did something to the record.
    pub struct AuditAgent {
        #[serde(rename = "type")]
        type_: Option<CodeableConcept>,
        role: Vec<CodeableConcept>,
        who: Option<Reference>,
        requestor: Option<bool>,
        purpose_of_use: Vec<CodeableConcept>,
    }
}

element! {
    /// The system that recorded an event.
    pub struct AuditSource { observer: Option<Reference> }
}

element! {
    /// What an event was about.
    pub struct AuditEntity { what: Option<Reference> }
}

element! {
    /// One row of the record's access report.
    pub struct AuditEvent {
        resource_type: String,
        id: String,
        #[serde(rename = "type")]
        type_: Option<Coding>,
        action: String,
        recorded: String,
        outcome: String,
        outcome_desc: String,
        purpose_of_event: Vec<CodeableConcept>,
        agent: Vec<AuditAgent>,
        source: Option<AuditSource>,
        entity: Vec<AuditEntity>,
    }
}

element! {
    /// One section of the summary.
    pub struct Section {
        title: String,
        code: Option<CodeableConcept>,
        text: Option<Narrative>,
        entry: Vec<Reference>,
        empty_reason: Option<CodeableConcept>,
    }
}

element! {
    /// The summary's table of contents: the first entry of a document Bundle.
    pub struct Composition {
        resource_type: String,
        id: String,
        status: String,
        #[serde(rename = "type")]
        type_: Option<CodeableConcept>,
        subject: Option<Reference>,
        date: String,
        author: Vec<Reference>,
        title: String,
        confidentiality: String,
        custodian: Option<Reference>,
        section: Vec<Section>,
    }
}

element! {
    /// One resource in a Bundle, under its full URL.
    pub struct Entry { full_url: String, resource: Option<serde_json::Value> }
}

element! {
    /// A Bundle: a document (the summary) or a collection (what an import reads).
    pub struct Bundle {
        resource_type: String,
        id: String,
        identifier: Option<Identifier>,
        #[serde(rename = "type")]
        type_: String,
        timestamp: String,
        entry: Vec<Entry>,
        signature: Option<Signature>,
    }
}
