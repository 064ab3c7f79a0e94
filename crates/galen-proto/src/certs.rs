//! Certificates for mutually authenticated HTTPS: each side is its own CA (a clinic's site CA issues its client
//! certificate; a partner's CA its server certificate), and whoever paired trusts that CA. ECDSA P-256, by rcgen.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// What a certificate from [`issue`] is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// A clinic's client certificate (TLS client authentication).
    Client,
    /// A partner server's certificate for these host names or IP addresses.
    Server {
        /// Its host names and IP addresses.
        hosts: Vec<String>,
    },
}

/// A CA and one certificate it issued, PEM. The keys are secrets: never log them.
pub struct Issued {
    /// The CA certificate (PEM).
    pub ca_cert: String,
    /// The CA's private key (PEM). Secret.
    pub ca_key: String,
    /// The certificate it issued (PEM).
    pub leaf_cert: String,
    /// That certificate's private key (PEM). Secret.
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
