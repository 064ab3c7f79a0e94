//! Hostile peers (security review, issue 16): a paired clinic or a partner that turned hostile. Decompression
//! bombs, made by stock GnuPG, are refused unopened on both sides, with each side's memory measured in a process
//! of its own. A partner that repeats a page, always has more, or streams an endless body stops the clinic's run
//! with a clear error; a busy partner (HTTP 429) makes it wait as long as asked.

use crate::support::*;
use galen_core::{audit, site, sync};
use galen_partner::tls;
use galen_proto::envelope::{self, Kind, Meta, OwnKey, Plaintext, MAX_ENVELOPE_BYTES};
use galen_proto::pairing::{fingerprint_of, PairingFile};
use galen_proto::wire::{encode_envelope, PullResponse, Pulled, PushRequest, PushResponse, PushStatus};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    let body = format!("@{}", write_file(dir.path(), "push.json", &body));

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
pub(crate) fn serve_hostile(partner: &HandMade, clinic: &ClinicDir, app: axum::Router) -> tokio::runtime::Runtime {
    serve_presenting(partner, partner, clinic, app)
}

/// The same, presenting `server`'s certificate while the clinic pairs with `partner`'s pairing file.
fn serve_presenting(
    server: &HandMade,
    partner: &HandMade,
    clinic: &ClinicDir,
    app: axum::Router,
) -> tokio::runtime::Runtime {
    let clinic_file = site::pairing_file(&clinic.clinic, &clinic.admin).expect("the clinic's pairing file");
    let clients = tls::ClientCas::new(clinic_file.ca_certificate.as_bytes()).expect("the clinic's CA");
    let config = tls::server_config(server.issued.leaf_cert.as_bytes(), server.issued.leaf_key.as_bytes(), &clients)
        .expect("tls");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.spawn(tls::serve(listener, config, app));
    clinic.pair_with_file(&serde_json::to_string(&partner.pairing).expect("json"), &url);
    runtime
}

/// A hostile partner's pull route: `page(n)` answers the n-th pull (from 1).
fn pulls(page: impl Fn(usize) -> PullResponse + Clone + Send + Sync + 'static) -> (axum::Router, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let route = axum::routing::get(move || {
        let n = count.fetch_add(1, Ordering::SeqCst) + 1;
        let page = page(n);
        async move { axum::Json(page) }
    });
    (axum::Router::new().route("/api/v1/envelopes", route), served)
}

/// A page of one envelope at `seq` that no clinic could open (each is refused, and the refusal audited).
fn junk_page(seq: i64) -> PullResponse {
    PullResponse { envelopes: vec![Pulled { seq, envelope: "AAAA".into() }], more: true }
}

/// Runs a background sync of `clinic` on a thread of its own: its result and the clinic, or None if the run has
/// not ended within `limit` (the thread is then left to it).
fn sync_within(clinic: ClinicDir, limit: Duration) -> Option<(Result<sync::Report, galen_core::Error>, ClinicDir)> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = sync::run(&clinic.clinic, sync::Trigger::Background);
        let _ = tx.send((result, clinic));
    });
    rx.recv_timeout(limit).ok()
}

/// How many envelopes the clinic refused and audited (`sync.rejected`).
fn refusals(clinic: &ClinicDir) -> usize {
    rejected(clinic).len()
}

/// A partner that answers every pull with the same page and `more: true` would keep a run going for ever, writing
/// an audit row each time. The clinic requires each page to move past its cursor: the repeat stops the run with
/// an error that says so, in the sync status, after one page's refusal is audited.
#[test]
fn a_partner_that_repeats_a_page_stops_the_run_with_a_clear_error() {
    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    let (app, served) = pulls(|_| junk_page(1));
    let _serving = serve_hostile(&partner, &clinic, app);

    let Some((result, clinic)) = sync_within(clinic, Duration::from_secs(60)) else {
        panic!("the run never stopped: {} pulls of the same page served", served.load(Ordering::SeqCst));
    };
    let error = result.expect_err("the run fails");
    assert_eq!(error.code(), "partner_repeated_page", "its own code, for the screens to word: {error}");
    let error = error.to_string();
    assert!(error.contains("repeated a page"), "says what the partner did: {error}");
    assert_eq!(served.load(Ordering::SeqCst), 2, "the first page, then its repeat");
    assert_eq!(refusals(&clinic), 1, "one refusal audited, not one per repeat");
    let status = clinic.status();
    assert_eq!(status.last_error_code.as_deref(), Some("partner_repeated_page"), "{status:?}");
    let status = status.last_error.expect("the status shows the error");
    assert!(status.contains("repeated a page"), "{status}");
}

