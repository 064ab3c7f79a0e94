//! `galen key …`: the database key (admins), doctors' signing keys as the clinic vouches for them (admins), and
//! doctors' public keys.

use crate::session::Ctx;
use crate::setup::print_new_recovery_key;
use anyhow::{Context, Result};
use galen_core::documents::{self, keys};
use std::path::{Path, PathBuf};

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
        out: Option<PathBuf>,
    },
    /// List every doctor key: whose, why it was made, and whether it is active, replaced or revoked (admins).
    List,
    /// Revoke a doctor key, e.g. a lost laptop or a doctor who left (admins). Documents it signed before stay
    /// valid; signatures made after fail.
    Revoke {
        /// The key's fingerprint (see `galen key list`).
        fingerprint: String,
        #[arg(long)]
        reason: String,
    },
    /// Write a revoked key's revocation certificate, for GnuPG users (admins).
    Revocation {
        fingerprint: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the clinic's trust list, signed by its site key: its doctors, their keys, when each may sign and
    /// revocations (admins). Pharmacies pass it to `galen verify --trust FILE`. Format: docs/trust-list.md.
    ExportTrust {
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the clinic's site key (armored OpenPGP public key), which certifies its doctors' keys (admins).
    ExportSite {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Writes `text` to `out`, or to standard output; says what it wrote.
fn emit(text: &str, out: Option<&Path>, what: &str) -> Result<()> {
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            println!("Wrote {what} to {}.", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn print_key(k: &keys::DoctorKey) {
    let status = match &k.status {
        keys::KeyStatus::Active => "active".to_owned(),
        keys::KeyStatus::Replaced { at } => format!("replaced {at}"),
        keys::KeyStatus::Revoked(r) => format!("REVOKED {} by {}: {}", r.at, r.by, r.reason),
    };
    let vouched = if k.vouched { "certified by the clinic" } else { "NOT certified by the clinic" };
    println!("{}  {} (licence {}, {})", k.fingerprint, k.doctor, k.licence, k.username);
    println!("    made {}: {}; {status}; {vouched}", k.created_at, k.cause);
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
            emit(&key, out.as_deref(), &format!("{doctor}'s public key"))?;
        }
        KeyCommand::List => {
            let (clinic, session) = ctx.signed_in()?;
            let all = keys::doctor_keys(&clinic, &session)?;
            if all.is_empty() {
                println!("No doctor has a signing key yet: each gets one at their first signature.");
            }
            all.iter().for_each(print_key);
        }
        KeyCommand::Revoke { fingerprint, reason } => {
            let (clinic, session) = ctx.signed_in()?;
            let key = keys::revoke_key(&clinic, &session, fingerprint.trim(), &reason)?;
            print_key(&key);
            println!(
                "Revoked. Hand out a new trust list (`galen key export-trust`) so pharmacies refuse what it signs from \
                 now on."
            );
        }
        KeyCommand::Revocation { fingerprint, out } => {
            let (clinic, session) = ctx.signed_in()?;
            let certificate = keys::revocation_certificate(&clinic, &session, fingerprint.trim())?;
            emit(&certificate, out.as_deref(), "the revocation certificate")?;
        }
        KeyCommand::ExportTrust { out } => {
            let (clinic, session) = ctx.signed_in()?;
            let list = keys::trust_list(&clinic, &session)?;
            let checked = documents::trust::CheckedList::read(&list).context("the trust list just made must read")?;
            emit(&list, Some(&out), "the trust list")?;
            println!(
                "It is signed by this clinic's site key {}. Whoever imports it should compare that fingerprint with \
                 you, by phone or on paper.",
                checked.site_fingerprint
            );
        }
        KeyCommand::ExportSite { out } => {
            let (clinic, session) = ctx.signed_in()?;
            emit(&keys::site_key(&clinic, &session)?, out.as_deref(), "the clinic's site key")?;
        }
    }
    Ok(())
}
