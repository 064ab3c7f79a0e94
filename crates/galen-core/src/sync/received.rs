//! Documents other sites shared: read-only, in their patient's chart, the doctor's signature checked again on
//! every read.

use super::inbox::check;
use super::table;
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::documents::trust::{self, CheckedList, Vouch};
use crate::documents::{Problem, SharedDocument, Signed};
use crate::error::{Error, Missing};
use crate::permissions::Action;
use crate::session::Session;
use crate::signing;

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
    /// Whether the clinic it came from vouches for the key that signed it, as that doctor's, when it signed (by
    /// the trust list that clinic shared); a valid signature counts as verified only when it does.
    pub vouch: Vouch,
    /// The name of the clinic it came from, as its trust list gives it (none until it shares one).
    pub sending_clinic: Option<String>,
    /// The patient this clinic files it under, when the signed document names someone else.
    pub filed_under_other: Option<String>,
}

/// Received documents, each checked: of some patients' records (or all), and only the newest `(since, n)`.
fn read(
    conn: &rusqlite::Connection,
    patient_uuids: Option<&[String]>,
    newest: Option<(&str, usize)>,
) -> Result<Vec<ReceivedDocument>, Error> {
    table::received(conn, patient_uuids, newest)?
        .into_iter()
        .map(|(document, origin, received_at)| {
            let contents = check(&document);
            let list = sending_list(conn, &origin)?;
            let vouch = match (&contents, &list) {
                // The list must be the clinic the doctor signed at (another clinic cannot vouch for its doctors), and
                // the key must carry that clinic's site certification.
                (Ok(signed), Some(list))
                    if list.list.clinic == signed.clinic
                        && signing::certified_by(&document.signer_key, &list.list.site_key) =>
                {
                    trust::vouch(
                        std::slice::from_ref(list),
                        &signed.signer.fingerprint,
                        &signed.signed_at,
                        Some(&signed.signer.licence),
                    )
                }
                _ => Vouch::NotVouched,
            };
            let filed_under_other = match &contents {
                Ok(signed) => other_patient(conn, &document.patient_uuid, signed)?,
                Err(_) => None,
            };
            let sending_clinic = list.map(|l| l.list.clinic);
            Ok(ReceivedDocument { document, origin, received_at, contents, vouch, sending_clinic, filed_under_other })
        })
        .collect()
}

/// The trust list the site `origin` shared, checked again: signed by that site's key.
fn sending_list(conn: &rusqlite::Connection, origin: &str) -> Result<Option<CheckedList>, Error> {
    Ok(table::trust_list_of(conn, origin)?
        .and_then(|text| CheckedList::read(&text).ok())
        .filter(|checked| checked.site_fingerprint == origin))
}

/// The name of the patient filed under `patient_uuid` here, if the signed document names another person (other
/// names, or another date of birth when both are known).
fn other_patient(conn: &rusqlite::Connection, patient_uuid: &str, signed: &Signed) -> Result<Option<String>, Error> {
    let Some(here) = crate::patients::table::shared_by_uuid(conn, patient_uuid)? else { return Ok(None) };
    let same =
        |a: &str, b: &str| crate::text::fold(&crate::text::clean(a)) == crate::text::fold(&crate::text::clean(b));
    let named = &signed.patient;
    let dob_differs =
        !here.date_of_birth.is_empty() && !named.date_of_birth.is_empty() && here.date_of_birth != named.date_of_birth;
    if same(&here.given_names, &named.given_names) && same(&here.family_name, &named.family_name) && !dob_differs {
        return Ok(None);
    }
    Ok(Some(format!("{} {}", here.given_names, here.family_name)))
}

/// Documents received from other sites, newest first (admins, who manage sync).
pub fn received_documents(clinic: &Clinic, session: &Session) -> Result<Vec<ReceivedDocument>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    read(clinic.store().conn(), None, None)
}

/// How far back a clinician's home lists received documents, and how many at most.
pub const RECENTLY_RECEIVED: (time::Duration, usize) = (time::Duration::days(14), 20);

/// Documents received from other sites in the last two weeks (the newest 20), each with the chart it is filed
/// in, for a clinician's home: only those whose patient the viewer may read.
pub fn recently_received(clinic: &Clinic, session: &Session) -> Result<Vec<(i64, ReceivedDocument)>, Error> {
    clinic.authorize(session, Action::DocumentRead, None)?;
    let conn = clinic.store().conn();
    let (within, most) = RECENTLY_RECEIVED;
    let since = crate::clock::rfc3339(clinic.now() - within);
    let mut out = Vec::new();
    for doc in read(conn, None, Some((&since, most)))? {
        let Some(chart) = crate::patients::table::chart_of_uuid(conn, &doc.document.patient_uuid)? else { continue };
        if clinic.permits(session, Action::DocumentRead, Some(chart))?.is_some() {
            out.push((chart, doc));
        }
    }
    Ok(out)
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
    read(clinic.store().conn(), Some(&uuids), None)
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
    let doc = read(clinic.store().conn(), Some(&uuids), None)?
        .into_iter()
        .find(|d| d.document.uuid == uuid)
        .ok_or(Error::NotFound(Missing::ReceivedDocument))?;
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.view_received", ("document", uuid), Outcome::Ok))?;
    Ok(doc)
}
