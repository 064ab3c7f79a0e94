//! Signed documents: stock GnuPG verifies them; any stored change breaks verification; only doctors sign.

use crate::support::*;
use galen_core::documents::{self, Body, Problem, Verification};
use galen_core::patients::{self, Allergy, Clinical, Demographics, NewPatient, Sex};
use galen_core::{staff, Clinic, Error, Role, Session};
use std::process::Command;

pub(crate) const DOC_PW: &str = "stethoscope lantern river";

pub(crate) fn doctor(clinic: &Clinic, admin: &Session) -> Session {
    let new = staff::NewStaff {
        username: "rui".into(),
        display_name: "Dr Rui Costa".into(),
        role: Role::Doctor,
        licence_number: Some("CRM-12345".into()),
        password: DOC_PW.into(),
    };
    staff::add(clinic, admin, &new).expect("add doctor");
    clinic.login("rui", DOC_PW).expect("doctor signs in")
}

fn patient_with_allergy(clinic: &Clinic, doc: &Session) -> i64 {
    let p = NewPatient {
        demographics: Demographics {
            given_names: "Ana".into(),
            family_name: "Albuquerque".into(),
            sex: Sex::Female,
            date_of_birth: "1980-02-29".into(),
            ..Default::default()
        },
        clinical: Some(Clinical {
            allergies: vec![Allergy {
                substance: "Penicillin".into(),
                severity: "severe".into(),
                reaction: "Hives".into(),
            }],
            ..Default::default()
        }),
    };
    patients::register(clinic, doc, &p, false).expect("register").id
}

pub(crate) fn today(clinic: &Clinic) -> String {
    clinic.now().date().to_string()
}

pub(crate) fn rx(clinic: &Clinic) -> Body {
    let t = today(clinic);
    let line = |med: &str, dose: &str, unit: &str, qty: u32| documents::RxLine {
        medicament: med.into(),
        indication: "Infection".into(),
        dose: dose.into(),
        dose_unit: unit.into(),
        route: "by mouth".into(),
        form: "capsule".into(),
        quantity: qty,
        frequency: 8,
        frequency_unit: "hours".into(),
        duration: 7,
        duration_period: "days".into(),
        valid_until: t.clone(),
        ..Default::default()
    };
    Body::Prescription(documents::Prescription {
        issued_on: t.clone(),
        lines: vec![line("Amoxicillin 500 mg capsule", "500", "mg", 21), line("Paracetamol", "1", "tablet", 20)],
        ..Default::default()
    })
}

pub(crate) fn all_kinds(clinic: &Clinic) -> Vec<Body> {
    let t = today(clinic);
    vec![
        rx(clinic),
        Body::Birth(documents::BirthCertificate {
            mother_name: "Maria Albuquerque".into(),
            date_of_birth: "1980-02-29".into(),
            country: "PT".into(),
            certified_on: t.clone(),
            ..Default::default()
        }),
        Body::SickLeave(documents::SickLeave {
            unfit_from: t.clone(),
            unfit_to: t.clone(),
            restrictions: "No lifting".into(),
            diagnosis: "Lumbago".into(),
            diagnosis_consent: true,
        }),
        Body::Death(documents::DeathCertificate {
            died_at: format!("{t}T08:30"),
            immediate_cause: "Cardiac arrest".into(),
            manner: "natural".into(),
            place: "home".into(),
            country: "PT".into(),
            ..Default::default()
        }),
    ]
}

