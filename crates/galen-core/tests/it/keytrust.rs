//! Doctor keys the clinic vouches for (issue 15, part 3): the site key certifies each doctor key, stock GnuPG sees
//! it; every key is audited with why it was made, and a key made after an admin reset the password is told to the
//! doctor and shown on what it signs; an admin revokes a key (earlier signatures stand, GnuPG sees the
//! revocation); and a trust list, signed by the site key, vouches for keys at the time they signed.

use crate::documents::{doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::documents::keys::{self, KeyStatus};
use galen_core::documents::trust::{self, CheckedList, TrustError, Vouch};
use galen_core::documents::{self, KeyNote, Verification};
use galen_core::{audit, site, staff, Clinic, Error, Session};
use std::path::Path;
use std::process::Command;

/// A prescription signed now: its id and the fingerprint of the key that signed it.
fn signed(clinic: &Clinic, doc: &Session, patient: i64, password: &str) -> (i64, String) {
    let draft = documents::create_draft(clinic, doc, patient, rx(clinic)).expect("draft");
    let d = documents::sign(clinic, doc, draft.id, password, true).expect("sign");
    match documents::open(clinic, doc, d.id).expect("open").verification {
        Verification::Valid { signer, .. } => (d.id, signer.fingerprint),
        other => panic!("a fresh signature verifies: {other:?}"),
    }
}

fn notes(clinic: &Clinic, doc: &Session, id: i64) -> Vec<KeyNote> {
    match documents::open(clinic, doc, id).expect("open").verification {
        Verification::Valid { notes, .. } => notes,
        other => panic!("must verify: {other:?}"),
    }
}

/// Runs gpg with a private home in `dir`; its exit status and everything it printed.
fn gpg(dir: &Path, args: &[&str]) -> (bool, String) {
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("home");
    let out = Command::new("gpg").env("GNUPGHOME", &home).arg("--batch").args(args).output().expect("gpg runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn audited(clinic: &Clinic, admin: &Session, action: &str) -> Vec<String> {
    let log = audit::list(clinic, admin, &audit::Query { limit: 200, ..Default::default() }).expect("log");
    log.into_iter().filter(|e| e.action == action).map(|e| e.entity_id).collect()
}

#[test]
fn the_site_key_certifies_each_doctor_key_and_stock_gnupg_sees_it() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let (_, fpr) = signed(&clinic, &doc, pid, DOC_PW);

    let dir = fx.dir.path();
    let site_file = write(dir, "site.asc", &site::public_key(&clinic, &admin).expect("site key"));
    let doctor_file = write(dir, "doctor.asc", &documents::doctor_public_key(&clinic, &admin, "rui").expect("key"));
    assert!(gpg(dir, &["--import", &site_file, &doctor_file]).0);
    let (_, sigs) = gpg(dir, &["--with-colons", "--check-sigs", &fpr]);
    let by_site: Vec<&str> = sigs.lines().filter(|l| l.starts_with("sig:!:") && l.contains("(Galen site)")).collect();
    assert_eq!(by_site.len(), 1, "one good certification by the clinic's site key: {sigs}");

    let listed = keys::doctor_keys(&clinic, &admin).expect("keys");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].vouched && listed[0].status == KeyStatus::Active, "{listed:?}");
    assert!(
        audited(&clinic, &admin, "signing_key.create")
            .iter()
            .any(|e| e.starts_with(&fpr) && e.ends_with("first signature")),
        "the key's creation is audited with its cause"
    );
}

