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
mod patient_cmd;
mod prompt;

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
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-encrypt the database under a new key, and issue a new recovery key.
    Rotate,
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
