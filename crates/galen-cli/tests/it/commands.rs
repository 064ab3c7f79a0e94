//! The commands a person runs less often, each through the real binary: their own password, re-enabling an
//! account and lifting a lockout; editing a patient; certificates, a void and a correction; and sync with a real
//! partner server on 127.0.0.1, including the partner being down.

use crate::support::*;
use std::path::{Path, PathBuf};

const DESK_PW: &str = "front desk password 1";
const DOC_PW: &str = "doctor password 12";

/// A clinic with a receptionist (rita) and a doctor (rui).
fn clinic(dir: &Path) -> PathBuf {
    let data = dir.join("clinic");
    init(&data);
    ok(add_user(&data, &["--username", "rita", "--name", "Rita Reis", "--role", "receptionist"], DESK_PW));
    ok(add_user(
        &data,
        &["--username", "rui", "--name", "Dr Rui Costa", "--role", "doctor", "--licence", "CRM-1"],
        DOC_PW,
    ));
    data
}

/// `galen --user USER ARGS…`, the password first, then `stdin`.
fn as_user(data: &Path, user: &str, password: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut full = vec!["--user", user];
    full.extend_from_slice(args);
    galen(data, &full, &format!("{password}\n{stdin}"))
}

fn mrn_of(registered: &str) -> String {
    registered.split_whitespace().last().expect("mrn").trim_end_matches('.').to_owned()
}

fn today_plus(days: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date().to_string()
}

#[test]
fn own_password_re_enabling_and_lifting_a_lockout() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let new_pw = "a brand new desk password";

    let err = fails(as_user(&data, "rita", DESK_PW, &["passwd"], &format!("{DESK_PW}\n{new_pw}\n{new_pw}x\n")));
    assert!(err.contains("the two new passwords differ; nothing was changed"), "{err}");
    let err = fails(as_user(&data, "rita", DESK_PW, &["passwd"], &format!("not it at all\n{new_pw}\n{new_pw}\n")));
    assert!(err.contains("current_password: This is not your current password."), "{err}");
    ok(as_user(&data, "rita", DESK_PW, &["passwd"], &format!("{DESK_PW}\n{new_pw}\n{new_pw}\n")));
    let err = fails(as_user(&data, "rita", DESK_PW, &["login"], ""));
    assert!(err.contains("Wrong username or password"), "the old password is gone: {err}");
    ok(as_user(&data, "rita", new_pw, &["login"], ""));

    ok(as_admin(&data, &["user", "disable", "rita"], ""));
    fails(as_user(&data, "rita", new_pw, &["login"], ""));
    ok(as_admin(&data, &["user", "enable", "rita"], ""));
    let who = ok(as_user(&data, "rita", new_pw, &["login"], ""));
    assert!(who.contains("role receptionist"), "re-enabled: {who}");

    for _ in 0..5 {
        fails(as_user(&data, "rita", "not the password at all", &["login"], ""));
    }
    let err = fails(as_user(&data, "rita", new_pw, &["login"], ""));
    assert!(err.contains("Too many failed sign-in attempts"), "locked out: {err}");
    let err = fails(as_user(&data, "rui", DOC_PW, &["user", "clear-lock", "rita"], ""));
    assert!(err.contains("manage staff accounts"), "only admins lift a lockout: {err}");
    ok(as_admin(&data, &["user", "clear-lock", "rita"], ""));
    ok(as_user(&data, "rita", new_pw, &["login"], ""));
    let shown = ok(as_admin(&data, &["audit", "show", "--limit", "100"], ""));
    for event in ["staff.password_change", "staff.enable", "staff.throttle_clear"] {
        assert!(shown.contains(event), "{event} missing from:\n{shown}");
    }
}

