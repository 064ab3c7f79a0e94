//! Patients from another system's FHIR: a Patient, a Bundle, or NDJSON of Patients with their AllergyIntolerance
//! and Condition resources. Every patient is checked as the registration form checks it (same rules, same
//! duplicate search, a national ID on file refused); a plan shows what would happen, and the import writes all
//! of it in one transaction or nothing.

use super::model::{
    AllergyIntolerance, Bundle, CodeableConcept, Condition, HumanName, Observation, Patient, BLOOD_GROUP, LOINC,
    PREGNANCY_FINDINGS, PREGNANCY_STATUS, SNOMED, V2_0203,
};
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldError, FieldErrors};
use crate::patients::{self, Allergy, Candidate, Clinical, Demographics, EmergencyContact, NewPatient, Sex, Summary};
use crate::permissions::Action;
use crate::session::Session;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The largest file an import reads (a migration's NDJSON of thousands of patients fits).
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// Bundle types that carry resources to take in; the others (a message, a history, a response) are not records.
const BUNDLE_TYPES: [&str; 5] = ["document", "collection", "transaction", "batch", "searchset"];

/// What importing a file would do, patient by patient.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Each Patient found, in the file's order.
    pub patients: Vec<Planned>,
    /// Resources left alone, in words (e.g. "3 MedicationRequest: Galen imports patients, allergies and
    /// conditions").
    pub not_imported: Vec<String>,
}

impl Plan {
    /// Whether every patient could be registered as it is (no refusal, no likely duplicate).
    pub fn clean(&self) -> bool {
        self.patients.iter().all(|p| p.outcome == Verdict::Ready)
    }
}

/// One patient of the file and what would become of them.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where in the file, e.g. `entry 3 (Patient/pat-1)` or `line 4 (Patient/pat-1)`.
    pub source: String,
    /// The name as the file gives it.
    pub name: String,
    /// Their date of birth as the file gives it.
    pub birth_date: String,
    /// Allergies and conditions that would be recorded with them.
    pub allergies: usize,
    /// Conditions on their problem list.
    pub conditions: usize,
    /// Clinical resources left out because the importing account may not record clinical data.
    pub clinical_left_out: usize,
    /// What would happen.
    pub outcome: Verdict,
    /// The patient as registering would write them (none when refused).
    checked: Option<patients::Checked>,
}

/// What would become of one patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Registered as it is.
    Ready,
    /// Looks like patients already registered: registered only with `force` (and logged).
    LikelyDuplicate(Vec<Candidate>),
    /// Cannot be registered: each field (named as FHIR names it) and why.
    Refused(Vec<FieldError>),
}

/// What an import registered.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The new records, in the file's order.
    pub patients: Vec<Summary>,
    /// Registered despite a likely duplicate (`force`).
    pub duplicates_forced: usize,
}

/// Reads `bytes` and says what importing them would do. Writes nothing. A file Galen cannot read at all (too
/// large, not JSON, not FHIR, a Bundle of a kind that carries no records) is an error on the field `file`.
pub fn plan(clinic: &Clinic, session: &Session, bytes: &[u8]) -> Result<Plan, Error> {
    clinic.authorize(session, Action::RecordImport, None)?;
    let clinical = clinic.permits(session, Action::PatientUpdateClinical, None)?.is_some();
    let read = read(bytes)?;
    let mut plan = Plan { patients: Vec::new(), not_imported: read.not_imported };
    // The file against itself, as the registry cannot see patients not written yet: the first holder of each
    // national ID, and of each name with its birth date.
    let mut national_ids: HashMap<String, String> = HashMap::new();
    let mut people: HashMap<(String, String), String> = HashMap::new();
    for found in read.patients {
        let mut planned = plan_one(clinic, found, clinical)?;
        if let Some(d) = planned.checked.as_ref().map(|c| c.demographics.clone()) {
            let person = (format!("{} {}", d.given_names, d.family_name).to_lowercase(), d.date_of_birth.clone());
            let earlier = match national_ids.get(&d.national_id).filter(|_| !d.national_id.is_empty()) {
                Some(first) => {
                    Some(("identifier (national ID)", format!("This national ID is also {first}'s in this file.")))
                }
                None => people
                    .get(&person)
                    .map(|first| ("name", format!("The same name and birth date as {first} in this file."))),
            };
            match earlier {
                Some((field, message)) => {
                    planned.outcome = Verdict::Refused(vec![FieldError::new(field, message)]);
                    planned.checked = None;
                }
                None => {
                    national_ids.insert(d.national_id.clone(), planned.source.clone());
                    people.insert(person, planned.source.clone());
                }
            }
        }
        plan.patients.push(planned);
    }
    Ok(plan)
}

