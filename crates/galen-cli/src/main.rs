//! `galen`: the command line for setting up and looking after a Galen clinic.
//!
//! A thin layer over `galen-core`: each subcommand parses its arguments, asks for secrets without echo, calls
//! one core function and prints the outcome. Secrets are read from the terminal, or one per line from standard
//! input when it is not a terminal (for scripts and tests).
//!
//! ```text
//! galen --data-dir ./clinic init --site "Clínica Sol" --admin ana
//! galen --data-dir ./clinic status
//! galen --data-dir ./clinic backup ./clinic-2026-11-21.galenbak
//! ```

mod prompt;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use galen_core::{backup, patients, settings, vault, RecoveryKey, StoreError, Vault};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "galen", version, about = "Set up and look after a Galen clinic database.")]
struct Cli {
    /// The clinic's data folder (default: the OS data directory, e.g. ~/.local/share/galen).
    #[arg(long, global = true, env = "GALEN_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set up a new clinic: its name, then the first admin. Prints the recovery key once.
    Init {
        /// The clinic's name, as printed on documents.
        #[arg(long)]
        site: Option<String>,
        /// The first admin's username.
        #[arg(long)]
        admin: Option<String>,
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
    /// Manage the database key.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Write an encrypted, self-contained backup that opens with the recovery key.
    Backup {
        /// Where to write the backup file.
        file: PathBuf,
    },
    /// Replace the clinic's data with a backup, once the backup has been fully verified.
    Restore {
        /// The backup file to restore.
        file: PathBuf,
        /// Ask for the recovery key that was current when the backup was made.
        #[arg(long)]
        recovery_key: bool,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Re-encrypt the database under a new key, and issue a new recovery key.
    Rotate {
        /// The admin's username (asked if omitted).
        #[arg(long)]
        username: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let dir = match cli.data_dir {
        Some(d) => d,
        None => vault::default_data_dir().context("no OS data directory is known; pass --data-dir")?,
    };
    let vault = Vault::new(dir);
    let mut input = prompt::Input::new();
    match cli.command {
        Command::Init { site, admin } => init(&vault, &mut input, site, admin),
        Command::Status => status(&vault),
        Command::Check => {
            let store = vault.open()?;
            store.check_integrity()?;
            println!("ok: every page of {} passed the integrity check", store.path().display());
            Ok(())
        }
        Command::Unlock { username, recovery_key, .. } => {
            let unlocked = if recovery_key {
                let key = RecoveryKey::parse(input.secret("Recovery key: ")?.expose())?;
                vault.unlock_with_recovery(&key)?
            } else {
                let user = input.value_or("Admin username: ", username)?;
                vault.unlock_with_admin(&user, input.secret("Admin password: ")?.expose())?
            };
            println!("Unlocked {}.", unlocked.store.path().display());
            report_keyring(&vault, unlocked.keyring);
            Ok(())
        }
        Command::Key { command: KeyCommand::Rotate { username } } => {
            let mut store = vault.open()?;
            let user = input.value_or("Admin username: ", username)?;
            let recovery = vault.rotate_key(&mut store, &user, input.secret("Admin password: ")?.expose())?;
            println!("The database is now encrypted under a new key.");
            print_recovery_key(&recovery);
            println!("Other admins get a new unlock wrap the next time they unlock with their password.");
            Ok(())
        }
        Command::Backup { file } => {
            let store = vault.open()?;
            let summary = backup::backup(&vault, &store, &file)?;
            println!(
                "Backup written to {} ({} bytes, schema {}).",
                file.display(),
                summary.bytes,
                summary.schema_version
            );
            println!("It opens with this clinic's recovery key; keep it somewhere safe, away from this laptop.");
            Ok(())
        }
        Command::Restore { file, recovery_key } => {
            let current = match vault.open() {
                Ok(store) => Some(store),
                Err(StoreError::NotInitialized { .. }) => None,
                Err(e) if recovery_key => {
                    eprintln!("note: the current database could not be opened ({e}); restoring over it.");
                    None
                }
                Err(e) => return Err(e.into()),
            };
            let key = if recovery_key {
                Some(RecoveryKey::parse(input.secret("Recovery key of the backup: ")?.expose())?)
            } else {
                None
            };
            let summary = backup::restore(&vault, &file, current, key.as_ref())?;
            println!(
                "Restored {} (schema {}); the previous data was replaced.",
                file.display(),
                summary.schema_version
            );
            Ok(())
        }
    }
}

fn init(vault: &Vault, input: &mut prompt::Input, site: Option<String>, admin: Option<String>) -> Result<()> {
    if vault.is_initialized() {
        return Err(StoreError::AlreadyInitialized { dir: vault.dir().to_owned() }.into());
    }
    let site = input.value_or("Clinic name: ", site)?;
    let admin = input.value_or("First admin's username: ", admin)?;
    let password = input.secret("Admin password: ")?;
    let again = input.secret("Admin password again: ")?;
    if password.expose() != again.expose() {
        bail!("the two passwords differ; nothing was created");
    }
    let setup = vault.init(&admin, password.expose())?;
    settings::set_site_name(&setup.store, &site)?;
    println!("Created the clinic database for {site:?} in {}.", vault.dir().display());
    print_recovery_key(&setup.recovery_key);
    report_keyring(vault, setup.keyring);
    Ok(())
}

fn print_recovery_key(key: &RecoveryKey) {
    println!();
    println!("RECOVERY KEY (shown only now; write it down or print it, and keep it away from this laptop):");
    println!();
    println!("    {}", key.display_secret().expose());
    println!();
    println!("With it, the data can be opened if the keyring and the admin password are both lost.");
}

fn report_keyring(vault: &Vault, stored: Result<(), StoreError>) {
    match stored {
        Ok(()) => println!("The database key is stored in the {} keyring.", vault.keyring().backend()),
        Err(e) => eprintln!("warning: the key could not be stored in the keyring, so each start needs an unlock: {e}"),
    }
}

fn status(vault: &Vault) -> Result<()> {
    println!("Data folder: {}", vault.dir().display());
    if !vault.is_initialized() {
        println!("Database:    none yet (run `galen init`)");
        return Ok(());
    }
    for path in [vault.db_path(), vault.key_file_path()] {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("  {} ({size} bytes)", path.display());
    }
    let state = match vault.keyring_state()? {
        vault::KeyringState::Holds => "holds this database's key".to_owned(),
        vault::KeyringState::Missing => "has no key for this database: run `galen unlock`".to_owned(),
        vault::KeyringState::WrongKey => "holds a key that does not open this database: run `galen unlock`".to_owned(),
        vault::KeyringState::Unavailable(why) => format!("unavailable: {why}"),
    };
    println!("Keyring:     {} {state}", vault.keyring().backend());
    let kf = vault.key_file()?;
    let admins: Vec<_> = kf.admin_wraps.iter().map(|w| w.username.as_str()).collect();
    println!("Unlock by:   admin password ({}) or recovery key", admins.join(", "));
    if let Ok(store) = vault.open() {
        println!("Clinic:      {}", settings::site_name(&store)?.unwrap_or_default());
        println!("Database:    id {}, schema {}", store.db_id()?, store.schema_version()?);
        println!("Patients:    {}", patients::count(&store)?);
    }
    Ok(())
}
