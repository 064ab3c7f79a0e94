//! `galen sync …`: pair with a partner, sync now, status, conflicts (admins).

use crate::session::Ctx;
use anyhow::{Context, Result};
use galen_core::{site, sync};

#[derive(Debug, clap::Subcommand)]
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

pub fn run(ctx: &mut Ctx, command: SyncCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session) = (&clinic, &session);
    match command {
        SyncCommand::Pair { file, url, safety_number } => {
            let text = site::load_pairing_file(&file).with_context(|| format!("reading {}", file.display()))?;
            let preview = sync::preview(clinic, session, &text)?;
            println!("Partner:       {}", preview.site);
            println!("Safety number: {}", preview.safety_number);
            let confirmed = ctx.input.value_or(
                "Ask the partner to read the safety number on their screen, and type it here: ",
                safety_number,
            )?;
            let partner = sync::pair(clinic, session, &text, &url, &confirmed)?;
            println!("Paired with {} at {}. Run `galen sync now` to share.", partner.name, partner.url);
        }
        SyncCommand::Now => {
            let r = sync::run(clinic, sync::Trigger::Person(sync::permit(clinic, session)?))?;
            println!(
                "Queued {}, sent {} ({} already there, {} refused), received {}, new conflicts {}, refused here {}.",
                r.queued, r.pushed, r.duplicates, r.refused, r.pulled, r.new_conflicts, r.rejected_here
            );
        }
        SyncCommand::Status => {
            let s = sync::status(clinic, session)?;
            let or = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_owned());
            match &s.partner {
                Some(p) => println!("Partner:       {} at {} (safety number {})", p.name, p.url, p.safety_number),
                None => println!("Partner:       none (`galen sync pair FILE --url URL`)"),
            }
            println!("Last success:  {}", or(&s.last_success, "never"));
            println!("Last attempt:  {}", or(&s.last_attempt, "never"));
            println!("Last error:    {}", or(&s.last_error, "none"));
            println!("Pending:       {}", s.pending);
            println!("Conflicts:     {} open", s.open_conflicts);
            println!("Received documents: {}", s.received_documents);
        }
        SyncCommand::Conflicts { resolve: Some(id), keep } => {
            let resolution = match keep.as_deref() {
                Some("local") => sync::Resolution::KeepLocal,
                _ => sync::Resolution::TakeIncoming,
            };
            sync::resolve(clinic, session, id, resolution)?;
            println!("Resolved conflict {id}; the chosen version is shared at the next sync.");
        }
        SyncCommand::Conflicts { .. } => {
            let open = sync::conflicts(clinic, session)?;
            if open.is_empty() {
                println!("No open conflicts.");
            }
            for c in open {
                println!("Conflict {} — patient {} (found {})", c.id, c.uuid, c.found_at);
                println!("  here:     {}", serde_json::to_string(&c.local)?);
                println!(
                    "  incoming: {} (version {}, from site key {})",
                    serde_json::to_string(&c.incoming)?,
                    c.incoming_version,
                    c.incoming_origin
                );
            }
        }
    }
    Ok(())
}
