//! The printed QR (format 2, docs/qr-format.md) and the printed page, checked with real tools: poppler's
//! pdftoppm and pdftotext, zbar's zbarimg, ImageMagick's convert, lopdf editing a page as a forger would, and
//! stock gpg making a format-1 QR.

use crate::documents::{doctor, today, DOC_PW};
use crate::support::*;
use galen_core::documents::wording::Words;
use galen_core::documents::{self, qr, Body, RxLine};
use galen_core::pdf::{self, FileProblem, Printout};
use galen_core::{Clinic, Session};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of a PDF with line breaks folded to spaces.
fn text_of(pdf: &Path) -> String {
    run("pdftotext", &["-enc".as_ref(), "UTF-8".as_ref(), pdf.as_os_str(), "-".as_ref()])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Page `page` of a PDF rendered at 150 dpi, as a PNG.
fn render_page(pdf: &Path, page: usize) -> PathBuf {
    let prefix = pdf.with_extension(format!("p{page}"));
    let n = page.to_string();
    run(
        "pdftoppm",
        &[
            "-r".as_ref(),
            "150".as_ref(),
            "-f".as_ref(),
            n.as_ref(),
            "-l".as_ref(),
            n.as_ref(),
            "-singlefile".as_ref(),
            "-png".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
    );
    PathBuf::from(format!("{}.png", prefix.display()))
}

/// What zbarimg reads off a picture, one `TYPE:text` a symbol.
fn scan(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg").arg("--quiet").arg(png).output().expect("zbarimg runs");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

fn line(medicament: &str, form: &str, dose: &str, unit: &str, qty: u32, today: &str) -> RxLine {
    RxLine {
        medicament: medicament.into(),
        indication: "Community-acquired pneumonia".into(),
        dose: dose.into(),
        dose_unit: unit.into(),
        route: "by mouth".into(),
        form: form.into(),
        quantity: qty,
        frequency: 8,
        frequency_unit: "hours".into(),
        duration: 7,
        duration_period: "days".into(),
        refills: 1,
        allow_substitution: true,
        valid_until: today.into(),
        comment: "Take with food".into(),
        prn: false,
    }
}

/// A prescription of `n` realistic lines (medicines with strength, their form, indication, comment); the first
/// is "Amoxicillin 500 mg … Qty 21", and one says "Qty 90" (so the page's bold face can draw "99").
fn prescription(clinic: &Clinic, n: usize) -> Body {
    let t = today(clinic);
    let pool = [
        ("Amoxicillin 500 mg", "capsule", "500", "mg", 21),
        ("Clarithromycin 250 mg", "tablet", "250", "mg", 14),
        ("Paracetamol 1 g", "tablet", "1", "g", 20),
        ("Ibuprofen 400 mg", "tablet", "400", "mg", 90),
        ("Omeprazole 20 mg", "gastro-resistant capsule", "20", "mg", 28),
        ("Salbutamol 100 micrograms/dose", "pressurised inhaler", "200", "mcg", 1),
        ("Cetirizine 10 mg", "tablet", "10", "mg", 30),
        ("Folic acid 400 micrograms", "tablet", "0.4", "mg", 90),
        ("Metformin 850 mg", "prolonged-release tablet", "850", "mg", 60),
        ("Amlodipine 5 mg", "tablet", "5", "mg", 30),
    ];
    let lines = (0..n)
        .map(|i| {
            let (m, f, d, u, q) = pool[i % pool.len()];
            let m = if i < pool.len() { m.to_owned() } else { format!("{m} (course {})", i / pool.len() + 1) };
            line(&m, f, d, u, q, &t)
        })
        .collect();
    Body::Prescription(documents::Prescription { issued_on: t, lines, ..Default::default() })
}

fn sign(clinic: &Clinic, doc: &Session, patient: i64, body: Body) -> documents::Document {
    let d = documents::create_draft(clinic, doc, patient, body).expect("draft");
    documents::sign(clinic, doc, d.id, DOC_PW, true).expect("sign")
}

fn save_pdf(clinic: &Clinic, doc: &Session, id: i64, dir: &Path, name: &str) -> PathBuf {
    let rendered = pdf::render(clinic, doc, &Printout::Document(id)).expect("renders");
    let path = dir.join(name);
    pdf::save(clinic, &rendered, &path).expect("saved");
    // To look at them: GALEN_KEEP_PRINTOUTS=/some/dir cargo test -p galen-core --test it qr::
    if let Some(keep) = std::env::var_os("GALEN_KEEP_PRINTOUTS") {
        std::fs::copy(&path, Path::new(&keep).join(name)).expect("keep a copy");
    }
    path
}

/// The width, in points, of each QR symbol a PDF's pages draw: the extent of the dark modules painted inside each
/// white square (`1 g … re f`, the QR with its quiet zone).
fn qr_symbols(pdf: &[u8]) -> Vec<f32> {
    let doc = lopdf::Document::load_mem(pdf).expect("parse");
    let mut out = Vec::new();
    for (_, page) in doc.get_pages() {
        let content = lopdf::content::Content::decode(&plain_content(&doc, page)).expect("ops");
        let mut grey = 0.0;
        let mut square: Option<(f32, f32, f32)> = None;
        let mut extent = (f32::MAX, f32::MIN);
        for op in &content.operations {
            let num = |i: usize| op.operands.get(i).and_then(|o| o.as_float().ok()).unwrap_or(0.0);
            match op.operator.as_str() {
                "g" => grey = num(0),
                "re" if grey == 1.0 && num(2) > 50.0 && (num(2) - num(3)).abs() < 0.01 => {
                    if square.is_some() {
                        out.push(extent.1 - extent.0);
                    }
                    square = Some((num(0), num(1), num(2)));
                    extent = (f32::MAX, f32::MIN);
                }
                "re" if grey == 0.0 => {
                    if let Some((x, y, side)) = square {
                        let (rx, ry) = (num(0), num(1));
                        if rx >= x && rx < x + side && ry >= y && ry < y + side {
                            extent = (extent.0.min(rx), extent.1.max(rx + num(2)));
                        }
                    }
                }
                _ => {}
            }
        }
        if square.is_some() {
            out.push(extent.1 - extent.0);
        }
    }
    out
}

/// A page's content streams, decoded and joined.
fn plain_content(doc: &lopdf::Document, page: lopdf::ObjectId) -> Vec<u8> {
    doc.get_page_contents(page)
        .into_iter()
        .flat_map(|id| {
            doc.get_object(id).and_then(|o| o.as_stream()).expect("stream").get_plain_content().expect("plain")
        })
        .collect()
}

const MM: f32 = 72.0 / 25.4;

/// A six-line prescription prints as one QR, 50 mm wide or less, that zbarimg reads off the page rendered at
/// 150 dpi, and off that render blurred and turned 3 degrees; the QR verifies with the doctor's public key alone
/// and lists every line, worded as the page words it and in the page's order.
#[test]
fn a_six_line_prescription_prints_one_qr_that_zbarimg_reads_blurred_and_turned() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana Sofia", "Albuquerque Magalhães")).expect("register");
    let body = prescription(&clinic, 6);
    let d = sign(&clinic, &doc, pid, body.clone());
    let texts = documents::open(&clinic, &doc, d.id).expect("open").qr_texts;
    assert_eq!(texts.len(), 1, "six lines print as one QR: {texts:?}");
    let text = &texts[0];
    assert!(text.starts_with("GALEN2:") && text.len() <= qr::PRINT_CHARS, "{} chars", text.len());
    assert!(qr::version(text).expect("encodes") <= 15, "version {:?}", qr::version(text));

    let path = save_pdf(&clinic, &doc, d.id, fx.dir.path(), "six-lines.pdf");
    let bytes = std::fs::read(&path).expect("read");
    let symbols = qr_symbols(&bytes);
    assert_eq!(symbols.len(), 1, "one QR drawn: {symbols:?}");
    assert!(symbols[0] > 40.0 * MM && symbols[0] <= 50.0 * MM + 0.01, "the QR is {} mm wide", symbols[0] / MM);

    let page = render_page(&path, 1);
    assert_eq!(scan(&page), vec![format!("QR-Code:{text}")], "zbarimg reads the QR off the page at 150 dpi");
    let worn = fx.dir.path().join("six-lines-blurred-turned.png");
    run(
        "convert",
        &[page.as_os_str(), "-blur".as_ref(), "0x1".as_ref(), "-rotate".as_ref(), "3".as_ref(), worn.as_os_str()],
    );
    assert_eq!(scan(&worn), vec![format!("QR-Code:{text}")], "and off that page blurred and turned 3 degrees");
    if let Some(keep) = std::env::var_os("GALEN_KEEP_PRINTOUTS") {
        std::fs::copy(&page, Path::new(&keep).join("six-lines.png")).expect("keep");
        std::fs::copy(&worn, Path::new(&keep).join("six-lines-worn.png")).expect("keep");
    }

    let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("public key");
    let report = qr::report(text, &[key.as_str()], Words::EN);
    let verified = report.verdict.expect("the QR verifies with the public key alone");
    assert_eq!(verified.format, 2);
    let mrn = galen_core::patients::get(&clinic, &doc, pid).expect("patient").mrn;
    let value = |id: &str| report.fields.iter().find(|f| f.id == id).map(|f| f.value.clone()).unwrap_or_default();
    assert_eq!(value("patient"), "Ana Sofia Albuquerque Magalhães");
    assert_eq!(value("mrn"), mrn);
    assert_eq!(value("date_of_birth"), "1980-02-29");
    assert_eq!(value("signed_by"), "Dr Rui Costa");
    assert_eq!(value("licence"), "CRM-12345");
    assert_eq!(value("document"), d.uuid);
    assert_eq!(value("issued_on"), today(&clinic));
    assert_eq!(value("lines"), "6 of 6 (all in this QR)");
    let Body::Prescription(rx) = &body else { unreachable!() };
    let lines: Vec<_> = report.fields.iter().filter(|f| f.id == "line").collect();
    assert_eq!(lines.len(), 6, "every line is in the QR");
    let page_text = text_of(&path);
    let mut at = 0;
    for (i, (f, l)) in lines.iter().zip(&rx.lines).enumerate() {
        assert_eq!(f.label, format!("Line {}", i + 1));
        let printed = pdf::Words::EN.rx_line(l);
        assert!(f.value.starts_with(&printed), "line {} as printed: {} / {}", i + 1, f.value, printed);
        for part in ["Valid until", "Generic substitution allowed", &format!("Form: {}", l.form)] {
            assert!(f.value.contains(part), "{part} in {}", f.value);
        }
        let found = page_text[at..].find(&printed).map(|p| p + at);
        at = found.unwrap_or_else(|| panic!("line {} is on the page after the previous one: {printed}", i + 1));
    }
    assert!(lines[0].value.contains("Qty 21 — Refills 1"), "{}", lines[0].value);
    // The fields come in the paper's order: patient, the document's own fields, the signature block, the id.
    let order: Vec<&str> = report.fields.iter().map(|f| f.id).filter(|id| *id != "line").collect();
    assert_eq!(
        order,
        [
            "kind",
            "patient",
            "mrn",
            "date_of_birth",
            "issued_on",
            "lines",
            "signed_by",
            "licence",
            "signed_at",
            "document",
            "sha256"
        ]
    );
    let canonical = documents::export(&clinic, &doc, d.id, fx.dir.path()).expect("export").json;
    let sha = sha256_hex(&std::fs::read(canonical).expect("json"));
    assert_eq!(value("sha256"), sha, "the QR binds the exported JSON");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes))
}

