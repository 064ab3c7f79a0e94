//! Real clinics syncing through the real partner over mTLS on 127.0.0.1: what is shared, conflicts, refusals,
//! and a proxy that cuts connections mid-request.

use crate::support::*;
use galen_core::documents::{self, Body};
use galen_core::patients;
use galen_core::site::PairingFile;
use galen_core::sync::{self, Resolution};
use galen_core::{audit, Action, Error};
use galen_partner::store;
use galen_proto::envelope::{self, Kind, Meta, OwnKey, PeerKey, Plaintext};
use galen_proto::wire::PushStatus;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::Ordering;

fn url(addr: SocketAddr) -> String {
    format!("https://127.0.0.1:{}", addr.port())
}

fn signed_prescription(c: &ClinicDir, patient_id: i64) -> documents::Document {
    let body =
        galen_core::dev::bench::prescription(&c.clinic.now().date().to_string(), &["Amoxicillin 500 mg capsule"]);
    let draft = documents::create_draft(&c.clinic, &c.doctor, patient_id, body).expect("draft");
    documents::sign(&c.clinic, &c.doctor, draft.id, PASSWORD, true).expect("sign")
}

/// Clínica Sol and Clínica Mar, both paired at `partner` (before it serves, which loads its sites).
fn sol_and_mar(partner: &PartnerDir) -> (ClinicDir, ClinicDir) {
    let (sol, mar) = (new_clinic("Clínica Sol"), new_clinic("Clínica Mar"));
    partner.pair(&sol.clinic, &sol.admin);
    partner.pair(&mar.clinic, &mar.admin);
    (sol, mar)
}

fn find(c: &ClinicDir, uuid: &str) -> Option<patients::Patient> {
    let count = patients::count(c.clinic.store()).ok()?;
    (1..=count + 5).filter_map(|id| patients::get(&c.clinic, &c.doctor, id).ok()).find(|p| p.uuid == uuid)
}

