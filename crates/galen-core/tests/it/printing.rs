//! Printouts, checked with real tools: poppler's pdftotext, pdfinfo, pdffonts, pdfdetach and pdftoppm, and
//! zbar's zbarimg reading the QR and the barcode off the rendered page.

use crate::documents::{all_kinds, doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::documents::{self, Body};
use galen_core::pdf::{self, print, Printout};
use galen_core::settings::{self, Logo, PaperSize};
use galen_core::{audit, Clinic, Error, Role, Session};
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a PDF with line breaks folded to spaces, so wrapped sentences compare whole.
pub(crate) fn text_of(pdf: &Path) -> String {
    run("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), pdf.as_os_str(), "-".as_ref()])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every symbol zbarimg finds on the PDF's pages rendered at 150 dpi, as `TYPE:text`.
fn symbols(pdf: &Path) -> Vec<String> {
    let prefix = pdf.with_extension("");
    run("pdftoppm", &["-r".as_ref(), "150".as_ref(), "-png".as_ref(), pdf.as_os_str(), prefix.as_os_str()]);
    let dir = pdf.parent().expect("parent");
    let stem = prefix.file_name().expect("name").to_string_lossy().into_owned();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            n.starts_with(&format!("{stem}-")) && n.ends_with(".png")
        })
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "pdftoppm wrote pages for {}", pdf.display());
    let out = Command::new("zbarimg").arg("--quiet").args(&pages).output().expect("zbarimg runs");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

fn save(clinic: &Clinic, session: &Session, what: &Printout, dir: &Path, name: &str) -> PathBuf {
    let rendered = pdf::render(clinic, session, what).expect("renders");
    keep(clinic, &rendered, dir, name)
}

pub(crate) fn keep(clinic: &Clinic, rendered: &pdf::Pdf, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    pdf::save(clinic, rendered, &path).expect("the printout is saved");
    // To look at them: GALEN_KEEP_PRINTOUTS=/some/dir cargo test -p galen-core --test it printing
    if let Some(keep) = std::env::var_os("GALEN_KEEP_PRINTOUTS") {
        std::fs::copy(&path, Path::new(&keep).join(name)).expect("keep a copy");
    }
    path
}

/// A patient with a name in a given script, and the birth certificate's date of birth to match.
fn named_patient(clinic: &Clinic, doc: &Session, given: &str, family: &str) -> i64 {
    register(clinic, doc, &patient(given, family)).expect("register")
}

fn sign(clinic: &Clinic, doc: &Session, patient: i64, body: Body) -> documents::Document {
    let d = documents::create_draft(clinic, doc, patient, body).expect("draft");
    documents::sign(clinic, doc, d.id, DOC_PW, true).expect("sign")
}

/// Every layout, for a Latin, a Greek and a Cyrillic name: the text is extractable, the fonts are embedded,
/// and the QR on the page, read by zbarimg at 150 dpi, verifies with the public key alone; one changed
/// character does not.
#[test]
fn every_document_layout_prints_its_text_and_a_qr_that_verifies() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let out = fx.dir.path();
    let names = [("Jürgen", "Müller"), ("Νίκος", "Παπαδόπουλος"), ("Иван", "Иванов")];
    let mut checked = 0;
    for (given, family) in names {
        let pid = named_patient(&clinic, &doc, given, family);
        let mrn = galen_core::patients::get(&clinic, &doc, pid).expect("patient").mrn;
        for body in all_kinds(&clinic) {
            let d = sign(&clinic, &doc, pid, body.clone());
            let path = save(&clinic, &doc, &Printout::Document(d.id), out, &format!("{}-{pid}.pdf", body.kind()));
            let text = text_of(&path);
            let title = match body.kind() {
                "prescription" => "Prescription",
                "birth" => "Birth certificate",
                "death" => "Death certificate",
                _ => "Sick-leave certificate",
            };
            for expected in [title, given, family, mrn.as_str(), "Dr Rui Costa", "Licence CRM-12345", "Clínica Sol"] {
                assert!(text.contains(expected), "{} lacks {expected:?}: {text}", path.display());
            }
            match &body {
                Body::Prescription(p) => {
                    for line in &p.lines {
                        let expected = pdf::Words::EN.rx_line(line);
                        assert!(text.contains(&expected), "{expected:?} in {text}");
                    }
                    assert!(text.contains(
                        "Amoxicillin 500 mg capsule — 500 mg by mouth every 8 hours for 7 days — Qty 21 — Refills 0"
                    ));
                }
                Body::SickLeave(_) => assert!(text.contains("Lumbago (printed with the patient's consent)")),
                Body::Death(_) => assert!(text.contains("Cardiac arrest")),
                Body::Birth(_) => assert!(text.contains("Maria Albuquerque")),
                Body::Void(_) => {}
            }
            assert!(text.contains("Page 1 of 1"), "{text}");
            let fonts = run("pdffonts", &[path.as_os_str()]);
            assert!(fonts.contains("+DejaVuSans") && fonts.contains("yes yes yes"), "embedded subsets: {fonts}");

            let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("key");
            let qr: Vec<String> =
                symbols(&path).into_iter().filter_map(|s| s.strip_prefix("QR-Code:").map(str::to_owned)).collect();
            assert_eq!(qr.len(), 1, "one QR on {}", path.display());
            let summary = documents::qr::verify(&qr[0], &key).expect("the printed QR verifies");
            assert_eq!((summary.document.as_str(), summary.patient.mrn.as_str()), (d.uuid.as_str(), mrn.as_str()));
            let mut tampered = qr[0].clone().into_bytes();
            let i = tampered.len() / 2;
            // Another character of the QR's own alphabet: the text still reads, and its signature must fail.
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).expect("ascii");
            let refused = documents::qr::verify(&tampered, &key).expect_err("one changed character fails");
            assert!(matches!(refused, documents::qr::QrProblem::BadSignature(_)), "{refused:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
}

/// The PDF carries the signed JSON, the signature and the doctor's key (poppler lists them), and `verify_file`
/// checks the file itself: with the doctor's key, with the embedded one, and never with a stranger's.
#[test]
fn a_saved_pdf_verifies_from_its_attachments() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = named_patient(&clinic, &doc, "Ana", "Albuquerque");
    let d = sign(&clinic, &doc, pid, rx(&clinic));
    let path = save(&clinic, &doc, &Printout::Document(d.id), fx.dir.path(), "rx.pdf");
    let listing = run("pdfdetach", &["-list".as_ref(), path.as_os_str()]);
    for name in [format!("{}.json", d.uuid), format!("{}.json.asc", d.uuid), "doctor-".into()] {
        assert!(listing.contains(&name), "{name} is attached: {listing}");
    }
    let bytes = std::fs::read(&path).expect("read");
    let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("key");

    let trusted = pdf::verify_file(&bytes, Some(&key)).expect("verifies with the doctor's key");
    assert!(trusted.trusted_key && trusted.signed.document == d.uuid && trusted.signed.signer.name == "Dr Rui Costa");
    let embedded = pdf::verify_file(&bytes, None).expect("verifies with the embedded key");
    assert!(!embedded.trusted_key);
    assert_eq!(embedded.fingerprint, trusted.fingerprint);

    // Another doctor's key is refused.
    let other = staff_session(&clinic, &admin, "eva", Role::Doctor);
    let other_pid = named_patient(&clinic, &other, "Eva", "Lima");
    sign_with(&clinic, &other, other_pid);
    let stranger = documents::doctor_public_key(&clinic, &other, "eva").expect("eva's key");
    let refused = pdf::verify_file(&bytes, Some(&stranger)).expect_err("another doctor's key");
    assert!(matches!(refused, pdf::FileProblem::Signature(documents::Problem::BadSignature(_))), "{refused:?}");

    // A changed attachment is refused: rebuild the PDF with one word of the JSON altered.
    let files = pdf::attach::extract(&bytes).expect("attachments");
    let tampered: Vec<pdf::attach::Attachment> = files
        .into_iter()
        .map(|(name, b)| {
            let b = if name.ends_with(".json") {
                String::from_utf8(b).expect("json").replace("\"quantity\":21", "\"quantity\":99").into_bytes()
            } else {
                b
            };
            pdf::attach::Attachment { name, mime: "application/octet-stream", bytes: b }
        })
        .collect();
    let forged = pdf::attach::embed(&strip_to_page(&bytes), &tampered).expect("re-embed");
    let err = pdf::verify_file(&forged, Some(&key)).expect_err("a changed quantity is refused");
    assert!(matches!(err, pdf::FileProblem::Signature(_)), "{err}");

    // Garbage and plain PDFs get plain reasons, not panics.
    let garbage = pdf::verify_file(b"not a pdf at all", None).expect_err("garbage");
    assert!(garbage.to_string().contains("not a readable PDF"), "{garbage}");
    let card = save(&clinic, &doc, &Printout::PatientCard(pid), fx.dir.path(), "card.pdf");
    let plain = pdf::verify_file(&std::fs::read(card).expect("read"), None).expect_err("no attachments");
    assert!(plain.to_string().contains("no embedded files"), "{plain}");
}

fn sign_with(clinic: &Clinic, doctor: &Session, pid: i64) {
    let d = documents::create_draft(clinic, doctor, pid, rx(clinic)).expect("draft");
    documents::sign(clinic, doctor, d.id, PASSWORD, true).expect("eva signs");
}

/// The same PDF without its attachments (lopdf drops the catalog's name tree), to re-embed forged ones.
fn strip_to_page(pdf_bytes: &[u8]) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(pdf_bytes).expect("parse");
    doc.catalog_mut().expect("catalog").remove(b"Names");
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// Twenty lines (the most a prescription holds) flow onto further pages, each numbered "Page i of n", the signature block staying whole; the
/// paper size follows the setting; the logo is drawn.
#[test]
fn long_prescriptions_flow_onto_numbered_pages_in_the_chosen_paper_size() {
    let (fx, clinic, admin) = new_clinic();
    let mut s = settings::load(clinic.store()).expect("settings");
    s.paper_size = PaperSize::Letter;
    s.address = "Rua do Sol 1\n1000-001 Lisboa".into();
    s.phone = "+351 21 000 0000".into();
    s.logo = Some(Logo { mime: "image/png".into(), bytes: include_bytes!("logo.png").to_vec() });
    settings::update(&clinic, &admin, &s).expect("settings saved");
    let doc = doctor(&clinic, &admin);
    let pid = named_patient(&clinic, &doc, "Ana", "Albuquerque");
    let Body::Prescription(mut long) = rx(&clinic) else { unreachable!() };
    let template = long.lines[0].clone();
    long.lines = (1..=20)
        .map(|i| documents::RxLine { medicament: format!("Medicine number {i}"), ..template.clone() })
        .collect();
    let d = sign(&clinic, &doc, pid, Body::Prescription(long));
    let path = save(&clinic, &doc, &Printout::Document(d.id), fx.dir.path(), "long.pdf");
    let info = run("pdfinfo", &[path.as_os_str()]);
    let pages: usize =
        info.lines().find_map(|l| l.strip_prefix("Pages:")).and_then(|n| n.trim().parse().ok()).expect("page count");
    assert!(pages >= 2, "twenty lines need more than one page: {info}");
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
    let text = text_of(&path);
    for i in 1..=pages {
        assert!(text.contains(&format!("Page {i} of {pages}")), "page {i} numbered: {text}");
    }
    assert!(text.contains("Medicine number 20") && text.contains("(continued)"));
    assert!(text.contains("Rua do Sol 1") && text.contains("+351 21 000 0000"));
    let images = run("pdfimages", &["-list".as_ref(), path.as_os_str()]);
    assert!(images.contains("60    30"), "the logo is on the page: {images}");

    s.paper_size = PaperSize::A4;
    settings::update(&clinic, &admin, &s).expect("settings saved");
    let a4 = save(&clinic, &doc, &Printout::Document(d.id), fx.dir.path(), "a4.pdf");
    assert!(run("pdfinfo", &[a4.as_os_str()]).contains("595.276 x 841.89 pts (A4)"));
}

/// The ID card and labels carry the name in any script, and zbarimg reads the MRN from the Code 128 barcodes
/// and the card's QR; a receptionist may print them.
#[test]
fn the_patient_card_barcodes_read_back_as_the_mrn() {
    let (fx, clinic, admin) = new_clinic();
    let desk = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    let pid = named_patient(&clinic, &desk, "Νίκος", "Παπαδόπουλος");
    let mrn = galen_core::patients::get(&clinic, &desk, pid).expect("patient").mrn;
    let path = save(&clinic, &desk, &Printout::PatientCard(pid), fx.dir.path(), "card.pdf");
    let text = text_of(&path);
    assert!(text.contains("Νίκος Παπαδόπουλος") && text.contains(&mrn), "{text}");
    let found = symbols(&path);
    assert!(found.contains(&format!("QR-Code:{mrn}")), "{found:?}");
    assert!(found.contains(&format!("CODE-128:{mrn}")), "{found:?}");
}

/// The sheet prints only the clinic's current recovery key; an admin can replace a lost one, after which the
/// old key no longer prints (nor opens anything).
#[test]
fn the_recovery_sheet_prints_only_the_current_key() {
    let (fx, mut clinic, admin) = new_clinic();
    let original = fx.recovery.display_secret().expose().clone();
    let key = galen_core::RecoveryKey::parse(&original).expect("key");
    let sheet = pdf::recovery_sheet(&clinic, &key).expect("the current key prints");
    let path = keep(&clinic, &sheet, fx.dir.path(), "sheet.pdf");
    let text = text_of(&path);
    assert!(
        text.contains(original.as_str()) && text.contains("Recovery key") && text.contains("Clínica Sol"),
        "{text}"
    );

    let wrong = galen_core::RecoveryKey::generate();
    match pdf::recovery_sheet(&clinic, &wrong) {
        Err(Error::Invalid(e)) => assert_eq!(e.0[0].field, "recovery_key"),
        other => panic!("a key that does not open the database must not print: {other:?}"),
    }

    let doc = doctor(&clinic, &admin);
    assert!(matches!(clinic.rotate_key(&doc, DOC_PW), Err(Error::Denied { .. })));
    assert!(matches!(
        clinic.rotate_key(&admin, "not the password"),
        Err(Error::Store(galen_core::StoreError::WrongAdminPassword))
    ));
    let new = clinic.rotate_key(&admin, PASSWORD).expect("a new key");
    assert!(pdf::recovery_sheet(&clinic, &new).is_ok());
    match pdf::recovery_sheet(&clinic, &key) {
        Err(galen_core::Error::Invalid(e)) => assert_eq!(e.0[0].field, "recovery_key", "the replaced key is dead"),
        other => panic!("the replaced key must be refused: {other:?}"),
    }
    assert!(matches!(fx.vault.unlock_with_recovery(&key), Err(galen_core::StoreError::WrongRecoveryKey)));
    assert!(fx.vault.unlock_with_recovery(&new).is_ok());
}

/// Drafts and receptionists get refusals; every save and print is in the audit trail; without a printer or a
/// viewer the print path says where the PDF is, and it is readable only by its owner.
#[test]
fn printing_is_checked_audited_and_explains_itself_without_a_printer() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = named_patient(&clinic, &doc, "Ana", "Albuquerque");
    let draft = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    assert!(matches!(pdf::render(&clinic, &doc, &Printout::Document(draft.id)), Err(Error::Invalid(_))));
    let signed = documents::sign(&clinic, &doc, draft.id, DOC_PW, true).expect("sign");
    let desk = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    assert!(matches!(pdf::render(&clinic, &desk, &Printout::Document(signed.id)), Err(Error::Denied { .. })));
    let rendered = pdf::render(&clinic, &doc, &Printout::Document(signed.id)).expect("renders");
    let txt = fx.dir.path().join("rx.txt");
    assert!(matches!(pdf::save(&clinic, &rendered, &txt), Err(Error::Invalid(_))));
    assert!(!txt.exists(), "nothing written under a wrong name");

    keep(&clinic, &rendered, fx.dir.path(), "rx.pdf");
    let printed = print::print(&clinic, &rendered, &print::Tools::default()).expect("print");
    let print::Route::Saved { message, path } = &printed else { panic!("no tools, no printing: {printed:?}") };
    assert!(message.contains(&path.display().to_string()) && message.contains("No printer"), "{message}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).expect("saved").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "printouts are owner-only");
    }
    assert!(pdf::verify_file(&std::fs::read(path).expect("read"), None).is_ok());

    // A document signed before the QR existed (schema 10 left `qr_signature` empty) prints without one, and its
    // PDF still verifies from the attachments.
    let older = documents::sign(
        &clinic,
        &doc,
        documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft").id,
        DOC_PW,
        true,
    )
    .expect("sign");
    raw_connection(&fx).execute("UPDATE documents SET qr_signature = NULL WHERE id = ?1", [older.id]).expect("sql");
    let old_pdf = save(&clinic, &doc, &Printout::Document(older.id), fx.dir.path(), "pre-qr.pdf");
    assert!(text_of(&old_pdf).contains("signed before Galen printed QR codes"));
    assert!(!symbols(&old_pdf).iter().any(|s| s.starts_with("QR-Code:")), "no QR is drawn");
    assert!(pdf::verify_file(&std::fs::read(&old_pdf).expect("read"), None).is_ok());

    // A voided document still prints, marked void; its signed void notice prints too.
    let notice = documents::void(&clinic, &doc, signed.id, "Wrong dose", DOC_PW).expect("void");
    let voided = text_of(&save(&clinic, &doc, &Printout::Document(signed.id), fx.dir.path(), "voided.pdf"));
    assert!(voided.contains(&format!("VOID — voided by notice {}", notice.uuid)), "{voided}");
    let notice_text = text_of(&save(&clinic, &doc, &Printout::Document(notice.id), fx.dir.path(), "notice.pdf"));
    assert!(notice_text.contains(&format!("Document {} is void and must not be used.", signed.uuid)), "{notice_text}");
    assert!(notice_text.contains("Wrong dose"));

    let log = audit::list(&clinic, &admin, &audit::Query { limit: 200, ..Default::default() }).expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"pdf.save.document") && actions.contains(&"pdf.print.document"), "{actions:?}");
}

