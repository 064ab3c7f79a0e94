//! `site_identity`: who this clinic is to a partner. An X.509 site CA and a client certificate it issued (for
//! mutually authenticated HTTPS), and an OpenPGP site key (Ed25519 signing, X25519 encryption: envelopes are
//! signed with it and encrypted to the partner's). Made once by an admin (`galen site init`); the secret parts
//! live only in this encrypted database, unencrypted inside it, because sync runs without anyone typing a
//! password. The pairing file carries the public parts and a safety number people compare out of band.

use crate::audit::Outcome;
use crate::clinic::Clinic;
use crate::error::{Error, FieldError, FieldErrors};
use crate::permissions::Action;
use crate::session::Session;
use crate::settings;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version tag of a pairing file; readers refuse others.
pub const PAIRING_FORMAT: &str = "galen-pairing-1";

/// What a partner needs to know this site: public parts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingFile {
    pub format: String,
    pub site: String,
    /// The site CA (PEM): the partner trusts client certificates it issued.
    pub ca_certificate: String,
    /// The site's OpenPGP public key (armored): envelopes from this site are signed with it.
    pub openpgp_public_key: String,
    /// For people to compare out of band; recomputed by the reader, never trusted from the file.
    pub safety_number: String,
}

/// The public side of this clinic's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteIdentity {
    pub name: String,
    pub ca_certificate: String,
    pub client_certificate: String,
    pub openpgp_fingerprint: String,
    pub safety_number: String,
}

impl SiteIdentity {
    /// When the client certificate expires (a sync in its last 60 days renews it).
    pub fn certificate_expires(&self) -> Option<time::OffsetDateTime> {
        expires_at(&self.client_certificate)
    }
}

fn crypto(e: impl std::fmt::Display) -> Error {
    Error::Signing { reason: e.to_string() }
}

/// Twenty digits in groups of five from SHA-256 over the CA certificate (DER) and the OpenPGP fingerprint:
/// short enough to read over the phone, and it changes if either part is swapped.
pub fn safety_number(ca_der: &[u8], openpgp_fingerprint: &str) -> String {
    let digest = Sha256::new().chain_update(ca_der).chain_update(openpgp_fingerprint.as_bytes()).finalize();
    digest
        .chunks(4)
        .take(4)
        .map(|c| format!("{:05}", u32::from_be_bytes([c[0], c[1], c[2], c[3]]) % 100_000))
        .collect::<Vec<_>>()
        .join(" ")
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, Error> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    crate::crypto::base64_decode(&body).ok_or_else(|| crypto("a certificate is not valid PEM"))
}

fn openpgp_fingerprint(armored: &str) -> Result<String, Error> {
    crate::signing::fingerprint_of(armored).ok_or_else(|| crypto("an OpenPGP key cannot be read"))
}

/// Creates this clinic's site identity (admins). Refused if it exists: partners already trust it.
pub fn init(clinic: &Clinic, session: &Session) -> Result<SiteIdentity, Error> {
    let actor = clinic.authorize(session, Action::SyncManage, None)?;
    if identity(clinic, session)?.is_some() {
        return Err(Error::Invalid(FieldErrors::one(FieldError::new(
            "site",
            "This clinic already has a site identity; partners trust it, so it is not replaced.",
        ))));
    }
    let name = settings::site_name(clinic.store())?.unwrap_or_else(|| "Galen clinic".into());
    let now = clinic.now();

    let issued = issue(&format!("{name} — Galen site CA"), &name, Leaf::Client, now).map_err(crypto)?;
    let tsk = crate::sync::envelope::OwnKey::generate(&format!("{name} (Galen site)")).map_err(crypto)?;

    let at = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute(
            "INSERT INTO site_identity (id, name, ca_cert, ca_key, client_cert, client_key, openpgp_key, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![name, issued.ca_cert, issued.ca_key, issued.leaf_cert, issued.leaf_key, tsk, at],
        )?;
        crate::audit::record(tx, &at, &actor, "site.init", ("site", ""), Outcome::Ok)
    })?;
    identity(clinic, session)?.ok_or_else(|| Error::NotFound { what: "The new site identity".into() })
}

/// What a certificate from [`issue`] is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// A clinic's client certificate (TLS client authentication).
    Client,
    /// A partner server's certificate for these host names or IP addresses.
    Server { hosts: Vec<String> },
}

