//! Certificates expire (a clinic's and a partner's last two years); both are renewed from the CA the other side
//! already trusts, so sync goes on without pairing again.

use crate::support::*;
use galen_core::clock::FakeClock;
use galen_core::{audit, site, sync};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

fn client_certificate(c: &ClinicDir) -> String {
    site::identity(&c.clinic, &c.admin).expect("identity").expect("made").client_certificate
}

/// A clinic whose site identity was made 740 days ago: its client certificate expired ten days ago. Its next
/// sync renews it from the site CA, and the real partner (on the real clock) accepts the new one.
#[test]
fn an_expired_clinic_certificate_is_renewed_at_the_next_sync_and_the_partner_accepts_it() {
    let clock = FakeClock::new(OffsetDateTime::now_utc() - Duration::days(740));
    let mut mar = new_clinic_with_clock("Clínica Mar", Arc::new(clock.clone()));
    let partner = new_partner();
    partner.pair(&mar.clinic, &mar.admin);
    let serving = partner.serve(false);
    mar.pair_with(&partner, &format!("https://127.0.0.1:{}", serving.addr.port()));
    let old = client_certificate(&mar);

    clock.advance(Duration::days(740));
    let now = OffsetDateTime::now_utc();
    assert!(galen_proto::certs::expires_at(&old).expect("readable") < now, "the old certificate has expired");
    // Two years later the old sessions have long gone idle: the admin signs in again.
    mar.admin = mar.clinic.login("ana", PASSWORD).expect("admin");
    mar.doctor = mar.clinic.login("rui", PASSWORD).expect("doctor");
    mar.register("Hans", "Müller", true);
    let report = mar.sync();
    assert_eq!(report.pushed, 1, "{report:?}");

    let new = client_certificate(&mar);
    assert_ne!(new, old);
    let until = galen_proto::certs::expires_at(&new).expect("readable");
    assert!(until - now > Duration::days(700), "valid for two more years: {until}");
    let log = audit::list(&mar.clinic, &mar.admin, &audit::Query { limit: 20, ..Default::default() }).expect("log");
    assert!(log.iter().any(|e| e.action == "site.certificate_renewed"), "{log:?}");
    mar.sync();
    assert_eq!(client_certificate(&mar), new, "renewed once, not at every sync");
}

fn partner_binary(config: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_galen-partner"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .expect("galen-partner runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "galen-partner {args:?}: {text}");
    text
}

/// `galen-partner serve` in the background until dropped (its output kept open, so it never writes to a closed
/// pipe).
struct Server {
    child: Child,
    _output: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start(config: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_galen-partner"))
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("read");
        assert!(line.contains("listening on"), "{line}");
        Server { child, _output: out }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The operator renews the partner's server certificate with the binary; the clinic, paired before, syncs with
/// the server on the new certificate without pairing again.
#[test]
fn the_partner_renews_its_certificate_and_clinics_paired_before_keep_syncing() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let config = dir.path().join("partner.toml");
    let path = |name: &str| dir.path().join(name).display().to_string();
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ncertificate = \"{}\"\nprivate_key = \"{}\"\ndatabase = \"{}\"\n",
            path("server.pem"),
            path("server.key"),
            path("partner.db")
        ),
    )
    .expect("config");
    partner_binary(&config, &["init", "--name", "Hospital Central", "--host", "127.0.0.1"]);
    let clinic = new_clinic("Clínica Sol");
    let clinic_file = dir.path().join("sol.galen-pairing");
    let file = site::pairing_file(&clinic.clinic, &clinic.admin).expect("file");
    std::fs::write(&clinic_file, serde_json::to_string(&file).expect("json")).expect("write");
    partner_binary(&config, &["pair", &clinic_file.display().to_string(), "--safety-number", &file.safety_number]);
    let partner_file = partner_binary(&config, &["pairing-file"]);
    let number = galen_proto::pairing::PairingFile::read(&partner_file).expect("read").safety_number;
    let url = format!("https://127.0.0.1:{port}");
    sync::pair(&clinic.clinic, &clinic.admin, &partner_file, &url, &number).expect("pair");

    {
        let _server = Server::start(&config);
        clinic.register("Hans", "Müller", true);
        assert_eq!(clinic.sync().pushed, 1);
    }
    let old = std::fs::read_to_string(path("server.pem")).expect("cert");
    let said = partner_binary(&config, &["renew-certificate"]);
    assert!(said.contains("valid until") && said.contains("systemctl restart galen-partner"), "{said}");
    let new = std::fs::read_to_string(path("server.pem")).expect("cert");
    assert_ne!(new, old, "a new certificate");
    assert!(partner_binary(&config, &["--check"]).contains("ok:"), "the new key matches the new certificate");
    {
        let _server = Server::start(&config);
        clinic.register("Maria", "Silva", true);
        let report = clinic.sync();
        assert_eq!(report.pushed, 1, "the clinic trusts the renewed certificate through the CA it paired with");
    }
}