/// One Patient of the file: read, mapped to the registration form (with its allergies and conditions when the
/// importer may record them) and checked as registering checks it.
fn plan_one(clinic: &Clinic, found: Found, clinical: bool) -> Result<Planned, Error> {
    let mut planned = Planned {
        source: found.source,
        name: String::new(),
        birth_date: String::new(),
        allergies: 0,
        conditions: 0,
        clinical_left_out: 0,
        outcome: Verdict::Ready,
        checked: None,
    };
    let patient = match serde_json::from_value::<Patient>(found.value) {
        Ok(p) => p,
        Err(e) => {
            planned.outcome = Verdict::Refused(vec![FieldError::new("Patient", format!("It cannot be read: {e}."))]);
            return Ok(planned);
        }
    };
    planned.name = name_of(&patient);
    planned.birth_date = patient.birth_date.clone();
    let mut new = match to_new_patient(&patient, clinic.now().date()) {
        Ok(new) => new,
        Err(errors) => {
            planned.outcome = Verdict::Refused(errors);
            return Ok(planned);
        }
    };
    let (allergies, conditions, observations) = (&found.allergies, &found.conditions, &found.observations);
    let held = allergies.len() + conditions.len() + observations.len();
    if clinical && held > 0 {
        let mut c = Clinical {
            allergies: allergies.iter().map(allergy).collect(),
            conditions: conditions.iter().filter_map(|c| concept_text(c.code.as_ref())).collect(),
            ..Clinical::default()
        };
        for o in observations {
            observation(o, &mut c);
        }
        new.clinical = Some(c);
        (planned.allergies, planned.conditions) = (allergies.len(), conditions.len());
    } else if !clinical {
        planned.clinical_left_out = held;
    }
    match patients::check_new(clinic, &new) {
        Ok(checked) => {
            if !checked.candidates.is_empty() {
                planned.outcome = Verdict::LikelyDuplicate(checked.candidates.clone());
            }
            planned.checked = Some(checked);
        }
        Err(Error::Invalid(errors)) => {
            planned.outcome = Verdict::Refused(errors.0.into_iter().map(fhir_field).collect())
        }
        Err(e) => return Err(e),
    }
    Ok(planned)
}

/// Registers every patient of the file, all in one transaction, or none: any refusal, or a likely duplicate
/// without `force`, stops it before anything is written. Audited per patient and once as `fhir.import`.
pub fn import(clinic: &Clinic, session: &Session, bytes: &[u8], force: bool) -> Result<Imported, Error> {
    let actor = clinic.authorize(session, Action::RecordImport, None)?;
    let plan = plan(clinic, session, bytes)?;
    let mut refusals = FieldErrors::default();
    let mut duplicates = Vec::new();
    for p in &plan.patients {
        match &p.outcome {
            Verdict::Refused(errors) => refusals
                .0
                .extend(errors.iter().map(|e| FieldError::new(&format!("{}: {}", p.source, e.field), &e.message))),
            Verdict::LikelyDuplicate(c) if !force => duplicates.extend(c.iter().cloned()),
            _ => {}
        }
    }
    refusals.into_result()?;
    if !duplicates.is_empty() {
        return Err(Error::PossibleDuplicates(duplicates));
    }
    if plan.patients.is_empty() {
        return Err(Error::invalid("file", "The file holds no Patient to import."));
    }
    let checked: Vec<patients::Checked> = plan.patients.into_iter().filter_map(|p| p.checked).collect();
    let now = clinic.now_rfc3339();
    let ids = clinic.store().write(|tx| {
        let mut ids = Vec::new();
        for c in &checked {
            ids.push(patients::insert_checked(tx, c, &actor, &now)?);
        }
        audit::record(tx, &now, &actor, "fhir.import", ("patients", &ids.len().to_string()), Outcome::Ok)?;
        Ok(ids)
    })?;
    tracing::info!(patients = ids.len(), "patients imported from FHIR");
    let mut summaries = patients::table::summaries(clinic.store().conn(), &ids)?;
    summaries.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
    let duplicates_forced = checked.iter().filter(|c| !c.candidates.is_empty()).count();
    Ok(Imported { patients: summaries, duplicates_forced })
}

