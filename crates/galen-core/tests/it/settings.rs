//! Clinic settings: the letterhead, printing and language, checked field by field.

use crate::support::*;
use galen_core::settings::{self, Logo, PaperSize};
use galen_core::{Error, Role};

const PNG_1PX: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8,
    6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0,
    0xf0, 0x1f, 0, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82,
];

#[test]
fn an_admin_saves_the_letterhead_and_everyone_reads_it() {
    let (fx, clinic, admin) = new_clinic();
    let mut s = settings::load(clinic.store()).expect("load");
    assert_eq!((s.paper_size, s.idle_timeout_minutes, s.language.as_str()), (PaperSize::A4, 10, "en"), "defaults");
    s.address = "  Rua das Flores 12\nLisboa ".into();
    s.phone = "+351 21 000 0000".into();
    s.logo = Some(Logo { mime: "image/png".into(), bytes: PNG_1PX.to_vec() });
    s.paper_size = PaperSize::Letter;
    s.language = "pt".into();
    settings::update(&clinic, &admin, &s).expect("save");
    drop(clinic);
    let (clinic, _) = reopen(&fx, ADMIN);
    let back = settings::load(clinic.store()).expect("load");
    assert_eq!(back.address, "Rua das Flores 12\nLisboa", "trimmed");
    assert_eq!(back.logo.as_ref().map(|l| l.mime.as_str()), Some("image/png"));
    assert_eq!((back.paper_size, back.language.as_str()), (PaperSize::Letter, "pt"));
}

#[test]
fn bad_settings_get_one_message_per_field_and_change_nothing() {
    let (_fx, clinic, admin) = new_clinic();
    let before = settings::load(clinic.store()).expect("load");
    let mut s = before.clone();
    s.site_name = " ".into();
    s.phone = "9".repeat(41);
    s.logo = Some(Logo { mime: "image/png".into(), bytes: b"GIF89a not a png".to_vec() });
    s.idle_timeout_minutes = 0;
    s.language = "fr".into();
    let Err(Error::Invalid(e)) = settings::update(&clinic, &admin, &s) else { panic!("must be refused") };
    let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["site_name", "phone", "logo", "idle_timeout_minutes", "language"]);
    assert_eq!(settings::load(clinic.store()).expect("load"), before, "nothing was half-written");
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    assert!(matches!(settings::update(&clinic, &doctor, &before), Err(Error::Denied { .. })), "admins only");
}

/// Two clinics set up with their own names issue different MRNs from the start.
#[test]
fn a_new_clinic_issues_mrns_under_a_prefix_of_its_own_name() {
    let (_fx, clinic, _admin) = new_clinic();
    assert_eq!(galen_core::settings::load(clinic.store()).expect("settings").mrn_prefix, "SOL", "Clínica Sol");
}
