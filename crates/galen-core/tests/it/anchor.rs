//! The audit chain anchored outside the database (security review, finding 8): cutting the newest rows, or a
//! restore dropping rows newer than its backup, no longer passes unnoticed.

use crate::support::*;
use galen_core::audit;
use galen_core::backup::{self, RestoreBy};
use galen_core::{patients, Clinic, Role, Session};
use std::os::unix::fs::PermissionsExt;

/// The anchor file beside the database.
fn anchor_file(fx: &Fixture) -> std::path::PathBuf {
    fx.vault.dir().join("galen.audit-anchor")
}

/// The row the anchor file names.
fn anchored_row(fx: &Fixture) -> i64 {
    let text = std::fs::read_to_string(anchor_file(fx)).expect("the anchor file is written beside the database");
    let json: serde_json::Value = serde_json::from_str(&text).expect("the anchor file is JSON");
    json["row"].as_i64().expect("the anchor names a row")
}

/// The newest audit row, read with the key in hand.
fn newest_row(fx: &Fixture) -> i64 {
    raw_connection(fx).query_row("SELECT max(id) FROM audit_log", [], |r| r.get(0)).expect("max id")
}

/// Some history: a doctor registers and views patients.
fn some_history(clinic: &Clinic, doctor: &Session) {
    for name in ["Ana", "Bo", "Cy", "Di"] {
        let id = register(clinic, doctor, &patient(name, "Test")).expect("register");
        patients::get(clinic, doctor, id).expect("view");
    }
}

/// A clinic with some history whose staff signed out (a checkpoint that anchors the log), closed; and the
/// anchored row.
fn anchored_clinic() -> (Fixture, i64) {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    some_history(&clinic, &doctor);
    clinic.logout(doctor).expect("the doctor signs out");
    clinic.logout(admin).expect("the admin signs out");
    drop(clinic);
    let head = newest_row(&fx);
    (fx, head)
}

fn verify(fx: &Fixture) -> Result<audit::Verified, audit::Break> {
    let (clinic, admin) = reopen(fx, ADMIN);
    audit::verify(&clinic, &admin).expect("verify runs")
}

#[test]
fn deleting_the_newest_audit_rows_is_reported_as_a_log_shorter_than_its_anchor() {
    let (fx, head) = anchored_clinic();
    // Someone holding the database key cuts the last four rows: what is left still chains perfectly.
    let cut = raw_connection(&fx).execute("DELETE FROM audit_log WHERE id > ?1", [head - 4]).expect("delete");
    assert_eq!(cut, 4);
    let brk = verify(&fx).expect_err("a log cut at its end must not verify");
    // Signing in again wrote one row (login.ok) before the check.
    assert_eq!(
        brk.to_string(),
        format!("the log is shorter than its anchor: row {head} was anchored, but the log ends at row {}", head - 3)
    );
    assert_eq!(anchored_row(&fx), head, "signing out anchored the log, and the cut log did not lower the anchor");
    assert_eq!(
        std::fs::metadata(anchor_file(&fx)).expect("anchor file").permissions().mode() & 0o777,
        0o600,
        "the anchor file is owner-only, like the key file"
    );
    let again = verify(&fx).expect_err("and it stays reported");
    assert!(again.to_string().contains("shorter than its anchor"), "{again}");
}

#[test]
fn rows_cut_and_written_again_past_the_anchor_are_reported_as_a_rewritten_anchored_row() {
    let (fx, head) = anchored_clinic();
    raw_connection(&fx).execute("DELETE FROM audit_log WHERE id > ?1", [head - 2]).expect("delete");
    // New rows take the deleted rows' numbers, chained to what is left: the chain alone cannot tell.
    let (clinic, admin) = reopen(&fx, ADMIN);
    let doctor = clinic.login("doc", PASSWORD).expect("doctor");
    some_history(&clinic, &doctor);
    drop(clinic);
    assert!(newest_row(&fx) > head);
    let brk = verify(&fx).expect_err("a log cut and grown again must not verify");
    assert_eq!(
        brk.to_string(),
        format!("row {head} is not the row that was anchored: the log was cut back and written again")
    );
    drop(admin);
}

#[test]
fn each_checkpoint_moves_the_anchor_to_the_newest_row() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    some_history(&clinic, &doctor);
    clinic.lock(&doctor).expect("lock");
    assert_eq!(anchored_row(&fx), newest_row(&fx), "locking anchors the log");
    clinic.unlock(&doctor, PASSWORD).expect("unlock");
    some_history(&clinic, &doctor);
    clock.advance(time::Duration::hours(2));
    assert!(clinic.check_idle(&doctor).expect("idle check"), "idle too long: locked");
    assert_eq!(anchored_row(&fx), newest_row(&fx), "the idle lock anchors the log");
    let admin = clinic.login(ADMIN, PASSWORD).expect("admin");
    audit::verify(&clinic, &admin).expect("verify runs").expect("intact");
    assert_eq!(anchored_row(&fx), newest_row(&fx), "a verification anchors the log");
    let file = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    assert_eq!(anchored_row(&fx), newest_row(&fx), "a backup anchors the log");
    clinic.logout(admin).expect("logout");
    assert_eq!(anchored_row(&fx), newest_row(&fx), "signing out anchors the log");
}

