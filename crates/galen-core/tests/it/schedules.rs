//! Scheduled backups on real files and a fake clock: generations made when due and pruned by the rule, warnings
//! when the folder goes or a backup is late or fails, restore drills that catch a tampered backup, and a backup
//! killed halfway that leaves the older generations whole.

use crate::support::*;
use galen_core::audit::{self, Entry};
use galen_core::backup::drill::{self, Counted};
use galen_core::backup::schedule::{self, Keep, Schedule, Trigger, Warning};
use galen_core::clock::FakeClock;
use galen_core::{Clinic, Error, Role, StoreError, Vault};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use time::Duration;

fn daily(folder: &Path, keep: Keep) -> Schedule {
    Schedule { folder: folder.to_owned(), at: Some(time::macros::time!(02:00)), on_close: false, keep }
}

/// The file names in `folder`, sorted.
fn names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("read the folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The audit rows of `action`, newest first, read by an admin signed in now (the fake clock idles sessions out).
fn audit_rows(clinic: &Clinic, action: &str) -> Vec<Entry> {
    let admin = clinic.login(ADMIN, PASSWORD).expect("the admin signs in");
    let rows = audit::list(clinic, &admin, &audit::Query { limit: 1000, ..Default::default() }).expect("audit list");
    rows.into_iter().filter(|r| r.action == action).collect()
}

#[test]
fn a_schedule_makes_one_backup_a_day_and_prunes_by_the_rule() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    let folder = fx.dir.path().join("usb");
    std::fs::create_dir(&folder).expect("folder");
    // What else is in the folder is not Galen's to prune: a note, a backup made by hand, another clinic's.
    let foreign = ["notes.txt", "clinic.galenbak", "galen-2020-01-01T000000Z-99999999.galenbak"];
    for name in foreign {
        std::fs::write(folder.join(name), b"not ours").expect("write");
    }
    assert_eq!(schedule::run_due(&clinic, Trigger::Timer).expect("nothing scheduled"), None);
    let keep = Keep { daily: 3, weekly: 0, monthly: 0 };
    schedule::set(&clinic, &admin, Some(&daily(&folder, keep))).expect("schedule");
    assert_eq!(schedule::load(clinic.store()).expect("load"), Some(daily(&folder, keep)));

    let mut made = Vec::new();
    for day in 0..6 {
        let m = schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("due once a day");
        assert!(m.file.starts_with(&folder) && m.bytes > 0);
        made.push(m.file.clone());
        // The rule keeps the newest of each of the last 3 days: from the fourth day on, the oldest goes.
        let expected_pruned = if day >= 3 { vec![made[day - 3].clone()] } else { vec![] };
        assert_eq!(m.pruned, expected_pruned, "day {day}");
        // Asked again the same day (the app's timer ticks every few minutes), nothing more is made.
        assert_eq!(schedule::run_due(&clinic, Trigger::Timer).expect("runs"), None, "day {day}: not due twice");
        assert_eq!(schedule::run_due(&clinic, Trigger::Closing).expect("runs"), None, "not on close");
        clock.advance(Duration::days(1));
    }
    let generations = schedule::generations(&folder, &clinic.store().db_id().expect("id")).expect("list");
    let kept: Vec<PathBuf> = generations.iter().map(|g| g.path.clone()).collect();
    assert_eq!(kept, made[3..].iter().rev().cloned().collect::<Vec<_>>(), "the three newest, newest first");
    for name in foreign {
        assert_eq!(std::fs::read(folder.join(name)).expect("still there"), b"not ours", "{name} untouched");
    }
    assert_eq!(names(&folder).len(), foreign.len() + 3, "nothing else left in the folder");

    // A missed day (the laptop was off) is caught up once, not once per missed day.
    clock.advance(Duration::days(3));
    assert!(schedule::run_due(&clinic, Trigger::Timer).expect("runs").is_some(), "caught up");
    assert_eq!(schedule::run_due(&clinic, Trigger::Timer).expect("runs"), None);

    // Every backup and prune is in the audit trail, as Galen's own doing.
    let created = audit_rows(&clinic, "backup.create");
    assert_eq!(created.len(), 7);
    assert!(created.iter().all(|r| r.username == "(system)" && r.outcome == "ok"), "{created:?}");
    assert_eq!(audit_rows(&clinic, "backup.prune").len(), 4);
    assert_eq!(audit_rows(&clinic, "backup.schedule").len(), 1);
    let status = backup_status(&clinic);
    assert_eq!(status.warnings, vec![], "all is well");
    assert_eq!(status.generations.len(), 3);
    assert!(status.next_at.expect("a next one") > clinic.now(), "the next is tomorrow");
}

