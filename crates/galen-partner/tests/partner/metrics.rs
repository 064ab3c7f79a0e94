//! What an operator watches on the real server: metrics (requests by route and status, a refusal by its reason
//! and the records a clinic's sync stored, in Prometheus text on their own loopback port only), and the log as
//! JSON lines for a log shipper.

use crate::support::*;
use galen_proto::pairing::PairingFile;
use galen_proto::wire::{PushRequest, PushResponse, PushStatus};
use std::process::Command;

/// The metrics page, over plain HTTP on the loopback port.
fn metrics(port: u16) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "30", &format!("http://127.0.0.1:{port}/metrics")])
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of the sample named exactly `sample` (name and labels).
fn sample(text: &str, sample: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{sample} in:\n{text}"))
}

#[test]
fn metrics_count_requests_refusals_and_stored_records_on_a_loopback_port_only() {
    let partner = BinaryPartner::init("Hospital Central");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let config = std::fs::read_to_string(&partner.config).expect("config");
    std::fs::write(&partner.config, format!("{config}metrics_listen = \"0.0.0.0:{port}\"\n")).expect("config");
    let refused = partner.refuses(&["--check"]);
    assert!(refused.contains("metrics_listen") && refused.contains("loopback"), "{refused}");
    std::fs::write(&partner.config, format!("{config}metrics_listen = \"127.0.0.1:{port}\"\n")).expect("config");

    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    clinic.pair_with_binary(&partner);
    let site = HandMade::site("Clínica Hostil");
    partner.pair_file(&site.pairing);
    let partner_file = PairingFile::read(&partner.run(&["pairing-file"])).expect("the partner's pairing file");
    let _server = partner.serve();

    clinic.register("Hans", "Müller", true);
    clinic.register("Ana", "Lima", true);
    assert_eq!(clinic.sync().pushed, 2);
    let dir = tempfile::tempdir().expect("tmp");
    let body = serde_json::to_vec(&PushRequest { envelopes: vec!["not an envelope".into()] }).expect("json");
    let body = format!("@{}", write_file(dir.path(), "push.json", &body));
    let url = format!("{}/api/v1/envelopes", partner.url());
    let answer = curl(&site, &partner_file, &["-H", "content-type: application/json", "--data-binary", &body, &url]);
    let answer: PushResponse = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(answer.results[0].status, PushStatus::Rejected);
    curl(&site, &partner_file, &[&format!("{}/no/such/route", partner.url())]);

    let text = metrics(port);
    assert!(sample(&text, r#"galen_partner_requests_total{route="/api/v1/envelopes",status="200"}"#) >= 2, "{text}");
    assert_eq!(sample(&text, r#"galen_partner_requests_total{route="unmatched",status="404"}"#), 1, "{text}");
    assert_eq!(sample(&text, r#"galen_partner_rejections_total{reason="malformed"}"#), 1, "{text}");
    assert_eq!(sample(&text, "galen_partner_records_stored_total"), 2, "{text}");
    let answered = sample(&text, "galen_partner_request_seconds_count");
    assert_eq!(sample(&text, r#"galen_partner_request_seconds_bucket{le="+Inf"}"#), answered);
    assert!(answered >= 4, "every request is timed: {text}");
    assert!(!text.contains("Clínica") && !text.contains("Müller"), "the counts name no clinic and no patient");

    // The metrics port serves nothing else, and the clinics' port does not serve the metrics.
    let api = Command::new("curl")
        .args(["--silent", "--output", "/dev/null", "--write-out", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{port}/api/v1/health"))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&api.stdout), "404");
    let over_https = curl(&site, &partner_file, &[&format!("{}/metrics", partner.url())]);
    assert!(over_https.contains("not_found"), "{over_https}");
}

/// With `GALEN_LOG_FORMAT=json` each line the server logs is a JSON object (level, message and fields); without,
/// plain text as before.
#[test]
fn the_log_is_json_lines_when_asked() {
    use std::io::{BufRead, BufReader};
    let partner = BinaryPartner::init("Hospital Central");
    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    let mut child = partner
        .command()
        .env("GALEN_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let serving = lines
        .by_ref()
        .map(|l| l.expect("a line"))
        .find(|l| l.contains("serving"))
        .expect("the server logs that it serves");
    let _ = child.kill();
    let _ = child.wait();
    let line: serde_json::Value = serde_json::from_str(&serving).unwrap_or_else(|e| panic!("{e}: {serving}"));
    assert_eq!(line["level"], "INFO", "{line}");
    assert_eq!(line["fields"]["message"], "serving", "{line}");
    assert_eq!(line["fields"]["sites"], 1, "{line}");
    assert!(line["timestamp"].is_string(), "{line}");
}
