//! What each printout looks like: the signed documents (drawn from the signed canonical JSON, so the paper says
//! exactly what was signed), the patient ID card with labels, the recovery-key sheet, and the appointment book's
//! day list and appointment card.

use super::page::{wrap, Face, Running, Writer, MM};
use crate::appointments::{Card, DaySheet, Status};
use crate::audit::Entry;
use crate::documents::qr::Printed;
pub use crate::documents::wording::{timestamp, Words};
use crate::documents::{Body, PatientSnapshot, Signed};
use crate::settings::{Logo, PaperSize, Settings};

/// What a printout looks like besides what it says: the paper and the letterhead. A signed document's PDF
/// records it (`drawing.rs`), so that `pdf::verify_file` can draw the pages again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Look {
    /// The paper size.
    pub paper_size: PaperSize,
    /// The clinic's address, under its name.
    pub address: String,
    /// The clinic's phone.
    pub phone: String,
    /// The clinic's logo.
    pub logo: Option<Logo>,
    /// The language the paper is worded in.
    pub words: Words,
}

impl From<&Settings> for Look {
    fn from(s: &Settings) -> Self {
        Look {
            paper_size: s.paper_size,
            address: s.address.clone(),
            phone: s.phone.clone(),
            logo: s.logo.clone(),
            words: Words::of(&s.printout_language),
        }
    }
}

/// Printed above the title when the document is no longer current.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// In force: no banner.
    Current,
    /// Replaced by a correction.
    Superseded {
        /// The correction's uuid.
        by: String,
    },
    /// Voided by a signed notice.
    Voided {
        /// The void notice's uuid.
        by: String,
    },
}