fn gpg_verify(
    dir: &std::path::Path,
    key: &std::path::Path,
    asc: &std::path::Path,
    json: &std::path::Path,
) -> (bool, String) {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    let gpg = |args: &[&std::ffi::OsStr]| {
        Command::new("gpg").env("GNUPGHOME", &home).arg("--batch").args(args).output().expect("gpg runs")
    };
    let import = gpg(&["--import".as_ref(), key.as_os_str()]);
    assert!(import.status.success(), "gpg imports the doctor's key: {}", String::from_utf8_lossy(&import.stderr));
    let out = gpg(&["--verify".as_ref(), asc.as_os_str(), json.as_os_str()]);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn stock_gnupg_verifies_every_kind_and_rejects_a_changed_byte() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    for body in all_kinds(&clinic) {
        let kind = body.kind();
        let d = documents::create_draft(&clinic, &doc, pid, body).expect("draft");
        let d = documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign");
        assert!(
            matches!(documents::open(&clinic, &doc, d.id).expect("open").verification, Verification::Valid { .. }),
            "{kind}"
        );
        let dir = fx.dir.path().join(kind);
        let files = documents::export(&clinic, &doc, d.id, &dir).expect("export");
        let (ok, said) = gpg_verify(&dir, &files.key, &files.signature, &files.json);
        assert!(ok && said.contains("Good signature"), "{kind}: gpg said {said}");
        assert!(documents::check_signed(
            &std::fs::read(&files.json).expect("json"),
            &std::fs::read_to_string(&files.signature).expect("asc"),
            &std::fs::read_to_string(&files.key).expect("key")
        )
        .is_ok());

        let mut bytes = std::fs::read(&files.json).expect("read json");
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        std::fs::write(&files.json, &bytes).expect("write");
        let (ok, said) = gpg_verify(&dir, &files.key, &files.signature, &files.json);
        assert!(!ok && said.contains("BAD signature"), "{kind}: one changed byte must fail: {said}");
    }
}

/// Someone re-signs a doctor's document with their own key, leaving the doctor named inside: the signature is
/// good, but it is not the doctor's, so Galen refuses it.
#[test]
fn a_document_re_signed_with_another_key_is_refused() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    let body = all_kinds(&clinic).remove(0);
    let d = documents::create_draft(&clinic, &doc, pid, body).expect("draft");
    let d = documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign");
    let dir = fx.dir.path().join("resigned");
    let files = documents::export(&clinic, &doc, d.id, &dir).expect("export");
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg").env("GNUPGHOME", &home).arg("--batch").args(args).output().expect("gpg runs");
        assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    gpg(&["--passphrase", "", "--quick-gen-key", "Mallory <m@example.org>", "ed25519", "sign", "never"]);
    let json = files.json.to_str().expect("utf-8 path");
    let signature = String::from_utf8(gpg(&["--armor", "--detach-sign", "--output", "-", json])).expect("armor");
    let key = String::from_utf8(gpg(&["--armor", "--export", "Mallory"])).expect("armor");
    let bytes = std::fs::read(&files.json).expect("json");
    let refused = documents::check_signed(&bytes, &signature, &key).expect_err("not the doctor's signature");
    assert_eq!(refused, Problem::OtherSigner, "the bytes name another key than the one that signed");
    let doctors_key = std::fs::read_to_string(&files.key).expect("key");
    let refused = documents::check_signed(&bytes, &signature, &doctors_key).expect_err("nor as the doctor's");
    assert!(matches!(refused, Problem::BadSignature(_)), "{refused:?}");
}

