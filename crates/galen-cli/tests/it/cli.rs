use crate::support::*;
use std::process::Command;

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
        vec!["login", "--help"],
        vec!["passwd", "--help"],
        vec!["user", "--help"],
        vec!["user", "add", "--help"],
        vec!["user", "list", "--help"],
        vec!["user", "disable", "--help"],
        vec!["user", "reset-password", "--help"],
        vec!["audit", "show", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["patient", "add", "--help"],
        vec!["patient", "search", "--help"],
        vec!["patient", "show", "--help"],
        vec!["patient", "edit", "--help"],
        vec!["patient", "merge", "--help"],
        vec!["dev", "seed", "--help"],
        vec!["bench", "search", "--help"],
        vec!["rx", "new", "--help"],
        vec!["rx", "line", "add", "--help"],
        vec!["rx", "sign", "--help"],
        vec!["rx", "show", "--help"],
        vec!["rx", "void", "--help"],
        vec!["cert", "birth", "--help"],
        vec!["cert", "death", "--help"],
        vec!["cert", "sick-leave", "--help"],
        vec!["cert", "sign", "--help"],
        vec!["document", "export", "--help"],
        vec!["verify", "--help"],
        vec!["print", "--help"],
        vec!["key", "new-recovery", "--help"],
        vec!["site", "init", "--help"],
        vec!["site", "show", "--help"],
        vec!["site", "pairing-file", "--help"],
        vec!["document", "qr", "--help"],
        vec!["key", "export-public", "--help"],
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
    let again = fails(galen(&data, &["init", "--site", "X", "--admin", "ana", "--name", "A"], ""));
    assert!(again.contains("already exists"), "{again}");
}

#[test]
fn mismatched_passwords_create_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let err = fails(galen(
        &data,
        &["init", "--site", "S", "--admin", "ana", "--name", "Ana"],
        "first password 1\nsecond password 2\n",
    ));
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
    let err = fails(galen(&data, &["backup", bak.to_str().expect("utf8")], "ana\nwrong password!!\n"));
    assert!(err.contains("Wrong username or password"), "{err}");
    ok(as_admin(&data, &["backup", bak.to_str().expect("utf8")], ""));
    let bytes = std::fs::read(&bak).expect("read");
    let cut = dir.path().join("cut.galenbak");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).expect("write");
    let err = fails(as_admin(&data, &["restore", cut.to_str().expect("utf8")], ""));
    assert!(err.contains("truncated") && err.contains("not touched"), "{err}");
    ok(as_admin(&data, &["restore", bak.to_str().expect("utf8")], ""));

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

/// A lost sheet: the admin issues a new recovery key, its sheet prints, and the old key neither prints nor opens.
#[test]
fn a_new_recovery_key_replaces_the_old_and_its_sheet_prints() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let old = init(&data);
    let sheet = dir.path().join("sheet.pdf");
    let sheet_arg = sheet.display().to_string();
    ok(galen(&data, &["print", "--recovery-sheet", "--out", &sheet_arg], &format!("{old}\n")));
    let text = Command::new("pdftotext").arg(&sheet).arg("-").output().expect("pdftotext");
    assert!(String::from_utf8_lossy(&text.stdout).contains(&old), "the sheet shows the key");
    let out = ok(as_admin(&data, &["key", "new-recovery"], ""));
    let new = out.lines().map(str::trim).find(|l| l.len() == 39 && l.matches('-').count() == 7).expect("new key");
    assert_ne!(new, old);
    let refused = fails(galen(&data, &["print", "--recovery-sheet", "--out", &sheet_arg], &format!("{old}\n")));
    assert!(refused.contains("not the clinic's current recovery key"), "{refused}");
    ok(galen(&data, &["print", "--recovery-sheet", "--out", &sheet_arg], &format!("{new}\n")));
    wipe_keyring(&data);
    fails(galen(&data, &["unlock", "--recovery-key"], &format!("{old}\n")));
    ok(galen(&data, &["unlock", "--recovery-key"], &format!("{new}\n")));
}

