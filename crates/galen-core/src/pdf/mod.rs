//! Printouts as PDF (printpdf, with the DejaVu fonts in assets/fonts embedded and subset): signed documents,
//! the patient ID card with labels, and the recovery-key sheet, in the paper size from settings. A signed
//! document is drawn from its signed canonical JSON and carries that JSON, its detached signature and the
//! doctor's public key as attachments, so `galen verify FILE.pdf` can check the file itself; the QR on the page
//! lets a reader check the paper. Every save and print is audited.

pub mod attach;
mod layout;
mod page;
pub mod print;

pub use layout::{rx_line, Standing};

use crate::audit::Actor;
use crate::clinic::Clinic;
use crate::documents::{self, Verification};
use crate::error::{Error, FieldError, FieldErrors};
use crate::permissions::Action;
use crate::session::Session;
use crate::signing::{self, BadSignature};
use crate::{patients, settings, RecoveryKey};
use attach::Attachment;
use std::path::{Path, PathBuf};

/// What a signed-in user can print (the recovery sheet has its own door: `recovery_sheet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printout {
    /// A signed document, by id.
    Document(i64),
    /// A patient's ID card and labels, by patient id.
    PatientCard(i64),
}

/// A rendered printout.
pub struct Pdf {
    /// A suggested file name, e.g. `prescription-0193….pdf`.
    pub file_name: String,
    pub bytes: Vec<u8>,
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

fn invalid(field: &str, message: &str) -> Error {
    Error::Invalid(FieldErrors::one(FieldError::new(field, message)))
}

/// Checks the permission and renders, without recording anything (callers audit what they do with it).
pub fn render(clinic: &Clinic, session: &Session, what: &Printout) -> Result<Pdf, Error> {
    let settings = settings::load(clinic.store())?;
    match what {
        Printout::Document(id) => {
            let doc = documents::load(clinic.store().conn(), *id)?;
            let actor = clinic.authorize(session, Action::DocumentPrint, Some(doc.patient_id))?;
            if !doc.signed {
                return Err(invalid("document", "Only signed documents can be printed. Sign it first."));
            }
            if let Verification::Invalid { problem } = documents::verify_stored(clinic.store().conn(), *id)? {
                return Err(Error::Signing {
                    reason: format!("refusing to print a document that does not verify: {problem}"),
                });
            }
            let conn = clinic.store().conn();
            let (canonical, signature, fpr): (String, String, String) = conn.query_row(
                "SELECT canonical, signature, signer_fingerprint FROM documents WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let key = signing::public_key(conn, &fpr)?;
            // None for documents signed before the QR existed (schema 10); they print without one.
            let qr = documents::stored_qr_text(conn, &doc)?;
            let uuid_of = |other: i64| -> Result<String, Error> {
                Ok(conn.query_row("SELECT uuid FROM documents WHERE id = ?1", [other], |r| r.get(0))?)
            };
            let standing = match (doc.voided_by, doc.superseded_by) {
                (Some(v), _) => Standing::Voided { by: uuid_of(v)? },
                (None, Some(s)) => Standing::Superseded { by: uuid_of(s)? },
                (None, None) => Standing::Current,
            };
            let bytes = signed_document(&settings, &canonical, &signature, &key, qr.as_deref(), &standing)?;
            let kind = doc.body.kind().replace('_', "-");
            Ok(Pdf {
                file_name: format!("{kind}-{}.pdf", doc.uuid),
                bytes,
                actor,
                audit: ("document", "document", id.to_string()),
            })
        }
        Printout::PatientCard(id) => {
            let p = patients::get(clinic, session, *id)?;
            let actor = clinic.authorize(session, Action::PatientReadDemographics, Some(p.id))?;
            let snapshot = documents::PatientSnapshot {
                mrn: p.mrn.clone(),
                given_names: p.demographics.given_names.clone(),
                family_name: p.demographics.family_name.clone(),
                date_of_birth: p.demographics.date_of_birth.clone(),
            };
            Ok(Pdf {
                file_name: format!("id-card-{}.pdf", p.mrn),
                bytes: layout::patient_card(&settings, &settings.site_name, &snapshot),
                actor,
                audit: ("patient_card", "patient", p.id.to_string()),
            })
        }
    }
}

/// The recovery-key sheet. Holding the clinic's current recovery key is the permission: it already opens the
/// database, so the sheet reveals nothing new, and it can be printed at setup before anyone has signed in. A
/// key that does not open this database is refused, so a mistyped sheet is never printed.
pub fn recovery_sheet(clinic: &Clinic, key: &RecoveryKey) -> Result<Pdf, Error> {
    clinic
        .vault()
        .key_file()?
        .unwrap_with_recovery(key)
        .map_err(|_| invalid("recovery_key", "This is not the clinic's current recovery key."))?;
    let settings = settings::load(clinic.store())?;
    let date = clinic.now().date().to_string();
    Ok(Pdf {
        file_name: format!("galen-recovery-key-{date}.pdf"),
        bytes: layout::recovery_sheet(&settings, &settings.site_name, key.display_secret().expose(), &date),
        actor: Actor::system(),
        audit: ("recovery_sheet", "clinic", String::new()),
    })
}

/// A signed document's PDF from its stored parts: the page drawn from `canonical`, plus the three attachments.
/// Public for the benchmark; `render` is the checked way in.
pub fn signed_document(
    settings: &settings::Settings,
    canonical: &str,
    signature: &str,
    public_key: &str,
    qr: Option<&str>,
    standing: &Standing,
) -> Result<Vec<u8>, Error> {
    let unreadable = |e: &dyn std::fmt::Display| Error::Signing { reason: format!("unreadable document: {e}") };
    let signed: documents::Signed = serde_json::from_str(canonical).map_err(|e| unreadable(&e))?;
    let body = signed.body().ok_or_else(|| unreadable(&"a body this version of Galen does not know"))?;
    let page = layout::document(settings, &signed, &body, standing, qr);
    let attachments = [
        Attachment { name: format!("{}.json", signed.document), mime: "application/json", bytes: canonical.into() },
        Attachment {
            name: format!("{}.json.asc", signed.document),
            mime: "application/pgp-signature",
            bytes: signature.into(),
        },
        Attachment {
            name: format!("doctor-{}.asc", signed.signer.fingerprint),
            mime: "application/pgp-keys",
            bytes: public_key.into(),
        },
    ];
    attach::embed(&page, &attachments)
        .map_err(|e| Error::Signing { reason: format!("cannot attach the signature: {e}") })
}

/// Writes a rendered PDF to `path` (owner-only), and audits it as `pdf.save.<what>`.
pub fn save(clinic: &Clinic, pdf: &Pdf, path: &Path) -> Result<PathBuf, Error> {
    if path.extension().and_then(|e| e.to_str()).map(|e| e.eq_ignore_ascii_case("pdf")) != Some(true) {
        return Err(invalid("path", "Save the file with a .pdf name."));
    }
    write_private(path, &pdf.bytes)?;
    pdf.record(clinic, "save")?;
    Ok(path.to_owned())
}

impl Pdf {
    /// Audits what was done with this printout, e.g. `pdf.print.document`.
    pub(crate) fn record(&self, clinic: &Clinic, verb: &str) -> Result<(), Error> {
        let (what, entity, id) = &self.audit;
        clinic.audit(&self.actor, &format!("pdf.{verb}.{what}"), (entity, id), crate::audit::Outcome::Ok)
    }
}

/// Writes a file only its owner can read: printouts hold patient data or the recovery key.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(crate::error::io("write", path))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(crate::error::io("write", path))?;
    Ok(())
}

/// What `verify_file` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileVerified {
    /// Who signed what and when.
    pub summary: String,
    /// True when checked against the key the caller supplied; false when only against the key inside the PDF,
    /// which proves the file is intact but not who made it until the fingerprint is compared.
    pub trusted_key: bool,
    pub fingerprint: String,
}