#[test]
fn editing_a_patient_changes_only_what_was_given_and_bad_input_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let desk = |args: &[&str]| {
        let mut full = vec!["patient"];
        full.extend_from_slice(args);
        as_user(&data, "rita", DESK_PW, &full, "")
    };
    let mrn = mrn_of(&ok(desk(&["add", "--given", "Jürgen", "--family", "Müller", "--dob", "1975-06-01"])));
    ok(desk(&["edit", &mrn, "--phone", "+351 912 345 678", "--address", "Rua do Sol 1, Lisboa"]));
    let shown = ok(desk(&["show", &mrn]));
    assert!(shown.contains("+351 912 345 678") && shown.contains("Rua do Sol 1"), "{shown}");
    assert!(shown.contains("Jürgen") && shown.contains("1975-06-01"), "the rest is kept: {shown}");
    let err = fails(desk(&["edit", &mrn, "--dob", "2099-01-01", "--email", "not an email"]));
    assert!(err.contains("in the future"), "{err}");
    let after = ok(desk(&["show", &mrn]));
    assert_eq!(after, shown, "a refused edit changes nothing");
    let err = fails(desk(&["edit", "CLI-0000999X", "--phone", "1"]));
    assert!(!err.is_empty() && !err.contains("panicked"), "{err}");
    let found = ok(desk(&["search", "912345678"]));
    assert!(found.contains(&mrn), "the new phone is searchable: {found}");
}

#[test]
fn certificates_a_void_and_a_correction_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let doctor = |args: &[&str], extra: &str| as_user(&data, "rui", DOC_PW, args, extra);
    let sign = |kind: &str, id: &str| ok(doctor(&[kind, "sign", id], &format!("{DOC_PW}\n")));
    let mrn = mrn_of(&ok(doctor(&["patient", "add", "--given", "Ana", "--family", "Lima", "--dob", "1950-03-04"], "")));

    // A sick-leave certificate, signed and shown as valid.
    let (from, to) = (today_plus(0), today_plus(6));
    let started = ok(doctor(&["cert", "sick-leave", "--patient", &mrn, "--from", &from, "--to", &to], ""));
    assert!(started.contains("Started sick_leave certificate 1"), "{started}");
    assert!(sign("cert", "1").contains("Signed document 1"));
    let shown = ok(doctor(&["document", "show", "1"], ""));
    assert!(shown.contains("Signature: VALID") && shown.contains(&to), "{shown}");

    // A correction supersedes it once signed.
    let corrected = ok(doctor(&["document", "correct", "1"], ""));
    assert!(corrected.contains("Started correction 2 of document 1"), "{corrected}");
    sign("cert", "2");
    let old = ok(doctor(&["document", "show", "1"], ""));
    assert!(old.contains("superseded") || old.contains("Superseded"), "the first is superseded: {old}");
    let err = fails(doctor(&["document", "correct", "1"], ""));
    assert!(err.contains("Only a current signed document can be corrected"), "{err}");

    // A prescription, voided with a signed notice; a second void is refused.
    ok(doctor(&["rx", "new", "--patient", &mrn], ""));
    let mut line = rx_line("Amoxicillin 500 mg capsule");
    line[3] = "3";
    ok(doctor(&line, ""));
    sign("rx", "3");
    let err = fails(doctor(&["rx", "void", "3", "--reason", "wrong patient"], "not my password at all\n"));
    assert!(err.contains("not your password"), "{err}");
    let voided = ok(doctor(&["rx", "void", "3", "--reason", "wrong patient"], &format!("{DOC_PW}\n")));
    assert!(voided.contains("Document 3 is void; the signed notice is document 4"), "{voided}");
    let shown = ok(doctor(&["rx", "show", "3"], ""));
    assert!(shown.to_lowercase().contains("void"), "{shown}");
    let err = fails(doctor(&["rx", "void", "3", "--reason", "again"], &format!("{DOC_PW}\n")));
    assert!(err.contains("Only a signed, current document can be voided"), "{err}");

    // A death certificate marks the patient deceased.
    let died = format!("{}T08:30", today_plus(-1));
    let args = ["--patient", &mrn, "--died-at", &died, "--cause", "Pneumonia", "--underlying", "COPD:10:years"];
    let mut death = vec!["cert", "death"];
    death.extend(args);
    death.extend(["--manner", "natural", "--place", "home", "--country", "PT"]);
    let started = ok(doctor(&death, ""));
    assert!(started.contains("Started death certificate 5"), "{started}");
    sign("cert", "5");
    let shown = ok(doctor(&["patient", "show", &mrn], ""));
    assert!(shown.contains("Deceased:    a signed death certificate names this patient"), "{shown}");

    // A receptionist may neither draft nor sign.
    let err = fails(as_user(
        &data,
        "rita",
        DESK_PW,
        &["cert", "sick-leave", "--patient", &mrn, "--from", &from, "--to", &to],
        "",
    ));
    assert!(err.contains("draft certificates"), "{err}");
}