#[test]
fn key_rotate_prints_a_new_recovery_key_that_works() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let old = init(&data);
    let out = ok(as_admin(&data, &["key", "rotate"], ""));
    let new = out.lines().map(str::trim).find(|l| l.len() == 39 && l.matches('-').count() == 7).expect("new key");
    assert_ne!(new, old);
    wipe_keyring(&data);
    fails(galen(&data, &["unlock", "--recovery-key"], &format!("{old}\n")));
    ok(galen(&data, &["unlock", "--recovery-key"], &format!("{new}\n")));
}

/// Disabling an admin re-keys the database: the command prints a new recovery key and the old one stops opening it.
#[test]
fn disabling_an_admin_prints_a_new_recovery_key_and_retires_the_old() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let old = init(&data);
    ok(add_user(&data, &["--username", "bea", "--name", "Bea Admin", "--role", "admin"], "second admin password"));
    let out = ok(as_admin(&data, &["user", "disable", "bea"], ""));
    assert!(out.contains("Disabled bea.") && out.contains("no longer opens the database"), "{out}");
    let new = out.lines().map(str::trim).find(|l| l.len() == 39 && l.matches('-').count() == 7).expect("new key");
    assert_ne!(new, old);
    wipe_keyring(&data);
    fails(galen(&data, &["unlock", "--recovery-key"], &format!("{old}\n")));
    ok(galen(&data, &["unlock", "--recovery-key"], &format!("{new}\n")));
}

#[test]
fn admin_manages_staff_and_the_audit_log_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    let add = |args: &[&str], pw: &str| add_user(&data, args, pw);
    let doctor = ["--username", "rui", "--name", "Dr Rui Costa", "--role", "doctor", "--licence", "CRM-123"];
    ok(add(&doctor, "a good long doctor password"));
    let err = fails(add(&["--username", "rec", "--name", "Rita", "--role", "receptionist"], "short"));
    assert!(err.contains("at least 12 characters"), "{err}");
    let err = fails(add(&["--username", "doc2", "--name", "No Licence", "--role", "doctor"], PASSWORD));
    assert!(err.contains("licence number is required"), "{err}");
    ok(add(&["--username", "rec", "--name", "Rita Reis", "--role", "receptionist"], "front desk password 1"));

    let list = ok(as_admin(&data, &["user", "list"], ""));
    assert!(list.contains("rui") && list.contains("doctor") && list.contains("CRM-123"), "{list}");

    // A doctor cannot manage accounts: galen-core refuses, the CLI only reports it.
    let err = fails(galen(&data, &["--user", "rui", "user", "list"], "a good long doctor password\n"));
    assert!(err.contains("does not allow this: manage staff accounts"), "{err}");

    let reset = ok(as_admin(&data, &["user", "reset-password", "rec"], ""));
    let temporary = reset.lines().nth(1).expect("the temporary password line").trim().to_owned();
    let login = ok(galen(
        &data,
        &["--user", "rec", "login"],
        &format!("{temporary}\nmy own new password\nmy own new password\n"),
    ));
    assert!(login.contains("choose a new one") && login.contains("role receptionist"), "{login}");
    ok(galen(&data, &["--user", "rec", "login"], "my own new password\n"));

    ok(as_admin(&data, &["user", "disable", "rec"], ""));
    let err = fails(galen(&data, &["--user", "rec", "login"], "my own new password\n"));
    assert!(err.contains("Wrong username or password"), "{err}");

    let shown = ok(as_admin(&data, &["audit", "show", "--limit", "100"], ""));
    for event in ["staff.create", "staff.password_reset", "staff.disable", "login.fail", "access.denied"] {
        assert!(shown.contains(event), "{event} missing from:\n{shown}");
    }
    let verified = ok(as_admin(&data, &["audit", "verify"], ""));
    assert!(verified.contains("chain intact"), "{verified}");
}

#[test]
fn five_wrong_passwords_give_the_throttling_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    for _ in 0..4 {
        let err = fails(galen(&data, &["--user", "ana", "login"], "not my password at all\n"));
        assert!(err.contains("Wrong username or password."), "{err}");
    }
    let err = fails(galen(&data, &["--user", "ana", "login"], "not my password at all\n"));
    assert!(err.contains("Too many failed sign-in attempts") && err.contains("30 seconds"), "{err}");
    let err = fails(galen(&data, &["--user", "ana", "login"], &format!("{PASSWORD}\n")));
    assert!(err.contains("Too many failed sign-in attempts"), "persisted across processes: {err}");
}

