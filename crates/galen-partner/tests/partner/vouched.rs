//! Received documents count as verified only when the clinic they came from vouches for the signer (issue 15,
//! part 3), through the real partner over mTLS: each clinic shares its trust list, signed by its site key; a third
//! site that signs a document in a real doctor's name with a fresh key (stock GnuPG) gets "not vouched for"; one
//! that reuses a document's id is refused and logged; one filed under a patient it does not name is flagged; and a
//! site cannot speak for another clinic's name.

use crate::received::{network, Network};
use crate::support::*;
use galen_core::documents::trust::{SharedTrustList, TrustList, TrustedKey, Vouch, FORMAT};
use galen_core::documents::{self, SharedDocument};
use galen_core::{audit, patients, sync};
use galen_proto::envelope::Kind;
use std::io::Write;
use std::process::{Command, Stdio};

/// Stock GnuPG with a private home.
struct Gpg(tempfile::TempDir);

impl Gpg {
    fn new() -> Gpg {
        Gpg(tempfile::tempdir().expect("tmp"))
    }

    fn run(&self, args: &[&str], input: &str) -> String {
        let mut child = Command::new("gpg")
            .env("GNUPGHOME", self.0.path())
            .args(["--batch", "--quiet", "--yes", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg runs");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("to gpg");
        let out = child.wait_with_output().expect("gpg");
        assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8")
    }

    /// A fresh signing key with this user ID; its fingerprint.
    fn new_key(&self, user_id: &str) -> String {
        self.run(&["--quick-gen-key", user_id, "ed25519", "sign", "never"], "");
        let listing = self.run(&["--with-colons", "--list-keys", user_id], "");
        listing.lines().find(|l| l.starts_with("fpr:")).and_then(|l| l.split(':').nth(9)).expect("fpr").to_owned()
    }

    fn public(&self, fingerprint: &str) -> String {
        self.run(&["--armor", "--export", fingerprint], "")
    }
}

fn chart_of(c: &ClinicDir, uuid: &str) -> patients::Patient {
    let count = patients::count(c.clinic.store()).expect("count");
    (1..=count + 5)
        .filter_map(|id| patients::get(&c.clinic, &c.doctor, id).ok())
        .find(|p| p.uuid == uuid)
        .expect("the patient arrived")
}

fn rejections(c: &ClinicDir) -> Vec<String> {
    let log = audit::list(&c.clinic, &c.admin, &audit::Query { limit: 100, ..Default::default() }).expect("log");
    log.into_iter().filter(|e| e.action == "sync.rejected").map(|e| e.entity_id).collect()
}

/// `genuine`'s signed JSON with another document id, signer key and (optionally) patient, signed by `key` with gpg.
fn forged(gpg: &Gpg, key: &str, genuine: &SharedDocument, uuid: &str, patient: Option<&str>) -> SharedDocument {
    let mut json: serde_json::Value = serde_json::from_str(&genuine.canonical).expect("json");
    json["document"] = uuid.into();
    json["signer"]["fingerprint"] = key.into();
    if let Some(given) = patient {
        json["patient"]["given_names"] = given.into();
    }
    let canonical = serde_json::to_string(&json).expect("json");
    let signature = gpg.run(&["--armor", "--detach-sign", "--local-user", key], &canonical);
    SharedDocument { uuid: uuid.into(), canonical, signature, signer_key: gpg.public(key), ..genuine.clone() }
}

/// A trust list in the lab's hand, signed with the lab's site key by gpg.
fn lab_trust_list(gpg: &Gpg, lab_secret: &str, clinic: &str, doctor_key: &str, fingerprint: &str) -> String {
    gpg.run(&["--import"], lab_secret);
    let lab_public = galen_proto::envelope::OwnKey::from_armored(lab_secret).expect("lab").public_armored();
    let list = TrustList {
        format: FORMAT.into(),
        clinic: clinic.into(),
        issued_at: "2026-01-01T00:00:00Z".into(),
        site_key: lab_public.clone(),
        doctors: vec![TrustedKey {
            name: "Dr Rui Costa".into(),
            licence: "CRM-12345".into(),
            fingerprint: fingerprint.into(),
            key: doctor_key.into(),
            valid_from: "2000-01-01T00:00:00Z".into(),
            valid_until: None,
            revoked: None,
        }],
    };
    let lab_fpr = galen_proto::pairing::fingerprint_of(&lab_public).expect("fpr");
    gpg.run(&["--clearsign", "--local-user", &lab_fpr], &serde_json::to_string_pretty(&list).expect("json"))
}

fn vouch_of(c: &ClinicDir, patient_id: i64, uuid: &str) -> sync::ReceivedDocument {
    sync::received_for_patient(&c.clinic, &c.doctor, patient_id)
        .expect("chart")
        .into_iter()
        .find(|d| d.document.uuid == uuid)
        .unwrap_or_else(|| panic!("document {uuid} is in the chart"))
}

/// Sol's doctor signs a prescription for Ana, and both clinics sync: the document's id, and Ana's chart at Mar
/// with the document as Mar received it.
fn signed_at_sol_received_at_mar(net: &Network) -> (String, patients::Patient, sync::ReceivedDocument) {
    let (sol, mar) = (&net.sol, &net.mar);
    let ana = sol.register("Ana", "Albuquerque", true);
    let body =
        galen_core::dev::bench::prescription(&sol.clinic.now().date().to_string(), &["Amoxicillin 500 mg capsule"]);
    let draft = documents::create_draft(&sol.clinic, &sol.doctor, ana.id, body).expect("draft");
    let signed = documents::sign(&sol.clinic, &sol.doctor, draft.id, PASSWORD, true).expect("sign");
    sol.sync();
    mar.sync();
    let chart = chart_of(mar, &ana.uuid);
    let received = vouch_of(mar, chart.id, &signed.uuid);
    (signed.uuid, chart, received)
}

#[test]
fn a_document_signed_in_a_real_doctors_name_with_a_fresh_key_is_not_vouched_for() {
    let net = network();
    let mar = &net.mar;
    // Sol's own document: Sol's trust list, which came with it, vouches for Dr Rui Costa's key.
    let (signed_uuid, chart, genuine) = signed_at_sol_received_at_mar(&net);
    assert!(genuine.contents.is_ok());
    assert!(matches!(&genuine.vouch, Vouch::Vouched { clinic, .. } if clinic == "Clínica Sol"), "{:?}", genuine.vouch);
    assert_eq!(genuine.sending_clinic.as_deref(), Some("Clínica Sol"));
    assert_eq!(genuine.filed_under_other, None);

    // The lab signs a copy in Dr Rui Costa's name with a fresh key of its own, and sends it through the partner.
    let gpg = Gpg::new();
    let fresh = gpg.new_key("Dr Rui Costa (CRM-12345) <rui@clinica-sol.example>");
    let copy_id = uuid::Uuid::now_v7().to_string();
    let copy = forged(&gpg, &fresh, &genuine.document, &copy_id, None);
    net.lab_sends_record(Kind::Document, &copy_id, 1, serde_json::to_value(&copy).expect("json"));
    // The same id as Sol's document, with other contents and signer: refused and logged, not ignored.
    let reused = forged(&gpg, &fresh, &genuine.document, &signed_uuid, None);
    net.lab_sends_record(Kind::Document, &signed_uuid, 1, serde_json::to_value(&reused).expect("json"));
    // Filed under Ana but naming someone else.
    let stranger_id = uuid::Uuid::now_v7().to_string();
    let stranger = forged(&gpg, &fresh, &genuine.document, &stranger_id, Some("Zé"));
    net.lab_sends_record(Kind::Document, &stranger_id, 1, serde_json::to_value(&stranger).expect("json"));
    // The lab vouches for its key under Sol's name (refused: Sol's site speaks as Clínica Sol here), then under
    // its own (which cannot vouch for a document signed at Sol).
    let lab_list = |clinic: &str| {
        let list = lab_trust_list(&gpg, &net.lab_secret, clinic, &gpg.public(&fresh), &fresh);
        serde_json::to_value(SharedTrustList { list }).expect("json")
    };
    net.lab_sends_record(Kind::TrustList, &uuid::Uuid::now_v7().to_string(), 1, lab_list("Clínica Sol"));
    net.lab_sends_record(Kind::TrustList, &uuid::Uuid::now_v7().to_string(), 1, lab_list("Lab"));
    let report = mar.sync();
    let refused = rejections(mar);
    assert_eq!(report.rejected_here, 2, "the reused id and the list in Sol's name: {report:?} {refused:?}");

    let copy_here = vouch_of(mar, chart.id, &copy_id);
    assert!(copy_here.contents.is_ok(), "the signature itself is valid: {:?}", copy_here.contents);
    assert_eq!(copy_here.vouch, Vouch::NotVouched, "no clinic vouches for the fresh key as Dr Rui Costa's");
    assert_eq!(copy_here.sending_clinic.as_deref(), Some("Lab"));
    let stranger_here = vouch_of(mar, chart.id, &stranger_id);
    assert_eq!(stranger_here.filed_under_other.as_deref(), Some("Ana Albuquerque"), "a patient mismatch is flagged");
    assert_eq!(vouch_of(mar, chart.id, &signed_uuid).document, genuine.document, "the original stands");
    assert!(refused.iter().any(|r| r.contains("another document with this id")), "{refused:?}");
    assert!(refused.iter().any(|r| r.contains("another site already speaks as Clínica Sol")), "{refused:?}");
}

/// A received document whose signed JSON was changed after signing (a medicine swapped, the signature kept): the
/// clinic refuses it, logs why in its audit trail, and files nothing in the chart.
#[test]
fn a_received_document_changed_after_signing_is_refused_and_logged() {
    let net = network();
    let mar = &net.mar;
    let (signed_uuid, chart, received) = signed_at_sol_received_at_mar(&net);
    let genuine = received.document;

    let id = uuid::Uuid::now_v7().to_string();
    let canonical = genuine.canonical.replace("Amoxicillin", "Oxycodone").replace(&signed_uuid, &id);
    assert_ne!(canonical, genuine.canonical);
    let tampered = SharedDocument { uuid: id.clone(), canonical, ..genuine.clone() };
    net.lab_sends_record(Kind::Document, &id, 1, serde_json::to_value(&tampered).expect("json"));
    let report = mar.sync();
    assert_eq!(report.rejected_here, 1, "{report:?}");
    let refused = rejections(mar);
    assert!(refused.iter().any(|r| r.contains(&id) && r.contains("signature")), "logged with its reason: {refused:?}");
    let filed = sync::received_for_patient(&mar.clinic, &mar.doctor, chart.id).expect("chart");
    assert!(filed.iter().all(|d| d.document.uuid != id), "nothing filed");
}
