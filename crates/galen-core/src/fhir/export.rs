//! A patient's record as FHIR R4: one signed International Patient Summary Bundle for a patient, or every patient
//! as newline-delimited JSON per resource type (FHIR Bulk Data's shape). docs/fhir.md maps each field.

use super::model::*;
use crate::audit::table::{self as audit, Actor, Entry as AuditRow, Outcome};
use crate::clinic::Clinic;
use crate::documents::{self, Body, Document, RxLine, SignedParts};
use crate::error::{Error, Missing};
use crate::patients::{self, Clinical, Patient as Record};
use crate::permissions::Action;
use crate::session::Session;
use data_encoding::BASE64;
use uuid::Uuid;

/// What a signature's bytes are: an armored OpenPGP detached signature, as `gpg --verify` reads it.
pub const SIG_FORMAT: &str = "application/pgp-signature";

/// A patient's summary, signed by the clinic, ready to be written.
#[derive(Clone)]
pub struct Summary {
    /// A suggested file name, e.g. `patient-summary-K7QX2M4.json`.
    pub file_name: String,
    /// The Bundle as pretty JSON (its signature covers its RFC 8785 form without `signature`).
    pub json: Vec<u8>,
    /// Signed documents that stayed behind because they do not verify (their uuids).
    pub left_out: Vec<String>,
}

impl std::fmt::Debug for Summary {
    // The Bundle is a patient's whole record: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summary")
            .field("file_name", &self.file_name)
            .field("json", &self.json.len())
            .finish_non_exhaustive()
    }
}

impl Summary {
    /// Writes the Bundle where the person chose, readable by its owner only.
    pub fn save(&self, path: &std::path::Path) -> Result<(), Error> {
        crate::files::write_private(path, &self.json)
    }
}

/// How references are written: inside a Bundle every resource is `urn:uuid:…`; in NDJSON files, `Type/id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Bundle,
    Bulk,
}

impl Style {
    fn url(self, kind: &str, id: &str) -> String {
        match self {
            Style::Bundle => format!("urn:uuid:{id}"),
            Style::Bulk => format!("{kind}/{id}"),
        }
    }
}

/// Everything read for one chart, under the exporter's permissions.
struct Chart {
    record: Record,
    clinical: Option<Clinical>,
    /// Signed documents that verify.
    documents: Vec<Signed>,
    left_out: Vec<String>,
    access: Option<(Vec<AuditRow>, bool)>,
}

/// A signed document that verifies, with its PDF when asked for, how it stands, and the uuid of the document it
/// corrects.
struct Signed {
    doc: Document,
    parts: SignedParts,
    /// Its printout's file name and bytes.
    pdf: Option<(String, Vec<u8>)>,
    standing: Standing,
    replaces: Option<String>,
}

/// A signed document as it stands now.
#[derive(Debug, Clone)]
enum Standing {
    Current,
    Voided { reason: String },
    Superseded { by: String },
}

/// The patient's summary as one signed IPS document Bundle, with their signed documents (PDFs included) and the
/// access report. Doctors export everything; an admin's export carries demographics only (sections say
/// "withheld"). Audited as `fhir.export`.
pub fn patient_summary(clinic: &Clinic, session: &Session, mrn: &str) -> Result<Summary, Error> {
    clinic.authorize(session, Action::RecordExport, None)?;
    let conn = clinic.store().conn();
    let code = crate::mrn::parse(mrn).map_err(|m| Error::invalid("mrn", m))?;
    let id = patients::table::by_mrn(conn, &crate::mrn::normalize(&code))?
        .ok_or_else(|| Error::NotFound(Missing::Mrn(code.to_string())))?;
    Ok(summarize(clinic, session, id)?.0)
}

/// The summary of the chart `id` leads to (following a merge), and what was read for it.
fn summarize(clinic: &Clinic, session: &Session, id: i64) -> Result<(Summary, Chart), Error> {
    let id = patients::table::require(clinic.store().conn(), id)?.merged_into.unwrap_or(id);
    let actor = clinic.authorize(session, Action::RecordExport, Some(id))?;
    let chart = read_chart(clinic, session, id, true)?;
    let site = Site::of(clinic)?;
    let now = clinic.now_rfc3339();
    let resources = Resources::of(&chart, &site, Style::Bundle);
    let mut bundle = resources.ips_bundle(&chart, &site, &now);
    sign(clinic, &actor, &mut bundle, &resources.org_url)?;
    let json = serde_json::to_vec_pretty(&bundle).map_err(|e| Error::invalid("fhir", e.to_string()))?;
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "fhir.export", ("patient", &id.to_string()), Outcome::Ok))?;
    tracing::info!(patient_id = id, documents = chart.documents.len(), "patient summary exported");
    let file_name = format!("patient-summary-{}.json", chart.record.mrn);
    Ok((Summary { file_name, json, left_out: chart.left_out.clone() }, chart))
}