/// Reads a file and maps every Patient as `plan` does, without a clinic: the fuzz target's way in.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_read(bytes: &[u8], today: time::Date) {
    let Ok(read) = read(bytes) else { return };
    for found in read.patients {
        let Ok(patient) = serde_json::from_value::<Patient>(found.value) else { continue };
        let _ = name_of(&patient);
        if let Ok(new) = to_new_patient(&patient, today) {
            let _ = patients::validate::demographics(&new.demographics, today);
        }
        found.allergies.iter().for_each(|a| drop(allergy(a)));
    }
}

/// A Patient found in the file, with the clinical resources that point at it.
struct Found {
    source: String,
    value: Value,
    allergies: Vec<AllergyIntolerance>,
    conditions: Vec<Condition>,
    /// The blood group and pregnancy status.
    observations: Vec<Observation>,
}

/// The file read: patients with their clinical resources, and what is left alone.
struct Read {
    patients: Vec<Found>,
    not_imported: Vec<String>,
}

fn file_error(message: impl Into<String>) -> Error {
    Error::invalid("file", message)
}

/// Reads a file as one resource (a Patient or a Bundle) or as NDJSON, and groups what Galen imports.
fn read(bytes: &[u8]) -> Result<Read, Error> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(file_error(format!("The file is larger than {} MiB.", MAX_IMPORT_BYTES / 1024 / 1024)));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| file_error("The file is not UTF-8 text."))?;
    let resources: Vec<(String, Option<String>, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(value) => top_level(value)?,
        Err(whole) => {
            // NDJSON: one resource per line. Only when every line reads; else the whole file's error says where.
            let lines: Vec<(usize, &str)> =
                text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).map(|(n, l)| (n + 1, l)).collect();
            let parsed: Option<Vec<(String, Option<String>, Value)>> = (lines.len() > 1)
                .then(|| {
                    let read =
                        |(n, l): &(usize, &str)| serde_json::from_str(l).ok().map(|v| (format!("line {n}"), None, v));
                    lines.iter().map(read).collect()
                })
                .flatten();
            match parsed {
                Some(values) => values,
                None => {
                    return Err(file_error(format!(
                        "The file is not valid JSON (line {}, column {}).",
                        whole.line(),
                        whole.column()
                    )))
                }
            }
        }
    };
    let mut patients: Vec<(String, Option<String>, Value)> = Vec::new();
    let mut allergies = Vec::new();
    let mut conditions = Vec::new();
    let mut observations = Vec::new();
    let mut others: BTreeMap<String, usize> = BTreeMap::new();
    for (source, full_url, value) in resources {
        let Some(kind) = value.get("resourceType").and_then(Value::as_str).map(str::to_owned) else {
            return Err(file_error(format!("{source} is not a FHIR resource: it has no resourceType.")));
        };
        match kind.as_str() {
            "Patient" => patients.push((source, full_url, value)),
            "AllergyIntolerance" => match serde_json::from_value::<AllergyIntolerance>(value) {
                Ok(a) if current(a.clinical_status.as_ref(), "allergyintolerance-clinical") => allergies.push(a),
                Ok(_) => *others.entry("AllergyIntolerance (not active)".into()).or_default() += 1,
                Err(e) => return Err(file_error(format!("{source} (AllergyIntolerance) cannot be read: {e}."))),
            },
            "Condition" => match serde_json::from_value::<Condition>(value) {
                Ok(c) if current(c.clinical_status.as_ref(), "condition-clinical") => conditions.push(c),
                Ok(_) => *others.entry("Condition (not active)".into()).or_default() += 1,
                Err(e) => return Err(file_error(format!("{source} (Condition) cannot be read: {e}."))),
            },
            "Observation" => match serde_json::from_value::<Observation>(value) {
                Ok(o)
                    if [BLOOD_GROUP.0, PREGNANCY_STATUS.0]
                        .iter()
                        .any(|c| o.code.as_ref().is_some_and(|k| k.has(LOINC, c))) =>
                {
                    observations.push(o)
                }
                Ok(_) => {
                    *others
                        .entry("Observation (other than the blood group and pregnancy status)".into())
                        .or_default() += 1
                }
                Err(e) => return Err(file_error(format!("{source} (Observation) cannot be read: {e}."))),
            },
            _ => *others.entry(kind).or_default() += 1,
        }
    }
    // A clinical resource names its patient by the entry's full URL or as Patient/<id>: grouped by that name
    // once, so a migration's thousands of patients are not each matched against every resource.
    fn by_patient<T: Clone>(items: &[T], of: impl Fn(&T) -> Option<&super::model::Reference>) -> HashMap<&str, Vec<T>> {
        let mut grouped: HashMap<&str, Vec<T>> = HashMap::new();
        for item in items {
            if let Some(r) = of(item) {
                grouped.entry(r.reference.as_str()).or_default().push(item.clone());
            }
        }
        grouped
    }
    let (mut allergies_of, mut conditions_of, mut observations_of) = (
        by_patient(&allergies, |a: &AllergyIntolerance| a.patient.as_ref()),
        by_patient(&conditions, |c: &Condition| c.subject.as_ref()),
        by_patient(&observations, |o: &Observation| o.subject.as_ref()),
    );
    let mut found: Vec<Found> = Vec::new();
    for (source, full_url, value) in patients {
        let id = value.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let names: Vec<String> =
            full_url.into_iter().chain((!id.is_empty()).then(|| format!("Patient/{id}"))).collect();
        let label = if id.is_empty() { format!("{source} (Patient)") } else { format!("{source} (Patient/{id})") };
        let mut patient =
            Found { source: label, value, allergies: Vec::new(), conditions: Vec::new(), observations: Vec::new() };
        for name in &names {
            patient.allergies.extend(allergies_of.remove(name.as_str()).unwrap_or_default());
            patient.conditions.extend(conditions_of.remove(name.as_str()).unwrap_or_default());
            patient.observations.extend(observations_of.remove(name.as_str()).unwrap_or_default());
        }
        found.push(patient);
    }
    let placed = found.iter().map(|f| f.allergies.len() + f.conditions.len() + f.observations.len()).sum::<usize>();
    let orphans = (allergies.len() + conditions.len() + observations.len()).saturating_sub(placed);
    if orphans > 0 {
        others.insert("clinical resource(s) whose Patient is not in the file".into(), orphans);
    }
    let not_imported = others.into_iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    Ok(Read { patients: found, not_imported })
}

