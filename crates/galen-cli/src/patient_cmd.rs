//! `galen patient …`, `galen dev seed` and `galen bench search`.

use crate::{BenchCommand, PatientCommand, PatientFields};
use anyhow::{bail, Result};
use galen_core::patients::{self, search, Demographics, NewPatient, Patient, Sex, Summary};
use galen_core::{bench, Clinic, Error, Session};

fn apply(fields: PatientFields, d: &mut Demographics) -> Result<()> {
    if let Some(v) = fields.given {
        d.given_names = v;
    }
    if let Some(v) = fields.family {
        d.family_name = v;
    }
    if let Some(v) = fields.sex {
        let Some(sex) = Sex::parse(&v.to_lowercase()) else { bail!("--sex: use female, male, other or unknown") };
        d.sex = sex;
    }
    if let Some(v) = fields.dob {
        d.date_of_birth = v;
        d.estimated_age = None;
    }
    if let Some(v) = fields.age {
        d.date_of_birth.clear();
        d.estimated_age = Some(v);
    }
    if let Some(v) = fields.national_id {
        d.national_id = v;
    }
    if !fields.phone.is_empty() {
        d.phones = fields.phone;
    }
    if let Some(v) = fields.email {
        d.email = v;
    }
    if let Some(v) = fields.address {
        d.address = v;
    }
    if let Some(v) = fields.consent_share {
        d.consent_share = v;
    }
    Ok(())
}

fn line(s: &Summary) -> String {
    let dob = if s.dob_estimated { format!("~{}", &s.date_of_birth[..4]) } else { s.date_of_birth.clone() };
    format!(
        "{:<14} {:<40} {:<11} {}",
        s.mrn,
        format!("{} {}", s.family_name.to_uppercase(), s.given_names),
        dob,
        s.phones.join(", ")
    )
}

fn print_patient(p: &Patient) {
    let d = &p.demographics;
    println!("MRN:         {}", p.mrn);
    println!("Name:        {} {}", d.given_names, d.family_name);
    let dob = if p.dob_estimated { format!("{} (estimated)", &d.date_of_birth[..4]) } else { d.date_of_birth.clone() };
    println!("Born:        {dob}    Sex: {}", d.sex.as_str());
    for (label, value) in [("National ID", &d.national_id), ("Email", &d.email), ("Address", &d.address)] {
        if !value.is_empty() {
            println!("{label:<12} {value}");
        }
    }
    if !d.phones.is_empty() {
        println!("Phones:      {}", d.phones.join(", "));
    }
    println!("Consent to share with partner: {}", if d.consent_share { "yes" } else { "no" });
    match &p.clinical {
        None => println!("(clinical fields are not shown for your role)"),
        Some(c) => {
            println!("Blood type:  {}", if c.blood_type.is_empty() { "unknown" } else { &c.blood_type });
            for a in &c.allergies {
                println!("Allergy:     {} ({}) {}", a.substance, a.severity, a.reaction);
            }
            for cond in &c.conditions {
                println!("Condition:   {cond}");
            }
            if !c.notes.is_empty() {
                println!("Notes:       {}", c.notes);
            }
        }
    }
}

