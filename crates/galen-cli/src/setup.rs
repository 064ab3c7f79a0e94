//! The machine's care, no sign-in needed: `galen init`, `status`, `check` and `unlock`.

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::clinic::Setup;
use galen_core::{patients, settings, vault, Clinic, RecoveryKey, StoreError, Vault};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The clinic's name, as printed on documents.
    #[arg(long)]
    site: Option<String>,
    /// The first admin's username.
    #[arg(long)]
    admin: Option<String>,
    /// The first admin's full name.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UnlockArgs {
    /// Unlock with an admin's password.
    #[arg(long, conflicts_with = "recovery_key", required_unless_present = "recovery_key")]
    admin: bool,
    /// The admin's username (asked if omitted).
    #[arg(long, requires = "admin")]
    username: Option<String>,
    /// Unlock with the recovery key from the recovery sheet (asked without echo).
    #[arg(long)]
    recovery_key: bool,
}

pub fn init(ctx: &mut Ctx, args: InitArgs) -> Result<()> {
    let vault = &ctx.vault;
    if vault.is_initialized() {
        return Err(StoreError::AlreadyInitialized { dir: vault.dir().to_owned() }.into());
    }
    let input = &mut ctx.input;
    let site_name = input.value_or("Clinic name: ", args.site)?;
    let admin_username = input.value_or("First admin's username: ", args.admin)?;
    let admin_display_name = input.value_or("First admin's full name: ", args.name)?;
    let admin_password = input.secret("Admin password (at least 12 characters): ")?;
    if admin_password.expose() != input.secret("Admin password again: ")?.expose() {
        bail!("the two passwords differ; nothing was created");
    }
    let setup = Setup { site_name, admin_username, admin_display_name, admin_password };
    let created = Clinic::create(vault.clone(), &setup)?;
    println!("Created the clinic database in {}.", vault.dir().display());
    print_recovery_key(&created.recovery_key);
    report_keyring(created.clinic.vault(), created.keyring);
    Ok(())
}

pub fn check(ctx: &Ctx) -> Result<()> {
    let store = ctx.vault.open()?;
    store.check_integrity()?;
    println!("ok: every page of {} passed the integrity check", store.path().display());
    Ok(())
}

pub fn unlock(ctx: &mut Ctx, args: UnlockArgs) -> Result<()> {
    let unlocked = if args.recovery_key {
        let key = RecoveryKey::parse(ctx.input.secret("Recovery key: ")?.expose())?;
        ctx.vault.unlock_with_recovery(&key)?
    } else {
        let user = ctx.input.value_or("Admin username: ", args.username)?;
        ctx.vault.unlock_with_admin(&user, ctx.input.secret("Admin password: ")?.expose())?
    };
    println!("Unlocked {}.", unlocked.store.path().display());
    report_keyring(&ctx.vault, unlocked.keyring);
    Ok(())
}

pub fn status(ctx: &Ctx) -> Result<()> {
    let vault = &ctx.vault;
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

/// Shows a new recovery key, once, with what it is for.
pub fn print_recovery_key(key: &RecoveryKey) {
    println!();
    println!("RECOVERY KEY (shown only now; write it down or print it, and keep it away from this laptop):");
    println!();
    println!("    {}", key.display_secret().expose());
    println!();
    println!("With it, the data can be opened if the keyring and the admin password are both lost.");
}

/// After a re-key: the new recovery key, and what became of the old one and of the other admins' unlock wraps.
pub fn print_new_recovery_key(key: &RecoveryKey) {
    println!("The old recovery key no longer opens the database; destroy its sheet.");
    print_recovery_key(key);
    println!("Print its sheet with: galen print --recovery-sheet");
    println!("Other admins can unlock with their password again after their next sign-in.");
}

fn report_keyring(vault: &Vault, stored: Result<(), StoreError>) {
    match stored {
        Ok(()) => println!("The database key is stored in the {} keyring.", vault.keyring().backend()),
        Err(e) => eprintln!("warning: the key could not be stored in the keyring, so each start needs an unlock: {e}"),
    }
}
