//! The partner keeps each site's audit anchor (security review, finding 8): the head of the clinic's audit chain,
//! signed by its site key. A clinic whose newest audit rows were cut, and whose anchor file went with them, learns
//! from the partner at its next sync that its log was cut.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use galen_core::audit;
use galen_partner::{store, tls};
use rustls::pki_types::pem::PemObject;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use tower::ServiceExt;

fn url(addr: std::net::SocketAddr) -> String {
    format!("https://127.0.0.1:{}", addr.port())
}

#[test]
fn a_clinic_whose_newest_audit_rows_and_anchor_file_were_deleted_learns_from_the_partner_that_its_log_was_cut() {
    let partner = new_partner();
    let sol = new_clinic("Clínica Sol");
    partner.pair(&sol.clinic, &sol.admin);
    let serving = partner.serve(false);
    sol.pair_with(&partner, &url(serving.addr));
    for (given, family) in [("Hans", "Müller"), ("Maria", "Silva"), ("Rosa", "Lima")] {
        sol.register(given, family, true);
    }
    sol.sync();
    let head: i64 =
        sol.raw_connection().query_row("SELECT max(id) FROM audit_log", [], |r| r.get(0)).expect("newest row");

    // Someone holding the database key cuts the newest rows and removes the anchor file that would tell.
    sol.raw_connection().execute("DELETE FROM audit_log WHERE id > ?1", [head - 4]).expect("cut");
    match std::fs::remove_file(sol.clinic.vault().dir().join("galen.audit-anchor")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("remove the anchor file: {e}"),
        _ => {}
    }
    assert!(audit::verify(&sol.clinic, &sol.admin).expect("verify runs").is_ok(), "alone, the cut log verifies");

    sol.sync();
    let brk = audit::verify(&sol.clinic, &sol.admin).expect("verify runs").expect_err("the partner's anchor tells");
    assert!(
        brk.to_string().starts_with(&format!("the log is shorter than its anchor: row {head} was anchored")),
        "{brk}"
    );
}

/// A site made by hand and paired at the partner, and what its connections present, as TLS hands it to the
/// routes.
fn paired_site(conn: &rusqlite::Connection, name: &str) -> (HandMade, tls::Peer) {
    let site = HandMade::site(name);
    store::pair(conn, &site.pairing, &site.pairing.safety_number).expect("pair");
    let der = rustls::pki_types::CertificateDer::from_pem_slice(site.issued.leaf_cert.as_bytes()).expect("der");
    let peer = tls::Peer { certificate_sha256: name.into(), certificate: Arc::from(der.as_ref()) };
    (site, peer)
}

