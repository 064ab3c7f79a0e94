//! One function per subcommand, each a few calls into galen-core.

use crate::prompt::Input;
use crate::{AuditCommand, Cli, Command, DevCommand, KeyCommand, SiteCommand, SyncCommand, UserCommand};
use anyhow::{bail, Context, Result};
use galen_core::backup::{self, RestoreBy};
use galen_core::clinic::Setup;
use galen_core::pdf::{self, Printout};
use galen_core::staff::{self, NewStaff};
use galen_core::{audit, breakglass, patients, settings, vault, Clinic, RecoveryKey, Role, Session};
use galen_core::{StoreError, Vault};

pub fn run(cli: Cli) -> Result<()> {
    let dir = match cli.data_dir {
        Some(d) => d,
        None => vault::default_data_dir().context("no OS data directory is known; pass --data-dir")?,
    };
    let vault = Vault::new(dir);
    let mut input = Input::new();
    let user = cli.user;
    match cli.command {
        Command::Init { site, admin, name } => init(vault, &mut input, site, admin, name),
        Command::Status => status(&vault),
        Command::Check => {
            let store = vault.open()?;
            store.check_integrity()?;
            println!("ok: every page of {} passed the integrity check", store.path().display());
            Ok(())
        }
        Command::Unlock { username, recovery_key, .. } => unlock(&vault, &mut input, username, recovery_key),
        Command::Login => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            let info = session.info();
            println!("Signed in as {} ({}), role {}.", info.display_name, info.username, info.role);
            clinic.logout(session)?;
            Ok(())
        }
        Command::Passwd => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            change_password(&clinic, &session, &mut input)
        }
        Command::User { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            user_command(&clinic, &session, &mut input, command)
        }
        Command::Audit { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            audit_command(&clinic, &session, command)
        }
        Command::Patient { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            crate::patient_cmd::run(&clinic, &session, command)
        }
        Command::Dev { command: DevCommand::Seed { patients, seed } } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            crate::patient_cmd::seed(&clinic, &session, patients, seed)
        }
        Command::Bench { command } => crate::patient_cmd::bench(command),
        Command::Rx { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            crate::documents_cmd::rx(&clinic, &session, &mut input, command)
        }
        Command::Cert { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            crate::documents_cmd::cert(&clinic, &session, &mut input, command)
        }
        Command::Document { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            crate::documents_cmd::document(&clinic, &session, command)
        }
        Command::Verify { files, qr, key } => crate::documents_cmd::verify(qr.as_deref(), &files, key.as_deref()),
        Command::Print { id, card, recovery_sheet, out } => {
            let clinic = Clinic::open(vault)?;
            let pdf = if recovery_sheet {
                // Knowing the current recovery key is the permission (see pdf::recovery_sheet).
                pdf::recovery_sheet(&clinic, &RecoveryKey::parse(input.secret("Recovery key: ")?.expose())?)?
            } else {
                let session = sign_in(&clinic, &mut input, user)?;
                let what = match (id, card) {
                    (Some(id), _) => Printout::Document(id),
                    (None, Some(mrn)) => Printout::PatientCard(patients::find_by_mrn(&clinic, &session, &mrn)?.id),
                    (None, None) => bail!("say what to print: a document id, --card MRN or --recovery-sheet"),
                };
                pdf::render(&clinic, &session, &what)?
            };
            crate::documents_cmd::print(&clinic, &pdf, out.as_deref())
        }
        Command::Key { command: KeyCommand::ExportPublic { doctor, out } } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            crate::documents_cmd::export_public(&clinic, &session, &doctor, out.as_deref())
        }
        Command::Site { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            site_command(&clinic, &session, command)
        }
        Command::Sync { command } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            sync_command(&clinic, &session, &mut input, command)
        }
        Command::Key { command: KeyCommand::NewRecovery } => {
            let clinic = Clinic::open(vault)?;
            let (session, password) = sign_in_keeping_password(&clinic, &mut input, user)?;
            let recovery = clinic.replace_recovery_key(&session, password.expose())?;
            println!("The old recovery key no longer opens the database; destroy its sheet.");
            print_recovery_key(&recovery);
            println!("Print its sheet with: galen print --recovery-sheet");
            Ok(())
        }
        Command::Key { command: KeyCommand::Rotate } => {
            let mut clinic = Clinic::open(vault)?;
            let (session, password) = sign_in_keeping_password(&clinic, &mut input, user)?;
            let recovery = clinic.rotate_key(&session, password.expose())?;
            println!("The database is now encrypted under a new key.");
            print_recovery_key(&recovery);
            println!("Other admins get a new unlock wrap the next time they sign in.");
            Ok(())
        }
        Command::Backup { file } => {
            let clinic = Clinic::open(vault)?;
            let session = sign_in(&clinic, &mut input, user)?;
            let summary = backup::backup(&clinic, &session, &file)?;
            println!(
                "Backup written to {} ({} bytes, schema {}).",
                file.display(),
                summary.bytes,
                summary.schema_version
            );
            println!("It opens with this clinic's recovery key; keep it somewhere safe, away from this laptop.");
            Ok(())
        }
        Command::Restore { file, recovery_key } => restore(vault, &mut input, user, &file, recovery_key),
    }
}

