use crate::support::*;

/// Deletes this clinic's keyring entry (and only it: tests run in parallel on one keyring) with the stock
/// Secret Service client.
fn wipe_keyring(data: &std::path::Path) {
    let key_file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("galen.keys")).expect("key file")).expect("json");
    let user = format!("database-key:{}", key_file["db_id"].as_str().expect("db_id"));
    let status = std::process::Command::new("secret-tool")
        .args(["clear", "service", "galen", "username", &user])
        .status()
        .expect("secret-tool runs");
    assert!(status.success(), "secret-tool cleared the entry");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().expect("tmp");
    for args in [
        vec!["--help"],
        vec!["init", "--help"],
        vec!["status", "--help"],
        vec!["check", "--help"],
        vec!["unlock", "--help"],
        vec!["key", "--help"],
        vec!["key", "rotate", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
    ] {
        let out = ok(galen(dir.path(), &args, ""));
        assert!(out.contains("Usage:"), "{args:?} prints usage: {out}");
    }
}

#[test]
fn init_prints_the_recovery_key_once_and_status_reports_the_keyring() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let key = init(&data);
    let status = ok(galen(&data, &["status"], ""));
    assert!(status.contains("holds this database's key"), "{status}");
    assert!(status.contains("Clínica Sol"), "{status}");
    assert!(!status.contains(&key), "the recovery key is never shown again");
    let again = fails(galen(&data, &["init", "--site", "X", "--admin", "ana"], ""));
    assert!(again.contains("already exists"), "{again}");
}

#[test]
fn mismatched_passwords_create_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let err = fails(galen(&data, &["init", "--site", "S", "--admin", "ana"], "first password 1\nsecond password 2\n"));
    assert!(err.contains("differ"), "{err}");
    assert!(!data.join("galen.db").exists(), "no database after a refused init");
}

#[test]
fn an_unreachable_keyring_is_named_and_the_admin_password_still_unlocks() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    let no_bus = [("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/galen-test-bus")];
    let err = fails(galen_env(&data, &["check"], "", &no_bus));
    assert!(err.contains("Secret Service") && err.contains("not available"), "names the backend: {err}");
    assert!(err.contains("galen unlock --admin"), "says what to do next: {err}");
    let out = galen_env(&data, &["unlock", "--admin", "--username", "ana"], &format!("{PASSWORD}\n"), &no_bus);
    let text = ok(out);
    assert!(text.contains("Unlocked"), "{text}");
}

#[test]
fn a_wiped_keyring_entry_is_restored_by_unlock_with_the_recovery_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let key = init(&data);
    wipe_keyring(&data);
    let err = fails(galen(&data, &["check"], ""));
    assert!(err.contains("not in the Secret Service"), "{err}");
    let status = ok(galen(&data, &["status"], ""));
    assert!(status.contains("has no key for this database"), "{status}");
    fails(galen(&data, &["unlock", "--recovery-key"], "AAAA-BBBB\n"));
    let text = ok(galen(&data, &["unlock", "--recovery-key"], &format!("{}\n", key.to_lowercase())));
    assert!(text.contains("stored in the Secret Service"), "{text}");
    ok(galen(&data, &["check"], ""));
}

#[test]
fn backup_restore_and_a_truncated_backup_through_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let key = init(&data);
    let bak = dir.path().join("clinic.galenbak");
    ok(galen(&data, &["backup", bak.to_str().expect("utf8")], ""));
    let bytes = std::fs::read(&bak).expect("read");
    let cut = dir.path().join("cut.galenbak");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).expect("write");
    let err = fails(galen(&data, &["restore", cut.to_str().expect("utf8")], ""));
    assert!(err.contains("truncated") && err.contains("not touched"), "{err}");
    ok(galen(&data, &["restore", bak.to_str().expect("utf8")], ""));

    // A new machine with only the backup and the recovery key.
    let fresh = dir.path().join("new-laptop");
    let err = fails(galen(&fresh, &["restore", bak.to_str().expect("utf8")], ""));
    assert!(err.contains("recovery key"), "{err}");
    ok(galen(&fresh, &["restore", "--recovery-key", bak.to_str().expect("utf8")], &format!("{key}\n")));
    let status = ok(galen(&fresh, &["status"], ""));
    assert!(status.contains("Clínica Sol"), "{status}");
}

#[test]
fn check_names_a_damaged_page() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    let db = data.join("galen.db");
    let mut bytes = std::fs::read(&db).expect("read");
    let last_page = bytes.len() / 4096 - 1;
    bytes[last_page * 4096 + 10] ^= 0x40;
    std::fs::write(&db, &bytes).expect("write");
    let err = fails(galen(&data, &["check"], ""));
    assert!(err.contains(&format!("page {}", last_page + 1)), "{err}");
}

#[test]
fn key_rotate_prints_a_new_recovery_key_that_works() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let old = init(&data);
    let out = ok(galen(&data, &["key", "rotate", "--username", "ana"], &format!("{PASSWORD}\n")));
    let new = out.lines().map(str::trim).find(|l| l.len() == 39 && l.matches('-').count() == 7).expect("new key");
    assert_ne!(new, old);
    wipe_keyring(&data);
    fails(galen(&data, &["unlock", "--recovery-key"], &format!("{old}\n")));
    ok(galen(&data, &["unlock", "--recovery-key"], &format!("{new}\n")));
}
