//! The whole permission table, walked through galen-core's public API.

use crate::support::*;
use galen_core::backup;
use galen_core::staff::{self, NewStaff};
use galen_core::{audit, patients, permissions, settings, Action, Error, Role};

/// What the table says, written out by hand: a change to `permissions::allowed` must change this too.
fn expected(role: Role, action: Action) -> bool {
    use Action::*;
    let admin = [StaffManage, SettingsManage, BackupCreate, BackupRestore, KeyRotate, AuditRead, SyncManage];
    let front_desk = [PatientSearch, PatientReadDemographics, PatientCreate, PatientUpdateDemographics];
    let nurse_extra = [PatientReadClinical, DocumentRead, PrescriptionDraft, DocumentPrint];
    let doctor_extra =
        [PatientUpdateClinical, PatientMerge, CertificateDraft, DocumentSign, DocumentVoid, DocumentExport];
    match role {
        Role::Admin => {
            admin.contains(&action) || [PatientSearch, PatientReadDemographics, PatientMerge].contains(&action)
        }
        Role::Receptionist => front_desk.contains(&action),
        Role::Nurse => front_desk.contains(&action) || nurse_extra.contains(&action),
        Role::Doctor => front_desk.contains(&action) || nurse_extra.contains(&action) || doctor_extra.contains(&action),
    }
}

#[test]
fn every_role_and_action_is_allowed_or_denied_as_the_table_says() {
    let (_fx, clinic, admin) = new_clinic();
    let sessions = [
        (Role::Admin, admin),
        (Role::Doctor, staff_session(&clinic, &clinic_admin(&clinic), "doc", Role::Doctor)),
        (Role::Nurse, staff_session(&clinic, &clinic_admin(&clinic), "nur", Role::Nurse)),
        (Role::Receptionist, staff_session(&clinic, &clinic_admin(&clinic), "rec", Role::Receptionist)),
    ];
    let mut checked = 0;
    for (role, session) in &sessions {
        for action in Action::ALL {
            let want = expected(*role, action);
            assert_eq!(permissions::allowed(*role, action), want, "table: {role} × {action}");
            match clinic.authorize(session, action, None) {
                Ok(actor) => {
                    assert!(want, "{role} was allowed to {action}");
                    assert_eq!(actor.role, Some(*role));
                }
                Err(Error::Denied { role: r, action: a }) => {
                    assert!(!want, "{role} was refused {action}");
                    assert_eq!((r, a), (*role, action), "the refusal names role and action");
                }
                Err(other) => panic!("{role} × {action}: unexpected {other:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * Action::ALL.len());
}

fn clinic_admin(clinic: &galen_core::Clinic) -> galen_core::Session {
    clinic.login(ADMIN, PASSWORD).expect("admin")
}

/// The operations that exist today refuse exactly the roles the table refuses.
#[test]
fn real_operations_follow_the_table_for_every_role() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let id = register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("doctor registers");
    let sessions = [
        (Role::Admin, admin),
        (Role::Doctor, doctor),
        (Role::Nurse, staff_session(&clinic, &clinic_admin(&clinic), "nur", Role::Nurse)),
        (Role::Receptionist, staff_session(&clinic, &clinic_admin(&clinic), "rec", Role::Receptionist)),
    ];
    for (n, (role, s)) in sessions.iter().enumerate() {
        let ops: Vec<(Action, Result<(), Error>)> = vec![
            (Action::PatientCreate, register(&clinic, s, &patient("P", &format!("N{n}"))).map(drop)),
            (Action::PatientReadDemographics, patients::get(&clinic, s, id).map(drop)),
            (Action::StaffManage, staff::list(&clinic, s).map(drop)),
            (Action::SettingsManage, settings::update(&clinic, s, &settings::load(clinic.store()).expect("load"))),
            (Action::AuditRead, audit::verify(&clinic, s).map(drop)),
            (Action::BackupCreate, backup::backup(&clinic, s, &fx.dir.path().join(format!("b{n}"))).map(drop)),
            (
                Action::StaffManage,
                staff::add(
                    &clinic,
                    s,
                    &NewStaff {
                        username: format!("new{n}"),
                        display_name: "New".into(),
                        role: Role::Nurse,
                        licence_number: None,
                        password: PASSWORD.into(),
                    },
                )
                .map(drop),
            ),
        ];
        for (action, result) in ops {
            if expected(*role, action) {
                assert!(result.is_ok(), "{role} may {action}: {result:?}");
            } else {
                assert!(matches!(result, Err(Error::Denied { .. })), "{role} may not {action}: {result:?}");
            }
        }
    }
}

#[test]
fn receptionists_never_see_clinical_fields_and_doctors_do() {
    let (_fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let reception = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let mut p = patient("Ana", "Albuquerque");
    p.clinical = Some(galen_core::patients::Clinical { notes: "penicillin allergy".into(), ..Default::default() });
    let id = register(&clinic, &doctor, &p).expect("register");
    let seen = patients::get(&clinic, &reception, id).expect("read");
    assert_eq!(seen.clinical, None, "a receptionist gets the demographics without the clinical fields");
    assert_eq!(seen.demographics.family_name, "Albuquerque");
    let seen = patients::get(&clinic, &doctor, id).expect("read");
    assert_eq!(seen.clinical.map(|c| c.notes).as_deref(), Some("penicillin allergy"));
}

#[test]
fn the_architecture_document_carries_the_current_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../ARCHITECTURE.md")).expect("read");
    assert!(
        doc.contains(&permissions::markdown_table()),
        "ARCHITECTURE.md's permission table is out of date; paste in:\n{}",
        permissions::markdown_table()
    );
}
