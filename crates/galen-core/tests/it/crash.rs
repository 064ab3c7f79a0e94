//! Durability under SIGKILL: every write Galen acknowledged survives, and the file stays intact.

use crate::support::*;
use galen_core::{Clinic, Role, Vault};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CHILD_ENV: &str = "GALEN_CRASH_CHILD_DIR";

/// Kills: a few dozen in the default run, 100 with `GALEN_LONG=1` (README, "Long runs").
fn kills() -> usize {
    if std::env::var_os("GALEN_LONG").is_some_and(|v| v == "1") {
        100
    } else {
        24
    }
}

/// The child's side: register patients forever, printing each id only after its commit returned.
/// Run only as a child of the test below (it returns at once otherwise).
#[test]
#[ignore = "the child process of acknowledged_writes_survive_sigkill"]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let clinic = Clinic::open(Vault::new(dir)).expect("child opens the store");
    let session = clinic.login("rui", PASSWORD).expect("child signs in");
    println!("ready");
    for i in 0.. {
        let id = register(&clinic, &session, &patient(&format!("Crash {i}"), "Test")).expect("register");
        println!("ack {id} {i}");
    }
}

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("rng");
    u64::from_le_bytes(b) % n
}

#[test]
fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let (fx, clinic, admin) = new_clinic();
    staff_session(&clinic, &admin, "rui", Role::Doctor);
    drop(clinic);
    let mut acked: Vec<(i64, String)> = Vec::new();
    for round in 0..kills() {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args(["crash::crash_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, fx.vault.dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (seen, ready) = (Arc::clone(&seen), Arc::clone(&ready));
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    // libtest prints the test's name on the same line, before the child's first words.
                    if line.ends_with("ready") {
                        ready.store(true, std::sync::atomic::Ordering::SeqCst);
                    } else if let Some(rest) = line.strip_prefix("ack ") {
                        let mut parts = rest.split(' ');
                        let id: i64 = parts.next().and_then(|s| s.parse().ok()).expect("id");
                        let i = parts.next().expect("counter").to_owned();
                        seen.lock().expect("lock").push((id, format!("Crash {i}")));
                    }
                }
            })
        };
        // Opening and signing in take long on a loaded machine: the random moment counts from when the child is
        // writing (the first round waits for its first acknowledged write, so the test is never vacuous).
        let started = std::time::Instant::now();
        let writing = || match round {
            0 => !seen.lock().expect("lock").is_empty(),
            _ => ready.load(std::sync::atomic::Ordering::SeqCst),
        };
        while !writing() && started.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(random_below(400)));
        child.kill().expect("SIGKILL the child"); // Child::kill sends SIGKILL on Unix
        child.wait().expect("reap");
        reader.join().expect("reader");
        let round_acks = seen.lock().expect("lock").clone();
        assert!(!round_acks.is_empty() || round > 0, "the child must have written something before the first kill");
        acked.extend(round_acks);

        let clinic = Clinic::open(fx.vault.clone()).expect("reopen after SIGKILL");
        clinic.store().check_integrity().expect("integrity_check is ok after every kill");
        drop(clinic);
        // Read everything back in one query, key in hand (reading through the API would audit each view).
        let stored: HashMap<i64, String> = raw_connection(&fx)
            .prepare("SELECT id, given_names FROM patients")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .expect("read patients");
        for (id, name) in &acked {
            assert_eq!(stored.get(id), Some(name), "acknowledged patient {id} survives with what was written");
        }
    }
    let kills = kills();
    assert!(acked.len() > kills, "the children acknowledged {} writes over {kills} kills", acked.len());
}