#[test]
fn on_close_schedules_run_on_close_and_the_newest_generation_is_always_kept() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    let folder = fx.dir.path().join("share");
    std::fs::create_dir(&folder).expect("folder");
    let s =
        Schedule { folder: folder.clone(), at: None, on_close: true, keep: Keep { daily: 1, weekly: 0, monthly: 0 } };
    schedule::set(&clinic, &admin, Some(&s)).expect("schedule");
    assert_eq!(schedule::run_due(&clinic, Trigger::Timer).expect("runs"), None, "no time of day");
    let first = schedule::run_due(&clinic, Trigger::Closing).expect("runs").expect("made on close");
    clock.advance(Duration::minutes(5));
    let second = schedule::run_due(&clinic, Trigger::Closing).expect("runs").expect("made on close again");
    assert_eq!(second.pruned, vec![first.file], "one a day kept: the newest of today");
    assert!(second.file.exists());
    // Overdue only after a week without one (nobody closed the app).
    clock.advance(Duration::days(6));
    assert_eq!(backup_status(&clinic).warnings, vec![]);
    clock.advance(Duration::days(2));
    assert!(matches!(backup_status(&clinic).warnings[..], [Warning::Overdue(Some(_))]));
}

#[test]
fn an_unplugged_folder_warns_fails_clearly_and_recovers() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    assert_eq!(backup_status(&clinic).warnings, vec![Warning::NotScheduled]);
    let folder = fx.dir.path().join("usb");
    std::fs::create_dir(&folder).expect("folder");
    schedule::set(&clinic, &admin, Some(&daily(&folder, Keep::default()))).expect("schedule");
    // Set but never run: overdue from the start, with no backup at all.
    assert_eq!(backup_status(&clinic).warnings, vec![Warning::Overdue(None)]);
    let first = schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("made");

    // The drive is unplugged.
    let away = fx.dir.path().join("usb-away");
    std::fs::rename(&folder, &away).expect("unplug");
    assert_eq!(backup_status(&clinic).warnings, vec![Warning::FolderMissing(folder.clone())]);
    clock.advance(Duration::days(1));
    let err = schedule::run_due(&clinic, Trigger::Timer).expect_err("nowhere to write");
    assert!(matches!(err, Error::Store(StoreError::BackupFolderMissing { .. })), "{err:?}");
    assert!(err.to_string().contains("is its drive plugged in"), "says what to do: {err}");
    assert!(!folder.exists(), "no folder is made where the drive was");
    clock.advance(Duration::hours(3));
    let warnings = backup_status(&clinic).warnings;
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert_eq!(warnings[0], Warning::FolderMissing(folder.clone()));
    assert!(matches!(warnings[1], Warning::Overdue(Some(_))));
    assert!(matches!(&warnings[2], Warning::Failed { code, .. } if code == "backup_folder_missing"));
    let failed = audit_rows(&clinic, "backup.create");
    assert_eq!(failed[0].outcome, "failed", "the failure is audited");

    // Plugged back in: the next tick makes the missed backup, the warnings go, the older generation is there.
    std::fs::rename(&away, &folder).expect("plug in");
    schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("catches up");
    assert_eq!(backup_status(&clinic).warnings, vec![]);
    assert!(first.file.exists());
}

#[test]
fn a_schedule_is_checked_when_set_and_only_admins_set_it() {
    let (fx, clinic, admin, _clock) = new_clinic_with_clock();
    let clerk = staff_session(&clinic, &admin, "lia", Role::Receptionist);
    let folder = fx.dir.path().join("usb");
    std::fs::create_dir(&folder).expect("folder");
    let good = daily(&folder, Keep::default());
    for refused in [
        schedule::set(&clinic, &clerk, Some(&good)).map(|_| ()),
        schedule::run_now(&clinic, &clerk).map(|_| ()),
        schedule::drill_newest(&clinic, &clerk).map(|_| ()),
    ] {
        assert!(matches!(refused, Err(Error::Denied { .. })), "{refused:?}");
    }
    let field_of = |s: Schedule| match schedule::set(&clinic, &admin, Some(&s)) {
        Err(Error::Invalid(errors)) => errors.0.into_iter().map(|e| e.field).collect::<Vec<_>>(),
        other => panic!("refused with field errors, not {other:?}"),
    };
    assert_eq!(field_of(Schedule { folder: "relative/dir".into(), ..good.clone() }), ["folder"]);
    assert_eq!(field_of(Schedule { folder: fx.dir.path().join("nope"), ..good.clone() }), ["folder"]);
    assert_eq!(field_of(Schedule { at: None, on_close: false, ..good.clone() }), ["at"]);
    let keep = Keep { daily: 0, weekly: 9999, monthly: 12 };
    assert_eq!(field_of(Schedule { keep, ..good.clone() }), ["keep_daily", "keep_weekly"]);
    assert_eq!(schedule::load(clinic.store()).expect("load"), None, "nothing refused was saved");
    assert!(matches!(schedule::run_now(&clinic, &admin), Err(Error::Store(StoreError::BackupNotScheduled))));

    schedule::set(&clinic, &admin, Some(&good)).expect("schedule");
    schedule::set(&clinic, &admin, None).expect("unschedule");
    assert_eq!(schedule::load(clinic.store()).expect("load"), None);
    assert_eq!(audit_rows(&clinic, "backup.unschedule").len(), 1);
}