pub fn run(clinic: &Clinic, session: &Session, command: PatientCommand) -> Result<()> {
    match command {
        PatientCommand::Add { fields, force } => {
            let mut d = Demographics::default();
            apply(fields, &mut d)?;
            match patients::register(clinic, session, &NewPatient { demographics: d, clinical: None }, force) {
                Ok(p) => {
                    println!("Registered {} {} as {}.", p.demographics.given_names, p.demographics.family_name, p.mrn)
                }
                Err(Error::PossibleDuplicates(candidates)) => {
                    eprintln!("Possible duplicates; nothing was registered:");
                    for c in &candidates {
                        eprintln!("  {}", line(&c.patient));
                    }
                    bail!("if this is a different person, run again with --force (the override is logged)");
                }
                Err(e) => return Err(e.into()),
            }
        }
        PatientCommand::Search { query, page } => {
            let found = search::search(clinic, session, &query, page, 20)?;
            if found.mrn_check_failed {
                bail!("that MRN's check character does not match: a character is probably mistyped");
            }
            if found.results.is_empty() {
                println!("No patients match {query:?}.");
            }
            for s in &found.results {
                println!("{}", line(s));
            }
            if found.more {
                println!("(more: --page {})", page + 1);
            }
        }
        PatientCommand::Show { mrn, barcode } => {
            let p = patients::find_by_mrn(clinic, session, &mrn)?;
            print_patient(&p);
            if let Some(path) = barcode {
                let Some(svg) = galen_core::mrn::barcode_svg(&p.mrn, 80) else { bail!("could not encode {}", p.mrn) };
                std::fs::write(&path, svg)?;
                println!("Barcode written to {}.", path.display());
            }
        }
        PatientCommand::Edit { mrn, fields } => {
            let p = patients::find_by_mrn(clinic, session, &mrn)?;
            let mut d = p.demographics.clone();
            if p.dob_estimated && fields.dob.is_none() && fields.age.is_none() {
                bail!("this patient's date of birth is estimated; give --dob or --age with the edit");
            }
            apply(fields, &mut d)?;
            let p = patients::update_demographics(clinic, session, p.id, &d)?;
            println!("Updated {}.", p.mrn);
        }
        PatientCommand::Merge { keep, duplicate } => {
            let kept = patients::find_by_mrn(clinic, session, &keep)?;
            let dup = patients::find_by_mrn(clinic, session, &duplicate)?;
            let p = patients::merge(clinic, session, kept.id, dup.id)?;
            println!("Merged {} into {}; {} still finds this patient.", dup.mrn, p.mrn, dup.mrn);
        }
    }
    Ok(())
}

pub fn seed(clinic: &Clinic, session: &Session, count: u64, seed: u64) -> Result<()> {
    let started = std::time::Instant::now();
    let added = patients::seed::seed(clinic, session, count, seed)?;
    println!("Added {added} synthetic patients in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

pub fn bench(command: BenchCommand) -> Result<()> {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let (patients, samples, dir) = match command {
        BenchCommand::Search { patients, samples, dir } => (patients, samples, dir),
        BenchCommand::Sync { records } => return crate::sync_bench::run(records),
        BenchCommand::Sign { samples } => {
            let temp = tempfile::tempdir()?;
            let r = bench::sign(temp.path(), samples)?;
            println!("Signing a 3-line prescription ({samples} samples), p50 / p95 / p99 in ms:");
            println!(
                "| canonical JSON + signature (KDF excluded) | {:.2} / {:.2} / {:.2} |",
                ms(r.signing.p50),
                ms(r.signing.p95),
                ms(r.signing.p99)
            );
            println!(
                "| the same + QR signature + PDF (layout, font subsets, attachments) | {:.2} / {:.2} / {:.2} | {:.1}× at p95 |",
                ms(r.sign_and_render.p50),
                ms(r.sign_and_render.p95),
                ms(r.sign_and_render.p99),
                ms(r.sign_and_render.p95) / ms(r.signing.p95).max(f64::MIN_POSITIVE)
            );
            println!(
                "| whole sign, password check and key unlock included | {:.1} / {:.1} / {:.1} |",
                ms(r.with_kdf.p50),
                ms(r.with_kdf.p95),
                ms(r.with_kdf.p99)
            );
            return Ok(());
        }
    };
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_owned());
    eprintln!("Seeding {patients} patients in {} …", dir.display());
    let r = bench::search(&dir, patients, samples)?;
    println!("Patients: {}, seeded in {:.0} s; {samples} queries of each kind.", r.patients, r.seed_time.as_secs_f64());
    println!();
    println!("| query | SQLCipher p50 / p95 / p99 (ms) | plain SQLite p50 / p95 / p99 (ms) | p95 ratio |");
    println!("|---|---|---|---|");
    for q in &r.queries {
        println!(
            "| {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.2}× |",
            q.kind,
            ms(q.encrypted.p50),
            ms(q.encrypted.p95),
            ms(q.encrypted.p99),
            ms(q.plain.p50),
            ms(q.plain.p95),
            ms(q.plain.p99),
            q.ratio_p95()
        );
    }
    println!(
        "| registration commit | {:.2} / {:.2} / {:.2} | | |",
        ms(r.commit.p50),
        ms(r.commit.p95),
        ms(r.commit.p99)
    );
    Ok(())
}
