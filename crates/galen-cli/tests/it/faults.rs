//! What `galen` says when the disk is full or the data folder belongs to another user: the real binary on a real
//! small file system (a tmpfs; mounting needs root, which CI has: elsewhere these tests print why and pass).

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// `mount -t tmpfs` of `size` on `dir`, or why not.
fn mount_tmpfs(dir: &Path, size: &str) -> Result<(), String> {
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

/// Fills `dir`'s disk with one file, until a write fails.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut f = std::fs::File::create(&filler).expect("filler");
    while f.write_all(&[0u8; 4096]).is_ok() {}
    filler
}

#[test]
fn registering_on_a_full_disk_says_the_disk_is_full_and_what_to_do() {
    let dir = tempfile::tempdir().expect("tmp");
    if let Err(why) = mount_tmpfs(dir.path(), "6m") {
        eprintln!("SKIPPED: cannot mount a small tmpfs here (needs root): {why}");
        return;
    }
    let _unmount = Unmount(dir.path());
    let data = dir.path().join("clinic");
    init(&data);
    ok(add_user(
        &data,
        &["--username", "rita", "--name", "Rita Reis", "--role", "receptionist"],
        "front desk password 1",
    ));
    let desk = |given: &str| {
        galen(
            &data,
            &["--user", "rita", "patient", "add", "--given", given, "--family", "Reis", "--dob", "1975-06-01"],
            "front desk password 1\n",
        )
    };
    ok(desk("Before"));
    let filler = fill(dir.path());
    let err = fails(desk("During"));
    assert!(err.contains("is full") && err.contains("nothing that was saved before is lost"), "{err}");
    assert!(err.contains("Free some space"), "the next step: {err}");
    assert!(!err.contains("Error code") && !err.contains("disk I/O error"), "no SQLite jargon: {err}");

    std::fs::remove_file(filler).expect("free the space");
    ok(desk("After"));
    let found = ok(galen(&data, &["--user", "rita", "patient", "search", "Reis"], "front desk password 1\n"));
    assert!(found.contains("Before") && found.contains("After"), "{found}");
}

/// A data folder copied or restored by root (or another account) is not Galen's to open: the message names the
/// file, who owns it, who Galen runs as, and the command that gives it back. It never offers to set up anew.
#[test]
fn a_data_folder_owned_by_another_user_names_the_owner_and_the_fix() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("clinic");
    init(&data);
    // Galen runs as `nobody`, who owns the folder around the data folder, but not the data folder (root's).
    let chown = Command::new("chown").arg("65534").arg(dir.path()).status().expect("chown runs");
    let setpriv = Command::new("setpriv").arg("--version").output();
    if !chown.success() || setpriv.is_err() {
        eprintln!("SKIPPED: needs root and setpriv to run galen as another user");
        return;
    }
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_galen"))
        .arg("--data-dir")
        .arg(&data)
        .args(["--user", "ana", "patient", "search", "x"])
        .env("HOME", dir.path())
        .output()
        .expect("galen runs as nobody");
    let err = fails(out);
    assert!(err.contains(&data.display().to_string()), "names the data folder: {err}");
    assert!(err.contains("belongs to root") && err.contains("runs as nobody"), "who owns it, who runs: {err}");
    assert!(err.contains(&format!("chown -R nobody {}", data.display())), "the command that fixes it: {err}");
    assert!(!err.contains("galen init"), "never offers to set up a new clinic: {err}");
}
