//! `galen bench search`: registry search latency on a seeded clinic, against an unencrypted copy of the same
//! data in the same run (so the ratio is fair on a noisy machine), and registration commit latency.

use super::seed;
use crate::clinic::{Clinic, Setup};
use crate::error::Error;
use crate::patients::{self, search, NewPatient};
use crate::staff::{self, NewStaff};
use crate::{Role, Vault};
use std::path::Path;
use std::time::{Duration, Instant};

/// Latency percentiles of one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        Stats { p50: at(0.50), p95: at(0.95), p99: at(0.99) }
    }
}

/// One kind of search query, on both databases.
#[derive(Debug, Clone)]
pub struct QueryRow {
    /// What was searched: name prefix, MRN or phone.
    pub kind: &'static str,
    /// On the SQLCipher store.
    pub encrypted: Stats,
    /// On an unencrypted copy of the same data.
    pub plain: Stats,
}

impl QueryRow {
    /// SQLCipher p95 over plain-SQLite p95.
    pub fn ratio_p95(&self) -> f64 {
        self.encrypted.p95.as_secs_f64() / self.plain.p95.as_secs_f64().max(1e-9)
    }
}

/// What `search` measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Patients seeded.
    pub patients: u64,
    /// How long seeding took.
    pub seed_time: Duration,
    /// Each kind of query.
    pub queries: Vec<QueryRow>,
    /// Registration commits, as Galen makes them.
    pub commit: Stats,
    /// The same with no checkpoint inside a save (SQLite's automatic one off), in the same run.
    pub without_checkpoints: Stats,
}

const STAFF_PASSWORD: &str = "benchmark staff passphrase";

/// A new clinic under `dir` (the keyring is not needed: the benchmark keeps it open) and a signed-in account
/// `username` with `role`.
fn clinic_with(dir: &Path, username: &str, role: Role) -> Result<(Clinic, crate::Session), Error> {
    let setup = Setup {
        site_name: "Benchmark Clinic".into(),
        admin_username: "bench-admin".into(),
        admin_display_name: "Benchmark Admin".into(),
        admin_password: "benchmark admin passphrase".into(),
    };
    let clinic = Clinic::create(Vault::new(dir.join("clinic")), &setup)?.clinic;
    let admin = clinic.login("bench-admin", "benchmark admin passphrase")?;
    let account = NewStaff {
        username: username.into(),
        display_name: format!("Benchmark {role}"),
        role,
        licence_number: (role == Role::Doctor).then(|| "B-1".into()),
        password: STAFF_PASSWORD.into(),
    };
    staff::add(&clinic, &admin, &account)?;
    let session = clinic.login(username, STAFF_PASSWORD)?;
    Ok((clinic, session))
}

/// A new clinic under `dir` with its admin and a doctor signed in, for benchmarks built outside this crate
/// (`galen bench sync` needs the partner server too).
pub fn clinic_with_admin_and_doctor(dir: &Path) -> Result<(Clinic, crate::Session, crate::Session), Error> {
    let (clinic, doctor) = clinic_with(dir, "bench-doc", Role::Doctor)?;
    let admin = clinic.login("bench-admin", "benchmark admin passphrase")?;
    Ok((clinic, admin, doctor))
}

