//! What leaves the clinic in files or to a partner: a signed document's exported files, a doctor's public key,
//! and the signed documents shared with the partner. Only documents that verify leave (`verify::signed_parts`).

use super::table;
use super::verify::signed_parts;
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, Missing};
use crate::permissions::Action;
use crate::session::Session;
use crate::signing;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Files written by `export`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// `UUID.json`: the signed bytes.
    pub json: PathBuf,
    /// `UUID.json.asc`: the detached signature.
    pub signature: PathBuf,
    /// `doctor-FPR.asc`: the doctor's public key.
    pub key: PathBuf,
}

/// Writes `UUID.json` (the canonical bytes), `UUID.json.asc` (the detached signature) and the signer's public key,
/// which stock GnuPG checks together.
pub fn export(clinic: &Clinic, session: &Session, id: i64, dir: &Path) -> Result<Exported, Error> {
    let conn = clinic.store().conn();
    let doc = table::load(conn, id)?;
    let actor = clinic.authorize(session, Action::DocumentExport, Some(doc.patient_id))?;
    if !doc.signed {
        return Err(Error::invalid("document", "Only signed documents can be exported."));
    }
    let parts = signed_parts(conn, &doc)?;
    let fpr = doc.signer.as_ref().map(|s| s.fingerprint.as_str()).unwrap_or_default();
    std::fs::create_dir_all(dir).map_err(crate::error::io("create the folder", dir))?;
    let out = Exported {
        json: dir.join(format!("{}.json", doc.uuid)),
        signature: dir.join(format!("{}.json.asc", doc.uuid)),
        key: dir.join(format!("doctor-{fpr}.asc")),
    };
    for (path, content) in
        [(&out.json, &parts.canonical), (&out.signature, &parts.signature), (&out.key, &parts.public_key)]
    {
        std::fs::write(path, content).map_err(crate::error::io("write", path.as_path()))?;
    }
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.export", ("document", &id.to_string()), Outcome::Ok))?;
    Ok(out)
}

/// The armored public key of a doctor's current signing key (for `galen key export-public`).
pub fn doctor_public_key(clinic: &Clinic, session: &Session, username: &str) -> Result<String, Error> {
    // Clinicians (who read documents) and admins (who hand keys to partners) may export public keys.
    if clinic.permits(session, Action::DocumentRead, None)?.is_none() {
        clinic.authorize(session, Action::StaffManage, None)?;
    }
    let conn = clinic.store().conn();
    let member = crate::staff::table::find(conn, username)?
        .ok_or_else(|| Error::NotFound(Missing::User(username.to_owned())))?;
    let fpr = signing::table::latest_fingerprint(conn, member.id)?
        .ok_or_else(|| Error::NotFound(Missing::SigningKeyOf(username.to_owned())))?;
    signing::public_key(conn, &fpr)
}

/// A signed document as shared with a partner: the signed bytes, the doctor's detached signature and public key,
/// so anyone who receives it can check the doctor's signature (with Galen or stock GnuPG). Do not change: it is
/// signed inside the envelope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedDocument {
    /// The document's uuid.
    pub uuid: String,
    /// Its kind, as the sending site labels it (the signed bytes say it too).
    pub kind: String,
    /// The uuid of the patient it is about.
    pub patient_uuid: String,
    /// The canonical JSON the doctor signed, exactly.
    pub canonical: String,
    /// The doctor's armored detached signature over `canonical`.
    pub signature: String,
    /// The doctor's armored public key.
    pub signer_key: String,
}

/// Every signed document of a patient who consented to sharing, except those `skip` names by uuid.
pub(crate) fn shared_signed(
    conn: &Connection,
    skip: &dyn Fn(&str) -> Result<bool, Error>,
) -> Result<Vec<SharedDocument>, Error> {
    let patients: std::collections::HashMap<i64, String> =
        crate::patients::table::consented_uuids(conn)?.into_iter().collect();
    let ids: Vec<i64> = patients.keys().copied().collect();
    let mut shared = Vec::new();
    for row in table::signed_of(conn, &ids)? {
        if skip(&row.uuid)? {
            continue;
        }
        let patient_uuid = patients.get(&row.patient_id).cloned().unwrap_or_default();
        let signer_key = signing::public_key(conn, &row.fingerprint)?;
        shared.push(SharedDocument {
            uuid: row.uuid,
            kind: row.kind,
            patient_uuid,
            canonical: row.canonical,
            signature: row.signature,
            signer_key,
        });
    }
    Ok(shared)
}
