//! Hostile peers (security review, issue 16): a paired clinic or a partner that turned hostile. Decompression
//! bombs, made by stock GnuPG, are refused unopened on both sides, with each side's memory measured in a process
//! of its own.

use crate::support::*;
use galen_core::{audit, site};
use galen_partner::tls;
use galen_proto::envelope::{self, Kind, Meta, OwnKey, Plaintext, MAX_ENVELOPE_BYTES};
use galen_proto::pairing::{fingerprint_of, PairingFile};
use galen_proto::wire::{encode_envelope, PullResponse, Pulled, PushRequest, PushResponse, PushStatus};
use std::path::Path;
use std::process::Command;

const GIB: u64 = 1024 * MIB;

/// The most a bomb may add to a process's peak resident memory: a sync run or a push batch needs a few MiB; an
/// expanded bomb needs at least the gigabyte it expands to.
const PEAK_GROWTH_LIMIT: u64 = 64 * MIB;

/// Set when a test runs alone in its own process (see [`alone`]).
const ALONE: &str = "GALEN_TEST_ALONE";

/// Runs the test `name` alone, in a process of its own (this test binary again), and returns what it printed:
/// its peak resident memory is then its own, not that of the tests running beside it.
fn alone(name: &str) -> String {
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .args([name, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(ALONE, "1")
        .output()
        .expect("the test binary runs");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("1 passed"), "{name}, alone, must pass: {said}");
    said
}

/// Forgets this process's peak resident memory so far: from now on VmHWM measures only what follows.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak (Linux 4.0 or later)");
}

/// The plaintext of an envelope from `sender` to the holder of `recipient_public_key`, sealed now.
fn plaintext(sender: &OwnKey, recipient_public_key: &str) -> Plaintext {
    Plaintext {
        meta: Meta {
            format: envelope::FORMAT.into(),
            id: uuid::Uuid::now_v7().to_string(),
            version: 1,
            created_at: galen_proto::rfc3339(time::OffsetDateTime::now_utc()),
            nonce: envelope::new_nonce(),
            sender: sender.fingerprint(),
            recipient: fingerprint_of(recipient_public_key).expect("fingerprint"),
            origin: sender.fingerprint(),
            kind: Kind::Patient,
        },
        payload: serde_json::json!({ "given_names": "Bomb" }),
    }
}

/// A bomb: a genuine OpenPGP message from `sender`, compressed by gpg with `algorithm`, that expands to `size`.
fn bomb(sender: &HandMade, recipient_public_key: &str, algorithm: &str, size: u64) -> Vec<u8> {
    let sealed = gpg_seal(
        &sender.secret_key,
        recipient_public_key,
        algorithm,
        size,
        &plaintext(&sender.key, recipient_public_key),
    );
    assert!(sealed.len() < MAX_ENVELOPE_BYTES, "{algorithm}: {} bytes is within the envelope limit", sealed.len());
    sealed
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

/// `curl` with `site`'s client certificate, trusting `partner`'s CA: what it received.
fn curl(site: &HandMade, partner: &PairingFile, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "900"])
        .args(["--cacert", &write(dir.path(), "ca.pem", partner.ca_certificate.as_bytes())])
        .args(["--cert", &write(dir.path(), "site.pem", site.issued.leaf_cert.as_bytes())])
        .args(["--key", &write(dir.path(), "site.key", site.issued.leaf_key.as_bytes())])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A paired clinic turned hostile pushes envelopes that are small on the wire and expand, compressed by stock
