//! `galen-partner`: sets up and runs the partner server from its configuration file.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use galen_partner::key::DbKey;
use galen_partner::{config::Config, files, store, tls};
use galen_proto::certs::{self, Leaf};
use galen_proto::pairing::PairingFile;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The Galen partner server: HTTPS with client certificates required, for clinics that pair with it.
#[derive(Debug, Parser)]
#[command(version, after_help = "Deployment: installers/partner/README.md")]
struct Cli {
    /// The configuration file (TOML: listen, certificate, private_key, database, database_key, relay, rate limits,
    /// retention).
    #[arg(long, global = true, default_value = "/etc/galen-partner/partner.toml", env = "GALEN_PARTNER_CONFIG")]
    config: PathBuf,
    /// Check the configuration, the certificates and the paired clinics, then exit.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Create this partner's identity: its OpenPGP key, and a server CA and certificate for these host names
    /// (written where the configuration's `certificate` and `private_key` say), in a new database encrypted
    /// with a new random key (written to `database_key`, owner-only).
    Init {
        /// The partner's name, as clinics will see it.
        #[arg(long)]
        name: String,
        /// The host names or IP addresses clinics use to reach this server (repeat for several).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
    },
    /// Write the pairing file to give to clinics.
    PairingFile {
        /// Where to write it (default: print it).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Pair a clinic from its pairing file, after comparing its safety number with the clinic's people.
    Pair {
        /// The clinic's pairing file (from `galen site pairing-file`).
        file: PathBuf,
        /// The safety number the clinic read to you (asked for when not given).
        #[arg(long)]
        safety_number: Option<String>,
    },
    /// List the clinics paired with this partner (id, name, safety number, since when), unpaired ones too.
    Sites,
    /// Unpair a clinic: its certificate and its envelopes are refused from now on (at once by the running
    /// server; its certificate in the TLS handshake after a restart). What it sent stays stored, no longer
    /// relayed. Pairing it again from its pairing file undoes this.
    Unpair {
        /// The clinic's id or name, as `galen-partner sites` lists them.
        site: String,
    },
    /// Encrypt, in place, a database made before galen-partner encrypted its database (stop the server
    /// first): its key goes to `database_key` (made if missing) or comes from `database_key_credential`.
    EncryptDatabase,
    /// Replace the server certificate and key with new ones from this partner's CA (two more years). Clinics
    /// trust the CA, so nobody pairs again; restart the server afterwards.
    RenewCertificate,
}

fn main() -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("GALEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // One line per event on stderr, without colour, and without time for journald (which stamps it);
    // `GALEN_LOG_FORMAT=json` makes each line a JSON object, for a log shipper.
    let lines = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false);
    if std::env::var("GALEN_LOG_FORMAT").is_ok_and(|f| f == "json") {
        lines.json().with_current_span(false).init();
    } else {
        lines.without_time().init();
    }
    let cli = Cli::parse();
    let config = Config::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config, &config, cli.check),
        Command::Init { name, hosts } => init(&config, &name, hosts),
        Command::PairingFile { out } => {
            let conn = open(&config)?;
            let text = serde_json::to_string_pretty(&store::pairing_file(&conn)?)? + "\n";
            match out {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
                    println!("Wrote {}. Give it to the clinic; they will read you its safety number.", path.display());
                    println!("Safety number: {}", store::pairing_file(&conn)?.safety_number);
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        Command::Pair { file, safety_number } => pair(&config, &file, safety_number),
        Command::RenewCertificate => renew_certificate(&config),
        Command::EncryptDatabase => encrypt_database(&config),
        Command::Sites => {
            let conn = open(&config)?;
            for s in store::list_sites(&conn)? {
                let state = match &s.unpaired_at {
                    Some(at) => format!("unpaired {at}"),
                    None => format!("paired {}", s.paired_at),
                };
                let anchor = match &s.anchored {
                    Some((row, at)) => format!("audit log anchored at row {row} ({at})"),
                    None => "no audit anchor yet".to_owned(),
                };
                println!("{}\t{}\t{}\t{state}\t{anchor}", s.id, s.name, s.safety_number);
            }
            Ok(())
        }
        Command::Unpair { site } => {
            let conn = open(&config)?;
            let unpaired = store::unpair(&conn, &site)?;
            // The row's unpaired_at (shown by `sites`) is the lasting record; this line is for the journal.
            tracing::info!(site = unpaired.id, "unpaired");
            println!(
                "Unpaired {} (id {}): the running server refuses its requests from now on, and its certificate in \
                 the TLS handshake within {} s (no restart needed).",
                unpaired.name,
                unpaired.id,
                galen_partner::RELOAD_SITES_EVERY.as_secs()
            );
            Ok(())
        }
    }
}

