//! `documents`: prescriptions, birth, death and sick-leave certificates, and void notices. A document is a
//! draft until a doctor signs it; then it is immutable. The signature is a detached OpenPGP signature over the
//! RFC 8785 canonical JSON of a versioned schema (`model::Canonical`). Verification rebuilds those bytes from
//! the stored columns, so changing any stored field breaks it, and names the document.

pub mod formulary;
pub mod model;
pub mod qr;
pub mod validate;

pub use model::*;

use crate::audit::{self, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldError, FieldErrors};
use crate::permissions::{Action, Role};
use crate::session::Session;
use crate::{password, patients, settings, signing, staff};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: i64,
    pub uuid: String,
    pub patient_id: i64,
    pub signed: bool,
    pub body: Body,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub voided_by: Option<i64>,
    pub signer: Option<SignerSnapshot>,
    pub signed_at: Option<String>,
}

fn draft_action(body: &Body) -> Action {
    match body {
        Body::Prescription(_) => Action::PrescriptionDraft,
        Body::Void(_) => Action::DocumentVoid,
        _ => Action::CertificateDraft,
    }
}

fn patient_row(conn: &Connection, id: i64) -> Result<(PatientSnapshot, bool, bool), Error> {
    conn.query_row(
        "SELECT coalesce(mrn, ''), given_names, family_name, coalesce(date_of_birth, ''), dob_estimated, merged_into IS NULL
         FROM patients WHERE id = ?1",
        [id],
        |r| {
            Ok((
                PatientSnapshot { mrn: r.get(0)?, given_names: r.get(1)?, family_name: r.get(2)?, date_of_birth: r.get(3)? },
                r.get(4)?,
                r.get(5)?,
            ))
        },
    )
    .optional()?
    .ok_or_else(|| Error::NotFound { what: format!("Patient {id}") })
}

fn check_body(clinic: &Clinic, patient_id: i64, body: &mut Body) -> Result<(), Error> {
    let (snapshot, estimated, current) = patient_row(clinic.store().conn(), patient_id)?;
    if !current {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new(
            "patient",
            "This record was merged; use the kept one.",
        ))));
    }
    validate::body(body, clinic.now().date(), &snapshot.date_of_birth, estimated).map_err(Error::Invalid)?;
    if let Body::Birth(_) = body {
        let exists: bool = clinic.store().conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM documents WHERE patient_id = ?1 AND kind = 'birth' AND voided_by IS NULL
                            AND superseded_by IS NULL)",
            [patient_id],
            |r| r.get(0),
        )?;
        if exists {
            return Err(Error::Invalid(FieldErrors::one(FieldError::new(
                "kind",
                "This patient already has a birth certificate; write a correction of it instead.",
            ))));
        }
    }
    Ok(())
}

/// Starts a draft (prescriptions: nurses and doctors; certificates: doctors).
pub fn create_draft(clinic: &Clinic, session: &Session, patient_id: i64, body: Body) -> Result<Document, Error> {
    create(clinic, session, patient_id, body, None)
}

fn create(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
    mut body: Body,
    supersedes: Option<i64>,
) -> Result<Document, Error> {
    let actor = clinic.authorize(session, draft_action(&body), Some(patient_id))?;
    if supersedes.is_none() {
        check_body(clinic, patient_id, &mut body)?;
    }
    let now = clinic.now_rfc3339();
    let id = clinic.store().write(|tx| {
        tx.execute(
            "INSERT INTO documents (uuid, kind, patient_id, author_id, status, body, supersedes, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'draft', ?5, ?6, ?7, ?7)",
            rusqlite::params![
                uuid::Uuid::now_v7().to_string(),
                body.kind(),
                patient_id,
                actor.user_id,
                serde_json::to_string(&body).unwrap_or_default(),
                supersedes,
                now
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit::record(tx, &now, &actor, "document.create", ("document", &id.to_string()), Outcome::Ok)?;
        Ok(id)
    })?;
    load(clinic.store().conn(), id)
}

/// Replaces a draft's fields. Signed documents never change.
pub fn update_draft(clinic: &Clinic, session: &Session, id: i64, mut body: Body) -> Result<Document, Error> {
    let doc = load(clinic.store().conn(), id)?;
    let actor = clinic.authorize(session, draft_action(&doc.body), Some(doc.patient_id))?;
    if doc.signed {
        return Err(Error::AlreadySigned { id });
    }
    if body.kind() != doc.body.kind() {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new("kind", "A draft keeps its kind."))));
    }
    let (snapshot, estimated, _) = patient_row(clinic.store().conn(), doc.patient_id)?;
    validate::body(&mut body, clinic.now().date(), &snapshot.date_of_birth, estimated).map_err(Error::Invalid)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute(
            "UPDATE documents SET body = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'draft'",
            (id, serde_json::to_string(&body).unwrap_or_default(), &now),
        )?;
        audit::record(tx, &now, &actor, "document.update", ("document", &id.to_string()), Outcome::Ok)
    })?;
    load(clinic.store().conn(), id)
}