/// Changing any one character of a printed QR's text makes it fail: every position, to another character of
/// the QR's alphabet; and a verified QR's contents are never shown when it fails.
#[test]
fn a_qr_with_any_one_character_changed_fails() {
    let (_fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Lima")).expect("register");
    let d = sign(&clinic, &doc, pid, prescription(&clinic, 6));
    let text = documents::open(&clinic, &doc, d.id).expect("open").qr_texts.remove(0);
    let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("public key");
    assert!(qr::verify(&text, &key).is_ok());
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut accepted = Vec::new();
    for i in 0..text.len() {
        for shift in [1, 22] {
            let mut t = text.clone().into_bytes();
            let k = ALPHABET.iter().position(|&c| c == t[i]).expect("base45");
            t[i] = ALPHABET[(k + shift) % ALPHABET.len()];
            let t = String::from_utf8(t).expect("ascii");
            let report = qr::report(&t, &[key.as_str()], Words::EN);
            if report.verdict.is_ok() {
                accepted.push(i);
            }
            assert!(report.verdict.is_ok() || report.fields.is_empty(), "no fields shown for a failing QR");
        }
    }
    assert!(accepted.is_empty(), "positions whose change still verified: {accepted:?} of {}", text.len());
    // A stranger's key, an unknown version and an overlong text fail with their own reasons.
    let other = qr::report(&text, &[], Words::EN);
    assert!(matches!(other.verdict, Err(qr::QrProblem::BadSignature(_))), "{:?}", other.verdict);
    let v3 = text.replacen("GALEN2:", "GALEN3:", 1);
    assert!(matches!(qr::verify(&v3, &key), Err(qr::QrProblem::UnknownFormat(_))));
    let long = format!("GALEN2:{}", "0".repeat(qr::MAX_CHARS));
    assert_eq!(qr::verify(&long, &key), Err(qr::QrProblem::TooLong));
}

/// Glyph codes of each font a page uses, from their ToUnicode maps: font resource name → (code → char).
fn glyphs(doc: &lopdf::Document, page: lopdf::ObjectId) -> HashMap<Vec<u8>, HashMap<u16, char>> {
    let mut out = HashMap::new();
    for (name, font) in doc.get_page_fonts(page).expect("fonts") {
        let Ok(id) = font.get(b"ToUnicode").and_then(|o| o.as_reference()) else { continue };
        let cmap = doc.get_object(id).and_then(|o| o.as_stream().cloned()).expect("cmap");
        let cmap = String::from_utf8_lossy(&cmap.get_plain_content().expect("plain")).into_owned();
        let mut map = HashMap::new();
        for l in cmap.lines() {
            let hex: Vec<&str> = l.split_whitespace().collect();
            if let [code, unicode] = hex[..] {
                let parse = |s: &str| u32::from_str_radix(s.trim_matches(['<', '>']), 16).ok();
                if let (Some(c), Some(u)) = (parse(code), parse(unicode)) {
                    if code.starts_with('<') && unicode.starts_with('<') {
                        map.insert(c as u16, char::from_u32(u).expect("char"));
                    }
                }
            }
        }
        out.insert(name, map);
    }
    out
}

/// What a forger does with lopdf: replaces `from` with `to` wherever a text-showing operator on the page draws it,
/// re-encoding the glyphs through the fonts' own maps, and keeps everything else (attachments included).
/// Returns the new file and how many places changed.
fn edit_page_text(pdf: &[u8], from: &str, to: &str) -> (Vec<u8>, usize) {
    let mut doc = lopdf::Document::load_mem(pdf).expect("parse");
    let mut changed = 0;
    for (_, page) in doc.get_pages() {
        let fonts = glyphs(&doc, page);
        for id in doc.get_page_contents(page) {
            let stream = doc.get_object(id).and_then(|o| o.as_stream().cloned()).expect("stream");
            let mut content =
                lopdf::content::Content::decode(&stream.get_plain_content().expect("plain")).expect("ops");
            let mut font = Vec::new();
            for op in &mut content.operations {
                match op.operator.as_str() {
                    "Tf" => font = op.operands[0].as_name().expect("font").to_vec(),
                    "Tj" => {
                        let map = &fonts[&font];
                        let lopdf::Object::String(bytes, _) = &mut op.operands[0] else { continue };
                        let text: String = bytes.chunks(2).map(|c| map[&u16::from_be_bytes([c[0], c[1]])]).collect();
                        if !text.contains(from) {
                            continue;
                        }
                        let reverse: HashMap<char, u16> = map.iter().map(|(k, v)| (*v, *k)).collect();
                        *bytes = text
                            .replace(from, to)
                            .chars()
                            .flat_map(|c| {
                                reverse.get(&c).unwrap_or_else(|| panic!("{c:?} is in the font")).to_be_bytes()
                            })
                            .collect();
                        changed += 1;
                    }
                    _ => {}
                }
            }
            let mut stream = stream;
            stream.set_plain_content(content.encode().expect("encode"));
            doc.objects.insert(id, lopdf::Object::Stream(stream));
        }
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    (out, changed)
}

/// A PDF's attachments, to embed again.
fn pdf_files(pdf: &[u8]) -> Vec<pdf::attach::Attachment> {
    pdf::attach::extract(pdf)
        .expect("attachments")
        .into_iter()
        .map(|(name, bytes)| pdf::attach::Attachment { name, mime: "application/octet-stream", bytes })
        .collect()
}

/// The same PDF with another file's attachments: its own name tree dropped, the other's files embedded.
fn with_attachments_of(pdf: &[u8], other: &[u8]) -> Vec<u8> {
    let files = pdf::attach::extract(other).expect("attachments");
    let mut doc = lopdf::Document::load_mem(pdf).expect("parse");
    doc.catalog_mut().expect("catalog").remove(b"Names");
    let mut stripped = Vec::new();
    doc.save_to(&mut stripped).expect("save");
    let files: Vec<_> = files
        .into_iter()
        .map(|(name, bytes)| pdf::attach::Attachment { name, mime: "application/octet-stream", bytes })
        .collect();
    pdf::attach::embed(&stripped, &files).expect("embed")
}

/// `verify FILE.pdf` checks what is drawn: a genuine file is valid; "Qty 21" changed to "Qty 99" in the page's
/// content stream, the attachments kept, fails naming the page while pdftotext shows 99; another prescription's
/// attachments swapped in fail; a file without the record of how it was drawn cannot be checked.
#[test]
fn verify_file_fails_when_the_drawn_page_is_not_what_was_signed() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Lima")).expect("register");
    let d = sign(&clinic, &doc, pid, prescription(&clinic, 6));
    let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("key");
    let path = save_pdf(&clinic, &doc, d.id, fx.dir.path(), "genuine.pdf");
    let genuine = std::fs::read(&path).expect("read");

    let ok = pdf::verify_file(&genuine, Some(&key)).expect("a genuine file is valid");
    assert_eq!((ok.pages, ok.signed.document.as_str()), (1, d.uuid.as_str()));
    assert!(pdf::verify_file(&genuine, None).is_ok(), "with the key it carries too");
    // Drawing is deterministic: printing again gives the same file.
    let again = std::fs::read(save_pdf(&clinic, &doc, d.id, fx.dir.path(), "again.pdf")).expect("read");
    assert!(again == genuine, "the same document prints byte for byte the same");

    let (forged, changed) = edit_page_text(&genuine, "Qty 21", "Qty 99");
    assert_eq!(changed, 1, "one place on the page says Qty 21");
    let forged_path = fx.dir.path().join("forged.pdf");
    std::fs::write(&forged_path, &forged).expect("write");
    let text = text_of(&forged_path);
    assert!(text.contains("Qty 99") && !text.contains("Qty 21"), "the forged page reads 99: {text}");
    assert_eq!(pdf::attach::extract(&forged), pdf::attach::extract(&genuine), "the attachments are untouched");
    let err = pdf::verify_file(&forged, Some(&key)).expect_err("an edited page fails");
    assert_eq!(err, FileProblem::PageDiffers(1));
    assert_eq!(err.to_string(), "the printed page 1 differs from what was signed");
    assert_eq!(pdf::verify_file(&forged, None).expect_err("with the embedded key too"), FileProblem::PageDiffers(1));
    // The same edit made to a copy the forger did not touch otherwise: lopdf's rewrite alone is not a change.
    let (rewritten, none) = edit_page_text(&genuine, "no such text", "x");
    assert_eq!(none, 0);
    assert!(pdf::verify_file(&rewritten, Some(&key)).is_ok(), "a re-saved but unchanged file is still valid");

    // Another prescription for the same patient, its attachments swapped into this file.
    let Body::Prescription(mut other) = prescription(&clinic, 6) else { unreachable!() };
    other.lines[0].quantity = 99;
    let d2 = sign(&clinic, &doc, pid, Body::Prescription(other));
    let other_pdf = std::fs::read(save_pdf(&clinic, &doc, d2.id, fx.dir.path(), "other.pdf")).expect("read");
    assert!(pdf::verify_file(&other_pdf, Some(&key)).is_ok());
    let swapped = with_attachments_of(&genuine, &other_pdf);
    let err = pdf::verify_file(&swapped, Some(&key)).expect_err("another document's attachments fail");
    assert_eq!(err, FileProblem::PageDiffers(1), "{err}");
    // And the forged page (Qty 99) with the attachments of the document that does say 99 fails too: the rest of
    // the page (its id, its QR) is not that document's.
    let err = pdf::verify_file(&with_attachments_of(&forged, &other_pdf), Some(&key)).expect_err("still fails");
    assert_eq!(err, FileProblem::PageDiffers(1), "{err}");

    // The record of how the pages were drawn is what they are drawn again from: on other paper they differ.
    let files: Vec<_> = pdf::attach::extract(&genuine)
        .expect("files")
        .into_iter()
        .map(|(name, bytes)| {
            let bytes = if name == pdf::drawing::NAME {
                String::from_utf8(bytes).expect("json").replace("\"a4\"", "\"letter\"").into_bytes()
            } else {
                bytes
            };
            pdf::attach::Attachment { name, mime: "application/octet-stream", bytes }
        })
        .collect();
    let mut bare = lopdf::Document::load_mem(&genuine).expect("parse");
    bare.catalog_mut().expect("catalog").remove(b"Names");
    let mut stripped = Vec::new();
    bare.save_to(&mut stripped).expect("save");
    let relettered = pdf::attach::embed(&stripped, &files).expect("embed");
    assert_ne!(relettered, pdf::attach::embed(&stripped, &pdf_files(&genuine)).expect("embed"), "the record changed");
    let err = pdf::verify_file(&relettered, Some(&key)).expect_err("a record of other paper fails");
    assert!(matches!(err, FileProblem::PageDiffers(1) | FileProblem::PageCount { .. }), "{err}");

    // Without the record of how the pages were drawn, the file cannot be checked (and says so).
    let files: Vec<_> = pdf::attach::extract(&genuine)
        .expect("files")
        .into_iter()
        .filter(|(n, _)| n != pdf::drawing::NAME)
        .map(|(name, bytes)| pdf::attach::Attachment { name, mime: "application/octet-stream", bytes })
        .collect();
    let mut bare = lopdf::Document::load_mem(&genuine).expect("parse");
    bare.catalog_mut().expect("catalog").remove(b"Names");
    let mut stripped = Vec::new();
    bare.save_to(&mut stripped).expect("save");
    let unrecorded = pdf::attach::embed(&stripped, &files).expect("embed");
    assert_eq!(pdf::verify_file(&unrecorded, Some(&key)).expect_err("unrecorded"), FileProblem::NoDrawing);
}

/// A prescription too long for one QR prints one QR a page, each naming its lines, and together they carry every
/// line once; zbarimg reads each off its page. Also measures what docs/qr-format.md reports (run with
/// --nocapture to see it).
#[test]
fn long_prescriptions_split_over_qrs_that_each_name_their_lines() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Lima")).expect("register");
    for n in [1, 6, 8, 10, 12, 20] {
        let d = sign(&clinic, &doc, pid, prescription(&clinic, n));
        let texts = documents::open(&clinic, &doc, d.id).expect("open").qr_texts;
        let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("key");
        let mut next = 1;
        for t in &texts {
            let c = qr::verify(t, &key).expect("each QR verifies");
            let Some(qr::Details::Prescription { range, lines, .. }) = c.details else { panic!("a prescription") };
            assert_eq!(
                (range.first, range.total as usize, lines.len()),
                (next, n, (range.last - range.first + 1) as usize)
            );
            next = range.last + 1;
            eprintln!(
                "{n:>2} lines: QR lines {}-{}: {} chars, version {}, {:.1} mm",
                range.first,
                range.last,
                t.len(),
                qr::version(t).unwrap_or(0),
                (qr::version(t).unwrap_or(0) * 4 + 17).max(77) as f32 * 50.0 / 77.0
            );
        }
        assert_eq!(next as usize, n + 1, "every line once, in order");
        if texts.len() > 1 {
            let path = save_pdf(&clinic, &doc, d.id, fx.dir.path(), &format!("rx-{n}.pdf"));
            let bytes = std::fs::read(&path).expect("read");
            assert!(pdf::verify_file(&bytes, Some(&key)).is_ok(), "a split prescription's file verifies");
            let text = text_of(&path);
            let mut scanned = Vec::new();
            for p in 1..=lopdf::Document::load_mem(&bytes).expect("parse").get_pages().len() {
                let png = render_page(&path, p);
                scanned.extend(scan(&png).into_iter().filter_map(|s| s.strip_prefix("QR-Code:").map(str::to_owned)));
            }
            assert_eq!(scanned, texts, "zbarimg reads each QR, in order, one a page");
            for (k, t) in texts.iter().enumerate() {
                let c = qr::verify(t, &key).expect("verifies");
                let Some(qr::Details::Prescription { range, .. }) = c.details else { unreachable!() };
                let label = format!("QR {} of {}: lines {}–{} of {}", k + 1, texts.len(), range.first, range.last, n);
                assert!(text.contains(&label), "{label} on the page");
                let listed = qr::report(t, &[key.as_str()], Words::EN);
                let lines = listed.fields.iter().find(|f| f.id == "lines").map(|f| f.value.as_str());
                let expected =
                    format!("{}–{} of {n} in this QR (the others are in other QRs)", range.first, range.last);
                assert_eq!(lines, Some(expected.as_str()), "a verifier says which lines this QR carries");
                // In the reader's language, as their paper words it.
                let pt = qr::report(t, &[key.as_str()], Words::of("pt"));
                let worded =
                    |id: &str| pt.fields.iter().find(|f| f.id == id).map(|f| f.value.clone()).unwrap_or_default();
                assert_eq!(worded("kind"), "Receita médica");
                assert!(
                    worded("lines").ends_with(&format!("de {n} neste QR (as outras estão noutros QR)")),
                    "{}",
                    worded("lines")
                );
                assert!(worded("line").contains("Qtd."), "{}", worded("line"));
            }
        }
    }
}

