//! `galen site …`: this clinic's identity towards a partner: X.509 site CA + client certificate and an OpenPGP site
//! key (admins).

use crate::session::Ctx;
use anyhow::{Context, Result};
use galen_core::site;

#[derive(Debug, clap::Subcommand)]
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
    /// Print the site key's public part (armored): it certifies this clinic's doctors' keys and signs its FHIR
    /// exports (clinicians and admins).
    PublicKey,
}

pub fn run(ctx: &mut Ctx, command: SiteCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session) = (&clinic, &session);
    let show = |me: &site::SiteIdentity| {
        println!("Site:          {}", me.name);
        println!("OpenPGP key:   {}", me.openpgp_fingerprint);
        println!("Safety number: {}", me.safety_number);
        if let Some(at) = me.certificate_expires() {
            println!("Certificate:   valid until {} (a sync in its last 60 days renews it)", at.date());
        }
    };
    match command {
        SiteCommand::Init => {
            let me = site::init(clinic, session)?;
            println!("Created this clinic's site identity (site CA, client certificate, OpenPGP site key).");
            show(&me);
        }
        SiteCommand::Show => match site::identity(clinic, session)? {
            Some(me) => show(&me),
            None => println!("No site identity yet: `galen site init` creates it."),
        },
        SiteCommand::PublicKey => print!("{}", site::public_key(clinic, session)?),
        SiteCommand::PairingFile { out } => {
            let file = site::pairing_file(clinic, session)?;
            let json = serde_json::to_string_pretty(&file)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
                    println!(
                        "Wrote {}. Read this safety number to the partner: {}",
                        path.display(),
                        file.safety_number
                    );
                }
                None => println!("{json}"),
            }
        }
    }
    Ok(())
}