const SELECT: &str = "SELECT id, uuid, patient_id, status, body, supersedes, superseded_by, voided_by, signer_name,
        signer_licence, signer_fingerprint, signed_at FROM documents";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    let body: String = r.get(4)?;
    let name: Option<String> = r.get(8)?;
    Ok(Document {
        id: r.get(0)?,
        uuid: r.get(1)?,
        patient_id: r.get(2)?,
        signed: r.get::<_, String>(3)? == "signed",
        body: serde_json::from_str(&body)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e)))?,
        supersedes: r.get(5)?,
        superseded_by: r.get(6)?,
        voided_by: r.get(7)?,
        signer: match name {
            Some(name) => Some(SignerSnapshot { name, licence: r.get(9)?, fingerprint: r.get(10)? }),
            None => None,
        },
        signed_at: r.get(11)?,
    })
}

pub(crate) fn load(conn: &Connection, id: i64) -> Result<Document, Error> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], read)
        .optional()?
        .ok_or_else(|| Error::NotFound { what: format!("Document {id}") })
}

/// One document (clinical roles; receptionists cannot read documents).
pub fn get(clinic: &Clinic, session: &Session, id: i64) -> Result<Document, Error> {
    let doc = load(clinic.store().conn(), id)?;
    let actor = clinic.authorize(session, Action::DocumentRead, Some(doc.patient_id))?;
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.view", ("document", &id.to_string()), Outcome::Ok))?;
    Ok(doc)
}

/// A patient's documents, newest first.
pub fn list_for_patient(clinic: &Clinic, session: &Session, patient_id: i64) -> Result<Vec<Document>, Error> {
    clinic.authorize(session, Action::DocumentRead, Some(patient_id))?;
    let mut stmt = clinic.store().conn().prepare(&format!("{SELECT} WHERE patient_id = ?1 ORDER BY id DESC"))?;
    let docs = stmt.query_map([patient_id], read)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(docs)
}

