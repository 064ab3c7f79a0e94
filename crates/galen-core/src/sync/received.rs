//! Documents other sites shared: read-only, in their patient's chart, the doctor's signature checked again on
//! every read.

use super::inbox::check;
use super::table;
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::documents::{Problem, SharedDocument, Signed};
use crate::error::{Error, Missing};
use crate::permissions::Action;
use crate::session::Session;

/// A signed document another site shared, with the doctor's signature checked again on every read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedDocument {
    /// The document as it arrived.
    pub document: SharedDocument,
    /// The OpenPGP fingerprint of the site it came from.
    pub origin: String,
    /// When it arrived.
    pub received_at: String,
    /// What the doctor signed, if the signature verifies with the key the document names; otherwise why not.
    pub contents: Result<Signed, Problem>,
}

fn read(conn: &rusqlite::Connection, patient_uuids: Option<&[String]>) -> Result<Vec<ReceivedDocument>, Error> {
    Ok(table::received(conn, patient_uuids)?
        .into_iter()
        .map(|(document, origin, received_at)| {
            let contents = check(&document);
            ReceivedDocument { document, origin, received_at, contents }
        })
        .collect())
}

/// Documents received from other sites, newest first (admins, who manage sync).
pub fn received_documents(clinic: &Clinic, session: &Session) -> Result<Vec<ReceivedDocument>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    read(clinic.store().conn(), None)
}

/// One patient's documents received from other sites, newest first, for the chart (whoever may read that
/// patient's documents). Documents of records merged into the chart are included.
pub fn received_for_patient(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
) -> Result<Vec<ReceivedDocument>, Error> {
    clinic.authorize(session, Action::DocumentRead, Some(patient_id))?;
    let uuids = crate::patients::table::uuids_in_chart(clinic.store().conn(), patient_id)?;
    read(clinic.store().conn(), Some(&uuids))
}

/// Opens one received document of a patient, as `documents::open` opens a local one: checked and audited.
pub fn received_document(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
    uuid: &str,
) -> Result<ReceivedDocument, Error> {
    let actor = clinic.authorize(session, Action::DocumentRead, Some(patient_id))?;
    let uuids = crate::patients::table::uuids_in_chart(clinic.store().conn(), patient_id)?;
    let doc = read(clinic.store().conn(), Some(&uuids))?
        .into_iter()
        .find(|d| d.document.uuid == uuid)
        .ok_or(Error::NotFound(Missing::ReceivedDocument))?;
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.view_received", ("document", uuid), Outcome::Ok))?;
    Ok(doc)
}
