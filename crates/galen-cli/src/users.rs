//! `galen user …`: staff accounts (admins).

use crate::session::Ctx;
use crate::setup::print_new_recovery_key;
use anyhow::{bail, Result};
use galen_core::staff::{self, NewStaff};
use galen_core::Role;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. The new user's password is asked twice.
    Add {
        #[arg(long)]
        username: String,
        /// Full name, as shown in the app and printed on documents.
        #[arg(long)]
        name: String,
        /// admin, doctor, nurse or receptionist.
        #[arg(long)]
        role: String,
        /// Professional licence number (required for doctors).
        #[arg(long)]
        licence: Option<String>,
    },
    /// List every account.
    List,
    /// Disable an account: it can no longer sign in, and its sessions stop working. Disabling an admin re-keys
    /// the database and prints a new recovery key.
    Disable { username: String },
    /// Re-enable a disabled account.
    Enable { username: String },
    /// Set a temporary password (printed once); the user must change it at next sign-in. Resetting an admin
    /// re-keys the database and prints a new recovery key.
    ResetPassword { username: String },
    /// Lift a sign-in lockout early.
    ClearLock { username: String },
}

pub fn run(ctx: &mut Ctx, command: UserCommand) -> Result<()> {
    let mut clinic = ctx.clinic()?;
    // The password typed to sign in is also the one a re-key needs (disabling or resetting an admin).
    let (session, password) = ctx.sign_in(&clinic)?;
    let (clinic, session, password) = (&mut clinic, &session, Some(password.expose().as_str()));
    match command {
        UserCommand::Add { username, name, role, licence } => {
            let Some(role) = Role::parse(&role.trim().to_lowercase()) else {
                bail!("unknown role {role:?}: use admin, doctor, nurse or receptionist");
            };
            let password = ctx.input.secret(&format!("Password for {username}: "))?;
            if password.expose() != ctx.input.secret("Again: ")?.expose() {
                bail!("the two passwords differ; no account was created");
            }
            let new = NewStaff { username, display_name: name, role, licence_number: licence, password };
            let m = staff::add(clinic, session, &new)?;
            println!("Created {} ({}), role {}.", m.display_name, m.username, m.role);
        }
        UserCommand::List => {
            println!("{:<20} {:<13} {:<9} {:<15} NAME", "USERNAME", "ROLE", "STATUS", "LICENCE");
            for m in staff::list(clinic, session)? {
                let status = match (m.active, m.must_change_password) {
                    (false, _) => "disabled",
                    (true, true) => "reset",
                    (true, false) => "active",
                };
                let licence = m.licence_number.unwrap_or_default();
                println!("{:<20} {:<13} {:<9} {:<15} {}", m.username, m.role, status, licence, m.display_name);
            }
        }
        UserCommand::Disable { username } => {
            let done = staff::set_active(clinic, session, &username, false, password)?;
            println!("Disabled {username}.");
            if let Some(key) = &done.new_recovery_key {
                print_new_recovery_key(key);
            }
        }
        UserCommand::Enable { username } => {
            staff::set_active(clinic, session, &username, true, password)?;
            println!("Enabled {username}.");
        }
        UserCommand::ResetPassword { username } => {
            let reset = staff::reset_password(clinic, session, &username, password)?;
            println!("Temporary password for {username} (give it to them privately; shown once):");
            println!("    {}", reset.value.expose());
            println!("They must choose a new password when they next sign in.");
            if let Some(key) = &reset.new_recovery_key {
                print_new_recovery_key(key);
            }
        }
        UserCommand::ClearLock { username } => {
            staff::clear_throttle(clinic, session, &username)?;
            println!("Cleared the sign-in lock for {username}.");
        }
    }
    Ok(())
}
