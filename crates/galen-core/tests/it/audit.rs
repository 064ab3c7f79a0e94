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