/// The resources of the file's one top-level value, each as (where, full URL, resource): a Patient, or a
/// Bundle's entries.
fn top_level(value: Value) -> Result<Vec<(String, Option<String>, Value)>, Error> {
    let Some(kind) = value.get("resourceType").and_then(Value::as_str) else {
        return Err(file_error("This is JSON, but not a FHIR resource: it has no resourceType."));
    };
    match kind {
        "Patient" => Ok(vec![("the file".into(), None, value)]),
        "Bundle" => {
            let bundle: Bundle =
                serde_json::from_value(value).map_err(|e| file_error(format!("The Bundle cannot be read: {e}.")))?;
            if !BUNDLE_TYPES.contains(&bundle.type_.as_str()) {
                return Err(file_error(format!(
                    "A Bundle of type \"{}\" carries no records to import; Galen reads {} Bundles.",
                    bundle.type_,
                    BUNDLE_TYPES.join(", ")
                )));
            }
            Ok(bundle
                .entry
                .into_iter()
                .enumerate()
                .filter_map(|(n, e)| Some((format!("entry {}", n + 1), Some(e.full_url), e.resource?)))
                .collect())
        }
        other => Err(file_error(format!(
            "The file holds one {other}; Galen imports a Patient, a Bundle, or NDJSON of Patients with their allergies and conditions."
        ))),
    }
}

/// Whether a clinical status (from FHIR's `system_tail` code system) says the allergy or condition still holds;
/// no status counts as current.
fn current(status: Option<&CodeableConcept>, system_tail: &str) -> bool {
    let system = format!("http://terminology.hl7.org/CodeSystem/{system_tail}");
    match status {
        None => true,
        Some(s) => ["active", "recurrence", "relapse"].iter().any(|code| s.has(&system, code)),
    }
}

fn concept_text(c: Option<&CodeableConcept>) -> Option<String> {
    let c = c?;
    let text = if c.text.trim().is_empty() {
        c.coding.iter().map(|c| c.display.trim()).find(|d| !d.is_empty())?.to_owned()
    } else {
        c.text.trim().to_owned()
    };
    Some(text)
}

/// A blood group or pregnancy status Observation into the clinical fields (the form's checks judge the value).
fn observation(o: &Observation, c: &mut Clinical) {
    let Some(value) = o.value_codeable_concept.as_ref() else { return };
    if o.code.as_ref().is_some_and(|k| k.has(LOINC, BLOOD_GROUP.0)) {
        c.blood_type = concept_text(Some(value)).unwrap_or_default();
    } else if let Some(found) = PREGNANCY_FINDINGS.iter().find(|f| value.has(SNOMED, f.1)) {
        c.pregnancy_status = found.0.to_owned();
        c.pregnancy_as_of = o.effective_date_time.get(..10).unwrap_or_default().to_owned();
    }
}

