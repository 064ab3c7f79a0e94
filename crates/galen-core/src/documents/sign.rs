//! Signing: a doctor's password again, the warnings acknowledged, then a detached OpenPGP signature over the
//! canonical JSON and one over each printed QR's payload (`qr.rs`). A doctor's first signature creates their key. A void is
//! itself a signed notice.

use super::drafts::{self, patient_snapshot};
use super::model::{Body, Canonical, Signed, SignerSnapshot, VoidNotice};
use super::qr;
use super::table::{self, Document, Signature};
use super::validate;
use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{CryptoFailure, Error};
use crate::permissions::{Action, Role};
use crate::session::Session;
use crate::staff::table as staff;
use crate::{password, signing};

/// Signs a draft (doctors only), after the password again and the warnings acknowledged. A doctor's first
/// signature creates their OpenPGP key. Signing a death certificate marks the patient deceased.
pub fn sign(
    clinic: &Clinic,
    session: &Session,
    id: i64,
    password: &str,
    warnings_acknowledged: bool,
) -> Result<Document, Error> {
    let conn = clinic.store().conn();
    let doc = table::load(conn, id)?;
    let actor = clinic.authorize(session, Action::DocumentSign, Some(doc.patient_id))?;
    if doc.signed {
        return Err(Error::AlreadySigned { id });
    }
    validate::ready_to_sign(&doc.body).map_err(Error::Invalid)?;
    if let Body::Void(v) = &doc.body {
        // The document may have been voided, by another notice, since this one was drafted.
        drafts::voidable(conn, doc.patient_id, &v.voids)?;
    }
    let signer = signer(clinic, session, password)?;
    let pending = drafts::warnings(conn, &doc)?;
    if !pending.is_empty() && !warnings_acknowledged {
        return Err(Error::WarningsNotAcknowledged(pending));
    }
    let clinic_name = crate::settings::table::site_name_conn(conn)?.unwrap_or_default();
    // The doctor's key, created at their first signature, or anew if an admin reset left it locked.
    let unlocked = match signing::active_key(conn, signer.id)? {
        Some((fpr, armored)) => signing::unlock(&armored, password)?.map(|k| (fpr, k)),
        None => None,
    };
    let (fingerprint, keypair) = match unlocked {
        Some(k) => k,
        None => {
            let (fpr, armored) = new_key(clinic, &actor, &signer, &clinic_name, password)?;
            let key = signing::unlock(&armored, password)?.ok_or(Error::Crypto(CryptoFailure::NewKeyLocked))?;
            (fpr, key)
        }
    };
    // Taken after the key is made: a key's trust window starts when it was made, so a signature must not predate it.
    let now = clinic.now_rfc3339();
    let patient = patient_snapshot(conn, doc.patient_id)?.0;
    let snapshot = SignerSnapshot {
        name: signer.display_name.clone(),
        licence: signer.licence_number.clone().unwrap_or_default(),
        fingerprint,
    };
    let supersedes = doc.supersedes.map(|old| table::uuid_of(conn, old)).transpose()?;
    let bytes = Canonical {
        schema: doc.body.schema(),
        document: &doc.uuid,
        clinic: &clinic_name,
        patient: &patient,
        signer: &snapshot,
        signed_at: &now,
        supersedes: supersedes.as_deref(),
        body: &doc.body,
    }
    .bytes();
    let signature = signing::sign_with(keypair.clone(), &bytes)?;
    let qr_signature = qr_texts(keypair, &bytes)?;
    let signed = Signature {
        clinic_name: &clinic_name,
        patient: &patient,
        signer_id: signer.id,
        signer: &snapshot,
        signed_at: &now,
        canonical: &bytes,
        signature: &signature,
        qr_signature: &qr_signature,
    };
    clinic.store().write(|tx| {
        table::mark_signed(tx, &doc, &signed)?;
        if let Body::Death(_) = &doc.body {
            crate::patients::table::mark_deceased(tx, doc.patient_id, &now)?;
        }
        if !pending.is_empty() {
            audit::record(
                tx,
                &now,
                &actor,
                "document.warnings_acknowledged",
                ("document", &id.to_string()),
                Outcome::Ok,
            )?;
        }
        audit::record(tx, &now, &actor, "document.sign", ("document", &id.to_string()), Outcome::Ok)
    })?;
    tracing::info!(document_id = id, kind = doc.body.kind(), warnings_acknowledged = pending.len(), "document signed");
    table::load(conn, id)
}

