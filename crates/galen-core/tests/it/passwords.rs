//! Staff passwords: an independent argon2 verifier accepts Galen's hashes; the policy refuses weak ones.

use crate::support::*;
use galen_core::staff::{self, NewStaff};
use galen_core::{Error, Role};
use std::process::Command;

#[test]
fn an_independent_argon2_verifier_accepts_galens_hash() {
    let (fx, clinic, _) = new_clinic();
    drop(clinic);
    let hash: String = raw_connection(&fx)
        .query_row("SELECT password_hash FROM staff WHERE username = ?1", [ADMIN], |r| r.get(0))
        .expect("stored hash");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "OWASP parameters: {hash}");
    let verify = |password: &str| {
        Command::new("python3")
            .args([
                "-c",
                "import sys; from argon2 import PasswordHasher; PasswordHasher().verify(sys.argv[1], sys.argv[2])",
            ])
            .args([&hash, password])
            .output()
            .expect("python3 with argon2-cffi (scripts/setup-deps installs it)")
    };
    let good = verify(PASSWORD);
    assert!(
        good.status.success(),
        "argon2-cffi rejected the right password: {}",
        String::from_utf8_lossy(&good.stderr)
    );
    let bad = verify("correct horse battery stapler");
    assert!(!bad.status.success(), "argon2-cffi accepted a wrong password");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("VerifyMismatchError"), "a mismatch, not a crash");
}

#[test]
fn short_and_common_passwords_are_refused_with_a_clear_message() {
    let (_fx, clinic, admin) = new_clinic();
    let attempt = |password: &str| {
        let new = NewStaff {
            username: "nurse1".into(),
            display_name: "Nurse One".into(),
            role: Role::Nurse,
            licence_number: None,
            password: password.into(),
        };
        match staff::add(&clinic, &admin, &new) {
            Err(Error::Invalid(e)) => e.0.into_iter().find(|f| f.field == "password").expect("password error").message,
            other => panic!("{password:?} should be refused, got {other:?}"),
        }
    };
    assert!(attempt("elevenchars").contains("at least 12 characters (this has 11)"));
    assert!(attempt("qazwsxedcrfv").contains("commonly used passwords"));
    assert!(attempt("iloveyou1234").contains("commonly used passwords"));
}

#[test]
fn a_reset_password_must_be_changed_before_anything_else() {
    let (_fx, mut clinic, admin) = new_clinic();
    staff_session(&clinic, &admin, "rec", Role::Receptionist);
    let temporary = staff::reset_password(&mut clinic, &admin, "rec", None).expect("reset").value;
    assert!(matches!(clinic.login("rec", PASSWORD), Err(Error::WrongCredentials)), "the old password stops working");
    let session = clinic.login("rec", temporary.expose()).expect("the temporary password signs in");
    assert!(session.info().must_change_password);
    let err = clinic.authorize(&session, galen_core::Action::PatientSearch, None).expect_err("blocked");
    assert!(matches!(err, Error::PasswordChangeRequired), "got {err:?}");
    clinic.change_own_password(&session, temporary.expose(), "a fresh passphrase of mine").expect("change");
    clinic.authorize(&session, galen_core::Action::PatientSearch, None).expect("allowed after the change");
}
