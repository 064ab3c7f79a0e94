//! Printouts as PDF (printpdf, with the DejaVu fonts in assets/fonts embedded and subset): signed documents,
//! the patient ID card with labels, and the recovery-key sheet, in the paper size from settings. A signed
//! document is drawn from its signed canonical JSON and carries that JSON, its detached signature, the
//! doctor's public key and a record of how its pages were drawn (`drawing.rs`) as attachments, so
//! `galen verify FILE.pdf` can check the file itself, pages included (drawing is deterministic, `page.rs`); the
//! QR on the page lets a reader check the paper. Every save and print is audited.

pub mod attach;
mod compare;
pub mod drawing;
mod layout;
mod page;
pub mod print;
mod verify;

pub use layout::{timestamp, Listed, Look, Standing, Words};
pub use verify::{verify_file, FileProblem, FileVerified, Missing, MAX_PDF_BYTES};

/// The page comparison, for the `pdf_container` fuzz target.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_same_pages(printed: &lopdf::Document, signed: &lopdf::Document) -> Result<(), compare::Difference> {
    compare::same_pages(printed, signed)
}

use crate::appointments;
use crate::audit::table::Actor;
use crate::clinic::Clinic;
use crate::documents::{self, SignedParts};
use crate::error::Error;
use crate::patients;
use crate::permissions::Action;
use crate::recovery::RecoveryKey;
use crate::session::Session;
use crate::settings::{self, Settings};
use attach::Attachment;
use std::path::{Path, PathBuf};

/// What a signed-in user can print (the recovery sheet has its own door: `recovery_sheet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printout {
    /// A signed document, by id.
    Document(i64),
    /// A patient's ID card and labels, by patient id.
    PatientCard(i64),
    /// One doctor's appointments on a day (`YYYY-MM-DD`).
    DayList {
        /// The day.
        date: String,
        /// The doctor's staff id.
        doctor_id: i64,
    },
    /// An appointment card for the patient, by appointment id.
    AppointmentCard(i64),
    /// Who accessed a patient's record, from the audit trail, by MRN (admins).
    AccessReport(String),
}

/// A rendered printout.
pub struct Pdf {
    /// A suggested file name, e.g. `prescription-0193….pdf`.
    pub file_name: String,
    /// The PDF.
    pub bytes: Vec<u8>,
    /// The recovery sheet: with `galen.keys` it opens the data, so Galen writes it only where the person chose.
    pub(crate) holds_a_key: bool,
    /// Who rendered it, and the audit entry a save or print of it records: action suffix and entity.
    actor: Actor,
    audit: (&'static str, &'static str, String),
}

impl std::fmt::Debug for Pdf {
    // A printout holds patient data or the recovery key: never print its bytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pdf").field("file_name", &self.file_name).field("bytes", &self.bytes.len()).finish()
    }
}

