//! `galen key …`: the database key (admins) and doctors' public keys.

use crate::session::Ctx;
use crate::setup::print_new_recovery_key;
use anyhow::Result;
use galen_core::documents;

#[derive(Debug, clap::Subcommand)]
pub enum KeyCommand {
    /// Re-encrypt the database under a new key and issue a new recovery key, e.g. when the sheet is lost: the old
    /// sheet, and old copies of galen.keys, stop opening the database. Admins.
    #[command(visible_alias = "new-recovery")]
    Rotate,
    /// Write a doctor's OpenPGP public key (armored), for pharmacies and registries to verify signatures.
    ExportPublic {
        /// The doctor's username.
        doctor: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

pub fn run(ctx: &mut Ctx, command: KeyCommand) -> Result<()> {
    match command {
        KeyCommand::Rotate => {
            let mut clinic = ctx.clinic()?;
            let (session, password) = ctx.sign_in(&clinic)?;
            let recovery = clinic.rotate_key(&session, password.expose())?;
            println!("The database is now encrypted under a new key.");
            print_new_recovery_key(&recovery);
        }
        KeyCommand::ExportPublic { doctor, out } => {
            let (clinic, session) = ctx.signed_in()?;
            let key = documents::doctor_public_key(&clinic, &session, &doctor)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, key)?;
                    println!("Wrote {doctor}'s public key to {}.", path.display());
                }
                None => print!("{key}"),
            }
        }
    }
    Ok(())
}