/// Runs gpg with a private home in `dir`; its exit status and everything it printed.
fn gpg(dir: &Path, args: &[&str]) -> (bool, String) {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("home");
    let out = Command::new("gpg").env("GNUPGHOME", &home).arg("--batch").args(args).output().expect("gpg runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The QR's compact signature is a standard OpenPGP signature with its fixed parts left out: rebuilt, stock gpg
/// verifies it over the QR's payload with the doctor's exported key, and not over a changed payload.
#[test]
fn stock_gpg_verifies_the_qr_signature_rebuilt() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Lima")).expect("register");
    let d = sign(&clinic, &doc, pid, prescription(&clinic, 2));
    let text = documents::open(&clinic, &doc, d.id).expect("open").qr_texts.remove(0);
    let key = documents::doctor_public_key(&clinic, &doc, "rui").expect("public key");
    let (payload, signature) = qr::openpgp_parts(&text, &key).expect("the QR's signature rebuilds");
    let dir = fx.dir.path();
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).expect("write");
        p.display().to_string()
    };
    let (key_file, sig_file, payload_file) =
        (file("doctor.asc", key.as_bytes()), file("qr.sig", &signature), file("qr.payload", &payload));
    let (imported, out) = gpg(dir, &["--import", &key_file]);
    assert!(imported, "{out}");
    let (good, out) = gpg(dir, &["--verify", &sig_file, &payload_file]);
    assert!(good && out.contains("Good signature") && out.contains("Dr Rui Costa"), "{out}");
    let mut changed = payload.clone();
    changed[payload.len() / 2] ^= 1;
    let changed_file = file("qr.changed", &changed);
    let (bad, out) = gpg(dir, &["--verify", &sig_file, &changed_file]);
    assert!(!bad && out.contains("BAD signature"), "{out}");
}