/// Opens the database with its key (`database_key` or `database_key_credential`).
fn open(config: &Config) -> Result<rusqlite::Connection> {
    // A database from before encryption has no key file yet: say what to do about the database first.
    store::refuse_plaintext(&config.database)?;
    let key = DbKey::read(&config.database_key_file()?)?;
    Ok(store::open_db(&config.database, &key)?)
}

fn init(config: &Config, name: &str, hosts: Vec<String>) -> Result<()> {
    for path in [&config.certificate, &config.private_key] {
        if path.exists() {
            bail!(
                "{} already exists; remove it first if you really mean to replace this partner's identity",
                path.display()
            );
        }
    }
    // A new database gets a new key; an existing one (or a credential) is the operator's to give.
    let key_file = config.database_key_file()?;
    let new = !config.database.exists() && !key_file.exists();
    let key = if new && config.makes_its_key_file() { DbKey::create(&key_file)? } else { DbKey::read(&key_file)? };
    let conn = store::open_db(&config.database, &key)?;
    let issued = certs::issue(
        &format!("{name} — Galen partner CA"),
        name,
        Leaf::Server { hosts },
        time::OffsetDateTime::now_utc(),
    )?;
    store::init(&conn, name, &issued.ca_cert, &issued.ca_key)?;
    write_file(&config.private_key, &issued.leaf_key, files::OWNER_ONLY)?;
    write_file(&config.certificate, &issued.leaf_cert, 0o644)?;
    println!("Created the identity of {name}: {} and {}.", config.certificate.display(), config.private_key.display());
    println!("The database is encrypted with {}: back it up apart from the database.", key.origin());
    println!("Next: `galen-partner pairing-file --out partner.galen-pairing` and give it to each clinic.");
    Ok(())
}

fn encrypt_database(config: &Config) -> Result<()> {
    let database = &config.database;
    if !database.exists() {
        bail!("there is no database at {}: `galen-partner init` makes one, encrypted", database.display());
    }
    if store::refuse_plaintext(database).is_ok() {
        println!("{} is already encrypted; nothing to do.", database.display());
        return Ok(());
    }
    let key_file = config.database_key_file()?;
    let key = if config.makes_its_key_file() && !key_file.exists() {
        DbKey::create(&key_file)?
    } else {
        DbKey::read(&key_file)?
    };
    store::encrypt_in_place(database, &key)?;
    tracing::info!("encrypted the database in place");
    println!("Encrypted {} with {}.", database.display(), key.origin());
    println!("Keep a copy of the key apart from the database's backups, then start the server:");
    println!("  systemctl start galen-partner");
    Ok(())
}

fn renew_certificate(config: &Config) -> Result<()> {
    let conn = open(config)?;
    let (ca_cert, ca_key) = store::server_ca(&conn)?;
    let old = std::fs::read_to_string(&config.certificate)
        .with_context(|| format!("cannot read {}", config.certificate.display()))?;
    let (cert, key) = certs::renew(&ca_cert, &ca_key, &old, time::OffsetDateTime::now_utc())?;
    // The key first: a crash between the two leaves the old certificate with a key it does not match, which
    // `--check` reports, rather than a certificate whose key is lost.
    write_file(&config.private_key, &key, files::OWNER_ONLY)?;
    write_file(&config.certificate, &cert, 0o644)?;
    println!("Renewed {}: valid until {}.", config.certificate.display(), expiry(&cert));
    println!("Restart the server to use it:\n  systemctl restart galen-partner");
    Ok(())
}