#[test]
fn restoring_an_older_backup_records_in_the_restored_log_that_it_replaced_the_rows_up_to_the_live_head() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let file = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    let backed_up = newest_row(&fx);
    some_history(&clinic, &doctor);
    audit::verify(&clinic, &admin).expect("verify runs").expect("intact");
    let live_head = newest_row(&fx);
    let live_hash: String = raw_connection(&fx)
        .query_row("SELECT hash FROM audit_log WHERE id = ?1", [live_head], |r| r.get(0))
        .expect("hash");

    backup::restore(&fx.vault, &file, RestoreBy::Admin { clinic, session: &admin }, None).expect("restore");
    let (clinic, admin) = reopen(&fx, ADMIN);
    let rows = audit::list(&clinic, &admin, &audit::Query { limit: 1000, ..Default::default() }).expect("list");
    let restore = rows.iter().find(|e| e.action == "backup.restore").expect("the restore is in the restored log");
    assert_eq!(
        restore.entity_id,
        format!("{live_head}:{live_hash}"),
        "the restore row names the rows it replaced: up to the live head, and that row's hash"
    );
    assert!(restore.id > live_head, "the restored log goes on numbering after the rows it replaced");
    assert!(backed_up < live_head);
    audit::verify(&clinic, &admin).expect("verify runs").expect("the restored log is intact: the restore explains it");
    drop(clinic);
    let again = verify(&fx).expect("and stays intact");
    assert!(again.rows > 0);
}

/// The anchor file sits outside the encrypted database, so it is read as untrusted: once the clinic has a site
/// key (a backup makes one), an anchor it did not sign (altered, or unsigned) is ignored, not believed, and the
/// next checkpoint replaces it; something other than a plain file in its place is not read (a FIFO would block).
#[test]
fn an_anchor_file_the_site_key_did_not_sign_is_ignored_and_replaced() {
    let (fx, clinic, admin) = new_clinic();
    backup::backup(&clinic, &admin, &fx.dir.path().join("clinic.galenbak")).expect("backup");
    let text = std::fs::read_to_string(anchor_file(&fx)).expect("anchor file");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let signature = json["signature"].as_str().unwrap_or_default();
    assert!(signature.contains("BEGIN PGP SIGNATURE"), "a backup's anchor is signed by the site key: {json}");

    json["row"] = 100_000.into();
    std::fs::write(anchor_file(&fx), json.to_string()).expect("alter the anchor");
    audit::verify(&clinic, &admin).expect("verify runs").expect("an altered anchor is not believed");
    assert_eq!(anchored_row(&fx), newest_row(&fx), "and the log's own anchor takes its place");

    json["signature"] = serde_json::Value::Null;
    std::fs::write(anchor_file(&fx), json.to_string()).expect("an unsigned anchor");
    audit::verify(&clinic, &admin).expect("verify runs").expect("an unsigned anchor is not believed");
    assert_eq!(anchored_row(&fx), newest_row(&fx));

    std::fs::remove_file(anchor_file(&fx)).expect("remove");
    let status = std::process::Command::new("mkfifo").arg(anchor_file(&fx)).status().expect("mkfifo runs");
    assert!(status.success());
    audit::verify(&clinic, &admin).expect("verify runs").expect("a FIFO is not read");
    assert!(std::fs::metadata(anchor_file(&fx)).expect("anchor").is_file(), "the anchor is written in its place");
    assert_eq!(anchored_row(&fx), newest_row(&fx));
}