/// The folder name `record_copy` suggests for a patient, e.g. `record-K7QX2M4`; checks the permission first,
/// so a front end asks where to save only someone who may.
pub fn record_copy_name(clinic: &Clinic, session: &Session, patient_id: i64) -> Result<String, Error> {
    clinic.authorize(session, Action::RecordExport, Some(patient_id))?;
    Ok(format!("record-{}", patients::table::require(clinic.store().conn(), patient_id)?.mrn))
}

/// What `record_copy` wrote.
#[derive(Debug, Clone)]
pub struct RecordCopy {
    /// The folder.
    pub folder: std::path::PathBuf,
    /// Its files, in the order a reader opens them.
    pub files: Vec<String>,
    /// Signed documents that stayed behind because they do not verify.
    pub left_out: Vec<String>,
}

/// The copy of a record a patient asks for, in a new folder `dir`: a readable summary (PDF), the signed IPS
/// (JSON), who accessed the record (PDF), and every signed document's PDF. `dir` must not exist yet, or be
/// empty, so no earlier copy is mixed in. Audited as `fhir.export`.
pub fn record_copy(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
    dir: &std::path::Path,
) -> Result<RecordCopy, Error> {
    clinic.authorize(session, Action::RecordExport, Some(patient_id))?;
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Error::invalid("folder", "That folder already holds files: choose a new folder name."));
    }
    let (summary, chart) = summarize(clinic, session, patient_id)?;
    let settings = crate::settings::load(clinic.store())?;
    let now = clinic.now_rfc3339();
    let mrn = &chart.record.mrn;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let listed: Vec<crate::pdf::Listed> = chart
        .documents
        .iter()
        .map(|s| crate::pdf::Listed {
            signed_at: s.doc.signed_at.clone().unwrap_or_default(),
            kind: s.doc.body.kind().to_owned(),
            signer: s.doc.signer.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
            standing: match &s.standing {
                Standing::Current => "current",
                Standing::Voided { .. } => "voided",
                Standing::Superseded { .. } => "superseded",
            },
            file: s.pdf.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
        })
        .collect();
    let record = crate::pdf::record_summary(&settings, &chart.record, chart.clinical.as_ref(), &listed, &now);
    files.push((format!("record-{mrn}.pdf"), record));
    files.push((summary.file_name.clone(), summary.json));
    if let Some((rows, cut)) = &chart.access {
        files.push((
            format!("access-report-{mrn}.pdf"),
            crate::pdf::access_report_pages(&settings, &chart.record, rows, *cut, &now),
        ));
    }
    for s in &chart.documents {
        files.extend(s.pdf.clone());
    }
    std::fs::create_dir_all(dir).map_err(crate::error::io("create the folder", dir))?;
    for (name, bytes) in &files {
        crate::files::write_private(&dir.join(name), bytes)?;
    }
    Ok(RecordCopy {
        folder: dir.to_owned(),
        files: files.into_iter().map(|f| f.0).collect(),
        left_out: summary.left_out,
    })
}

/// What a bulk export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bulk {
    /// Patients exported.
    pub patients: usize,
    /// Each file written and how many resources it holds, e.g. (`Patient.ndjson`, 120).
    pub files: Vec<(String, usize)>,
    /// Signed documents that stayed behind because they do not verify.
    pub left_out: Vec<String>,
}

/// Every patient who consented to sharing (or every patient, `everyone`, for a clinic moving to another system) as
/// NDJSON files in `dir`, one per resource type, with the signed documents' JSON and signatures (no PDFs).
/// `progress(done, total)` is called after each patient. One `fhir.export` audit row per patient.
pub fn bulk(
    clinic: &Clinic,
    session: &Session,
    dir: &std::path::Path,
    everyone: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Bulk, Error> {
    let actor = clinic.authorize(session, Action::RecordExport, None)?;
    let conn = clinic.store().conn();
    let ids = patients::table::chart_ids(conn, !everyone)?;
    let site = Site::of(clinic)?;
    let mut files: std::collections::BTreeMap<&'static str, Vec<u8>> = std::collections::BTreeMap::new();
    let mut counts: std::collections::BTreeMap<&'static str, usize> = std::collections::BTreeMap::new();
    let mut left_out = Vec::new();
    let mut shared = std::collections::BTreeSet::new();
    for (done, &id) in ids.iter().enumerate() {
        let chart = read_chart(clinic, session, id, false)?;
        left_out.extend(chart.left_out.iter().cloned());
        for (kind, id, value) in Resources::of(&chart, &site, Style::Bulk).all() {
            // The clinic, and a doctor who signed for many patients, are written once.
            if matches!(kind, "Practitioner" | "Organization") && !shared.insert((kind, id)) {
                continue;
            }
            let file = files.entry(kind).or_default();
            file.extend(serde_json::to_vec(&value).unwrap_or_default());
            file.push(b'\n');
            *counts.entry(kind).or_default() += 1;
        }
        progress(done + 1, ids.len());
    }
    std::fs::create_dir_all(dir).map_err(crate::error::io("create the folder", dir))?;
    let mut written = Vec::new();
    for (kind, bytes) in &files {
        let name = format!("{kind}.ndjson");
        crate::files::write_private(&dir.join(&name), bytes)?;
        written.push((name, counts[kind]));
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        for id in &ids {
            audit::record(tx, &now, &actor, "fhir.export", ("patient", &id.to_string()), Outcome::Ok)?;
        }
        Ok(())
    })?;
    tracing::info!(patients = ids.len(), "bulk FHIR export written");
    Ok(Bulk { patients: ids.len(), files: written, left_out })
}