/// A CA and one certificate it issued, PEM. The keys are secrets: never log them.
pub struct Issued {
    pub ca_cert: String,
    pub ca_key: String,
    pub leaf_cert: String,
    pub leaf_key: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").finish_non_exhaustive()
    }
}

/// How long a CA and a certificate it issues are valid.
const CA_YEARS: i64 = 10;
const LEAF_YEARS: i64 = 2;
/// A certificate with less than this left is renewed (a clinic's at its next sync; a partner's by
/// `galen-partner renew-certificate`, which `serve` reminds of).
pub const RENEW_WITHIN: time::Duration = time::Duration::days(60);

/// Makes a CA (10 years, issues end-entity certificates only) and a leaf it signs (2 years): the clinic's site
/// CA and client certificate, or a partner's server CA and certificate. ECDSA P-256.
pub fn issue(ca_name: &str, leaf_name: &str, leaf: Leaf, now: time::OffsetDateTime) -> Result<Issued, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name.push(DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(CA_YEARS * 365);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let (leaf_cert, leaf_key) = sign_leaf(leaf_name, leaf, &issuer, now)?;
    Ok(Issued { ca_cert: ca_cert.pem(), ca_key: issuer.key().serialize_pem(), leaf_cert, leaf_key })
}

/// Signs a leaf for these names and purpose with a new key, valid from yesterday for two years: (cert, key).
fn sign_leaf(
    leaf_name: &str,
    leaf: Leaf,
    issuer: &Issuer<'_, KeyPair>,
    now: time::OffsetDateTime,
) -> Result<(String, String), rcgen::Error> {
    let (names, usage) = match leaf {
        Leaf::Client => (Vec::new(), ExtendedKeyUsagePurpose::ClientAuth),
        Leaf::Server { hosts } => (hosts, ExtendedKeyUsagePurpose::ServerAuth),
    };
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, leaf_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(LEAF_YEARS * 365);
    let key = KeyPair::generate()?;
    Ok((params.signed_by(&key, issuer)?.pem(), key.serialize_pem()))
}

/// A new certificate (and key) for the same name, hosts and purpose as `old`, from the CA that issued it.
/// Whoever trusts the CA accepts it, so nobody pairs again.
pub fn renew(
    ca_cert: &str,
    ca_key: &str,
    old: &str,
    now: time::OffsetDateTime,
) -> Result<(String, String), rcgen::Error> {
    let issuer = Issuer::from_ca_cert_pem(ca_cert, KeyPair::from_pem(ca_key)?)?;
    let (name, leaf) = describe(old).ok_or(rcgen::Error::CouldNotParseCertificate)?;
    sign_leaf(&name, leaf, &issuer, now)
}

/// A PEM certificate from [`issue`], read back: its common name and what it is for.
fn describe(cert: &str) -> Option<(String, Leaf)> {
    use x509_parser::extensions::GeneralName;
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert.as_bytes()).ok()?;
    let x509 = pem.parse_x509().ok()?;
    let name = x509.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
    if x509.extended_key_usage().ok()??.value.client_auth {
        return Some((name, Leaf::Client));
    }
    let hosts = x509
        .subject_alternative_name()
        .ok()??
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(host) => Some((*host).to_owned()),
            GeneralName::IPAddress(&[a, b, c, d]) => Some(std::net::Ipv4Addr::new(a, b, c, d).to_string()),
            GeneralName::IPAddress(bytes) => {
                <[u8; 16]>::try_from(*bytes).ok().map(|b| std::net::Ipv6Addr::from(b).to_string())
            }
            _ => None,
        })
        .collect();
    Some((name, Leaf::Server { hosts }))
}

/// When a PEM certificate stops being valid, if it can be read.
pub fn expires_at(cert: &str) -> Option<time::OffsetDateTime> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert.as_bytes()).ok()?;
    Some(pem.parse_x509().ok()?.validity().not_after.to_datetime())
}