/// A new signing key for `signer`, certified by the clinic's site key (made now if the clinic has none yet) and
/// audited with why it was made: a first signature, or after an admin reset the password (which left the earlier
/// key locked), which the doctor is also told at their next sign-in.
fn new_key(
    clinic: &Clinic,
    actor: &Actor,
    signer: &staff::StaffMember,
    clinic_name: &str,
    password: &str,
) -> Result<(String, String), Error> {
    let site_key = crate::site::ensure_key(clinic, actor)?;
    let now = clinic.now_rfc3339();
    let licence = signer.licence_number.clone().unwrap_or_default();
    let user_id = format!("{} (licence {licence}, {clinic_name})", signer.display_name);
    let (fpr, armored) = clinic.store().write(|tx| {
        let staff_entity = ("staff", signer.id.to_string());
        let cause = match signing::table::newest_created(tx, signer.id)? {
            None => signing::KeyCause::FirstSignature,
            // A reset since the newest key was made is what left it locked.
            Some(made) => match audit::last(tx, "staff.password_reset", (staff_entity.0, &staff_entity.1))? {
                Some((by, at)) if at >= made => signing::KeyCause::AfterReset { by, at },
                _ => signing::KeyCause::Replaced,
            },
        };
        let (fpr, armored) = signing::create_key(tx, signer.id, &user_id, password, &cause, &site_key, &now)?;
        audit::record(tx, &now, actor, "signing_key.create", ("doctor_key", &format!("{fpr}: {cause}")), Outcome::Ok)?;
        Ok((fpr, armored))
    })?;
    tracing::info!(staff_id = signer.id, fingerprint = %fpr, "signing key created");
    Ok((fpr, armored))
}

/// The format-2 QR texts for freshly signed canonical bytes, one line each (see `qr.rs`): stored with the
/// document, checked against its fields at every read.
pub(crate) fn qr_texts(keypair: sequoia_openpgp::crypto::KeyPair, canonical: &[u8]) -> Result<String, Error> {
    let unprintable = || Error::Printout("the document cannot be described in its QR".into());
    let signed: Signed = serde_json::from_slice(canonical).map_err(|_| unprintable())?;
    // Signed when the document was (the QR is part of the signing), to the second.
    let time = time::OffsetDateTime::parse(&signed.signed_at, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u32::try_from(t.unix_timestamp()).ok())
        .ok_or_else(unprintable)?;
    let mut texts = Vec::new();
    for deflated in qr::plan(&signed, canonical).ok_or_else(unprintable)? {
        texts.push(qr::encode_2(&deflated, &signing::compact::sign(keypair.clone(), &deflated, time)?));
    }
    Ok(texts.join("\n"))
}

/// Voids a signed document with a signed notice giving the reason (doctors).
pub fn void(clinic: &Clinic, session: &Session, id: i64, reason: &str, password: &str) -> Result<Document, Error> {
    let doc = table::load(clinic.store().conn(), id)?;
    if !doc.signed || doc.voided_by.is_some() || matches!(doc.body, Body::Void(_)) {
        return Err(Error::invalid("document", "Only a signed, current document can be voided."));
    }
    // What drafting and signing the notice will check, checked first: a refusal must not leave an unsigned notice.
    clinic.authorize(session, Action::DocumentVoid, Some(doc.patient_id))?;
    clinic.authorize(session, Action::DocumentSign, Some(doc.patient_id))?;
    signer(clinic, session, password)?;
    let notice = Body::Void(VoidNotice { voids: doc.uuid.clone(), reason: reason.into() });
    let notice = drafts::create(clinic, session, doc.patient_id, notice, None)?;
    sign(clinic, session, notice.id, password, true)
}

/// The signing doctor: the session's own account, active, a doctor, and `password` is theirs.
fn signer(clinic: &Clinic, session: &Session, password: &str) -> Result<staff::StaffMember, Error> {
    let conn = clinic.store().conn();
    let signer = staff::by_id(conn, session.user_id)?
        .filter(|m| m.active && m.role == Role::Doctor)
        .ok_or(Error::AccountDisabled)?;
    if !clinic.recheck_password(&signer, || Ok(password::verify(password, &staff::password_hash(conn, signer.id)?)))? {
        return Err(Error::invalid("password", "This is not your password."));
    }
    Ok(signer)
}
