//! Doctors' keys as an admin manages them: the list with each key's standing, revoking one with a reason (the
//! revocation travels with the public key, and signatures made after it fail), the revocation certificate for
//! GnuPG, and the trust list other places verify documents with (`trust.rs`).

use super::trust::{TrustList, TrustedKey, TrustedRevocation, FORMAT};
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, Missing};
use crate::permissions::Action;
use crate::session::Session;
use crate::signing::table::{self as keys, KeyRecord};
use crate::signing::{self, KeyCause};
use crate::staff::table as staff;
use sha2::Digest;

pub use crate::signing::table::Revoked;
pub use crate::signing::KeyCause as Cause;

/// A doctor key and its standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorKey {
    /// The key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// The doctor's username.
    pub username: String,
    /// Their full name.
    pub doctor: String,
    /// Their licence number.
    pub licence: String,
    /// When it was made, RFC 3339.
    pub created_at: String,
    /// Why it was made.
    pub cause: KeyCause,
    /// In use, replaced by a newer key, or revoked.
    pub status: KeyStatus,
    /// The clinic's site key certifies it.
    pub vouched: bool,
}

/// Where a key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStatus {
    /// The doctor's current key.
    Active,
    /// A newer key took over (e.g. after a password reset); its signatures stand.
    Replaced {
        /// When the next key was made, RFC 3339.
        at: String,
    },
    /// An admin revoked it.
    Revoked(Revoked),
}

/// Every doctor key with its standing, oldest first (admins).
pub fn doctor_keys(clinic: &Clinic, session: &Session) -> Result<Vec<DoctorKey>, Error> {
    clinic.authorize(session, Action::StaffManage, None)?;
    listed(clinic)
}

fn listed(clinic: &Clinic) -> Result<Vec<DoctorKey>, Error> {
    let conn = clinic.store().conn();
    let records = keys::all(conn)?;
    let site_key = crate::site::public_key_of(clinic)?;
    records
        .iter()
        .map(|k| {
            let member = staff::by_id(conn, k.staff_id)?;
            let armored = signing::public_key(conn, &k.fingerprint)?;
            Ok(DoctorKey {
                fingerprint: k.fingerprint.clone(),
                username: member.as_ref().map(|m| m.username.clone()).unwrap_or_default(),
                doctor: member.as_ref().map(|m| m.display_name.clone()).unwrap_or_default(),
                licence: member.and_then(|m| m.licence_number).unwrap_or_default(),
                created_at: k.created_at.clone(),
                cause: k.cause.clone(),
                status: status(k, &records),
                vouched: site_key.as_deref().is_some_and(|site| signing::certified_by(&armored, site)),
            })
        })
        .collect()
}

fn status(k: &KeyRecord, all: &[KeyRecord]) -> KeyStatus {
    if let Some(r) = &k.revoked {
        return KeyStatus::Revoked(r.clone());
    }
    if k.active {
        return KeyStatus::Active;
    }
    let next = all.iter().filter(|o| o.staff_id == k.staff_id && o.created_at > k.created_at).map(|o| &o.created_at);
    KeyStatus::Replaced { at: next.min().cloned().unwrap_or_default() }
}

/// Revokes a doctor key (admins), e.g. a lost laptop or a doctor who left, with the reason. Documents signed
/// before stay valid; signatures made from now on with it fail. If it was the doctor's current key, their next
/// signature makes a new one.
pub fn revoke_key(clinic: &Clinic, session: &Session, fingerprint: &str, reason: &str) -> Result<DoctorKey, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let reason = crate::text::clean(reason);
    crate::text::check_required("reason", &reason, 200).map_err(Error::Invalid)?;
    let conn = clinic.store().conn();
    let record =
        keys::record_of(conn, fingerprint)?.ok_or_else(|| Error::NotFound(Missing::Key(fingerprint.into())))?;
    if record.revoked.is_some() {
        return Err(Error::invalid("fingerprint", "This key is already revoked."));
    }
    let tsk =
        keys::by_fingerprint(conn, fingerprint)?.ok_or_else(|| Error::NotFound(Missing::Key(fingerprint.into())))?;
    let site_key = crate::site::ensure_key(clinic, &actor)?;
    let (revoked_tsk, certificate) = signing::revoke(&tsk, &site_key, &reason)?;
    let now = clinic.now_rfc3339();
    let revoked = Revoked { at: now.clone(), by: session.username().to_owned(), reason: reason.clone() };
    clinic.store().write(|tx| {
        keys::revoke(tx, fingerprint, &revoked_tsk, certificate.as_deref(), &revoked)?;
        audit::record(tx, &now, &actor, "signing_key.revoke", ("doctor_key", fingerprint), Outcome::Ok)
    })?;
    tracing::info!(fingerprint, "signing key revoked");
    listed(clinic)?
        .into_iter()
        .find(|k| k.fingerprint == fingerprint)
        .ok_or_else(|| Error::NotFound(Missing::Key(fingerprint.into())))
}

