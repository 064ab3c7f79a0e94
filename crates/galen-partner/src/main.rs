//! `galen-partner`: runs the partner server from its configuration file.

use anyhow::{Context, Result};
use clap::Parser;
use galen_partner::{config::Config, tls};
use std::path::PathBuf;

/// The Galen partner server: HTTPS with client certificates required, for clinics that pair with it.
#[derive(Debug, Parser)]
#[command(version, after_help = "Deployment: installers/partner/README.md")]
struct Cli {
    /// The configuration file (TOML: listen, certificate, private_key, client_ca).
    #[arg(long, default_value = "/etc/galen-partner/partner.toml", env = "GALEN_PARTNER_CONFIG")]
    config: PathBuf,
    /// Check the configuration and the certificates, then exit.
    #[arg(long)]
    check: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli.config)?;
    let pems = config.read_pems()?;
    let tls = tls::server_config(&pems.certificate, &pems.private_key, &pems.client_ca)?;
    if cli.check {
        println!("ok: {} is valid; the server would listen on {}", cli.config.display(), config.listen);
        return Ok(());
    }
    let listener =
        std::net::TcpListener::bind(config.listen).with_context(|| format!("cannot listen on {}", config.listen))?;
    println!("galen-partner listening on https://{} (client certificates required)", listener.local_addr()?);
    tls::serve(listener, tls, galen_partner::app()).await?;
    Ok(())
}
