//! The audit trail's hash chain: untouched it verifies; each kind of raw-SQL tampering is named.

use crate::support::*;
use galen_core::audit::{self, Break};
use galen_core::{patients, Role};
use sha2::{Digest, Sha256};

/// A clinic whose log has a dozen rows, closed so the test can tamper with the file.
fn clinic_with_history() -> Fixture {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    for name in ["Ana", "Bo", "Cy", "Di"] {
        let id = register(&clinic, &doctor, &patient(name, "Test")).expect("register");
        patients::get(&clinic, &doctor, id).expect("view");
    }
    fx
}

fn verify(fx: &Fixture) -> Result<audit::Verified, Break> {
    let (clinic, admin) = reopen(fx, ADMIN);
    audit::verify(&clinic, &admin).expect("verify runs")
}

#[test]
fn an_untouched_log_verifies_and_records_every_kind_of_event() {
    let fx = clinic_with_history();
    let v = verify(&fx).expect("intact");
    assert!(v.rows >= 12, "{} rows", v.rows);
    let (clinic, admin) = reopen(&fx, ADMIN);
    let rows = audit::list(&clinic, &admin, &audit::Query { limit: 1000, ..Default::default() }).expect("list");
    let actions: std::collections::HashSet<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    for expected in ["clinic.create", "staff.create", "login.ok", "patient.create", "patient.view", "audit.verify"] {
        assert!(actions.contains(expected), "missing {expected} in {actions:?}");
    }
    assert!(rows.iter().all(|r| !r.entity_id.contains("Ana")), "rows hold ids, not names");
}

#[test]
fn an_edited_row_is_named() {
    let fx = clinic_with_history();
    raw_connection(&fx).execute("UPDATE audit_log SET outcome = 'denied' WHERE id = 5", []).expect("edit");
    assert_eq!(verify(&fx).expect_err("tampered"), Break::Edited { row: 5 });
}

#[test]
fn a_deleted_row_is_named() {
    let fx = clinic_with_history();
    raw_connection(&fx).execute("DELETE FROM audit_log WHERE id = 4", []).expect("delete");
    let brk = verify(&fx).expect_err("tampered");
    assert_eq!(brk, Break::Deleted { from: 4, to: 4 });
    assert_eq!(brk.to_string(), "row 4 was deleted");
}

#[test]
fn swapped_rows_are_named() {
    let fx = clinic_with_history();
    let conn = raw_connection(&fx);
    // Swap every column but the id between rows 3 and 5.
    conn.execute_batch(
        "UPDATE audit_log SET id = -3 WHERE id = 3;
         UPDATE audit_log SET id = 3 WHERE id = 5;
         UPDATE audit_log SET id = 5 WHERE id = -3;",
    )
    .expect("swap");
    assert_eq!(verify(&fx).expect_err("tampered"), Break::Reordered { row: 3, belongs_after: 4 });
}

#[test]
fn an_inserted_row_is_named_even_with_a_correctly_computed_hash() {
    let fx = clinic_with_history();
    let conn = raw_connection(&fx);
    // Make room after row 6, then forge row 7 the way Galen would, chained to row 6.
    conn.execute_batch(
        "UPDATE audit_log SET id = id + 1000 WHERE id > 6; UPDATE audit_log SET id = id - 999 WHERE id > 1000;",
    )
    .expect("renumber");
    let prev: String = conn.query_row("SELECT hash FROM audit_log WHERE id = 6", [], |r| r.get(0)).expect("prev");
    let fields = ("2026-01-01T00:00:00Z", Some(1_i64), "ana", "admin", "patient.view", "patient", "1", "ok", false);
    let mut bytes = serde_json::to_vec(&fields).expect("json");
    bytes.extend_from_slice(prev.as_bytes());
    let hash = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes));
    conn.execute(
        "INSERT INTO audit_log (id, at, user_id, username, role, action, entity_type, entity_id, outcome, break_glass,
                                prev_hash, hash)
         VALUES (7, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        rusqlite::params![
            fields.0, fields.1, fields.2, fields.3, fields.4, fields.5, fields.6, fields.7, fields.8, prev, hash
        ],
    )
    .expect("insert");
    assert_eq!(verify(&fx).expect_err("tampered"), Break::Inserted { row: 7 });
}

/// A failed sign-in names the account when it exists, even disabled (an old colleague trying their password is
/// worth knowing), and `(unknown)` for a name no account has; all three get the same answer.
#[test]
fn failed_sign_ins_name_the_account_even_when_disabled() {
    let (_fx, mut clinic, admin) = new_clinic();
    staff_session(&clinic, &admin, "rui", Role::Doctor);
    galen_core::staff::set_active(&mut clinic, &admin, "rui", false, None).expect("disable rui");
    for (username, password) in [("rui", PASSWORD), ("rui", "wrong"), ("nobody-here", "x")] {
        let err = clinic.login(username, password).expect_err("refused");
        assert!(matches!(err, galen_core::Error::WrongCredentials), "{username}: {err:?}");
    }
    let rows = audit::list(&clinic, &admin, &audit::Query { limit: 1000, ..Default::default() }).expect("list");
    let failed: Vec<&str> = rows.iter().filter(|r| r.action == "login.fail").map(|r| r.username.as_str()).collect();
    assert_eq!(failed, ["(unknown)", "rui", "rui"], "newest first");
}