/// The revocation certificate of a revoked key (admins), armored: made by the clinic's site key as the key's
/// designated revoker, so `gpg --import` marks the key revoked once the site key is imported too.
pub fn revocation_certificate(clinic: &Clinic, session: &Session, fingerprint: &str) -> Result<String, Error> {
    clinic.authorize(session, Action::StaffManage, None)?;
    let conn = clinic.store().conn();
    let record =
        keys::record_of(conn, fingerprint)?.ok_or_else(|| Error::NotFound(Missing::Key(fingerprint.into())))?;
    if record.revoked.is_none() {
        return Err(Error::invalid("fingerprint", "Revoke the key first; then its revocation can be handed out."));
    }
    keys::revocation_certificate(conn, fingerprint)?.ok_or_else(|| {
        Error::invalid(
            "fingerprint",
            "This key was made before Galen kept revocation certificates; hand out its public key, which carries \
             the clinic's withdrawal of it.",
        )
    })
}

/// The clinic's site key, armored public key (admins), made now if the clinic has none yet: what `gpg` imports to
/// see the clinic's certifications and revocations, and what people compare a trust list's key with.
pub fn site_key(clinic: &Clinic, session: &Session) -> Result<String, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    crate::site::ensure_key(clinic, &actor)?;
    crate::site::public_key_of(clinic)?.ok_or(Error::NotFound(Missing::SiteIdentity))
}

/// This clinic's trust list (admins): every doctor key it issued, when each may sign, and its revocations, signed
/// by the site key. See `trust.rs` and docs/trust-list.md.
pub fn trust_list(clinic: &Clinic, session: &Session) -> Result<String, Error> {
    let actor = clinic.authorize(session, Action::StaffManage, None)?;
    let site_tsk = crate::site::ensure_key(clinic, &actor)?;
    let list = unsigned_list(clinic, &clinic.now_rfc3339())?;
    signing::cleartext_sign(&site_tsk, &json(&list)?)
}

/// The trust list sync shares with other sites, signed with the site key `site_tsk`, and a digest of what it says
/// apart from when it was issued: sync shares it again only when that changes.
pub(crate) fn shared_trust_list(clinic: &Clinic, site_tsk: &str) -> Result<(String, String), Error> {
    let digest = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(json(&unsigned_list(clinic, "")?)?.as_bytes()));
    let list = unsigned_list(clinic, &clinic.now_rfc3339())?;
    Ok((digest, signing::cleartext_sign(site_tsk, &json(&list)?)?))
}

/// When a key's trust window opens: when it was made, or its first signature if that is dated earlier (before
/// this version, a doctor's first signature took its time a moment before the key was made).
fn valid_from(conn: &rusqlite::Connection, fingerprint: &str, created_at: String) -> Result<String, Error> {
    let first = super::table::first_signed_with(conn, fingerprint)?;
    Ok(first.filter(|f| *f < created_at).unwrap_or(created_at))
}

fn json(list: &TrustList) -> Result<String, Error> {
    serde_json::to_string_pretty(list).map_err(|e| Error::Crypto(crate::error::CryptoFailure::OpenPgp(e.to_string())))
}

fn unsigned_list(clinic: &Clinic, issued_at: &str) -> Result<TrustList, Error> {
    let conn = clinic.store().conn();
    let site_key = crate::site::public_key_of(clinic)?.ok_or(Error::NotFound(Missing::SiteIdentity))?;
    let doctors = listed(clinic)?
        .into_iter()
        .map(|k| {
            Ok(TrustedKey {
                key: signing::public_key(conn, &k.fingerprint)?,
                valid_from: valid_from(conn, &k.fingerprint, k.created_at.clone())?,
                name: k.doctor,
                licence: k.licence,
                fingerprint: k.fingerprint,
                valid_until: match &k.status {
                    KeyStatus::Replaced { at } => Some(at.clone()),
                    _ => None,
                },
                revoked: match k.status {
                    KeyStatus::Revoked(r) => Some(TrustedRevocation { at: r.at, reason: r.reason }),
                    _ => None,
                },
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(TrustList {
        format: FORMAT.into(),
        clinic: crate::settings::table::site_name_conn(conn)?.unwrap_or_default(),
        issued_at: issued_at.into(),
        site_key,
        doctors,
    })
}