/// Groups of four, as OpenPGP tools print fingerprints.
pub fn grouped(hex: &str) -> String {
    hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Name, address, phone and logo across the top of the first page.
fn letterhead(w: &mut Writer, name: &str, settings: &Look) {
    let top = w.y;
    let logo_w = match &settings.logo {
        Some(logo) => {
            let x = w.left();
            w.image(x, top, 30.0 * MM, 18.0 * MM, logo)
        }
        None => 0.0,
    };
    let x = w.left() + if logo_w > 0.0 { logo_w + 5.0 * MM } else { 0.0 };
    let width = w.right() - x;
    let mut y = top + 14.0;
    for l in wrap(Face::Bold, 15.0, name, width) {
        w.text_at(x, y, Face::Bold, 15.0, &l, 0.0);
        y += 18.0;
    }
    for l in settings.address.lines().chain([settings.phone.as_str()]).filter(|l| !l.trim().is_empty()) {
        for part in wrap(Face::Regular, 9.0, l, width) {
            w.text_at(x, y, Face::Regular, 9.0, &part, 0.3);
            y += 11.5;
        }
    }
    w.y = y.max(top + 18.0 * MM);
    w.rule(0.8);
}

fn patient_block(w: &mut Writer, p: &PatientSnapshot) {
    let t = w.words();
    w.field(t.say("patient"), &format!("{} {}", p.given_names, p.family_name));
    w.field(t.say("mrn"), &p.mrn);
    if !p.date_of_birth.is_empty() {
        w.field(t.say("date_of_birth"), &p.date_of_birth);
    }
}

fn section(w: &mut Writer, heading: &str) {
    w.ensure(30.0);
    w.gap(6.0);
    w.line(Face::Bold, 11.0, heading, 0.0);
}

fn contents(w: &mut Writer, body: &Body, qr: &[Printed]) {
    let t = w.words();
    match body {
        Body::Prescription(rx) => {
            w.field(t.say("issued_on"), &rx.issued_on);
            if !rx.pharmacy.is_empty() {
                w.field(t.say("pharmacy"), &rx.pharmacy);
            }
            section(w, t.say("rx"));
            for (i, l) in rx.lines.iter().enumerate() {
                // A prescription split over several QRs: each but the last closes its page, under its lines. The
                // last line of a part moves to the next page with its QR rather than leave the QR alone there.
                let ends_part = qr.iter().position(|p| p.lines.is_some_and(|r| r.last as usize == i + 1));
                let part = ends_part.filter(|&k| k + 1 < qr.len());
                let (line, details) = (t.rx_line(l), t.rx_details(l));
                let width = w.content_width() - 22.0;
                let height = 3.0
                    + wrap(Face::Bold, 10.5, &line, width).len() as f32 * 10.5 * 1.35
                    + wrap(Face::Regular, 9.0, &details, width).len() as f32 * 9.0 * 1.35;
                let qr_height = part.map_or(0.0, |k| qr_width(qr_modules(&qr[k].text).0) + 16.0 * MM);
                w.ensure(40.0_f32.max(height + qr_height));
                w.gap(3.0);
                w.numbered(&format!("{}.", i + 1), Face::Bold, 10.5, &line, 22.0);
                w.paragraph(Face::Regular, 9.0, &details, 22.0);
                if let Some(k) = part {
                    part_block(w, &qr[k], k + 1, qr.len());
                    w.new_page();
                }
            }
            if !rx.notes.is_empty() {
                section(w, t.say("notes"));
                w.paragraph(Face::Regular, 10.0, &rx.notes, 0.0);
            }
        }
        Body::Birth(b) => {
            w.field(t.say("date_of_birth"), &b.date_of_birth);
            w.field(t.say("mother"), &b.mother_name);
            if !b.father_name.is_empty() {
                w.field(t.say("father"), &b.father_name);
            }
            w.field(t.say("place_of_birth"), &place(&b.institution, &b.subdivision, &b.country));
            w.field(t.say("certified_on"), &b.certified_on);
            if !b.observations.is_empty() {
                w.field(t.say("observations"), &b.observations);
            }
        }
        Body::Death(d) => {
            w.field(t.say("died_at"), &d.died_at.replace('T', " "));
            w.field(t.say("immediate_cause"), &d.immediate_cause);
            for (i, c) in d.underlying_conditions.iter().enumerate() {
                let label = if i == 0 { t.say("due_to") } else { "" };
                let unit = t.value(&c.unit).to_lowercase();
                w.field(label, &format!("{} ({} {unit})", c.condition, c.interval));
            }
            w.field(t.say("manner"), &t.value(&d.manner));
            let at = if d.place_details.is_empty() {
                t.value(&d.place)
            } else {
                format!("{} — {}", t.value(&d.place), d.place_details)
            };
            w.field(t.say("place_of_death"), &at);
            w.field(t.say("location"), &place(&d.institution, &d.subdivision, &d.country));
            w.field(t.say("autopsy"), t.say(if d.autopsy { "yes" } else { "no" }));
            if !d.observations.is_empty() {
                w.field(t.say("observations"), &d.observations);
            }
        }
        Body::SickLeave(s) => {
            w.gap(4.0);
            let text = t.fill("sick_leave.text", &[("from", &s.unfit_from), ("to", &s.unfit_to)]);
            w.paragraph(Face::Regular, 10.5, &text, 0.0);
            w.gap(4.0);
            if !s.restrictions.is_empty() {
                w.field(t.say("restrictions"), &s.restrictions);
            }
            if s.diagnosis_consent && !s.diagnosis.is_empty() {
                w.field(t.say("diagnosis"), &t.fill("diagnosis.consented", &[("diagnosis", &s.diagnosis)]));
            }
        }
        Body::Void(v) => {
            w.gap(4.0);
            w.paragraph(Face::Bold, 10.5, &t.fill("void.text", &[("uuid", &v.voids)]), 0.0);
            w.field(t.say("reason"), &v.reason);
        }
    }
}

fn place(institution: &str, subdivision: &str, country: &str) -> String {
    [institution, subdivision, country].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
}

/// QR modules, or none when the text is too long for a QR (it never is for Galen's).
fn qr_modules(text: &str) -> (usize, Vec<bool>) {
    crate::documents::qr::modules(text).unwrap_or((0, Vec::new()))
}

/// A QR's printed width, quiet zone included: the symbol itself is 50 mm wide up to version 15 (77 modules of
/// 0.65 mm, about 3.8 pixels at 150 dpi, which `zbarimg` reads even blurred and turned), plus its 4-module quiet
/// zone each side (55.2 mm in all); a larger symbol keeps that module size and grows. Galen prints none larger
/// (`qr::PRINT_CHARS`).
fn qr_width(modules: usize) -> f32 {
    const SYMBOL: f32 = 50.0 * MM;
    SYMBOL * modules.max(85) as f32 / 77.0
}

/// "QR 2 of 3: lines 7–12 of 14", for a prescription whose lines are split over several QRs.
fn part_label(t: Words, p: &Printed, k: usize, count: usize) -> Option<String> {
    let r = p.lines.filter(|_| count > 1)?;
    let n = |v: u32| v.to_string();
    let args = [
        ("k", k.to_string()),
        ("count", count.to_string()),
        ("first", n(r.first)),
        ("last", n(r.last)),
        ("total", n(r.total)),
    ];
    Some(t.fill("qr.part", &args.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()))
}

/// Text beside a QR, from the top of the QR down; returns where it ends.
fn beside(w: &mut Writer, top: f32, width: f32, lines: &[(Face, f32, f32, &str)]) -> f32 {
    let x = w.left();
    let mut y = top + 12.0;
    for &(face, size, grey, text) in lines {
        for l in wrap(face, size, text, width) {
            w.text_at(x, y, face, size, &l, grey);
            y += size * 1.35;
        }
    }
    y
}

/// The QR of one part of a split prescription, under the lines it carries (all parts but the last, which is in
/// the signature block).
fn part_block(w: &mut Writer, p: &Printed, k: usize, count: usize) {
    let modules = qr_modules(&p.text);
    let size = qr_width(modules.0);
    w.ensure(size + 12.0 * MM);
    w.gap(4.0 * MM);
    w.rule(0.5);
    let top = w.y;
    let qr_x = w.right() - size;
    w.qr(qr_x, top, size, &modules);
    let t = w.words();
    let label = part_label(t, p, k, count).unwrap_or_default();
    let how = t.fill("qr.part_how", &[("count", &count.to_string())]);
    let width = qr_x - w.left() - 6.0 * MM;
    let y = beside(w, top, width, &[(Face::Bold, 10.0, 0.0, &label), (Face::Regular, 7.5, 0.35, &how)]);
    w.y = y.max(top + size);
}

/// The prescriber block and the (last) QR, kept together on one page. Documents signed before Galen printed QR
/// codes (schema 10 and older) have none: the block says how to check the PDF instead.
fn signature_block(w: &mut Writer, s: &Signed, qr: &[Printed]) {
    let last = qr.last();
    let modules = last.map(|p| qr_modules(&p.text)).unwrap_or_default();
    let size = qr_width(modules.0);
    w.ensure(size + 12.0 * MM);
    w.gap(4.0 * MM);
    w.rule(0.8);
    let top = w.y;
    let qr_x = w.right() - size;
    if modules.0 > 0 {
        w.qr(qr_x, top, size, &modules);
    }
    let t = w.words();
    let how = t.say(if modules.0 > 0 { "qr.how" } else { "qr.none" });
    let width = qr_x - w.left() - 6.0 * MM;
    let licence =
        if s.signer.licence.is_empty() { String::new() } else { t.fill("licence", &[("licence", &s.signer.licence)]) };
    let part = last.and_then(|p| part_label(t, p, qr.len(), qr.len())).unwrap_or_default();
    let mut lines = vec![
        (Face::Regular, 8.5, 0.4, t.say("signed_by")),
        (Face::Bold, 11.0, 0.0, s.signer.name.as_str()),
        (Face::Regular, 10.0, 0.0, licence.as_str()),
    ];
    let signed = t.fill("signed_at", &[("when", &timestamp(&s.signed_at))]);
    let fingerprint = grouped(&s.signer.fingerprint);
    lines.extend([
        (Face::Regular, 10.0, 0.0, signed.as_str()),
        (Face::Regular, 8.5, 0.4, t.say("fingerprint")),
        (Face::Mono, 8.5, 0.0, fingerprint.as_str()),
        (Face::Regular, 4.0, 1.0, ""),
    ]);
    if !part.is_empty() {
        lines.push((Face::Bold, 8.5, 0.0, part.as_str()));
    }
    lines.push((Face::Regular, 7.5, 0.35, how));
    let y = beside(w, top, width, &lines);
    w.y = y.max(top + size);
}

/// A signed document on paper: drawn from its signed JSON (`s`, `body`) and `look`, with its QRs (checked by the
/// caller). `seed` (the canonical bytes) names the PDF's fonts and id, so the same inputs give the same file.
pub fn document(
    look: &Look,
    s: &Signed,
    body: &Body,
    standing: &Standing,
    qr: &[Printed],
    seed: &[u8],
) -> lopdf::Document {
    let t = look.words;
    let title = t.title(body.kind());
    let patient = format!("{} {}", s.patient.given_names, s.patient.family_name);
    let what = t.fill("document.for", &[("title", title), ("patient", &patient)]);
    let running = Running {
        header: t.fill("continued", &[("clinic", &s.clinic), ("what", &what)]),
        footer: t.fill(
            "document.footer",
            &[("title", title), ("uuid", &s.document), ("patient", &patient), ("mrn", &s.patient.mrn)],
        ),
        words: t,
    };
    let mut w = Writer::new(&format!("{title} — {patient}"), look.paper_size, running, seed);
    letterhead(&mut w, &s.clinic, look);
    match standing {
        Standing::Current => {}
        Standing::Superseded { by } => w.line(Face::Bold, 12.0, &t.fill("superseded", &[("by", by)]), 0.0),
        Standing::Voided { by } => w.line(Face::Bold, 12.0, &t.fill("voided", &[("by", by)]), 0.0),
    }
    w.gap(4.0);
    w.line(Face::Bold, 17.0, title, 0.0);
    w.gap(2.0);
    patient_block(&mut w, &s.patient);
    if let Some(old) = &s.supersedes {
        w.field(t.say("replaces"), &t.fill("replaces.what", &[("uuid", old)]));
    }
    w.rule(0.5);
    contents(&mut w, body, qr);
    signature_block(&mut w, s, qr);
    w.finish_document()
}

/// A patient ID card (ID-1 size, 85.6 × 54 mm, to cut out) and a row of sample labels with the MRN as
/// Code 128 and, on the card, a QR of the MRN.
pub fn patient_card(settings: &Settings, clinic: &str, p: &PatientSnapshot) -> Vec<u8> {
    let t = Look::from(settings).words;
    let name = format!("{} {}", p.given_names, p.family_name);
    let footer = t.fill("card.footer", &[("name", &name), ("mrn", &p.mrn)]);
    let running = Running { header: String::new(), footer, words: t };
    let mut w = Writer::new(&t.fill("card.name", &[("name", &name)]), settings.paper_size, running, p.mrn.as_bytes());
    w.line(Face::Bold, 13.0, t.say("card.title"), 0.0);
    w.line(Face::Regular, 9.0, t.say("card.cut"), 0.4);
    w.gap(4.0 * MM);
    let (x, top, cw, ch) = (w.left(), w.y, 85.6 * MM, 54.0 * MM);
    w.frame(x, top, cw, ch);
    let pad = 4.0 * MM;
    let text_w = cw - 2.0 * pad - 22.0 * MM;
    let mut y = top + pad + 8.0;
    for (face, size, grey, text) in [
        (Face::Bold, 8.0, 0.3, clinic.to_owned()),
        (Face::Bold, 11.0, 0.0, name.clone()),
        (Face::Regular, 8.5, 0.0, t.fill("card.born", &[("date", &p.date_of_birth)])),
        (Face::Mono, 10.0, 0.0, p.mrn.clone()),
    ] {
        for l in wrap(face, size, &text, text_w).into_iter().take(2) {
            w.text_at(x + pad, y, face, size, &l, grey);
            y += size * 1.35;
        }
    }
    let qr = 20.0 * MM;
    let modules = qr_modules(&p.mrn);
    if modules.0 > 0 {
        w.qr(x + cw - pad - qr, top + pad, qr, &modules);
    }
    if let Some(bars) = crate::mrn::barcode_modules(&p.mrn) {
        w.barcode(x + pad, top + ch - pad - 12.0 * MM, cw - 2.0 * pad, 12.0 * MM, &bars);
    }
    w.y = top + ch + 8.0 * MM;
    // Labels: 2 columns × 3 rows of 80 × 30 mm.
    let (lw, lh) = (80.0 * MM, 30.0 * MM);
    for row in 0..3 {
        for col in 0..2 {
            let (lx, ly) = (w.left() + col as f32 * (lw + 6.0 * MM), w.y + row as f32 * (lh + 4.0 * MM));
            w.frame(lx, ly, lw, lh);
            w.text_at(lx + 3.0 * MM, ly + 5.5 * MM, Face::Bold, 9.0, &name, 0.0);
            w.text_at(
                lx + 3.0 * MM,
                ly + 10.0 * MM,
                Face::Regular,
                8.0,
                &t.fill("card.label", &[("date", &p.date_of_birth), ("mrn", &p.mrn)]),
                0.0,
            );
            if let Some(bars) = crate::mrn::barcode_modules(&p.mrn) {
                w.barcode(lx + 3.0 * MM, ly + 13.0 * MM, lw - 6.0 * MM, 14.0 * MM, &bars);
            }
        }
    }
    w.finish()
}

/// The recovery-key sheet: the one page that can open the database when every password is lost.
pub fn recovery_sheet(settings: &Settings, clinic: &str, key: &str, created: &str) -> Vec<u8> {
    let look = Look::from(settings);
    let t = look.words;
    let footer = t.fill("recovery.footer", &[("clinic", clinic), ("created", created)]);
    let running = Running { header: String::new(), footer, words: t };
    let mut w = Writer::new(t.say("recovery.title"), settings.paper_size, running, created.as_bytes());
    letterhead(&mut w, clinic, &look);
    w.gap(6.0);
    w.line(Face::Bold, 18.0, t.say("recovery.heading"), 0.0);
    w.paragraph(Face::Regular, 10.0, &t.fill("recovery.for", &[("clinic", clinic), ("created", created)]), 0.0);
    w.gap(8.0 * MM);
    let size = 19.0;
    let width = super::page::text_width(Face::Mono, size, key);
    let (x, top) = ((w.width - width) / 2.0, w.y);
    w.fill(w.left(), top, w.content_width(), 20.0 * MM, 0.93);
    w.text_at(x, top + 12.5 * MM, Face::Mono, size, key, 0.0);
    w.y = top + 28.0 * MM;
    for part in ["what", "where", "how", "stops"] {
        section(&mut w, t.say(&format!("recovery.{part}")));
        w.paragraph(Face::Regular, 10.0, t.say(&format!("recovery.{part}_text")), 0.0);
    }
    w.gap(10.0 * MM);
    w.field(t.say("recovery.kept_at"), "______________________________________________");
    w.gap(4.0);
    w.field(t.say("recovery.checked"), "______________________________________________");
    w.finish()
}

/// Where a visit stands, in the words of a day list (nothing while it is only booked).
fn standing_words(t: Words, status: Status) -> &'static str {
    match status {
        Status::Booked => "",
        Status::Arrived => t.say("visit.waiting"),
        Status::InProgress => t.say("visit.in_progress"),
        Status::Done => t.say("visit.done"),
        Status::NoShow => t.say("visit.no_show"),
        Status::Cancelled => t.say("visit.cancelled"),
    }
}