/// Checks the permission and renders, without recording anything (callers audit what they do with it).
pub fn render(clinic: &Clinic, session: &Session, what: &Printout) -> Result<Pdf, Error> {
    let settings = settings::load(clinic.store())?;
    match what {
        Printout::Document(id) => {
            let conn = clinic.store().conn();
            let doc = documents::table::load(conn, *id)?;
            let actor = clinic.authorize(session, Action::DocumentPrint, Some(doc.patient_id))?;
            if !doc.signed {
                return Err(Error::invalid("document", "Only signed documents can be printed. Sign it first."));
            }
            let parts = documents::signed_parts(conn, &doc)?;
            let standing = match (doc.voided_by, doc.superseded_by) {
                (Some(v), _) => Standing::Voided { by: documents::table::uuid_of(conn, v)? },
                (None, Some(s)) => Standing::Superseded { by: documents::table::uuid_of(conn, s)? },
                (None, None) => Standing::Current,
            };
            let bytes = signed_document(&settings, &parts, &standing)?;
            let kind = doc.body.kind().replace('_', "-");
            Ok(Pdf {
                file_name: format!("{kind}-{}.pdf", doc.uuid),
                bytes,
                holds_a_key: false,
                actor,
                audit: ("document", "document", id.to_string()),
            })
        }
        Printout::PatientCard(id) => {
            let p = patients::get(clinic, session, *id)?;
            let actor = clinic.authorize(session, Action::PatientReadDemographics, Some(p.id))?;
            let snapshot = snapshot(&p);
            Ok(Pdf {
                file_name: format!("id-card-{}.pdf", p.mrn),
                bytes: layout::patient_card(&settings, &settings.site_name, &snapshot),
                holds_a_key: false,
                actor,
                audit: ("patient_card", "patient", p.id.to_string()),
            })
        }
        Printout::DayList { date, doctor_id } => {
            let actor = clinic.authorize(session, Action::AppointmentRead, None)?;
            let sheet = appointments::day_sheet(clinic, session, date, *doctor_id)?;
            Ok(Pdf {
                file_name: format!("day-list-{}-{}.pdf", sheet.date, file_part(&sheet.doctor_name)),
                bytes: layout::day_list(&settings, &sheet),
                holds_a_key: false,
                actor,
                audit: ("day_list", "doctor", format!("{doctor_id}@{}", sheet.date)),
            })
        }
        Printout::AppointmentCard(id) => {
            let card = appointments::card(clinic, session, *id)?;
            let actor = clinic.authorize(session, Action::AppointmentRead, Some(card.visit.patient.id))?;
            Ok(Pdf {
                file_name: format!("appointment-{}-{}.pdf", card.visit.date, card.visit.patient.mrn),
                bytes: layout::appointment_card(&settings, &card),
                holds_a_key: false,
                actor,
                audit: ("appointment_card", "appointment", id.to_string()),
            })
        }
        Printout::AccessReport(mrn) => {
            let actor = clinic.authorize(session, Action::AuditRead, None)?;
            let (rows, cut) = crate::audit::about_patient(clinic, session, mrn)?;
            let p = patients::find_by_mrn(clinic, session, mrn)?;
            let snapshot = snapshot(&p);
            let printed = layout::timestamp(&clinic.now_rfc3339());
            Ok(Pdf {
                file_name: format!("access-report-{}.pdf", p.mrn),
                bytes: layout::access_report(&settings, &snapshot, &rows, cut, &printed),
                holds_a_key: false,
                actor,
                audit: ("access_report", "patient", p.id.to_string()),
            })
        }
    }
}

/// The patient's own copy of their record, readable (for the record copy `fhir::record_copy` writes; the caller has
/// checked the permissions and chosen what the exporting account may see).
pub(crate) fn record_summary(
    settings: &Settings,
    p: &patients::Patient,
    clinical: Option<&patients::Clinical>,
    documents: &[Listed],
    printed: &str,
) -> Vec<u8> {
    layout::record_summary(settings, p, clinical, documents, &layout::timestamp(printed))
}

/// The access report's pages for a chart whose rows the caller read (the record copy; `Printout::AccessReport`
/// is the admin's door).
pub(crate) fn access_report_pages(
    settings: &Settings,
    p: &patients::Patient,
    rows: &[crate::audit::Entry],
    cut: bool,
    printed: &str,
) -> Vec<u8> {
    layout::access_report(settings, &snapshot(p), rows, cut, &layout::timestamp(printed))
}

/// The patient as a printout names them.
fn snapshot(p: &patients::Patient) -> documents::PatientSnapshot {
    documents::PatientSnapshot {
        mrn: p.mrn.clone(),
        given_names: p.demographics.given_names.clone(),
        family_name: p.demographics.family_name.clone(),
        date_of_birth: p.demographics.date_of_birth.clone(),
    }
}

/// A name made safe for a file name: letters and digits, the rest as dashes.
fn file_part(name: &str) -> String {
    let dashed: String = name.chars().map(|c| if c.is_alphanumeric() { c } else { '-' }).collect();
    dashed.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-").to_lowercase()
}