/// A prescription printed by an earlier Galen (before printouts spoke other languages: its drawing record names
/// no language) still checks page by page: English pages draw exactly as they always did.
#[test]
fn a_pdf_printed_before_printouts_had_languages_still_checks_page_by_page() {
    let old = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/pdf_verify/prescription.pdf");
    let bytes = std::fs::read(old).expect("the committed prescription (fuzz seed, 2026-12-01)");
    let verified = pdf::verify_file(&bytes, None).expect("it still verifies, pages included");
    assert!(verified.pages >= 1);
}

/// Every printout in the clinic's printout language: each signed document kind, the ID card, the day list, the
/// appointment card, the access report and the recovery sheet, in Portuguese and in Spanish, read back by
/// pdftotext. A Portuguese prescription still checks page by page, and what the doctor typed prints as typed.
#[test]
fn printouts_speak_the_clinics_printout_language() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = named_patient(&clinic, &doc, "Ana", "Albuquerque");
    let mrn = galen_core::patients::get(&clinic, &doc, pid).expect("patient").mrn;
    let today = galen_core::appointments::today(&clinic).expect("today");
    let visit = galen_core::appointments::Booking {
        patient_id: pid,
        doctor_id: doc.user_id(),
        date: today.clone(),
        time: "23:00".into(),
        minutes: 15,
        reason: "Control".into(),
        ..Default::default()
    };
    let booked = galen_core::appointments::book(&clinic, &doc, &visit, None, true).expect("book")[0].id;
    let signed: Vec<_> = all_kinds(&clinic).into_iter().map(|body| sign(&clinic, &doc, pid, body)).collect();
    let out = fx.dir.path();
    let expected: [(&str, [&[&str]; 9]); 2] = [
        (
            "pt",
            [
                &[
                    "Receita médica",
                    "Utente",
                    "N.º de processo",
                    "Emitida em",
                    "Qtd. 21",
                    "a cada 8 horas durante 7 dias",
                    "Assinado eletronicamente por",
                    "Cédula profissional CRM-12345",
                    "Página 1 de 1",
                ],
                &["Certificado de nascimento", "Mãe", "Local de nascimento", "Certificado em"],
                &[
                    "Certificado de incapacidade temporária",
                    "Certifico que examinei o utente",
                    "Lumbago (impresso com o consentimento do utente)",
                    "Restrições",
                ],
                &[
                    "Certificado de óbito",
                    "Causa imediata",
                    "Forma de morte",
                    "Natural",
                    "Domicílio",
                    "Autópsia",
                    "Não",
                ],
                &["Cartão do utente", "Data de nascimento", "DN "],
                &["Lista do dia", "Médico", "1 consulta", "Hora", "Motivo", "Control"],
                &["Cartão de consulta", "A sua consulta", "(15 minutos)", "com Dr Rui Costa"],
                &["Quem acedeu a este processo", "Quando (UTC)", "Resultado", "Feito"],
                &["Chave de recuperação", "O que é", "Onde a guardar", "Guardada em"],
            ],
        ),
        (
            "es",
            [
                &[
                    "Receta médica",
                    "Paciente",
                    "N.º de historia clínica",
                    "Emitida el",
                    "Cant. 21",
                    "cada 8 horas durante 7 días",
                    "Firmado electrónicamente por",
                    "N.º de colegiado CRM-12345",
                    "Página 1 de 1",
                ],
                &["Certificado de nacimiento", "Madre", "Lugar de nacimiento"],
                &["Certificado de incapacidad temporal", "Certifico que he examinado al paciente", "Restricciones"],
                &["Certificado de defunción", "Causa inmediata", "Forma de muerte", "Domicilio", "Autopsia"],
                &["Tarjeta del paciente", "Fecha de nacimiento", "FN "],
                &["Lista del día", "1 cita", "Teléfono"],
                &["Tarjeta de cita", "Su cita", "con Dr Rui Costa"],
                &["Quién accedió a esta historia", "Cuándo (UTC)", "Hecho"],
                &["Clave de recuperación", "Qué es", "Dónde guardarla"],
            ],
        ),
    ];
    for (language, want) in expected {
        let mut s = galen_core::settings::load(clinic.store()).expect("settings");
        s.printout_language = language.into();
        galen_core::settings::update(&clinic, &admin, &s).expect("the printout language is a setting");
        let mut printed: Vec<(String, PathBuf)> = Vec::new();
        for d in &signed {
            let name = format!("{language}-{}.pdf", d.body.kind());
            printed.push((name.clone(), save(&clinic, &doc, &Printout::Document(d.id), out, &name)));
        }
        for (what, name) in [
            (Printout::PatientCard(pid), "card"),
            (Printout::DayList { date: today.clone(), doctor_id: doc.user_id() }, "day-list"),
            (Printout::AppointmentCard(booked), "appointment-card"),
        ] {
            let name = format!("{language}-{name}.pdf");
            printed.push((name.clone(), save(&clinic, &doc, &what, out, &name)));
        }
        let name = format!("{language}-access-report.pdf");
        printed.push((name.clone(), save(&clinic, &admin, &Printout::AccessReport(mrn.clone()), out, &name)));
        let sheet = pdf::recovery_sheet(&clinic, &fx.recovery).expect("sheet");
        let name = format!("{language}-recovery-sheet.pdf");
        std::fs::write(out.join(&name), &sheet.bytes).expect("write the sheet");
        if let Some(keep) = std::env::var_os("GALEN_KEEP_PRINTOUTS") {
            std::fs::write(Path::new(&keep).join(&name), &sheet.bytes).expect("keep a copy");
        }
        printed.push((name.clone(), out.join(&name)));
        for ((name, path), words) in printed.iter().zip(want) {
            let text = text_of(path);
            for w in words {
                assert!(text.contains(w), "{name} lacks {w:?}:\n{text}");
            }
            assert!(!text.contains("Page 1 of"), "{name} is not in English: {text}");
        }
        // The Portuguese prescription checks page by page: its drawing record names its language.
        let bytes = std::fs::read(&printed[0].1).expect("the prescription");
        pdf::verify_file(&bytes, None).expect("a printout in another language verifies, pages included");
    }
}
