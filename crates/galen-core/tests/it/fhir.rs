//! FHIR: a patient's summary exported as a signed IPS Bundle that an outside validator (fhir.resources) accepts and
//! stock GnuPG verifies, imported back into a fresh clinic unchanged; bad files refused, each in its own words.

use crate::documents::{all_kinds, doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::documents::{self, Body, RxLine};
use galen_core::fhir::{self, Verdict};
use galen_core::patients::{self, Allergy, Clinical, Demographics, NewPatient, Sex};
use galen_core::{audit, site, Clinic, Error, Role, Session};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs scripts/fhir-validate (fhir.resources, installed by scripts/setup-deps) over `files`.
fn validate(files: &[PathBuf]) {
    let python = repo().join("target/tools/fhir/bin/python");
    assert!(python.exists(), "fhir.resources is missing: run scripts/setup-deps");
    let out = Command::new(python).arg(repo().join("scripts/fhir-validate")).args(files).output().expect("validator");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "fhir.resources refuses the export:\n{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(", 0 problem(s)"), "{said}");
}

fn gpg_verifies(dir: &Path, key: &str, signature: &[u8], signed: &[u8]) -> String {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    let (key_file, sig_file, data_file) = (dir.join("key.asc"), dir.join("data.asc"), dir.join("data"));
    std::fs::write(&key_file, key).expect("key");
    std::fs::write(&sig_file, signature).expect("signature");
    std::fs::write(&data_file, signed).expect("data");
    let gpg = |args: &[&std::ffi::OsStr]| {
        Command::new("gpg").env("GNUPGHOME", &home).arg("--batch").args(args).output().expect("gpg runs")
    };
    assert!(gpg(&["--import".as_ref(), key_file.as_os_str()]).status.success(), "gpg imports the key");
    let out = gpg(&["--verify".as_ref(), sig_file.as_os_str(), data_file.as_os_str()]);
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success() && said.contains("Good signature"), "gpg said: {said}");
    said
}

fn b64(s: &str) -> Vec<u8> {
    data_encoding::BASE64.decode(s.as_bytes()).expect("base64")
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    let entries = bundle["entry"].as_array().expect("entries");
    entries.iter().map(|e| &e["resource"]).filter(|r| r["resourceType"] == kind).collect()
}

fn sign(clinic: &Clinic, doc: &Session, patient: i64, body: Body) -> documents::Document {
    let draft = documents::create_draft(clinic, doc, patient, body).expect("draft");
    documents::sign(clinic, doc, draft.id, DOC_PW, true).expect("sign")
}

fn müller() -> NewPatient {
    NewPatient {
        demographics: Demographics {
            given_names: "Jürgen Karl".into(),
            family_name: "Müller".into(),
            sex: Sex::Male,
            date_of_birth: "1975-06-01".into(),
            national_id: "DE12345678".into(),
            phones: vec!["+49 30 1234567".into()],
            email: "jm@example.org".into(),
            address: "Hauptstraße 5, 10115 Berlin".into(),
            emergency_contact: patients::EmergencyContact {
                name: "Erika Müller".into(),
                phone: "+49 30 7654321".into(),
                relation: "wife".into(),
            },
            ..Default::default()
        },
        clinical: Some(Clinical {
            allergies: vec![
                Allergy { substance: "Penicillin".into(), severity: "severe".into(), reaction: "Hives".into() },
                Allergy { substance: "Latex".into(), severity: "mild".into(), reaction: "Rash".into() },
            ],
            conditions: vec!["Hypertension".into(), "Type 2 diabetes".into()],
            ..Default::default()
        }),
    }
}

fn others() -> Vec<NewPatient> {
    let greek = NewPatient {
        demographics: Demographics {
            given_names: "Γιώργος".into(),
            family_name: "Παπαδόπουλος".into(),
            sex: Sex::Male,
            date_of_birth: "1962-11-30".into(),
            ..Default::default()
        },
        clinical: Some(Clinical {
            allergies: vec![Allergy {
                substance: "Ibuprofen".into(),
                severity: "moderate".into(),
                reaction: "Wheezing".into(),
            }],
            conditions: vec!["Asthma".into()],
            ..Default::default()
        }),
    };
    let cyrillic = NewPatient {
        demographics: Demographics {
            given_names: "Анна".into(),
            family_name: "Иванова".into(),
            sex: Sex::Female,
            estimated_age: Some(40),
            ..Default::default()
        },
        clinical: Some(Clinical {
            conditions: vec!["Migraine".into()],
            blood_type: "O-".into(),
            pregnancy_status: "pregnant".into(),
            pregnancy_as_of: "2026-01-15".into(),
            ..Default::default()
        }),
    };
    vec![greek, cyrillic]
}