/// What must be acknowledged before signing: recorded allergies matching a medicament by name, and pregnancy.
pub fn warnings(clinic: &Clinic, doc: &Document) -> Result<Vec<String>, Error> {
    let Body::Prescription(p) = &doc.body else { return Ok(Vec::new()) };
    let conn = clinic.store().conn();
    let (allergies, pregnancy): (String, String) =
        conn.query_row("SELECT allergies, pregnancy_status FROM patients WHERE id = ?1", [doc.patient_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let allergies: Vec<patients::Allergy> = serde_json::from_str(&allergies).unwrap_or_default();
    let mut out = Vec::new();
    for line in &p.lines {
        let med = crate::text::fold(&line.medicament);
        for a in &allergies {
            let substance = crate::text::fold(&a.substance);
            if !substance.is_empty() && (med.contains(&substance) || formulary::same_class(&med, &substance)) {
                out.push(format!(
                    "Allergy: the patient is allergic to {} ({}); {} is prescribed.",
                    a.substance, a.severity, line.medicament
                ));
            }
        }
    }
    if pregnancy == "pregnant" {
        out.push("Pregnancy: the patient is recorded as pregnant; check each medicine's safety in pregnancy.".into());
    }
    Ok(out)
}

/// The RFC 8785 canonical JSON that a signature covers.
pub fn canonical_bytes(
    clinic_name: &str,
    uuid: &str,
    patient: &PatientSnapshot,
    signer: &SignerSnapshot,
    signed_at: &str,
    supersedes: Option<&str>,
    body: &Body,
) -> Result<Vec<u8>, Error> {
    let c = Canonical {
        schema: body.schema(),
        document: uuid,
        clinic: clinic_name,
        patient,
        signer,
        signed_at,
        supersedes,
        body,
    };
    serde_jcs::to_vec(&c).map_err(|e| Error::Signing { reason: e.to_string() })
}

fn uuid_of(conn: &Connection, id: Option<i64>) -> Result<Option<String>, Error> {
    match id {
        None => Ok(None),
        Some(id) => Ok(Some(conn.query_row("SELECT uuid FROM documents WHERE id = ?1", [id], |r| r.get(0))?)),
    }
}

/// Signs a draft (doctors only), after the password again and the warnings acknowledged. A doctor's first
/// signature creates their OpenPGP key. Signing a death certificate marks the patient deceased.
pub fn sign(
    clinic: &Clinic,
    session: &Session,
    id: i64,
    password: &str,
    warnings_acknowledged: bool,
) -> Result<Document, Error> {
    let doc = load(clinic.store().conn(), id)?;
    let actor = clinic.authorize(session, Action::DocumentSign, Some(doc.patient_id))?;
    if doc.signed {
        return Err(Error::AlreadySigned { id });
    }
    validate::ready_to_sign(&doc.body).map_err(Error::Invalid)?;
    let conn = clinic.store().conn();
    let signer = staff::by_id(conn, session.user_id)?
        .filter(|m| m.active && m.role == Role::Doctor)
        .ok_or(Error::AccountDisabled)?;
    if !password::verify(password, &staff::password_hash(conn, signer.id)?) {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new("password", "This is not your password."))));
    }
    let pending = warnings(clinic, &doc)?;
    if !pending.is_empty() && !warnings_acknowledged {
        return Err(Error::WarningsNotAcknowledged(pending));
    }
    let now = clinic.now_rfc3339();
    let clinic_name = settings::site_name(clinic.store())?.unwrap_or_default();
    // The doctor's key, created at their first signature, or anew if an admin reset left it locked.
    let unlocked = match signing::active_key(conn, signer.id)? {
        Some((fpr, armored)) => signing::unlock(&armored, password)?.map(|k| (fpr, k)),
        None => None,
    };
    let (fingerprint, keypair) = match unlocked {
        Some(k) => k,
        None => {
            let licence = signer.licence_number.clone().unwrap_or_default();
            let user_id = format!("{} (licence {licence}, {clinic_name})", signer.display_name);
            let fpr = signing::create_key(conn, signer.id, &user_id, password, &now)?;
            let (_, armored) =
                signing::active_key(conn, signer.id)?.ok_or_else(|| Error::NotFound { what: "The new key".into() })?;
            let key = signing::unlock(&armored, password)?
                .ok_or_else(|| Error::Signing { reason: "the new key did not unlock".into() })?;
            (fpr, key)
        }
    };
    let patient = patient_row(conn, doc.patient_id)?.0;
    let snapshot = SignerSnapshot {
        name: signer.display_name.clone(),
        licence: signer.licence_number.clone().unwrap_or_default(),
        fingerprint: fingerprint.clone(),
    };
    let supersedes = uuid_of(conn, doc.supersedes)?;
    let bytes = canonical_bytes(&clinic_name, &doc.uuid, &patient, &snapshot, &now, supersedes.as_deref(), &doc.body)?;
    let signature = signing::sign_with(keypair.clone(), &bytes)?;
    let summary = qr_summary(&doc.uuid, doc.body.kind(), &patient, &snapshot, &now, &bytes);
    let qr_signature =
        data_encoding::BASE64URL_NOPAD.encode(&signing::sign_raw(keypair, &qr::summary_bytes(&summary))?);
    clinic.store().write(|tx| {
        tx.execute(
            "UPDATE documents SET status = 'signed', clinic_name = ?2, patient_snapshot = ?3, signer_id = ?4, signer_name = ?5,
                 signer_licence = ?6, signer_fingerprint = ?7, signed_at = ?8, canonical = ?9, signature = ?10, updated_at = ?8,
                 qr_signature = ?11
             WHERE id = ?1 AND status = 'draft'",
            rusqlite::params![
                id,
                clinic_name,
                serde_json::to_string(&patient).unwrap_or_default(),
                signer.id,
                snapshot.name,
                snapshot.licence,
                snapshot.fingerprint,
                now,
                String::from_utf8_lossy(&bytes),
                signature,
                qr_signature
            ],
        )?;
        if let Some(old) = doc.supersedes {
            tx.execute("UPDATE documents SET superseded_by = ?2 WHERE id = ?1", (old, id))?;
        }
        if let Body::Void(v) = &doc.body {
            tx.execute("UPDATE documents SET voided_by = ?2 WHERE uuid = ?1", (&v.voids, id))?;
        }
        if let Body::Death(_) = &doc.body {
            tx.execute("UPDATE patients SET deceased = 1, updated_at = ?2 WHERE id = ?1", (doc.patient_id, &now))?;
        }
        if !pending.is_empty() {
            audit::record(tx, &now, &actor, "document.warnings_acknowledged", ("document", &id.to_string()), Outcome::Ok)?;
        }
        audit::record(tx, &now, &actor, "document.sign", ("document", &id.to_string()), Outcome::Ok)
    })?;
    load(conn, id)
}