/// Seeds `patients` into a new clinic under `dir`, copies it unencrypted, and times `samples` queries of each
/// kind on both, interleaved. `dir` must be empty; it holds both databases afterwards.
pub fn search(dir: &Path, patients: u64, samples: usize) -> Result<Report, Error> {
    let (clinic, session) = clinic_with(dir, "bench-desk", Role::Receptionist)?;
    let started = Instant::now();
    seed::seed(&clinic, &session, patients, 42)?;
    let seed_time = started.elapsed();

    let plain_path = dir.join("plain.db");
    clinic.store().export_plain(&plain_path)?;
    let plain = rusqlite::Connection::open(&plain_path)?;
    plain.pragma_update(None, "cache_size", -65536)?; // the same cache as the store, for a fair ratio
    let encrypted = clinic.store().conn();

    // Queries drawn from the seeded people themselves, spread over the whole table.
    let year = clinic.now().year();
    let step = (patients / samples as u64).max(1);
    let prefix = crate::settings::table::mrn_prefix(encrypted)?;
    let (mut names, mut mrns, mut phones) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..samples as u64 {
        let i = (k * step) % patients + 1;
        let (d, _) = seed::synthetic(42, i, year);
        let family: String = d.family_name.chars().take(4).collect();
        let given: String = d.given_names.chars().take(2).collect();
        names.push(format!("{family} {given}"));
        mrns.push(crate::mrn::format(&prefix, i));
        phones.push(d.phones[0].clone());
    }
    let mut queries = Vec::new();
    for (kind, list) in [("name prefix", &names), ("MRN", &mrns), ("phone", &phones)] {
        let (mut enc, mut pla) = (Vec::new(), Vec::new());
        for q in list {
            for (conn, into) in [(encrypted, &mut enc), (&plain, &mut pla)] {
                let t = Instant::now();
                let page = search::run(conn, q, 0, 20)?;
                into.push(t.elapsed());
                if page.results.is_empty() {
                    return Err(Error::invalid("benchmark", format!("the query {q:?} ({kind}) found nobody")));
                }
            }
        }
        queries.push(QueryRow { kind, encrypted: Stats::of(enc), plain: Stats::of(pla) });
    }

    // Registrations as Galen commits them (SQLite's automatic checkpoint every 1,000 pages), then, in the same run,
    // with no checkpoint inside a save (the log left for a checkpoint elsewhere): the commit tail's experiment.
    let register = |from: u64, autocheckpoint: u32| -> Result<Stats, Error> {
        clinic.store().checkpoint_then_autocheckpoint(autocheckpoint)?;
        let mut commits = Vec::new();
        for i in from..from + samples.min(500) as u64 {
            let (mut d, _) = seed::synthetic(4242, i, year);
            d.national_id.clear(); // the seeded people hold these numbers already
            let t = Instant::now();
            patients::register(&clinic, &session, &NewPatient { demographics: d, clinical: None }, true)?;
            commits.push(t.elapsed());
        }
        Ok(Stats::of(commits))
    };
    let commit = register(0, 1000)?;
    let without_checkpoints = register(1_000_000, 0)?;
    clinic.store().checkpoint_then_autocheckpoint(1000)?;
    Ok(Report { patients, seed_time, queries, commit, without_checkpoints })
}

/// Signature latency: canonical bytes plus the OpenPGP signature, the password KDF excluded (the key is
/// unlocked once, as a doctor's session would after the password is typed), and a whole `documents::sign`
/// (password check and key unlock included) for reference. `sign_and_render` adds the QR summary's signature
/// and the printed PDF (layout, font subsetting, attachments) to `signing`, sample for sample.
#[derive(Debug, Clone)]
pub struct SignReport {
    /// Canonical JSON and the signature, the password's key derivation excluded.
    pub signing: Stats,
    /// The same plus the QR signature and the PDF.
    pub sign_and_render: Stats,
    /// The whole sign operation, password check and key unlock included.
    pub with_kdf: Stats,
}

/// A ready-to-sign prescription issued on `today`: one line per medicine, 500 mg by mouth every 8 hours for 7
/// days (the benchmarks sign it; tests elsewhere use it as a typical prescription).
pub fn prescription(today: &str, medicines: &[&str]) -> crate::documents::Body {
    use crate::documents::{Body, Prescription, RxLine};
    let line = |m: &&str| RxLine {
        medicament: (*m).into(),
        dose: "500".into(),
        dose_unit: "mg".into(),
        route: "by mouth".into(),
        quantity: 21,
        frequency: 8,
        frequency_unit: "hours".into(),
        duration: 7,
        duration_period: "days".into(),
        valid_until: today.into(),
        ..Default::default()
    };
    Body::Prescription(Prescription {
        issued_on: today.into(),
        lines: medicines.iter().map(line).collect(),
        ..Default::default()
    })
}