/// Lines of text in a box `width` wide whose top is `top`; returns where they end.
fn cell<S: AsRef<str>>(w: &mut Writer, x: f32, top: f32, width: f32, lines: &[(Face, f32, f32, S)]) -> f32 {
    let mut y = top;
    for (face, size, grey, text) in lines {
        let (face, size, grey) = (*face, *size, *grey);
        for l in wrap(face, size, text.as_ref(), width) {
            y += size;
            w.text_at(x, y, face, size, &l, grey);
            y += size * 0.35;
        }
    }
    y
}

/// One table cell: its lines as (face, size, grey, text).
type Cell = Vec<(Face, f32, f32, String)>;
/// One table row.
type Row = Vec<Cell>;

/// A table that flows over pages: `columns` are (heading, width), a width of 0 taking what the others leave; the
/// heading repeats on each page, and a row never splits across two.
fn table(w: &mut Writer, columns: &[(&str, f32)], rows: &[Row]) {
    let widths: Vec<f32> = {
        let rest = w.content_width() - columns.iter().map(|c| c.1).sum::<f32>();
        columns.iter().map(|c| if c.1 > 0.0 { c.1 } else { rest }).collect()
    };
    let xs: Vec<f32> = widths.iter().scan(w.left(), |x, width| Some(std::mem::replace(x, *x + width))).collect();
    let pad = 2.0 * MM;
    let heading = |w: &mut Writer| {
        let top = w.y;
        for (i, (label, _)) in columns.iter().enumerate() {
            cell(w, xs[i], top, widths[i] - pad, &[(Face::Bold, 8.5, 0.35, label)]);
        }
        w.y = top + 8.5 * 1.35;
        w.rule(0.5);
    };
    heading(w);
    for row in rows {
        let height = row
            .iter()
            .zip(&widths)
            .map(|(c, width)| {
                c.iter().map(|(f, size, _, t)| wrap(*f, *size, t, width - pad).len() as f32 * size * 1.35).sum()
            })
            .fold(0.0_f32, f32::max);
        let before = w.y;
        w.ensure(height + 10.0);
        if w.y < before {
            heading(w);
        }
        let top = w.y;
        let bottom = row.iter().enumerate().map(|(i, c)| cell(w, xs[i], top, widths[i] - pad, c)).fold(top, f32::max);
        w.y = bottom + 2.0;
        let (x, width) = (w.left(), w.content_width());
        w.fill(x, w.y, width, 0.3, 0.75);
        w.y += 5.0;
    }
}