pub(crate) fn qr_summary(
    uuid: &str,
    kind: &str,
    p: &PatientSnapshot,
    s: &SignerSnapshot,
    at: &str,
    canonical: &[u8],
) -> qr::Summary {
    qr::Summary {
        v: 1,
        doc: uuid.into(),
        kind: kind.into(),
        mrn: p.mrn.clone(),
        patient: format!("{} {}", p.given_names, p.family_name),
        signer: format!("{} ({})", s.name, s.licence),
        key: s.fingerprint.clone(),
        at: at.into(),
        sha256: qr::digest(canonical),
    }
}

/// The text of the QR printed on a signed document (clinical roles), or `None` for a draft.
pub fn qr_text(clinic: &Clinic, session: &Session, id: i64) -> Result<Option<String>, Error> {
    let doc = load(clinic.store().conn(), id)?;
    clinic.authorize(session, Action::DocumentRead, Some(doc.patient_id))?;
    stored_qr_text(clinic.store().conn(), &doc)
}

/// The QR text of an already loaded document, for callers that have checked the permission.
pub(crate) fn stored_qr_text(conn: &Connection, doc: &Document) -> Result<Option<String>, Error> {
    let row: (Option<String>, Option<String>, Option<String>) = conn.query_row(
        "SELECT patient_snapshot, canonical, qr_signature FROM documents WHERE id = ?1",
        [doc.id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let (Some(snapshot), Some(canonical), Some(qr_signature), Some(signer), Some(at)) =
        (row.0, row.1, row.2, doc.signer.as_ref(), doc.signed_at.as_deref())
    else {
        return Ok(None);
    };
    let patient: PatientSnapshot =
        serde_json::from_str(&snapshot).map_err(|e| Error::Signing { reason: e.to_string() })?;
    let summary = qr_summary(&doc.uuid, doc.body.kind(), &patient, signer, at, canonical.as_bytes());
    let sig = data_encoding::BASE64URL_NOPAD
        .decode(qr_signature.as_bytes())
        .map_err(|e| Error::Signing { reason: e.to_string() })?;
    Ok(Some(qr::encode(&summary, &sig)))
}

/// Starts a correction: a new draft with the same fields that, once signed, supersedes `id`.
pub fn correct(clinic: &Clinic, session: &Session, id: i64) -> Result<Document, Error> {
    let doc = load(clinic.store().conn(), id)?;
    if !doc.signed || doc.superseded_by.is_some() || doc.voided_by.is_some() || matches!(doc.body, Body::Void(_)) {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new(
            "document",
            "Only a current signed document can be corrected.",
        ))));
    }
    create(clinic, session, doc.patient_id, doc.body, Some(id))
}

