//! Clinic-wide settings as an admin changes them, every field checked. Reading them is `table.rs`: the
//! letterhead is printed on every document, so anyone may read the settings; only admins change them.

pub(crate) mod table;

pub use table::{
    idle_timeout, load, site_name, Language, Logo, PaperSize, Settings, ADDRESS_MAX, IDLE_MINUTES_RANGE,
    LOGO_MAX_BYTES, PHONE_MAX,
};

use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors};
use crate::permissions::Action;
use crate::session::Session;
use crate::text;

/// Replaces every setting at once (admins only), after checking each field.
pub fn update(clinic: &Clinic, session: &Session, new: &Settings) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::SettingsManage, None)?;
    let site_name = text::clean(&new.site_name);
    let address = text::clean(&new.address);
    let phone = text::clean(&new.phone);
    let mut errors = FieldErrors::default();
    errors.absorb(text::check_required("site_name", &site_name, crate::clinic::SITE_NAME_MAX));
    errors.absorb(text::check_max("address", &address, ADDRESS_MAX));
    errors.absorb(text::check_max("phone", &phone, PHONE_MAX));
    if let Some(logo) = &new.logo {
        if logo.bytes.len() > LOGO_MAX_BYTES {
            errors.push("logo", format!("Use an image of at most {} KiB.", LOGO_MAX_BYTES / 1024));
        } else if table::image_mime(&logo.bytes).is_none() {
            errors.push("logo", "Use a PNG or JPEG image.");
        }
    }
    if !IDLE_MINUTES_RANGE.contains(&new.idle_timeout_minutes) {
        errors.push(
            "idle_timeout_minutes",
            format!("Choose between {} and {} minutes.", IDLE_MINUTES_RANGE.start(), IDLE_MINUTES_RANGE.end()),
        );
    }
    if Language::parse(&new.language).is_none() {
        errors.push("language", "Choose English, Português or Español.");
    }
    if Language::parse(&new.printout_language).is_none() {
        errors.push("printout_language", "Choose English, Português or Español.");
    }
    let prefix = new.mrn_prefix.trim().to_uppercase();
    errors.absorb(crate::mrn::check_prefix("mrn_prefix", &prefix));
    errors.into_result()?;
    let now = clinic.now_rfc3339();
    let logo = new.logo.as_ref().map(|l| crate::crypto::base64_encode(&l.bytes)).unwrap_or_default();
    let idle = (new.idle_timeout_minutes * 60).to_string();
    clinic.store().write(|tx| {
        for (key, value) in [
            (table::SITE_NAME, site_name.as_str()),
            (table::SITE_ADDRESS, &address),
            (table::SITE_PHONE, &phone),
            (table::SITE_LOGO, &logo),
            (table::PAPER_SIZE, new.paper_size.as_str()),
            (table::IDLE_TIMEOUT_SECS, &idle),
            (table::LANGUAGE, &new.language),
            (table::PRINTOUT_LANGUAGE, &new.printout_language),
            (table::MRN_PREFIX, &prefix),
        ] {
            if table::get(tx, key)?.unwrap_or_default() != value {
                table::put(tx, key, value)?;
                audit::record(tx, &now, &actor, "settings.update", ("setting", key), Outcome::Ok)?;
            }
        }
        Ok(())
    })
}