#[test]
fn two_clinics_share_consented_patients_and_signed_documents_and_keep_both_sides_of_a_conflict() {
    let partner = new_partner();
    let (sol, mar) = sol_and_mar(&partner);
    let serving = partner.serve(true);
    sol.pair_with(&partner, &url(serving.addr));
    mar.pair_with(&partner, &url(serving.addr));

    let muller = sol.register("Hans", "Müller", true);
    let silva = sol.register("Maria", "Silva", false);
    let rx = signed_prescription(&sol, muller.id);

    let report = sol.sync();
    assert_eq!(
        (report.queued, report.pushed),
        (3, 3),
        "Müller, his prescription and the clinic's trust list; Silva did not consent"
    );
    assert_eq!(sol.status().pending, 0);
    assert!(sol.status().last_success.is_some() && sol.status().last_error.is_none());
    assert_eq!(sol.sync().queued, 0, "nothing changed, nothing is sent again");

    let report = mar.sync();
    assert_eq!(report.pulled, 3, "{report:?}");
    let copy = find(&mar, &muller.uuid).expect("Müller arrived at Clínica Mar");
    assert_eq!(copy.demographics.family_name, "Müller");
    assert!(find(&mar, &silva.uuid).is_none(), "a patient who did not consent never leaves the clinic");

    // The doctor's signature still verifies at the other clinic, with Galen and with stock GnuPG.
    let received = sync::received_documents(&mar.clinic, &mar.admin).expect("received");
    assert_eq!(received.len(), 1);
    let doc = &received[0];
    assert_eq!(doc.document.uuid, rx.uuid);
    assert!(doc.contents.is_ok(), "{:?}", doc.contents);
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("rx.json"), &doc.document.canonical).expect("write");
    std::fs::write(dir.path().join("rx.json.asc"), &doc.document.signature).expect("write");
    std::fs::write(dir.path().join("doctor.asc"), &doc.document.signer_key).expect("write");
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .env("GNUPGHOME", dir.path())
            .current_dir(dir.path())
            .arg("--batch")
            .args(args)
            .output()
            .expect("gpg runs")
    };
    assert!(gpg(&["--import", "doctor.asc"]).status.success());
    let verified = gpg(&["--verify", "rx.json.asc", "rx.json"]);
    assert!(verified.status.success(), "gpg: {}", String::from_utf8_lossy(&verified.stderr));

    // A doctor at Mar finds it in Müller's chart and reads what Sol's doctor signed; opening it is audited.
    let in_chart = sync::received_for_patient(&mar.clinic, &mar.doctor, copy.id).expect("the chart");
    assert_eq!(in_chart.len(), 1);
    let signed = in_chart[0].contents.as_ref().expect("verifies");
    assert_eq!((signed.clinic.as_str(), signed.signer.name.as_str()), ("Clínica Sol", "Dr Rui Costa"));
    assert_eq!(signed.patient.family_name, "Müller");
    let Some(Body::Prescription(p)) = signed.body() else { panic!("{signed:?}") };
    assert_eq!(p.lines[0].medicament, "Amoxicillin 500 mg capsule");
    sync::received_document(&mar.clinic, &mar.doctor, copy.id, &rx.uuid).expect("opens");
    // It is on the doctor's home too, filed under Müller's chart here; not on the front desk's.
    let recent = sync::recently_received(&mar.clinic, &mar.doctor).expect("recent");
    assert_eq!(
        recent.iter().map(|(chart, d)| (*chart, d.document.uuid.as_str())).collect::<Vec<_>>(),
        [(copy.id, rx.uuid.as_str())]
    );
    let log = audit::list(&mar.clinic, &mar.admin, &audit::Query { limit: 5, ..Default::default() }).expect("log");
    assert!(log.iter().any(|e| e.action == "document.view_received" && e.entity_id == rx.uuid), "{log:?}");
    let other = mar.register("Ana", "Sousa", false);
    assert!(sync::received_for_patient(&mar.clinic, &mar.doctor, other.id).expect("chart").is_empty());
    assert!(
        matches!(
            sync::received_document(&mar.clinic, &mar.doctor, other.id, &rx.uuid),
            Err(galen_core::Error::NotFound { .. })
        ),
        "a document opens only under its own patient"
    );

    // Both clinics edit Müller before hearing from each other.
    let mut d = muller.demographics.clone();
    d.phones = vec!["+351 912 345 678".into()];
    patients::update(
        &sol.clinic,
        &sol.doctor,
        muller.id,
        &patients::NewPatient { demographics: d.clone(), clinical: None },
    )
    .expect("Sol edits");
    let mut d = copy.demographics.clone();
    d.address = "Rua do Mar 1, Faro".into();
    patients::update(
        &mar.clinic,
        &mar.doctor,
        copy.id,
        &patients::NewPatient { demographics: d.clone(), clinical: None },
    )
    .expect("Mar edits");
    sol.sync();
    let report = mar.sync();
    assert_eq!(report.new_conflicts, 1, "{report:?}");
    assert_eq!(sol.sync().new_conflicts, 1);
    assert_eq!(find(&mar, &muller.uuid).expect("kept").demographics.address, "Rua do Mar 1, Faro", "not overwritten");

    let conflicts = sync::conflicts(&mar.clinic, &mar.admin).expect("conflicts");
    assert_eq!(conflicts.len(), 1);
    let attention = galen_core::attention::attention(&mar.clinic, &mar.admin).expect("attention");
    let health = attention.sync.expect("paired");
    assert!(health.open_conflicts == 1 && health.last_success.is_some() && health.last_error.is_none(), "{health:?}");
    assert_eq!(conflicts[0].local.address, "Rua do Mar 1, Faro");
    assert_eq!(conflicts[0].incoming.phones, vec!["+351 912 345 678".to_owned()]);
    let desk = {
        let new = galen_core::staff::NewStaff {
            username: "rita".into(),
            display_name: "Rita".into(),
            role: galen_core::Role::Receptionist,
            licence_number: None,
            password: PASSWORD.into(),
        };
        galen_core::staff::add(&mar.clinic, &mar.admin, &new).expect("add");
        mar.clinic.login("rita", PASSWORD).expect("login")
    };
    let refused =
        sync::resolve(&mar.clinic, &desk, conflicts[0].id, Resolution::TakeIncoming).expect_err("admins only");
    assert!(matches!(refused, Error::Denied { action: Action::SyncManage, .. }), "{refused:?}");
    let refused = sync::received_for_patient(&mar.clinic, &desk, copy.id).expect_err("no documents for the desk");
    assert!(matches!(refused, Error::Denied { action: Action::DocumentRead, .. }), "{refused:?}");
    let refused = sync::recently_received(&mar.clinic, &desk).expect_err("nor on the desk's home");
    assert!(matches!(refused, Error::Denied { action: Action::DocumentRead, .. }), "{refused:?}");
    sync::resolve(&mar.clinic, &mar.admin, conflicts[0].id, Resolution::TakeIncoming).expect("resolve");
    let sol_conflict = sync::conflicts(&sol.clinic, &sol.admin).expect("conflicts")[0].id;
    sync::resolve(&sol.clinic, &sol.admin, sol_conflict, Resolution::KeepLocal).expect("resolve");
    for _ in 0..2 {
        mar.sync();
        sol.sync();
    }
    let (a, b) = (find(&sol, &muller.uuid).expect("Sol"), find(&mar, &muller.uuid).expect("Mar"));
    assert_eq!(a.demographics, b.demographics, "both clinics converge on the chosen version");
    assert_eq!(a.demographics.phones, vec!["+351 912 345 678".to_owned()]);
    assert_eq!(sol.status().open_conflicts + mar.status().open_conflicts, 0);
    let (records, rejections) = serving.partner.counts().expect("counts");
    assert!(records >= 4 && rejections == 0, "{records} records, {rejections} refusals");
}