/// A patient record (Inês Duarte) sealed by `partner` for `clinic`, its envelope's meta changed by `edit` first.
fn sealed_patient(partner: &HandMade, clinic: &ClinicDir, edit: impl FnOnce(&mut Meta)) -> String {
    let clinic_file = site::pairing_file(&clinic.clinic, &clinic.admin).expect("the clinic's pairing file");
    let to = envelope::PeerKey::from_armored(&clinic_file.openpgp_public_key).expect("the clinic's key");
    let mut plain = plaintext(&partner.key, &clinic_file.openpgp_public_key);
    let record = crate::received::record("Inês", "Duarte");
    plain.meta.id = record.uuid.clone();
    plain.payload = serde_json::to_value(record).expect("json");
    edit(&mut plain.meta);
    encode_envelope(&envelope::seal(&partner.key, &to, &plain).expect("seal"))
}

/// The clinic's `sync.rejected` audit rows, newest first.
fn rejected(clinic: &ClinicDir) -> Vec<String> {
    let log = audit::list(&clinic.clinic, &clinic.admin, &audit::Query { limit: 100, ..Default::default() });
    log.expect("log").into_iter().filter(|e| e.action == "sync.rejected").map(|e| e.entity_id).collect()
}

/// A partner (or someone who took its place) that serves an envelope it served before, under a new sequence
/// number: the clinic applies the first, refuses the second as `replayed_nonce` in its audit trail, and holds the
/// patient once.
#[test]
fn a_partner_replaying_an_envelope_to_a_clinic_is_refused_as_a_replay() {
    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    let sealed = sealed_patient(&partner, &clinic, |_| {});
    let (app, served) = pulls(move |n| PullResponse {
        envelopes: vec![Pulled { seq: n as i64, envelope: sealed.clone() }],
        more: n < 2,
    });
    let _serving = serve_hostile(&partner, &clinic, app);

    let report = clinic.sync();
    let refused = rejected(&clinic);
    assert_eq!(served.load(Ordering::SeqCst), 2, "the envelope, then its replay");
    assert_eq!((report.pulled, report.rejected_here), (1, 1), "{report:?}: {refused:?}");
    assert_eq!(refused, ["envelope 2 from the partner: replayed_nonce"]);
    assert_eq!(galen_core::patients::count(clinic.clinic.store()).expect("count"), 1, "the patient is there once");
}

/// An envelope sealed long ago (held back and served late, or a partner whose clock is far off) is refused as
/// `stale`, whatever it carries: past the window, its nonce may have been forgotten, so a replay could not be told.
#[test]
fn a_stale_envelope_from_the_partner_is_refused_as_stale() {
    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    let sealed = sealed_patient(&partner, &clinic, |meta| {
        meta.created_at = galen_proto::rfc3339(time::OffsetDateTime::now_utc() - time::Duration::days(2));
    });
    let (app, _) = pulls(move |n| PullResponse {
        envelopes: vec![Pulled { seq: n as i64, envelope: sealed.clone() }],
        more: false,
    });
    let _serving = serve_hostile(&partner, &clinic, app);

    let report = clinic.sync();
    let refused = rejected(&clinic);
    assert_eq!((report.pulled, report.rejected_here), (0, 1), "{report:?}: {refused:?}");
    assert_eq!(refused, ["envelope 1 from the partner: stale"]);
    assert_eq!(galen_core::patients::count(clinic.clinic.store()).expect("count"), 0, "nothing applied");
}

/// A server at the partner's address presenting a certificate the paired partner's CA did not issue (someone who
/// took the address), or the partner's own certificate once expired: the clinic refuses at the handshake, so no
/// request reaches the server, and the error (`partner_certificate`) says the server did not prove it is the paired
/// partner, and what to do.
#[test]
fn a_partner_certificate_from_a_foreign_ca_or_expired_is_refused_at_the_handshake() {
    let partner = HandMade::partner("Hospital Parceiro");
    let impostor = HandMade::partner("Hospital Impostor");
    let expired =
        HandMade::partner_issued_at("Hospital Antigo", time::OffsetDateTime::now_utc() - time::Duration::days(3 * 365));
    for (case, why, server, paired_with) in
        [("foreign CA", "UnknownIssuer", &impostor, &partner), ("expired", "Expired", &expired, &expired)]
    {
        let clinic = new_clinic("Clínica Sol");
        clinic.register("Inês", "Duarte", true);
        let reached = Arc::new(AtomicUsize::new(0));
        let count = reached.clone();
        let app = axum::Router::new().fallback(move || {
            count.fetch_add(1, Ordering::SeqCst);
            async { axum::http::StatusCode::NOT_FOUND }
        });
        let _serving = serve_presenting(server, paired_with, &clinic, app);
        let error = sync::run(&clinic.clinic, sync::Trigger::Background).expect_err(case);
        assert_eq!(reached.load(Ordering::SeqCst), 0, "{case}: no request got past the handshake");
        assert_eq!(error.code(), "partner_certificate", "{case}: {error}");
        let error = error.to_string();
        assert!(error.contains("did not prove it is the paired partner") && error.contains(why), "{case}: {error}");
        let status = clinic.status();
        assert_eq!(status.last_error.as_deref(), Some(error.as_str()), "{case}: the status shows it");
        assert_eq!(status.pending, 1, "{case}: the patient stays queued");
    }
}