/// Voids a signed document with a signed notice giving the reason (doctors).
pub fn void(clinic: &Clinic, session: &Session, id: i64, reason: &str, password: &str) -> Result<Document, Error> {
    let doc = load(clinic.store().conn(), id)?;
    if !doc.signed || doc.voided_by.is_some() || matches!(doc.body, Body::Void(_)) {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new(
            "document",
            "Only a signed, current document can be voided.",
        ))));
    }
    let notice = create(
        clinic,
        session,
        doc.patient_id,
        Body::Void(VoidNotice { voids: doc.uuid.clone(), reason: reason.into() }),
        None,
    )?;
    sign(clinic, session, notice.id, password, true)
}

/// The outcome of checking a stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Valid { signer: SignerSnapshot, signed_at: String },
    Unsigned,
    Invalid { problem: String },
}

/// Rebuilds the canonical bytes from the stored columns and checks the signature over them.
pub fn verify(clinic: &Clinic, session: &Session, id: i64) -> Result<Verification, Error> {
    let doc = load(clinic.store().conn(), id)?;
    clinic.authorize(session, Action::DocumentRead, Some(doc.patient_id))?;
    verify_stored(clinic.store().conn(), id)
}

pub(crate) fn verify_stored(conn: &Connection, id: i64) -> Result<Verification, Error> {
    let row = conn.query_row(
        "SELECT uuid, status, body, clinic_name, patient_snapshot, signer_name, signer_licence, signer_fingerprint,
                signed_at, canonical, signature, supersedes, patient_id, kind FROM documents WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                (r.get::<_, Option<String>>(5)?, r.get::<_, Option<String>>(6)?, r.get::<_, Option<String>>(7)?),
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<i64>>(11)?,
                (r.get::<_, i64>(12)?, r.get::<_, String>(13)?),
            ))
        },
    )?;
    let (
        uuid,
        status,
        body,
        clinic_name,
        snapshot,
        (name, licence, fpr),
        signed_at,
        canonical,
        signature,
        supersedes,
        (patient_id, kind),
    ) = row;
    if status != "signed" {
        return Ok(Verification::Unsigned);
    }
    let bad = |why: &str| Ok(Verification::Invalid { problem: format!("document {id} ({uuid}): {why}") });
    let (
        Some(clinic_name),
        Some(snapshot),
        Some(name),
        Some(licence),
        Some(fpr),
        Some(signed_at),
        Some(canonical),
        Some(signature),
    ) = (clinic_name, snapshot, name, licence, fpr, signed_at, canonical, signature)
    else {
        return bad("signed, but its signature data is missing");
    };
    let Ok(body) = serde_json::from_str::<Body>(&body) else { return bad("its stored fields cannot be read") };
    if body.kind() != kind {
        return bad("its kind was changed after signing");
    }
    let Ok(patient) = serde_json::from_str::<PatientSnapshot>(&snapshot) else {
        return bad("its patient block cannot be read");
    };
    let current_mrns: Vec<String> = conn
        .prepare("SELECT value FROM patient_identifiers WHERE kind = 'mrn' AND patient_id = ?1")?
        .query_map([patient_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if !current_mrns.contains(&crate::mrn::normalize(&patient.mrn)) {
        return bad("it is attached to a different patient than the one it was signed for");
    }
    let signer = SignerSnapshot { name, licence, fingerprint: fpr };
    let supersedes = uuid_of(conn, supersedes)?;
    let bytes = canonical_bytes(&clinic_name, &uuid, &patient, &signer, &signed_at, supersedes.as_deref(), &body)?;
    if bytes != canonical.as_bytes() {
        return bad("its stored fields no longer match the bytes that were signed");
    }
    let key = match signing::public_key(conn, &signer.fingerprint) {
        Ok(k) => k,
        Err(_) => return bad("the signer's key is not on file"),
    };
    match signing::verify_detached(&key, &signature, &bytes) {
        Ok(()) => Ok(Verification::Valid { signer, signed_at }),
        Err(e) => bad(&e.0),
    }
}

/// Files written by `export`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub json: PathBuf,
    pub signature: PathBuf,
    pub key: PathBuf,
}

