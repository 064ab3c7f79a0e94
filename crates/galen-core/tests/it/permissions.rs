//! The whole permission table, walked through galen-core's public API.

use crate::documents::{all_kinds, doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::backup::{self, RestoreBy};
use galen_core::documents::{self, Body};
use galen_core::patients::{self, search, Clinical};
use galen_core::pdf::{self, Printout};
use galen_core::{appointments, audit, fhir, permissions, settings, staff, sync, Action, Error, Role};

/// What the table says, written out by hand: a change to `permissions::allowed` must change this too.
fn expected(role: Role, action: Action) -> bool {
    use Action::*;
    let admin = [StaffManage, SettingsManage, BackupCreate, BackupRestore, KeyRotate, AuditRead, SyncManage];
    // Exports and imports of whole records: an admin's carry demographics only (the fhir tests hold them to it).
    let records = [RecordExport, RecordImport];
    let front_desk =
        [PatientSearch, PatientReadDemographics, PatientCreate, PatientUpdateDemographics, AppointmentRead];
    let nurse_extra = [PatientReadClinical, DocumentRead, PrescriptionDraft, DocumentPrint];
    let doctor_extra = [
        PatientUpdateClinical,
        PatientMerge,
        CertificateDraft,
        DocumentSign,
        DocumentVoid,
        DocumentExport,
        AppointmentBook,
        VisitManage,
    ];
    match role {
        Role::Admin => {
            admin.contains(&action)
                || records.contains(&action)
                || [PatientSearch, PatientReadDemographics, PatientMerge].contains(&action)
        }
        Role::Receptionist => front_desk.contains(&action) || action == AppointmentBook,
        Role::Nurse => front_desk.contains(&action) || nurse_extra.contains(&action),
        Role::Doctor => {
            front_desk.contains(&action)
                || nurse_extra.contains(&action)
                || doctor_extra.contains(&action)
                || records.contains(&action)
        }
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

/// What an operation did: ran, or was refused for the role (any other failure fails the test).
#[derive(Debug, PartialEq)]
enum Outcome {
    Ran,
    Refused,
}

fn outcome<T>(role: Role, action: Action, result: Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ran,
        Err(Error::Denied { role: r, action: a }) => {
            assert_eq!(r, role, "the refusal of {action} names the role");
            assert!(
                a == action || (a == Action::PatientUpdateDemographics && action == Action::PatientUpdateClinical),
                "{role}: {action} was refused as {a}"
            );
            Outcome::Refused
        }
        Err(other) => panic!("{role} × {action}: failed for another reason: {other:?}"),
    }
}

/// Every action, through the real operation that needs it, for every role, each role in its own clinic: it runs
/// exactly where the table allows it and is refused, naming role and action, everywhere else.
#[test]
fn every_operation_follows_the_table_for_every_role() {
    for role in [Role::Admin, Role::Doctor, Role::Nurse, Role::Receptionist] {
        let (fx, mut clinic, admin) = new_clinic();
        let rui = doctor(&clinic, &admin);
        let s = if role == Role::Admin { clinic_admin(&clinic) } else { staff_session(&clinic, &admin, "who", role) };
        // What the operations work on, made by those allowed to make it.
        let mut with_clinical = patient("Ana", "Albuquerque");
        with_clinical.clinical = Some(Clinical { notes: "asthma".into(), ..Default::default() });
        let pid = register(&clinic, &rui, &with_clinical).expect("register");
        let signed = |clinic: &galen_core::Clinic| {
            let d = documents::create_draft(clinic, &rui, pid, rx(clinic)).expect("draft");
            documents::sign(clinic, &rui, d.id, DOC_PW, true).expect("sign").id
        };
        let (rx_signed, to_void) = (signed(&clinic), signed(&clinic));
        let drafter = if expected(role, Action::PrescriptionDraft) { &s } else { &rui };
        let to_sign = documents::create_draft(&clinic, drafter, pid, rx(&clinic)).expect("draft to sign").id;
        let (keep, merge) = (
            register(&clinic, &rui, &patient("Bea", "Brito")).expect("register"),
            register(&clinic, &rui, &patient("Bea", "Britto")).expect("register"),
        );
        let sick_leave = all_kinds(&clinic).into_iter().find(|b| matches!(b, Body::SickLeave(_))).expect("sick leave");
        let made_by_admin = fx.dir.path().join("made-by-admin.galen-backup");
        backup::backup(&clinic, &admin, &made_by_admin).expect("the admin's backup");
        let today = appointments::today(&clinic).expect("today");
        let visit = appointments::Booking {
            patient_id: pid,
            doctor_id: rui.user_id(),
            date: today.clone(),
            time: "23:00".into(),
            minutes: 15,
            ..Default::default()
        };
        let booked = appointments::book(&clinic, &rui, &visit, None, true).expect("a visit to start")[0].id;
        let mrn = patients::get(&clinic, &rui, pid).expect("the patient").mrn;
        let fhir_patient =
            br#"{"resourceType":"Patient","name":[{"family":"Dias","given":["Duarte"]}],"birthDate":"1990-01-01"}"#;
        let mut demographics = patient("Ana", "Albuquerque");
        demographics.demographics.email = "ana@example.org".into();

        let a = |action: Action, result| (action, outcome(role, action, result));
        let mut ran = vec![
            a(Action::PatientSearch, search::search(&clinic, &s, "albu", 0, 10).map(drop)),
            a(Action::PatientReadDemographics, patients::get(&clinic, &s, pid).map(drop)),
            // Clinical fields are withheld rather than refused: the record comes without them.
            a(
                Action::PatientReadClinical,
                patients::get(&clinic, &s, pid).and_then(|p| match p.clinical {
                    Some(_) => Ok(()),
                    None => Err(Error::Denied { role, action: Action::PatientReadClinical }),
                }),
            ),
            a(Action::PatientCreate, register(&clinic, &s, &patient("Caio", "Castro")).map(drop)),
            a(Action::PatientUpdateDemographics, patients::update(&clinic, &s, pid, &demographics).map(drop)),
            a(Action::PatientUpdateClinical, patients::update(&clinic, &s, pid, &with_clinical).map(drop)),
            a(Action::PatientMerge, patients::merge(&clinic, &s, keep, merge).map(drop)),
            a(Action::DocumentRead, documents::list_for_patient(&clinic, &s, pid).map(drop)),
            a(Action::PrescriptionDraft, documents::create_draft(&clinic, &s, pid, rx(&clinic)).map(drop)),
            a(Action::CertificateDraft, documents::create_draft(&clinic, &s, pid, sick_leave).map(drop)),
            a(Action::DocumentSign, documents::sign(&clinic, &s, to_sign, PASSWORD, true).map(drop)),
            a(Action::DocumentVoid, documents::void(&clinic, &s, to_void, "wrong patient", PASSWORD).map(drop)),
            a(Action::DocumentPrint, pdf::render(&clinic, &s, &Printout::Document(rx_signed)).map(drop)),
            a(Action::DocumentExport, documents::export(&clinic, &s, rx_signed, fx.dir.path()).map(drop)),
            a(Action::RecordExport, fhir::patient_summary(&clinic, &s, &mrn).map(drop)),
            a(Action::RecordImport, fhir::plan(&clinic, &s, fhir_patient).map(drop)),
            a(Action::AppointmentRead, appointments::calendar(&clinic, &s, &today, 7, None).map(drop)),
            a(Action::AppointmentBook, appointments::book(&clinic, &s, &visit, None, true).map(drop)),
            a(Action::VisitManage, appointments::start(&clinic, &s, booked).map(drop)),
            a(Action::StaffManage, staff::list(&clinic, &s).map(drop)),
            a(Action::SettingsManage, settings::update(&clinic, &s, &settings::load(clinic.store()).expect("load"))),
            a(Action::BackupCreate, backup::backup(&clinic, &s, &fx.dir.path().join("b")).map(drop)),
            a(Action::AuditRead, audit::list(&clinic, &s, &audit::Query { limit: 10, ..Default::default() }).map(drop)),
            a(Action::SyncManage, sync::status(&clinic, &s).map(drop)),
            a(Action::KeyRotate, clinic.rotate_key(&s, PASSWORD).map(drop)),
        ];
        // Last: a restore closes the clinic it is given (and the key was rotated since the backup).
        let by = RestoreBy::Admin { clinic, session: &s };
        ran.push(a(
            Action::BackupRestore,
            backup::restore(&fx.vault, &made_by_admin, by, Some(&fx.recovery)).map(drop),
        ));

        for (action, got) in &ran {
            let want = if expected(role, *action) { Outcome::Ran } else { Outcome::Refused };
            assert_eq!(*got, want, "{role} × {action}");
        }
        let covered: std::collections::BTreeSet<Action> = ran.iter().map(|(a, _)| *a).collect();
        assert_eq!(covered.len(), Action::ALL.len(), "every action has its operation here");
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