#[test]
fn audit_verify_names_a_tampered_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let key = init(&data);
    ok(as_admin(&data, &["login"], ""));
    // Tamper with the key in hand: the recovery key unwraps the database key, exactly as Galen does.
    let kf = galen_core::Vault::new(&data).key_file().expect("key file");
    let dek = kf.unwrap_with_recovery(&galen_core::RecoveryKey::parse(&key).expect("key")).expect("dek");
    let conn = rusqlite::Connection::open(data.join("galen.db")).expect("open");
    conn.pragma_update(None, "key", format!("x'{}'", data_encoding::HEXLOWER.encode(dek.expose()))).expect("key");
    conn.execute("UPDATE audit_log SET username = 'someone-else' WHERE id = 2", []).expect("tamper");
    drop(conn);
    let err = fails(as_admin(&data, &["audit", "verify"], ""));
    assert!(err.contains("row 2 was edited"), "{err}");
}

#[test]
fn patients_from_the_cli_register_search_show_merge_and_refuse_a_mistyped_mrn() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    let add = |args: &[&str], pw: &str| add_user(&data, args, pw);
    ok(add(&["--username", "rita", "--name", "Rita Reis", "--role", "receptionist"], "front desk password 1"));
    ok(add(&["--username", "rui", "--name", "Dr Rui", "--role", "doctor", "--licence", "CRM-1"], "doctor password 12"));
    let desk = |args: &[&str]| {
        let mut full = vec!["--user", "rita", "patient"];
        full.extend_from_slice(args);
        galen(&data, &full, "front desk password 1\n")
    };
    let out = ok(desk(&[
        "add",
        "--given",
        "Jürgen",
        "--family",
        "Müller",
        "--dob",
        "1975-06-01",
        "--phone",
        "+49 151 2345 6789",
    ]));
    let mrn = out.split_whitespace().last().expect("mrn").trim_end_matches('.').to_owned();
    let err = fails(desk(&["add", "--given", "Jurgen", "--family", "Muller", "--dob", "1975-06-01"]));
    assert!(err.contains("Possible duplicates") && err.contains(&mrn) && err.contains("--force"), "{err}");
    let dup = ok(desk(&["add", "--given", "Jurgen", "--family", "Muller", "--dob", "1975-06-01", "--force"]));
    let dup_mrn = dup.split_whitespace().last().expect("mrn").trim_end_matches('.').to_owned();
    let err = fails(desk(&["add", "--given", "X", "--family", "Y", "--dob", "2099-01-01"]));
    assert!(err.contains("in the future"), "{err}");

    let found = ok(desk(&["search", "muller"]));
    assert!(found.contains(&mrn) && found.contains("MÜLLER"), "{found}");
    let found = ok(desk(&["search", "4915123456789"]));
    assert!(found.contains(&mrn), "phone without spaces: {found}");
    let mut typo = mrn.clone().into_bytes();
    let i = typo.len() - 3;
    typo[i] = if typo[i] == b'9' { b'8' } else { b'9' };
    let err = fails(desk(&["search", std::str::from_utf8(&typo).expect("ascii")]));
    assert!(err.contains("check character"), "{err}");

    let shown = ok(desk(&["show", &mrn, "--barcode", dir.path().join("mrn.svg").to_str().expect("utf8")]));
    assert!(shown.contains("not shown for your role"), "{shown}");
    assert!(std::fs::read_to_string(dir.path().join("mrn.svg")).expect("svg").starts_with("<svg"));
    let err = fails(desk(&["merge", &mrn, &dup_mrn]));
    assert!(err.contains("merge patients"), "reception may not merge: {err}");
    ok(galen(&data, &["--user", "rui", "patient", "merge", &mrn, &dup_mrn], "doctor password 12\n"));
    let shown = ok(desk(&["show", &dup_mrn]));
    assert!(
        shown.contains(&format!("MRN:         {mrn}")),
        "the merged-away MRN resolves to the kept patient: {shown}"
    );
}