/// A real partner server on 127.0.0.1 that has paired the clinic whose pairing file is `clinic_file`. Dropping it
/// stops the server.
struct Partner {
    _runtime: tokio::runtime::Runtime,
    url: String,
    file: PathBuf,
    safety_number: String,
}

fn partner(dir: &Path, clinic_file: &Path) -> Partner {
    use galen_partner::{key::DbKey, store, tls};
    use galen_proto::{certs, pairing::PairingFile};
    let now = time::OffsetDateTime::now_utc();
    let server = certs::Leaf::Server { hosts: vec!["127.0.0.1".into()] };
    let issued = certs::issue("Hospital Central CA", "Hospital Central", server, now).expect("server certificate");
    let conn = store::open_db(&dir.join("partner.db"), &DbKey::random().expect("key")).expect("partner db");
    store::init(&conn, "Hospital Central", &issued.ca_cert, &issued.ca_key).expect("partner identity");
    let clinic = PairingFile::read(&std::fs::read_to_string(clinic_file).expect("clinic file")).expect("pairing file");
    store::pair(&conn, &clinic, &clinic.safety_number).expect("the partner pairs the clinic");
    let theirs = store::pairing_file(&conn).expect("partner pairing file");
    let file = dir.join("partner.galen-pairing");
    std::fs::write(&file, serde_json::to_string(&theirs).expect("json")).expect("write");
    let app = galen_partner::app(std::sync::Arc::new(store::Partner::load(conn, true).expect("load")));
    let clients = tls::ClientCas::new(clinic.ca_certificate.as_bytes()).expect("the clinic's CA");
    let tls = tls::server_config(issued.leaf_cert.as_bytes(), issued.leaf_key.as_bytes(), &clients).expect("tls");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("https://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.spawn(tls::serve(listener, tls, app));
    Partner { _runtime: runtime, url, file, safety_number: theirs.safety_number }
}

#[test]
fn sync_pair_now_status_and_conflicts_with_a_real_partner_and_the_partner_down() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let admin = |args: &[&str], stdin: &str| as_admin(&data, args, stdin);
    let status = ok(admin(&["sync", "status"], ""));
    assert!(status.contains("Partner:       none"), "{status}");
    ok(admin(&["site", "init"], ""));
    let clinic_file = dir.path().join("clinic.galen-pairing");
    ok(admin(&["site", "pairing-file", "--out", clinic_file.to_str().expect("utf8")], ""));
    let p = partner(dir.path(), &clinic_file);
    let file = p.file.to_str().expect("utf8");

    let err = fails(admin(&["sync", "pair", file, "--url", &p.url], "12345 67890\n"));
    assert!(err.to_lowercase().contains("safety number"), "a number that differs is refused: {err}");
    assert!(ok(admin(&["sync", "status"], "")).contains("Partner:       none"), "nothing was paired");
    let paired = ok(admin(&["sync", "pair", file, "--url", &p.url], &format!("{}\n", p.safety_number)));
    assert!(paired.contains(&format!("Paired with Hospital Central at {}", p.url)), "{paired}");

    let add = ["patient", "add", "--given", "Inês", "--family", "Duarte", "--dob", "1988-08-08"];
    let consented = [&add[..], &["--consent-share", "true"]].concat();
    ok(as_user(&data, "rita", DESK_PW, &consented, ""));
    let err = fails(as_user(&data, "rita", DESK_PW, &["sync", "now"], ""));
    assert!(err.contains("manage partner sync"), "only admins sync by hand: {err}");
    let ran = ok(admin(&["sync", "now"], ""));
    assert!(ran.contains("Queued 1, sent 1 (0 already there, 0 refused)"), "{ran}");
    let status = ok(admin(&["sync", "status"], ""));
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert!(status.contains(&format!("Last success:  {today}")), "{status}");
    assert!(status.contains("Pending:       0") && status.contains("Last error:    none"), "{status}");
    assert_eq!(ok(admin(&["sync", "conflicts"], "")).trim(), "No open conflicts.");
    let err = fails(admin(&["sync", "conflicts", "--resolve", "99", "--keep", "local"], ""));
    assert!(!err.contains("panicked") && err.contains("99"), "an unknown conflict is named: {err}");

    // The partner goes down: the run fails with the reason, and what was queued waits for the next one.
    let url = p.url.clone();
    drop(p);
    let add = ["patient", "add", "--given", "Rui", "--family", "Duarte", "--dob", "1990-09-09"];
    ok(as_user(&data, "rita", DESK_PW, &[&add[..], &["--consent-share", "true"]].concat(), ""));
    let err = fails(admin(&["sync", "now"], ""));
    assert!(err.contains(&format!("the partner at {url}/api/v1 could not be reached")), "{err}");
    assert!(err.contains("Nothing was lost: what was not sent stays queued"), "{err}");
    let status = ok(admin(&["sync", "status"], ""));
    assert!(status.contains("Pending:       1") && !status.contains("Last error:    none"), "{status}");
}

