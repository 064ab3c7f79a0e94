//! `galen`: the command line for setting up and looking after a Galen clinic.
//!
//! A thin layer over `galen-core`: each subcommand parses its arguments, asks for secrets without echo, calls
//! galen-core and prints the outcome. galen-core decides every permission; commands that need one sign in
//! first (`--user`, or asked). Secrets are read from the terminal, or one per line from standard input when it
//! is not a terminal (for scripts and tests).
//!
//! ```text
//! galen --data-dir ./clinic init --site "Clínica Sol" --admin ana --name "Ana Lima"
//! galen --data-dir ./clinic --user ana user add --role doctor --username rui --name "Dr Rui Costa" --licence CRM-123
//! galen --data-dir ./clinic --user ana backup ./clinic-2026-11-21.galenbak
//! ```

mod commands;
mod documents_cmd;
mod patient_cmd;
mod prompt;
mod sync_bench;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "galen", version, about = "Set up and look after a Galen clinic database.")]
pub struct Cli {
    /// The clinic's data folder (default: the OS data directory, e.g. ~/.local/share/galen).
    #[arg(long, global = true, env = "GALEN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Sign in as this user for commands that need it (the password is asked).
    #[arg(long, global = true, env = "GALEN_USER", value_name = "USERNAME")]
    pub user: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a new clinic: its name, then the first admin. Prints the recovery key once.
    Init {
        /// The clinic's name, as printed on documents.
        #[arg(long)]
        site: Option<String>,
        /// The first admin's username.
        #[arg(long)]
        admin: Option<String>,
        /// The first admin's full name.
        #[arg(long)]
        name: Option<String>,
    },
    /// Show where the data is, whether the keyring holds the key, and the database's state.
    Status,
    /// Read every page of the database and report any damage, naming the pages.
    Check,
    /// Unlock when the keyring has lost the key, and store the key in the keyring again.
    Unlock {
        /// Unlock with an admin's password.
        #[arg(long, conflicts_with = "recovery_key", required_unless_present = "recovery_key")]
        admin: bool,
        /// The admin's username (asked if omitted).
        #[arg(long, requires = "admin")]
        username: Option<String>,
        /// Unlock with the recovery key from the recovery sheet (asked without echo).
        #[arg(long)]
        recovery_key: bool,
    },
    /// Sign in, with the same checks as the app (throttling, forced password change), and show who you are.
    Login,
    /// Change your own password.
    Passwd,
    /// Manage staff accounts (admins).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Read and verify the tamper-evident audit trail (admins).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Register, find, show, edit and merge patients.
    Patient {
        #[command(subcommand)]
        command: PatientCommand,
    },
    /// Developer tools: synthetic data.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Benchmarks, reported as ratios against a baseline run in the same process.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Prescriptions: draft, add lines, sign, show, void.
    Rx {
        #[command(subcommand)]
        command: RxCommand,
    },
    /// Birth, death and sick-leave certificates: draft and sign.
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
    /// Signed documents: show with verification, export for offline checking.
    Document {
        #[command(subcommand)]
        command: DocumentCommand,
    },
    /// Check a Galen PDF, an exported document, or the text of a printed QR, with only the doctor's public key
    /// (no database).
    Verify {
        /// A Galen PDF (it carries the signed JSON, the signature and a key), or UUID.json then UUID.json.asc.
        #[arg(required_unless_present = "qr", num_args = 1..=2)]
        files: Vec<std::path::PathBuf>,
        /// The text decoded from a printed QR (GALEN1:…), instead of files.
        #[arg(long, conflicts_with = "files")]
        qr: Option<String>,
        /// The doctor's public key (armored). A PDF carries one, but only a key you trust says who signed.
        #[arg(long)]
        key: Option<std::path::PathBuf>,
    },
    /// Print a signed document (by id) through the system's print path (CUPS lp, else the PDF viewer), or with
    /// --out save its PDF. Also prints a patient's ID card and labels, or the recovery-key sheet.
    Print {
        /// The signed document's id.
        #[arg(required_unless_present_any = ["card", "recovery_sheet"], conflicts_with_all = ["card", "recovery_sheet"])]
        id: Option<i64>,
        /// Print this patient's ID card and labels instead.
        #[arg(long, value_name = "MRN", conflicts_with = "recovery_sheet")]
        card: Option<String>,
        /// Print the recovery-key sheet instead (the key is asked for and must be the current one; no sign-in).
        #[arg(long)]
        recovery_sheet: bool,
        /// Save the PDF here instead of printing it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// This clinic's identity towards a partner: X.509 site CA + client certificate and an OpenPGP site key.
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Sync with the paired partner (admins): pair, sync now, status, conflicts.
    Sync {
        #[command(subcommand)]
        command: SyncCommand,
    },
    /// Manage the database key (admins).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Write an encrypted, self-contained backup that opens with the recovery key (admins).
    Backup {
        /// Where to write the backup file.
        file: PathBuf,
    },
    /// Replace the clinic's data with a backup, once the backup has been fully verified.
    ///
    /// With a working clinic, an admin signs in (--user). On a new machine, or when the current database is
    /// lost, give --recovery-key instead.
    Restore {
        /// The backup file to restore.
        file: PathBuf,
        /// Ask for the recovery key that was current when the backup was made.
        #[arg(long)]
        recovery_key: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The new user's password is asked twice.
    Add {
        #[arg(long)]
        username: String,
        /// Full name, as shown in the app and printed on documents.
        #[arg(long)]
        name: String,
        /// admin, doctor, nurse or receptionist.
        #[arg(long)]
        role: String,
        /// Professional licence number (required for doctors).
        #[arg(long)]
        licence: Option<String>,
    },
    /// List every account.
    List,
    /// Disable an account: it can no longer sign in, and its sessions stop working.
    Disable { username: String },
    /// Re-enable a disabled account.
    Enable { username: String },
    /// Set a temporary password (printed once); the user must change it at next sign-in.
    ResetPassword { username: String },
    /// Lift a sign-in lockout early.
    ClearLock { username: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show the newest audit rows.
    Show {
        /// How many rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only actions taken under emergency access, with the reasons given.
        #[arg(long)]
        break_glass: bool,
    },
    /// Check the hash chain and name the first row that was edited, deleted, inserted or reordered.
    Verify,
}

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

#[derive(Debug, Subcommand)]
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

#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Add synthetic patients (deterministic for a seed), for demos and benchmarks.
    Seed {
        #[arg(long)]
        patients: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Seed a throwaway clinic, then time searches on it and on an unencrypted copy, and registrations.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        patients: u64,
        /// Queries of each kind (and registrations).
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// Where to build the throwaway clinic (default: a temporary folder, removed afterwards).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Time signing a 3-line prescription (canonical JSON + OpenPGP signature), the password KDF excluded.
    Sign {
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Push throughput to a real partner server over mTLS on loopback, against sealing and opening alone.
    Sync {
        /// Consented patients to push.
        #[arg(long, default_value_t = 10_000)]
        records: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Create the site identity (admins; once: partners come to trust it).
    Init,
    /// Show the site identity and its safety number.
    Show,
    /// Write the pairing file to hand to a partner (public parts only), and show its safety number.
    PairingFile {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Pair with a partner from its pairing file, once its people read you the same safety number.
    Pair {
        /// The partner's pairing file (from `galen-partner pairing-file`).
        file: std::path::PathBuf,
        /// The partner's address, e.g. https://partner.example.org:8443
        #[arg(long)]
        url: String,
        /// The safety number the partner read to you (asked for when not given).
        #[arg(long)]
        safety_number: Option<String>,
    },
    /// Queue what changed, push it and pull what other sites sent, now.
    Now,
    /// Last success, pending records, last error, open conflicts.
    Status,
    /// List the open conflicts (both versions), or resolve one.
    Conflicts {
        /// Resolve this conflict...
        #[arg(long, requires = "keep")]
        resolve: Option<i64>,
        /// ...keeping this clinic's version (`local`) or the one that arrived (`incoming`).
        #[arg(long, value_parser = ["local", "incoming"])]
        keep: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-encrypt the database under a new key, and issue a new recovery key.
    Rotate,
    /// Issue a new recovery key (e.g. the sheet was lost); the old one stops working. Admins.
    NewRecovery,
    /// Write a doctor's OpenPGP public key (armored), for pharmacies and registries to verify signatures.
    ExportPublic {
        /// The doctor's username.
        doctor: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
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

#[derive(Debug, Subcommand)]
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

#[derive(Debug, Subcommand)]
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

#[derive(Debug, Subcommand)]
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

fn main() -> ExitCode {
    match commands::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
