//! The partner under load (issue 17): many clinics register, push and pull at once for a while, through proxies that
//! cut connections mid-request and before the answer; then everyone syncs to the end. Nothing is lost and nothing
//! is duplicated, the partner's memory stays bounded, and the p95 of a sync run is reported. The second test kills
//! the partner (SIGKILL) mid-run and starts it again on the same port.
//!
//! Everyday run: 6 clinics for 8 s. `GALEN_LONG=1`: 50 clinics for 60 s (README, "Long runs").

use crate::support::*;
use galen_core::patients::{self, Demographics, NewPatient};
use galen_core::sync::{self, Trigger};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A consenting patient, so every clinic's partner relays them to all the others.
fn form(given: &str) -> NewPatient {
    NewPatient {
        demographics: Demographics {
            given_names: given.into(),
            family_name: "Carga".into(),
            date_of_birth: "1980-02-29".into(),
            consent_share: true,
            ..Default::default()
        },
        clinical: None,
    }
}

/// Syncs until a run succeeds with `done` true of it, retrying through cut connections and a partner that is down
/// or busy; every failure must say nothing was lost.
fn sync_until(c: &ClinicDir, done: impl Fn(&sync::Report, &ClinicDir) -> bool) {
    let started = Instant::now();
    loop {
        match sync::run(&c.clinic, Trigger::Background) {
            Ok(r) if done(&r, c) => return,
            Ok(_) => {}
            Err(e) => {
                assert!(e.to_string().contains("Nothing was lost"), "{e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        assert!(started.elapsed() < Duration::from_secs(600), "sync never finished");
    }
}

/// Runs `f` for every clinic at once, each on its own thread (a clinic is used by one thread at a time).
fn in_parallel(sites: Vec<ClinicDir>, f: impl Fn(usize, &ClinicDir) + Sync) -> Vec<ClinicDir> {
    std::thread::scope(|s| {
        let f = &f;
        let running: Vec<_> = sites
            .into_iter()
            .enumerate()
            .map(|(k, c)| {
                s.spawn(move || {
                    f(k, &c);
                    c
                })
            })
            .collect();
        running.into_iter().map(|h| h.join().expect("a clinic's thread")).collect()
    })
}

fn p95(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[(samples.len() * 95 / 100).min(samples.len() - 1)]
}

fn load(restart_midway: bool) {
    let (clinics, seconds) = (long_or(6, 50), long_or(8, 60) as u64);
    let partner = BinaryPartner::init("Hospital Central");
    // Names that give each clinic its own MRN prefix (AAQ, ABQ, …).
    let name = |i: usize| format!("{}{}Q Saúde", (b'A' + (i / 26) as u8) as char, (b'A' + (i % 26) as u8) as char);
    let sites: Vec<ClinicDir> = std::thread::scope(|s| {
        let made: Vec<_> = (0..clinics).map(|i| s.spawn(move || new_clinic(&name(i)))).collect();
        made.into_iter().map(|h| h.join().expect("a clinic")).collect()
    });
    for c in &sites {
        partner.pair(c);
    }
    let server = Mutex::new(Some(partner.serve()));
    let upstream = format!("127.0.0.1:{}", partner.port).parse().expect("addr");
    let plan = vec![Cut::Pass, Cut::MidRequest(3_000), Cut::Pass, Cut::BeforeAnswer, Cut::Pass, Cut::Pass];
    let file = partner.run(&["pairing-file"]);
    for c in &sites {
        let (proxy, _) = cutting_proxy(upstream, plan.clone());
        c.pair_with_file(&file, &format!("https://{proxy}"));
    }

    // Each clinic registers a patient about once a second and syncs, until the time is up.
    let (latencies, failures, peak) = (Mutex::new(Vec::new()), Mutex::new(0usize), Mutex::new(0u64));
    let registered = Mutex::new(0usize);
    let stop = AtomicBool::new(false);
    let (latencies, failures, registered, stop) = (&latencies, &failures, &registered, &stop);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let sites = std::thread::scope(|s| {
        // The partner's memory, sampled; and, halfway, a SIGKILL and a restart on the same port.
        s.spawn(|| {
            let mut restarted = !restart_midway;
            while Instant::now() < deadline {
                if let Some(pid) = server.lock().expect("lock").as_ref().map(|s| s.pid().to_string()) {
                    let mut p = peak.lock().expect("lock");
                    *p = (*p).max(memory(&pid, "VmRSS"));
                }
                if !restarted && Instant::now() + Duration::from_secs(seconds / 2) > deadline {
                    let mut guard = server.lock().expect("lock");
                    drop(guard.take()); // SIGKILL
                    std::thread::sleep(Duration::from_secs(2));
                    *guard = Some(partner.serve());
                    restarted = true;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            stop.store(true, Ordering::SeqCst);
        });
        in_parallel(sites, |k, c| {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                patients::register(&c.clinic, &c.doctor, &form(&format!("C{k}P{i}")), true).expect("register");
                *registered.lock().expect("lock") += 1;
                i += 1;
                let t = Instant::now();
                match sync::run(&c.clinic, Trigger::Background) {
                    Ok(_) => latencies.lock().expect("lock").push(t.elapsed()),
                    Err(e) => {
                        assert!(e.to_string().contains("Nothing was lost"), "{e}");
                        *failures.lock().expect("lock") += 1;
                    }
                }
                std::thread::sleep(Duration::from_millis(700 + (k as u64 * 37) % 300));
            }
        })
    });

    // Then everyone pushes what is left, and after that pulls until nothing more arrives.
    let sites = in_parallel(sites, |_, c| sync_until(c, |_, c| c.status().pending == 0));
    let sites = in_parallel(sites, |_, c| sync_until(c, |r, _| r.pulled == 0));
    let total = *registered.lock().expect("lock");
    let latencies = latencies.lock().expect("lock").clone();
    let failures = *failures.lock().expect("lock");
    let (records, rejections) = {
        let key = galen_partner::key::DbKey::read(&partner.path("partner.db.key")).expect("key");
        let partner_now = galen_partner::store::Partner::load(
            galen_partner::store::open_db(&partner.path("partner.db"), &key).expect("db"),
            true,
        )
        .expect("load");
        partner_now.counts().expect("counts")
    };
    assert_eq!(records as usize, total, "the partner holds every patient once: 0 lost, 0 duplicated");
    assert_eq!(rejections, 0, "nothing refused");
    for c in &sites {
        let here = patients::count(c.clinic.store()).expect("count") as usize;
        assert_eq!(here, total, "{} has every clinic's patients once", c.clinic.vault().dir().display());
    }
    let peak = peak.into_inner().expect("lock");
    assert!(failures > 0, "the proxies cut some runs short");
    assert!(peak < 512 * MIB, "the partner's memory stays bounded: {} MiB", peak / MIB);
    eprintln!(
        "load{}: {clinics} clinics, {seconds} s, {total} patients, {} runs ok (p95 {:?}), {failures} cut or refused, \
         partner peak RSS {} MiB",
        if restart_midway { " with a partner restart" } else { "" },
        latencies.len(),
        p95(latencies.clone()),
        peak / MIB
    );
}

#[test]
fn many_clinics_at_once_through_cut_connections_lose_and_duplicate_nothing() {
    load(false);
}

#[test]
fn the_partner_killed_and_restarted_mid_run_loses_and_duplicates_nothing() {
    load(true);
}
