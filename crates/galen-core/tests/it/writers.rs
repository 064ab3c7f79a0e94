//! Two writers on one data folder at once (the app and the CLI, or a system timer's backup and a person): every
//! write waits its turn and lands, nobody sees a "database is locked", and the audit chain stays one chain.

use crate::support::*;
use galen_core::{audit, patients, Clinic, Role, Vault};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const CHILD_DIR: &str = "GALEN_WRITER_CHILD_DIR";
const CHILD_USER: &str = "GALEN_WRITER_CHILD_USER";
/// Registrations per writer per round.
const WRITES: usize = 25;

/// The child's side: sign in, then register, read back (audited) and edit patients as fast as it can, saying
/// `ok NAME ID` after each commit returned or `err NAME MESSAGE` when one failed. Run only by the test below.
#[test]
#[ignore = "the child process of two_writers_at_once_both_land_every_write"]
fn writer_child() {
    let (Some(dir), Some(user)) = (std::env::var_os(CHILD_DIR), std::env::var(CHILD_USER).ok()) else { return };
    let clinic = Clinic::open(Vault::new(dir)).expect("child opens the store");
    let session = clinic.login(&user, PASSWORD).expect("child signs in");
    for i in 0..WRITES {
        let name = format!("{user}{i}");
        let wrote = register(&clinic, &session, &patient(&name, "Writer")).and_then(|id| {
            patients::get(&clinic, &session, id)?;
            patients::update(&clinic, &session, id, &patient(&name, "Written"))?;
            Ok(id)
        });
        match wrote {
            Ok(id) => println!("ok {name} {id}"),
            Err(e) => println!("err {name} {e}"),
        }
    }
}

#[test]
fn two_writers_at_once_both_land_every_write() {
    let (fx, clinic, admin) = new_clinic();
    for user in ["rui", "eva"] {
        staff_session(&clinic, &admin, user, Role::Receptionist);
    }
    drop(clinic);
    let mut landed = Vec::new();
    for round in 0..long_or(3, 100) {
        let children: Vec<_> = ["rui", "eva"]
            .into_iter()
            .map(|user| {
                Command::new(std::env::current_exe().expect("test binary"))
                    .args(["writers::writer_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                    .env(CHILD_DIR, fx.vault.dir())
                    .env(CHILD_USER, user)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("spawn a writer")
            })
            .collect();
        for mut child in children {
            let stdout = child.stdout.take().expect("stdout");
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest may print the test's name on the same line, before the child's first words.
                if let Some(at) = line.find("err ") {
                    panic!("round {round}: a writer's write failed: {}", &line[at..]);
                }
                if let Some(at) = line.find("ok ") {
                    let mut parts = line[at + 3..].split(' ');
                    let name = parts.next().expect("name").to_owned();
                    let id: i64 = parts.next().and_then(|s| s.parse().ok()).expect("id");
                    landed.push((id, name));
                }
            }
            assert!(child.wait().expect("reap").success(), "round {round}: a writer exited with an error");
        }
        assert_eq!(landed.len(), 2 * WRITES * (round + 1), "round {round}: every write was acknowledged");
    }

    let (clinic, admin) = reopen(&fx, ADMIN);
    clinic.store().check_integrity().expect("integrity_check is ok");
    let doctor = staff_session(&clinic, &admin, "dora", Role::Doctor);
    for (id, name) in &landed {
        let p = patients::get(&clinic, &doctor, *id).expect("an acknowledged patient is there");
        assert_eq!((&p.demographics.given_names, p.demographics.family_name.as_str()), (name, "Written"));
    }
    assert_eq!(patients::count(clinic.store()).expect("count"), landed.len() as i64, "no write landed twice");
    let chain = audit::verify(&clinic, &admin).expect("audit verify runs").expect("the audit chain is one chain");
    // Per write: a registration, a view and an edit; and each child's sign-in.
    assert!(chain.rows >= 3 * landed.len() as u64, "every write was audited: {} rows", chain.rows);
}
