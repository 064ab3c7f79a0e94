//! # galen-cli
//!
//! `galen`: the command line for setting up and looking after a Galen clinic (the binary is `src/main.rs`).
//!
//! A thin layer over `galen-core`: each subcommand's module owns its arguments and its `run`, which asks for
//! secrets without echo, calls galen-core and prints the outcome. galen-core decides every permission; commands
//! that need one sign in first through `session.rs` (`--user`, or asked). Secrets are read from the terminal, or
//! one per line from standard input when it is not a terminal (for scripts and tests).
//!
//! ```text
//! galen --data-dir ./clinic init --site "Clínica Sol" --admin ana --name "Ana Lima"
//! galen --data-dir ./clinic --user ana user add --role doctor --username rui --name "Dr Rui Costa" --licence CRM-123
//! galen --data-dir ./clinic --user ana backup ./clinic-2026-11-21.galenbak
//! ```

mod account;
mod appointments;
mod audit;
mod backup;
#[cfg(feature = "dev")]
mod dev;
mod documents;
mod fhir;
mod keys;
mod patients;
mod print;
mod prompt;
mod session;
mod settings;
mod setup;
mod site;
mod sync;
mod users;
mod verify;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use galen_core::{vault, Vault};
use session::Ctx;
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
    Init(setup::InitArgs),
    /// Show where the data is, whether the keyring holds the key, and the database's state.
    Status,
    /// Read every page of the database and report any damage, naming the pages.
    Check,
    /// Unlock when the keyring has lost the key, and store the key in the keyring again.
    Unlock(setup::UnlockArgs),
    /// Sign in, with the same checks as the app (throttling, forced password change), and show who you are.
    Login,
    /// Change your own password.
    Passwd,
    /// Manage staff accounts (admins).
    #[command(subcommand)]
    User(users::UserCommand),
    /// Read and verify the tamper-evident audit trail (admins).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Show the clinic's settings, or change one (admins): letterhead, logo, paper, idle lock, language, MRN prefix.
    #[command(subcommand)]
    Settings(settings::SettingsCommand),
    /// Register, find, show, edit and merge patients.
    #[command(subcommand)]
    Patient(patients::PatientCommand),
    /// The appointment book: book, list, move, cancel, check in, the queue, reminders, opening hours.
    #[command(subcommand)]
    Appt(appointments::ApptCommand),
    /// Developer tools: synthetic data (built with the `dev` feature).
    #[cfg(feature = "dev")]
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Benchmarks, reported as ratios against a baseline run in the same process (the `dev` feature).
    #[cfg(feature = "dev")]
    #[command(subcommand)]
    Bench(dev::BenchCommand),
    /// Prescriptions: draft, add lines, sign, show, void.
    #[command(subcommand)]
    Rx(documents::RxCommand),
    /// Birth, death and sick-leave certificates: draft and sign.
    #[command(subcommand)]
    Cert(documents::CertCommand),
    /// Signed documents: show with verification, export for offline checking.
    #[command(subcommand)]
    Document(documents::DocumentCommand),
    /// Export patients' records as HL7 FHIR R4.
    #[command(subcommand)]
    Export(fhir::ExportCommand),
    /// Import patients from HL7 FHIR R4 files.
    #[command(subcommand)]
    Import(fhir::ImportCommand),
    /// Check a Galen PDF, an exported document, or the text of a printed QR, with only the doctor's public key
    /// (no database).
    Verify(verify::VerifyArgs),
    /// Print a signed document (by id) through the system's print path (CUPS lp, else the PDF viewer), or with
    /// --out save its PDF. Also prints a patient's ID card and labels, or the recovery-key sheet.
    Print(print::PrintArgs),
    /// This clinic's identity towards a partner: X.509 site CA + client certificate and an OpenPGP site key.
    #[command(subcommand)]
    Site(site::SiteCommand),
    /// Sync with the paired partner (admins): pair, sync now, status, conflicts.
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// Manage the database key (admins).
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Write an encrypted, self-contained backup that opens with the recovery key (admins); schedule backups,
    /// run and drill them, and see where they stand.
    Backup(backup::BackupArgs),
    /// Replace the clinic's data with a backup, once the backup has been fully verified.
    ///
    /// With a working clinic, an admin signs in (--user). On a new machine, or when the current database is
    /// lost, give --recovery-key instead.
    Restore(backup::RestoreArgs),
}

fn run(cli: Cli) -> Result<()> {
    let dir = match cli.data_dir {
        Some(d) => d,
        None => vault::default_data_dir().context("no OS data directory is known; pass --data-dir")?,
    };
    let ctx = &mut Ctx { vault: Vault::new(dir), input: prompt::Input::new(), user: cli.user };
    galen_core::logging::to_data_folder(&ctx.vault)?;
    let result = dispatch(ctx, cli.command);
    if let Err(e) = &result {
        // The code only: the message may name a patient.
        let code = e.downcast_ref::<galen_core::Error>().map(galen_core::Error::code);
        let code = code.or_else(|| e.downcast_ref::<galen_core::StoreError>().map(galen_core::StoreError::code));
        tracing::warn!(code = code.unwrap_or("cli"), "command failed");
    }
    result
}