/// One person registered at two clinics (same national ID, two records): the arrival is a conflict, and taking
/// theirs is refused with a message naming the record here, rather than making two records of one person.
#[test]
fn the_same_person_registered_at_two_clinics_is_a_conflict_that_cannot_become_two_records() {
    let partner = new_partner();
    let (sol, mar) = sol_and_mar(&partner);
    let serving = partner.serve(true);
    sol.pair_with(&partner, &url(serving.addr));
    mar.pair_with(&partner, &url(serving.addr));
    let with_id = |c: &ClinicDir, given: &str| {
        let p = c.register(given, "Lopes", true);
        let mut d = p.demographics.clone();
        d.national_id = "123456789".into();
        patients::update(&c.clinic, &c.doctor, p.id, &patients::NewPatient { demographics: d.clone(), clinical: None })
            .expect("national ID")
    };
    with_id(&sol, "Rosa");
    let ours = with_id(&mar, "Rosa Maria");
    sol.sync();
    assert_eq!(mar.sync().new_conflicts, 1);

    let conflict = sync::conflicts(&mar.clinic, &mar.admin).expect("conflicts").remove(0);
    let fields = match sync::resolve(&mar.clinic, &mar.admin, conflict.id, Resolution::TakeIncoming) {
        Err(galen_core::Error::Invalid(fields)) => fields,
        other => panic!("taking theirs must be refused with a field error, not {other:?}"),
    };
    let message = &fields.0[0];
    assert_eq!(message.field, "national_id");
    assert!(message.message.contains(&format!("MRN {}", ours.mrn)), "{message:?}");
    assert_eq!(sync::conflicts(&mar.clinic, &mar.admin).expect("conflicts").len(), 1, "still open, nothing changed");
    assert_eq!(patients::count(mar.clinic.store()).expect("count"), 1, "no second record");

    sync::resolve(&mar.clinic, &mar.admin, conflict.id, Resolution::KeepLocal).expect("keep ours");
    assert!(sync::conflicts(&mar.clinic, &mar.admin).expect("conflicts").is_empty());
    assert_eq!(find(&mar, &ours.uuid).expect("ours").demographics.given_names, "Rosa Maria");
}

/// A site identity made by hand, as a partner would know it, with its OpenPGP key.
fn site_keys(name: &str) -> (PairingFile, OwnKey) {
    let site = HandMade::site(name);
    (site.pairing, site.key)
}

