//! Faults on real parts: the data folder on a real, small file system (a tmpfs of a few MiB) that fills up or
//! turns read-only, files that go missing, shrink or belong to someone else. Each failure is a clear, typed error
//! and nothing acknowledged is lost.
//!
//! Mounting needs root (CAP_SYS_ADMIN), which CI and the development machine have; elsewhere these tests print
//! why they did nothing and pass.

use crate::documents::{doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::clinic::Setup;
use galen_core::documents;
use galen_core::patients;
use galen_core::pdf::{self, Printout};
use galen_core::{backup, Clinic, Error, Role, Session, Vault};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on a fresh temporary folder; unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` (with the reason printed) where this process may not mount.
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a small tmpfs here (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "remount {options}");
    }

    /// Fills the disk with a file until at most `leave` bytes are free; removing the file frees the space.
    fn fill_leaving(&self, leave: u64) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).expect("filler");
        use std::io::Write;
        // A few large writes, not thousands of small ones: the test stays light on a shared machine.
        loop {
            let free = free_bytes(self.path());
            if free <= leave {
                break;
            }
            let chunk = usize::try_from((free - leave).max(4096)).expect("fits");
            if f.write_all(&vec![0u8; chunk]).is_err() {
                break;
            }
        }
        f.sync_all().ok();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("stat").args(["-f", "-c", "%a %S"]).arg(dir).output().expect("stat runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace().map(|n| n.parse::<u64>().expect("a number"));
    parts.next().expect("blocks") * parts.next().expect("block size")
}

fn setup() -> Setup {
    Setup {
        site_name: "Clínica Sol".into(),
        admin_username: ADMIN.into(),
        admin_display_name: "Ana Admin".into(),
        admin_password: PASSWORD.into(),
    }
}

/// A new clinic whose data folder is `dir`, its first admin signed in.
fn clinic_in(dir: &Path) -> (Vault, Clinic, Session) {
    let vault = Vault::new(dir.join("clinic"));
    let created = Clinic::create(vault.clone(), &setup()).expect("a fresh clinic is created");
    created.keyring.expect("the test keyring accepts the database key");
    let admin = created.clinic.login(ADMIN, PASSWORD).expect("the first admin signs in");
    (vault, created.clinic, admin)
}

fn assert_disk_full(err: &Error, what: &str) {
    assert_eq!(err.code(), "disk_full", "{what}: got {err:?}");
    let text = err.to_string();
    assert!(text.contains("is full") && text.contains("nothing that was saved"), "{what}: {text}");
    assert!(!text.contains("Error code"), "{what}: no SQLite jargon: {text}");
}

/// Registers patients and signs prescriptions until the disk is full: every failure says the disk is full,
/// the database passes its integrity check, and once space is freed every acknowledged patient and document is
/// there and the clinic works again.
#[test]
fn a_full_disk_refuses_clearly_and_loses_nothing_acknowledged() {
    let Some(disk) = SmallDisk::mount("6m") else { return };
    let (vault, clinic, admin) = clinic_in(disk.path());
    let doc = doctor(&clinic, &admin);
    // The first signature makes the doctor's key; keep that out of the filling.
    let first = register(&clinic, &doc, &patient("First", "Patient")).expect("register");
    let d = documents::create_draft(&clinic, &doc, first, rx(&clinic)).expect("draft");
    documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign");
    let filler = disk.fill_leaving(192 * 1024);

    let mut patients_saved = vec![first];
    let mut documents_saved = vec![d.id];
    let mut failures = 0;
    for i in 0..400 {
        let result = if i % 3 == 2 {
            let pid = *patients_saved.last().expect("a patient");
            documents::create_draft(&clinic, &doc, pid, rx(&clinic))
                .and_then(|d| documents::sign(&clinic, &doc, d.id, DOC_PW, true))
                .map(|d| documents_saved.push(d.id))
        } else {
            register(&clinic, &doc, &patient(&format!("Given{i}"), "Family")).map(|id| patients_saved.push(id))
        };
        if let Err(e) = result {
            assert_disk_full(&e, &format!("operation {i}"));
            failures += 1;
            if failures == 6 {
                break;
            }
        }
    }
    assert!(failures > 0, "the disk filled up");
    assert!(patients_saved.len() > 2, "some registrations fitted before it did");
    clinic.store().check_integrity().expect("the database is intact while the disk is full");
    drop(clinic);
    // Opening again on the full disk (each `galen` command does) either works or says the disk is full.
    match Clinic::open(vault.clone()) {
        Ok(clinic) => {
            let doc = clinic.login("rui", DOC_PW);
            let err = doc.and_then(|doc| register(&clinic, &doc, &patient("Still", "Full")));
            assert_disk_full(&err.expect_err("still full"), "registering after reopening");
        }
        Err(e) => assert_disk_full(&Error::Store(e), "reopening on a full disk"),
    }

    std::fs::remove_file(&filler).expect("free the space");
    let clinic = Clinic::open(vault.clone()).expect("reopens after space is freed");
    clinic.store().check_integrity().expect("intact after reopening");
    let doc = clinic.login("rui", DOC_PW).expect("sign in");
    for id in &patients_saved {
        patients::get(&clinic, &doc, *id).unwrap_or_else(|e| panic!("acknowledged patient {id} is there: {e}"));
    }
    for id in &documents_saved {
        let view = documents::open(&clinic, &doc, *id).unwrap_or_else(|e| panic!("document {id} is there: {e}"));
        assert!(matches!(view.verification, documents::Verification::Valid { .. }), "document {id} still verifies");
    }
    register(&clinic, &doc, &patient("After", "Freeing")).expect("registering works again");
}

/// A clinic on a small disk with a patient and a signed prescription, filled until `leave` bytes are free.
struct FullClinic {
    disk: SmallDisk,
    vault: Vault,
    clinic: Clinic,
    admin: Session,
    doc: Session,
    recovery: galen_core::RecoveryKey,
    patient: i64,
    document: i64,
    filler: PathBuf,
}

fn full_clinic(leave: u64) -> Option<FullClinic> {
    let disk = SmallDisk::mount("6m")?;
    let vault = Vault::new(disk.path().join("clinic"));
    let created = Clinic::create(vault.clone(), &setup()).expect("a fresh clinic is created");
    created.keyring.expect("the test keyring accepts the database key");
    let (clinic, recovery) = (created.clinic, created.recovery_key);
    let admin = clinic.login(ADMIN, PASSWORD).expect("the first admin signs in");
    let doc = doctor(&clinic, &admin);
    let patient = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let d = documents::create_draft(&clinic, &doc, patient, rx(&clinic)).expect("draft");
    let document = documents::sign(&clinic, &doc, d.id, DOC_PW, true).expect("sign").id;
    let filler = disk.fill_leaving(leave);
    Some(FullClinic { disk, vault, clinic, admin, doc, recovery, patient, document, filler })
}

impl FullClinic {
    /// Frees the space, and checks the clinic opens with the keyring and with the key file, is intact and holds
    /// its patient and document.
    fn free_and_check(self, recovery: &galen_core::RecoveryKey) {
        let FullClinic { vault, clinic, patient, document, filler, disk, .. } = self;
        drop(clinic);
        std::fs::remove_file(filler).expect("free the space");
        for (how, clinic) in [
            ("the keyring", Clinic::open(vault.clone()).expect("opens with the keyring")),
            ("the admin's wrap in the key file", {
                let unlocked = vault.unlock_with_admin(ADMIN, PASSWORD).expect("the key file's admin wrap opens it");
                drop(unlocked);
                Clinic::open(vault.clone()).expect("opens")
            }),
            ("the recovery key", {
                drop(vault.unlock_with_recovery(recovery).expect("the recovery key opens it"));
                Clinic::open(vault.clone()).expect("opens")
            }),
        ] {
            clinic.store().check_integrity().unwrap_or_else(|e| panic!("intact, opened with {how}: {e}"));
            let doc = clinic.login("rui", DOC_PW).expect("sign in");
            patients::get(&clinic, &doc, patient).expect("the patient is there");
            let view = documents::open(&clinic, &doc, document).expect("the document is there");
            assert!(matches!(view.verification, documents::Verification::Valid { .. }), "it verifies");
        }
        drop(disk);
    }
}

/// Key rotation on a full disk fails with the disk-full message and leaves the old key file, the keyring entry
/// and the recovery key opening the database; with room, it rotates. (A disk that fills while the database is
/// being re-encrypted, past the check for room, is `store::tests::a_rekey_that_does_not_fit_on_the_disk_…`.)
#[test]
fn key_rotation_on_a_full_disk_leaves_the_old_key_file_working() {
    for leave in [16 * 1024, 3 << 20] {
        let Some(mut fc) = full_clinic(leave) else { return };
        match fc.clinic.rotate_key(&fc.admin, PASSWORD) {
            Err(e) => {
                assert!(!fc.vault.dir().join("galen.keys.next").exists(), "no new key file is left waiting");
                assert_disk_full(&e, &format!("rotation with {leave} bytes free"));
                let recovery = fc.recovery.clone();
                fc.free_and_check(&recovery);
            }
            Ok(new) => {
                assert!(leave >= 1 << 20, "a rotation is refused up front unless it has room: {leave} bytes");
                fc.free_and_check(&new);
            }
        }
    }
}

/// A backup onto a full disk says so and leaves no partial file behind; so does saving a printout.
#[test]
fn a_backup_or_printout_onto_a_full_disk_fails_clearly_and_leaves_nothing_behind() {
    let Some(fc) = full_clinic(0) else { return };
    let before = listing(fc.disk.path());
    let dest = fc.disk.path().join("clinic.galenbak");
    let err = backup::backup(&fc.clinic, &fc.admin, &dest).expect_err("no room for a backup");
    assert_disk_full(&err, "backup");
    let pdf = pdf::render(&fc.clinic, &fc.doc, &Printout::Document(fc.document)).expect("renders in memory");
    let err = pdf::save(&fc.clinic, &pdf, &fc.disk.path().join("rx.pdf")).expect_err("no room for a printout");
    assert_disk_full(&err, "printout");
    assert_eq!(listing(fc.disk.path()), before, "no partial backup or printout is left behind");
    let recovery = fc.recovery.clone();
    fc.free_and_check(&recovery);
}

/// A scheduled backup onto a destination that filled up (a small USB stick): a clear "disk is full", the older
/// generation kept whole and nothing half written beside it, a warning for the admin; once there is room, the
/// next one lands.
#[test]
fn a_scheduled_backup_onto_a_full_destination_keeps_the_older_generations() {
    use galen_core::backup::drill;
    use galen_core::backup::schedule::{self, Keep, Schedule, Trigger, Warning};
    let Some(disk) = SmallDisk::mount("4m") else { return };
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let s = Schedule {
        folder: disk.path().to_owned(),
        at: Some(time::macros::time!(02:00)),
        on_close: false,
        keep: Keep { daily: 1, weekly: 0, monthly: 0 },
    };
    schedule::set(&clinic, &admin, Some(&s)).expect("schedule");
    let older = schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("made").file;
    let filler = disk.fill_leaving(0);
    let before = listing(disk.path());

    clock.advance(time::Duration::days(1));
    let err = schedule::run_due(&clinic, Trigger::Timer).expect_err("no room for the next one");
    assert_disk_full(&err, "scheduled backup");
    assert_eq!(listing(disk.path()), before, "nothing half written is left, and the older one is not pruned");
    let status = backup_status(&clinic);
    assert!(
        status.warnings.iter().any(|w| matches!(w, Warning::Failed { code, .. } if code == "disk_full")),
        "{:?}",
        status.warnings
    );
    let admin = clinic.login(ADMIN, PASSWORD).expect("sign in again");
    drill::run_now(&clinic, &admin, &older).expect("the older generation is whole");

    std::fs::remove_file(&filler).expect("make room");
    let newer = schedule::run_due(&clinic, Trigger::Timer).expect("runs").expect("made once there is room");
    assert_eq!(newer.pruned, vec![older], "only now, with the new one verified, does the older one go");
    assert_eq!(backup_status(&clinic).warnings, vec![]);
}

/// Every file under `dir`, for comparing before and after.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            out.extend(listing(&entry.path()).into_iter().map(|n| format!("{name}/{n}")));
        } else if !name.starts_with("galen.db-") {
            out.push(name);
        }
    }
    out.sort();
    out
}

/// A data folder on a disk that is read-only (a failing disk the kernel remounted, a locked SD card, a backup
/// drive mounted read-only): opening or saving says so and names the folder, and once the disk is writable again
/// everything saved is there.
#[test]
fn a_read_only_data_folder_gets_its_own_message_and_loses_nothing() {
    let Some(disk) = SmallDisk::mount("8m") else { return };
    let (vault, clinic, admin) = clinic_in(disk.path());
    let clerk = staff_session(&clinic, &admin, "rui", Role::Doctor);
    let saved = register(&clinic, &clerk, &patient("Saved", "Before")).expect("register");
    drop((clinic, admin, clerk));
    disk.remount("ro");
    match Clinic::open(vault.clone()) {
        Err(e) => {
            assert_eq!(e.code(), "read_only", "opening a read-only data folder: got {e:?}");
            assert!(e.to_string().contains(&vault.dir().display().to_string()), "names the folder: {e}");
            assert!(e.to_string().contains("read-only"), "{e}");
        }
        Ok(clinic) => {
            let err = register(&clinic, &clerk_of(&clinic), &patient("Not", "Saved")).expect_err("no writes");
            assert_eq!(err.code(), "read_only", "got {err:?}");
        }
    }
    disk.remount("rw");
    let clinic = Clinic::open(vault).expect("opens once writable");
    clinic.store().check_integrity().expect("intact");
    patients::get(&clinic, &clerk_of(&clinic), saved).expect("the patient saved before is there");
}

fn clerk_of(clinic: &Clinic) -> Session {
    clinic.login("rui", PASSWORD).expect("rui signs in")
}

/// A database file cut short (a copy that stopped half-way, a disk that lost its tail) is named in the message,
/// which says to restore a backup; nothing tries to work on it.
#[test]
fn a_truncated_database_is_named_and_refused() {
    let (fx, clinic, admin) = new_clinic();
    let clerk = staff_session(&clinic, &admin, "rui", Role::Doctor);
    for i in 0..30 {
        register(&clinic, &clerk, &patient(&format!("Given{i}"), "Family")).expect("register");
    }
    drop(clinic);
    let db = fx.vault.db_path();
    let len = std::fs::metadata(&db).expect("db").len();
    for cut in [len / 2, 4096 + 100, 10] {
        let f = std::fs::OpenOptions::new().write(true).open(&db).expect("open");
        f.set_len(cut).expect("truncate");
        drop(f);
        let err = Clinic::open(fx.vault.clone()).expect_err("a truncated database does not open");
        assert!(matches!(err.code(), "corrupted" | "not_galen_database"), "cut to {cut}: got {err:?}");
        let text = err.to_string();
        assert!(text.contains(&db.display().to_string()), "cut to {cut}: names the file: {text}");
        assert!(text.contains("backup"), "cut to {cut}: says to restore a backup: {text}");
    }
}

/// The write-ahead log deleted after a crash (someone "tidying" the folder) holds commits not yet copied into
/// the database: Galen refuses to open without it and says where it should be, instead of silently opening
/// the older state. Put back, everything is there.
#[test]
fn a_deleted_write_ahead_log_after_a_crash_is_named_and_nothing_is_silently_lost() {
    let (fx, clinic, admin) = new_clinic();
    let clerk = staff_session(&clinic, &admin, "rui", Role::Doctor);
    let ids: Vec<i64> = (0..5)
        .map(|i| register(&clinic, &clerk, &patient(&format!("Given{i}"), "Family")).expect("register"))
        .collect();
    let wal = fx.vault.dir().join("galen.db-wal");
    let shm = fx.vault.dir().join("galen.db-shm");
    // A crash: the process dies with the connection open, leaving the database file as it was at the last
    // checkpoint, and the log and its index beside it. Then the log is deleted.
    let db = fx.vault.db_path();
    let crashed = [&db, &wal, &shm].map(|p| std::fs::read(p).expect("the file exists while open"));
    drop(clinic);
    std::fs::write(&db, &crashed[0]).expect("as a crash leaves it");
    std::fs::write(&shm, &crashed[2]).expect("as a crash leaves it");
    let _ = std::fs::remove_file(&wal);
    let err = Clinic::open(fx.vault.clone()).expect_err("no log, no opening");
    assert_eq!(err.code(), "wal_missing", "got {err:?}");
    assert!(err.to_string().contains(&wal.display().to_string()), "names the missing file: {err}");

    std::fs::write(&wal, &crashed[1]).expect("put the log back");
    let (clinic, clerk) = reopen(&fx, "rui");
    clinic.store().check_integrity().expect("intact");
    for id in ids {
        patients::get(&clinic, &clerk, id).expect("every acknowledged patient is there");
    }
}

/// The write-ahead log deleted while the clinic is open: SQLite keeps writing to the file it holds open and copies
/// it into the database when the clinic closes, so every acknowledged patient is there at the next opening.
#[test]
fn a_write_ahead_log_deleted_while_the_clinic_is_open_loses_nothing() {
    let (fx, clinic, admin) = new_clinic();
    let clerk = staff_session(&clinic, &admin, "rui", Role::Doctor);
    let mut ids = vec![register(&clinic, &clerk, &patient("Before", "Deletion")).expect("register")];
    std::fs::remove_file(fx.vault.dir().join("galen.db-wal")).expect("delete the log under the open clinic");
    for i in 0..5 {
        ids.push(register(&clinic, &clerk, &patient(&format!("After{i}"), "Deletion")).expect("register"));
    }
    drop((clinic, clerk, admin));
    let (clinic, clerk) = reopen(&fx, "rui");
    clinic.store().check_integrity().expect("intact");
    for id in ids {
        patients::get(&clinic, &clerk, id).expect("every acknowledged patient is there");
    }
}