fn read_chart(clinic: &Clinic, session: &Session, id: i64, for_the_patient: bool) -> Result<Chart, Error> {
    let conn = clinic.store().conn();
    let (record, clinical) = patients::table::get(conn, id)?.ok_or(Error::NotFound(Missing::Patient(id)))?;
    let clinical = clinic.permits(session, Action::PatientReadClinical, Some(id))?.map(|_| clinical);
    let mut documents = Vec::new();
    let mut left_out = Vec::new();
    if clinic.permits(session, Action::DocumentRead, Some(id))?.is_some() {
        let printable = for_the_patient && clinic.permits(session, Action::DocumentPrint, Some(id))?.is_some();
        let records: Vec<i64> = patients::table::records_in_chart(conn, id)?.into_iter().map(|r| r.0).collect();
        for (doc_id, uuid) in documents::table::of_patients(conn, &records)? {
            let doc = documents::table::load(conn, doc_id)?;
            // Drafts are not part of the record yet; a void notice is told by the document it voids.
            if !doc.signed || matches!(doc.body, Body::Void(_)) {
                continue;
            }
            let parts = match documents::signed_parts(conn, &doc) {
                Ok(parts) => parts,
                Err(Error::DoesNotVerify { .. }) => {
                    left_out.push(uuid);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let standing = match (doc.voided_by, doc.superseded_by) {
                (Some(v), _) => match documents::table::load(conn, v)?.body {
                    Body::Void(notice) => Standing::Voided { reason: notice.reason },
                    _ => Standing::Voided { reason: String::new() },
                },
                (None, Some(s)) => Standing::Superseded { by: documents::table::uuid_of(conn, s)? },
                (None, None) => Standing::Current,
            };
            let pdf = if printable {
                let printed = crate::pdf::render(clinic, session, &crate::pdf::Printout::Document(doc_id))?;
                Some((printed.file_name, printed.bytes))
            } else {
                None
            };
            let replaces = doc.supersedes.map(|old| documents::table::uuid_of(conn, old)).transpose()?;
            documents.push(Signed { doc, parts, pdf, standing, replaces });
        }
    }
    let access = if for_the_patient { Some(crate::audit::access_report(conn, id)?) } else { None };
    Ok(Chart { record, clinical, documents, left_out, access })
}

/// The clinic as the export names it: its name and the namespace of its record numbers.
struct Site {
    name: String,
    /// `urn:uuid:<database id>`: the system of this clinic's MRNs, and its Organization's id.
    id: String,
}

impl Site {
    fn of(clinic: &Clinic) -> Result<Site, Error> {
        let name =
            crate::settings::table::site_name_conn(clinic.store().conn())?.unwrap_or_else(|| "Galen clinic".into());
        Ok(Site { name, id: clinic.store().db_id()? })
    }

    /// The system URI under which this clinic's MRNs are unique.
    fn mrn_system(&self) -> String {
        format!("urn:uuid:{}", self.id)
    }
}

/// A name-based id for a resource Galen keeps no uuid of (a prescription's line, a signature, an audit row),
/// the same at every export.
fn derived_id(of: &str, what: &str) -> String {
    let namespace = Uuid::parse_str(of).unwrap_or(Uuid::NAMESPACE_URL);
    Uuid::new_v5(&namespace, what.as_bytes()).to_string()
}

/// One chart's resources, each as (type, id, typed value), in the order a reader meets them.
struct Resources {
    style: Style,
    patient_url: String,
    org_url: String,
    patient: Patient,
    organization: Organization,
    allergies: Vec<AllergyIntolerance>,
    conditions: Vec<Condition>,
    /// The blood group, then the pregnancy status, when recorded.
    observations: Vec<Observation>,
    medications: Vec<MedicationRequest>,
    documents: Vec<DocumentReference>,
    practitioners: Vec<Practitioner>,
    provenance: Vec<Provenance>,
    access: Vec<AuditEvent>,
}

impl Resources {
    fn of(chart: &Chart, site: &Site, style: Style) -> Resources {
        let p = &chart.record;
        let patient_url = style.url("Patient", &p.uuid);
        let org_url = style.url("Organization", &site.id);
        let mut out = Resources {
            style,
            patient: patient(p, site),
            organization: Organization {
                resource_type: "Organization".into(),
                id: site.id.clone(),
                identifier: vec![Identifier { system: URI.into(), value: site.mrn_system(), ..Default::default() }],
                name: site.name.clone(),
            },
            allergies: Vec::new(),
            conditions: Vec::new(),
            observations: Vec::new(),
            medications: Vec::new(),
            documents: Vec::new(),
            practitioners: Vec::new(),
            provenance: Vec::new(),
            access: Vec::new(),
            patient_url,
            org_url,
        };
        if let Some(c) = &chart.clinical {
            out.clinical(c, &p.uuid);
            out.observations(c, &p.uuid);
        }
        for signed in &chart.documents {
            out.document(signed);
        }
        if let Some((rows, _)) = &chart.access {
            out.access = rows.iter().map(|r| out.audit_event(r, &p.uuid)).collect();
        }
        out
    }

    fn clinical(&mut self, c: &Clinical, patient_uuid: &str) {
        for (i, a) in c.allergies.iter().enumerate() {
            let severity = if a.severity == "unknown" { String::new() } else { a.severity.clone() };
            let mut allergy = AllergyIntolerance {
                resource_type: "AllergyIntolerance".into(),
                id: derived_id(patient_uuid, &format!("allergy/{i}")),
                clinical_status: Some(CodeableConcept::code(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "active",
                    "Active",
                )),
                code: CodeableConcept::text(&a.substance),
                patient: Reference::to(&self.patient_url),
                ..Default::default()
            };
            if !a.reaction.is_empty() {
                allergy.reaction = vec![Reaction {
                    manifestation: CodeableConcept::text(&a.reaction).into_iter().collect(),
                    severity,
                }];
            } else if !severity.is_empty() {
                // FHIR words severity per reaction; with none recorded it stays in a note.
                allergy.note = vec![Annotation { text: format!("Severity: {severity}") }];
            }
            self.allergies.push(allergy);
        }
        for (i, condition) in c.conditions.iter().enumerate() {
            self.conditions.push(Condition {
                resource_type: "Condition".into(),
                id: derived_id(patient_uuid, &format!("condition/{i}")),
                clinical_status: Some(CodeableConcept::code(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "active",
                    "Active",
                )),
                category: vec![CodeableConcept::code(
                    "http://terminology.hl7.org/CodeSystem/condition-category",
                    "problem-list-item",
                    "Problem List Item",
                )],
                code: CodeableConcept::text(condition),
                subject: Reference::to(&self.patient_url),
            });
        }
    }

    fn observations(&mut self, c: &Clinical, patient_uuid: &str) {
        let observation =
            |what: &str, code: (&str, &str), category: &str, value: CodeableConcept, when: &str| Observation {
                resource_type: "Observation".into(),
                id: derived_id(patient_uuid, what),
                status: "final".into(),
                category: vec![CodeableConcept::code(
                    "http://terminology.hl7.org/CodeSystem/observation-category",
                    category,
                    &crate::documents::wording::Words::EN.value(category),
                )],
                code: Some(CodeableConcept::code(LOINC, code.0, code.1)),
                subject: Reference::to(&self.patient_url),
                effective_date_time: when.to_owned(),
                value_codeable_concept: Some(value),
            };
        // The blood group in words: SNOMED's codes for it are not carried, never guessed.
        if let Some(group) = CodeableConcept::text(&c.blood_type) {
            self.observations.push(observation("blood-group", BLOOD_GROUP, "laboratory", group, ""));
        }
        let finding = PREGNANCY_FINDINGS.iter().find(|f| f.0 == c.pregnancy_status);
        if let Some((_, code, display)) = finding.filter(|f| f.0 != "unknown" || !c.pregnancy_as_of.is_empty()) {
            let value = CodeableConcept::code(SNOMED, code, display);
            self.observations.push(observation(
                "pregnancy",
                PREGNANCY_STATUS,
                "social-history",
                value,
                &c.pregnancy_as_of,
            ));
        }
    }

    fn practitioner(&mut self, fingerprint: &str, name: &str, licence: &str) -> String {
        let id = derived_id("", &format!("openpgp4fpr:{fingerprint}"));
        if !self.practitioners.iter().any(|p| p.id == id) {
            let mut identifier = vec![Identifier {
                system: "urn:openpgp:fingerprint".into(),
                value: fingerprint.into(),
                ..Default::default()
            }];
            if !licence.is_empty() {
                identifier.push(Identifier {
                    type_: Some(CodeableConcept::code(V2_0203, "MD", "Medical License number")),
                    value: licence.into(),
                    ..Default::default()
                });
            }
            self.practitioners.push(Practitioner {
                resource_type: "Practitioner".into(),
                id: id.clone(),
                identifier,
                name: vec![HumanName { text: name.into(), ..Default::default() }],
            });
        }
        self.style.url("Practitioner", &id)
    }

    fn document(&mut self, signed: &Signed) {
        let Signed { doc, parts, pdf, standing, replaces } = signed;
        // Signed documents always name their signer.
        let Some(signer) = doc.signer.clone() else { return };
        let signed_at = doc.signed_at.clone().unwrap_or_default();
        let practitioner = self.practitioner(&signer.fingerprint, &signer.name, &signer.licence);
        let doc_url = self.style.url("DocumentReference", &doc.uuid);
        let title = documents::wording::Words::EN.title(doc.body.kind());
        let (status, description) = match standing {
            Standing::Current => ("current", String::new()),
            Standing::Voided { reason } => ("entered-in-error", format!("Voided: {reason}")),
            Standing::Superseded { by } => ("superseded", format!("Replaced by the correction {by}.")),
        };
        let relates_to = replaces
            .iter()
            .map(|old| RelatesTo {
                code: "replaces".into(),
                target: Reference::to(&self.style.url("DocumentReference", old)),
            })
            .collect();
        let mut content = Vec::new();
        let attachment = |content_type: &str, data: &[u8], title: &str| Content {
            attachment: Some(Attachment {
                content_type: content_type.into(),
                data: BASE64.encode(data),
                title: title.into(),
                creation: signed_at.clone(),
                ..Default::default()
            }),
        };
        if let Some((_, pdf)) = pdf {
            content.push(attachment("application/pdf", pdf, &format!("{title} (signed PDF)")));
        }
        content.push(attachment("application/json", parts.canonical.as_bytes(), "The signed JSON (RFC 8785)"));
        content.push(attachment("application/pgp-keys", parts.public_key.as_bytes(), "The doctor's public key"));
        self.documents.push(DocumentReference {
            resource_type: "DocumentReference".into(),
            id: doc.uuid.clone(),
            master_identifier: Some(Identifier {
                system: URI.into(),
                value: format!("urn:uuid:{}", doc.uuid),
                ..Default::default()
            }),
            status: status.into(),
            doc_status: "final".into(),
            type_: CodeableConcept::text(title),
            subject: Reference::to(&self.patient_url),
            date: signed_at.clone(),
            author: Reference::to(&practitioner).into_iter().collect(),
            description,
            relates_to,
            content,
        });
        let mut targets = vec![doc_url.clone()];
        if let Body::Prescription(rx) = &doc.body {
            for (n, line) in rx.lines.iter().enumerate() {
                let m = self.medication(doc, &rx.issued_on, line, n, standing, &practitioner, &doc_url);
                targets.push(self.style.url("MedicationRequest", &m.id));
                self.medications.push(m);
            }
        }
        self.provenance.push(Provenance {
            resource_type: "Provenance".into(),
            id: derived_id(&doc.uuid, "provenance"),
            target: targets.iter().filter_map(|t| Reference::to(t)).collect(),
            recorded: signed_at.clone(),
            agent: vec![ProvenanceAgent { who: Reference::to(&practitioner) }],
            signature: vec![Signature {
                type_: vec![Coding {
                    system: SIGNATURE_TYPE.into(),
                    code: "1.2.840.10065.1.12.1.1".into(),
                    display: "Author's Signature".into(),
                }],
                when: signed_at,
                who: Reference::to(&practitioner),
                sig_format: SIG_FORMAT.into(),
                data: BASE64.encode(parts.signature.as_bytes()),
            }],
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn medication(
        &self,
        doc: &Document,
        issued_on: &str,
        l: &RxLine,
        n: usize,
        standing: &Standing,
        practitioner: &str,
        doc_url: &str,
    ) -> MedicationRequest {
        let (status, reason) = match standing {
            Standing::Current => ("active", None),
            Standing::Voided { reason } => ("cancelled", CodeableConcept::text(&format!("Voided: {reason}"))),
            Standing::Superseded { .. } => ("cancelled", CodeableConcept::text("Replaced by a correction.")),
        };
        let (unit_system, unit_code) = ucum(&l.dose_unit);
        let dose = serde_json::from_str::<serde_json::Number>(&l.dose).ok();
        let timing = (!l.prn).then(|| Timing {
            repeat: Some(TimingRepeat {
                frequency: Some(1),
                period: Some(l.frequency),
                period_unit: match l.frequency_unit.as_str() {
                    "hours" => "h",
                    "days" => "d",
                    _ => "wk",
                }
                .into(),
            }),
        });
        let supply = (l.duration > 0).then(|| {
            let (code, unit) = match l.duration_period.as_str() {
                "days" => ("d", "days"),
                "weeks" => ("wk", "weeks"),
                _ => ("mo", "months"),
            };
            Duration { value: Some(l.duration), unit: unit.into(), system: UCUM.into(), code: code.into() }
        });
        MedicationRequest {
            resource_type: "MedicationRequest".into(),
            id: derived_id(&doc.uuid, &format!("line/{n}")),
            status: status.into(),
            status_reason: reason,
            intent: "order".into(),
            medication_codeable_concept: CodeableConcept::text(&l.medicament),
            subject: Reference::to(&self.patient_url),
            authored_on: doc.signed_at.clone().unwrap_or_default(),
            requester: Reference::to(practitioner),
            reason_code: CodeableConcept::text(&l.indication).into_iter().collect(),
            group_identifier: Some(Identifier {
                system: URI.into(),
                value: format!("urn:uuid:{}", doc.uuid),
                ..Default::default()
            }),
            note: Vec::new(),
            supporting_information: Reference::to(doc_url).into_iter().collect(),
            dosage_instruction: vec![Dosage {
                text: documents::wording::Words::EN.rx_line(l),
                patient_instruction: l.comment.clone(),
                timing,
                as_needed_boolean: Some(l.prn),
                route: CodeableConcept::text(&l.route),
                dose_and_rate: vec![DoseAndRate {
                    dose_quantity: Some(Quantity {
                        value: dose,
                        unit: l.dose_unit.clone(),
                        system: unit_system,
                        code: unit_code,
                    }),
                }],
            }],
            dispense_request: Some(DispenseRequest {
                validity_period: Some(Period { start: issued_on.into(), end: l.valid_until.clone() }),
                number_of_repeats_allowed: Some(l.refills),
                quantity: Some(Quantity { value: Some(l.quantity.into()), unit: l.form.clone(), ..Default::default() }),
                expected_supply_duration: supply,
            }),
            substitution: Some(Substitution { allowed_boolean: Some(l.allow_substitution) }),
        }
    }

    fn audit_event(&self, row: &AuditRow, patient_uuid: &str) -> AuditEvent {
        let action = row.action.rsplit('.').next().unwrap_or_default();
        let crud = match action {
            a if a.contains("create") => "C",
            a if ["update", "merge", "consent", "sign", "void", "correct"].iter().any(|w| a.contains(w)) => "U",
            _ => "R",
        };
        let outcome = if row.outcome == "ok" { "0" } else { "4" };
        AuditEvent {
            resource_type: "AuditEvent".into(),
            id: derived_id(patient_uuid, &format!("audit/{}", row.id)),
            type_: Some(Coding {
                system: "http://dicom.nema.org/resources/ontology/DCM".into(),
                code: "110110".into(),
                display: "Patient Record".into(),
            }),
            action: crud.into(),
            recorded: row.at.clone(),
            outcome: outcome.into(),
            outcome_desc: format!("{} ({})", crate::audit::actions::describe(&row.action), row.outcome),
            purpose_of_event: if row.break_glass {
                vec![CodeableConcept::code(
                    "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                    "ETREAT",
                    "Emergency Treatment",
                )]
            } else {
                Vec::new()
            },
            agent: vec![AuditAgent {
                role: CodeableConcept::text(&row.role).into_iter().collect(),
                who: Some(Reference { reference: String::new(), display: row.username.clone() }),
                requestor: Some(true),
                ..Default::default()
            }],
            source: Some(AuditSource { observer: Reference::to(&self.org_url) }),
            entity: vec![AuditEntity {
                what: Some(Reference { reference: String::new(), display: row.entity_type.clone() }),
            }],
        }
    }

    /// Every resource as (type, id, JSON), the patient first.
    fn all(&self) -> Vec<(&'static str, String, serde_json::Value)> {
        let mut out = Vec::new();
        let mut push = |kind: &'static str, id: &str, v: serde_json::Result<serde_json::Value>| {
            out.push((kind, id.to_owned(), v.unwrap_or_default()));
        };
        push("Patient", &self.patient.id, serde_json::to_value(&self.patient));
        push("Organization", &self.organization.id, serde_json::to_value(&self.organization));
        self.allergies.iter().for_each(|r| push("AllergyIntolerance", &r.id, serde_json::to_value(r)));
        self.conditions.iter().for_each(|r| push("Condition", &r.id, serde_json::to_value(r)));
        self.observations.iter().for_each(|r| push("Observation", &r.id, serde_json::to_value(r)));
        self.medications.iter().for_each(|r| push("MedicationRequest", &r.id, serde_json::to_value(r)));
        self.documents.iter().for_each(|r| push("DocumentReference", &r.id, serde_json::to_value(r)));
        self.practitioners.iter().for_each(|r| push("Practitioner", &r.id, serde_json::to_value(r)));
        self.provenance.iter().for_each(|r| push("Provenance", &r.id, serde_json::to_value(r)));
        self.access.iter().for_each(|r| push("AuditEvent", &r.id, serde_json::to_value(r)));
        out
    }

    /// The IPS document: a Composition naming the sections, then every resource.
    fn ips_bundle(&self, chart: &Chart, site: &Site, now: &str) -> Bundle {
        let withheld = chart.clinical.is_none();
        let url = |kind: &str, id: &str| self.style.url(kind, id);
        let section = |title: &str, loinc: Option<(&str, &str)>, lines: Vec<String>, entries: Vec<String>| Section {
            title: title.into(),
            code: loinc.map(|(code, display)| CodeableConcept::code(LOINC, code, display)),
            text: Some(narrative(if lines.is_empty() {
                vec![if withheld { "Withheld: not visible to the exporting account." } else { "None recorded." }
                    .to_owned()]
            } else {
                lines
            })),
            empty_reason: entries.is_empty().then(|| {
                if withheld {
                    CodeableConcept::code(EMPTY_REASON, "withheld", "Information Withheld")
                } else {
                    CodeableConcept::code(EMPTY_REASON, "unavailable", "Unavailable")
                }
            }),
            entry: entries.iter().filter_map(|e| Reference::to(e)).collect(),
        };
        let clinical = chart.clinical.clone().unwrap_or_default();
        let mut sections = vec![
            section(
                "Medication Summary",
                Some(("10160-0", "History of Medication use Narrative")),
                self.medications
                    .iter()
                    .map(|m| {
                        let text = m.dosage_instruction.first().map(|d| d.text.clone()).unwrap_or_default();
                        if m.status == "active" {
                            text
                        } else {
                            format!("{text} ({})", m.status)
                        }
                    })
                    .collect(),
                self.medications.iter().map(|m| url("MedicationRequest", &m.id)).collect(),
            ),
            section(
                "Allergies and Intolerances",
                Some(("48765-2", "Allergies and adverse reactions Document")),
                clinical
                    .allergies
                    .iter()
                    .map(|a| {
                        [a.substance.as_str(), a.severity.as_str(), a.reaction.as_str()]
                            .into_iter()
                            .filter(|s| !s.is_empty() && *s != "unknown")
                            .collect::<Vec<_>>()
                            .join(" — ")
                    })
                    .collect(),
                self.allergies.iter().map(|a| url("AllergyIntolerance", &a.id)).collect(),
            ),
            section(
                "Problem List",
                Some(("11450-4", "Problem list - Reported")),
                clinical.conditions.clone(),
                self.conditions.iter().map(|c| url("Condition", &c.id)).collect(),
            ),
        ];
        // The optional IPS sections, only when they hold something.
        for (title, loinc, code) in [
            ("Results", ("30954-2", "Relevant diagnostic tests/laboratory data Narrative"), BLOOD_GROUP.0),
            ("History of Pregnancy", ("10162-6", "History of pregnancies Narrative"), PREGNANCY_STATUS.0),
        ] {
            let held: Vec<&Observation> =
                self.observations.iter().filter(|o| o.code.as_ref().is_some_and(|c| c.has(LOINC, code))).collect();
            if !held.is_empty() {
                let lines = held
                    .iter()
                    .map(|o| {
                        let name = o.code.as_ref().map(|c| c.coding[0].display.clone()).unwrap_or_default();
                        let value = o.value_codeable_concept.as_ref().map(|v| {
                            if v.text.is_empty() {
                                v.coding.first().map(|c| c.display.clone()).unwrap_or_default()
                            } else {
                                v.text.clone()
                            }
                        });
                        format!("{name}: {}", value.unwrap_or_default())
                    })
                    .collect();
                sections.push(section(
                    title,
                    Some(loinc),
                    lines,
                    held.iter().map(|o| url("Observation", &o.id)).collect(),
                ));
            }
        }
        if !self.documents.is_empty() {
            sections.push(section(
                "Signed documents",
                None,
                self.documents
                    .iter()
                    .map(|d| {
                        let kind = d.type_.as_ref().map(|t| t.text.clone()).unwrap_or_default();
                        format!("{kind}, signed {} ({})", documents::wording::timestamp(&d.date), d.status)
                    })
                    .collect(),
                self.documents.iter().map(|d| url("DocumentReference", &d.id)).collect(),
            ));
        }
        if let Some((rows, cut)) = &chart.access {
            let mut lines: Vec<String> = rows
                .iter()
                .map(|r| {
                    let glass = if r.break_glass { " — emergency access" } else { "" };
                    format!(
                        "{} — {} ({}) — {}{glass}",
                        documents::wording::timestamp(&r.at),
                        r.username,
                        r.role,
                        crate::audit::actions::describe(&r.action)
                    )
                })
                .collect();
            if *cut {
                lines.insert(0, format!("Only the newest {} entries are listed.", crate::audit::ACCESS_REPORT_ROWS));
            }
            sections.push(section(
                "Record access",
                None,
                lines,
                self.access.iter().map(|a| url("AuditEvent", &a.id)).collect(),
            ));
        }
        let composition_id = Uuid::now_v7().to_string();
        let composition = Composition {
            resource_type: "Composition".into(),
            id: composition_id.clone(),
            status: "final".into(),
            type_: Some(CodeableConcept::code(LOINC, "60591-5", "Patient summary Document")),
            subject: Reference::to(&self.patient_url),
            date: now.into(),
            author: Reference::to(&self.org_url).into_iter().collect(),
            title: format!("Patient summary — {}", site.name),
            confidentiality: "R".into(),
            custodian: Reference::to(&self.org_url),
            section: sections,
        };
        let mut entry = vec![Entry {
            full_url: url("Composition", &composition_id),
            resource: serde_json::to_value(&composition).ok(),
        }];
        entry.extend(
            self.all().into_iter().map(|(kind, id, value)| Entry { full_url: url(kind, &id), resource: Some(value) }),
        );
        Bundle {
            resource_type: "Bundle".into(),
            id: Uuid::now_v7().to_string(),
            identifier: Some(Identifier {
                system: URI.into(),
                value: format!("urn:uuid:{}", Uuid::now_v7()),
                ..Default::default()
            }),
            type_: "document".into(),
            timestamp: now.into(),
            entry,
            signature: None,
        }
    }
}

/// The patient resource: MRN under the clinic's system, the national ID typed as such (no system: Galen does not
/// know which country issued it), an estimated birth date as its year only.
fn patient(p: &Record, site: &Site) -> Patient {
    let d = &p.demographics;
    let mut identifier = vec![Identifier {
        use_: "usual".into(),
        type_: Some(CodeableConcept::code(V2_0203, "MR", "Medical record number")),
        system: site.mrn_system(),
        value: p.mrn.clone(),
    }];
    if !d.national_id.is_empty() {
        identifier.push(Identifier {
            use_: "official".into(),
            type_: Some(CodeableConcept::code(V2_0203, "NI", "National unique individual identifier")),
            value: d.national_id.clone(),
            ..Default::default()
        });
    }
    let mut telecom: Vec<ContactPoint> =
        d.phones.iter().map(|v| ContactPoint { system: "phone".into(), value: v.clone() }).collect();
    if !d.email.is_empty() {
        telecom.push(ContactPoint { system: "email".into(), value: d.email.clone() });
    }
    let ec = &d.emergency_contact;
    let contact = (!ec.name.is_empty() || !ec.phone.is_empty()).then(|| PatientContact {
        relationship: CodeableConcept::text(&ec.relation).into_iter().collect(),
        name: (!ec.name.is_empty()).then(|| HumanName { text: ec.name.clone(), ..Default::default() }),
        telecom: (!ec.phone.is_empty())
            .then(|| ContactPoint { system: "phone".into(), value: ec.phone.clone() })
            .into_iter()
            .collect(),
    });
    Patient {
        resource_type: "Patient".into(),
        id: p.uuid.clone(),
        identifier,
        name: vec![HumanName {
            use_: "official".into(),
            family: d.family_name.clone(),
            given: d.given_names.split_whitespace().map(str::to_owned).collect(),
            ..Default::default()
        }],
        telecom,
        gender: d.sex.as_str().into(),
        birth_date: if p.dob_estimated {
            d.date_of_birth.get(..4).unwrap_or_default().into()
        } else {
            d.date_of_birth.clone()
        },
        deceased_boolean: p.deceased.then_some(true),
        deceased_date_time: String::new(),
        address: (!d.address.is_empty())
            .then(|| Address { text: d.address.clone(), ..Default::default() })
            .into_iter()
            .collect(),
        contact: contact.into_iter().collect(),
    }
}

/// A dose unit's UCUM system and code, where UCUM has one (tablets, drops and puffs stay words).
fn ucum(unit: &str) -> (String, String) {
    let code = match unit {
        "mg" => "mg",
        "g" => "g",
        "mcg" => "ug",
        "mL" => "mL",
        "IU" => "[IU]",
        _ => return (String::new(), String::new()),
    };
    (UCUM.into(), code.into())
}

/// Lines as the XHTML narrative FHIR asks every section to carry.
fn narrative(lines: Vec<String>) -> Narrative {
    let items: String = lines.iter().map(|l| format!("<li>{}</li>", escape(l))).collect();
    Narrative {
        status: "generated".into(),
        div: format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><ul>{items}</ul></div>"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Signs the Bundle with the clinic's site key: an OpenPGP detached signature over the RFC 8785 form of the
/// Bundle without `signature`, carried in `Bundle.signature` (who: the clinic).
fn sign(clinic: &Clinic, actor: &Actor, bundle: &mut Bundle, clinic_url: &str) -> Result<(), Error> {
    bundle.signature = None;
    let bytes = serde_jcs::to_vec(bundle).map_err(|e| Error::invalid("fhir", e.to_string()))?;
    let armored = crate::site::sign_detached(clinic, actor, &bytes)?;
    bundle.signature = Some(Signature {
        type_: vec![Coding {
            system: SIGNATURE_TYPE.into(),
            code: "1.2.840.10065.1.12.1.14".into(),
            display: "Source Signature".into(),
        }],
        when: bundle.timestamp.clone(),
        who: Reference::to(clinic_url),
        sig_format: SIG_FORMAT.into(),
        data: BASE64.encode(armored.as_bytes()),
    });
    Ok(())
}

/// Checks a Bundle's signature against the clinic's public key (armored): the signed bytes are the Bundle's RFC
/// 8785 form without `signature`.
pub fn verify_bundle(json: &[u8], site_public_key: &str) -> Result<(), crate::signing::BadSignature> {
    let bad = |m: &str| crate::signing::BadSignature(m.to_owned());
    let mut value: serde_json::Value = serde_json::from_slice(json).map_err(|_| bad("the file is not JSON"))?;
    let signature = value
        .as_object_mut()
        .and_then(|o| o.remove("signature"))
        .and_then(|s| s.get("data").and_then(|d| d.as_str()).map(str::to_owned))
        .ok_or_else(|| bad("the Bundle carries no signature"))?;
    let armored = BASE64.decode(signature.as_bytes()).map_err(|_| bad("the signature is not base64"))?;
    let bytes = serde_jcs::to_vec(&value).map_err(|_| bad("the Bundle cannot be put in canonical form"))?;
    crate::signing::verify_detached_raw(site_public_key, &armored, &bytes)
}
