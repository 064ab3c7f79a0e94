//! Sign-in throttling on a fake clock: no sleeps.

use crate::support::*;
use galen_core::{staff, Error, Role};
use std::sync::Arc;
use time::Duration;

fn wrong(clinic: &galen_core::Clinic, user: &str) -> Error {
    clinic.login(user, "definitely not the password").expect_err("wrong password")
}

#[test]
fn five_failures_lock_out_the_delay_grows_and_success_resets_it() {
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    staff_session(&clinic, &admin, "rec", Role::Receptionist);
    for i in 1..=4 {
        let e = wrong(&clinic, "rec");
        assert!(matches!(e, Error::WrongCredentials), "failure {i}: {e:?}");
        assert_eq!(e.to_string(), "Wrong username or password.", "always the same generic message");
    }
    assert!(matches!(wrong(&clinic, "rec"), Error::Throttled { retry_after_secs: 30 }), "5th failure locks 30 s");
    let e = clinic.login("rec", PASSWORD).expect_err("even the right password waits");
    assert!(matches!(e, Error::Throttled { .. }), "got {e:?}");
    assert!(e.to_string().contains("Wait 30 seconds"), "{e}");

    clock.advance(Duration::seconds(31));
    assert!(matches!(wrong(&clinic, "rec"), Error::Throttled { retry_after_secs: 60 }), "the delay doubles");
    clock.advance(Duration::seconds(61));
    assert!(matches!(wrong(&clinic, "rec"), Error::Throttled { retry_after_secs: 120 }), "and doubles again");
    clock.advance(Duration::seconds(121));
    clinic.login("rec", PASSWORD).expect("the right password after the wait");
    for i in 1..=4 {
        assert!(matches!(wrong(&clinic, "rec"), Error::WrongCredentials), "success reset the count ({i})");
    }
}

#[test]
fn unknown_usernames_are_throttled_the_same_way() {
    let (_fx, clinic, _admin, _clock) = new_clinic_with_clock();
    for _ in 1..=4 {
        assert!(matches!(wrong(&clinic, "nobody"), Error::WrongCredentials));
    }
    assert!(
        matches!(wrong(&clinic, "nobody"), Error::Throttled { retry_after_secs: 30 }),
        "no hint the user is unknown"
    );
}

#[test]
fn the_lockout_survives_reopening_the_database_and_an_admin_can_clear_it() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    staff_session(&clinic, &admin, "rec", Role::Receptionist);
    for _ in 1..=5 {
        wrong(&clinic, "rec");
    }
    drop(clinic);
    let clinic = galen_core::Clinic::open(fx.vault.clone()).expect("reopen").with_clock(Arc::new(clock.clone()));
    let e = clinic.login("rec", PASSWORD).expect_err("still locked after a restart");
    assert!(matches!(e, Error::Throttled { .. }), "got {e:?}");
    let admin = clinic.login(ADMIN, PASSWORD).expect("admin");
    staff::clear_throttle(&clinic, &admin, "rec").expect("admin clears it");
    clinic.login("rec", PASSWORD).expect("signs in at once");
}

#[test]
fn disabled_accounts_get_the_generic_answer() {
    let (_fx, mut clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    staff::set_active(&mut clinic, &admin, "rec", false, None).expect("disable");
    let e = clinic.login("rec", PASSWORD).expect_err("disabled");
    assert!(matches!(e, Error::WrongCredentials), "no hint the account exists: {e:?}");
    let e = clinic.authorize(&rec, galen_core::Action::PatientSearch, None).expect_err("open session stops too");
    assert!(matches!(e, Error::AccountDisabled), "got {e:?}");
}

/// A new doctor, signed in, and a drafted prescription for a new patient: what `sign` needs.
fn doctor_with_draft(clinic: &galen_core::Clinic, admin: &galen_core::Session) -> (galen_core::Session, i64) {
    let doc = crate::documents::doctor(clinic, admin);
    let demographics = galen_core::patients::Demographics {
        given_names: "Ana".into(),
        family_name: "Lima".into(),
        date_of_birth: "1990-01-01".into(),
        ..Default::default()
    };
    let p = galen_core::patients::register(
        clinic,
        &doc,
        &galen_core::patients::NewPatient { demographics, clinical: None },
        true,
    )
    .expect("patient");
    let draft = galen_core::documents::create_draft(clinic, &doc, p.id, crate::documents::rx(clinic)).expect("draft");
    (doc, draft.id)
}

#[test]
fn twenty_wrong_passwords_to_sign_are_throttled_and_the_right_one_waits_for_the_lock_to_end() {
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let (doc, draft) = doctor_with_draft(&clinic, &admin);
    let answers: Vec<Error> = (0..20)
        .map(|_| galen_core::documents::sign(&clinic, &doc, draft, "not my password at all", true).expect_err("wrong"))
        .collect();
    assert!(matches!(answers[0], Error::Invalid(_)), "a first wrong password is a field error: {:?}", answers[0]);
    assert!(matches!(answers[19], Error::Throttled { .. }), "the twentieth is throttled: {:?}", answers[19]);
    let e = galen_core::documents::sign(&clinic, &doc, draft, crate::documents::DOC_PW, true).expect_err("locked");
    assert!(matches!(e, Error::Throttled { .. }), "even the right password waits: {e:?}");
    // Refused attempts do not count: the lock started at the fifth failure, for 30 s.
    clock.advance(Duration::seconds(31));
    galen_core::documents::sign(&clinic, &doc, draft, crate::documents::DOC_PW, true).expect("signs after the wait");
}

#[test]
fn wrong_current_passwords_when_changing_ones_own_are_throttled() {
    let (_fx, clinic, admin, _clock) = new_clinic_with_clock();
    let session = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let new = "a brand new passphrase 42";
    let last =
        (0..6).map(|_| clinic.change_own_password(&session, "not the current one", new).expect_err("wrong")).last();
    assert!(matches!(last, Some(Error::Throttled { .. })), "{last:?}");
    let e = clinic.change_own_password(&session, PASSWORD, new).expect_err("locked");
    assert!(matches!(e, Error::Throttled { .. }), "the right password waits too: {e:?}");
}

#[test]
fn wrong_admin_passwords_to_rotate_the_key_are_throttled() {
    let (_fx, mut clinic, admin, _clock) = new_clinic_with_clock();
    let last = (0..6).map(|_| clinic.rotate_key(&admin, "not the admin password").expect_err("wrong")).last();
    assert!(matches!(last, Some(Error::Throttled { .. })), "{last:?}");
    let e = clinic.rotate_key(&admin, PASSWORD).expect_err("locked");
    assert!(matches!(e, Error::Throttled { .. }), "the right password waits too: {e:?}");
}

#[test]
fn wrong_admin_passwords_to_unlock_without_the_keyring_are_throttled_across_restarts() {
    let (fx, clinic, _admin, _clock) = new_clinic_with_clock();
    drop(clinic);
    for _ in 0..5 {
        let e =
            galen_core::Vault::new(fx.vault.dir()).unlock_with_admin(ADMIN, "not the admin password").expect_err("x");
        if matches!(e, galen_core::StoreError::Throttled { .. }) {
            break;
        }
    }
    // A new process would build a new Vault: the count lives beside the database, not in memory.
    let e = galen_core::Vault::new(fx.vault.dir()).unlock_with_admin(ADMIN, PASSWORD).expect_err("locked");
    assert!(matches!(e, galen_core::StoreError::Throttled { .. }), "the right password waits too: {e:?}");
}