/// Demographics and clinical lists as a receiving clinic should see them (what the round trip keeps).
fn kept(p: &patients::Patient) -> (String, String, Sex, String, String, Vec<String>, String, String, String, String) {
    let d = &p.demographics;
    (
        d.given_names.clone(),
        d.family_name.clone(),
        d.sex,
        if p.dob_estimated { d.date_of_birth[..4].to_owned() } else { d.date_of_birth.clone() },
        d.national_id.clone(),
        d.phones.clone(),
        d.email.clone(),
        d.address.clone(),
        d.emergency_contact.name.clone(),
        d.emergency_contact.phone.clone(),
    )
}

fn clinical_lists(p: &patients::Patient) -> (Vec<Allergy>, Vec<String>, String, String, String) {
    let c = p.clinical.clone().expect("a doctor sees clinical fields");
    (c.allergies, c.conditions, c.blood_type, c.pregnancy_status, c.pregnancy_as_of)
}

#[test]
fn a_summary_validates_verifies_with_gpg_and_imports_back_unchanged() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let jm = patients::register(&clinic, &doc, &müller(), false).expect("Müller");
    let others: Vec<_> =
        others().iter().map(|p| patients::register(&clinic, &doc, p, false).expect("register")).collect();

    // Müller's record: a 3-line prescription, every certificate, a voided prescription and a superseded one.
    let mut three = rx(&clinic);
    if let Body::Prescription(p) = &mut three {
        p.lines.push(RxLine {
            medicament: "Salbutamol inhaler".into(),
            dose: "0.1".into(),
            dose_unit: "mg".into(),
            route: "inhaled".into(),
            quantity: 1,
            prn: true,
            duration: 30,
            duration_period: "days".into(),
            refills: 2,
            allow_substitution: true,
            valid_until: p.issued_on.clone(),
            ..Default::default()
        });
    }
    let three = sign(&clinic, &doc, jm.id, three);
    let kinds = all_kinds(&clinic);
    let mut birth = kinds[1].clone();
    if let Body::Birth(b) = &mut birth {
        b.date_of_birth = "1975-06-01".into();
    }
    sign(&clinic, &doc, jm.id, birth);
    let leave = sign(&clinic, &doc, jm.id, kinds[2].clone());
    let fix = documents::correct(&clinic, &doc, leave.id).expect("correction");
    let fix = documents::sign(&clinic, &doc, fix.id, DOC_PW, true).expect("sign the correction");
    let wrong = sign(&clinic, &doc, jm.id, rx(&clinic));
    documents::void(&clinic, &doc, wrong.id, "Wrong patient", DOC_PW).expect("void");
    sign(&clinic, &doc, jm.id, kinds[3].clone());
    sign(&clinic, &doc, others[0].id, rx(&clinic));

    let dir = fx.dir.path().join("fhir");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut files = Vec::new();
    let mut bundles = Vec::new();
    for p in std::iter::once(&jm).chain(&others) {
        let summary = fhir::patient_summary(&clinic, &doc, &p.mrn).expect("export");
        assert!(summary.left_out.is_empty(), "every document verifies");
        let path = dir.join(&summary.file_name);
        summary.save(&path).expect("save");
        files.push(path);
        bundles.push(summary.json);
    }
    validate(&files);

    let bundle: Value = serde_json::from_slice(&bundles[0]).expect("json");
    assert_eq!(bundle["type"], "document");
    let composition = &bundle["entry"][0]["resource"];
    assert_eq!(composition["resourceType"], "Composition", "a document Bundle opens with its Composition");
    let loinc: Vec<&str> = composition["section"]
        .as_array()
        .expect("sections")
        .iter()
        .filter_map(|s| s["code"]["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(loinc, ["10160-0", "48765-2", "11450-4"], "the IPS's required sections");
    let patient = resources(&bundle, "Patient")[0];
    assert_eq!(patient["name"][0]["given"], serde_json::json!(["Jürgen", "Karl"]));
    assert_eq!(patient["identifier"][1]["type"]["coding"][0]["code"], "NI");
    assert_eq!(patient["deceasedBoolean"], true, "the death certificate marks him deceased");
    assert_eq!(resources(&bundle, "AllergyIntolerance").len(), 2);
    // Anna's blood group and pregnancy: Observations in IPS's optional Results and History of Pregnancy sections.
    let anna: Value = serde_json::from_slice(&bundles[2]).expect("json");
    let codes: Vec<&str> = anna["entry"][0]["resource"]["section"]
        .as_array()
        .expect("sections")
        .iter()
        .filter_map(|s| s["code"]["coding"][0]["code"].as_str())
        .collect();
    assert_eq!(codes, ["10160-0", "48765-2", "11450-4", "30954-2", "10162-6"]);
    let observations = resources(&anna, "Observation");
    assert_eq!(observations[0]["valueCodeableConcept"]["text"], "O-");
    assert_eq!(observations[1]["valueCodeableConcept"]["coding"][0]["code"], "77386006");
    assert_eq!(resources(&bundle, "Condition").len(), 2);

    // One MedicationRequest per line, grouped per prescription; the voided one cancelled.
    let meds = resources(&bundle, "MedicationRequest");
    assert_eq!(meds.len(), 5, "three lines and the voided prescription's two");
    let group = format!("urn:uuid:{}", three.uuid);
    let of_three: Vec<_> = meds.iter().filter(|m| m["groupIdentifier"]["value"] == group.as_str()).collect();
    assert_eq!(of_three.len(), 3);
    assert!(of_three.iter().all(|m| m["status"] == "active"));
    assert_eq!(
        of_three[0]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"],
        serde_json::json!({"value": 500, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"})
    );
    assert_eq!(of_three[2]["dosageInstruction"][0]["asNeededBoolean"], true);
    assert_eq!(of_three[2]["dispenseRequest"]["numberOfRepeatsAllowed"], 2);
    assert_eq!(of_three[2]["substitution"]["allowedBoolean"], true);
    let voided: Vec<_> =
        meds.iter().filter(|m| m["groupIdentifier"]["value"] == format!("urn:uuid:{}", wrong.uuid).as_str()).collect();
    assert!(voided.iter().all(|m| m["status"] == "cancelled"), "{voided:?}");

    // Every signed document with its PDF; the superseded one says so and its correction replaces it.
    let refs = resources(&bundle, "DocumentReference");
    assert_eq!(refs.len(), 6, "prescription ×2, birth, sick leave and its correction, death");
    let by_id = |uuid: &str| *refs.iter().find(|r| r["id"] == uuid).expect("the document");
    assert_eq!(by_id(&leave.uuid)["status"], "superseded");
    assert_eq!(by_id(&fix.uuid)["relatesTo"][0]["code"], "replaces");
    assert_eq!(by_id(&wrong.uuid)["status"], "entered-in-error");
    let pdf = b64(by_id(&three.uuid)["content"][0]["attachment"]["data"].as_str().expect("pdf"));
    assert!(pdf.starts_with(b"%PDF"), "the signed PDF rides along");

    // gpg checks a doctor's signature with only what the Bundle carries.
    let provenance = resources(&bundle, "Provenance");
    assert_eq!(provenance.len(), 6);
    let p = provenance
        .iter()
        .find(|p| p["target"][0]["reference"] == format!("urn:uuid:{}", three.uuid).as_str())
        .expect("its provenance");
    assert_eq!(p["signature"][0]["sigFormat"], "application/pgp-signature");
    let content = by_id(&three.uuid)["content"].as_array().expect("content");
    let attached = |t: &str| {
        b64(content.iter().find(|c| c["attachment"]["contentType"] == t).expect(t)["attachment"]["data"]
            .as_str()
            .expect("data"))
    };
    let key = String::from_utf8(attached("application/pgp-keys")).expect("key");
    gpg_verifies(
        &dir.join("doctor"),
        &key,
        &b64(p["signature"][0]["data"].as_str().expect("sig")),
        &attached("application/json"),
    );

    // The clinic's signature over the Bundle: Galen checks it, and gpg checks the RFC 8785 bytes Python makes.
    let site_key = site::public_key(&clinic, &admin).expect("site key");
    fhir::verify_bundle(&bundles[0], &site_key).expect("the clinic's signature holds");
    let canonical = Command::new("python3")
        .args(["-c", "import json,sys; b=json.load(open(sys.argv[1])); b.pop('signature'); sys.stdout.buffer.write(json.dumps(b, sort_keys=True, separators=(',',':'), ensure_ascii=False).encode())"])
        .arg(&files[0])
        .output()
        .expect("python");
    assert!(canonical.status.success());
    gpg_verifies(
        &dir.join("site"),
        &site_key,
        &b64(bundle["signature"]["data"].as_str().expect("sig")),
        &canonical.stdout,
    );
    let changed = String::from_utf8(bundles[0].clone()).expect("utf8").replacen("Müller", "Mueller", 1);
    assert!(fhir::verify_bundle(changed.as_bytes(), &site_key).is_err(), "a changed name breaks the signature");

    // The record's access report rides along; the export itself is in the trail.
    assert!(!resources(&bundle, "AuditEvent").is_empty());
    let rows = audit::list(
        &clinic,
        &admin,
        &audit::Query { action: Some("fhir.export".into()), limit: 10, ..Default::default() },
    )
    .expect("audit");
    assert_eq!(rows.len(), 3);

    // Into a fresh clinic: the same demographics, allergies and conditions.
    let (_fx2, other, admin2) = new_clinic();
    let doc2 = doctor(&other, &admin2);
    for (json, original) in bundles.iter().zip(std::iter::once(&jm).chain(&others)) {
        let plan = fhir::plan(&other, &doc2, json).expect("plan");
        assert!(plan.clean(), "{:?}", plan.patients);
        let done = fhir::import(&other, &doc2, json, false).expect("import");
        let back = patients::get(&other, &doc2, done.patients[0].id).expect("imported");
        let before = patients::get(&clinic, &doc, original.id).expect("original");
        assert_eq!(kept(&back), kept(&before));
        assert_eq!(clinical_lists(&back), clinical_lists(&before));
    }

    // The same file again: the national ID is already on file, and nothing is written.
    let count = all_patients(&other, &doc2).len();
    let Err(Error::Invalid(e)) = fhir::import(&other, &doc2, &bundles[0], true) else { panic!("a second Müller") };
    assert!(
        e.0[0].field.ends_with("identifier (national ID)") && e.0[0].message.contains("already belongs to"),
        "{e:?}"
    );
    assert_eq!(all_patients(&other, &doc2).len(), count, "nothing half-written");
}

#[test]
fn an_admin_exports_demographics_only_and_a_receptionist_not_at_all() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let jm = patients::register(&clinic, &doc, &müller(), false).expect("Müller");
    sign(&clinic, &doc, jm.id, rx(&clinic));
    let summary = fhir::patient_summary(&clinic, &admin, &jm.mrn).expect("an admin's export");
    let bundle: Value = serde_json::from_slice(&summary.json).expect("json");
    for kind in ["AllergyIntolerance", "Condition", "MedicationRequest", "DocumentReference"] {
        assert!(resources(&bundle, kind).is_empty(), "no {kind} for an admin");
    }
    let sections = bundle["entry"][0]["resource"]["section"].as_array().expect("sections");
    assert!(sections[..3].iter().all(|s| s["emptyReason"]["coding"][0]["code"] == "withheld"), "{sections:?}");
    let path = fx.dir.path().join(&summary.file_name);
    summary.save(&path).expect("save");
    validate(&[path]);

    let desk = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    assert!(matches!(fhir::patient_summary(&clinic, &desk, &jm.mrn), Err(Error::Denied { .. })));
    assert!(matches!(fhir::plan(&clinic, &desk, b"{}"), Err(Error::Denied { .. })));

    // An admin imports demographics; the allergies and conditions wait for a clinician.
    let doctors_copy = fhir::patient_summary(&clinic, &doc, &jm.mrn).expect("doctor's export");
    let (_fx2, other, admin2) = new_clinic();
    let plan = fhir::plan(&other, &admin2, &doctors_copy.json).expect("plan");
    assert_eq!((plan.patients[0].allergies, plan.patients[0].clinical_left_out), (0, 4));
    assert!(plan.not_imported.iter().any(|l| l.contains("MedicationRequest")), "{:?}", plan.not_imported);
}

#[test]
fn bulk_export_writes_ndjson_per_resource_type_that_validates_and_imports() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let mut consenting = müller();
    consenting.demographics.consent_share = true;
    let jm = patients::register(&clinic, &doc, &consenting, false).expect("Müller");
    sign(&clinic, &doc, jm.id, rx(&clinic));
    for p in others() {
        patients::register(&clinic, &doc, &p, false).expect("register");
    }
    let dir = fx.dir.path().join("bulk");
    let mut seen = Vec::new();
    let bulk = fhir::bulk(&clinic, &doc, &dir, false, &mut |done, total| seen.push((done, total))).expect("bulk");
    assert_eq!((bulk.patients, seen), (1, vec![(1, 1)]), "only the patient who consented");
    let every = fhir::bulk(&clinic, &admin, &dir.join("all"), true, &mut |_, _| {}).expect("every patient");
    assert_eq!(every.patients, 3);
    let organizations = every.files.iter().find(|(f, _)| f == "Organization.ndjson").map(|(_, n)| *n);
    assert_eq!(organizations, Some(1), "the clinic once, not once per patient");
    let names: Vec<&str> = bulk.files.iter().map(|(f, _)| f.as_str()).collect();
    assert!(names.contains(&"Patient.ndjson") && names.contains(&"MedicationRequest.ndjson"), "{names:?}");
    validate(&bulk.files.iter().map(|(f, _)| dir.join(f)).collect::<Vec<_>>());

    // Patients with their allergies and conditions, as NDJSON, into a fresh clinic.
    let mut ndjson = Vec::new();
    for f in ["Patient.ndjson", "AllergyIntolerance.ndjson", "Condition.ndjson", "MedicationRequest.ndjson"] {
        ndjson.extend(std::fs::read(dir.join(f)).expect(f));
    }
    let (_fx2, other, admin2) = new_clinic();
    let doc2 = doctor(&other, &admin2);
    let done = fhir::import(&other, &doc2, &ndjson, false).expect("import NDJSON");
    let back = patients::get(&other, &doc2, done.patients[0].id).expect("imported");
    assert_eq!(clinical_lists(&back), clinical_lists(&patients::get(&clinic, &doc, jm.id).expect("original")));
}

#[test]
fn bad_files_are_refused_each_in_its_own_words_and_nothing_is_written() {
    let (_fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    patients::register(&clinic, &doc, &müller(), false).expect("Müller");
    let before = all_patients(&clinic, &doc).len();
    let file_error = |bytes: &[u8]| match fhir::plan(&clinic, &doc, bytes) {
        Err(Error::Invalid(e)) if e.0[0].field == "file" => e.0[0].message.clone(),
        other => panic!("expected a file error, got {other:?}"),
    };
    let malformed = file_error(b"{\"resourceType\": \"Patient\", ");
    assert!(malformed.contains("not valid JSON (line 1"), "{malformed}");
    let not_fhir = file_error(br#"{"name": "Ana"}"#);
    assert!(not_fhir.contains("not a FHIR resource"), "{not_fhir}");
    let message = file_error(br#"{"resourceType": "Bundle", "type": "message", "entry": []}"#);
    assert!(message.contains("type \"message\""), "{message}");
    let alone = file_error(br#"{"resourceType": "Observation", "status": "final"}"#);
    assert!(alone.contains("holds one Observation"), "{alone}");
    let too_big = file_error(&vec![b' '; fhir::MAX_IMPORT_BYTES + 1]);
    assert!(too_big.contains("larger than"), "{too_big}");

    let patient = |gender: &str, extra: &str| {
        format!(
            r#"{{"resourceType":"Patient","id":"p1","name":[{{"family":"Lima","given":["Ana"]}}],"gender":"{gender}"{extra}}}"#
        )
    };
    let refused = |json: String| -> Vec<(String, String)> {
        let plan = fhir::plan(&clinic, &doc, json.as_bytes()).expect("plan");
        match &plan.patients[0].outcome {
            Verdict::Refused(errors) => errors.iter().map(|e| (e.field.clone(), e.message.clone())).collect(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    let future = refused(patient("female", r#","birthDate":"2999-01-01""#));
    assert_eq!(future, [("birthDate".to_owned(), "The date of birth is in the future.".to_owned())]);
    let taken = refused(patient(
        "female",
        r#","birthDate":"1990-01-01","identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"NI"}]},"value":"DE12345678"}]"#,
    ));
    assert_eq!(taken[0].0, "identifier (national ID)");
    assert!(taken[0].1.contains("already belongs to Jürgen Karl Müller"), "{taken:?}");
    let gender = refused(patient("woman", r#","birthDate":"1990-01-01""#));
    assert_eq!(gender[0].0, "gender");
    let wrong_type = refused(patient("female", r#","birthDate":19900101"#));
    assert!(wrong_type[0].1.contains("cannot be read"), "{wrong_type:?}");

    let Err(Error::Invalid(e)) =
        fhir::import(&clinic, &doc, patient("female", r#","birthDate":"2999-01-01""#).as_bytes(), true)
    else {
        panic!("a refused patient stops the import")
    };
    assert!(e.0[0].field.contains("birthDate"), "{e:?}");
    assert_eq!(all_patients(&clinic, &doc).len(), before, "nothing was written");
}

#[test]
fn a_record_copy_holds_a_readable_summary_the_ips_the_access_report_and_every_signed_pdf() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let jm = patients::register(&clinic, &doc, &müller(), false).expect("Müller");
    let three = sign(&clinic, &doc, jm.id, rx(&clinic));
    let leave = sign(&clinic, &doc, jm.id, all_kinds(&clinic)[2].clone());
    documents::void(&clinic, &doc, leave.id, "Issued twice", DOC_PW).expect("void");
    // To look at them: GALEN_KEEP_PRINTOUTS=/some/dir cargo test -p galen-core --test it fhir::a_record_copy
    let dir = match std::env::var_os("GALEN_KEEP_PRINTOUTS") {
        Some(keep) => PathBuf::from(keep).join("record-copy"),
        None => fx.dir.path().join("record-copy"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(fhir::record_copy_name(&clinic, &doc, jm.id).expect("name"), format!("record-{}", jm.mrn));
    let copy = fhir::record_copy(&clinic, &doc, jm.id, &dir).expect("copy");
    let rx_pdf = format!("prescription-{}.pdf", three.uuid);
    let mut want = vec![
        format!("record-{}.pdf", jm.mrn),
        format!("patient-summary-{}.json", jm.mrn),
        format!("access-report-{}.pdf", jm.mrn),
    ];
    want.extend([rx_pdf.clone(), format!("sick-leave-{}.pdf", leave.uuid)]);
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut sorted = want.clone();
    sorted.sort();
    assert_eq!((copy.files, on_disk), (want.clone(), sorted));

    let record = crate::printing::text_of(&dir.join(&want[0]));
    for expected in [
        "Your health record",
        "Jürgen Karl Müller",
        "Penicillin — Severe — Hives",
        "Type 2 diabetes",
        "Prescription",
        "Voided",
        "Dr Rui Costa",
        &rx_pdf[..21],
    ] {
        assert!(record.contains(expected), "{expected:?} missing from:\n{record}");
    }
    let access = crate::printing::text_of(&dir.join(&want[2]));
    assert!(access.contains("Who accessed this record") && access.contains("Signed a document"), "{access}");
    assert!(crate::printing::text_of(&dir.join(&rx_pdf)).contains("Amoxicillin"), "the signed prescription itself");
    validate(&[dir.join(&want[1])]);

    // A folder that already holds files is refused: no copy is mixed into another.
    let Err(Error::Invalid(e)) = fhir::record_copy(&clinic, &doc, jm.id, &dir) else { panic!("a full folder") };
    assert_eq!(e.0[0].field, "folder");

    // An admin's copy: who the patient is, no clinical data, no documents.
    let theirs = fx.dir.path().join("admin-copy");
    let copy = fhir::record_copy(&clinic, &admin, jm.id, &theirs).expect("admin's copy");
    assert_eq!(copy.files.len(), 3, "{:?}", copy.files);
    let record = crate::printing::text_of(&theirs.join(&copy.files[0]));
    assert!(record.contains("Not included") && !record.contains("Penicillin"), "{record}");
}