/// The recovery-key sheet. Holding the clinic's current recovery key is the permission: it already opens the
/// database, so the sheet reveals nothing new, and it can be printed at setup before anyone has signed in. A
/// key that does not open this database is refused, so a mistyped sheet is never printed.
pub fn recovery_sheet(clinic: &Clinic, key: &RecoveryKey) -> Result<Pdf, Error> {
    clinic
        .vault()
        .key_file()?
        .unwrap_with_recovery(key)
        .map_err(|_| Error::invalid("recovery_key", "This is not the clinic's current recovery key."))?;
    let settings = settings::load(clinic.store())?;
    let date = clinic.now().date().to_string();
    Ok(Pdf {
        file_name: format!("galen-recovery-key-{date}.pdf"),
        bytes: layout::recovery_sheet(&settings, &settings.site_name, key.display_secret().expose(), &date),
        holds_a_key: true,
        actor: Actor::system(),
        audit: ("recovery_sheet", "clinic", String::new()),
    })
}

/// A signed document's PDF from its verified parts: the pages drawn from the signed JSON, plus four
/// attachments: the JSON, its signature, the doctor's key and the drawing record. `render` is the checked way in
/// (the benchmark calls this directly).
pub(crate) fn signed_document(settings: &Settings, parts: &SignedParts, standing: &Standing) -> Result<Vec<u8>, Error> {
    let SignedParts { canonical, signature, public_key, qr } = parts;
    let unreadable = || Error::Printout("the signed document is of a kind this version of Galen cannot print".into());
    let signed: documents::Signed = serde_json::from_str(canonical).map_err(|_| unreadable())?;
    let body = signed.body().ok_or_else(unreadable)?;
    let look = Look::from(settings);
    let texts: Vec<String> = qr.iter().map(|q| q.text.clone()).collect();
    let record = drawing::Drawing::new(&look, standing, &texts);
    let mut doc = layout::document(&look, &signed, &body, standing, qr, canonical.as_bytes());
    let attachments = [
        Attachment {
            name: format!("{}.json", signed.document),
            mime: "application/json",
            bytes: canonical.as_bytes().into(),
        },
        Attachment {
            name: format!("{}.json.asc", signed.document),
            mime: "application/pgp-signature",
            bytes: signature.as_bytes().into(),
        },
        Attachment {
            name: format!("doctor-{}.asc", signed.signer.fingerprint),
            mime: "application/pgp-keys",
            bytes: public_key.as_bytes().into(),
        },
        Attachment { name: drawing::NAME.into(), mime: "application/json", bytes: record.to_json() },
    ];
    let failed = |e: String| Error::Printout(format!("the signature could not be attached ({e})"));
    attach::embed_into(&mut doc, &attachments).map_err(failed)?;
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| failed(e.to_string()))?;
    Ok(out)
}

/// Writes a rendered PDF to `path` (owner-only), and audits it as `pdf.save.<what>`.
pub fn save(clinic: &Clinic, pdf: &Pdf, path: &Path) -> Result<PathBuf, Error> {
    if path.extension().and_then(|e| e.to_str()).map(|e| e.eq_ignore_ascii_case("pdf")) != Some(true) {
        return Err(Error::invalid("path", "Save the file with a .pdf name."));
    }
    crate::files::write_private(path, &pdf.bytes)?;
    pdf.record(clinic, "save")?;
    Ok(path.to_owned())
}

impl Pdf {
    /// Audits what was done with this printout, e.g. `pdf.print.document`.
    pub(crate) fn record(&self, clinic: &Clinic, verb: &str) -> Result<(), Error> {
        let (what, entity, id) = &self.audit;
        clinic.audit(&self.actor, &format!("pdf.{verb}.{what}"), (entity, id), crate::audit::table::Outcome::Ok)
    }
}