#[test]
fn dev_seed_and_a_small_search_benchmark_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    ok(as_admin(
        &data,
        &["user", "add", "--username", "rita", "--name", "Rita", "--role", "receptionist"],
        "front desk password 1\nfront desk password 1\n",
    ));
    let out = ok(galen(&data, &["--user", "rita", "dev", "seed", "--patients", "500"], "front desk password 1\n"));
    assert!(out.contains("Added 500 synthetic patients"), "{out}");
    let bench_dir = dir.path().join("bench");
    std::fs::create_dir(&bench_dir).expect("mkdir");
    let out = ok(galen(
        &data,
        &["bench", "search", "--patients", "1000", "--samples", "20", "--dir", bench_dir.to_str().expect("utf8")],
        "",
    ));
    for row in ["| name prefix |", "| MRN |", "| phone |", "| registration commit |"] {
        assert!(out.contains(row), "{row} missing:\n{out}");
    }
    let out = ok(galen(&data, &["bench", "sign", "--samples", "5"], ""));
    assert!(out.contains("canonical JSON + signature (KDF excluded)"), "{out}");
}

#[test]
fn a_doctor_writes_signs_and_exports_a_prescription_that_galen_verify_accepts() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    let doc_pw = "doctor password 12";
    ok(as_admin(
        &data,
        &["user", "add", "--username", "rui", "--name", "Dr Rui Costa", "--role", "doctor", "--licence", "CRM-1"],
        &format!("{doc_pw}\n{doc_pw}\n"),
    ));
    let doctor = |args: &[&str], extra: &str| {
        let mut full = vec!["--user", "rui"];
        full.extend_from_slice(args);
        galen(&data, &full, &format!("{doc_pw}\n{extra}"))
    };
    let out = ok(doctor(&["patient", "add", "--given", "Ana", "--family", "Lima", "--dob", "1990-01-01"], ""));
    let mrn = out.split_whitespace().last().expect("mrn").trim_end_matches('.').to_owned();
    ok(doctor(&["rx", "new", "--patient", &mrn], ""));
    let err = fails(doctor(&["rx", "sign", "1"], &format!("{doc_pw}\n")));
    assert!(err.contains("at least one medicine"), "{err}");
    ok(doctor(&rx_line("Amoxicillin 500 mg capsule"), ""));
    let err = fails(doctor(&["rx", "sign", "1"], "not my password at all\n"));
    assert!(err.contains("not your password"), "{err}");
    let signed = ok(doctor(&["rx", "sign", "1"], &format!("{doc_pw}\n")));
    assert!(signed.contains("Signed document 1"), "{signed}");
    let shown = ok(doctor(&["rx", "show", "1"], ""));
    assert!(
        shown.contains("Amoxicillin 500 mg capsule — 500 mg by mouth every 8 hours for 7 days — Qty 21 — Refills 0"),
        "{shown}"
    );
    assert!(shown.contains("Signature: VALID"), "{shown}");

    let out_dir = dir.path().join("export");
    ok(doctor(&["document", "export", "1", out_dir.to_str().expect("utf8")], ""));
    let find = |suffix: &str| {
        std::fs::read_dir(&out_dir)
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .expect(suffix)
    };
    let (json, asc) = (find(".json"), find(".json.asc"));
    let key = std::fs::read_dir(&out_dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("doctor-")))
        .expect("key");
    let args = |j: &std::path::Path| {
        vec![
            "verify".to_owned(),
            j.display().to_string(),
            asc.display().to_string(),
            "--key".to_owned(),
            key.display().to_string(),
        ]
    };
    let a = args(&json);
    let good = ok(galen(&data, &a.iter().map(String::as_str).collect::<Vec<_>>(), ""));
    assert!(good.contains("Good signature") && good.contains("Dr Rui Costa") && good.contains(&mrn), "{good}");
    let tampered = dir.path().join("tampered.json");
    std::fs::write(
        &tampered,
        std::fs::read_to_string(&json).expect("json").replace("\"quantity\":21", "\"quantity\":99"),
    )
    .expect("write");
    let a = args(&tampered);
    let bad = fails(galen(&data, &a.iter().map(String::as_str).collect::<Vec<_>>(), ""));
    assert!(bad.contains("verification FAILED"), "{bad}");

    let public = ok(as_admin(&data, &["key", "export-public", "rui"], ""));
    assert!(public.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{public}");

    // The printed QR's text verifies offline with only the public key; one changed character does not.
    let qr = ok(doctor(&["document", "qr", "1"], "")).trim().to_owned();
    assert!(qr.starts_with("GALEN2:"), "{qr}");
    let key_arg = key.display().to_string();
    let good = ok(galen(&data, &["verify", "--qr", &qr, "--key", &key_arg], ""));
    assert!(good.contains("Good signature") && good.contains("Ana Lima"), "{good}");
    // Every field, one a line, in the paper's order: the patient, the lines, the doctor, the document id.
    let at = |needle: &str| good.find(needle).unwrap_or_else(|| panic!("{needle:?} in {good}"));
    assert!(at("Patient") < at("MRN") && at("MRN") < at("Line 1") && at("Line 1") < at("Signed by"), "{good}");
    assert!(at("Signed by") < at("Document id") && !good.contains("Line 2"), "{good}");
    assert!(good.contains("Qty 21 — Refills 0") && good.contains("Dr Rui Costa") && good.contains(&mrn), "{good}");
    let mut bad_qr = qr.clone().into_bytes();
    let i = bad_qr.len() / 2;
    bad_qr[i] = if bad_qr[i] == b'X' { b'Y' } else { b'X' };
    let bad =
        fails(galen(&data, &["verify", "--qr", std::str::from_utf8(&bad_qr).expect("ascii"), "--key", &key_arg], ""));
    assert!(bad.contains("verification FAILED"), "{bad}");

    // The printed PDF: `galen verify FILE.pdf` accepts it, and the QR that zbarimg reads off the page rendered at
    // 150 dpi verifies with `galen verify --qr`; one changed character does not.
    let pdf = dir.path().join("rx.pdf");
    let pdf_arg = pdf.display().to_string();
    ok(doctor(&["print", "1", "--out", &pdf_arg], ""));
    let good = ok(galen(&data, &["verify", &pdf_arg], ""));
    assert!(good.contains("Good signature") && good.contains("key inside the PDF"), "{good}");
    let good = ok(galen(&data, &["verify", &pdf_arg, "--key", &key_arg], ""));
    assert!(good.contains("Dr Rui Costa") && !good.contains("inside the PDF"), "{good}");
    assert!(good.contains("Its printed page is exactly what was signed."), "{good}");
    let page = dir.path().join("page");
    let rendered =
        Command::new("pdftoppm").args(["-r", "150", "-png", &pdf_arg]).arg(&page).status().expect("pdftoppm");
    assert!(rendered.success());
    let scanned = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(dir.path().join("page-1.png")).output();
    let scanned = String::from_utf8_lossy(&scanned.expect("zbarimg runs").stdout).trim().to_owned();
    assert_eq!(scanned, qr, "the QR on paper is the document's QR");
    let good = ok(galen(&data, &["verify", "--qr", &scanned, "--key", &key_arg], ""));
    assert!(good.contains("Good signature"), "{good}");
    let mut bad_scan = scanned.into_bytes();
    let i = bad_scan.len() / 4;
    bad_scan[i] = if bad_scan[i] == b'Q' { b'R' } else { b'Q' };
    let bad_scan = String::from_utf8(bad_scan).expect("ascii");
    assert!(fails(galen(&data, &["verify", "--qr", &bad_scan, "--key", &key_arg], "")).contains("verification FAILED"));
    let garbage = dir.path().join("garbage.pdf");
    std::fs::write(&garbage, "%PDF-1.7 nothing here").expect("write");
    let bad = fails(galen(&data, &["verify", garbage.to_str().expect("utf8")], ""));
    assert!(bad.contains("verification FAILED: this is not a readable PDF"), "{bad}");

    // `galen print` on a machine with neither CUPS nor a PDF viewer says where the PDF is; it is audited.
    let empty_path = dir.path().join("no-tools");
    std::fs::create_dir_all(&empty_path).expect("dir");
    let printed = ok(galen_env(
        &data,
        &["--user", "rui", "print", "1"],
        &format!("{doc_pw}\n"),
        &[("PATH", empty_path.to_str().expect("utf8"))],
    ));
    assert!(printed.contains("No printer or PDF viewer was found") && printed.contains("printouts"), "{printed}");
    let log = ok(as_admin(&data, &["audit", "show"], ""));
    assert!(log.contains("pdf.save.document") && log.contains("pdf.print.document"), "{log}");
}

