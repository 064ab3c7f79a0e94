//! Sessions: idle auto-lock, manual lock, unlock, and emergency access.

use crate::support::*;
use galen_core::{audit, breakglass, patients, Action, Error, Role};
use time::Duration;

#[test]
fn a_locked_session_cannot_read_write_or_sign_until_unlocked() {
    let (_fx, clinic, admin, _clock) = new_clinic_with_clock();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let id = register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    clinic.lock(&doctor).expect("lock");
    assert!(matches!(patients::get(&clinic, &doctor, id), Err(Error::Locked)), "no reading");
    assert!(matches!(register(&clinic, &doctor, &patient("B", "C")), Err(Error::Locked)), "no writing");
    assert!(matches!(clinic.authorize(&doctor, Action::DocumentSign, None), Err(Error::Locked)), "no signing");
    assert!(!doctor.holds_signing_key(), "locking drops any signing key");
    assert!(matches!(clinic.unlock(&doctor, "wrong password here"), Err(Error::WrongCredentials)));
    clinic.unlock(&doctor, PASSWORD).expect("unlock with the password");
    patients::get(&clinic, &doctor, id).expect("reads again");
}

#[test]
fn an_idle_session_locks_itself_after_the_timeout() {
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let mut settings = galen_core::settings::load(clinic.store()).expect("load");
    settings.idle_timeout_minutes = 2;
    galen_core::settings::update(&clinic, &admin, &settings).expect("admin sets 2 minutes");
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    assert_eq!(rec.info().idle_timeout_secs, 120);
    clock.advance(Duration::seconds(119));
    assert!(!clinic.check_idle(&rec).expect("check"), "not yet");
    clinic.authorize(&rec, Action::PatientSearch, None).expect("activity resets the idle clock");
    clock.advance(Duration::seconds(119));
    assert!(!clinic.check_idle(&rec).expect("check"), "still within two minutes of the last activity");
    clock.advance(Duration::seconds(2));
    assert!(clinic.check_idle(&rec).expect("check"), "locked after two idle minutes");
    assert!(matches!(clinic.authorize(&rec, Action::PatientSearch, None), Err(Error::Locked)));
    clinic.unlock(&rec, PASSWORD).expect("unlock");
    clinic.authorize(&rec, Action::PatientSearch, None).expect("works again");
    clock.advance(Duration::seconds(100));
    clinic.record_activity(&rec).expect("typing in a form counts as activity");
    clock.advance(Duration::seconds(100));
    assert!(!clinic.check_idle(&rec).expect("check"), "100 s since the last keystroke");
}

#[test]
fn idle_timeout_outside_the_range_is_a_field_error() {
    let (_fx, clinic, admin) = new_clinic();
    for minutes in [0, 241, -5] {
        let mut settings = galen_core::settings::load(clinic.store()).expect("load");
        settings.idle_timeout_minutes = minutes;
        let Err(Error::Invalid(e)) = galen_core::settings::update(&clinic, &admin, &settings) else {
            panic!("{minutes} minutes must be refused");
        };
        assert_eq!(e.0[0].field, "idle_timeout_minutes");
    }
}

#[test]
fn break_glass_grants_one_patient_for_a_while_and_flags_every_action() {
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let nurse = staff_session(&clinic, &admin, "nur", Role::Nurse);
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let id = register(&clinic, &doctor, &patient("Ana", "Albuquerque")).expect("register");
    let other = register(&clinic, &doctor, &patient("Bo", "Berg")).expect("register");

    assert!(matches!(clinic.authorize(&nurse, Action::PatientUpdateClinical, Some(id)), Err(Error::Denied { .. })));
    let Err(Error::Invalid(e)) = breakglass::invoke(&clinic, &nurse, id, "short") else { panic!("reason too short") };
    assert_eq!(e.0[0].field, "reason");
    assert!(
        matches!(
            breakglass::invoke(&clinic, &rec, id, "patient collapsed in the waiting room"),
            Err(Error::Denied { .. })
        ),
        "receptionists are not clinicians"
    );
    breakglass::invoke(&clinic, &nurse, id, "patient collapsed in the waiting room").expect("nurse invokes");
    let actor = clinic.authorize(&nurse, Action::PatientUpdateClinical, Some(id)).expect("granted for this patient");
    assert!(actor.break_glass, "the action is flagged");
    let denied = |action, patient| matches!(clinic.authorize(&nurse, action, Some(patient)), Err(Error::Denied { .. }));
    assert!(denied(Action::PatientUpdateClinical, other), "only that patient");
    assert!(denied(Action::DocumentSign, id), "never signing");

    let rows = audit::list(&clinic, &admin, &audit::Query { limit: 100, only_break_glass: true, ..Default::default() })
        .expect("admin reviews");
    assert!(rows.iter().any(|r| r.action == "breakglass.invoke" && r.username == "nur"), "{rows:?}");
    let reasons = breakglass::review(&clinic, &admin).expect("reasons");
    assert_eq!(reasons[0].reason, "patient collapsed in the waiting room");

    clock.advance(Duration::minutes(61));
    // The hour also idled the session out: unlocked again, the refusal is the grant's expiry, not the lock.
    clinic.unlock(&nurse, PASSWORD).expect("the nurse unlocks");
    assert!(denied(Action::PatientUpdateClinical, id), "the grant expired");
}