/// Scheduled backups from the command line, as an admin sets them and a system timer runs them: a bad folder or
/// time is refused by name, the timer's run makes one only when due and needs nobody signed in, status says what
/// to do, a drill catches a tampered backup, and `galen backup FILE` still makes one by hand.
#[test]
fn scheduled_backups_set_run_by_the_timer_drilled_and_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    let recovery_key = init(&data);
    ok(add_user(&data, &["--username", "rita", "--name", "Rita Reis", "--role", "receptionist"], DESK_PW));
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).expect("folder");
    let usb_arg = usb.to_str().expect("utf-8");

    assert!(ok(as_admin(&data, &["backup", "status"], "")).contains("backups are not scheduled"));
    let err = fails(as_admin(&data, &["backup", "schedule", "set", "--folder", "/no/such/drive", "--at", "02:00"], ""));
    assert!(err.contains("folder") && err.contains("does not exist"), "{err}");
    let err = fails(as_admin(&data, &["backup", "schedule", "set", "--folder", usb_arg], ""));
    assert!(err.contains("Choose a time of day, when the app closes, or both"), "{err}");
    let err = fails(galen(&data, &["backup", "schedule", "set", "--folder", usb_arg, "--at", "25:00"], ""));
    assert!(err.contains("not a time of day"), "{err}");
    let err = fails(as_user(
        &data,
        "rita",
        DESK_PW,
        &["backup", "schedule", "set", "--folder", usb_arg, "--at", "02:00"],
        "",
    ));
    assert!(err.contains("does not allow this: make backups"), "a receptionist may not: {err}");
    assert!(ok(galen(&data, &["backup", "schedule", "show"], "")).contains("No scheduled backups"));

    let set = ok(as_admin(
        &data,
        &["backup", "schedule", "set", "--folder", usb_arg, "--at", "02:00", "--keep-daily", "3"],
        "",
    ));
    assert!(set.contains("every day at 02:00") && set.contains("3 days, 4 weeks and 12 months"), "{set}");
    assert!(ok(as_admin(&data, &["backup", "status"], "")).contains("no backup has been made yet"));

    // The shipped system timer's command: no password is given, and the second run the same day makes nothing.
    let made = ok(galen(&data, &timer_command(), ""));
    assert!(
        made.contains("verified") && made.contains("Monthly restore drill: it restores and checks clean"),
        "{made}"
    );
    assert_eq!(ok(galen(&data, &timer_command(), "")).trim(), "No backup is due.");
    let status = ok(as_admin(&data, &["backup", "status"], ""));
    assert!(status.contains("All is well.") && status.contains("Scheduled backups in the folder: 1."), "{status}");
    let generation = std::fs::read_dir(&usb).expect("ls").next().expect("one").expect("entry").path();

    let drilled = ok(as_admin(&data, &["backup", "drill"], ""));
    assert!(drilled.contains("patients 0/0") && drilled.contains("staff accounts 2/2"), "{drilled}");
    let mut bytes = std::fs::read(&generation).expect("read");
    let at = bytes.len() / 3;
    bytes[at] ^= 1;
    std::fs::write(&generation, bytes).expect("tamper");
    let err = fails(as_admin(&data, &["backup", "drill"], ""));
    assert!(err.contains("cannot be used"), "{err}");
    assert!(ok(as_admin(&data, &["backup", "status"], "")).contains("WARNING: the latest restore drill failed"));

    // A new backup into the folder does not hide the failed drill: only a drill that passes does.
    let by_hand = ok(as_admin(&data, &["backup", "run"], ""));
    assert!(by_hand.contains("Backup written to"), "{by_hand}");
    assert!(ok(as_admin(&data, &["backup", "status"], "")).contains("WARNING: the latest restore drill failed"));
    ok(as_admin(&data, &["backup", "drill"], ""));
    assert!(ok(as_admin(&data, &["backup", "status"], "")).contains("All is well."));
    let manual = dir.path().join("by-hand.galenbak");
    ok(as_admin(&data, &["backup", manual.to_str().expect("utf-8")], ""));
    assert!(manual.exists());

    ok(as_admin(&data, &["backup", "schedule", "off"], ""));
    let err = fails(as_admin(&data, &["backup", "run"], ""));
    assert!(err.contains("No backup folder is set") && err.contains("galen backup schedule set"), "{err}");

    // The laptop is stolen: the newest generation, on the drive, restores on a new computer with the recovery key.
    let mut generations: Vec<PathBuf> =
        std::fs::read_dir(&usb).expect("ls").map(|e| e.expect("entry").path()).collect();
    generations.sort();
    let newest = generations.last().expect("a generation").to_str().expect("utf-8").to_owned();
    let new_laptop = dir.path().join("new-laptop");
    ok(galen(&new_laptop, &["restore", "--recovery-key", &newest], &format!("{recovery_key}\n")));
    assert!(ok(as_user(&new_laptop, "rita", DESK_PW, &["login"], "")).contains("rita"));
}

