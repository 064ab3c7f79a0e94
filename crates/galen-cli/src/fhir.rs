//! `galen export fhir …` and `galen import fhir …`: patients' records in HL7 FHIR R4 (docs/fhir.md).

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::fhir::{self, Verdict};
use galen_core::Error;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// A patient's record as a signed International Patient Summary (one FHIR Bundle), or every patient as
    /// NDJSON files (FHIR Bulk Data's shape).
    Fhir {
        /// The patient's record number.
        #[arg(long, value_name = "MRN", conflicts_with = "all", required_unless_present = "all")]
        patient: Option<String>,
        /// Where to write the Bundle (default: patient-summary-MRN.json here).
        #[arg(long, value_name = "FILE", requires = "patient")]
        out: Option<PathBuf>,
        /// Write every patient who consented to sharing into this folder, one NDJSON file per resource type.
        #[arg(long, value_name = "DIR")]
        all: Option<PathBuf>,
        /// With --all: every patient, consented or not (a clinic moving to another system).
        #[arg(long, requires = "all")]
        every_patient: bool,
    },
    /// The copy of a record a patient asks for, in a new folder: a readable summary (PDF), the signed FHIR summary,
    /// who accessed the record (PDF), and every signed document's PDF.
    Record {
        /// The patient's record number.
        #[arg(long, value_name = "MRN")]
        patient: String,
        /// The new folder to write it in.
        dir: PathBuf,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Register patients from a FHIR file: a Patient, a Bundle, or NDJSON (with their allergies and conditions
    /// for clinical accounts). Shows the plan; nothing is written unless every patient can be.
    Fhir {
        /// The file.
        file: PathBuf,
        /// Only show what would happen.
        #[arg(long)]
        dry_run: bool,
        /// Register patients who look like ones already here (the override is logged).
        #[arg(long)]
        force: bool,
    },
}

pub fn export(ctx: &mut Ctx, command: ExportCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (patient, out, all, every_patient) = match command {
        ExportCommand::Fhir { patient, out, all, every_patient } => (patient, out, all, every_patient),
        ExportCommand::Record { patient, dir } => {
            let id = galen_core::patients::find_by_mrn(&clinic, &session, &patient)?.id;
            let copy = fhir::record_copy(&clinic, &session, id, &dir)?;
            println!("Wrote the record copy in {}:", copy.folder.display());
            copy.files.iter().for_each(|f| println!("  {f}"));
            warn_left_out(&copy.left_out);
            return Ok(());
        }
    };
    if let Some(dir) = all {
        let mut progress = |done: usize, total: usize| {
            eprint!("\rExporting patients: {done}/{total}");
            let _ = std::io::stderr().flush();
        };
        let bulk = fhir::bulk(&clinic, &session, &dir, every_patient, &mut progress)?;
        eprintln!();
        println!("Exported {} patient(s) to {}:", bulk.patients, dir.display());
        for (file, n) in &bulk.files {
            println!("  {file:<28} {n} resource(s)");
        }
        warn_left_out(&bulk.left_out);
        return Ok(());
    }
    let Some(mrn) = patient else { bail!("give --patient MRN or --all DIR") };
    let summary = fhir::patient_summary(&clinic, &session, &mrn)?;
    let path = out.unwrap_or_else(|| PathBuf::from(&summary.file_name));
    summary.save(&path)?;
    println!("Wrote {} (an International Patient Summary, signed by this clinic's site key).", path.display());
    warn_left_out(&summary.left_out);
    Ok(())
}

fn warn_left_out(uuids: &[String]) {
    for uuid in uuids {
        eprintln!("warning: document {uuid} was left out: its signature does not verify (see `galen document show`).");
    }
}

pub fn import(ctx: &mut Ctx, command: ImportCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let ImportCommand::Fhir { file, dry_run, force } = command;
    let bytes = crate::verify::read(&file, fhir::MAX_IMPORT_BYTES)?;
    let plan = fhir::plan(&clinic, &session, &bytes)?;
    for p in &plan.patients {
        let what = match &p.outcome {
            Verdict::Ready => "ready".to_owned(),
            Verdict::LikelyDuplicate(c) => format!("looks like {} patient(s) already here", c.len()),
            Verdict::Refused(_) => "refused".to_owned(),
        };
        println!("{:<32} {:<32} {:<11} {what}", p.source, p.name, p.birth_date);
        match &p.outcome {
            Verdict::Refused(errors) => errors.iter().for_each(|e| println!("    {}: {}", e.field, e.message)),
            Verdict::LikelyDuplicate(c) => c.iter().for_each(|c| println!("    {}", crate::patients::line(&c.patient))),
            Verdict::Ready => {}
        }
        if p.allergies + p.conditions > 0 {
            println!("    with {} allergy(ies) and {} condition(s)", p.allergies, p.conditions);
        }
        if p.clinical_left_out > 0 {
            println!(
                "    {} allergy or condition resource(s) left out: only clinical accounts record them",
                p.clinical_left_out
            );
        }
    }
    for line in &plan.not_imported {
        println!("Not imported: {line}");
    }
    if dry_run {
        println!("Dry run: nothing was written.");
        return Ok(());
    }
    match fhir::import(&clinic, &session, &bytes, force) {
        Ok(done) => {
            println!("Registered {} patient(s):", done.patients.len());
            for s in &done.patients {
                println!("  {}", crate::patients::line(s));
            }
            if done.duplicates_forced > 0 {
                println!("{} of them despite a likely duplicate (--force; logged).", done.duplicates_forced);
            }
            Ok(())
        }
        Err(Error::PossibleDuplicates(_)) => {
            bail!("some patients look like ones already here; nothing was written. If they are different people, run again with --force (the override is logged)")
        }
        Err(Error::Invalid(_)) if !plan.patients.is_empty() => {
            bail!("some patients cannot be registered (see above); nothing was written")
        }
        Err(e) => Err(e.into()),
    }
}
