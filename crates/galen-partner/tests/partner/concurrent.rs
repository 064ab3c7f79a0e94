//! The app's background sync writing received records while a person registers patients in the same app (issue 25,
//! item 1): the app shares one clinic between the two behind a lock (`sync::Db`), and sync takes it one short step
//! at a time. Every registration lands without an error, every record that arrived is applied, and the audit chain
//! is one chain.

use crate::support::*;
use galen_core::patients::{self, Demographics, NewPatient};
use galen_core::sync::{self, Db, Trigger};
use galen_core::{audit, Clinic, Error};
use std::sync::{Arc, Mutex};

/// The app's state as far as sync sees it: the clinic behind a lock.
struct App(Mutex<Clinic>);

impl Db for App {
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error> {
        f(&self.0.lock().expect("not poisoned"))
    }
}

#[test]
fn background_sync_applies_what_arrives_while_a_person_registers_and_both_land() {
    const ARRIVING: usize = 120;
    const REGISTERED: usize = 40;
    let partner = new_partner();
    let (mar, sol) = (new_clinic("Clínica Mar"), new_clinic("Clínica Sol"));
    partner.pair(&mar.clinic, &mar.admin);
    partner.pair(&sol.clinic, &sol.admin);
    let serving = partner.serve(true);
    let url = format!("https://{}", serving.addr);
    mar.pair_with(&partner, &url);
    sol.pair_with(&partner, &url);
    for i in 0..ARRIVING {
        mar.register(&format!("Marta{i}"), "Mar", true);
    }
    assert_eq!(mar.sync().pushed, ARRIVING);

    let ClinicDir { _dir, clinic, doctor, admin, .. } = sol;
    let app = Arc::new(App(Mutex::new(clinic)));
    let background = {
        let app = app.clone();
        std::thread::spawn(move || {
            let mut pulled = 0;
            for _ in 0..50 {
                let report = sync::run(&*app, Trigger::Background).expect("the background sync never fails here");
                pulled += report.pulled;
                if pulled >= ARRIVING {
                    break;
                }
            }
            (pulled, std::time::Instant::now())
        })
    };
    let mut registered = Vec::new();
    for i in 0..REGISTERED {
        let p = NewPatient {
            demographics: Demographics {
                given_names: format!("Sofia{i}"),
                family_name: "Sol".into(),
                date_of_birth: "1990-01-01".into(),
                ..Default::default()
            },
            clinical: None,
        };
        let id = app
            .with(|c| patients::register(c, &doctor, &p, true))
            .unwrap_or_else(|e| panic!("registration {i} while sync runs: {e}"))
            .id;
        registered.push((id, std::time::Instant::now()));
    }
    let (pulled, sync_done) = background.join().expect("the background sync thread");
    assert_eq!(pulled, ARRIVING, "every record Mar sent was applied");
    assert_eq!(registered.len(), REGISTERED);
    assert!(registered[0].1 < sync_done, "the person registered while the sync was still running");

    app.with(|c| {
        c.store().check_integrity()?;
        let everyone = patients::count(c.store())?;
        assert_eq!(everyone, (ARRIVING + REGISTERED) as i64, "both kinds of write are all there");
        for (id, _) in &registered {
            assert!(patients::get(c, &doctor, *id)?.demographics.given_names.starts_with("Sofia"));
        }
        let verified = audit::verify(c, &admin)?;
        assert!(verified.is_ok(), "one audit chain: {verified:?}");
        Ok(())
    })
    .expect("the clinic reads back");
}