/// The arguments the shipped systemd service gives `galen` (installers/systemd/galen-backup.service).
fn timer_command() -> Vec<&'static str> {
    let unit = include_str!("../../../../installers/systemd/galen-backup.service");
    let exec = unit.lines().find_map(|l| l.strip_prefix("ExecStart=")).expect("the unit has an ExecStart");
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/bin/galen"), "the packages install galen there");
    words.collect()
}

/// `galen settings`: every setting of the Settings screen shown to anyone, changed only by an admin, each bad
/// value refused by its field with nothing saved, a logo from a file (a huge or non-image file refused), and each
/// change in the audit trail.
#[test]
fn settings_shown_and_changed_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let shown = ok(galen(&data, &["settings", "show"], ""));
    for line in
        ["site-name          Clínica Sol", "paper              a4", "logo               none", "language           en"]
    {
        assert!(shown.contains(line), "{line:?} in:\n{shown}");
    }
    let set = |args: &[&str]| {
        let mut full = vec!["settings", "set"];
        full.extend_from_slice(args);
        as_admin(&data, &full, "")
    };
    let changed = ok(set(&["address", "Rua do Sol 1\n1000-001 Lisboa"]));
    assert!(changed.contains("address            Rua do Sol 1, 1000-001 Lisboa"), "{changed}");
    ok(set(&["paper", "letter"]));
    ok(set(&["idle-timeout", "15"]));
    ok(set(&["language", "pt"]));
    ok(set(&["printout-language", "es"]));
    ok(set(&["mrn-prefix", "lx"]));
    let logo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../galen-core/tests/it/logo.png");
    ok(set(&["logo", logo.to_str().expect("utf-8")]));
    let shown = ok(galen(&data, &["settings", "show"], ""));
    for line in [
        "paper              letter",
        "idle-timeout       15 minutes",
        "language           pt",
        "printout-language  es",
        "mrn-prefix         LX",
        "logo               image/png (",
    ] {
        assert!(shown.contains(line), "{line:?} in:\n{shown}");
    }

    for (args, says) in [
        (vec!["site-name", "  "], "site_name"),
        (vec!["idle-timeout", "0"], "idle_timeout_minutes"),
        (vec!["idle-timeout", "ten"], "give a number of minutes"),
        (vec!["language", "fr"], "Choose English, Português or Español"),
        (vec!["paper", "a5"], "a4, letter"),
        (vec!["mrn-prefix", "1!"], "mrn_prefix"),
    ] {
        let err = fails(set(&args));
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let not_image = dir.path().join("notes.png");
    std::fs::write(&not_image, b"not an image").expect("write");
    assert!(fails(set(&["logo", not_image.to_str().expect("utf-8")])).contains("PNG or JPEG"));
    let huge = dir.path().join("huge.png");
    std::fs::write(&huge, vec![0u8; 4 << 20]).expect("write");
    assert!(fails(set(&["logo", huge.to_str().expect("utf-8")])).contains("too large"));
    let err = fails(as_user(&data, "rita", DESK_PW, &["settings", "set", "site-name", "Hijacked"], ""));
    assert!(err.contains("does not allow this"), "{err}");
    assert_eq!(ok(galen(&data, &["settings", "show"], "")), shown, "nothing refused was saved");

    ok(set(&["logo", "none"]));
    assert!(ok(galen(&data, &["settings", "show"], "")).contains("logo               none"));
    // A row per setting changed (the first save also stores the defaults it had only assumed); refused changes
    // wrote none.
    let audit = ok(as_admin(&data, &["audit", "show", "--limit", "200"], ""));
    let keys = [
        "site.address",
        "print.paper_size",
        "session.idle_timeout_secs",
        "ui.language",
        "print.language",
        "mrn.prefix",
    ];
    for key in keys {
        assert!(audit.contains(&format!("settings.update        setting {key}")), "{key} audited:\n{audit}");
    }
    assert_eq!(audit.matches("setting site.logo").count(), 2, "the logo set, then removed:\n{audit}");
    assert!(!audit.contains("setting site.name"), "the refused name was not saved:\n{audit}");
}