/// One doctor's day on paper: their visits by time as a table (time, patient, phone, reason, where the visit
/// stands), to carry through the day and write on. A reason the viewer may not read prints as "(clinical)".
pub fn day_list(settings: &Settings, sheet: &DaySheet) -> Vec<u8> {
    let look = Look::from(settings);
    let t = look.words;
    let day = t.day(&sheet.date);
    let doctor = &sheet.doctor_name;
    let args = [("doctor", doctor.as_str()), ("day", day.as_str())];
    let running = Running {
        header: t.fill("continued", &[("clinic", &settings.site_name), ("what", &t.fill("day_list.for", &args))]),
        footer: t.fill("day_list.footer", &args),
        words: t,
    };
    let seed = format!("day-list {} {} {}", sheet.doctor_id, sheet.date, sheet.printed_at);
    let mut w = Writer::new(&t.fill("day_list.name", &args), settings.paper_size, running, seed.as_bytes());
    letterhead(&mut w, &settings.site_name, &look);
    w.gap(4.0);
    w.line(Face::Bold, 17.0, t.say("day_list.title"), 0.0);
    w.gap(2.0);
    w.field(t.say("doctor"), doctor);
    w.field(t.say("day"), &day);
    let count = match sheet.visits.len() {
        1 => t.say("visits.one").to_owned(),
        n => t.fill("visits.many", &[("n", &n.to_string())]),
    };
    w.field(t.say("visits"), &count);
    w.field(t.say("printed"), &t.fill("day_list.printed", &[("at", &sheet.printed_at)]));
    w.rule(0.5);
    if sheet.visits.is_empty() {
        w.gap(6.0);
        w.paragraph(Face::Regular, 10.5, t.say("day_list.none"), 0.0);
        return w.finish();
    }
    let rows: Vec<Row> = sheet
        .visits
        .iter()
        .map(|v| {
            let p = &v.patient;
            let born = if p.date_of_birth.is_empty() {
                String::new()
            } else {
                t.fill("day_list.born", &[("date", &p.date_of_birth)])
            };
            let clinical = t.say("day_list.clinical").to_owned();
            let (reason, grey) = v.reason.as_ref().map_or((clinical, 0.45), |r| (r.clone(), 0.0));
            let until = t.fill("day_list.until", &[("time", &v.end_time)]);
            vec![
                vec![(Face::Bold, 10.0, 0.0, v.time.clone()), (Face::Regular, 8.0, 0.4, until)],
                vec![
                    (Face::Bold, 9.5, 0.0, format!("{} {}", p.given_names, p.family_name)),
                    (Face::Regular, 8.0, 0.4, format!("{}{born}", p.mrn)),
                ],
                p.phones.iter().map(|l| (Face::Regular, 9.0, 0.0, l.clone())).collect(),
                vec![(Face::Regular, 9.0, grey, reason)],
                vec![(Face::Regular, 9.0, 0.0, standing_words(t, v.status).to_owned())],
            ]
        })
        .collect();
    // The reason takes what the other columns leave.
    let columns = [
        (t.say("time"), 17.0 * MM),
        (t.say("patient"), 58.0 * MM),
        (t.say("phone"), 30.0 * MM),
        (t.say("reason"), 0.0),
        (t.say("standing"), 24.0 * MM),
    ];
    table(&mut w, &columns, &rows);
    w.finish()
}

