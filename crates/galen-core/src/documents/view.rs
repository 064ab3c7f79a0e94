//! What a screen shows of one document, in one authorized call: the document, its signature checked afresh, the
//! warnings a signer must acknowledge (drafts) and the QR text (signed documents).

use super::drafts;
use super::model::Warning;
use super::table::{self, Document};
use super::verify::{self, Verification};
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::Error;
use crate::permissions::Action;
use crate::session::Session;

/// One document as a screen or the CLI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentView {
    /// The document itself.
    pub document: Document,
    /// Its signature, checked now.
    pub verification: Verification,
    /// What a signer must acknowledge; empty once signed.
    pub warnings: Vec<Warning>,
    /// The printed QRs' texts, in order (a long prescription prints several): none for a draft, a document that
    /// does not verify, or one signed before QRs.
    pub qr_texts: Vec<String>,
}

/// Opens a document (clinical roles; receptionists cannot read documents): checked, and audited as a view.
pub fn open(clinic: &Clinic, session: &Session, id: i64) -> Result<DocumentView, Error> {
    let conn = clinic.store().conn();
    let document = table::load(conn, id)?;
    let actor = clinic.authorize(session, Action::DocumentRead, Some(document.patient_id))?;
    let checked = verify::check(conn, &document)?;
    let warnings = if document.signed { Vec::new() } else { drafts::warnings(conn, &document)? };
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.view", ("document", &id.to_string()), Outcome::Ok))?;
    Ok(DocumentView {
        document,
        verification: checked.verification,
        warnings,
        qr_texts: checked.parts.map(|p| p.qr.into_iter().map(|q| q.text).collect()).unwrap_or_default(),
    })
}

/// A patient's documents, newest first.
pub fn list_for_patient(clinic: &Clinic, session: &Session, patient_id: i64) -> Result<Vec<Document>, Error> {
    clinic.authorize(session, Action::DocumentRead, Some(patient_id))?;
    Ok(table::for_patient(clinic.store().conn(), patient_id)?)
}
