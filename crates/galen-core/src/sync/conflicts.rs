//! Conflicts: a patient edited at two sites (or a received change that needs a person: a national ID held by
//! someone else here, an allergy or condition taken away), both versions kept side by side until someone chooses.
//! An admin decides on demographics; when the versions differ in clinical fields, a clinician decides, in the
//! patient's chart, and an admin sees no clinical field. Either choice is shared again as a version newer than
//! both, so every site converges on it.

use super::table;
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, Missing, SyncFailure};
use crate::patients::shared::{Removed, SharedPatient};
use crate::patients::table as patients;
use crate::permissions::Action;
use crate::session::Session;

/// A patient edited at two sites: this clinic's version and the one that arrived, side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Its number.
    pub id: i64,
    /// The patient's uuid.
    pub uuid: String,
    /// The record here.
    pub local: SharedPatient,
    /// The record that arrived.
    pub incoming: SharedPatient,
    /// The OpenPGP fingerprint of the site the incoming version came from.
    pub incoming_origin: String,
    /// The version that arrived.
    pub incoming_version: u32,
    /// When the clash was found.
    pub found_at: String,
    /// The patient here it concerns, if the record is here.
    pub patient_id: Option<i64>,
    /// The versions differ in clinical fields: a clinician decides (`local` and `incoming` carry no clinical
    /// field for a viewer who may not read them).
    pub clinical: bool,
    /// The allergies and conditions recorded here that the incoming version takes away.
    pub removes: Vec<Removed>,
}

/// How an admin resolves a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Keep this clinic's version.
    KeepLocal,
    /// Take the one that arrived.
    TakeIncoming,
}

fn read(json: &str) -> Result<SharedPatient, Error> {
    serde_json::from_str(json).map_err(|e| Error::Sync(SyncFailure::Contents(format!("a stored conflict: {e}"))))
}

/// Open conflicts, oldest first (admins). Clinical fields are left out unless the viewer may read them.
pub fn conflicts(clinic: &Clinic, session: &Session) -> Result<Vec<Conflict>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    let sees_clinical = clinic.permits(session, Action::PatientReadClinical, None)?.is_some();
    open(clinic)?.into_iter().map(|c| Ok(if sees_clinical { c } else { c.without_clinical() })).collect()
}

/// The open conflicts about one patient, for the chart (whoever may read their clinical fields: the clinicians
/// who decide the clinical ones).
pub fn patient_conflicts(clinic: &Clinic, session: &Session, patient_id: i64) -> Result<Vec<Conflict>, Error> {
    clinic.authorize(session, Action::PatientReadClinical, Some(patient_id))?;
    let uuids = patients::uuids_in_chart(clinic.store().conn(), patient_id)?;
    Ok(open(clinic)?.into_iter().filter(|c| uuids.contains(&c.local.uuid)).collect())
}

fn open(clinic: &Clinic) -> Result<Vec<Conflict>, Error> {
    let conn = clinic.store().conn();
    table::open_conflicts(conn)?
        .into_iter()
        .map(|row| {
            let (local, incoming) = (read(&row.local)?, read(&row.incoming)?);
            Ok(Conflict {
                id: row.id,
                uuid: row.uuid,
                patient_id: patients::id_by_uuid(conn, &local.uuid)?,
                clinical: local.clinical_differs(&incoming),
                removes: local.removed_by(&incoming),
                local,
                incoming,
                incoming_origin: row.incoming_origin,
                incoming_version: row.incoming_version,
                found_at: row.found_at,
            })
        })
        .collect()
}

impl Conflict {
    fn without_clinical(self) -> Conflict {
        Conflict {
            local: self.local.without_clinical(),
            incoming: self.incoming.without_clinical(),
            removes: Vec::new(),
            ..self
        }
    }
}

/// Resolves a conflict: an admin, or a clinician when the versions differ in clinical fields (they decide on that
/// patient's clinical data). Either way the chosen version is shared again as a newer version, so every site
/// converges on it.
pub fn resolve(clinic: &Clinic, session: &Session, id: i64, resolution: Resolution) -> Result<(), Error> {
    let conflict = open(clinic)?.into_iter().find(|c| c.id == id).ok_or(Error::NotFound(Missing::Conflict(id)))?;
    let actor = if conflict.clinical {
        clinic.authorize(session, Action::PatientUpdateClinical, conflict.patient_id)?
    } else {
        clinic.authorize(session, Action::SyncManage, None)?
    };
    let at = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        let row = table::open_conflict(tx, id)?.ok_or(Error::NotFound(Missing::Conflict(id)))?;
        let chosen = read(if resolution == Resolution::KeepLocal { &row.local } else { &row.incoming })?;
        if resolution == Resolution::TakeIncoming {
            if let Some(holder) = patients::shared_national_id_holder(tx, &chosen)? {
                // The same person registered at both sites: taking theirs would make two records of one person.
                return Err(Error::invalid(
                    "national_id",
                    format!(
                        "{} {} (MRN {}) is already registered here with national ID {}. Keep ours, then correct that \
                         record by hand if theirs was right.",
                        holder.given_names, holder.family_name, holder.mrn, holder.national_id
                    ),
                ));
            }
        }
        if resolution == Resolution::TakeIncoming || patients::shared_by_uuid(tx, &row.uuid)?.is_none() {
            patients::apply_shared(tx, &chosen, &at)?;
        }
        table::forget_patient_hash(tx, &row.uuid)?;
        let (label, action) = match resolution {
            Resolution::KeepLocal => ("kept_local", "sync.conflict.keep_local"),
            Resolution::TakeIncoming => ("took_incoming", "sync.conflict.take_incoming"),
        };
        table::mark_resolved(tx, id, &at, label)?;
        audit::record(tx, &at, &actor, action, ("patient", &row.uuid), Outcome::Ok)
    })
}
