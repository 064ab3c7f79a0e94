//! `galen backup` (by hand, and scheduled: `schedule`, `run`, `drill`, `status`) and `galen restore`.

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::backup::drill;
use galen_core::backup::schedule::{self, Keep, Schedule, Trigger, Warning};
use galen_core::backup::{self, RestoreBy};
use galen_core::{Clinic, RecoveryKey, StoreError};
use std::path::PathBuf;
use time::OffsetDateTime;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BackupArgs {
    /// Where to write the backup file (a backup made now, by hand).
    #[arg(required = true)]
    file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<BackupCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Scheduled backups: show, set or stop them (admins set them).
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Make a scheduled backup into the schedule's folder now (an admin signs in), pruning older ones by its rule.
    /// With --scheduled, for a system timer: nobody signs in, and a backup is made only when one is due.
    Run {
        /// Only if one is due (the system timer runs this hourly).
        #[arg(long)]
        scheduled: bool,
    },
    /// Restore a backup into a private copy, check it, and count it against the live data; live data is never
    /// touched (admins). Without FILE, the newest scheduled backup.
    Drill {
        /// The backup to drill.
        file: Option<PathBuf>,
    },
    /// Where backups stand (admins): the schedule, the newest verified backup, the next one, the latest drill, and anything
    /// to act on.
    Status,
}

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Show the schedule.
    Show,
    /// Set the schedule (replacing the one before; what is not given takes its default).
    Set(ScheduleArgs),
    /// Stop scheduled backups (the backups made stay where they are).
    Off,
}

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    /// The folder backups go to: an external drive, a network share, a synced folder. It must exist.
    #[arg(long)]
    folder: PathBuf,
    /// Every day at this local time, HH:MM (24-hour). A missed one is made at the next chance.
    #[arg(long, value_parser = time_of_day)]
    at: Option<time::Time>,
    /// Also each time the app closes.
    #[arg(long)]
    on_close: bool,
    /// How many days' newest backups to keep.
    #[arg(long, default_value_t = Keep::default().daily)]
    keep_daily: u32,
    /// How many weeks' newest backups to keep.
    #[arg(long, default_value_t = Keep::default().weekly)]
    keep_weekly: u32,
    /// How many months' newest backups to keep.
    #[arg(long, default_value_t = Keep::default().monthly)]
    keep_monthly: u32,
}

fn time_of_day(s: &str) -> std::result::Result<time::Time, String> {
    schedule::parse_time_of_day(s).ok_or_else(|| format!("{s:?} is not a time of day; give HH:MM, e.g. 02:30"))
}

pub fn run(ctx: &mut Ctx, args: BackupArgs) -> Result<()> {
    match (args.command, args.file) {
        (Some(command), _) => run_command(ctx, command),
        (None, Some(file)) => backup_to(ctx, file),
        // clap requires one or the other.
        (None, None) => bail!("give the backup file to write, or a subcommand (see `galen backup --help`)"),
    }
}

fn run_command(ctx: &mut Ctx, command: BackupCommand) -> Result<()> {
    match command {
        BackupCommand::Schedule(ScheduleCommand::Show) => {
            let clinic = ctx.clinic()?;
            print_schedule(schedule::load(clinic.store())?.as_ref());
        }
        BackupCommand::Schedule(ScheduleCommand::Set(a)) => {
            let (clinic, session) = ctx.signed_in()?;
            let keep = Keep { daily: a.keep_daily, weekly: a.keep_weekly, monthly: a.keep_monthly };
            let s = Schedule { folder: a.folder, at: a.at, on_close: a.on_close, keep };
            schedule::set(&clinic, &session, Some(&s))?;
            print_schedule(Some(&s));
            if s.at.is_some() {
                println!("While the app is closed, the system timer makes them: see README, \"Backups that happen by themselves\".");
            }
        }
        BackupCommand::Schedule(ScheduleCommand::Off) => {
            let (clinic, session) = ctx.signed_in()?;
            schedule::set(&clinic, &session, None)?;
            println!("Scheduled backups stopped. The backups already made stay where they are.");
        }
        BackupCommand::Run { scheduled: true } => {
            let clinic = ctx.clinic()?;
            match schedule::run_due(&clinic, Trigger::Timer)? {
                Some(made) => print_made(&made),
                None => println!("No backup is due."),
            }
        }
        BackupCommand::Run { scheduled: false } => {
            let (clinic, session) = ctx.signed_in()?;
            print_made(&schedule::run_now(&clinic, &session)?);
        }
        BackupCommand::Drill { file } => {
            let (clinic, session) = ctx.signed_in()?;
            let report = match file {
                Some(file) => drill::run_now(&clinic, &session, &file)?,
                None => schedule::drill_newest(&clinic, &session)?,
            };
            println!("Drill of {}: it {}.", report.file.display(), report.summary());
        }
        BackupCommand::Status => {
            let (clinic, session) = ctx.signed_in()?;
            status(&clinic, &session)?;
        }
    }
    Ok(())
}