/// A partner that always has more (a new sequence number each time) is pulled for a bounded number of pages per
/// run; the rest waits for the next run.
#[test]
fn a_partner_that_always_has_more_is_pulled_for_a_bounded_number_of_pages_per_run() {
    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    let (app, served) = pulls(|n| junk_page(n as i64));
    let _serving = serve_hostile(&partner, &clinic, app);

    let Some((result, clinic)) = sync_within(clinic, Duration::from_secs(120)) else {
        panic!("the run never stopped: {} pulls served", served.load(Ordering::SeqCst));
    };
    let report = result.expect("a run that reaches the page limit ends well");
    assert_eq!(served.load(Ordering::SeqCst), sync::PULL_PAGES_PER_RUN, "{report:?}");
    assert_eq!(refusals(&clinic), sync::PULL_PAGES_PER_RUN, "one audit row per envelope pulled, and no more");
}

/// A partner that streams 100 MiB of JSON whitespace in answer to a pull is cut off after the largest body a
/// partner may send (`MAX_BODY_BYTES`): the run stops with an error the status shows, and the clinic's peak
/// memory barely moves (measured alone, in a process of its own).
#[test]
fn a_partner_that_streams_a_huge_body_is_cut_off_without_the_clinic_s_memory_growing() {
    let said = alone("hostile::a_clinic_pulls_a_huge_body");
    assert!(said.contains("peak growth"), "{said}");
}

#[test]
#[ignore = "run alone, in a process of its own, by the test above"]
fn a_clinic_pulls_a_huge_body() {
    if std::env::var_os(ALONE).is_none() {
        return; // Beside other tests, its peak memory would measure them too.
    }
    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    let route = axum::routing::get(|| async {
        let spaces = (0..100).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b' '; MIB as usize])));
        let end = std::iter::once(Ok(axum::body::Bytes::from_static(br#"{"envelopes": [], "more": false}"#)));
        axum::body::Body::from_stream(futures_util::stream::iter(spaces.chain(end)))
    });
    let _serving = serve_hostile(&partner, &clinic, axum::Router::new().route("/api/v1/envelopes", route));

    reset_peak();
    let peak_before = memory("self", "VmHWM");
    let result = sync::run(&clinic.clinic, sync::Trigger::Background);
    let growth = memory("self", "VmHWM").saturating_sub(peak_before);
    println!("peak growth {} MiB", growth / MIB);
    assert!(growth < PEAK_GROWTH_LIMIT, "the clinic's peak memory grew by {} MiB reading one answer", growth / MIB);
    let error = result.expect_err("the run fails").to_string();
    assert!(error.contains("larger than"), "says why: {error}");
    let status = clinic.status().last_error.expect("the status shows the error");
    assert!(status.contains("larger than"), "{status}");
}

/// The real partner, with a budget of one request per 1000 s, answers the clinic's second request 429 with
/// Retry-After. The run stops there with "the partner is busy" and how long to wait, not a generic failure; what
/// was sent stays sent, and the background sync waits at least that long before its next try.
#[test]
fn a_busy_partner_stops_the_run_and_the_background_sync_waits_as_long_as_it_asked() {
    let partner = BinaryPartner::configured();
    let config = std::fs::read_to_string(&partner.config).expect("config");
    let budget = "rate_limit_burst = 1\nrate_limit_per_second = 0.001\n";
    std::fs::write(&partner.config, config + budget).expect("config");
    partner.run(&["init", "--name", "Hospital Central", "--host", "127.0.0.1"]);
    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    clinic.pair_with_binary(&partner);
    let _server = partner.serve();
    clinic.register("Hans", "Müller", true);

    let busy = sync::run(&clinic.clinic, sync::Trigger::Background).expect_err("the pull is refused");
    assert_eq!(busy.code(), "partner_busy", "a busy partner is not a generic failure: {busy}");
    let said = busy.to_string();
    assert!(said.contains("busy") && said.contains("1000 s"), "says when sync tries again: {said}");
    let status = clinic.status();
    assert!(status.last_error.as_deref().is_some_and(|e| e.contains("1000 s")), "{status:?}");
    assert_eq!(status.pending, 0, "the push went through before the partner said it was busy");
    let wait = sync::background_wait(&clinic.clinic).expect("wait");
    assert!(wait >= Duration::from_secs(990), "the background sync waits as long as the partner asked: {wait:?}");
}
