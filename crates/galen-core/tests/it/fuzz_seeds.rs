//! Writes the fuzz targets' seed corpora (fuzz/corpus/) and their fixed keys (fuzz/keys/) from real files a
//! clinic makes: a signed prescription's GALEN2 QR text, its PDF, canonical JSON and signature, a trust list, a
//! pairing file, a key file, a backup's header, and envelopes sealed between two sites. Ignored in the normal run
//! (it rewrites committed files): `scripts/fuzz --seeds` runs it.

use crate::documents::{doctor, DOC_PW};
use crate::support::*;
use galen_core::documents::{self, keys, qr, Body, RxLine};
use galen_core::{backup, patients, pdf, site};
use galen_proto::envelope::{self, Kind, Meta, OwnKey, PeerKey, Plaintext};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn seed(target: &str, name: &str, bytes: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus folder");
    std::fs::write(dir.join(name), bytes).expect("write seed");
}

fn key(name: &str, text: &str) {
    let dir = fuzz_dir().join("keys");
    std::fs::create_dir_all(&dir).expect("keys folder");
    std::fs::write(dir.join(name), text).expect("write key");
}

#[test]
#[ignore = "rewrites fuzz/corpus and fuzz/keys; run by scripts/fuzz --seeds"]
fn writes_the_fuzz_seed_corpora() {
    let (fx, clinic, admin) = new_clinic();
    site::init(&clinic, &admin).expect("site identity");
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana Sofia", "Albuquerque")).expect("register");
    let today = clinic.now().date().to_string();
    let line = RxLine {
        medicament: "Amoxicillin 500 mg".into(),
        indication: "Pneumonia".into(),
        dose: "500".into(),
        dose_unit: "mg".into(),
        route: "by mouth".into(),
        form: "capsule".into(),
        quantity: 21,
        frequency: 8,
        frequency_unit: "hours".into(),
        duration: 7,
        duration_period: "days".into(),
        refills: 0,
        allow_substitution: true,
        valid_until: today.clone(),
        comment: "With food".into(),
        prn: false,
    };
    let body =
        Body::Prescription(documents::Prescription { issued_on: today, lines: vec![line], ..Default::default() });
    let draft = documents::create_draft(&clinic, &doc, pid, body).expect("draft");
    let signed = documents::sign(&clinic, &doc, draft.id, DOC_PW, true).expect("sign");

    // The doctor's public key: the QR, PDF and signed-JSON targets verify against it.
    let public = documents::doctor_public_key(&clinic, &doc, "rui").expect("public key");
    key("doctor.asc", &public);

    let texts = documents::open(&clinic, &doc, signed.id).expect("open").qr_texts;
    assert!(texts[0].starts_with("GALEN2:"));
    assert!(
        qr::report(&texts[0], &[public.as_str()], galen_core::pdf::Words::EN).verdict.is_ok(),
        "the seed QR verifies"
    );
    seed("qr_report", "galen2-one-line", texts[0].as_bytes());

    let rendered = pdf::render(&clinic, &doc, &pdf::Printout::Document(signed.id)).expect("render");
    let pdf_path = fx.dir.path().join("rx.pdf");
    pdf::save(&clinic, &rendered, &pdf_path).expect("save");
    let pdf_bytes = std::fs::read(&pdf_path).expect("read pdf");
    assert!(pdf::verify_file(&pdf_bytes, Some(&public)).is_ok(), "the seed PDF verifies");
    seed("pdf_verify", "prescription.pdf", &pdf_bytes);

    let exported = documents::export(&clinic, &doc, signed.id, fx.dir.path()).expect("export");
    let json = std::fs::read(&exported.json).expect("json");
    let signature = std::fs::read_to_string(&exported.signature).expect("signature");
    assert!(documents::check_signed(&json, &signature, &public).is_ok(), "the seed JSON verifies");
    key("doctor-signature.asc", &signature);
    seed("signed_document", "prescription.json", &json);

    let trust = keys::trust_list(&clinic, &admin).expect("trust list");
    seed("trust_list", "trust-list.txt", trust.as_bytes());

    let pairing = site::pairing_file(&clinic, &admin).expect("pairing file");
    let pairing_json = serde_json::to_string_pretty(&pairing).expect("pairing json");
    seed("pairing_file", "site.galen-pairing", pairing_json.as_bytes());

    let key_file = std::fs::read(fx.vault.key_file_path()).expect("key file");
    seed("key_file", "galen.key", &key_file);

    // A backup's header and lengths as written, with a one-byte database standing in for the snapshot (the
    // target reads what precedes the database bytes).
    let backup_path = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &backup_path).expect("backup");
    let whole = std::fs::read(&backup_path).expect("read backup");
    let header_len = u32::from_le_bytes(whole[8..12].try_into().expect("4 bytes")) as usize;
    let mut small = whole[..12 + header_len].to_vec();
    small.extend_from_slice(&1u64.to_le_bytes());
    small.push(0);
    small.extend_from_slice(&[0u8; 32]);
    seed("backup_prefix", "header", &small);

    // Two sites' envelope keys (test keys, made here), and an envelope each way.
    let clinic_tsk = OwnKey::generate("fuzz clinic").expect("clinic key");
    let partner_tsk = OwnKey::generate("fuzz partner").expect("partner key");
    key("clinic.tsk.asc", &clinic_tsk);
    key("partner.tsk.asc", &partner_tsk);
    let clinic_key = OwnKey::from_armored(&clinic_tsk).expect("clinic");
    let partner_key = OwnKey::from_armored(&partner_tsk).expect("partner");
    let shared = patients::get(&clinic, &doc, pid).expect("patient");
    for (name, from, to) in
        [("clinic-to-partner", &clinic_key, &partner_key), ("partner-to-clinic", &partner_key, &clinic_key)]
    {
        let to_peer = PeerKey::from_armored(&to.public_armored()).expect("peer");
        let plaintext = Plaintext {
            meta: Meta {
                format: envelope::FORMAT.into(),
                id: shared.uuid.clone(),
                version: 1,
                kind: Kind::Patient,
                created_at: time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .expect("time"),
                nonce: envelope::new_nonce(),
                sender: from.fingerprint(),
                recipient: to.fingerprint(),
                origin: from.fingerprint(),
            },
            payload: serde_json::json!({ "given_names": "Ana Sofia" }),
        };
        seed("envelope_open", name, &envelope::seal(from, &to_peer, &plaintext).expect("seal"));
    }

    // Shared patient and partner bodies: small hand-written JSON of each shape.
    seed(
        "shared_patient",
        "patient.json",
        br#"{"uuid":"0190f1a2-7b3c-7def-8a12-3456789abcde","mrn":"SOL-000001-X","given_names":"Ana","family_name":"Albuquerque","sex":"female","date_of_birth":"1980-02-29","dob_estimated":false,"national_id":"123.456.789-09","phones":["+55 11 91234-5678"],"email":"ana@example.org","address":"Rua 1","emergency_contact":{"name":"Rui","phone":"+55 11 99876-5432","relation":"son"},"blood_type":"A+","allergies":[{"substance":"Penicillin","severity":"severe","reaction":"Hives"}],"conditions":["Asthma"],"pregnancy_status":"not_pregnant","pregnancy_as_of":"2024-01-01","notes":"","deceased":false}"#,
    );

    // A FHIR import: the clinic's own bulk export (Patient, Organization, MedicationRequest… as NDJSON), one file.
    let mut clinical = patient("Ana Sofia", "Albuquerque");
    clinical.demographics.consent_share = true;
    clinical.clinical = Some(patients::Clinical { conditions: vec!["Asthma".into()], ..Default::default() });
    register(&clinic, &doc, &clinical).expect("register a consenting patient");
    let bulk = fx.dir.path().join("fhir");
    let written = galen_core::fhir::bulk(&clinic, &doc, &bulk, false, &mut |_, _| {}).expect("bulk export");
    let ndjson: Vec<u8> =
        written.files.iter().flat_map(|(f, _)| std::fs::read(bulk.join(f)).expect("ndjson")).collect();
    seed("fhir_import", "bulk-export.ndjson", &ndjson);
}