#[test]
fn a_key_made_after_an_admin_reset_is_audited_told_to_the_doctor_and_noted_on_what_it_signs() {
    let (_fx, mut clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let (before, before_key) = signed(&clinic, &doc, pid, DOC_PW);
    assert!(notes(&clinic, &doc, before).is_empty());

    let temporary = staff::reset_password(&mut clinic, &admin, "rui", None).expect("reset").value;
    let doc = clinic.login("rui", temporary.expose()).expect("temporary password");
    let new_password = "a brand new doctor passphrase";
    clinic.change_own_password(&doc, temporary.expose(), new_password).expect("change");
    let (after, after_key) = signed(&clinic, &doc, pid, new_password);
    assert_ne!(after_key, before_key, "the reset left the old key locked");

    let created = audited(&clinic, &admin, "signing_key.create");
    assert!(created.iter().any(|e| e.contains("after ana reset the password")), "audited with its cause: {created:?}");
    match notes(&clinic, &doc, after).as_slice() {
        [KeyNote::MadeAfterReset { by, .. }] => assert_eq!(by, "ana"),
        other => panic!("what the key signed says so: {other:?}"),
    }
    assert!(notes(&clinic, &doc, before).is_empty(), "the earlier key's documents say nothing new");

    clinic.logout(doc).expect("sign out");
    let again = clinic.login("rui", new_password).expect("sign in");
    let told = again.info().new_keys;
    assert_eq!(told.len(), 1, "told at the next sign-in");
    assert_eq!(told[0].reset_by, "ana");
    assert!(clinic.login("rui", new_password).expect("once more").info().new_keys.is_empty(), "told once");
}

#[test]
fn a_revoked_key_keeps_its_earlier_signatures_fails_later_ones_and_gnupg_sees_the_revocation() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let (before, fpr) = signed(&clinic, &doc, pid, DOC_PW);
    let dir = fx.dir.path();
    let as_issued = write(dir, "issued.asc", &documents::doctor_public_key(&clinic, &admin, "rui").expect("key"));

    match keys::revoke_key(&clinic, &admin, &fpr, "  ") {
        Err(Error::Invalid(e)) => assert_eq!(e.0[0].field, "reason"),
        other => panic!("a revocation needs a reason: {other:?}"),
    }
    assert!(matches!(keys::revoke_key(&clinic, &doc, &fpr, "Laptop lost"), Err(Error::Denied { .. })));
    let revoked = keys::revoke_key(&clinic, &admin, &fpr, "Laptop lost").expect("revoke");
    assert!(matches!(&revoked.status, KeyStatus::Revoked(r) if r.reason == "Laptop lost" && r.by == "ana"));
    assert!(audited(&clinic, &admin, "signing_key.revoke").contains(&fpr));
    match notes(&clinic, &doc, before).as_slice() {
        [KeyNote::RevokedLater { reason, .. }] => assert_eq!(reason, "Laptop lost"),
        other => panic!("signed before the revocation: valid, with a note: {other:?}"),
    }
    let (_, next_key) = signed(&clinic, &doc, pid, DOC_PW);
    assert_ne!(next_key, fpr, "the next signature makes a new key");

    // A signature dated after the revocation (only a thief of the key could make one) fails.
    raw_connection(&fx)
        .execute("UPDATE doctor_keys SET revoked_at = '2000-01-01T00:00:00Z' WHERE fingerprint = ?1", [&fpr])
        .expect("sql");
    match documents::open(&clinic, &doc, before).expect("open").verification {
        Verification::Invalid { problem: documents::Problem::KeyRevoked { reason, .. } } => {
            assert_eq!(reason, "Laptop lost")
        }
        other => panic!("signed after the revocation: {other:?}"),
    }

    // GnuPG: the site key and the doctor's key as it was issued, then its revocation certificate, handed out on
    // its own (the site key revokes as the key's designated revoker).
    let certificate = keys::revocation_certificate(&clinic, &admin, &fpr).expect("revocation certificate");
    let site_file = write(dir, "site.asc", &site::public_key(&clinic, &admin).expect("site key"));
    assert!(gpg(dir, &["--import", &site_file, &as_issued]).0);
    let (_, listing) = gpg(dir, &["--with-colons", "--list-keys", &fpr]);
    assert!(listing.lines().any(|l| l.starts_with("pub:u:") || l.starts_with("pub:-:")), "not yet revoked: {listing}");
    let (ok, said) = gpg(dir, &["--import", &write(dir, "revocation.asc", &certificate)]);
    assert!(ok, "gpg imports the revocation: {said}\n{certificate}");
    let (_, listing) = gpg(dir, &["--with-colons", "--list-keys", &fpr]);
    assert!(listing.lines().any(|l| l.starts_with("pub:r:")), "gpg sees the key revoked: {listing}");
}

