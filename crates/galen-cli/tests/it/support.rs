use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub const PASSWORD: &str = "correct horse battery staple";

/// Runs `galen --data-dir DIR ARGS…`, feeding `stdin` line by line, with extra environment.
pub fn galen_env(dir: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a real Secret Service: run them via scripts/with-test-keyring (see README)"
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_galen"));
    cmd.arg("--data-dir").arg(dir).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn galen");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("galen runs")
}

pub fn galen(dir: &Path, args: &[&str], stdin: &str) -> Output {
    galen_env(dir, args, stdin, &[])
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "galen failed:\nstdout: {}\nstderr: {}", stdout(&o), stderr(&o));
    stdout(&o)
}

#[track_caller]
pub fn fails(o: Output) -> String {
    assert!(!o.status.success(), "galen should have failed:\nstdout: {}", stdout(&o));
    assert!(!stderr(&o).contains("panicked"), "a failure must never be a panic: {}", stderr(&o));
    stderr(&o)
}

/// Runs a command signed in as the admin `ana` (the password is fed first, then `stdin`).
pub fn as_admin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut full = vec!["--user", "ana"];
    full.extend_from_slice(args);
    galen(dir, &full, &format!("{PASSWORD}\n{stdin}"))
}

/// `galen user add ARGS…` as the admin, giving the new account's password twice.
pub fn add_user(dir: &Path, args: &[&str], password: &str) -> Output {
    let mut full = vec!["user", "add"];
    full.extend_from_slice(args);
    as_admin(dir, &full, &format!("{password}\n{password}\n"))
}

/// Sets up a clinic and returns the recovery key that `init` printed.
pub fn init(dir: &Path) -> String {
    let out = ok(galen(
        dir,
        &["init", "--site", "Clínica Sol", "--admin", "ana", "--name", "Ana Lima"],
        &format!("{PASSWORD}\n{PASSWORD}\n"),
    ));
    out.lines()
        .map(str::trim)
        .find(|l| l.len() == 39 && l.matches('-').count() == 7)
        .expect("init prints the recovery key in groups of four")
        .to_owned()
}

/// `rx line add 1 …`: 500 mg of `medicament` by mouth every 8 hours for 7 days, 21 of them.
pub fn rx_line(medicament: &str) -> Vec<&str> {
    let mut args = vec!["rx", "line", "add", "1", "--medicament", medicament, "--dose", "500", "--unit", "mg"];
    args.extend(["--quantity", "21", "--every", "8", "--duration", "7"]);
    args
}
