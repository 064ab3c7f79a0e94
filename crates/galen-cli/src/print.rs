//! `galen print`: a signed document, a patient's ID card and labels, a doctor's day list, an appointment card, a
//! patient's access report, or the recovery-key sheet, down the system's print path (CUPS `lp`, else the PDF viewer), or saved with `--out`.

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::pdf::{self, print::Route, Printout};
use galen_core::{appointments, patients, RecoveryKey};

/// What `galen print` prints.
#[derive(Debug, clap::Args)]
pub struct PrintArgs {
    /// The signed document's id.
    #[arg(
        required_unless_present_any = ["card", "recovery_sheet", "day_list", "appointment", "access_report"],
        conflicts_with_all = ["card", "recovery_sheet", "day_list", "appointment", "access_report"]
    )]
    pub id: Option<i64>,
    /// Print this patient's ID card and labels instead.
    #[arg(long, value_name = "MRN", conflicts_with_all = ["recovery_sheet", "day_list", "appointment"])]
    pub card: Option<String>,
    /// Print a doctor's day list for this day (YYYY-MM-DD, or "today"), with --doctor.
    #[arg(long, value_name = "DATE", requires = "doctor", conflicts_with_all = ["recovery_sheet", "appointment"])]
    pub day_list: Option<String>,
    /// The doctor whose day list to print (username).
    #[arg(long, value_name = "USERNAME", requires = "day_list")]
    pub doctor: Option<String>,
    /// Print the appointment card for this appointment id.
    #[arg(long, value_name = "ID", conflicts_with_all = ["recovery_sheet", "access_report"])]
    pub appointment: Option<i64>,
    /// Print who accessed this patient's record, from the audit trail (admins).
    #[arg(long, value_name = "MRN", conflicts_with_all = ["recovery_sheet", "card", "day_list"])]
    pub access_report: Option<String>,
    /// Print the recovery-key sheet instead (the key is asked for and must be the current one; no sign-in).
    #[arg(long)]
    pub recovery_sheet: bool,
    /// Save the PDF here instead of printing it.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

pub fn run(ctx: &mut Ctx, args: PrintArgs) -> Result<()> {
    let PrintArgs { id, card, day_list, doctor, appointment, access_report, recovery_sheet, out } = args;
    let clinic = ctx.clinic()?;
    let pdf = if recovery_sheet {
        // Knowing the current recovery key is the permission (see pdf::recovery_sheet).
        pdf::recovery_sheet(&clinic, &RecoveryKey::parse(ctx.input.secret("Recovery key: ")?.expose())?)?
    } else {
        let session = ctx.sign_in(&clinic)?.0;
        let what = if let Some(id) = id {
            Printout::Document(id)
        } else if let Some(mrn) = card {
            Printout::PatientCard(patients::find_by_mrn(&clinic, &session, &mrn)?.id)
        } else if let (Some(date), Some(doctor)) = (day_list, doctor) {
            let date = if date == "today" { appointments::today(&clinic)? } else { date };
            Printout::DayList { date, doctor_id: crate::appointments::doctor_id(&clinic, &session, &doctor)? }
        } else if let Some(id) = appointment {
            Printout::AppointmentCard(id)
        } else if let Some(mrn) = access_report {
            Printout::AccessReport(mrn)
        } else {
            bail!(
                "say what to print: a document id, --card MRN, --day-list DATE --doctor USERNAME, --appointment ID, \
                 --access-report MRN or --recovery-sheet"
            )
        };
        pdf::render(&clinic, &session, &what)?
    };
    if let Some(path) = out {
        pdf::save(&clinic, &pdf, &path)?;
        println!("Saved {}.", path.display());
        if recovery_sheet {
            println!("Print it, then delete the file: together with galen.keys it opens the data.");
        }
        return Ok(());
    }
    match pdf::print::print(&clinic, &pdf, &pdf::print::Tools::from_path())? {
        Route::Printer { answer } => println!("Sent to the printer: {answer}"),
        Route::Viewer { program, path, printer_refused } => {
            if let Some(why) = printer_refused {
                println!("{why}");
            }
            println!("Opened {} with {program}; print it from there.", path.display());
            // The copy goes once it is printed, like the app's at sign-out (else at the next start).
            if ctx.input.wait_for_enter("Press Enter once it has printed, and Galen deletes its copy.")? {
                let _ = std::fs::remove_file(&path);
            }
        }
        Route::Saved { message, .. } => println!("{message}"),
        Route::NotPrinted { message } => bail!("{message} (galen print --recovery-sheet --out FILE.pdf)"),
    }
    Ok(())
}