/// The clinic's address and phone on one line, for a card.
fn contact(settings: &Settings) -> String {
    let address = settings.address.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(", ");
    [address.as_str(), settings.phone.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")
}

/// An appointment card for the patient (ID-1 size, to cut out): when, with whom, where, and whom to call if they
/// cannot come; for a series, a second card with the next visits. Never the reason: the card leaves the clinic.
pub fn appointment_card(settings: &Settings, card: &Card) -> Vec<u8> {
    let v = &card.visit;
    let t = Look::from(settings).words;
    let name = format!("{} {}", v.patient.given_names, v.patient.family_name);
    let day = t.day(&v.date);
    let footer = t.fill("appointment.footer", &[("name", &name), ("day", &day), ("time", &v.time)]);
    let running = Running { header: String::new(), footer, words: t };
    let seed = format!("appointment-card {} {} {}", v.id, v.date, v.time);
    let title = t.fill("appointment.name", &[("name", &name)]);
    let mut w = Writer::new(&title, settings.paper_size, running, seed.as_bytes());
    w.line(Face::Bold, 13.0, t.say("appointment.title"), 0.0);
    w.line(Face::Regular, 9.0, t.say("appointment.cut"), 0.4);
    w.gap(4.0 * MM);
    let (x, cw, ch, pad) = (w.left(), 85.6 * MM, 54.0 * MM, 4.0 * MM);
    let width = cw - 2.0 * pad;
    let top = w.y;
    w.frame(x, top, cw, ch);
    let at = t.fill("appointment.length", &[("time", &v.time), ("minutes", &v.minutes.to_string())]);
    let with = t.fill("appointment.with", &[("doctor", &v.doctor_name)]);
    let patient = t.fill("appointment.for", &[("name", &name), ("mrn", &v.patient.mrn)]);
    let mut y = top + pad;
    // Each line with the most rows it may take: the day may need two in Portuguese and Spanish.
    for (face, size, grey, text, rows) in [
        (Face::Bold, 8.5, 0.3, settings.site_name.as_str(), 1),
        (Face::Regular, 7.0, 0.4, contact(settings).as_str(), 1),
        (Face::Regular, 3.0, 1.0, "", 1),
        (Face::Regular, 8.0, 0.4, t.say("appointment.yours"), 1),
        (Face::Bold, 11.0, 0.0, day.as_str(), 2),
        (Face::Bold, 14.0, 0.0, at.as_str(), 1),
        (Face::Regular, 9.0, 0.0, with.as_str(), 1),
        (Face::Regular, 8.5, 0.0, patient.as_str(), 1),
    ] {
        for l in wrap(face, size, text, width).into_iter().take(rows) {
            y += size;
            w.text_at(x + pad, y, face, size, &l, grey);
            y += size * 0.35;
        }
    }
    let call = if settings.phone.is_empty() {
        t.say("appointment.tell").to_owned()
    } else {
        t.fill("appointment.call", &[("phone", &settings.phone)])
    };
    let lines = wrap(Face::Regular, 7.0, &call, width);
    let mut y = top + ch - pad - lines.len() as f32 * 7.0 * 1.35 + 7.0;
    for l in lines {
        w.text_at(x + pad, y, Face::Regular, 7.0, &l, 0.35);
        y += 7.0 * 1.35;
    }
    w.y = top + ch + 6.0 * MM;
    if !card.next.is_empty() {
        let top = w.y;
        let heading = [(Face::Bold, 9.5, 0.0, t.say("appointment.next"))];
        let mut y = cell(&mut w, x + pad, top + pad, width, &heading) + 2.0;
        for n in &card.next {
            let line = format!("{} · {} · {}", t.short_day(&n.date), n.time, n.doctor_name);
            y = cell(&mut w, x + pad, y, width, &[(Face::Regular, 8.5, 0.0, line.as_str())]);
        }
        // As tall as the visits it lists (at most eight fit a card).
        let height = (y - top + pad).min(ch);
        w.frame(x, top, cw, height);
        w.y = top + height + 6.0 * MM;
    }
    w.finish()
}

/// Who accessed a patient's record, from the audit trail, oldest first: when, who, what, and how it went; rows
/// under emergency access are marked. `cut` says older rows were left out.
pub fn access_report(settings: &Settings, p: &PatientSnapshot, rows: &[Entry], cut: bool, printed: &str) -> Vec<u8> {
    let look = Look::from(settings);
    let t = look.words;
    let name = format!("{} {}", p.given_names, p.family_name);
    let running = Running {
        header: t
            .fill("continued", &[("clinic", &settings.site_name), ("what", &t.fill("access.for", &[("name", &name)]))]),
        footer: t.fill("access.footer", &[("name", &name), ("mrn", &p.mrn), ("printed", printed)]),
        words: t,
    };
    let seed = format!("access-report {} {printed}", p.mrn);
    let title = t.fill("access.name", &[("name", &name)]);
    let mut w = Writer::new(&title, settings.paper_size, running, seed.as_bytes());
    letterhead(&mut w, &settings.site_name, &look);
    w.gap(4.0);
    w.line(Face::Bold, 17.0, t.say("access.title"), 0.0);
    w.gap(2.0);
    patient_block(&mut w, p);
    w.field(t.say("printed"), printed);
    let span = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => {
            t.fill("access.span", &[("from", &timestamp(&first.at)), ("to", &timestamp(&last.at))])
        }
        _ => t.say("access.none").to_owned(),
    };
    w.field(t.say("access.covers"), &span);
    let cut =
        if cut { t.fill("access.cut", &[("n", &crate::audit::ACCESS_REPORT_ROWS.to_string())]) } else { String::new() };
    w.paragraph(Face::Regular, 9.0, &format!("{}{cut}", t.say("access.text")), 0.0);
    w.rule(0.5);
    let rows: Vec<Row> = rows
        .iter()
        .map(|e| {
            let who = if e.role.is_empty() { e.username.clone() } else { format!("{} ({})", e.username, e.role) };
            let about = match e.entity_type.as_str() {
                "document" | "appointment" => format!("{} {}", e.entity_type, e.entity_id),
                _ => String::new(),
            };
            let mut what = vec![(Face::Regular, 9.0, 0.0, crate::audit::describe(&e.action).to_owned())];
            if !about.is_empty() {
                what.push((Face::Regular, 8.0, 0.4, about));
            }
            if e.break_glass {
                what.push((Face::Bold, 8.5, 0.0, t.say("access.emergency").to_owned()));
            }
            vec![
                vec![(Face::Regular, 9.0, 0.0, timestamp(&e.at).trim_end_matches(" UTC").to_owned())],
                vec![(Face::Regular, 9.0, 0.0, who)],
                what,
                vec![(Face::Regular, 9.0, 0.0, outcome_words(t, &e.outcome).to_owned())],
            ]
        })
        .collect();
    let columns = [
        (t.say("access.when"), 34.0 * MM),
        (t.say("access.who"), 44.0 * MM),
        (t.say("access.what"), 0.0),
        (t.say("access.outcome"), 20.0 * MM),
    ];
    table(&mut w, &columns, &rows);
    w.finish()
}

