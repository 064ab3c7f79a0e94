//! Conflicts: a patient edited at two sites, both versions kept side by side until an admin chooses. Either
//! choice is shared again as a version newer than both, so every site converges on it.

use super::table;
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, Missing, SyncFailure};
use crate::patients::shared::SharedPatient;
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

/// Open conflicts, oldest first (admins).
pub fn conflicts(clinic: &Clinic, session: &Session) -> Result<Vec<Conflict>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    table::open_conflicts(clinic.store().conn())?
        .into_iter()
        .map(|row| {
            Ok(Conflict {
                id: row.id,
                uuid: row.uuid,
                local: read(&row.local)?,
                incoming: read(&row.incoming)?,
                incoming_origin: row.incoming_origin,
                incoming_version: row.incoming_version,
                found_at: row.found_at,
            })
        })
        .collect()
}

/// Resolves a conflict (admins). Either way the chosen version is shared again as a newer version, so every
/// site converges on it.
pub fn resolve(clinic: &Clinic, session: &Session, id: i64, resolution: Resolution) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::SyncManage, None)?;
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
