//! `galen bench sync`: push throughput from a real clinic to a real partner server over mTLS on loopback, and
//! pull throughput of a second clinic receiving all of it through the partner's relay, against a baseline
//! measured in the same run: sealing and opening the same number of envelopes in memory.

use anyhow::Result;
use galen_core::dev::{bench, seed};
use galen_core::{site, sync};
use galen_partner::key::DbKey;
use galen_partner::rate::RateLimit;
use galen_partner::{store, tls};
use galen_proto::certs::{self, Leaf};
use galen_proto::envelope::{self, Kind, Meta, OwnKey, PeerKey, Plaintext};
use galen_proto::pairing::PairingFile;
use std::sync::Arc;
use std::time::Instant;

pub fn run(records: u64) -> Result<()> {
    let temp = tempfile::tempdir()?;
    let (clinic, admin, doctor) = bench::clinic_with_admin_and_doctor(&temp.path().join("clinic"))?;
    site::init(&clinic, &admin)?;

    // Seed just enough synthetic patients for `records` of them to have consented to sharing.
    let year = clinic.now().year();
    let mut needed = 0;
    let mut consented = 0;
    while consented < records {
        needed += 1;
        consented += u64::from(seed::synthetic(1, needed, year).0.consent_share);
    }
    eprintln!("Seeding {needed} patients ({records} consented) …");
    seed::seed(&clinic, &doctor, needed, 1)?;

    // The partner, paired both ways, serving on 127.0.0.1.
    let partner_db = temp.path().join("partner.db");
    let issued = certs::issue(
        "Bench partner CA",
        "Bench partner",
        Leaf::Server { hosts: vec!["127.0.0.1".into()] },
        clinic.now(),
    )?;
    let conn = store::open_db(&partner_db, &DbKey::random()?)?;
    store::init(&conn, "Bench partner", &issued.ca_cert, &issued.ca_key)?;
    let clinic_file = site::pairing_file(&clinic, &admin)?;
    store::pair(&conn, &clinic_file, &clinic_file.safety_number)?;
    // A second laptop of the same office, which receives everything through the relay.
    let (reader, reader_admin, _) = bench::clinic_with_admin_and_doctor(&temp.path().join("reader"))?;
    site::init(&reader, &reader_admin)?;
    let reader_file = site::pairing_file(&reader, &reader_admin)?;
    store::pair(&conn, &reader_file, &reader_file.safety_number)?;
    let partner_file = serde_json::to_string(&store::pairing_file(&conn)?)?;
    // The benchmark measures throughput, so no site's request budget may slow it.
    let unlimited = RateLimit { burst: u32::MAX, per_second: f64::from(u32::MAX) };
    let partner = Arc::new(store::Partner::load(conn, true)?.with_rate_limit(unlimited));
    let clients = tls::ClientCas::new(partner.client_cas().as_bytes())?;
    let tls = tls::server_config(issued.leaf_cert.as_bytes(), issued.leaf_key.as_bytes(), &clients)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("https://127.0.0.1:{}", listener.local_addr()?.port());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.spawn(tls::serve(listener, tls, galen_partner::app(partner.clone())));
    let number = PairingFile::read(&partner_file)?.safety_number;
    sync::pair(&clinic, &admin, &partner_file, &url, &number)?;
    sync::pair(&reader, &reader_admin, &partner_file, &url, &number)?;

    // Baseline: seal and open the same number of patient envelopes in memory, one after the other.
    let sample = serde_json::to_value(seed::synthetic(1, 1, year).0.given_names)?;
    let (me, them) = (OwnKey::from_armored(&OwnKey::generate("a")?)?, OwnKey::from_armored(&OwnKey::generate("b")?)?);
    let (me_pub, them_pub) =
        (PeerKey::from_armored(&me.public_armored())?, PeerKey::from_armored(&them.public_armored())?);
    let now = clinic.now();
    let t = Instant::now();
    for _ in 0..records {
        let plain = Plaintext {
            meta: Meta {
                format: envelope::FORMAT.into(),
                id: uuid::Uuid::now_v7().to_string(),
                version: 1,
                created_at: galen_proto::rfc3339(now),
                nonce: envelope::new_nonce(),
                sender: me.fingerprint(),
                recipient: them.fingerprint(),
                origin: me.fingerprint(),
                kind: Kind::Patient,
            },
            payload: serde_json::json!({ "given_names": sample }),
        };
        let sealed = envelope::seal(&me, &them_pub, &plain)?;
        envelope::open(&them, std::slice::from_ref(&me_pub), &sealed, now)?;
    }
    let baseline = t.elapsed();

    let t = Instant::now();
    let report = sync::run(&clinic, sync::Trigger::Person(sync::permit(&clinic, &admin)?))?;
    let full = t.elapsed();
    let (stored, _) = partner.counts()?;
    anyhow::ensure!(stored as u64 == records && report.pushed as u64 == records, "pushed {report:?}, stored {stored}");

    let t = Instant::now();
    let pulled = sync::run(&reader, sync::Trigger::Person(sync::permit(&reader, &reader_admin)?))?;
    let pull = t.elapsed();
    anyhow::ensure!(pulled.pulled as u64 == records, "pulled {pulled:?}");

    let rate = |d: std::time::Duration| records as f64 / d.as_secs_f64();
    println!("{records} consented patients through a partner over mTLS on 127.0.0.1 (pages of 200):");
    println!("| | time | records/s | × baseline time |");
    println!("|---|---|---|---|");
    println!(
        "| baseline: seal + open in memory, one core | {:.2} s | {:.0} | 1 |",
        baseline.as_secs_f64(),
        rate(baseline)
    );
    for (what, d) in [
        ("push (`sync now`): queue, seal, HTTPS, open, store, acknowledge", full),
        ("pull (`sync now` at a second clinic): HTTPS, open, apply", pull),
    ] {
        let ratio = d.as_secs_f64() / baseline.as_secs_f64();
        println!("| {what} | {:.2} s | {:.0} | {ratio:.2} |", d.as_secs_f64(), rate(d));
    }
    Ok(())
}