/// Times signing a three-line prescription `samples` times in a throwaway clinic under `dir`.
pub fn sign(dir: &Path, samples: usize) -> Result<SignReport, Error> {
    use crate::documents::{self, SignerSnapshot};
    let (clinic, doctor) = clinic_with(dir, "bench-doc", Role::Doctor)?;
    let pw = STAFF_PASSWORD;
    let (d, _) = seed::synthetic(1, 1, clinic.now().year());
    let patient = patients::register(&clinic, &doctor, &NewPatient { demographics: d, clinical: None }, true)?;
    let today = clinic.now().date().to_string();
    let body = prescription(&today, &["Amoxicillin", "Paracetamol", "Ibuprofen"]);
    let mut with_kdf = Vec::new();
    for _ in 0..samples.min(50) {
        let draft = documents::create_draft(&clinic, &doctor, patient.id, body.clone())?;
        let t = Instant::now();
        documents::sign(&clinic, &doctor, draft.id, pw, true)?;
        with_kdf.push(t.elapsed());
    }
    let conn = clinic.store().conn();
    let staff_id = crate::staff::table::find(conn, "bench-doc")?.map(|m| m.id).unwrap_or_default();
    let (fingerprint, armored) = crate::signing::active_key(conn, staff_id)?
        .ok_or_else(|| Error::invalid("benchmark", "the benchmark doctor has no key after signing"))?;
    let snapshot = crate::documents::PatientSnapshot {
        mrn: patient.mrn.clone(),
        given_names: patient.demographics.given_names.clone(),
        family_name: patient.demographics.family_name.clone(),
        date_of_birth: patient.demographics.date_of_birth.clone(),
    };
    let signer = SignerSnapshot { name: "Benchmark doctor".into(), licence: "B-1".into(), fingerprint };
    let settings = crate::settings::load(clinic.store())?;
    let public_key = crate::signing::public_key(conn, &signer.fingerprint)?;
    let (mut signing, mut sign_and_render) = (Vec::new(), Vec::new());
    // A signing time as documents::sign records it (the QR's signature is dated from it).
    let signed_at = clinic.now_rfc3339();
    for _ in 0..samples {
        let keypair = crate::signing::unlock(&armored, pw)?
            .ok_or_else(|| Error::invalid("benchmark", "the benchmark doctor's key did not unlock"))?;
        let t = Instant::now();
        let uuid = uuid::Uuid::now_v7().to_string();
        let bytes = documents::Canonical {
            schema: body.schema(),
            document: &uuid,
            clinic: "Benchmark Clinic",
            patient: &snapshot,
            signer: &signer,
            signed_at: &signed_at,
            supersedes: None,
            body: &body,
        }
        .bytes();
        let signature = crate::signing::sign_with(keypair.clone(), &bytes)?;
        signing.push(t.elapsed());
        let texts: Vec<String> = documents::qr_texts(keypair, &bytes)?.lines().map(str::to_owned).collect();
        let signed: documents::Signed = serde_json::from_slice(&bytes)
            .map_err(|_| Error::invalid("benchmark", "the benchmark document does not read back"))?;
        let qr = documents::qr::check_printed(&signed, &bytes, &texts, &public_key)
            .map_err(|e| Error::invalid("benchmark", e.to_string()))?;
        let parts = documents::SignedParts {
            canonical: String::from_utf8_lossy(&bytes).into_owned(),
            signature,
            public_key: public_key.clone(),
            qr,
        };
        let pdf = crate::pdf::signed_document(&settings, &parts, &crate::pdf::Standing::Current)?;
        sign_and_render.push(t.elapsed());
        std::hint::black_box(pdf);
    }
    Ok(SignReport {
        signing: Stats::of(signing),
        sign_and_render: Stats::of(sign_and_render),
        with_kdf: Stats::of(with_kdf),
    })
}

/// What `book` measured: the week view with only that week booked, then with years of history behind it.
#[derive(Debug, Clone)]
pub struct BookReport {
    /// Appointments stored in the end.
    pub appointments: u64,
    /// How long storing the history took.
    pub seed_time: Duration,
    /// The whole clinic's week, that week alone in the book (the baseline).
    pub week_alone: Stats,
    /// The same week with the history stored.
    pub week_with_history: Stats,
}

