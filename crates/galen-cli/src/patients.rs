//! `galen patient …`: register, find, show, edit and merge patients.

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::patients::{self, search, Demographics, NewPatient, Patient, Sex, Summary};
use galen_core::Error;

/// Demographic fields, shared by `patient add` and `patient edit`.
#[derive(Debug, clap::Args)]
pub struct PatientFields {
    /// Given name(s).
    #[arg(long)]
    pub given: Option<String>,
    /// Family name(s).
    #[arg(long)]
    pub family: Option<String>,
    /// female, male, other or unknown.
    #[arg(long)]
    pub sex: Option<String>,
    /// Date of birth, YYYY-MM-DD.
    #[arg(long)]
    pub dob: Option<String>,
    /// Estimated age in years, when the date of birth is not known.
    #[arg(long, conflicts_with = "dob")]
    pub age: Option<u32>,
    #[arg(long)]
    pub national_id: Option<String>,
    /// A phone number (repeat for more).
    #[arg(long)]
    pub phone: Vec<String>,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    /// The patient consents to sharing their record with the clinic's partner.
    #[arg(long)]
    pub consent_share: Option<bool>,
}

#[derive(Debug, clap::Subcommand)]
pub enum PatientCommand {
    /// Register a patient; prints the new MRN.
    Add {
        #[command(flatten)]
        fields: PatientFields,
        /// Register even though likely duplicates were found (the override is logged).
        #[arg(long)]
        force: bool,
    },
    /// Search by name (any part, any order), MRN, national ID, phone or date of birth.
    Search {
        query: String,
        /// Page number, from 0.
        #[arg(long, default_value_t = 0)]
        page: u32,
    },
    /// Show one patient by MRN (clinical fields only if your role may see them).
    Show {
        mrn: String,
        /// Also write the MRN as a Code 128 barcode (SVG) to this file.
        #[arg(long)]
        barcode: Option<std::path::PathBuf>,
    },
    /// Change a patient's demographics; only the fields given change.
    Edit {
        mrn: String,
        #[command(flatten)]
        fields: PatientFields,
    },
    /// Merge a duplicate into the record to keep (doctors and admins); the duplicate's MRN keeps resolving.
    Merge {
        /// The MRN of the record to keep.
        keep: String,
        /// The MRN of the duplicate to merge into it.
        duplicate: String,
    },
}

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

pub(crate) fn line(s: &Summary) -> String {
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
    if p.deceased {
        println!("Deceased:    a signed death certificate names this patient");
    }
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

pub fn run(ctx: &mut Ctx, command: PatientCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session) = (&clinic, &session);
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
            let p = patients::update(clinic, session, p.id, &NewPatient { demographics: d, clinical: None })?;
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