fn expiry(cert: &str) -> String {
    certs::expires_at(cert).map_or_else(|| "?".into(), |at| at.date().to_string())
}

/// Writes a file whole or not at all (a new temporary file renamed over it), with this mode from its first byte.
fn write_file(path: &Path, text: &str, mode: u32) -> Result<()> {
    files::write_atomically(path, text.as_bytes(), mode).with_context(|| format!("cannot write {}", path.display()))
}

fn pair(config: &Config, file: &Path, safety_number: Option<String>) -> Result<()> {
    let text = galen_proto::pairing::load(file).with_context(|| format!("cannot read {}", file.display()))?;
    let pairing = PairingFile::read(&text)?;
    println!("Clinic: {}", pairing.site);
    println!("Safety number: {}", pairing.safety_number);
    let confirmed = match safety_number {
        Some(n) => n,
        None => {
            print!("Ask the clinic to read the safety number on their screen, and type it here: ");
            std::io::stdout().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
    };
    let conn = open(config)?;
    store::pair(&conn, &pairing, &confirmed)?;
    println!(
        "Paired with {}. A running server trusts the clinic's certificate within {} s (no restart needed).",
        pairing.site,
        galen_partner::RELOAD_SITES_EVERY.as_secs()
    );
    Ok(())
}

fn serve(path: &Path, config: &Config, check: bool) -> Result<()> {
    let conn = open(config)?;
    let partner = store::Partner::load(conn, config.relay)?
        .with_rate_limit(config.rate_limit())
        .with_rejections_kept_for(config.keep_rejections());
    if partner.sites().is_empty() {
        bail!(
            "no clinic is paired yet: pair one with `galen-partner pair CLINIC.galen-pairing`, then start the server"
        );
    }
    let pems = config.read_pems()?;
    let clients = tls::ClientCas::new(partner.client_cas().as_bytes())?;
    let tls = tls::server_config(&pems.certificate, &pems.private_key, &clients)?;
    let certificate = String::from_utf8_lossy(&pems.certificate);
    let due =
        certs::expires_at(&certificate).is_none_or(|at| at - time::OffsetDateTime::now_utc() < certs::RENEW_WITHIN);
    if due {
        tracing::warn!(
            expires = %expiry(&certificate),
            "the server certificate is due for renewal: run `galen-partner renew-certificate`, then restart"
        );
    }
    if check {
        println!(
            "ok: {} is valid; {} clinic(s) paired; the server would listen on {}; its certificate is valid until {}",
            path.display(),
            partner.sites().len(),
            config.listen,
            expiry(&certificate)
        );
        return Ok(());
    }
    // Each push forgets old nonces and refusals too; this covers a partner that has been off for a while.
    let forgotten = partner.forget_old()?;
    tracing::info!(nonces = forgotten.nonces, rejections = forgotten.rejections, "forgot old entries");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let at = listener.local_addr()?;
        println!("galen-partner listening on https://{at} (client certificates required)");
        tracing::info!(%at, sites = partner.sites().len(), "serving");
        let partner = Arc::new(partner);
        if let Some(metrics) = config.metrics_listen {
            let listener = tokio::net::TcpListener::bind(metrics)
                .await
                .with_context(|| format!("cannot listen on {metrics} for the metrics"))?;
            tracing::info!(%metrics, "metrics at http://{metrics}/metrics");
            let app = galen_partner::metrics_app(partner.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
        }
        tokio::spawn(galen_partner::follow_pairings(partner.clone(), clients));
        tls::serve(listener, tls, galen_partner::app(partner)).await?;
        Ok(())
    })
}