impl BookReport {
    /// With history over alone, at p95.
    pub fn ratio_p95(&self) -> f64 {
        self.week_with_history.p95.as_secs_f64() / self.week_alone.p95.as_secs_f64().max(1e-9)
    }
}

/// The appointment book's week view for `doctors` doctors and `per_week` visits a week: timed `samples` times with
/// only this week booked, then again after `weeks` earlier weeks as full are stored. Visits are stored directly
/// (no checks, no audit rows): what is timed is reading them back, patients and doctors named.
pub fn book(dir: &Path, doctors: u32, per_week: u32, weeks: u32, samples: usize) -> Result<BookReport, Error> {
    use crate::appointments::{self, table};
    let (clinic, desk) = clinic_with(dir, "bench-desk", Role::Receptionist)?;
    let admin = clinic.login("bench-admin", "benchmark admin passphrase")?;
    let mut doctor_ids = Vec::new();
    for n in 0..doctors {
        let account = NewStaff {
            username: format!("bench-doc-{n}"),
            display_name: format!("Benchmark Doctor {n}"),
            role: Role::Doctor,
            licence_number: Some(format!("B-{n}")),
            password: STAFF_PASSWORD.into(),
        };
        doctor_ids.push(staff::add(&clinic, &admin, &account)?.id);
    }
    let patients = seed::seed(&clinic, &desk, 2_000, 42)?;
    let today: jiff::civil::Date =
        appointments::today(&clinic)?.parse().map_err(|_| Error::invalid("benchmark", "today"))?;
    let monday = today - jiff::Span::new().days(i64::from(today.weekday().to_monday_zero_offset()));
    // One week's visits from its Monday: six days, 08:00 to 18:00, ten-minute visits spread over the doctors.
    let store_week = |monday: jiff::civil::Date, tx: &rusqlite::Connection| -> Result<(), Error> {
        for i in 0..per_week {
            let day = monday + jiff::Span::new().days(i64::from(i % 6));
            let minute = i64::from((i / 6) * 10 % 600);
            let starts = day.to_datetime(jiff::civil::Time::constant(8, 0, 0, 0)) + jiff::Span::new().minutes(minute);
            let ends = starts + jiff::Span::new().minutes(10);
            let (s, e) = (starts.strftime("%Y-%m-%dT%H:%M").to_string(), ends.strftime("%Y-%m-%dT%H:%M").to_string());
            let slot = table::Slot {
                patient_id: 1 + i64::from(i) % patients as i64,
                doctor_id: doctor_ids[i as usize % doctor_ids.len()],
                starts: &s,
                ends: &e,
                reason: "Follow-up",
                reason_clinical: false,
            };
            table::insert(tx, &slot, None, "2026-01-01T00:00:00.000Z")?;
        }
        Ok(())
    };
    clinic.store().write(|tx| store_week(monday, tx))?;
    let from = monday.to_string();
    let time_week = || -> Result<Stats, Error> {
        let mut taken = Vec::new();
        for _ in 0..samples {
            let t = Instant::now();
            let week = appointments::calendar(&clinic, &desk, &from, 7, None)?;
            taken.push(t.elapsed());
            let seen: usize = week.iter().flat_map(|d| &d.columns).map(|c| c.appointments.len()).sum();
            if seen != per_week as usize {
                return Err(Error::invalid("benchmark", format!("the week shows {seen} of {per_week} visits")));
            }
        }
        Ok(Stats::of(taken))
    };
    let week_alone = time_week()?;
    let started = Instant::now();
    for w in 1..=weeks {
        let earlier = monday - jiff::Span::new().days(7 * i64::from(w));
        clinic.store().write(|tx| store_week(earlier, tx))?;
    }
    let seed_time = started.elapsed();
    let week_with_history = time_week()?;
    Ok(BookReport {
        appointments: u64::from(per_week) * (u64::from(weeks) + 1),
        seed_time,
        week_alone,
        week_with_history,
    })
}