/// The admin makes the site identity once and writes the pairing file; the file carries public parts only and
/// the same safety number `site show` prints.
#[test]
fn site_init_and_the_pairing_file_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    assert!(ok(as_admin(&data, &["site", "show"], "")).contains("No site identity yet"));
    let made = ok(as_admin(&data, &["site", "init"], ""));
    let number = made.lines().find_map(|l| l.strip_prefix("Safety number: ")).expect("safety number").trim().to_owned();
    let again = fails(as_admin(&data, &["site", "init"], ""));
    assert!(again.contains("already has a site identity"), "{again}");
    let out = dir.path().join("pairing.json");
    let wrote = ok(as_admin(&data, &["site", "pairing-file", "--out", out.to_str().expect("utf8")], ""));
    assert!(wrote.contains(&number), "{wrote}");
    let file = std::fs::read_to_string(&out).expect("pairing file");
    assert!(file.contains("galen-pairing-1") && file.contains("BEGIN CERTIFICATE") && file.contains(&number));
    assert!(!file.contains("PRIVATE KEY"), "public parts only");
}

/// Finding 8: the newest audit rows deleted with the key in hand still chain perfectly, but the anchor that the
/// last verification left beside the database says the log reached further; `galen audit verify` fails and
/// says so.
#[test]
fn audit_verify_says_the_log_is_shorter_than_its_anchor() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let key = init(&data);
    ok(add_user(
        &data,
        &["--username", "rita", "--name", "Rita Reis", "--role", "receptionist"],
        "front desk password 1",
    ));
    let verified = ok(as_admin(&data, &["audit", "verify"], ""));
    assert!(verified.contains("chain intact"), "{verified}");
    let kf = galen_core::Vault::new(&data).key_file().expect("key file");
    let dek = kf.unwrap_with_recovery(&galen_core::RecoveryKey::parse(&key).expect("key")).expect("dek");
    let conn = rusqlite::Connection::open(data.join("galen.db")).expect("open");
    conn.pragma_update(None, "key", format!("x'{}'", data_encoding::HEXLOWER.encode(dek.expose()))).expect("key");
    let head: i64 = conn.query_row("SELECT max(id) FROM audit_log", [], |r| r.get(0)).expect("head");
    conn.execute("DELETE FROM audit_log WHERE id > ?1", [head - 4]).expect("cut the newest rows");
    drop(conn);
    let err = fails(as_admin(&data, &["audit", "verify"], ""));
    assert!(err.contains(&format!("the log is shorter than its anchor: row {head} was anchored")), "{err}");
}