/// A detached signature made by stock GnuPG with `secret_key`, armored.
fn gpg_sign(secret_key: &str, text: &str) -> String {
    let home = tempfile::tempdir().expect("tmp");
    let gpg = || {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", home.path()).args(["--batch", "--quiet", "--yes", "--no-permission-warning"]);
        command
    };
    let mut import = gpg().arg("--import").stdin(Stdio::piped()).stderr(Stdio::null()).spawn().expect("gpg runs");
    import.stdin.take().expect("stdin").write_all(secret_key.as_bytes()).expect("key to gpg");
    assert!(import.wait().expect("gpg").success(), "gpg imports the key");
    let fingerprint = galen_proto::pairing::fingerprint_of(secret_key).expect("fingerprint");
    let mut sign = gpg()
        .args(["--armor", "--detach-sign", "--local-user", &fingerprint, "--output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gpg runs");
    sign.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("text to gpg");
    let out = sign.wait_with_output().expect("gpg");
    assert!(out.status.success(), "gpg signs");
    String::from_utf8(out.stdout).expect("armored")
}

/// An anchor of row `row` (its hash made up), signed with `secret_key` by stock GnuPG, or unsigned.
fn anchor(row: i64, secret_key: Option<&str>) -> serde_json::Value {
    let (db_id, hash) = ("0190f0aa-0000-7000-8000-000000000001", format!("{row:064x}"));
    let at = galen_proto::rfc3339(time::OffsetDateTime::now_utc());
    let text = format!("galen-audit-anchor-v1\n{db_id}\n{row}\n{hash}\n{at}\n");
    serde_json::json!({
        "format": "galen-audit-anchor-v1",
        "db_id": db_id,
        "row": row,
        "hash": hash,
        "at": at,
        "signature": secret_key.map(|key| gpg_sign(key, &text)),
    })
}

/// `POST /api/v1/audit-anchor` from `peer`: the status and the JSON answer.
async fn send(app: &axum::Router, peer: &tls::Peer, body: &serde_json::Value) -> (StatusCode, serde_json::Value) {
    let mut request = Request::post("/api/v1/audit-anchor")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    request.extensions_mut().insert(peer.clone());
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn the_partner_keeps_each_site_s_newest_anchor_never_lowers_it_and_refuses_one_its_site_did_not_sign() {
    let dir = new_partner();
    let conn = dir.open();
    let (sol, sol_peer) = paired_site(&conn, "Clínica Sol");
    let (mar, mar_peer) = paired_site(&conn, "Clínica Mar");
    let app = galen_partner::app(Arc::new(store::Partner::load(conn, false).expect("load")));
    let kept_row = |answer: &serde_json::Value| answer["kept"]["row"].as_i64();

    let (status, answer) = send(&app, &sol_peer, &anchor(10, Some(&sol.secret_key))).await;
    assert_eq!((status, answer["stored"].as_bool(), kept_row(&answer)), (StatusCode::OK, Some(true), Some(10)));
    let (status, answer) = send(&app, &sol_peer, &anchor(12, Some(&sol.secret_key))).await;
    assert_eq!((status, answer["stored"].as_bool(), kept_row(&answer)), (StatusCode::OK, Some(true), Some(12)));
    let (status, answer) = send(&app, &sol_peer, &anchor(7, Some(&sol.secret_key))).await;
    assert_eq!(
        (status, answer["stored"].as_bool(), kept_row(&answer)),
        (StatusCode::OK, Some(false), Some(12)),
        "a lower anchor never replaces the kept one: the answer is the kept one, for the clinic to check"
    );
    let (status, answer) = send(&app, &sol_peer, &anchor(20, Some(&mar.secret_key))).await;
    assert_eq!((status, answer["error"].as_str()), (StatusCode::FORBIDDEN, Some("wrong_signer")), "{answer}");
    let (status, answer) = send(&app, &sol_peer, &anchor(20, None)).await;
    assert_eq!((status, answer["error"].as_str()), (StatusCode::FORBIDDEN, Some("wrong_signer")), "{answer}");
    let (status, answer) = send(&app, &sol_peer, &serde_json::json!({"row": 30})).await;
    assert_eq!((status, answer["error"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed")), "{answer}");
    let (status, answer) = send(&app, &mar_peer, &anchor(3, Some(&mar.secret_key))).await;
    assert_eq!((status, kept_row(&answer)), (StatusCode::OK, Some(3)), "each site has its own anchor");

    let db = dir.open();
    let kept: Vec<(String, i64)> = db
        .prepare("SELECT s.name, a.row FROM anchors a JOIN sites s ON s.id = a.site_id ORDER BY s.name")
        .and_then(|mut stmt| stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("the partner's anchors");
    assert_eq!(
        kept,
        [("Clínica Mar".to_owned(), 3), ("Clínica Sol".to_owned(), 12)],
        "one anchor per site, the newest"
    );
    let listed: Vec<(String, Option<i64>)> =
        store::list_sites(&db).expect("sites").into_iter().map(|s| (s.name, s.anchored.map(|(row, _)| row))).collect();
    assert_eq!(
        listed,
        [("Clínica Sol".to_owned(), Some(12)), ("Clínica Mar".to_owned(), Some(3))],
        "`galen-partner sites` shows each site's anchored row"
    );
}

/// A hostile partner answers each anchor the clinic sends with one it made up: a far later row of this clinic's
/// database, signed by the partner's own key, then unsigned, then as large as an answer may be. The clinic
/// believes none of them: the run fails saying why, and its log still verifies against its own anchor.
#[test]
fn a_partner_s_forged_anchor_is_refused_and_the_clinic_s_log_still_verifies() {
    use galen_proto::anchor::Anchor;
    use galen_proto::envelope::OwnKey;
    use galen_proto::wire::{AnchorResponse, PullResponse};
    use std::sync::atomic::{AtomicUsize, Ordering};

    let clinic = new_clinic("Clínica Sol");
    let partner = HandMade::partner("Hospital Hostil");
    audit::verify(&clinic.clinic, &clinic.admin).expect("verify runs").expect("intact");
    let file = clinic.clinic.vault().dir().join("galen.audit-anchor");
    let own: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("anchor")).expect("json");
    let db_id = own["db_id"].as_str().expect("db id").to_owned();

    let partner_key = OwnKey::from_armored(&partner.secret_key).expect("the partner's key");
    let forged = Anchor::new(&db_id, 10_000, &"ab".repeat(32), time::OffsetDateTime::now_utc());
    let answers = [
        forged.clone().signed_by(&partner_key).expect("signed by the partner"),
        forged.clone(),
        Anchor { signature: Some("x".repeat(64 * 1024)), ..forged.clone() },
    ];
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let app = axum::Router::new()
        .route(
            "/api/v1/envelopes",
            axum::routing::get(|| async { axum::Json(PullResponse { envelopes: Vec::new(), more: false }) }),
        )
        .route(
            "/api/v1/audit-anchor",
            axum::routing::post(move || {
                let kept = answers[count.fetch_add(1, Ordering::SeqCst).min(2)].clone();
                async move { axum::Json(AnchorResponse { stored: true, kept }) }
            }),
        );
    let _serving = crate::hostile::serve_hostile(&partner, &clinic, app);

    for expected in ["is refused", "is refused", "larger than any anchor"] {
        let error = galen_core::sync::run(&clinic.clinic, galen_core::sync::Trigger::Background)
            .expect_err("a forged anchor fails the run")
            .to_string();
        assert!(error.contains("audit anchor") && error.contains(expected), "{error}");
        let verified = audit::verify(&clinic.clinic, &clinic.admin).expect("verify runs");
        assert!(verified.is_ok(), "the forged anchor is not believed: {verified:?}");
        let kept: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("anchor")).expect("json");
        assert!(kept["row"].as_i64().expect("row") < 10_000, "nor kept: {kept}");
    }
    assert_eq!(served.load(Ordering::SeqCst), 3);
}

/// A laptop is lost; on a new computer (no anchor file), the clinic is restored from a backup older than what it
/// last synced. The partner still keeps an anchor of the lost log, further on than the restored one: the restore
/// explains it, so the clinic is not told at its next syncs that its log was cut.
#[test]
fn a_clinic_restored_on_a_new_computer_from_an_older_backup_is_not_told_its_log_was_cut() {
    use galen_core::backup::{self, RestoreBy};
    let partner = new_partner();
    let sol = new_clinic("Clínica Sol");
    partner.pair(&sol.clinic, &sol.admin);
    let serving = partner.serve(false);
    sol.pair_with(&partner, &url(serving.addr));
    sol.sync();
    let file = sol._dir.path().join("sol.galenbak");
    backup::backup(&sol.clinic, &sol.admin, &file).expect("backup");
    for (given, family) in [("Hans", "Müller"), ("Maria", "Silva"), ("Rosa", "Lima")] {
        sol.register(given, family, true);
    }
    sol.sync();
    let lost_head: i64 =
        sol.raw_connection().query_row("SELECT max(id) FROM audit_log", [], |r| r.get(0)).expect("head");

    let ClinicDir { _dir: dir, clinic, recovery, admin, doctor } = sol;
    let vault = clinic.vault().clone();
    drop((admin, doctor, clinic));
    for name in ["galen.db", "galen.db-wal", "galen.db-shm", "galen.audit-anchor"] {
        match std::fs::remove_file(vault.dir().join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("remove {name}: {e}"),
            _ => {}
        }
    }
    backup::restore(&vault, &file, RestoreBy::RecoveryKeyOnly, Some(&recovery)).expect("restore");
    let clinic = galen_core::Clinic::open(vault.clone()).expect("open the restored clinic");
    let admin = clinic.login("ana", PASSWORD).expect("admin");
    let restored_head = audit::list(&clinic, &admin, &audit::Query { limit: 1, ..Default::default() })
        .expect("list")
        .first()
        .map(|e| e.id)
        .expect("rows");
    assert!(restored_head < lost_head, "the restored log is shorter than the lost one");

    for _ in 0..2 {
        let permit = galen_core::sync::permit(&clinic, &admin).expect("admin");
        galen_core::sync::run(&clinic, galen_core::sync::Trigger::Person(permit)).expect("sync runs");
        let verified = audit::verify(&clinic, &admin).expect("verify runs").expect("the restore explains the lost log");
        assert_eq!(verified.restores.len(), 1, "{verified:?}");
        assert_eq!(verified.restores[0].replaced, None, "what it replaced was not known here");
    }
    drop(dir);
}