#[test]
fn the_partner_refuses_replays_tampering_stale_and_forged_envelopes_and_logs_each_reason() {
    let dir = new_partner();
    let conn = dir.open();
    let (sol_file, sol) = site_keys("Clínica Sol");
    let (mar_file, mar) = site_keys("Clínica Mar");
    let (_, stranger) = site_keys("Not paired");
    let forged_number = "00000 00000 00000 00000";
    let refused = store::pair(&conn, &sol_file, forged_number).expect_err("a number that does not match");
    assert!(refused.to_string().contains("the safety number does not match this pairing file"), "{refused}");
    store::pair(&conn, &sol_file, &sol_file.safety_number).expect("pair Sol");
    store::pair(&conn, &mar_file, &mar_file.safety_number).expect("pair Mar");
    let refused = store::pair(&conn, &sol_file, &sol_file.safety_number).expect_err("paired once");
    assert!(refused.to_string().contains("Clínica Sol is already paired"), "{refused}");
    let partner = store::Partner::load(conn, false).expect("load");
    let me = PeerKey::from_armored(&store::pairing_file(&dir.open()).expect("file").openpgp_public_key)
        .expect("partner key");
    let site = &partner.sites()[0];
    assert_eq!(site.name, "Clínica Sol");

    let id = uuid::Uuid::now_v7().to_string();
    let plain = |by: &OwnKey, payload: serde_json::Value, at: time::OffsetDateTime| Plaintext {
        meta: Meta {
            format: envelope::FORMAT.into(),
            id: id.clone(),
            version: 1,
            created_at: galen_proto::rfc3339(at),
            nonce: envelope::new_nonce(),
            sender: by.fingerprint(),
            recipient: me.fingerprint(),
            origin: by.fingerprint(),
            kind: Kind::Patient,
        },
        payload,
    };
    let now = time::OffsetDateTime::now_utc();
    let b64 =
        |by: &OwnKey, p: &Plaintext| galen_proto::wire::encode_envelope(&envelope::seal(by, &me, p).expect("seal"));
    let original = b64(&sol, &plain(&sol, serde_json::json!({"v": 1}), now));
    let resent = b64(&sol, &plain(&sol, serde_json::json!({"v": 1}), now));
    let changed = b64(&sol, &plain(&sol, serde_json::json!({"v": 2}), now));
    let mut bytes = galen_proto::wire::decode_envelope(&original).expect("b64");
    let i = bytes.len() - 30;
    bytes[i] ^= 0x40;
    let tampered = galen_proto::wire::encode_envelope(&bytes);
    let by_mar = b64(&mar, &plain(&mar, serde_json::json!({"v": 1}), now));
    let by_stranger = b64(&stranger, &plain(&stranger, serde_json::json!({"v": 1}), now));
    let stale = b64(&sol, &plain(&sol, serde_json::json!({"v": 1}), now - time::Duration::hours(1)));

    let batch = [original.clone(), original, resent, changed, tampered, by_mar, by_stranger, stale, "%%%".into()];
    let results = partner.receive(site, &batch).expect("receive");
    let got: Vec<(PushStatus, Option<&str>)> =
        results.iter().map(|r| (r.status.clone(), r.reason.as_deref())).collect();
    let rejected = |why| (PushStatus::Rejected, Some(why));
    assert_eq!(
        got,
        vec![
            (PushStatus::Stored, None),
            rejected("replayed_nonce"),
            (PushStatus::Duplicate, None),
            rejected("replayed_id"),
            rejected("tampered"),
            rejected("wrong_signer"),
            rejected("unknown_signer"),
            rejected("stale"),
            rejected("malformed"),
        ]
    );
    assert_eq!(partner.counts().expect("counts"), (1, 7), "one record stored once; seven refusals logged");
    assert_eq!(
        partner.rejection_reasons().expect("reasons"),
        ["replayed_nonce", "replayed_id", "tampered", "wrong_signer", "unknown_signer", "stale", "malformed"]
    );
}