/// Signs in with `--user` (or asks), and deals with a forced password change on the spot.
fn sign_in(clinic: &Clinic, input: &mut Input, user: Option<String>) -> Result<Session> {
    Ok(sign_in_keeping_password(clinic, input, user)?.0)
}

fn sign_in_keeping_password(
    clinic: &Clinic,
    input: &mut Input,
    user: Option<String>,
) -> Result<(Session, galen_core::Sensitive<String>)> {
    let username = input.value_or("Username: ", user)?;
    let password = input.secret("Password: ")?;
    let session = clinic.login(&username, password.expose())?;
    if session.info().must_change_password {
        println!("Your password was reset by an admin; choose a new one now.");
        let new = input.secret("New password: ")?;
        if new.expose() != input.secret("New password again: ")?.expose() {
            bail!("the two new passwords differ; your password was not changed");
        }
        clinic.change_own_password(&session, password.expose(), new.expose())?;
        return Ok((session, new));
    }
    Ok((session, password))
}

fn change_password(clinic: &Clinic, session: &Session, input: &mut Input) -> Result<()> {
    let current = input.secret("Current password: ")?;
    let new = input.secret("New password: ")?;
    if new.expose() != input.secret("New password again: ")?.expose() {
        bail!("the two new passwords differ; nothing was changed");
    }
    clinic.change_own_password(session, current.expose(), new.expose())?;
    println!("Password changed.");
    Ok(())
}

fn init(
    vault: Vault,
    input: &mut Input,
    site: Option<String>,
    admin: Option<String>,
    name: Option<String>,
) -> Result<()> {
    if vault.is_initialized() {
        return Err(StoreError::AlreadyInitialized { dir: vault.dir().to_owned() }.into());
    }
    let site_name = input.value_or("Clinic name: ", site)?;
    let admin_username = input.value_or("First admin's username: ", admin)?;
    let admin_display_name = input.value_or("First admin's full name: ", name)?;
    let admin_password = input.secret("Admin password (at least 12 characters): ")?;
    if admin_password.expose() != input.secret("Admin password again: ")?.expose() {
        bail!("the two passwords differ; nothing was created");
    }
    let dir = vault.dir().to_owned();
    let created = Clinic::create(vault, &Setup { site_name, admin_username, admin_display_name, admin_password })?;
    println!("Created the clinic database in {}.", dir.display());
    print_recovery_key(&created.recovery_key);
    report_keyring(created.clinic.vault(), created.keyring);
    Ok(())
}

fn unlock(vault: &Vault, input: &mut Input, username: Option<String>, recovery_key: bool) -> Result<()> {
    let unlocked = if recovery_key {
        let key = RecoveryKey::parse(input.secret("Recovery key: ")?.expose())?;
        vault.unlock_with_recovery(&key)?
    } else {
        let user = input.value_or("Admin username: ", username)?;
        vault.unlock_with_admin(&user, input.secret("Admin password: ")?.expose())?
    };
    println!("Unlocked {}.", unlocked.store.path().display());
    report_keyring(vault, unlocked.keyring);
    Ok(())
}

