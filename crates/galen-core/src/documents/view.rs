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

/// A doctor's paperwork for the home page: drafts waiting for a signature and what they signed today, each with its
/// patient.
#[derive(Debug, Clone)]
pub struct Worklist {
    /// Drafts by anyone, oldest first (a nurse's draft waits for a doctor).
    pub drafts: Vec<(Document, crate::patients::Summary)>,
    /// Signed by this doctor since midnight in the clinic's time zone, newest first.
    pub signed_today: Vec<(Document, crate::patients::Summary)>,
}

/// The signed-in doctor's paperwork (those who may sign).
pub fn worklist(clinic: &Clinic, session: &Session) -> Result<Worklist, Error> {
    clinic.authorize(session, Action::DocumentSign, None)?;
    let conn = clinic.store().conn();
    let hours = crate::appointments::hours::load(clinic)?;
    let midnight =
        hours.zone().to_ambiguous_timestamp(hours.now(clinic).date().to_datetime(jiff::civil::Time::midnight()));
    let since = midnight
        .compatible()
        .ok()
        .and_then(|ts| time::OffsetDateTime::from_unix_timestamp(ts.as_second()).ok())
        .map_or_else(|| crate::clock::rfc3339(clinic.now()), crate::clock::rfc3339);
    let with_patients = |docs: Vec<Document>| -> Result<Vec<(Document, crate::patients::Summary)>, Error> {
        let ids: Vec<i64> = docs.iter().map(|d| d.patient_id).collect();
        let found = crate::patients::table::summaries(conn, &ids)?;
        Ok(docs
            .into_iter()
            .filter_map(|d| found.iter().find(|p| p.id == d.patient_id).cloned().map(|p| (d, p)))
            .collect())
    };
    Ok(Worklist {
        drafts: with_patients(table::drafts(conn, 20)?)?,
        signed_today: with_patients(table::signed_by_since(conn, session.user_id(), &since, 50)?)?,
    })
}
