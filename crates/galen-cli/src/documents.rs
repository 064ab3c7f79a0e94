//! `galen rx …`, `galen cert …` and `galen document …`: prescriptions and certificates, from draft to signed,
//! shown with their signature checked, exported, corrected.

use crate::prompt::Input;
use crate::session::Ctx;
use anyhow::{bail, Context, Result};
use galen_core::documents::{self, Body, Document, Verification};
use galen_core::{patients, Clinic, Session};

#[derive(Debug, clap::Subcommand)]
pub enum RxCommand {
    /// Start a prescription for a patient (by MRN); prints its document number.
    New {
        #[arg(long)]
        patient: String,
        #[arg(long, default_value = "")]
        pharmacy: String,
        #[arg(long, default_value = "")]
        notes: String,
    },
    /// Add or change lines on a draft prescription.
    Line {
        #[command(subcommand)]
        command: LineCommand,
    },
    /// Sign a draft prescription (asks for your password again).
    Sign {
        id: i64,
        /// Confirm that you have read the allergy and pregnancy warnings.
        #[arg(long)]
        acknowledge_warnings: bool,
    },
    /// Show a prescription and whether its signature verifies.
    Show { id: i64 },
    /// Void a signed prescription with a signed notice (asks for your password).
    Void {
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum LineCommand {
    /// Add a medicine to a draft prescription.
    Add {
        id: i64,
        #[arg(long)]
        medicament: String,
        #[arg(long)]
        dose: String,
        /// mg, g, mcg, mL, IU, tablet, capsule, drop, puff or unit.
        #[arg(long)]
        unit: String,
        #[arg(long, default_value = "by mouth")]
        route: String,
        #[arg(long, default_value = "")]
        form: String,
        #[arg(long)]
        quantity: u32,
        /// Every N (see --every-unit); omit with --prn.
        #[arg(long, default_value_t = 0)]
        every: u32,
        #[arg(long, default_value = "hours")]
        every_unit: String,
        /// As needed.
        #[arg(long)]
        prn: bool,
        #[arg(long)]
        duration: u32,
        #[arg(long, default_value = "days")]
        period: String,
        #[arg(long, default_value_t = 0)]
        refills: u32,
        /// YYYY-MM-DD (default: 30 days after the prescription date).
        #[arg(long)]
        valid_until: Option<String>,
        #[arg(long, default_value = "")]
        indication: String,
        #[arg(long, default_value = "")]
        comment: String,
        /// Do not allow the pharmacy to substitute a generic.
        #[arg(long)]
        no_substitution: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum CertCommand {
    /// Start a birth certificate for a patient (by MRN).
    Birth {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        mother: String,
        #[arg(long, default_value = "")]
        father: String,
        #[arg(long)]
        country: String,
        #[arg(long, default_value = "")]
        subdivision: String,
        #[arg(long, default_value = "")]
        institution: String,
        #[arg(long, default_value = "")]
        observations: String,
    },
    /// Start a death certificate for a patient (by MRN).
    Death {
        #[arg(long)]
        patient: String,
        /// YYYY-MM-DDTHH:MM.
        #[arg(long)]
        died_at: String,
        #[arg(long)]
        cause: String,
        /// An underlying condition as CONDITION:INTERVAL:UNIT, e.g. "COPD:10:years" (repeatable).
        #[arg(long)]
        underlying: Vec<String>,
        /// natural, suicide, homicide, undetermined or pending_investigation.
        #[arg(long)]
        manner: String,
        /// home, work, public_place or health_center.
        #[arg(long)]
        place: String,
        #[arg(long, default_value = "")]
        place_details: String,
        #[arg(long)]
        autopsy: bool,
        #[arg(long)]
        country: String,
        #[arg(long, default_value = "")]
        subdivision: String,
        #[arg(long, default_value = "")]
        institution: String,
        #[arg(long, default_value = "")]
        observations: String,
    },
    /// Start a sick-leave certificate for a patient (by MRN).
    SickLeave {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "")]
        restrictions: String,
        /// Printed only with --diagnosis-consent (the patient agreed).
        #[arg(long, default_value = "")]
        diagnosis: String,
        #[arg(long)]
        diagnosis_consent: bool,
    },
    /// Sign a draft certificate (asks for your password again).
    Sign { id: i64 },
}

#[derive(Debug, clap::Subcommand)]
pub enum DocumentCommand {
    /// Show any document and whether its signature verifies.
    Show { id: i64 },
    /// Write UUID.json (the signed bytes), UUID.json.asc (the signature) and the doctor's public key to DIR.
    Export { id: i64, dir: std::path::PathBuf },
    /// Start a correction of a signed document: a new draft that supersedes it once signed.
    Correct { id: i64 },
    /// Print the text of a signed document's QR, and optionally write the QR as SVG.
    Qr {
        id: i64,
        #[arg(long)]
        svg: Option<std::path::PathBuf>,
    },
}

fn patient_id(clinic: &Clinic, session: &Session, mrn: &str) -> Result<i64> {
    Ok(patients::find_by_mrn(clinic, session, mrn)?.id)
}

fn today(clinic: &Clinic) -> String {
    clinic.now().date().to_string()
}

fn sign(clinic: &Clinic, session: &Session, input: &mut Input, id: i64, acknowledge: bool) -> Result<()> {
    let warnings = documents::open(clinic, session, id)?.warnings;
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
    let view = documents::open(clinic, session, id)?;
    print_document(&view.document);
    match view.verification {
        Verification::Valid { signer, signed_at, notes } => {
            println!(
                "Signature: VALID — signed by {} (licence {}) at {signed_at}; key {}",
                signer.name, signer.licence, signer.fingerprint
            );
            for note in notes {
                println!("Note: {note}");
            }
        }
        Verification::Unsigned => println!("Signature: none yet (draft)"),
        Verification::Invalid { problem } => println!("Signature: INVALID — document {id}: {problem}"),
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

pub fn rx(ctx: &mut Ctx, command: RxCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session, input) = (&clinic, &session, &mut ctx.input);
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
            let d = documents::open(clinic, session, id)?.document;
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

pub fn cert(ctx: &mut Ctx, command: CertCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session, input) = (&clinic, &session, &mut ctx.input);
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

pub fn document(ctx: &mut Ctx, command: DocumentCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session) = (&clinic, &session);
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
            let Some(text) = documents::open(clinic, session, id)?.qr_text else {
                bail!("document {id} is not signed yet")
            };
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