/// GnuPG, to 1 GiB (bzip2) and 128 MiB (zlib, zip). The real partner refuses each as `compressed` without
/// expanding it: its peak memory barely moves, and it serves on.
#[test]
fn a_paired_site_s_compression_bombs_are_refused_unopened_and_the_partner_s_memory_stays_put() {
    let partner = BinaryPartner::init("Hospital Central");
    let site = HandMade::site("Clínica Hostil");
    partner.pair_file(&site.pairing);
    let partner_file = PairingFile::read(&partner.run(&["pairing-file"])).expect("the partner's pairing file");
    let server = partner.serve();
    let bombs: Vec<String> = [("bzip2", GIB), ("zlib", 128 * MIB), ("zip", 128 * MIB)]
        .into_iter()
        .map(|(algorithm, size)| encode_envelope(&bomb(&site, &partner_file.openpgp_public_key, algorithm, size)))
        .collect();
    let body = serde_json::to_vec(&PushRequest { envelopes: bombs }).expect("json");
    let dir = tempfile::tempdir().expect("tmp");
    let body = format!("@{}", write(dir.path(), "push.json", &body));

    let pid = server.pid().to_string();
    let peak_before = memory(&pid, "VmHWM");
    let url = format!("{}/api/v1/envelopes", partner.url());
    let answer = curl(&site, &partner_file, &["-H", "content-type: application/json", "--data-binary", &body, &url]);
    let growth = memory(&pid, "VmHWM").saturating_sub(peak_before);
    assert!(
        growth < PEAK_GROWTH_LIMIT,
        "the partner's peak memory grew by {} MiB opening three bombs (answer: {answer})",
        growth / MIB
    );
    let answer: PushResponse = serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"));
    for result in &answer.results {
        assert_eq!(result.status, PushStatus::Rejected, "{answer:?}");
        assert_eq!(result.reason.as_deref(), Some("compressed"), "refused for what it is: {answer:?}");
    }
    assert_eq!(answer.results.len(), 3);
    let health = curl(&site, &partner_file, &[&format!("{}/api/v1/health", partner.url())]);
    assert!(health.contains("\"status\":\"ok\""), "the partner serves on: {health}");
}

/// A partner turned hostile relays a bomb to a clinic: 1 GiB of bzip2 in under a kilobyte, signed with the
/// partner's own key. The clinic refuses it as `compressed` without expanding it, logs the refusal, and its peak
/// memory barely moves (measured alone, in a process of its own).
#[test]
fn a_hostile_partner_s_compression_bomb_is_refused_unopened_and_the_clinic_s_memory_stays_put() {
    let said = alone("hostile::a_clinic_pulls_a_compression_bomb");
    assert!(said.contains("peak growth"), "{said}");
}

#[test]
#[ignore = "run alone, in a process of its own, by the test above"]
fn a_clinic_pulls_a_compression_bomb() {
    if std::env::var_os(ALONE).is_none() {
        return; // Beside other tests, its peak memory would measure them too.
    }
    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    let clinic_file = site::pairing_file(&clinic.clinic, &clinic.admin).expect("the clinic's pairing file");
    let sealed = bomb(&partner, &clinic_file.openpgp_public_key, "bzip2", GIB);
    let page = PullResponse { envelopes: vec![Pulled { seq: 1, envelope: encode_envelope(&sealed) }], more: false };
    let app = axum::Router::new().route(
        "/api/v1/envelopes",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::Json(page) }
        }),
    );
    let _serving = serve_hostile(&partner, &clinic, app);

    reset_peak();
    let peak_before = memory("self", "VmHWM");
    let report = clinic.sync();
    let growth = memory("self", "VmHWM").saturating_sub(peak_before);
    println!("peak growth {} MiB", growth / MIB);
    assert!(growth < PEAK_GROWTH_LIMIT, "the clinic's peak memory grew by {} MiB opening a bomb", growth / MIB);
    assert_eq!((report.pulled, report.rejected_here), (0, 1), "{report:?}");
    let log = audit::list(&clinic.clinic, &clinic.admin, &audit::Query { limit: 5, ..Default::default() });
    let log = log.expect("log");
    assert!(
        log.iter().any(|e| e.action == "sync.rejected" && e.entity_id.contains("compressed")),
        "logged as compressed: {log:?}"
    );
}

/// Serves `app` as `partner` over mTLS on 127.0.0.1 (its server certificate, the clinic's CA trusted, as the real
/// partner does) and pairs `clinic` with it; serving until the returned runtime drops.
fn serve_hostile(partner: &HandMade, clinic: &ClinicDir, app: axum::Router) -> tokio::runtime::Runtime {
    let clinic_file = site::pairing_file(&clinic.clinic, &clinic.admin).expect("the clinic's pairing file");
    let config = tls::server_config(
        partner.issued.leaf_cert.as_bytes(),
        partner.issued.leaf_key.as_bytes(),
        clinic_file.ca_certificate.as_bytes(),
    )
    .expect("tls");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.spawn(tls::serve(listener, config, app));
    clinic.pair_with_file(&serde_json::to_string(&partner.pairing).expect("json"), &url);
    runtime
}
