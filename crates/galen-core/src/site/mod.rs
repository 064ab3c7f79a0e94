//! Who this clinic is to a partner: an X.509 site CA and a client certificate it issued (for mutually
//! authenticated HTTPS), and an OpenPGP site key (Ed25519 signing, X25519 encryption: envelopes are signed with it
//! and encrypted to the partner's; it also certifies the doctors' keys). Made once, by an admin (`galen site init`)
//! or when the first doctor key needs certifying; the secret parts live only in this
//! encrypted database (`table.rs`), unencrypted inside it, because sync runs without anyone typing a password.
//! The pairing file carries the public parts and a safety number people compare out of band.

pub(crate) mod table;

pub use galen_proto::pairing::{load as load_pairing_file, PairingError, PairingFile};

use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{CryptoFailure, Error, Missing};
use crate::permissions::Action;
use crate::session::Session;
use galen_proto::certs::{self, Leaf};
use galen_proto::envelope::OwnKey;
use galen_proto::pairing::{fingerprint_of, pem_to_der, safety_number};

/// The public side of this clinic's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteIdentity {
    /// The clinic's name.
    pub name: String,
    /// The site CA (PEM): what partners trust.
    pub ca_certificate: String,
    /// The client certificate it issued (PEM).
    pub client_certificate: String,
    /// The OpenPGP site key's fingerprint.
    pub openpgp_fingerprint: String,
    /// The number people compare when pairing.
    pub safety_number: String,
}

impl SiteIdentity {
    /// When the client certificate expires (a sync in its last 60 days renews it).
    pub fn certificate_expires(&self) -> Option<time::OffsetDateTime> {
        certs::expires_at(&self.client_certificate)
    }

    /// When the site CA expires: after that, partners stop trusting this clinic until it pairs again.
    pub fn ca_expires(&self) -> Option<time::OffsetDateTime> {
        certs::expires_at(&self.ca_certificate)
    }
}

fn certificate(e: impl std::fmt::Display) -> Error {
    Error::Crypto(CryptoFailure::Certificate(e.to_string()))
}

fn openpgp(e: impl std::fmt::Display) -> Error {
    Error::Crypto(CryptoFailure::OpenPgp(e.to_string()))
}

/// Creates this clinic's site identity (admins). Refused if it exists: partners already trust it.
pub fn init(clinic: &Clinic, session: &Session) -> Result<SiteIdentity, Error> {
    let actor = clinic.authorize(session, Action::SyncManage, None)?;
    if table::public_parts(clinic.store().conn())?.is_some() {
        return Err(Error::invalid(
            "site",
            "This clinic already has a site identity; partners trust it, so it is not replaced.",
        ));
    }
    create(clinic, &actor)?;
    identity_of(clinic)?.ok_or(Error::NotFound(Missing::SiteIdentity))
}

/// An armored detached signature over `bytes` by the site key (made now if this clinic has none yet): what signs
/// the clinic's FHIR exports.
pub(crate) fn sign_detached(clinic: &Clinic, actor: &Actor, bytes: &[u8]) -> Result<String, Error> {
    let key = OwnKey::from_armored(&ensure_key(clinic, actor)?).map_err(openpgp)?;
    key.sign_detached(bytes).map_err(openpgp)
}

/// The site key (armored secret key), made now if this clinic has no site identity yet: it certifies doctors'
/// keys, so the first doctor key needs it even before anyone sets up sync.
pub(crate) fn ensure_key(clinic: &Clinic, actor: &Actor) -> Result<String, Error> {
    if table::public_parts(clinic.store().conn())?.is_none() {
        create(clinic, actor)?;
    }
    Ok(table::secrets(clinic.store().conn())?.openpgp_key)
}