#[test]
fn a_drill_restores_aside_counts_and_catches_a_tampered_backup() {
    let (fx, clinic, admin, clock) = new_clinic_with_clock();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    for i in 0..3 {
        register(&clinic, &doctor, &patient(&format!("Drill{i}"), "Test")).expect("register");
    }
    let folder = fx.dir.path().join("usb");
    std::fs::create_dir(&folder).expect("folder");
    assert!(matches!(schedule::drill_newest(&clinic, &admin), Err(Error::Store(StoreError::BackupNotScheduled))));
    schedule::set(&clinic, &admin, Some(&daily(&folder, Keep::default()))).expect("schedule");
    assert!(matches!(schedule::drill_newest(&clinic, &admin), Err(Error::Store(StoreError::NoBackupYet { .. }))));

    // The first scheduled backup runs the monthly drill at once; it passes.
    let made = schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("made");
    let report = made.drill.expect("the first drill is due").expect("the drill passes");
    let patients = report.counts.iter().find(|(what, ..)| *what == Counted::Patients).expect("patients counted");
    assert_eq!((patients.1, patients.2), (3, 3), "the backup holds every patient");
    assert_eq!(report.counts.len(), Counted::ALL.len());
    clock.advance(Duration::days(1));
    let next = schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("made");
    assert_eq!(next.drill, None, "not again until a month has passed");
    // A day later both have been signed out for idling.
    let admin = clinic.login(ADMIN, PASSWORD).expect("the admin signs in");
    let doctor = clinic.login("rui", PASSWORD).expect("the doctor signs in");

    // On demand, after more work: the live database has moved on, and the report says so.
    register(&clinic, &doctor, &patient("After", "Backup")).expect("register");
    let report = schedule::drill_newest(&clinic, &admin).expect("drills the newest");
    assert_eq!(report.file, next.file);
    let patients = report.counts.iter().find(|(what, ..)| *what == Counted::Patients).expect("patients counted");
    assert_eq!((patients.1, patients.2), (3, 4));

    // One byte changed in the middle of the newest backup: the drill fails, says why, and warns.
    let live_before = all_patients(&clinic, &doctor);
    let mut bytes = std::fs::read(&next.file).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&next.file, &bytes).expect("tamper");
    let err = schedule::drill_newest(&clinic, &admin).expect_err("a tampered backup fails the drill");
    assert!(matches!(err, Error::Store(StoreError::BadBackup { .. })), "{err:?}");
    let last = drill::last(clinic.store()).expect("last").expect("recorded");
    assert!(!last.ok && last.file == next.file);
    let warnings = backup_status(&clinic).warnings;
    assert!(matches!(&warnings[..], [Warning::DrillFailed(why)] if why == &err.to_string()), "{warnings:?}");
    let drills = audit_rows(&clinic, "backup.drill");
    assert_eq!(drills.iter().map(|r| r.outcome.as_str()).collect::<Vec<_>>(), ["failed", "ok", "ok"]);
    assert_eq!(all_patients(&clinic, &doctor), live_before, "a drill never touches live data");
    // Nothing of the drill is left in the data folder.
    assert!(names(fx.vault.dir()).iter().all(|n| !n.starts_with(".galen-restore")), "{:?}", names(fx.vault.dir()));

    // The older generation still drills clean.
    drill::run_now(&clinic, &admin, &made.file).expect("the older one is good");
    assert_eq!(backup_status(&clinic).warnings, vec![]);
}

const CHILD_ENV: &str = "GALEN_BACKUP_CHILD_DIR";
const FOLDER_ENV: &str = "GALEN_BACKUP_CHILD_FOLDER";
const DAY_ENV: &str = "GALEN_BACKUP_CHILD_DAY";