fn allergy(a: &AllergyIntolerance) -> Allergy {
    let reaction = a.reaction.first();
    let severity = reaction.map(|r| r.severity.as_str()).filter(|s| ["mild", "moderate", "severe"].contains(s));
    Allergy {
        substance: concept_text(a.code.as_ref()).unwrap_or_default(),
        severity: severity.unwrap_or("unknown").to_owned(),
        reaction: reaction.and_then(|r| concept_text(r.manifestation.first())).unwrap_or_default(),
    }
}

/// The name to show for a Patient in a plan.
fn name_of(p: &Patient) -> String {
    match chosen_name(p) {
        Some(n) if !n.family.is_empty() || !n.given.is_empty() => format!("{} {}", n.given.join(" "), n.family),
        Some(n) => n.text.clone(),
        None => String::new(),
    }
}

/// The official name, else the usual one, else the first.
fn chosen_name(p: &Patient) -> Option<&HumanName> {
    ["official", "usual"].iter().find_map(|u| p.name.iter().find(|n| n.use_ == *u)).or(p.name.first())
}

/// A FHIR Patient as the registration form would have it. What cannot map (an unknown gender) is a field error.
fn to_new_patient(p: &Patient, today: time::Date) -> Result<NewPatient, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = chosen_name(p).cloned().unwrap_or_default();
    let sex = match p.gender.as_str() {
        "" | "unknown" => Sex::Unknown,
        "female" => Sex::Female,
        "male" => Sex::Male,
        "other" => Sex::Other,
        other => {
            errors.push(FieldError::new("gender", format!("\"{other}\" is not a FHIR gender.")));
            Sex::Unknown
        }
    };
    // A year (or year and month) alone is an estimated age, as the form records one.
    let (date_of_birth, estimated_age) = match p.birth_date.len() {
        4 | 7 => match p.birth_date[..4].parse::<i32>() {
            Ok(year) if year <= today.year() => (String::new(), Some((today.year() - year) as u32)),
            _ => {
                errors.push(FieldError::new("birthDate", "The date of birth is in the future."));
                (String::new(), None)
            }
        },
        _ => (p.birth_date.clone(), None),
    };
    let national_id = p
        .identifier
        .iter()
        .find(|i| i.type_.as_ref().is_some_and(|t| t.has(V2_0203, "NI")))
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let telecom = |system: &'static str| p.telecom.iter().filter(move |t| t.system == system).map(|t| t.value.clone());
    let address = p
        .address
        .first()
        .map(|a| {
            if a.text.is_empty() {
                let parts = a.line.iter().chain([&a.postal_code, &a.city, &a.country]);
                parts.filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(", ")
            } else {
                a.text.clone()
            }
        })
        .unwrap_or_default();
    let contact = p.contact.first().cloned().unwrap_or_default();
    let contact_name =
        contact
            .name
            .map(|n| {
                if n.text.is_empty() {
                    format!("{} {}", n.given.join(" "), n.family).trim().to_owned()
                } else {
                    n.text
                }
            })
            .unwrap_or_default();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewPatient {
        demographics: Demographics {
            given_names: name.given.join(" "),
            family_name: name.family.clone(),
            sex,
            date_of_birth,
            estimated_age,
            national_id,
            phones: telecom("phone").collect(),
            email: telecom("email").next().unwrap_or_default(),
            address,
            emergency_contact: EmergencyContact {
                name: contact_name,
                phone: contact
                    .telecom
                    .iter()
                    .find(|t| t.system == "phone")
                    .map(|t| t.value.clone())
                    .unwrap_or_default(),
                relation: contact.relationship.first().and_then(|r| concept_text(Some(r))).unwrap_or_default(),
            },
            // Consent to share is the patient's word to this clinic: asked again here, never carried over.
            consent_share: false,
        },
        clinical: None,
    })
}

/// A registration form's field error, named as the FHIR resource names the field.
fn fhir_field(e: FieldError) -> FieldError {
    let (head, rest) = e.field.split_once('.').unwrap_or((e.field.as_str(), ""));
    let field = match head {
        "given_names" => "name.given".to_owned(),
        "family_name" => "name.family".to_owned(),
        "date_of_birth" | "estimated_age" => "birthDate".to_owned(),
        "national_id" => "identifier (national ID)".to_owned(),
        "phones" => "telecom (phone)".to_owned(),
        "email" => "telecom (email)".to_owned(),
        "address" => "address".to_owned(),
        "emergency_contact" => "contact".to_owned(),
        "allergies" => format!("AllergyIntolerance {rest}"),
        "conditions" => format!("Condition {rest}"),
        other => other.to_owned(),
    };
    FieldError { field, message: e.message }
}
