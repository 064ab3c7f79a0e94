//! The real server on 127.0.0.1 behind rustls, and plain `curl` as the client: no client certificate, one from
//! a foreign CA, or an expired one are refused in the handshake; the right one is accepted and identified.

use galen_partner::tls;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = params.self_signed(&key).expect("self-signed").pem();
    Ca { issuer: Issuer::new(params, key), pem }
}

/// A leaf signed by `ca`, valid from a year ago until `days` from now (negative: already expired).
fn leaf(ca: &Ca, name: &str, days: i64) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("params");
    params.distinguished_name.push(DnType::CommonName, name);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(365);
    params.not_after = now + time::Duration::days(days);
    let cert = params.signed_by(&key, &ca.issuer).expect("signed");
    (cert.pem(), key.serialize_pem())
}

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

fn curl(url: &str, ca: &Path, client: Option<(&Path, &Path)>) -> Output {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--max-time", "10", "--cacert"]).arg(ca);
    if let Some((cert, key)) = client {
        cmd.arg("--cert").arg(cert).arg("--key").arg(key);
    }
    cmd.arg(url).output().expect("curl runs")
}

#[test]
fn only_a_client_certificate_from_the_trusted_ca_gets_in() {
    let files = Files { dir: tempfile::tempdir().expect("tmp") };
    let site_ca = ca("Clínica Sol site CA");
    let server_ca = ca("Partner server CA");
    let foreign_ca = ca("Some other CA");
    let (server_cert, server_key) = leaf(&server_ca, "partner.example", 30);
    let (client_cert, client_key) = leaf(&site_ca, "Clínica Sol", 30);
    let (foreign_cert, foreign_key) = leaf(&foreign_ca, "Intruder", 30);
    let (expired_cert, expired_key) = leaf(&site_ca, "Clínica Sol (old)", -1);

    let clients = tls::ClientCas::new(site_ca.pem.as_bytes()).expect("the site CA");
    let config = tls::server_config(server_cert.as_bytes(), server_key.as_bytes(), &clients).expect("server config");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let partner = crate::support::new_partner();
    let partner = galen_partner::store::Partner::load(partner.open(), false);
    runtime.spawn(tls::serve(listener, config, galen_partner::app(std::sync::Arc::new(partner.expect("load")))));

    let server_ca_file = files.write("server-ca.pem", &server_ca.pem);
    let url = format!("https://127.0.0.1:{port}/api/v1/health");
    let pair = |name: &str, cert: &str, key: &str| {
        (files.write(&format!("{name}.pem"), cert), files.write(&format!("{name}.key"), key))
    };
    let good = pair("client", &client_cert, &client_key);
    let foreign = pair("foreign", &foreign_cert, &foreign_key);
    let expired = pair("expired", &expired_cert, &expired_key);

    let out = curl(&url, &server_ca_file, Some((&good.0, &good.1)));
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the paired site gets in: {}", String::from_utf8_lossy(&out.stderr));
    let der = rustls::pki_types::CertificateDer::from_pem_slice(client_cert.as_bytes()).expect("der");
    let expected = data_encoding::HEXLOWER.encode(&<sha2::Sha256 as sha2::Digest>::digest(&der));
    assert!(body.contains("\"status\":\"ok\"") && body.contains(&expected), "identified by its certificate: {body}");

    let out = curl(&url, &server_ca_file, None);
    assert!(!out.status.success() && out.stdout.is_empty(), "no certificate, no entry");
    for (what, (cert, key)) in [("foreign CA", &foreign), ("expired", &expired)] {
        let out = curl(&url, &server_ca_file, Some((cert, key)));
        assert!(!out.status.success() && out.stdout.is_empty(), "a {what} certificate is refused");
    }

    // Unknown routes get a JSON 404 that names nothing internal.
    let out = curl(&format!("https://127.0.0.1:{port}/admin"), &server_ca_file, Some((&good.0, &good.1)));
    let body = String::from_utf8_lossy(&out.stdout);
    assert!(body.contains("\"error\":\"not_found\""), "{body}");
}