/// Writes `UUID.json` (the canonical bytes), `UUID.json.asc` (the detached signature) and the signer's public key.
pub fn export(clinic: &Clinic, session: &Session, id: i64, dir: &Path) -> Result<Exported, Error> {
    let doc = load(clinic.store().conn(), id)?;
    let actor = clinic.authorize(session, Action::DocumentExport, Some(doc.patient_id))?;
    if let Verification::Invalid { problem } = verify_stored(clinic.store().conn(), id)? {
        return Err(Error::Signing {
            reason: format!("refusing to export a document that does not verify: {problem}"),
        });
    }
    let (canonical, signature, fpr): (Option<String>, Option<String>, Option<String>) = clinic
        .store()
        .conn()
        .query_row("SELECT canonical, signature, signer_fingerprint FROM documents WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let (Some(canonical), Some(signature), Some(fpr)) = (canonical, signature, fpr) else {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new(
            "document",
            "Only signed documents can be exported.",
        ))));
    };
    let key = signing::public_key(clinic.store().conn(), &fpr)?;
    std::fs::create_dir_all(dir).map_err(crate::error::io("create the folder", dir))?;
    let out = Exported {
        json: dir.join(format!("{}.json", doc.uuid)),
        signature: dir.join(format!("{}.json.asc", doc.uuid)),
        key: dir.join(format!("doctor-{fpr}.asc")),
    };
    for (path, content) in [(&out.json, &canonical), (&out.signature, &signature), (&out.key, &key)] {
        std::fs::write(path, content).map_err(crate::error::io("write", path.as_path()))?;
    }
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.export", ("document", &id.to_string()), Outcome::Ok))?;
    Ok(out)
}

/// Checks a signed document with only the doctor's public key, as a pharmacist, a registry or another site can
/// offline: the signature covers the bytes, and the bytes name that very key as their signer.
pub fn check_signed(json: &[u8], signature: &str, key: &str) -> Result<Signed, signing::BadSignature> {
    signing::verify_detached(key, signature, json)?;
    let signed: Signed =
        serde_json::from_slice(json).map_err(|e| signing::BadSignature(format!("not a Galen document: {e}")))?;
    if signing::fingerprint_of(key).as_deref() != Some(signed.signer.fingerprint.as_str()) {
        return Err(signing::BadSignature("the document names a different signing key".into()));
    }
    Ok(signed)
}

/// Checks exported files (`check_signed`) and says who signed which document, and when.
pub fn verify_files(json: &[u8], signature: &str, key: &str) -> Result<String, signing::BadSignature> {
    let s = check_signed(json, signature, key)?;
    Ok(format!(
        "Good signature: {} {} for {} {} ({}), signed by {} (licence {}) at {}; key {}",
        s.schema,
        s.document,
        s.patient.given_names,
        s.patient.family_name,
        s.patient.mrn,
        s.signer.name,
        s.signer.licence,
        s.signed_at,
        s.signer.fingerprint
    ))
}

