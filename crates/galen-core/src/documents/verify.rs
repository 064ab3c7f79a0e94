//! Checking a signature: a stored document (its canonical bytes rebuilt from the stored fields, so changing any
//! field breaks it), and a document held outside its clinic (only its bytes, signature and the doctor's key).

use super::model::{Body, Canonical, KeyNote, PatientSnapshot, Problem, Signed, SignerSnapshot};
use super::qr;
use super::sign::qr_summary;
use super::table::{self, Document};
use crate::error::Error;
use crate::signing;
use rusqlite::Connection;

/// The outcome of checking a stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The signature covers exactly the stored fields.
    Valid {
        /// Who signed, as the signed bytes say.
        signer: SignerSnapshot,
        /// When, RFC 3339.
        signed_at: String,
        /// What a reader should also know about the signing key.
        notes: Vec<KeyNote>,
    },
    /// A draft: nothing to check yet.
    Unsigned,
    /// The check failed; nothing of it should be trusted.
    Invalid {
        /// Why.
        problem: Problem,
    },
}

/// A stored document checked: its verification, and when it holds, the parts that leave the clinic with it.
#[derive(Debug)]
pub(crate) struct Checked {
    pub verification: Verification,
    pub parts: Option<SignedParts>,
}

/// A verified document as it leaves the clinic (printed, exported, shared): the exact signed bytes, the doctor's
/// detached signature and public key, and the QR text (none for documents signed before the QR existed).
#[derive(Debug, Clone)]
pub(crate) struct SignedParts {
    pub canonical: String,
    pub signature: String,
    pub public_key: String,
    pub qr_text: Option<String>,
}

/// Rebuilds the canonical bytes from the stored columns and checks the signature over them. The one reader of a
/// signed row: printing, exporting and showing a document all go through it.
pub(crate) fn check(conn: &Connection, doc: &Document) -> Result<Checked, Error> {
    if !doc.signed {
        return Ok(Checked { verification: Verification::Unsigned, parts: None });
    }
    let stored = table::stored(conn, doc.id)?;
    let invalid = |problem| Ok(Checked { verification: Verification::Invalid { problem }, parts: None });
    let (
        Some(clinic_name),
        Some(snapshot),
        Some(name),
        Some(licence),
        Some(fpr),
        Some(signed_at),
        Some(canonical),
        Some(signature),
    ) = (
        stored.clinic_name,
        stored.patient_snapshot,
        stored.signer_name,
        stored.signer_licence,
        stored.signer_fingerprint,
        stored.signed_at,
        stored.canonical,
        stored.signature,
    )
    else {
        return invalid(Problem::SignatureMissing);
    };
    let Ok(body) = serde_json::from_str::<Body>(&stored.body) else { return invalid(Problem::Unreadable) };
    if body.kind() != stored.kind {
        return invalid(Problem::KindChanged);
    }
    let Ok(patient) = serde_json::from_str::<PatientSnapshot>(&snapshot) else { return invalid(Problem::Unreadable) };
    if !crate::patients::table::mrns(conn, doc.patient_id)?.contains(&crate::mrn::normalize(&patient.mrn)) {
        return invalid(Problem::OtherPatient);
    }
    let signer = SignerSnapshot { name, licence, fingerprint: fpr };
    let supersedes = doc.supersedes.map(|old| table::uuid_of(conn, old)).transpose()?;
    let bytes = Canonical {
        schema: body.schema(),
        document: &doc.uuid,
        clinic: &clinic_name,
        patient: &patient,
        signer: &signer,
        signed_at: &signed_at,
        supersedes: supersedes.as_deref(),
        body: &body,
    }
    .bytes();
    if bytes != canonical.as_bytes() {
        return invalid(Problem::FieldsChanged);
    }
    let Ok(public_key) = signing::public_key(conn, &signer.fingerprint) else { return invalid(Problem::KeyMissing) };
    if let Err(e) = signing::verify_detached(&public_key, &signature, &bytes) {
        return invalid(Problem::BadSignature(e.0));
    }
    let notes = match signing::table::record_of(conn, &signer.fingerprint)? {
        Some(key) => match key_notes(&key, &signed_at) {
            Ok(notes) => notes,
            Err(problem) => return invalid(problem),
        },
        None => Vec::new(),
    };
    // Documents signed before the QR existed (schema 10) have none; they print without one.
    let qr_text = match stored.qr_signature.map(|s| data_encoding::BASE64URL_NOPAD.decode(s.as_bytes())) {
        None => None,
        Some(Ok(raw)) => {
            Some(qr::encode(&qr_summary(&doc.uuid, body.kind(), &patient, &signer, &signed_at, &bytes), &raw))
        }
        Some(Err(_)) => return invalid(Problem::Unreadable),
    };
    Ok(Checked {
        verification: Verification::Valid { signer, signed_at, notes },
        parts: Some(SignedParts { canonical, signature, public_key, qr_text }),
    })
}

/// What to say about the key that signed at `signed_at`: a signature made after the key was revoked fails; one
/// made before stays valid, with a note, as does one made with a key made after an admin reset the password.
fn key_notes(key: &signing::table::KeyRecord, signed_at: &str) -> Result<Vec<KeyNote>, Problem> {
    let mut notes = Vec::new();
    if let signing::KeyCause::AfterReset { by, at } = &key.cause {
        notes.push(KeyNote::MadeAfterReset { by: by.clone(), at: at.clone() });
    }
    if let Some(r) = &key.revoked {
        if signed_at >= r.at.as_str() {
            return Err(Problem::KeyRevoked { at: r.at.clone(), reason: r.reason.clone() });
        }
        notes.push(KeyNote::RevokedLater { at: r.at.clone(), reason: r.reason.clone() });
    }
    Ok(notes)
}

/// The parts of a signed document that verifies; a document that does not verify never leaves the clinic.
pub(crate) fn signed_parts(conn: &Connection, doc: &Document) -> Result<SignedParts, Error> {
    let checked = check(conn, doc)?;
    match (checked.verification, checked.parts) {
        (_, Some(parts)) => Ok(parts),
        (Verification::Invalid { problem }, _) => Err(Error::DoesNotVerify { document: doc.uuid.clone(), problem }),
        _ => Err(Error::invalid("document", "Only signed documents leave the clinic. Sign it first.")),
    }
}

/// Checks a signed document with only the doctor's public key, as a pharmacist, a registry or another site can
/// offline: the signature covers the bytes, and the bytes name that very key as their signer.
pub fn check_signed(json: &[u8], signature: &str, key: &str) -> Result<Signed, Problem> {
    signing::verify_detached(key, signature, json).map_err(|e| Problem::BadSignature(e.0))?;
    let signed: Signed = serde_json::from_slice(json).map_err(|_| Problem::NotAGalenDocument)?;
    if signing::fingerprint_of(key).as_deref() != Some(signed.signer.fingerprint.as_str()) {
        return Err(Problem::OtherSigner);
    }
    Ok(signed)
}