/// A pharmacy checks documents with only the clinic's trust list: it supplies the doctor's key and vouches for
/// it; a key the list does not name, another clinic's list, or a tampered list are refused; after a revocation
/// the admin's list still vouches for what the key signed before.
#[test]
fn a_pharmacy_verifies_with_the_clinics_trust_list_and_the_admin_revokes_a_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    let doc_pw = "doctor password 12";
    ok(as_admin(
        &data,
        &["user", "add", "--username", "rui", "--name", "Dr Rui Costa", "--role", "doctor", "--licence", "CRM-1"],
        &format!("{doc_pw}\n{doc_pw}\n"),
    ));
    let doctor = |args: &[&str], extra: &str| {
        let mut full = vec!["--user", "rui"];
        full.extend_from_slice(args);
        galen(&data, &full, &format!("{doc_pw}\n{extra}"))
    };
    let out = ok(doctor(&["patient", "add", "--given", "Ana", "--family", "Lima", "--dob", "1990-01-01"], ""));
    let mrn = out.split_whitespace().last().expect("mrn").trim_end_matches('.').to_owned();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let sign_and_print = |id: &str, pdf: &str| {
        ok(doctor(&["rx", "new", "--patient", &mrn], ""));
        ok(doctor(
            &rx_line("Amoxicillin 500 mg capsule")
                .into_iter()
                .map(|a| if a == "1" { id } else { a })
                .collect::<Vec<_>>(),
            "",
        ));
        ok(doctor(&["rx", "sign", id], &format!("{doc_pw}\n")));
        ok(doctor(&["print", id, "--out", pdf], ""));
        ok(doctor(&["document", "qr", id], "")).trim().to_owned()
    };
    let (first_pdf, first_qr) = (path("first.pdf"), sign_and_print("1", &path("first.pdf")));

    // Only admins hand out the list; it names the site key to compare by phone.
    let trust = path("clinic-trust.asc");
    assert!(fails(doctor(&["key", "export-trust", "--out", &trust], "")).contains("does not allow this"));
    let said = ok(as_admin(&data, &["key", "export-trust", "--out", &trust], ""));
    assert!(said.contains("signed by this clinic's site key"), "{said}");
    let listed = ok(as_admin(&data, &["key", "list"], ""));
    assert!(listed.contains("Dr Rui Costa (licence CRM-1") && listed.contains("first signature"), "{listed}");
    assert!(listed.contains("active") && listed.contains("certified by the clinic"), "{listed}");
    let fingerprint = listed.split_whitespace().next().expect("fingerprint").to_owned();

    // The QR and the PDF verify with the list alone; the list says who vouches.
    let good = ok(galen(&data, &["verify", "--qr", &first_qr, "--trust", &trust], ""));
    assert!(
        good.contains("Good signature")
            && good.contains("Vouched: Clínica Sol vouches for the signer: Dr Rui Costa (licence CRM-1)"),
        "{good}"
    );
    let good = ok(galen(&data, &["verify", &first_pdf, "--trust", &trust], ""));
    assert!(good.contains("Vouched: Clínica Sol") && !good.contains("key inside the PDF"), "{good}");

    // Another clinic's list does not vouch for Rui's key; a tampered list is refused outright.
    let other = dir.path().join("other");
    init(&other);
    let other_trust = path("other-trust.asc");
    ok(as_admin(&other, &["key", "export-trust", "--out", &other_trust], ""));
    let refused = fails(galen(&data, &["verify", &first_pdf, "--trust", &other_trust], ""));
    assert!(refused.contains("valid signature, but the signer is not vouched for"), "{refused}");
    let forged = path("forged-trust.asc");
    std::fs::write(&forged, std::fs::read_to_string(&trust).expect("list").replace("CRM-1", "CRM-7")).expect("write");
    let refused = fails(galen(&data, &["verify", &first_pdf, "--trust", &forged], ""));
    assert!(refused.contains("signature does not check"), "{refused}");

    // The admin revokes the key; only a revoked key has a revocation certificate; the doctor's next signature
    // makes a new key.
    assert!(fails(as_admin(&data, &["key", "revocation", &fingerprint], "")).contains("Revoke the key first"));
    assert!(fails(doctor(&["key", "revoke", &fingerprint, "--reason", "mine"], "")).contains("does not allow this"));
    let revoked = ok(as_admin(&data, &["key", "revoke", &fingerprint, "--reason", "Laptop stolen"], ""));
    assert!(revoked.contains("REVOKED") && revoked.contains("Laptop stolen"), "{revoked}");
    let certificate = ok(as_admin(&data, &["key", "revocation", &fingerprint], ""));
    assert!(certificate.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{certificate}");
    let second_pdf = path("second.pdf");
    sign_and_print("2", &second_pdf);

    // The old list does not know the new key; the new list vouches for both documents, each in its time.
    let refused = fails(galen(&data, &["verify", &second_pdf, "--trust", &trust], ""));
    assert!(refused.contains("not vouched for"), "{refused}");
    ok(as_admin(&data, &["key", "export-trust", "--out", &trust], ""));
    assert!(ok(galen(&data, &["verify", &second_pdf, "--trust", &trust], "")).contains("Vouched: Clínica Sol"));
    assert!(ok(galen(&data, &["verify", &first_pdf, "--trust", &trust], "")).contains("Vouched: Clínica Sol"));
    let site = ok(as_admin(&data, &["key", "export-site"], ""));
    assert!(site.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{site}");
}