/// An authentic envelope whose contents cannot be applied (a buggy or hostile site) is logged and skipped at the
/// clinic, once; it neither stops the sync nor holds back what came after it.
#[test]
fn an_envelope_whose_contents_cannot_be_applied_is_logged_and_skipped() {
    let partner = new_partner();
    let (sol, mar) = sol_and_mar(&partner);
    let (lab_file, lab) = site_keys("Lab");
    let conn = partner.open();
    store::pair(&conn, &lab_file, &lab_file.safety_number).expect("pair the lab");
    let partner_key =
        PeerKey::from_armored(&store::pairing_file(&conn).expect("file").openpgp_public_key).expect("key");
    drop(conn);
    let serving = partner.serve(true);
    sol.pair_with(&partner, &url(serving.addr));
    mar.pair_with(&partner, &url(serving.addr));

    // The lab sends a "patient" that is no patient; then Sol shares a real one.
    let plain = Plaintext {
        meta: Meta {
            format: envelope::FORMAT.into(),
            id: uuid::Uuid::now_v7().to_string(),
            version: 1,
            created_at: galen_proto::rfc3339(time::OffsetDateTime::now_utc()),
            nonce: envelope::new_nonce(),
            sender: lab.fingerprint(),
            recipient: partner_key.fingerprint(),
            origin: lab.fingerprint(),
            kind: Kind::Patient,
        },
        payload: serde_json::json!({ "given_names": "nobody" }),
    };
    let sealed = galen_proto::wire::encode_envelope(&envelope::seal(&lab, &partner_key, &plain).expect("seal"));
    let site = &serving.partner.sites().iter().find(|s| s.name == "Lab").cloned().expect("the lab");
    assert_eq!(serving.partner.receive(site, &[sealed]).expect("receive")[0].status, PushStatus::Stored);
    let muller = sol.register("Hans", "Müller", true);
    sol.sync();

    let report = mar.sync();
    assert_eq!((report.pulled, report.rejected_here), (1, 1), "{report:?}");
    assert!(find(&mar, &muller.uuid).is_some(), "what came after it arrived");
    assert!(mar.status().last_error.is_none(), "the sync succeeded");
    let log = audit::list(&mar.clinic, &mar.admin, &audit::Query { limit: 20, ..Default::default() }).expect("log");
    assert!(
        log.iter().any(|e| e.action == "sync.rejected" && e.entity_id.contains("missing field")),
        "logged with its reason: {log:?}"
    );
    let again = mar.sync();
    assert_eq!((again.pulled, again.rejected_here), (0, 0), "skipped once, not pulled again: {again:?}");
}

/// Records near the envelope limit, relayed: each pull page is packed to fit the largest body a clinic reads
/// (`MAX_BODY_BYTES`), however many records it could hold, and the next page carries on where it stopped.
#[test]
fn a_pull_page_fits_in_one_body_however_large_the_records() {
    let dir = new_partner();
    let conn = dir.open();
    let (lab_file, lab) = site_keys("Lab");
    let (sol_file, _) = site_keys("Clínica Sol");
    store::pair(&conn, &lab_file, &lab_file.safety_number).expect("pair the lab");
    store::pair(&conn, &sol_file, &sol_file.safety_number).expect("pair Sol");
    let me = PeerKey::from_armored(&store::pairing_file(&conn).expect("file").openpgp_public_key).expect("key");
    let partner = store::Partner::load(conn, true).expect("load");
    let (lab_site, sol_site) = (&partner.sites()[0], &partner.sites()[1]);
    let big = |i: usize| {
        let plain = Plaintext {
            meta: Meta {
                format: envelope::FORMAT.into(),
                id: uuid::Uuid::now_v7().to_string(),
                version: 1,
                created_at: galen_proto::rfc3339(time::OffsetDateTime::now_utc()),
                nonce: envelope::new_nonce(),
                sender: lab.fingerprint(),
                recipient: me.fingerprint(),
                origin: lab.fingerprint(),
                kind: Kind::Patient,
            },
            payload: serde_json::json!({ "notes": format!("{i}").repeat(200_000 / format!("{i}").len()) }),
        };
        galen_proto::wire::encode_envelope(&envelope::seal(&lab, &me, &plain).expect("seal"))
    };
    let records: Vec<String> = (1..=24).map(big).collect();
    for result in partner.receive(lab_site, &records).expect("receive") {
        assert_eq!(result.status, PushStatus::Stored, "{result:?}");
    }

    let (mut after, mut pulled, mut pages) = (0, 0, 0);
    loop {
        let (envelopes, more) = partner.pull(sol_site, after, galen_proto::wire::MAX_BATCH).expect("pull");
        let body =
            serde_json::to_vec(&galen_proto::wire::PullResponse { envelopes: envelopes.clone(), more }).expect("json");
        assert!(body.len() <= galen_proto::wire::MAX_BODY_BYTES, "a page of {} bytes", body.len());
        pages += 1;
        pulled += envelopes.len();
        after = envelopes.last().map_or(after, |p| p.seq);
        if !more {
            break;
        }
    }
    assert_eq!(pulled, 24, "every record, once");
    assert!(pages >= 2, "24 records of 200 KB take more than one page: {pages}");
}