#[test]
fn the_appointment_book_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let rita = |args: &[&str]| as_user(&data, "rita", DESK_PW, args, "");
    let rui = |args: &[&str]| as_user(&data, "rui", DOC_PW, args, "");
    let registered = ok(rita(&[
        "patient",
        "add",
        "--given",
        "Maria",
        "--family",
        "Costa",
        "--dob",
        "1970-01-01",
        "--phone",
        "912 345 678",
    ]));
    let mrn = mrn_of(&registered);
    // Today as the book sees it (the clinic's time zone: this computer's).
    let listed = ok(rita(&["appt", "list"]));
    let today = listed.split_whitespace().next().expect("the day heads the list").to_owned();
    assert_eq!(today.len(), 10, "{listed}");

    // Late at night is outside opening hours: nothing is booked until confirmed.
    let book = |extra: &[&str]| {
        let mut args = vec!["appt", "add", &mrn, "--doctor", "rui", "--date", &today, "--reason", "Check-up"];
        args.extend_from_slice(extra);
        rita(&args)
    };
    let warned = fails(book(&["--time", "23:30", "--minutes", "20"]));
    assert!(warned.contains("Nothing was booked yet") && warned.contains("outside opening hours"), "{warned}");
    assert!(warned.contains("--confirm"), "{warned}");
    assert!(!ok(rita(&["appt", "list"])).contains("#1"), "nothing was booked");
    let booked = ok(book(&["--time", "23:30", "--minutes", "20", "--confirm"]));
    assert!(
        booked.contains("Booked #1:") && booked.contains("23:30–23:50 booked") && booked.contains("Maria Costa"),
        "{booked}"
    );
    let overlap = fails(book(&["--time", "23:40"]));
    assert!(overlap.contains("the doctor already sees Maria Costa from 23:30 to 23:50"), "{overlap}");
    ok(book(&["--time", "23:40", "--confirm"]));
    let moved = ok(rita(&["appt", "move", "2", "--time", "23:50", "--minutes", "5", "--confirm"]));
    assert!(moved.contains("Moved #2:") && moved.contains("23:50–23:55"), "{moved}");
    assert!(ok(rita(&["appt", "cancel", "2", "--reason", "Patient called"])).contains("Cancelled #2."));
    let series = ok(book(&["--time", "22:00", "--every-weeks", "1", "--times", "3", "--confirm"]));
    assert_eq!(series.matches("Booked #").count(), 3, "{series}");

    // The day: check-in, the doctor's queue, start and finish.
    assert!(ok(rita(&["appt", "checkin", "1"])).contains("Checked in:"));
    let queue = ok(rui(&["appt", "queue", "--doctor", "rui"]));
    assert!(queue.contains("#1") && queue.contains("waiting"), "{queue}");
    assert!(ok(rui(&["appt", "start", "1"])).contains("in_progress"));
    assert!(ok(rui(&["appt", "finish", "1"])).contains("done"));
    let day = ok(rita(&["appt", "list", "--date", &today]));
    for expected in ["done", "cancelled", "(Patient called)", "22:00–22:15 booked", "free"] {
        assert!(day.contains(expected), "{expected:?} in:\n{day}");
    }
    let csv = dir.path().join("reminders.csv");
    ok(rita(&["appt", "reminders", "--date", &today, "--csv", csv.to_str().expect("utf-8")]));
    let written = std::fs::read_to_string(&csv).expect("csv written");
    assert!(written.starts_with("date,time,doctor,patient,phone\r\n"), "{written}");
    assert!(written.contains(&format!("{today},22:00,Dr Rui Costa,Maria Costa,912 345 678")), "{written}");

    // On paper: the doctor's day list and the card for the series' first visit, read back with pdftotext.
    let text = |pdf: &std::path::Path| {
        let out = std::process::Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext runs");
        String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let list = dir.path().join("day.pdf");
    ok(rita(&["print", "--day-list", "today", "--doctor", "rui", "--out", list.to_str().expect("utf-8")]));
    let printed = text(&list);
    assert!(printed.contains("Day list") && printed.contains("Dr Rui Costa") && printed.contains("22:00"), "{printed}");
    assert!(!printed.contains("Patient called"), "a cancelled visit is left out: {printed}");
    let card = dir.path().join("card.pdf");
    ok(rita(&["print", "--appointment", "3", "--out", card.to_str().expect("utf-8")]));
    let printed = text(&card);
    assert!(printed.contains("Your appointment") && printed.contains("Your next visits"), "{printed}");
    let unknown = fails(rita(&["print", "--day-list", "today", "--doctor", "nobody", "--out", "x.pdf"]));
    assert!(unknown.contains("not an active doctor's username"), "{unknown}");

    // The admin reads Maria's record in the log, and prints who accessed it.
    let about = ok(as_admin(&data, &["audit", "show", "--patient", &mrn, "--limit", "1000"], ""));
    assert!(about.contains("patient.create") && about.contains("appointment.check_in"), "{about}");
    assert!(!about.contains("staff.create"), "only rows about her record: {about}");
    let checkins = ok(as_admin(&data, &["audit", "show", "--action", "appointment.check_in", "--by", "rita"], ""));
    assert_eq!(checkins.matches("appointment.check_in").count(), 1, "{checkins}");
    let bad = fails(as_admin(&data, &["audit", "show", "--from", "yesterday"], ""));
    assert!(bad.contains("from: Give the day as YYYY-MM-DD."), "{bad}");
    let report = dir.path().join("access.pdf");
    ok(as_admin(&data, &["print", "--access-report", &mrn, "--out", report.to_str().expect("utf-8")], ""));
    let printed = text(&report);
    assert!(printed.contains("Who accessed this record") && printed.contains("Checked a patient in"), "{printed}");

    // Garbage and refusals, each said plainly, never a panic.
    let bad = fails(rita(&["appt", "add", &mrn, "--doctor", "rui", "--date", "2026-13-45", "--time", "9"]));
    assert!(bad.contains("date: Give the day as YYYY-MM-DD") && bad.contains("time: Give the time as HH:MM"), "{bad}");
    let nobody = fails(rita(&["appt", "add", &mrn, "--doctor", "nobody", "--date", &today, "--time", "10:00"]));
    assert!(nobody.contains("not an active doctor's username (doctors: rui)"), "{nobody}");
    let denied = fails(as_admin(&data, &["appt", "list"], ""));
    assert!(denied.contains("does not allow this: see the appointment book"), "{denied}");
    assert!(fails(rita(&["appt", "start", "3"])).contains("start and finish visits"));

    // Opening hours: an admin sets them, with a doctor's own days.
    let hours = ok(as_admin(
        &data,
        &["appt", "hours", "--opens", "09:00", "--closes", "17:00", "--doctor-days", "rui=mon,wed"],
        "",
    ));
    assert!(hours.contains("Saved.") && hours.contains("Opens:      09:00"), "{hours}");
    assert!(hours.contains("Dr Rui Costa             mon,wed"), "{hours}");
    let wrong = fails(as_admin(&data, &["appt", "hours", "--opens", "18:00", "--closes", "08:00"], ""));
    assert!(wrong.contains("closes: Closing must be later than opening"), "{wrong}");
}

