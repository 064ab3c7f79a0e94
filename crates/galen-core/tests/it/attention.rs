//! What an admin's home page names: an account locked out by wrong passwords (until it is lifted), the audit
//! trail's last check, and certificates near their end (on a fake clock); the list is for admins only. Sync
//! health is checked against a real partner in galen-partner's sync tests.

use crate::support::*;
use galen_core::attention::{self, Certificate};
use galen_core::{audit, site, staff, Error, Role};

#[test]
fn an_admin_home_names_lockouts_the_last_audit_check_and_certificates_near_their_end() {
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let desk = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    let calm = attention::attention(&clinic, &admin).expect("attention");
    assert_eq!((calm.sync, calm.audit_check, calm.locked_out.len(), calm.certificates.len()), (None, None, 0, 0));

    // Five wrong passwords lock the account out (throttle::FREE_ATTEMPTS); an admin lifts it.
    for _ in 0..5 {
        assert!(clinic.login("rita", "not her password").is_err());
    }
    let locked = attention::attention(&clinic, &admin).expect("attention").locked_out;
    assert_eq!(locked.len(), 1, "{locked:?}");
    assert_eq!((locked[0].username.as_str(), locked[0].display_name.as_str()), ("rita", "rita (receptionist)"));
    assert!((1..=30).contains(&locked[0].seconds), "{locked:?}");
    staff::clear_throttle(&clinic, &admin, "rita").expect("lifted");
    assert!(attention::attention(&clinic, &admin).expect("attention").locked_out.is_empty());

    // The audit trail's newest check: who, and that it was intact.
    audit::verify(&clinic, &admin).expect("verify").expect("intact");
    let check = attention::attention(&clinic, &admin).expect("attention").audit_check.expect("checked");
    assert!(check.intact && check.by == ADMIN, "{check:?}");

    // The site identity (made by that first check) has certificates, named in their last 30 days: the client
    // certificate (two years) first.
    assert!(site::identity(&clinic, &admin).expect("identity").is_some(), "verify made the site identity");
    assert!(attention::attention(&clinic, &admin).expect("attention").certificates.is_empty());
    clock.advance(time::Duration::days(2 * 365 - 20));
    let admin = clinic.login(ADMIN, PASSWORD).expect("signs in again");
    let ending = attention::attention(&clinic, &admin).expect("attention").certificates;
    assert_eq!(ending.len(), 1, "{ending:?}");
    assert_eq!(ending[0].certificate, Certificate::Client);
    assert!((18..=21).contains(&ending[0].days_left), "{ending:?}");

    let desk = clinic.login("rita", PASSWORD).unwrap_or(desk);
    assert!(matches!(attention::attention(&clinic, &desk), Err(Error::Denied { .. })));
}