/// The armored public key of a doctor's current signing key (for `galen key export-public`).
pub fn doctor_public_key(clinic: &Clinic, session: &Session, username: &str) -> Result<String, Error> {
    // Clinicians (who read documents) and admins (who hand keys to partners) may export public keys.
    if clinic.permits(session, Action::DocumentRead, None)?.is_none() {
        clinic.authorize(session, Action::StaffManage, None)?;
    }
    let conn = clinic.store().conn();
    let member = staff::find(conn, username)?.ok_or_else(|| Error::NotFound { what: format!("User {username:?}") })?;
    let fpr: String = conn
        .query_row(
            "SELECT fingerprint FROM doctor_keys WHERE staff_id = ?1 ORDER BY active DESC, id DESC LIMIT 1",
            [member.id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: format!("A signing key for {username} (it is created at their first signature)"),
        })?;
    signing::public_key(conn, &fpr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies() -> Vec<Body> {
        vec![
            Body::Prescription(Prescription {
                issued_on: "2026-11-21".into(),
                pharmacy: "Farmácia Central".into(),
                notes: String::new(),
                lines: vec![RxLine {
                    medicament: "Amoxicillin 500 mg capsule".into(),
                    indication: "Otitis media".into(),
                    dose: "500".into(),
                    dose_unit: "mg".into(),
                    route: "by mouth".into(),
                    form: "capsule".into(),
                    quantity: 21,
                    frequency: 8,
                    frequency_unit: "hours".into(),
                    prn: false,
                    duration: 7,
                    duration_period: "days".into(),
                    refills: 0,
                    allow_substitution: true,
                    valid_until: "2026-12-21".into(),
                    comment: "Take with food".into(),
                }],
            }),
            Body::Birth(BirthCertificate {
                mother_name: "Maria Müller".into(),
                father_name: "Jürgen Müller".into(),
                date_of_birth: "2026-11-20".into(),
                country: "DE".into(),
                subdivision: "Bayern".into(),
                institution: "Clínica Sol".into(),
                observations: String::new(),
                certified_on: "2026-11-21".into(),
            }),
            Body::Death(DeathCertificate {
                died_at: "2026-11-20T23:15".into(),
                immediate_cause: "Pneumonia".into(),
                underlying_conditions: vec![UnderlyingCondition {
                    condition: "COPD".into(),
                    interval: 10,
                    unit: "years".into(),
                }],
                manner: "natural".into(),
                place: "health_center".into(),
                place_details: "Ward 3".into(),
                autopsy: false,
                country: "PT".into(),
                subdivision: "Lisboa".into(),
                institution: "Clínica Sol".into(),
                observations: String::new(),
            }),
            Body::SickLeave(SickLeave {
                unfit_from: "2026-11-21".into(),
                unfit_to: "2026-11-28".into(),
                restrictions: "No lifting over 5 kg".into(),
                diagnosis: String::new(),
                diagnosis_consent: false,
            }),
            Body::Void(VoidNotice {
                voids: "01a1fd6f-e9de-726b-865f-f92e56b1a898".into(),
                reason: "Wrong patient".into(),
            }),
        ]
    }

    /// The signed bytes never drift: a change here breaks every signature already given.
    /// Regenerate only for a new schema version: `GALEN_WRITE_GOLDEN=1 cargo test -p galen-core golden`.
    #[test]
    fn canonical_json_matches_the_golden_files() {
        let patient = PatientSnapshot {
            mrn: "SOL-0000042K".into(),
            given_names: "Ana Maria".into(),
            family_name: "Albuquerque".into(),
            date_of_birth: "1980-02-29".into(),
        };
        let signer = SignerSnapshot {
            name: "Dr Rui Costa".into(),
            licence: "CRM-12345".into(),
            fingerprint: "F640CCB3D1DF050F885747825A0D5C65D30AF5BB".into(),
        };
        for body in bodies() {
            let bytes = canonical_bytes(
                "Clínica Sol",
                "01a1fd7c-952c-7132-a41d-b511a550bac2",
                &patient,
                &signer,
                "2026-11-21T10:00:00.000Z",
                None,
                &body,
            )
            .expect("canonical");
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("src/documents/golden/{}.json", body.kind()));
            if std::env::var_os("GALEN_WRITE_GOLDEN").is_some() {
                std::fs::write(&path, &bytes).expect("write golden");
            }
            let golden = std::fs::read(&path).expect("golden file exists");
            assert_eq!(String::from_utf8_lossy(&bytes), String::from_utf8_lossy(&golden), "{} drifted", body.kind());
        }
    }
}

/// A signed document as shared with a partner: the signed bytes, the doctor's detached signature and public key,
/// so anyone who receives it can check the doctor's signature (with Galen or stock GnuPG). Do not change: it is
/// signed inside the envelope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedDocument {
    pub uuid: String,
    pub kind: String,
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
    let mut stmt = conn.prepare(
        "SELECT d.uuid, d.kind, p.uuid, d.canonical, d.signature, d.signer_fingerprint
           FROM documents d JOIN patients p ON p.id = d.patient_id
          WHERE d.status = 'signed' AND p.consent_share = 1 AND p.merged_into IS NULL
          ORDER BY d.id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get::<_, String>(5)?)))?
        .collect::<rusqlite::Result<Vec<(String, String, String, String, String, String)>>>()?;
    let mut shared = Vec::new();
    for (uuid, kind, patient_uuid, canonical, signature, fingerprint) in rows {
        if skip(&uuid)? {
            continue;
        }
        let signer_key = signing::public_key(conn, &fingerprint)?;
        shared.push(SharedDocument { uuid, kind, patient_uuid, canonical, signature, signer_key });
    }
    Ok(shared)
}