/// Largest PDF `verify_file` reads.
pub const MAX_PDF_BYTES: usize = 20 * 1024 * 1024;

/// Checks a Galen PDF offline from its attachments: the canonical JSON against its detached signature, with
/// `key` (the doctor's published public key) or, without one, the key embedded in the file.
pub fn verify_file(pdf: &[u8], key: Option<&str>) -> Result<FileVerified, BadSignature> {
    let bad = |why: String| BadSignature(why);
    if pdf.len() > MAX_PDF_BYTES {
        return Err(bad("the file is too large to be a Galen document".into()));
    }
    let files = attach::extract(pdf).map_err(bad)?;
    let find = |pred: &dyn Fn(&str) -> bool| files.iter().find(|(n, _)| pred(n)).map(|(_, b)| b.clone());
    let json = find(&|n| n.ends_with(".json"))
        .ok_or_else(|| bad("the PDF carries no signed document (no .json attachment)".into()))?;
    let signature = find(&|n| n.ends_with(".json.asc"))
        .ok_or_else(|| bad("the PDF carries no signature (no .json.asc attachment)".into()))?;
    let embedded = find(&|n| n.starts_with("doctor-") && n.ends_with(".asc"));
    let key_text = match (key, &embedded) {
        (Some(k), _) => k.to_owned(),
        (None, Some(k)) => String::from_utf8_lossy(k).into_owned(),
        (None, None) => return Err(bad("the PDF carries no public key; pass the doctor's key with --key".into())),
    };
    let summary = documents::verify_files(&json, &String::from_utf8_lossy(&signature), &key_text)?;
    Ok(FileVerified {
        summary,
        trusted_key: key.is_some(),
        fingerprint: signing::fingerprint_of(&key_text).unwrap_or_default(),
    })
}
