//! The log file: written by the real binary into the data folder, at the most verbose level, and never holding
//! a patient's name or identifiers, a password, or a recovery key.

use crate::support::*;

#[test]
fn the_log_holds_what_happened_but_no_patient_name_password_or_recovery_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let first_recovery_key = init(&data);
    let trace = [("GALEN_LOG", "trace")];
    let doc_pw = "doctor password 12 quetzal";
    ok(galen_env(
        &data,
        &[
            "--user",
            "ana",
            "user",
            "add",
            "--username",
            "rui",
            "--name",
            "Dr Rui Costa",
            "--role",
            "doctor",
            "--licence",
            "CRM-1",
        ],
        &format!("{PASSWORD}\n{doc_pw}\n{doc_pw}\n"),
        &trace,
    ));
    let doctor = |args: &[&str], extra: &str| {
        let mut full = vec!["--user", "rui"];
        full.extend_from_slice(args);
        ok(galen_env(&data, &full, &format!("{doc_pw}\n{extra}"), &trace))
    };
    let patient = [
        "patient",
        "add",
        "--given",
        "Zébulon",
        "--family",
        "Quixotefeld",
        "--dob",
        "1971-03-04",
        "--national-id",
        "987654321X",
        "--phone",
        "+351 912 345 678",
        "--email",
        "zebulon@example.org",
    ];
    let out = doctor(&patient, "");
    let mrn = out.split_whitespace().last().expect("mrn").trim_end_matches('.').to_owned();
    doctor(&["patient", "search", "Quixote"], "");
    doctor(&["rx", "new", "--patient", &mrn], "");
    doctor(&rx_line("Amoxicillin"), "");
    doctor(&["rx", "sign", "1"], &format!("{doc_pw}\n"));
    // A password typed into the username box, and a wrong password: both refused, neither written anywhere.
    let stray = "hunter2-typed-as-username";
    fails(galen_env(&data, &["--user", stray, "login"], "whatever password 1\n", &trace));
    fails(galen_env(&data, &["--user", "rui", "login"], "wrong password typed 77\n", &trace));
    let replaced = ok(galen_env(&data, &["--user", "ana", "key", "new-recovery"], &format!("{PASSWORD}\n"), &trace));
    let new_recovery_key = replaced
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 39 && l.matches('-').count() == 7)
        .expect("a new recovery key")
        .to_owned();

    let logs = data.join("logs");
    let mut text = String::new();
    for entry in std::fs::read_dir(&logs).expect("the data folder has a logs folder").flatten() {
        text.push_str(&std::fs::read_to_string(entry.path()).expect("read log"));
    }
    for event in ["signed in", "patient registered", "signing key created", "document signed", "sign-in failed"] {
        assert!(text.contains(event), "the log records {event:?}:\n{text}");
    }
    let secrets = [
        PASSWORD,
        doc_pw,
        "wrong password typed 77",
        stray,
        &first_recovery_key,
        &new_recovery_key,
        "Zébulon",
        "Zebulon",
        "Quixotefeld",
        "987654321X",
        "912 345 678",
        "912345678",
        "zebulon@example.org",
    ];
    for secret in secrets {
        assert!(!text.contains(secret), "the log must not hold {secret:?}");
    }
    // Recovery keys without their dashes, too.
    for key in [&first_recovery_key, &new_recovery_key] {
        assert!(!text.contains(&key.replace('-', "")), "the log must not hold a recovery key");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&logs).expect("logs").permissions().mode();
        assert_eq!(mode & 0o077, 0, "only the owner reads the logs folder");
    }
}