#[test]
fn changing_any_stored_field_breaks_verification_naming_the_document() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    let other = register(&clinic, &doc, &patient("Bo", "Berg")).expect("other patient");
    let mut signed = Vec::new();
    for body in all_kinds(&clinic) {
        let d = documents::create_draft(&clinic, &doc, pid, body).expect("draft");
        signed.push((documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign"), ()));
    }
    drop(clinic);
    let tampers: Vec<(&str, String)> = vec![
        (
            "body",
            "UPDATE documents SET body = replace(body, '\"quantity\":21', '\"quantity\":99') WHERE id = ?1".into(),
        ),
        ("body", "UPDATE documents SET body = replace(body, 'Maria', 'Marta') WHERE id = ?1".into()),
        ("body", "UPDATE documents SET body = replace(body, 'Lumbago', 'Flu') WHERE id = ?1".into()),
        ("body", "UPDATE documents SET body = replace(body, 'natural', 'homicide') WHERE id = ?1".into()),
    ];
    let conn = raw_connection(&fx);
    for ((d, ()), (_, sql)) in signed.iter().zip(&tampers) {
        conn.execute(sql, [d.id]).expect("tamper");
    }
    drop(conn);
    let clinic = Clinic::open(fx.vault.clone()).expect("reopen");
    let doc = clinic.login("rui", DOC_PW).expect("doctor signs in again");
    for (d, ()) in &signed {
        match documents::open(&clinic, &doc, d.id).expect("open").verification {
            Verification::Invalid { problem } => assert_eq!(problem, Problem::FieldsChanged, "{}", d.body.kind()),
            other => panic!("document {} ({:?}) still verifies after an edit: {other:?}", d.id, d.body.kind()),
        }
    }

    // Every signed column, one at a time, on fresh documents.
    for column in [
        "signer_name",
        "signer_licence",
        "signed_at",
        "clinic_name",
        "patient_snapshot",
        "canonical",
        "signature",
        "qr_signature",
        "kind",
        "uuid",
        "patient_id",
    ] {
        let d = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
        let d = documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign");
        let sql = match column {
            "kind" => "UPDATE documents SET kind = 'sick_leave' WHERE id = ?1".to_owned(),
            "patient_id" => format!("UPDATE documents SET patient_id = {other} WHERE id = ?1"),
            "uuid" => "UPDATE documents SET uuid = uuid || 'x' WHERE id = ?1".to_owned(),
            "patient_snapshot" => "UPDATE documents SET patient_snapshot = replace(patient_snapshot, 'Ana', 'Ann') WHERE id = ?1".to_owned(),
            "signature" => "UPDATE documents SET signature = replace(signature, substr(signature, 60, 1), CASE substr(signature, 60, 1) WHEN 'A' THEN 'B' ELSE 'A' END) WHERE id = ?1".to_owned(),
            // The stored QR text (format 2): one character changed.
            "qr_signature" => "UPDATE documents SET qr_signature = substr(qr_signature, 1, 99) || CASE substr(qr_signature, 100, 1) WHEN 'A' THEN 'B' ELSE 'A' END || substr(qr_signature, 101) WHERE id = ?1".to_owned(),
            c => format!("UPDATE documents SET {c} = {c} || ' ' WHERE id = ?1"),
        };
        raw_connection(&fx).execute(&sql, [d.id]).expect("tamper");
        match documents::open(&clinic, &doc, d.id).expect("open").verification {
            Verification::Invalid { problem } => match column {
                "kind" => assert_eq!(problem, Problem::KindChanged),
                "patient_id" => assert_eq!(problem, Problem::OtherPatient),
                "signature" | "qr_signature" => {
                    assert!(matches!(problem, Problem::BadSignature(_)), "{column}: {problem:?}")
                }
                _ => assert_eq!(problem, Problem::FieldsChanged, "{column}"),
            },
            other => panic!("editing {column} was not detected: {other:?}"),
        }
    }
}

#[test]
fn only_an_active_doctor_with_the_password_and_acknowledged_warnings_signs() {
    let (_fx, mut clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let nurse = staff_session(&clinic, &admin, "nur", Role::Nurse);
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let pid = patient_with_allergy(&clinic, &doc);

    let draft = documents::create_draft(&clinic, &nurse, pid, rx(&clinic)).expect("a nurse drafts a prescription");
    assert!(matches!(documents::sign(&clinic, &nurse, draft.id, PASSWORD, true), Err(Error::Denied { .. })), "nurse");
    assert!(matches!(documents::sign(&clinic, &rec, draft.id, PASSWORD, true), Err(Error::Denied { .. })), "reception");
    assert!(
        matches!(documents::open(&clinic, &rec, draft.id), Err(Error::Denied { .. })),
        "reception cannot read documents"
    );
    let Err(Error::Invalid(e)) = documents::sign(&clinic, &doc, draft.id, "not my password at all", true) else {
        panic!("wrong password")
    };
    assert_eq!(e.0[0].field, "password");
    match documents::sign(&clinic, &doc, draft.id, DOC_PW, false) {
        Err(Error::WarningsNotAcknowledged(w)) => {
            assert!(
                matches!(&w[0], documents::Warning::Allergy { substance, medicament, .. }
                    if substance == "Penicillin" && medicament.contains("Amoxicillin")),
                "{w:?}"
            )
        }
        other => panic!("the allergy warning must be acknowledged first: {other:?}"),
    }
    let signed = documents::sign(&clinic, &doc, draft.id, DOC_PW, true).expect("acknowledged, the doctor signs");
    assert!(matches!(documents::update_draft(&clinic, &doc, signed.id, rx(&clinic)), Err(Error::AlreadySigned { .. })));

    staff::set_active(&mut clinic, &admin, "rui", false, None).expect("disable the doctor");
    let other = documents::create_draft(&clinic, &nurse, pid, rx(&clinic)).expect("draft");
    assert!(matches!(documents::sign(&clinic, &doc, other.id, DOC_PW, true), Err(Error::AccountDisabled)), "disabled");
    assert!(
        matches!(documents::open(&clinic, &nurse, signed.id).expect("open").verification, Verification::Valid { .. }),
        "a disabled doctor's key still verifies"
    );
}

#[test]
fn corrections_supersede_voids_are_signed_deaths_mark_deceased_and_births_are_one_per_person() {
    let (_fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    let first = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    let first = documents::sign(&clinic, &doc, first.id, DOC_PW, true).expect("sign");
    let fix = documents::correct(&clinic, &doc, first.id).expect("correction draft");
    let fix = documents::sign(&clinic, &doc, fix.id, DOC_PW, true).expect("sign correction");
    assert_eq!(fix.supersedes, Some(first.id));
    assert_eq!(
        documents::open(&clinic, &doc, first.id).expect("old").document.superseded_by,
        Some(fix.id),
        "linked both ways"
    );
    assert!(
        matches!(documents::open(&clinic, &doc, first.id).expect("v").verification, Verification::Valid { .. }),
        "the old one still verifies"
    );

    let notice = documents::void(&clinic, &doc, fix.id, "Wrong patient weight used", DOC_PW).expect("void");
    assert!(matches!(notice.body, Body::Void(_)) && notice.signed);
    assert_eq!(documents::open(&clinic, &doc, fix.id).expect("voided").document.voided_by, Some(notice.id));

    let bodies = all_kinds(&clinic);
    let birth = documents::create_draft(&clinic, &doc, pid, bodies[1].clone()).expect("birth");
    let Err(Error::Invalid(e)) = documents::create_draft(&clinic, &doc, pid, bodies[1].clone()) else {
        panic!("second birth")
    };
    assert_eq!(e.0[0].field, "kind");
    let mut wrong_dob = bodies[1].clone();
    if let Body::Birth(b) = &mut wrong_dob {
        b.date_of_birth = "1981-01-01".into();
    }
    assert!(
        matches!(documents::update_draft(&clinic, &doc, birth.id, wrong_dob), Err(Error::Invalid(_))),
        "DOB must match"
    );
    let death = documents::create_draft(&clinic, &doc, pid, bodies[3].clone()).expect("death");
    documents::sign(&clinic, &doc, death.id, DOC_PW, true).expect("sign death");
    assert!(
        patients::get(&clinic, &doc, pid).expect("patient").deceased,
        "signing a death certificate marks the patient"
    );
}

#[test]
fn a_password_change_reencrypts_the_signing_key_and_keeps_it() {
    let (_fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    let a = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    let a = documents::sign(&clinic, &doc, a.id, DOC_PW, true).expect("sign");
    clinic.change_own_password(&doc, DOC_PW, "a new long doctor passphrase").expect("change");
    let b = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    let b =
        documents::sign(&clinic, &doc, b.id, "a new long doctor passphrase", true).expect("sign with the new password");
    assert_eq!(a.signer.expect("a").fingerprint, b.signer.expect("b").fingerprint, "the same key, re-encrypted");
    let public = documents::doctor_public_key(&clinic, &doc, "rui").expect("export public key");
    assert!(public.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") && !public.contains("PRIVATE"), "{public:.60}");
}

#[test]
fn bad_prescriptions_get_field_messages() {
    let (_fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    let mut body = rx(&clinic);
    if let Body::Prescription(p) = &mut body {
        p.lines[0].dose = "five".into();
        p.lines[0].quantity = 0;
        p.lines[1].frequency = 0;
        p.lines[1].dose_unit = "spoonful".into();
    }
    let Err(Error::Invalid(e)) = documents::create_draft(&clinic, &doc, pid, body) else { panic!("invalid") };
    let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["lines.0.dose", "lines.0.quantity", "lines.1.dose_unit", "lines.1.frequency"]);
}

/// The printed QR, read back by a stock decoder (zbarimg) from a rendered image, verifies with only the doctor's
/// public key; one changed character makes it fail.
#[test]
fn zbarimg_reads_the_qr_and_it_verifies_with_only_the_public_key() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = patient_with_allergy(&clinic, &doc);
    let d = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    let d = documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign");
    let texts = documents::open(&clinic, &doc, d.id).expect("open").qr_texts;
    assert_eq!(texts.len(), 1, "a two-line prescription prints one QR");
    let text = texts[0].clone();
    assert!(text.starts_with("GALEN2:") && text.len() <= documents::qr::PRINT_CHARS, "{} chars", text.len());

    let (n, modules) = documents::qr::modules(&text).expect("encodes");
    let scale = 4;
    let mut pgm = format!("P5 {} {} 255\n", n * scale, n * scale).into_bytes();
    for y in 0..n * scale {
        for x in 0..n * scale {
            pgm.push(if modules[(y / scale) * n + x / scale] { 0 } else { 255 });
        }
    }
    let path = fx.dir.path().join("qr.pgm");
    std::fs::write(&path, pgm).expect("write");
    let out = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(&path).output().expect("zbarimg runs");
    let decoded = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(decoded, text, "zbarimg decodes exactly the QR text");

    let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("public key");
    let contents = documents::qr::verify(&decoded, &key).expect("the QR verifies with the public key alone");
    assert_eq!(
        (contents.document.as_str(), contents.patient.mrn.as_str()),
        (d.uuid.as_str(), patients::get(&clinic, &doc, pid).expect("p").mrn.as_str())
    );
    assert_eq!((contents.signer.name.as_str(), contents.signer.licence.as_str()), ("Dr Rui Costa", "CRM-12345"));

    let mut tampered = decoded.into_bytes();
    let i = tampered.len() / 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let refused = documents::qr::verify(&tampered, &key).expect_err("one changed character must fail");
    assert!(matches!(refused, documents::qr::QrProblem::BadSignature(_)), "{refused:?}");
}

#[test]
fn a_doctors_worklist_holds_every_draft_and_what_they_signed_today() {
    let (_fx, clinic, admin) = new_clinic();
    let rui = doctor(&clinic, &admin);
    let nurse = staff_session(&clinic, &admin, "nina", Role::Nurse);
    let ana = register(&clinic, &rui, &patient("Ana", "Lopes")).expect("patient");
    let signed = documents::create_draft(&clinic, &rui, ana, rx(&clinic)).expect("draft").id;
    documents::sign(&clinic, &rui, signed, DOC_PW, true).expect("signed");
    let by_nurse = documents::create_draft(&clinic, &nurse, ana, rx(&clinic)).expect("a nurse's draft").id;
    let own = documents::create_draft(&clinic, &rui, ana, rx(&clinic)).expect("own draft").id;

    let w = documents::worklist(&clinic, &rui).expect("worklist");
    let ids = |l: &[(documents::Document, patients::Summary)]| l.iter().map(|(d, _)| d.id).collect::<Vec<_>>();
    assert_eq!(ids(&w.drafts), [by_nurse, own], "every draft, oldest first");
    assert_eq!(ids(&w.signed_today), [signed]);
    assert_eq!(w.drafts[0].1.family_name, "Lopes", "each with its patient");
    // Another doctor signed nothing today; a nurse, who cannot sign, has no such list.
    let other = staff_session(&clinic, &admin, "eva", Role::Doctor);
    assert!(documents::worklist(&clinic, &other).expect("worklist").signed_today.is_empty());
    assert!(matches!(documents::worklist(&clinic, &nurse), Err(Error::Denied { .. })));
}