/// An audit row's outcome in words.
fn outcome_words(t: Words, outcome: &str) -> &str {
    match outcome {
        "ok" | "failed" | "denied" => t.say(&format!("outcome.{outcome}")),
        other => other,
    }
}

/// One signed document as the record's summary lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// When it was signed, RFC 3339.
    pub signed_at: String,
    /// Its kind (`prescription`, `sick_leave`…).
    pub kind: String,
    /// Who signed it.
    pub signer: String,
    /// `current`, `voided` or `superseded`.
    pub standing: &'static str,
    /// The file beside the summary that holds it.
    pub file: String,
}

/// The patient's own copy of their record, readable: who they are, their allergies and conditions (or a note that
/// the exporting account may not see them), and every signed document with the file that holds it.
pub fn record_summary(
    settings: &Settings,
    p: &crate::patients::Patient,
    clinical: Option<&crate::patients::Clinical>,
    documents: &[Listed],
    printed: &str,
) -> Vec<u8> {
    let look = Look::from(settings);
    let t = look.words;
    let d = &p.demographics;
    let name = format!("{} {}", d.given_names, d.family_name);
    let running = Running {
        header: t
            .fill("continued", &[("clinic", &settings.site_name), ("what", &t.fill("record.of", &[("name", &name)]))]),
        footer: t.fill("record.footer", &[("name", &name), ("mrn", &p.mrn), ("printed", printed)]),
        words: t,
    };
    let seed = format!("record-summary {} {printed}", p.mrn);
    let title = t.fill("record.name", &[("name", &name)]);
    let mut w = Writer::new(&title, settings.paper_size, running, seed.as_bytes());
    letterhead(&mut w, &settings.site_name, &look);
    w.gap(4.0);
    w.line(Face::Bold, 17.0, t.say("record.title"), 0.0);
    w.gap(2.0);
    let year = d.date_of_birth.get(..4).unwrap_or_default();
    let dob = if p.dob_estimated { t.fill("record.estimated", &[("year", year)]) } else { d.date_of_birth.clone() };
    patient_block(
        &mut w,
        &PatientSnapshot {
            mrn: p.mrn.clone(),
            given_names: d.given_names.clone(),
            family_name: d.family_name.clone(),
            date_of_birth: dob,
        },
    );
    let ec = &d.emergency_contact;
    let contact = [ec.name.as_str(), ec.relation.as_str(), ec.phone.as_str()].into_iter().filter(|s| !s.is_empty());
    for (label, value) in [
        ("sex", t.value(d.sex.as_str())),
        ("national_id", d.national_id.clone()),
        ("phone", d.phones.join(", ")),
        ("email", d.email.clone()),
        ("address", d.address.clone()),
        ("emergency_contact", contact.collect::<Vec<_>>().join(", ")),
        ("printed", printed.to_owned()),
    ] {
        if !value.is_empty() {
            w.field(t.say(label), &value);
        }
    }
    let withheld = t.say("record.withheld");
    let none_recorded = t.say("record.none_recorded");
    section(&mut w, t.say("allergies"));
    match clinical {
        None => w.paragraph(Face::Regular, 10.0, withheld, 0.0),
        Some(c) if c.allergies.is_empty() => w.paragraph(Face::Regular, 10.0, none_recorded, 0.0),
        Some(c) => {
            for a in &c.allergies {
                let severity = if a.severity == "unknown" { String::new() } else { t.value(&a.severity) };
                let parts = [a.substance.clone(), severity, a.reaction.clone()];
                let kept: Vec<String> = parts.into_iter().filter(|s| !s.is_empty()).collect();
                w.paragraph(Face::Regular, 10.0, &format!("• {}", kept.join(" — ")), 0.0);
            }
        }
    }
    section(&mut w, t.say("conditions"));
    match clinical {
        None => w.paragraph(Face::Regular, 10.0, withheld, 0.0),
        Some(c) if c.conditions.is_empty() => w.paragraph(Face::Regular, 10.0, none_recorded, 0.0),
        Some(c) => c.conditions.iter().for_each(|x| w.paragraph(Face::Regular, 10.0, &format!("• {x}"), 0.0)),
    }
    if let Some(c) = clinical.filter(|c| !c.blood_type.is_empty()) {
        w.gap(2.0);
        w.field(t.say("blood_type"), &c.blood_type);
    }
    section(&mut w, t.say("record.documents"));
    if documents.is_empty() {
        w.paragraph(Face::Regular, 10.0, if clinical.is_none() { withheld } else { t.say("record.none") }, 0.0);
    } else {
        let rows: Vec<Row> = documents
            .iter()
            .map(|l| {
                vec![
                    vec![(Face::Regular, 9.0, 0.0, timestamp(&l.signed_at))],
                    vec![
                        (Face::Regular, 9.0, 0.0, t.title(&l.kind).to_owned()),
                        (Face::Regular, 8.0, 0.4, l.file.clone()),
                    ],
                    vec![(Face::Regular, 9.0, 0.0, l.signer.clone())],
                    vec![(Face::Regular, 9.0, 0.0, t.say(&format!("standing.{}", l.standing)).to_owned())],
                ]
            })
            .collect();
        let columns = [
            (t.say("record.signed"), 34.0 * MM),
            (t.say("record.document_file"), 0.0),
            (t.say("record.by"), 40.0 * MM),
            (t.say("standing"), 28.0 * MM),
        ];
        table(&mut w, &columns, &rows);
    }
    w.gap(6.0);
    w.paragraph(Face::Regular, 8.5, t.say("record.beside"), 0.0);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::super::page::{text_width, FIELD_LABEL_FITS};
    use super::*;

    /// English field labels fit their column on one line, so adding wrapping for longer languages left English
    /// pages (and the check of PDFs printed before) as they were.
    #[test]
    fn english_field_labels_fit_on_one_line() {
        let labels = [
            "patient",
            "mrn",
            "date_of_birth",
            "issued_on",
            "pharmacy",
            "mother",
            "father",
            "place_of_birth",
            "certified_on",
            "observations",
            "died_at",
            "immediate_cause",
            "due_to",
            "manner",
            "place_of_death",
            "location",
            "autopsy",
            "restrictions",
            "diagnosis",
            "reason",
            "replaces",
            "doctor",
            "day",
            "visits",
            "printed",
            "access.covers",
            "sex",
            "national_id",
            "phone",
            "email",
            "address",
            "emergency_contact",
            "blood_type",
            "recovery.kept_at",
            "recovery.checked",
        ];
        for key in labels {
            let label = Words::EN.say(key);
            assert!(text_width(Face::Regular, 10.0, label) <= FIELD_LABEL_FITS, "{key}: {label}");
        }
    }
}
