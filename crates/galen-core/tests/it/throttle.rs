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
    let (_fx, clinic, admin) = new_clinic();
    let rec = staff_session(&clinic, &admin, "rec", Role::Receptionist);
    staff::set_active(&clinic, &admin, "rec", false).expect("disable");
    let e = clinic.login("rec", PASSWORD).expect_err("disabled");
    assert!(matches!(e, Error::WrongCredentials), "no hint the account exists: {e:?}");
    let e = clinic.authorize(&rec, galen_core::Action::PatientSearch, None).expect_err("open session stops too");
    assert!(matches!(e, Error::AccountDisabled), "got {e:?}");
}
