//! `galen settings show` and `galen settings set KEY VALUE`: every setting of the app's Settings screen. Anyone
//! may read them (the letterhead is printed on every document); galen-core lets only admins change them, checks
//! each field and audits the change.

use crate::session::Ctx;
use anyhow::{bail, Result};
use galen_core::settings::{self, Logo, PaperSize, Settings, LOGO_MAX_BYTES};
use std::path::Path;

#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Show every setting.
    Show,
    /// Change one setting (admins).
    Set {
        /// Which setting.
        key: Key,
        /// Its new value: text; `a4` or `letter`; minutes; `en`, `pt` or `es`; for the logo a PNG or JPEG file, or
        /// `none`.
        value: String,
    },
}

/// The settings, named as the Settings screen names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Key {
    /// The clinic's name, on every document.
    SiteName,
    /// Its address, on every document.
    Address,
    /// Its phone number, on every document.
    Phone,
    /// The letterhead's logo: a PNG or JPEG file, or `none`.
    Logo,
    /// The paper documents print on.
    Paper,
    /// Minutes before an idle session locks.
    IdleTimeout,
    /// The interface language.
    Language,
    /// The language printouts are worded in (`en`, `pt`, `es`).
    PrintoutLanguage,
    /// What new medical record numbers start with.
    MrnPrefix,
}

pub fn run(ctx: &mut Ctx, command: SettingsCommand) -> Result<()> {
    match command {
        SettingsCommand::Show => show(&settings::load(ctx.clinic()?.store())?),
        SettingsCommand::Set { key, value } => {
            let (clinic, session) = ctx.signed_in()?;
            let mut s = settings::load(clinic.store())?;
            apply(&mut s, key, &value)?;
            settings::update(&clinic, &session, &s)?;
            println!("Saved.");
            show(&settings::load(clinic.store())?);
        }
    }
    Ok(())
}

/// Puts `value` into `key`; what the value means is checked here only as far as reading it (a number, a file),
/// galen-core checks the rest.
fn apply(s: &mut Settings, key: Key, value: &str) -> Result<()> {
    match key {
        Key::SiteName => s.site_name = value.to_owned(),
        Key::Address => s.address = value.to_owned(),
        Key::Phone => s.phone = value.to_owned(),
        Key::Logo if value == "none" => s.logo = None,
        Key::Logo => s.logo = Some(Logo::new(crate::verify::read(Path::new(value), LOGO_MAX_BYTES)?)),
        Key::Paper => {
            let Some(paper) = PaperSize::parse(value) else {
                bail!("paper: give one of {}", PaperSize::NAMES.join(", "))
            };
            s.paper_size = paper;
        }
        Key::IdleTimeout => {
            let Ok(minutes) = value.trim().parse() else { bail!("idle-timeout: give a number of minutes") };
            s.idle_timeout_minutes = minutes;
        }
        Key::Language => s.language = value.to_owned(),
        Key::PrintoutLanguage => s.printout_language = value.to_owned(),
        Key::MrnPrefix => s.mrn_prefix = value.to_owned(),
    }
    Ok(())
}

fn show(s: &Settings) {
    let logo = match &s.logo {
        Some(l) => format!("{} ({} KiB)", l.mime, l.bytes.len().div_ceil(1024)),
        None => "none".to_owned(),
    };
    for (key, value) in [
        ("site-name", s.site_name.as_str()),
        ("address", &s.address.replace('\n', ", ")),
        ("phone", &s.phone),
        ("logo", &logo),
        ("paper", s.paper_size.as_str()),
        ("idle-timeout", &format!("{} minutes", s.idle_timeout_minutes)),
        ("language", &s.language),
        ("printout-language", &s.printout_language),
        ("mrn-prefix", &s.mrn_prefix),
    ] {
        println!("{key:<18} {value}");
    }
}