/// A format-1 QR (`GALEN1:`, printed before format 2) is still read: one made with stock gpg over the summary
/// verifies and lists its fields; a changed character fails, and so does a summary naming another key.
#[test]
fn a_format_1_qr_made_with_stock_gpg_is_still_read() {
    let dir = tempfile::tempdir().expect("dir");
    let dir = dir.path();
    let (made, out) =
        gpg(dir, &["--passphrase", "", "--quick-gen-key", "Dr Old <old@example.org>", "ed25519", "sign", "never"]);
    assert!(made, "{out}");
    let (_, listing) = gpg(dir, &["--with-colons", "--list-keys"]);
    let fingerprint = listing.lines().find_map(|l| l.strip_prefix("fpr:")).expect("fpr").trim_matches(':').to_owned();
    let (_, key) = gpg(dir, &["--armor", "--export", &fingerprint]);
    let key = key[key.find("-----BEGIN").expect("armored")..].to_owned();
    let sha = data_encoding::BASE64URL_NOPAD.encode(&[7u8; 32]);
    // RFC 8785: keys in order, no spaces (all ASCII here).
    let summary = format!(
        "{{\"at\":\"2025-06-01T10:00:00Z\",\"doc\":\"0190a2b4-0000-7000-8000-000000000001\",\"key\":\"{fingerprint}\",\
         \"kind\":\"prescription\",\"mrn\":\"SOL-0000001X\",\"patient\":\"Ana Lima\",\"sha256\":\"{sha}\",\
         \"signer\":\"Dr Old (CRM-1)\",\"v\":1}}"
    );
    let summary_file = dir.join("summary.json");
    std::fs::write(&summary_file, &summary).expect("write");
    let sig_file = dir.join("summary.sig");
    let (signed, out) = gpg(
        dir,
        &["--detach-sign", "--output", sig_file.to_str().expect("utf8"), summary_file.to_str().expect("utf8")],
    );
    assert!(signed, "{out}");
    let b64 = |b: &[u8]| data_encoding::BASE64URL_NOPAD.encode(b);
    let text = format!("GALEN1:{}.{}", b64(summary.as_bytes()), b64(&std::fs::read(&sig_file).expect("sig")));

    let report = qr::report(&text, &[key.as_str()], Words::EN);
    let verified = report.verdict.as_ref().expect("a format-1 QR still verifies");
    assert_eq!((verified.format, verified.fingerprint.as_str()), (1, fingerprint.as_str()));
    let fields: Vec<(&str, &str)> = report.fields.iter().map(|f| (f.id, f.value.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("kind", "Prescription"),
            ("patient", "Ana Lima"),
            ("mrn", "SOL-0000001X"),
            ("signed_by", "Dr Old (CRM-1)"),
            ("signed_at", "2025-06-01 10:00 UTC"),
            ("document", "0190a2b4-0000-7000-8000-000000000001"),
            ("sha256", data_encoding::HEXLOWER.encode(&[7u8; 32]).as_str()),
        ]
    );
    let (body, sig) = text["GALEN1:".len()..].split_once('.').expect("two parts");
    let tampered = format!("GALEN1:{}.{sig}", b64(summary.replace("Ana Lima", "Ana Lime").as_bytes()));
    assert!(matches!(qr::verify(&tampered, &key), Err(qr::QrProblem::BadSignature(_))));
    assert!(body.len() > 10);
    let other_key = summary.replace(&fingerprint, &"A".repeat(40));
    std::fs::write(&summary_file, &other_key).expect("write");
    let (resigned, out) = gpg(
        dir,
        &["--yes", "--detach-sign", "--output", sig_file.to_str().expect("utf8"), summary_file.to_str().expect("utf8")],
    );
    assert!(resigned, "{out}");
    let text = format!("GALEN1:{}.{}", b64(other_key.as_bytes()), b64(&std::fs::read(&sig_file).expect("sig")));
    assert_eq!(qr::verify(&text, &key), Err(qr::QrProblem::OtherKey));
}