/// Renews this clinic's client certificate if it is due (each sync calls this first). Returns whether it did.
pub(crate) fn renew_if_due(clinic: &Clinic) -> Result<bool, Error> {
    let now = clinic.now();
    let row: Option<(String, String, String)> = clinic
        .store()
        .conn()
        .query_row("SELECT ca_cert, ca_key, client_cert FROM site_identity WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((ca_cert, ca_key, client_cert)) = row else { return Ok(false) };
    if expires_at(&client_cert).is_some_and(|at| at - now > RENEW_WITHIN) {
        return Ok(false);
    }
    let (cert, key) = renew(&ca_cert, &ca_key, &client_cert, now).map_err(crypto)?;
    let at = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute("UPDATE site_identity SET client_cert = ?1, client_key = ?2 WHERE id = 1", (&cert, &key))?;
        let actor = crate::sync::system_actor();
        crate::audit::record(tx, &at, &actor, "site.certificate_renewed", ("site", ""), Outcome::Ok)
    })?;
    Ok(true)
}

/// The secret parts, for the sync client only.
pub(crate) struct Secrets {
    pub client_cert: String,
    pub client_key: String,
    pub openpgp_key: String,
}

pub(crate) fn secrets(conn: &rusqlite::Connection) -> Result<Secrets, Error> {
    conn.query_row("SELECT client_cert, client_key, openpgp_key FROM site_identity WHERE id = 1", [], |r| {
        Ok(Secrets { client_cert: r.get(0)?, client_key: r.get(1)?, openpgp_key: r.get(2)? })
    })
    .optional()?
    .ok_or_else(|| Error::NotFound { what: "A site identity (run `galen site init` first)".into() })
}

/// This clinic's site identity, if `init` has run (admins).
pub fn identity(clinic: &Clinic, session: &Session) -> Result<Option<SiteIdentity>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    let row: Option<(String, String, String, String)> = clinic
        .store()
        .conn()
        .query_row("SELECT name, ca_cert, client_cert, openpgp_key FROM site_identity WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((name, ca_certificate, client_certificate, tsk)) = row else { return Ok(None) };
    let openpgp_fingerprint = openpgp_fingerprint(&tsk)?;
    let safety_number = safety_number(&pem_to_der(&ca_certificate)?, &openpgp_fingerprint);
    Ok(Some(SiteIdentity { name, ca_certificate, client_certificate, openpgp_fingerprint, safety_number }))
}

/// The pairing file to hand to a partner (admins).
pub fn pairing_file(clinic: &Clinic, session: &Session) -> Result<PairingFile, Error> {
    let me = identity(clinic, session)?
        .ok_or_else(|| Error::NotFound { what: "A site identity (run `galen site init` first)".into() })?;
    let key =
        crate::sync::envelope::OwnKey::from_armored(&secrets(clinic.store().conn())?.openpgp_key).map_err(crypto)?;
    PairingFile::new(&me.name, &me.ca_certificate, &key.public_armored())
}

impl PairingFile {
    /// A pairing file for `site` from its CA certificate (PEM) and armored OpenPGP public key.
    pub fn new(site: &str, ca_certificate: &str, openpgp_public_key: &str) -> Result<PairingFile, Error> {
        let number = safety_number(&pem_to_der(ca_certificate)?, &openpgp_fingerprint(openpgp_public_key)?);
        Ok(PairingFile {
            format: PAIRING_FORMAT.into(),
            site: site.into(),
            ca_certificate: ca_certificate.into(),
            openpgp_public_key: openpgp_public_key.into(),
            safety_number: number,
        })
    }

    /// Whether `typed` is this file's safety number, however the person spaced it.
    pub fn confirms(&self, typed: &str) -> bool {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        digits(typed) == digits(&self.safety_number)
    }
}

/// Reads a partner's pairing file and recomputes its safety number from the keys it carries; the number
/// written in the file is only a convenience and is not trusted.
pub fn read_pairing_file(text: &str) -> Result<PairingFile, Error> {
    let bad = |why: &str| Error::Invalid(FieldErrors::one(FieldError::new("pairing_file", why)));
    let mut file: PairingFile = serde_json::from_str(text).map_err(|_| bad("This is not a Galen pairing file."))?;
    if file.format != PAIRING_FORMAT {
        return Err(bad("This pairing file is from another version of Galen."));
    }
    let der = pem_to_der(&file.ca_certificate).map_err(|_| bad("Its CA certificate is not valid PEM."))?;
    let fpr = openpgp_fingerprint(&file.openpgp_public_key).map_err(|_| bad("Its OpenPGP key cannot be read."))?;
    file.safety_number = safety_number(&der, &fpr);
    Ok(file)
}
