//! `galen backup` and `galen restore`.

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::backup::{self, RestoreBy};
use galen_core::{Clinic, RecoveryKey, StoreError};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the backup file.
    file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file to restore.
    file: PathBuf,
    /// Ask for the recovery key that was current when the backup was made.
    #[arg(long)]
    recovery_key: bool,
}

pub fn backup(ctx: &mut Ctx, args: BackupArgs) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let summary = backup::backup(&clinic, &session, &args.file)?;
    println!("Backup written to {} ({} bytes, schema {}).", args.file.display(), summary.bytes, summary.schema_version);
    println!("It opens with this clinic's recovery key; keep it somewhere safe, away from this laptop.");
    Ok(())
}

/// With a working clinic, an admin signs in; the recovery key alone may restore over anything.
pub fn restore(ctx: &mut Ctx, args: RestoreArgs) -> Result<()> {
    let RestoreArgs { file, recovery_key } = args;
    let key = match recovery_key {
        true => Some(RecoveryKey::parse(ctx.input.secret("Recovery key of the backup: ")?.expose())?),
        false => None,
    };
    let vault = ctx.vault.clone();
    let summary = match Clinic::open(vault.clone()) {
        Ok(clinic) if !recovery_key || ctx.user.is_some() => {
            let session = ctx.sign_in(&clinic)?.0;
            backup::restore(&vault, &file, RestoreBy::Admin { clinic, session: &session }, key.as_ref())?
        }
        Ok(clinic) => {
            drop(clinic); // closed before its files are replaced
            backup::restore(&vault, &file, RestoreBy::RecoveryKeyOnly, key.as_ref())?
        }
        Err(StoreError::NotInitialized { .. }) if !recovery_key => bail!(
            "there is no clinic in {} yet; restoring there needs the backup's recovery key (--recovery-key)",
            vault.dir().display()
        ),
        Err(e) if !recovery_key => return Err(e.into()),
        Err(e) => {
            if !matches!(e, StoreError::NotInitialized { .. }) {
                eprintln!("note: the current database could not be opened ({e}); restoring over it.");
            }
            backup::restore(&vault, &file, RestoreBy::RecoveryKeyOnly, key.as_ref())?
        }
    };
    println!("Restored {} (schema {}); the previous data was replaced.", file.display(), summary.schema_version);
    Ok(())
}