/// The child's side: scheduled backups one after another, a day apart on its own clock, printing each file only
/// after `run_due` returned. Run only as a child of the test below (it returns at once otherwise).
#[test]
#[ignore = "the child process of a_backup_killed_halfway_leaves_every_generation_whole"]
fn backup_child() {
    let (Some(dir), Some(folder), Some(day)) =
        (std::env::var_os(CHILD_ENV), std::env::var_os(FOLDER_ENV), std::env::var(DAY_ENV).ok())
    else {
        return;
    };
    let start = time::OffsetDateTime::now_utc() + Duration::days(day.parse().expect("day"));
    let clock = FakeClock::new(start);
    let clinic =
        Clinic::open(Vault::new(dir)).expect("child opens the store").with_clock(std::sync::Arc::new(clock.clone()));
    assert!(PathBuf::from(folder).is_dir());
    loop {
        let made = schedule::run_due(&clinic, Trigger::Timer).expect("backup").expect("due");
        println!("made {}", made.file.display());
        clock.advance(Duration::days(1));
    }
}

/// SIGKILL at a random moment during scheduled backups: every generation acknowledged before the kill is still
/// there and restores; no file under a generation's name is half written; the clinic opens and checks clean; and
/// the temporary file the killed backup left is cleared by a later one.
#[test]
fn a_backup_killed_halfway_leaves_every_generation_whole() {
    let (fx, clinic, admin) = new_clinic();
    let doctor = staff_session(&clinic, &admin, "rui", Role::Doctor);
    for i in 0..40 {
        register(&clinic, &doctor, &patient(&format!("Kill{i}"), "Test")).expect("register");
    }
    let folder = fx.dir.path().join("usb");
    std::fs::create_dir(&folder).expect("folder");
    schedule::set(&clinic, &admin, Some(&daily(&folder, Keep { daily: 400, weekly: 0, monthly: 0 })))
        .expect("schedule");
    drop(clinic);
    let db_id_of = |clinic: &Clinic| clinic.store().db_id().expect("id");
    let mut acked: Vec<PathBuf> = Vec::new();
    let mut drilled: Vec<PathBuf> = Vec::new();
    let rounds = long_or(4, 20);
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args(["schedules::backup_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, fx.vault.dir())
            .env(FOLDER_ENV, &folder)
            // Each round's clock starts far after the last, so its backups are due at once.
            .env(DAY_ENV, (round * 1000).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the child");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines().map_while(Result::ok);
        // Wait for the first backup (opening takes a while), then kill within the time of a few more.
        let first = lines.find_map(|l| l.find("made ").map(|at| PathBuf::from(&l[at + 5..])));
        acked.push(first.expect("the child made a backup"));
        let reader = std::thread::spawn(move || {
            lines.filter_map(|l| l.find("made ").map(|at| PathBuf::from(&l[at + 5..]))).collect::<Vec<_>>()
        });
        std::thread::sleep(std::time::Duration::from_millis(random_below(1500)));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap");
        acked.extend(reader.join().expect("reader"));

        let clinic = Clinic::open(fx.vault.clone()).expect("the clinic opens after the kill");
        clinic.store().check_integrity().expect("the live database is intact");
        let admin = clinic.login(ADMIN, PASSWORD).expect("sign in");
        for file in &acked {
            assert!(file.exists(), "round {round}: acknowledged {} is still there", file.display());
        }
        // Everything under a generation's name, acknowledged or renamed just before the kill, restores.
        let generations = schedule::generations(&folder, &db_id_of(&clinic)).expect("list");
        let new: Vec<_> = generations.into_iter().filter(|g| !drilled.contains(&g.path)).collect();
        for g in new {
            drilled.push(g.path.clone());
            drill::run_now(&clinic, &admin, &g.path)
                .unwrap_or_else(|e| panic!("round {round}: {} is whole: {e}", g.path.display()));
        }
    }
    assert!(acked.len() > rounds, "backups were acknowledged between the kills: {}", acked.len());

    // Whatever the kills left half written keeps a temporary name; once old, the next backup removes it.
    let partials: Vec<PathBuf> = names(&folder)
        .into_iter()
        .filter(|n| n.starts_with(".galen-backup"))
        .map(|n| folder.join(n))
        .chain([folder.join(".galen-backupLEFT")])
        .collect();
    std::fs::write(folder.join(".galen-backupLEFT"), b"half a backup").expect("a leftover for sure");
    let young = folder.join(".galen-backupYOUNG");
    std::fs::write(&young, b"another process is still writing this").expect("write");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for p in &partials {
        std::fs::File::options().write(true).open(p).expect("open").set_modified(two_hours_ago).expect("age it");
    }
    let clinic = Clinic::open(fx.vault.clone()).expect("open");
    let admin = clinic.login(ADMIN, PASSWORD).expect("sign in");
    schedule::run_now(&clinic, &admin).expect("a backup by hand");
    for p in &partials {
        assert!(!p.exists(), "{} was cleared", p.display());
    }
    assert!(young.exists(), "a temporary file under an hour old may be another backup's: kept");
}