/// A backup carries the anchor of the log it holds. Someone holding the database key who cuts the newest audit
/// rows inside a backup, and seals it again, is caught by it: the restore is refused before anything is replaced.
#[test]
fn a_backup_whose_log_was_cut_inside_it_is_refused_before_anything_is_replaced() {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    some_history(&clinic, &doctor);
    let file = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    let dek = fx.vault.key_file().expect("key file").unwrap_with_recovery(&fx.recovery).expect("dek");

    // The backup's layout: magic, header length, header, database length, database, MAC (backup.rs).
    let bytes = std::fs::read(&file).expect("read the backup");
    let header_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let header = bytes[12..12 + header_len].to_vec();
    assert!(String::from_utf8_lossy(&header).contains("galen-audit-anchor-v1"), "the header carries the anchor");
    let db_start = 12 + header_len + 8;
    let db_len = u64::from_le_bytes(bytes[12 + header_len..db_start].try_into().expect("8 bytes")) as usize;
    let inside = fx.dir.path().join("inside.db");
    std::fs::write(&inside, &bytes[db_start..db_start + db_len]).expect("the backup's database");
    {
        let conn = rusqlite::Connection::open(&inside).expect("open");
        let key = format!("x'{}'", data_encoding::HEXLOWER.encode(dek.expose()));
        conn.pragma_update(None, "key", key).expect("key");
        let cut = conn
            .execute("DELETE FROM audit_log WHERE id > (SELECT max(id) - 3 FROM audit_log)", [])
            .expect("cut the newest rows inside the backup");
        assert_eq!(cut, 3);
        conn.pragma_update(None, "journal_mode", "DELETE").expect("no WAL left beside it");
    }
    let db = std::fs::read(&inside).expect("read");
    let mut sealed = b"GALENBK1".to_vec();
    sealed.extend((header_len as u32).to_le_bytes());
    sealed.extend(&header);
    sealed.extend((db.len() as u64).to_le_bytes());
    sealed.extend(&db);
    let mac_key = Hmac::<Sha256>::new_from_slice(dek.expose())
        .expect("hmac")
        .chain_update(b"galen backup mac v1")
        .finalize()
        .into_bytes();
    let mac = Hmac::<Sha256>::new_from_slice(&mac_key).expect("hmac").chain_update(&sealed).finalize().into_bytes();
    sealed.extend(mac);
    std::fs::write(&file, sealed).expect("seal it again");

    let live_head = newest_row(&fx);
    let err = backup::restore(&fx.vault, &file, RestoreBy::Admin { clinic, session: &admin }, None)
        .expect_err("a backup whose log does not reach its own anchor is refused");
    assert!(err.to_string().contains("its audit log does not reach its own anchor"), "{err}");
    assert_eq!(newest_row(&fx), live_head, "nothing was replaced");
    verify(&fx).expect("the live log is as it was");
}

/// A clinic without a site key anchors its log unsigned. When a backup (or a verification) then makes the site
/// key, the unsigned anchor made before it still counts: a log cut before the key existed is still reported,
/// not erased by the first signed anchor.
#[test]
fn a_cut_anchored_before_the_site_key_existed_is_still_reported_once_it_exists() {
    let (fx, head) = anchored_clinic();
    let text = std::fs::read_to_string(anchor_file(&fx)).expect("anchor file");
    assert!(text.contains("\"signature\": null"), "no site key yet: the anchor is unsigned: {text}");
    raw_connection(&fx).execute("DELETE FROM audit_log WHERE id > ?1", [head - 4]).expect("cut");
    let (clinic, admin) = reopen(&fx, ADMIN);
    backup::backup(&clinic, &admin, &fx.dir.path().join("clinic.galenbak")).expect("the backup makes the site key");
    let brk = audit::verify(&clinic, &admin).expect("verify runs").expect_err("the cut is still reported");
    assert!(brk.to_string().starts_with(&format!("the log is shorter than its anchor: row {head} was anchored")));
    assert_eq!(anchored_row(&fx), head, "the unsigned anchor stays until the cut is explained");
}

/// The database is lost and restored with the recovery key alone. If the anchor file survived, the restore
/// records the head it names as replaced; on a computer with no anchor file, it records that what it replaced is
/// unknown, and an anchor of the lost log that turns up later (as the partner hands it back) is explained by that
/// restore, not reported.
#[test]
fn a_restore_with_the_recovery_key_records_the_head_the_anchor_file_names_or_that_it_is_unknown() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "doc", Role::Doctor);
    let file = fx.dir.path().join("clinic.galenbak");
    backup::backup(&clinic, &admin, &file).expect("backup");
    some_history(&clinic, &doctor);
    audit::verify(&clinic, &admin).expect("verify runs").expect("intact");
    let live_head = newest_row(&fx);
    let old_anchor = std::fs::read_to_string(anchor_file(&fx)).expect("anchor file");
    drop(clinic);
    let lose_the_database = || {
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{}{suffix}", fx.vault.db_path().display());
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("remove {path}: {e}"),
                _ => {}
            }
        }
    };
    let restore_row = || {
        let (clinic, admin) = reopen(&fx, ADMIN);
        let rows = audit::list(&clinic, &admin, &audit::Query { limit: 1000, ..Default::default() }).expect("list");
        let restore = rows.into_iter().find(|e| e.action == "backup.restore").expect("the restore is recorded");
        audit::verify(&clinic, &admin).expect("verify runs").expect("the restored log is intact");
        restore
    };

    lose_the_database();
    backup::restore(&fx.vault, &file, RestoreBy::RecoveryKeyOnly, Some(&fx.recovery)).expect("restore");
    let restore = restore_row();
    assert!(restore.entity_id.starts_with(&format!("{live_head}:")), "the anchor file's head: {restore:?}");
    assert_eq!(restore.id, live_head + 1);

    lose_the_database();
    std::fs::remove_file(anchor_file(&fx)).expect("no anchor file on the new computer");
    backup::restore(&fx.vault, &file, RestoreBy::RecoveryKeyOnly, Some(&fx.recovery)).expect("restore");
    let restore = restore_row();
    assert_eq!(restore.entity_id, "", "what it replaced is unknown");
    assert!(restore.id < live_head, "numbered after the restored log");
    std::fs::write(anchor_file(&fx), &old_anchor).expect("the lost log's anchor turns up");
    verify(&fx).expect("an anchor of the log a restore replaced is explained by it");
}