fn restore(
    vault: Vault,
    input: &mut Input,
    user: Option<String>,
    file: &std::path::Path,
    recovery_key: bool,
) -> Result<()> {
    let key = if recovery_key {
        Some(RecoveryKey::parse(input.secret("Recovery key of the backup: ")?.expose())?)
    } else {
        None
    };
    // An admin signs in to a working clinic; the recovery key alone may restore over anything.
    let summary = match Clinic::open(vault.clone()) {
        Ok(clinic) if !recovery_key || user.is_some() => {
            let session = sign_in(&clinic, input, user)?;
            backup::restore(&vault, file, RestoreBy::Admin { clinic, session: &session }, key.as_ref())?
        }
        Ok(clinic) => {
            drop(clinic); // closed before its files are replaced
            backup::restore(&vault, file, RestoreBy::RecoveryKeyOnly, key.as_ref())?
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
            backup::restore(&vault, file, RestoreBy::RecoveryKeyOnly, key.as_ref())?
        }
    };
    println!("Restored {} (schema {}); the previous data was replaced.", file.display(), summary.schema_version);
    Ok(())
}

fn user_command(clinic: &Clinic, session: &Session, input: &mut Input, command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Add { username, name, role, licence } => {
            let Some(role) = Role::parse(&role) else {
                bail!("unknown role {role:?}: use admin, doctor, nurse or receptionist");
            };
            let password = input.secret(&format!("Password for {username}: "))?;
            if password.expose() != input.secret("Again: ")?.expose() {
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
            staff::set_active(clinic, session, &username, false)?;
            println!("Disabled {username}.");
        }
        UserCommand::Enable { username } => {
            staff::set_active(clinic, session, &username, true)?;
            println!("Enabled {username}.");
        }
        UserCommand::ResetPassword { username } => {
            let temporary = staff::reset_password(clinic, session, &username)?;
            println!("Temporary password for {username} (give it to them privately; shown once):");
            println!("    {}", temporary.expose());
            println!("They must choose a new password when they next sign in.");
        }
        UserCommand::ClearLock { username } => {
            staff::clear_throttle(clinic, session, &username)?;
            println!("Cleared the sign-in lock for {username}.");
        }
    }
    Ok(())
}

fn audit_command(clinic: &Clinic, session: &Session, command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Show { limit, break_glass } => {
            let rows =
                audit::list(clinic, session, &audit::Query { before_id: None, limit, only_break_glass: break_glass })?;
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
                for b in breakglass::review(clinic, session)? {
                    println!("  #{} {} {} patient {}: {}", b.id, b.at, b.username, b.patient_id, b.reason);
                }
            }
        }
        AuditCommand::Verify => match audit::verify(clinic, session)? {
            Ok(v) => println!("ok: {} rows, chain intact (head {})", v.rows, &v.head[..16]),
            Err(brk) => bail!("the audit trail was tampered with: {brk}"),
        },
    }
    Ok(())
}

fn sync_command(clinic: &Clinic, session: &Session, input: &mut Input, command: SyncCommand) -> Result<()> {
    use galen_core::sync;
    match command {
        SyncCommand::Pair { file, url, safety_number } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let preview = sync::preview(clinic, session, &text)?;
            println!("Partner:       {}", preview.site);
            println!("Safety number: {}", preview.safety_number);
            let confirmed = input.value_or(
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

fn site_command(clinic: &Clinic, session: &Session, command: SiteCommand) -> Result<()> {
    let show = |me: &galen_core::site::SiteIdentity| {
        println!("Site:          {}", me.name);
        println!("OpenPGP key:   {}", me.openpgp_fingerprint);
        println!("Safety number: {}", me.safety_number);
        if let Some(at) = me.certificate_expires() {
            println!("Certificate:   valid until {} (a sync in its last 60 days renews it)", at.date());
        }
    };
    match command {
        SiteCommand::Init => {
            let me = galen_core::site::init(clinic, session)?;
            println!("Created this clinic's site identity (site CA, client certificate, OpenPGP site key).");
            show(&me);
        }
        SiteCommand::Show => match galen_core::site::identity(clinic, session)? {
            Some(me) => show(&me),
            None => println!("No site identity yet: `galen site init` creates it."),
        },
        SiteCommand::PairingFile { out } => {
            let file = galen_core::site::pairing_file(clinic, session)?;
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
    match vault.open() {
        Ok(store) => {
            let d = store.durability()?;
            println!("Clinic:      {}", settings::site_name(&store)?.unwrap_or_default());
            println!(
                "Database:    id {}, schema {}, journal {}",
                store.db_id()?,
                store.schema_version()?,
                d.journal_mode
            );
            println!("Patients:    {}", patients::count(&store)?);
        }
        Err(e) => println!("Database:    not opened: {e}"),
    }
    Ok(())
}
