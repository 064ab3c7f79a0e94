//! `galen rx …`, `galen cert …`, `galen document …`, `galen verify` and `galen key export-public`.

use crate::prompt::Input;
use crate::{CertCommand, DocumentCommand, LineCommand, RxCommand};
use anyhow::{bail, Context, Result};
use galen_core::documents::{self, Body, Document, Verification};
use galen_core::pdf::{self, print::Route};
use galen_core::{patients, Clinic, Session};
use std::path::{Path, PathBuf};

fn patient_id(clinic: &Clinic, session: &Session, mrn: &str) -> Result<i64> {
    Ok(patients::find_by_mrn(clinic, session, mrn)?.id)
}

fn today(clinic: &Clinic) -> String {
    clinic.now().date().to_string()
}

fn sign(clinic: &Clinic, session: &Session, input: &mut Input, id: i64, acknowledge: bool) -> Result<()> {
    let doc = documents::get(clinic, session, id)?;
    let warnings = documents::warnings(clinic, &doc)?;
    for w in &warnings {
        eprintln!("WARNING: {w}");
    }
    if !warnings.is_empty() && !acknowledge {
        bail!("read the warnings above; sign again with --acknowledge-warnings to confirm");
    }
    let password = input.secret("Your password, to sign: ")?;
    match documents::sign(clinic, session, id, password.expose(), acknowledge) {
        Ok(d) => {
            let signer = d
                .signer
                .map(|s| format!("{} (licence {}), key {}", s.name, s.licence, s.fingerprint))
                .unwrap_or_default();
            println!("Signed document {} ({}) by {signer}.", d.id, d.uuid);
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn show(clinic: &Clinic, session: &Session, id: i64) -> Result<()> {
    let d = documents::get(clinic, session, id)?;
    print_document(&d);
    match documents::verify(clinic, session, id)? {
        Verification::Valid { signer, signed_at } => {
            println!(
                "Signature: VALID — signed by {} (licence {}) at {signed_at}; key {}",
                signer.name, signer.licence, signer.fingerprint
            )
        }
        Verification::Unsigned => println!("Signature: none yet (draft)"),
        Verification::Invalid { problem } => println!("Signature: INVALID — {problem}"),
    }
    Ok(())
}

fn print_document(d: &Document) {
    println!("Document {} ({}), {} — {}", d.id, d.uuid, d.body.kind(), if d.signed { "signed" } else { "draft" });
    if let Some(s) = d.supersedes {
        println!("Supersedes document {s}");
    }
    if let Some(s) = d.superseded_by {
        println!("Superseded by document {s}");
    }
    if let Some(v) = d.voided_by {
        println!("VOIDED by notice {v}");
    }
    match &d.body {
        Body::Prescription(p) => {
            println!(
                "Issued {}{}",
                p.issued_on,
                if p.pharmacy.is_empty() { String::new() } else { format!(", for {}", p.pharmacy) }
            );
            for (i, l) in p.lines.iter().enumerate() {
                let how =
                    if l.prn { "as needed".to_owned() } else { format!("every {} {}", l.frequency, l.frequency_unit) };
                println!(
                    "  {}. {} — {} {} {} {how} for {} {} — Qty {} — Refills {}",
                    i + 1,
                    l.medicament,
                    l.dose,
                    l.dose_unit,
                    l.route,
                    l.duration,
                    l.duration_period,
                    l.quantity,
                    l.refills
                );
            }
        }
        other => println!("{}", serde_json::to_string_pretty(other).unwrap_or_default()),
    }
}

pub fn rx(clinic: &Clinic, session: &Session, input: &mut Input, command: RxCommand) -> Result<()> {
    match command {
        RxCommand::New { patient, pharmacy, notes } => {
            let pid = patient_id(clinic, session, &patient)?;
            let body = Body::Prescription(documents::Prescription {
                issued_on: today(clinic),
                pharmacy,
                notes,
                lines: Vec::new(),
            });
            let d = documents::create_draft(clinic, session, pid, body)?;
            println!("Started prescription {} for {patient}. Add medicines with `galen rx line add {} …`.", d.id, d.id);
        }
        RxCommand::Line {
            command:
                LineCommand::Add {
                    id,
                    medicament,
                    dose,
                    unit,
                    route,
                    form,
                    quantity,
                    every,
                    every_unit,
                    prn,
                    duration,
                    period,
                    refills,
                    valid_until,
                    indication,
                    comment,
                    no_substitution,
                },
        } => {
            let d = documents::get(clinic, session, id)?;
            let Body::Prescription(mut p) = d.body else { bail!("document {id} is not a prescription") };
            let valid_until = match valid_until {
                Some(v) => v,
                None => {
                    let issued =
                        galen_core::patients::validate::parse_date(&p.issued_on).context("the prescription's date")?;
                    (issued + time::Duration::days(30)).to_string()
                }
            };
            p.lines.push(documents::RxLine {
                medicament,
                indication,
                dose,
                dose_unit: unit,
                route,
                form,
                quantity,
                frequency: every,
                frequency_unit: every_unit,
                prn,
                duration,
                duration_period: period,
                refills,
                allow_substitution: !no_substitution,
                valid_until,
                comment,
            });
            let d = documents::update_draft(clinic, session, id, Body::Prescription(p))?;
            print_document(&d);
        }
        RxCommand::Sign { id, acknowledge_warnings } => sign(clinic, session, input, id, acknowledge_warnings)?,
        RxCommand::Show { id } => show(clinic, session, id)?,
        RxCommand::Void { id, reason } => {
            let password = input.secret("Your password, to sign the void notice: ")?;
            let notice = documents::void(clinic, session, id, &reason, password.expose())?;
            println!("Document {id} is void; the signed notice is document {}.", notice.id);
        }
    }
    Ok(())
}

pub fn cert(clinic: &Clinic, session: &Session, input: &mut Input, command: CertCommand) -> Result<()> {
    let (patient, body) = match command {
        CertCommand::Sign { id } => return sign(clinic, session, input, id, true),
        CertCommand::Birth { patient, mother, father, country, subdivision, institution, observations } => {
            let pid = patient_id(clinic, session, &patient)?;
            let dob = patients::get(clinic, session, pid)?.demographics.date_of_birth;
            let body = Body::Birth(documents::BirthCertificate {
                mother_name: mother,
                father_name: father,
                date_of_birth: dob,
                country,
                subdivision,
                institution,
                observations,
                certified_on: today(clinic),
            });
            (pid, body)
        }
        CertCommand::Death {
            patient,
            died_at,
            cause,
            underlying,
            manner,
            place,
            place_details,
            autopsy,
            country,
            subdivision,
            institution,
            observations,
        } => {
            let mut conditions = Vec::new();
            for u in underlying {
                let parts: Vec<&str> = u.rsplitn(3, ':').collect();
                let [unit, interval, condition] = parts[..] else {
                    bail!("--underlying {u:?}: use CONDITION:INTERVAL:UNIT")
                };
                let interval =
                    interval.parse().with_context(|| format!("--underlying {u:?}: the interval is a number"))?;
                conditions.push(documents::UnderlyingCondition {
                    condition: condition.into(),
                    interval,
                    unit: unit.into(),
                });
            }
            let body = Body::Death(documents::DeathCertificate {
                died_at,
                immediate_cause: cause,
                underlying_conditions: conditions,
                manner,
                place,
                place_details,
                autopsy,
                country,
                subdivision,
                institution,
                observations,
            });
            (patient_id(clinic, session, &patient)?, body)
        }
        CertCommand::SickLeave { patient, from, to, restrictions, diagnosis, diagnosis_consent } => {
            let body = Body::SickLeave(documents::SickLeave {
                unfit_from: from,
                unfit_to: to,
                restrictions,
                diagnosis,
                diagnosis_consent,
            });
            (patient_id(clinic, session, &patient)?, body)
        }
    };
    let d = documents::create_draft(clinic, session, patient, body)?;
    println!(
        "Started {} certificate {}. Check it with `galen document show {}`, then `galen cert sign {}`.",
        d.body.kind(),
        d.id,
        d.id,
        d.id
    );
    Ok(())
}

pub fn document(clinic: &Clinic, session: &Session, command: DocumentCommand) -> Result<()> {
    match command {
        DocumentCommand::Show { id } => show(clinic, session, id)?,
        DocumentCommand::Export { id, dir } => {
            let files = documents::export(clinic, session, id, &dir)?;
            println!("Wrote {}, {} and {}.", files.json.display(), files.signature.display(), files.key.display());
            println!(
                "Check with: gpg --import {} && gpg --verify {} {}",
                files.key.display(),
                files.signature.display(),
                files.json.display()
            );
        }
        DocumentCommand::Qr { id, svg } => {
            let Some(text) = documents::qr_text(clinic, session, id)? else { bail!("document {id} is not signed yet") };
            println!("{text}");
            if let Some(path) = svg {
                let Some(image) = documents::qr::svg(&text, 4) else { bail!("the QR could not be encoded") };
                std::fs::write(&path, image)?;
                eprintln!("QR written to {}.", path.display());
            }
        }
        DocumentCommand::Correct { id } => {
            let d = documents::correct(clinic, session, id)?;
            println!("Started correction {} of document {id}; edit it, then sign it to supersede {id}.", d.id);
        }
    }
    Ok(())
}

pub fn export_public(clinic: &Clinic, session: &Session, doctor: &str, out: Option<&Path>) -> Result<()> {
    let key = documents::doctor_public_key(clinic, session, doctor)?;
    match out {
        Some(path) => {
            std::fs::write(path, key)?;
            println!("Wrote {doctor}'s public key to {}.", path.display());
        }
        None => print!("{key}"),
    }
    Ok(())
}

/// `galen verify`: a PDF, exported files, or QR text. Prints who signed what and when, or why it failed.
pub fn verify(qr: Option<&str>, files: &[PathBuf], key: Option<&Path>) -> Result<()> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("reading {}", p.display()));
    let key_text = key.map(|k| read(k).map(|b| String::from_utf8_lossy(&b).into_owned())).transpose()?;
    let need_key = || key_text.clone().context("give the doctor's public key with --key doctor.asc");
    let outcome = match (qr, files) {
        (Some(text), _) => documents::qr::verify(text, &need_key()?).map(|s| {
            format!(
                "Good signature: {} {} for {} ({}), signed by {} at {}; key {}; canonical SHA-256 {}",
                s.kind, s.doc, s.patient, s.mrn, s.signer, s.at, s.key, s.sha256
            )
        }),
        (None, [pdf_file]) => pdf::verify_file(&read(pdf_file)?, key_text.as_deref()).map(|v| {
            if v.trusted_key {
                v.summary
            } else {
                format!(
                    "{}\nChecked with the key inside the PDF: the file is intact and signed by key {}. Compare that \
                     fingerprint with the doctor's published key, or pass it with --key, before trusting who signed.",
                    v.summary, v.fingerprint
                )
            }
        }),
        (None, [json, signature]) => {
            let (j, s) = (read(json)?, read(signature)?);
            documents::verify_files(&j, &String::from_utf8_lossy(&s), &need_key()?)
        }
        _ => bail!("give a PDF, or UUID.json and UUID.json.asc, or --qr TEXT"),
    };
    match outcome {
        Ok(message) => {
            println!("{message}");
            Ok(())
        }
        Err(e) => bail!("verification FAILED: {}", e.0),
    }
}

/// `galen print`: saves the PDF with --out, else sends it down the system print path.
pub fn print(clinic: &Clinic, pdf: &pdf::Pdf, out: Option<&Path>) -> Result<()> {
    if let Some(path) = out {
        pdf::save(clinic, pdf, path)?;
        println!("Saved {}.", path.display());
        return Ok(());
    }
    let printed = pdf::print::print(clinic, pdf, &pdf::print::Tools::from_path())?;
    match printed.route {
        Route::Printer { answer } => println!("Sent to the printer: {answer}"),
        Route::Viewer { program } => {
            println!("Opened {} with {program}; print it from there.", printed.path.display())
        }
        Route::Saved { message } => println!("{message}"),
    }
    Ok(())
}
