//! The partner's HTTP API as a black box (issue 17): schemathesis generates requests from the published OpenAPI
//! description (`openapi.json`, served at `/api/v1/openapi.json`) and sends them to the real `galen-partner` binary
//! over mutual TLS, with a paired clinic's client certificate. No answer may be a server error, and every answer,
//! errors included, must match the description: JSON with a stable code and a message.

use crate::support::*;
use std::path::PathBuf;
use std::process::Command;

/// schemathesis, installed by scripts/setup-deps in its own environment (or where `GALEN_SCHEMATHESIS` says).
fn schemathesis() -> PathBuf {
    let path = std::env::var_os("GALEN_SCHEMATHESIS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/schemathesis/bin/schemathesis")
    });
    assert!(path.exists(), "{} is missing: scripts/setup-deps installs schemathesis", path.display());
    path
}

#[test]
fn whatever_schemathesis_sends_gets_no_server_error_and_an_answer_the_description_allows() {
    let partner = BinaryPartner::configured();
    // The generated requests come fast; this test is not about the request budget (routes.rs tests it).
    let mut config = std::fs::read_to_string(&partner.config).expect("config");
    config.push_str("rate_limit_burst = 1000000\nrate_limit_per_second = 1000000.0\n");
    std::fs::write(&partner.config, config).expect("config");
    partner.run(&["init", "--name", "Hospital Central", "--host", "127.0.0.1"]);
    let clinic = HandMade::site("Clínica Esquema");
    partner.pair_file(&clinic.pairing);
    let _server = partner.serve();

    let files = tempfile::tempdir().expect("tmp");
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let cert = write("client.pem", &clinic.issued.leaf_cert);
    let key = write("client.key", &clinic.issued.leaf_key);
    let partner_file = galen_proto::pairing::PairingFile::read(&partner.run(&["pairing-file"])).expect("pairing");
    let ca = write("partner-ca.pem", &partner_file.ca_certificate);
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let examples = long_or(40, 1000).to_string();
    let out = Command::new(schemathesis())
        .arg("run")
        .arg(&spec)
        .args(["--url", &partner.url(), "--checks", "all", "--max-examples", &examples, "--workers", "1"])
        // Valid-looking bodies are still refused: a schema cannot say what makes an envelope's or an anchor's
        // signature good, so "schema-valid data is accepted" does not hold for these routes, by design.
        .args(["--exclude-checks", "positive_data_acceptance"])
        .arg("--request-cert")
        .arg(&cert)
        .arg("--request-cert-key")
        .arg(&key)
        .arg("--tls-verify")
        .arg(&ca)
        .args(["--no-color", "--seed", "20261201"])
        .env("SCHEMATHESIS_HOOKS", "")
        .current_dir(files.path())
        .output()
        .expect("schemathesis runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found failures:\n{said}");
    // "264 generated, 264 passed": every generated case passed, and there were some.
    let counts: Vec<usize> = said
        .lines()
        .find(|l| l.contains(" generated, "))
        .unwrap_or_else(|| panic!("schemathesis reports its cases:\n{said}"))
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(counts.len() == 2 && counts[0] > 100 && counts[0] == counts[1], "every case passed: {counts:?}\n{said}");
}