#[test]
fn fhir_export_and_import_through_the_binary() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = clinic(dir.path());
    let doctor = |data: &Path, args: &[&str]| as_user(data, "rui", DOC_PW, args, "");
    let add = ["patient", "add", "--given", "Ελένη", "--family", "Παππά", "--dob", "1970-05-06"];
    let mrn =
        mrn_of(&ok(doctor(&data, &[&add[..], &["--national-id", "GR998877", "--consent-share", "true"]].concat())));
    let file = dir.path().join("summary.json");
    let wrote = ok(doctor(&data, &["export", "fhir", "--patient", &mrn, "--out", file.to_str().expect("path")]));
    assert!(wrote.contains("signed by this clinic's site key"), "{wrote}");
    let site_key = ok(doctor(&data, &["site", "public-key"]));
    let bundle = std::fs::read(&file).expect("the summary");
    galen_core::fhir::verify_bundle(&bundle, &site_key).expect("the printed site key checks the summary");
    let err = fails(as_user(&data, "rita", DESK_PW, &["export", "fhir", "--patient", &mrn], ""));
    assert!(err.contains("export patient records"), "a receptionist is refused: {err}");
    let bulk = dir.path().join("bulk");
    let listed = ok(doctor(&data, &["export", "fhir", "--all", bulk.to_str().expect("path")]));
    assert!(listed.contains("Exported 1 patient(s)") && listed.contains("Patient.ndjson"), "{listed}");
    let copy = dir.path().join("copy");
    let wrote = ok(doctor(&data, &["export", "record", "--patient", &mrn, copy.to_str().expect("path")]));
    assert!(
        wrote.contains(&format!("record-{mrn}.pdf")) && copy.join(format!("access-report-{mrn}.pdf")).exists(),
        "{wrote}"
    );

    // Into another clinic: the plan first, then the import; the same file again is refused whole.
    let other = dir.path().join("other");
    init(&other);
    ok(add_user(
        &other,
        &["--username", "rui", "--name", "Dr Rui Costa", "--role", "doctor", "--licence", "CRM-1"],
        DOC_PW,
    ));
    let path = file.to_str().expect("path");
    let planned = ok(doctor(&other, &["import", "fhir", path, "--dry-run"]));
    assert!(
        planned.contains("Ελένη Παππά") && planned.contains("ready") && planned.contains("nothing was written"),
        "{planned}"
    );
    let done = ok(doctor(&other, &["import", "fhir", path]));
    assert!(done.contains("Registered 1 patient(s)") && done.contains("ΠΑΠΠΆ Ελένη"), "{done}");
    let again = as_user(&other, "rui", DOC_PW, &["import", "fhir", path], "");
    assert!(stdout(&again).contains("already belongs to Ελένη Παππά"), "{}", stdout(&again));
    assert!(fails(again).contains("nothing was written"));
    // The same person under no national ID: a likely duplicate, registered only with --force, which says so.
    let twin = dir.path().join("twin.json");
    let patient =
        r#"{"resourceType":"Patient","name":[{"family":"Παππά","given":["Ελένη"]}],"birthDate":"1970-05-06"}"#;
    std::fs::write(&twin, patient).expect("write");
    let twin = twin.to_str().expect("path");
    let refused = as_user(&other, "rui", DOC_PW, &["import", "fhir", twin], "");
    assert!(stdout(&refused).contains("looks like 1 patient(s) already here"), "{}", stdout(&refused));
    assert!(fails(refused).contains("--force"));
    let forced = ok(doctor(&other, &["import", "fhir", twin, "--force"]));
    assert!(forced.contains("1 of them despite a likely duplicate"), "{forced}");
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"resourceType\": ").expect("write");
    let err = fails(doctor(&other, &["import", "fhir", garbage.to_str().expect("path")]));
    assert!(err.contains("not valid JSON"), "{err}");
}