fn create(clinic: &Clinic, actor: &Actor) -> Result<(), Error> {
    let name = crate::settings::table::site_name_conn(clinic.store().conn())?.unwrap_or_else(|| "Galen clinic".into());
    let issued =
        certs::issue(&format!("{name} — Galen site CA"), &name, Leaf::Client, clinic.now()).map_err(certificate)?;
    let tsk = OwnKey::generate(&format!("{name} (Galen site)")).map_err(openpgp)?;
    let identity = table::NewIdentity {
        name: &name,
        ca_cert: &issued.ca_cert,
        ca_key: &issued.ca_key,
        client_cert: &issued.leaf_cert,
        client_key: &issued.leaf_key,
        openpgp_key: &tsk,
    };
    let at = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        table::insert(tx, &identity, &at)?;
        audit::record(tx, &at, actor, "site.init", ("site", ""), Outcome::Ok)
    })?;
    tracing::info!("site identity created");
    Ok(())
}

/// Renews this clinic's client certificate if it is due (each sync calls this first). Returns whether it did.
pub(crate) fn renew_if_due(clinic: &Clinic) -> Result<bool, Error> {
    let now = clinic.now();
    let Some((ca_cert, ca_key, client_cert)) = table::for_renewal(clinic.store().conn())? else { return Ok(false) };
    if certs::expires_at(&client_cert).is_some_and(|at| at - now > certs::RENEW_WITHIN) {
        return Ok(false);
    }
    let (cert, key) = certs::renew(&ca_cert, &ca_key, &client_cert, now).map_err(certificate)?;
    let at = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        table::replace_client_certificate(tx, &cert, &key)?;
        audit::record(tx, &at, &Actor::sync(), "site.certificate_renewed", ("site", ""), Outcome::Ok)
    })?;
    tracing::info!("client certificate renewed");
    Ok(true)
}

fn identity_of(clinic: &Clinic) -> Result<Option<SiteIdentity>, Error> {
    let Some((name, ca_certificate, client_certificate, tsk)) = table::public_parts(clinic.store().conn())? else {
        return Ok(None);
    };
    let openpgp_fingerprint = fingerprint_of(&tsk).ok_or_else(|| openpgp("the site key cannot be read"))?;
    let der = pem_to_der(&ca_certificate).ok_or_else(|| certificate("the site CA is not valid PEM"))?;
    let safety_number = safety_number(&der, &openpgp_fingerprint);
    Ok(Some(SiteIdentity { name, ca_certificate, client_certificate, openpgp_fingerprint, safety_number }))
}

/// This clinic's site identity, if `init` has run (admins).
pub fn identity(clinic: &Clinic, session: &Session) -> Result<Option<SiteIdentity>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    identity_of(clinic)
}

/// The site key's public part (armored), which certifies this clinic's doctor keys: for GnuPG
/// (`gpg --check-sigs`) and anyone checking a doctor's key (clinicians and admins).
pub fn public_key(clinic: &Clinic, session: &Session) -> Result<String, Error> {
    if clinic.permits(session, Action::DocumentRead, None)?.is_none() {
        clinic.authorize(session, Action::StaffManage, None)?;
    }
    public_key_of(clinic)?.ok_or(Error::NotFound(Missing::SiteIdentity))
}

/// The site key's public part, if the clinic has a site identity.
pub(crate) fn public_key_of(clinic: &Clinic) -> Result<Option<String>, Error> {
    match table::public_parts(clinic.store().conn())? {
        Some((_, _, _, tsk)) => Ok(Some(OwnKey::from_armored(&tsk).map_err(openpgp)?.public_armored())),
        None => Ok(None),
    }
}

/// The pairing file to hand to a partner (admins).
pub fn pairing_file(clinic: &Clinic, session: &Session) -> Result<PairingFile, Error> {
    let me = identity(clinic, session)?.ok_or(Error::NotFound(Missing::SiteIdentity))?;
    let key = OwnKey::from_armored(&table::secrets(clinic.store().conn())?.openpgp_key).map_err(openpgp)?;
    PairingFile::new(&me.name, &me.ca_certificate, &key.public_armored()).map_err(certificate)
}