/// Runs sync until a run succeeds; returns the reports of every run and how many failed.
fn sync_until_done(c: &ClinicDir) -> (Vec<sync::Report>, usize) {
    let (mut reports, mut failures) = (Vec::new(), 0);
    for _ in 0..40 {
        match sync::run(&c.clinic, sync::Trigger::Background) {
            Ok(r) => {
                reports.push(r);
                if c.status().pending == 0 {
                    return (reports, failures);
                }
            }
            Err(e) => {
                assert!(e.to_string().contains("Nothing was lost"), "{e}");
                failures += 1;
            }
        }
    }
    panic!("sync never finished: {failures} failures");
}

#[test]
fn connections_cut_mid_request_or_before_the_answer_lose_nothing_and_duplicate_nothing() {
    let partner = new_partner();
    let (sol, mar) = sol_and_mar(&partner);
    let serving = partner.serve(true);
    let plan = vec![Cut::MidRequest(30_000), Cut::BeforeAnswer, Cut::Pass, Cut::BeforeAnswer, Cut::MidRequest(90_000)];
    let (sol_proxy, sol_connections) = cutting_proxy(serving.addr, plan.clone());
    let (mar_proxy, _) = cutting_proxy(serving.addr, plan);
    sol.pair_with(&partner, &url(sol_proxy));
    mar.pair_with(&partner, &url(mar_proxy));

    galen_core::dev::seed::seed(&sol.clinic, &sol.doctor, 900, 7).expect("seed");
    let year = sol.clinic.now().year();
    let queued = (1..=900).filter(|&i| galen_core::dev::seed::synthetic(7, i, year).0.consent_share).count();

    let (reports, failures) = sync_until_done(&sol);
    let stored: usize = reports.iter().map(|r| r.pushed).sum();
    let duplicates: usize = reports.iter().map(|r| r.duplicates).sum();
    assert!(queued > 300, "about half of 900 seeded patients consent: {queued}");
    assert!(
        failures >= 2,
        "the proxy cut runs short ({failures} failures, {} connections)",
        sol_connections.load(Ordering::SeqCst)
    );
    let (records, rejections) = serving.partner.counts().expect("counts");
    assert_eq!(records as usize, queued, "0 lost, 0 duplicated: every record stored exactly once");
    assert_eq!(rejections, 0);
    assert!(stored <= queued && stored + duplicates >= queued, "{stored} stored + {duplicates} re-sent duplicates");
    assert!(duplicates > 0, "an answer was cut after the partner stored a batch, so a re-send was a duplicate");

    // The other clinic pulls through its own cutting proxy and applies each record once.
    let (_, failures) = sync_until_done(&mar);
    let report = sync::run(&mar.clinic, sync::Trigger::Background);
    let report = report.unwrap_or_else(|_| sync::run(&mar.clinic, sync::Trigger::Background).expect("a run passes"));
    assert_eq!(report.pulled, 0, "everything arrived before");
    let count = patients::count(mar.clinic.store()).expect("count");
    assert_eq!(count as usize, queued, "Clínica Mar has each shared patient once ({failures} failed runs)");
}