fn dispatch(ctx: &mut Ctx, command: Command) -> Result<()> {
    match command {
        Command::Init(args) => setup::init(ctx, args),
        Command::Status => setup::status(ctx),
        Command::Check => setup::check(ctx),
        Command::Unlock(args) => setup::unlock(ctx, args),
        Command::Login => account::login(ctx),
        Command::Passwd => account::passwd(ctx),
        Command::User(command) => users::run(ctx, command),
        Command::Audit(command) => audit::run(ctx, command),
        Command::Settings(command) => settings::run(ctx, command),
        Command::Patient(command) => patients::run(ctx, command),
        Command::Appt(command) => appointments::run(ctx, command),
        #[cfg(feature = "dev")]
        Command::Dev(command) => dev::run_dev(ctx, command),
        #[cfg(feature = "dev")]
        Command::Bench(command) => dev::run_bench(command),
        Command::Rx(command) => documents::rx(ctx, command),
        Command::Cert(command) => documents::cert(ctx, command),
        Command::Document(command) => documents::document(ctx, command),
        Command::Export(command) => fhir::export(ctx, command),
        Command::Import(command) => fhir::import(ctx, command),
        Command::Verify(args) => verify::run(args),
        Command::Print(args) => print::run(ctx, args),
        Command::Site(command) => site::run(ctx, command),
        Command::Sync(command) => sync::run(ctx, command),
        Command::Key(command) => keys::run(ctx, command),
        Command::Backup(args) => backup::run(ctx, args),
        Command::Restore(args) => backup::restore(ctx, args),
    }
}

/// The `galen` command: parses the arguments, runs the subcommand, and prints any error on one line, with the
/// command to type next where there is one.
pub fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if let Some(step) = next_step(&e) {
                eprintln!("{step}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The `galen` command that gets past an error galen-core words for every front end.
fn next_step(e: &anyhow::Error) -> Option<&'static str> {
    use galen_core::error::Missing;
    use galen_core::{Error, StoreError};
    let store = match (e.downcast_ref::<StoreError>(), e.downcast_ref::<Error>()) {
        (Some(s), _) | (None, Some(Error::Store(s))) => s,
        (None, Some(Error::NotFound(Missing::SiteIdentity))) => return Some("Run `galen site init` first."),
        _ => return None,
    };
    Some(match store {
        StoreError::NotInitialized { .. } => "Run `galen init` to set up this clinic, or pass the right --data-dir.",
        StoreError::AlreadyInitialized { .. } => {
            "Use another --data-dir, or `galen restore` to replace it from a backup."
        }
        StoreError::KeyringUnavailable { .. } | StoreError::KeyMissing { .. } | StoreError::WrongKey => {
            "Unlock with `galen unlock --admin` or `galen unlock --recovery-key`."
        }
        StoreError::RotationInterrupted => "Run `galen unlock --admin` to complete it.",
        StoreError::WrongAdminPassword => "Or unlock with `galen unlock --recovery-key`.",
        StoreError::BackupNeedsRecoveryKey => "Run `galen restore FILE --recovery-key`.",
        StoreError::BackupFolderMissing { .. } => {
            "Plug in the drive (or connect the share), or choose another folder: `galen backup schedule set --folder DIR …`."
        }
        StoreError::BackupNotScheduled => "Set a schedule first: `galen backup schedule set --folder DIR --at 02:00`.",
        StoreError::NoBackupYet { .. } => "Make one with `galen backup run`.",
        StoreError::DiskFull { .. } => {
            "Free some space on that disk (empty the trash, move old files away), then run the same command again."
        }
        StoreError::Busy { .. } => {
            "Wait for the other Galen (the app, or another `galen` command) to finish, then run the same command again."
        }
        StoreError::ReadOnly { .. } => {
            "Make the disk writable again (check it is mounted read-write), then run the same command again."
        }
        StoreError::PermissionDenied { .. } => {
            "Give the data folder back to the user who runs Galen (the command is in the message above), or run Galen as its owner."
        }
        StoreError::WalMissing { .. } => {
            "Put galen.db-wal back beside galen.db, or restore a backup with `galen restore`."
        }
        StoreError::NotGalenDatabase { .. } | StoreError::Corrupted { .. } | StoreError::KeyFile { .. } => {
            "Check --data-dir; if it is the right folder, restore a backup with `galen restore`."
        }
        _ => return None,
    })
}