#[test]
fn a_trust_list_signed_by_the_site_key_vouches_for_keys_at_the_time_they_signed() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let (old_doc, old_key) = signed(&clinic, &doc, pid, DOC_PW);
    let Verification::Valid { signed_at: old_signed_at, .. } =
        documents::open(&clinic, &doc, old_doc).expect("open").verification
    else {
        panic!("verifies")
    };
    clock.advance(time::Duration::minutes(5));
    keys::revoke_key(&clinic, &admin, &old_key, "Left the clinic").expect("revoke");
    let (_, new_key) = signed(&clinic, &doc, pid, DOC_PW);
    assert!(matches!(keys::trust_list(&clinic, &doc), Err(Error::Denied { .. })), "admins hand it out");
    let text = keys::trust_list(&clinic, &admin).expect("trust list");

    let checked = CheckedList::read(&text).expect("the list's signature checks");
    assert_eq!(checked.list.clinic, "Clínica Sol");
    assert_eq!(checked.list.doctors.len(), 2);
    let later = "2999-01-01T00:00:00Z";
    let lists = std::slice::from_ref(&checked);
    let licence = Some("CRM-12345");
    assert!(
        matches!(trust::vouch(lists, &new_key, later, licence), Vouch::Vouched { ref name, .. } if name == "Dr Rui Costa")
    );
    assert!(
        matches!(trust::vouch(lists, &old_key, &old_signed_at, licence), Vouch::Vouched { .. }),
        "signed before the revocation"
    );
    assert!(
        matches!(trust::vouch(lists, &old_key, later, licence), Vouch::Revoked { ref reason, .. } if reason == "Left the clinic")
    );
    assert!(
        matches!(trust::vouch(lists, &new_key, "2000-01-01T00:00:00Z", licence), Vouch::OutsideValidity { .. }),
        "before the key was made"
    );
    assert!(
        matches!(trust::vouch(lists, &new_key, later, Some("CRM-99999")), Vouch::OtherDoctor { ref licence, .. } if licence == "CRM-12345"),
        "a document naming another doctor"
    );
    assert_eq!(trust::vouch(lists, "00AA", later, licence), Vouch::NotVouched);
    // The list carries each key, so it is all a pharmacy needs besides the document.
    let key = trust::key_for(lists, &new_key).expect("the list carries the key");
    assert_eq!(key, documents::doctor_public_key(&clinic, &admin, "rui").expect("current key"));

    // A changed character anywhere in the list, or a list signed by another key, is refused.
    let tampered = text.replacen("Dr Rui Costa", "Dr Rui Costo", 1);
    assert!(matches!(CheckedList::read(&tampered), Err(TrustError::BadSignature(_))), "tampered");
    assert!(matches!(CheckedList::read("not a list"), Err(TrustError::NotATrustList)));

    // Stock GnuPG checks it with the site key.
    let dir = fx.dir.path();
    let site_file = write(dir, "site.asc", &site::public_key(&clinic, &admin).expect("site key"));
    assert!(gpg(dir, &["--import", &site_file]).0);
    let (ok, said) = gpg(dir, &["--verify", &write(dir, "clinic-trust.asc", &text)]);
    assert!(ok && said.contains("Good signature"), "{said}");
}

/// The verify screen's imported lists: kept per clinic, the newest wins, a tampered or older one is refused, a file
/// spoiled on disk is ignored, and one can be forgotten; no clinic or sign-in is needed.
#[test]
fn imported_trust_lists_keep_the_newest_per_clinic_and_ignore_spoiled_files() {
    use galen_core::documents::trust_lists::{self, ImportError};
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    signed(&clinic, &doc, pid, DOC_PW);
    let older = keys::trust_list(&clinic, &admin).expect("list");
    clock.advance(time::Duration::minutes(1));
    let newer = keys::trust_list(&clinic, &admin).expect("list");

    let pharmacy = tempfile::tempdir().expect("tmp");
    let vault = galen_core::Vault::new(pharmacy.path().join("galen"));
    assert!(trust_lists::imported(&vault).is_empty());
    let checked = trust_lists::import(&vault, &newer).expect("import");
    assert!(matches!(trust_lists::import(&vault, &older), Err(ImportError::Older { .. })), "an older list is refused");
    let tampered = newer.replacen("Dr Rui Costa", "Dr Rui Costo", 1);
    assert!(matches!(trust_lists::import(&vault, &tampered), Err(ImportError::Unusable(TrustError::BadSignature(_)))));
    let held = trust_lists::imported(&vault);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].list.issued_at, checked.list.issued_at);

    // A file changed on disk no longer counts.
    let file = pharmacy.path().join("galen/trust-lists").join(format!("{}.asc", checked.site_fingerprint));
    std::fs::write(&file, tampered).expect("spoil");
    assert!(trust_lists::imported(&vault).is_empty(), "a spoiled file is ignored");
    trust_lists::import(&vault, &newer).expect("import again");
    assert!(!trust_lists::forget(&vault, "../../etc"), "only a fingerprint names a file");
    assert!(trust_lists::forget(&vault, &checked.site_fingerprint));
    assert!(trust_lists::imported(&vault).is_empty());
}