/// The rows listed under `q`, as (action, entity type, username), newest first.
fn listed(clinic: &galen_core::Clinic, admin: &galen_core::Session, q: audit::Query) -> Vec<(String, String, String)> {
    let q = audit::Query { limit: 1000, ..q };
    audit::list(clinic, admin, &q).expect("list").into_iter().map(|e| (e.action, e.entity_type, e.username)).collect()
}

#[test]
fn the_log_filters_by_patient_user_action_and_day_and_prints_who_accessed_a_record() {
    use crate::documents::{doctor, rx, DOC_PW};
    use galen_core::documents;
    use galen_core::pdf::{self, Printout};
    let (_fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let desk = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    let ana = register(&clinic, &desk, &patient("Ana", "Lima")).expect("register");
    let bo = register(&clinic, &desk, &patient("Bo", "Reis")).expect("register");
    patients::get(&clinic, &doc, ana).expect("the doctor opens Ana");
    patients::get(&clinic, &doc, bo).expect("and Bo");
    let draft = documents::create_draft(&clinic, &doc, ana, rx(&clinic)).expect("draft");
    documents::sign(&clinic, &doc, draft.id, DOC_PW, true).expect("sign");
    let mrn = patients::get(&clinic, &admin, ana).expect("admin sees demographics").mrn;

    // Ana's record: her registration, views, the draft and its signature; nothing about Bo.
    let about_ana = listed(&clinic, &admin, audit::Query { mrn: Some(mrn.to_lowercase()), ..Default::default() });
    let actions: Vec<&str> = about_ana.iter().map(|r| r.0.as_str()).collect();
    for expected in ["patient.create", "patient.view", "document.create", "document.sign"] {
        assert!(actions.contains(&expected), "{expected} about Ana: {about_ana:?}");
    }
    assert!(about_ana.iter().all(|r| r.1 == "patient" || r.1 == "document"), "{about_ana:?}");
    let views = |rows: &[(String, String, String)]| rows.iter().filter(|r| r.0 == "patient.view").count();
    assert_eq!(
        views(&about_ana),
        3,
        "the desk's (registering), the doctor's and the admin's views of Ana, not Bo's: {about_ana:?}"
    );

    // A user, an action or a whole area, a day range: each narrows; together they all hold.
    let by_rita = listed(&clinic, &admin, audit::Query { username: Some(" RITA ".into()), ..Default::default() });
    assert!(!by_rita.is_empty() && by_rita.iter().all(|r| r.2 == "rita"), "{by_rita:?}");
    let documents_only =
        listed(&clinic, &admin, audit::Query { action: Some("document".into()), ..Default::default() });
    assert_eq!(documents_only.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["document.sign", "document.create"]);
    let today = clinic.now().date().to_string();
    let ana_views_today = audit::Query {
        mrn: Some(mrn.clone()),
        username: Some("rui".into()),
        action: Some("patient.view".into()),
        from: Some(today.clone()),
        until: Some(today.clone()),
        ..Default::default()
    };
    assert_eq!(listed(&clinic, &admin, ana_views_today).len(), 1);
    let tomorrow = (clinic.now().date() + time::Duration::days(1)).to_string();
    assert!(listed(&clinic, &admin, audit::Query { from: Some(tomorrow.clone()), ..Default::default() }).is_empty());

    // Bad filters are field errors, each named.
    let bad = audit::Query {
        mrn: Some("NOPE-1".into()),
        from: Some("1 May".into()),
        until: Some("2020-01-01".into()),
        limit: 10,
        ..Default::default()
    };
    let Err(galen_core::Error::Invalid(fields)) = audit::list(&clinic, &admin, &bad) else { panic!("field errors") };
    let named: Vec<&str> = fields.0.iter().map(|f| f.field.as_str()).collect();
    assert!(named.contains(&"mrn") && named.contains(&"from"), "{fields:?}");
    let backwards = audit::Query { from: Some(tomorrow), until: Some(today), limit: 10, ..Default::default() };
    assert!(matches!(audit::list(&clinic, &admin, &backwards), Err(galen_core::Error::Invalid(_))));

    // On paper, for the patient who asks: who opened and signed what, in words; only admins print it.
    let dir = tempfile::tempdir().expect("tmp");
    let report = pdf::render(&clinic, &admin, &Printout::AccessReport(mrn.clone())).expect("renders");
    let text = crate::printing::text_of(&crate::printing::keep(&clinic, &report, dir.path(), "access.pdf"));
    for expected in [
        "Who accessed this record",
        "Ana Lima",
        mrn.as_str(),
        "Registered a patient",
        "Opened a patient's record",
        "Signed a document",
        "rui (doctor)",
        "rita (receptionist)",
    ] {
        assert!(text.contains(expected), "{expected:?} in the report: {text}");
    }
    assert!(!text.contains("Bo Reis"), "{text}");
    assert!(matches!(pdf::render(&clinic, &doc, &Printout::AccessReport(mrn)), Err(galen_core::Error::Denied { .. })));
    let saved =
        listed(&clinic, &admin, audit::Query { action: Some("pdf.save.access_report".into()), ..Default::default() });
    assert_eq!(saved.len(), 1, "{saved:?}");
}