fn print_schedule(s: Option<&Schedule>) {
    let Some(s) = s else {
        println!("No scheduled backups: a backup is made only when someone makes one.");
        return;
    };
    let when = match (s.at, s.on_close) {
        (Some(at), true) => format!("every day at {} and when the app closes", schedule::format_time_of_day(at)),
        (Some(at), false) => format!("every day at {}", schedule::format_time_of_day(at)),
        (None, _) => "when the app closes".to_owned(),
    };
    println!("Scheduled backups: {when}, to {}.", s.folder.display());
    let Keep { daily, weekly, monthly } = s.keep;
    println!("Keeping the newest of the last {daily} days, {weekly} weeks and {monthly} months.");
}

fn print_made(made: &schedule::Made) {
    println!("Backup written to {} ({} bytes) and verified.", made.file.display(), made.bytes);
    for p in &made.pruned {
        println!("Removed the older {} (by the schedule's rule).", p.display());
    }
    match &made.drill {
        Some(Ok(report)) => println!("Monthly restore drill: it {}.", report.summary()),
        Some(Err(why)) => println!("Monthly restore drill FAILED: {why}"),
        None => {}
    }
}

/// A moment as the computer's local date and time, to the minute.
fn local(at: OffsetDateTime) -> String {
    let at = schedule::in_local_time(at);
    format!("{} {:02}:{:02}", at.date(), at.hour(), at.minute())
}

fn status(clinic: &Clinic, session: &galen_core::Session) -> Result<()> {
    let st = schedule::status(clinic, session)?;
    print_schedule(st.schedule.as_ref());
    match &st.last_ok {
        Some((at, file)) => println!("Newest verified backup: {} ({}).", local(*at), file.display()),
        None => println!("Newest verified backup: none yet."),
    }
    if let Some(next) = st.next_at {
        println!("Next scheduled backup: {}.", local(next));
    }
    if st.schedule.as_ref().is_some_and(|s| s.folder.is_dir()) {
        println!("Scheduled backups in the folder: {}.", st.generations.len());
    }
    match &st.last_drill {
        Some(d) if d.ok => println!("Latest restore drill: {}, {}: it {}.", local(d.at), d.file.display(), d.message),
        Some(d) => println!("Latest restore drill: {}, {}: FAILED.", local(d.at), d.file.display()),
        None => println!("Latest restore drill: none yet."),
    }
    if st.warnings.is_empty() {
        println!("All is well.");
    }
    for w in &st.warnings {
        println!("WARNING: {}", advice(w));
    }
    Ok(())
}

/// What a warning means and what to do, in words.
fn advice(w: &Warning) -> String {
    match w {
        Warning::NotScheduled => "backups are not scheduled, so they happen only when someone remembers. Set a schedule: `galen backup schedule set --folder DIR --at 02:00`.".into(),
        Warning::FolderMissing(folder) => format!("the backup folder {} is not there. Plug in its drive or connect its share, or choose another folder.", folder.display()),
        Warning::Overdue(Some(at)) => format!("the newest verified backup is from {}, older than the schedule allows. Run `galen backup run`, and check the app or the system timer runs.", local(*at)),
        Warning::Overdue(None) => "no backup has been made yet. Run `galen backup run`.".into(),
        Warning::Failed { message, .. } => format!("the latest backup failed: {message}"),
        Warning::DrillFailed(why) => format!("the latest restore drill failed: {why} Make a new backup now (`galen backup run`) and drill it."),
    }
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file to restore.
    file: PathBuf,
    /// Ask for the recovery key that was current when the backup was made.
    #[arg(long)]
    recovery_key: bool,
}

fn backup_to(ctx: &mut Ctx, file: PathBuf) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let summary = backup::backup(&clinic, &session, &file)?;
    println!("Backup written to {} ({} bytes, schema {}).", file.display(), summary.bytes, summary.schema_version);
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
