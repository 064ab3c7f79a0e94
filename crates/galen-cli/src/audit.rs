//! `galen audit …`: read and verify the tamper-evident audit trail (admins).

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::{audit, breakglass};

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Show the newest audit rows.
    Show {
        /// How many rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only actions taken under emergency access, with the reasons given.
        #[arg(long)]
        break_glass: bool,
        /// Only rows about this patient's record (MRN): the record, its documents and its appointments.
        #[arg(long, value_name = "MRN")]
        patient: Option<String>,
        /// Only rows of this account (username; `--user` is who signs in).
        #[arg(long, value_name = "USERNAME")]
        by: Option<String>,
        /// Only this action, or every action under it (e.g. `patient` or `patient.view`).
        #[arg(long)]
        action: Option<String>,
        /// From this day (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Up to this day, inclusive (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
    },
    /// Check the hash chain and name the first row that was edited, deleted, inserted or reordered.
    Verify,
}

pub fn run(ctx: &mut Ctx, command: AuditCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    match command {
        AuditCommand::Show { limit, break_glass, patient, by, action, from, until } => {
            let query = audit::Query {
                before_id: None,
                limit,
                only_break_glass: break_glass,
                mrn: patient,
                username: by,
                action,
                from,
                until,
            };
            let rows = audit::list(&clinic, &session, &query)?;
            println!(
                "{:>6}  {:<25} {:<16} {:<13} {:<22} {:<20} OUTCOME",
                "ROW", "TIME", "USER", "ROLE", "ACTION", "ENTITY"
            );
            for e in rows {
                let flag = if e.break_glass { " [BREAK-GLASS]" } else { "" };
                let entity = format!("{} {}", e.entity_type, e.entity_id);
                println!(
                    "{:>6}  {:<19} {:<16} {:<13} {:<22} {:<20} {}{flag}",
                    e.id,
                    e.at.get(..19).unwrap_or(&e.at),
                    e.username,
                    e.role,
                    e.action,
                    entity,
                    e.outcome
                );
            }
            if break_glass {
                println!("\nEmergency access reasons:");
                for b in breakglass::review(&clinic, &session)? {
                    println!("  #{} {} {} patient {}: {}", b.id, b.at, b.username, b.patient_id, b.reason);
                }
            }
        }
        AuditCommand::Verify => match audit::verify(&clinic, &session)? {
            Ok(v) => {
                println!("ok: {} rows, chain intact (head {})", v.rows, &v.head[..16]);
                match v.anchor {
                    Some(a) if a.signed => println!("it reaches its anchor (row {}, signed by the site key)", a.row),
                    Some(a) => println!("it reaches its anchor (row {}, unsigned: no site key yet)", a.row),
                    None => println!("no anchor to check it against yet"),
                }
                for r in &v.restores {
                    match &r.replaced {
                        Some(h) => println!(
                            "restored from a backup at {} (row {}), replacing rows up to {}",
                            r.at, r.row, h.row
                        ),
                        None => {
                            println!("restored from a backup at {} (row {}); what it replaced is unknown", r.at, r.row)
                        }
                    }
                }
            }
            Err(brk) => bail!("the audit trail was tampered with: {brk}"),
        },
    }
    Ok(())
}
