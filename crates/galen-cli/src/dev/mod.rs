//! `galen dev seed` and `galen bench …`: for developers, built only with the `dev` feature (the release `galen`
//! has neither, and never links the partner server that `bench sync` runs against).

mod sync_bench;

use crate::session::Ctx;
use anyhow::Result;
use galen_core::dev;

#[derive(Debug, clap::Subcommand)]
pub enum DevCommand {
    /// Add synthetic patients (deterministic for a seed), for demos and benchmarks.
    Seed {
        #[arg(long)]
        patients: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Seed a throwaway clinic, then time searches on it and on an unencrypted copy, and registrations.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        patients: u64,
        /// Queries of each kind (and registrations).
        #[arg(long, default_value_t = 300)]
        samples: usize,
        /// Where to build the throwaway clinic (default: a temporary folder, removed afterwards).
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Time signing a 3-line prescription (canonical JSON + OpenPGP signature), the password KDF excluded.
    Sign {
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// The appointment book's week view (the whole clinic), with only that week booked and then with years of
    /// history behind it.
    Book {
        #[arg(long, default_value_t = 5)]
        doctors: u32,
        #[arg(long, default_value_t = 2_000)]
        per_week: u32,
        /// Earlier weeks stored as history (260: five years).
        #[arg(long, default_value_t = 260)]
        weeks: u32,
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
    /// Push throughput to a real partner server over mTLS on loopback, against sealing and opening alone.
    Sync {
        /// Consented patients to push.
        #[arg(long, default_value_t = 10_000)]
        records: u64,
    },
}

pub fn run_dev(ctx: &mut Ctx, command: DevCommand) -> Result<()> {
    match command {
        DevCommand::Seed { patients, seed: s } => seed(ctx, patients, s),
    }
}

fn seed(ctx: &mut Ctx, count: u64, seed: u64) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let started = std::time::Instant::now();
    let added = dev::seed::seed(&clinic, &session, count, seed)?;
    println!("Added {added} synthetic patients in {:.1} s.", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs a benchmark and prints its table, as README quotes it.
pub fn run_bench(command: BenchCommand) -> Result<()> {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let (patients, samples, dir) = match command {
        BenchCommand::Search { patients, samples, dir } => (patients, samples, dir),
        BenchCommand::Sync { records } => return sync_bench::run(records),
        BenchCommand::Book { doctors, per_week, weeks, samples } => {
            let temp = tempfile::tempdir()?;
            eprintln!("Storing {per_week} visits a week for {} weeks …", weeks + 1);
            let r = dev::bench::book(temp.path(), doctors, per_week, weeks, samples)?;
            println!(
                "Week view, {doctors} doctors, {per_week} visits a week, {} stored (history in {:.0} s); {samples} samples, p50 / p95 / p99 in ms:",
                r.appointments,
                r.seed_time.as_secs_f64()
            );
            for (what, s) in [("that week alone (baseline)", &r.week_alone), ("with the history", &r.week_with_history)]
            {
                println!("| {what} | {:.1} / {:.1} / {:.1} |", ms(s.p50), ms(s.p95), ms(s.p99));
            }
            println!("p95 ratio, with history / alone: {:.2}×", r.ratio_p95());
            return Ok(());
        }
        BenchCommand::Sign { samples } => {
            let temp = tempfile::tempdir()?;
            let r = dev::bench::sign(temp.path(), samples)?;
            println!("Signing a 3-line prescription ({samples} samples), p50 / p95 / p99 in ms:");
            println!(
                "| canonical JSON + signature (KDF excluded) | {:.2} / {:.2} / {:.2} |",
                ms(r.signing.p50),
                ms(r.signing.p95),
                ms(r.signing.p99)
            );
            println!(
                "| the same + QR signature + PDF (layout, font subsets, attachments) | {:.2} / {:.2} / {:.2} | {:.1}× at p95 |",
                ms(r.sign_and_render.p50),
                ms(r.sign_and_render.p95),
                ms(r.sign_and_render.p99),
                ms(r.sign_and_render.p95) / ms(r.signing.p95).max(f64::MIN_POSITIVE)
            );
            println!(
                "| whole sign, password check and key unlock included | {:.1} / {:.1} / {:.1} |",
                ms(r.with_kdf.p50),
                ms(r.with_kdf.p95),
                ms(r.with_kdf.p99)
            );
            return Ok(());
        }
    };
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_owned());
    eprintln!("Seeding {patients} patients in {} …", dir.display());
    let r = dev::bench::search(&dir, patients, samples)?;
    println!("Patients: {}, seeded in {:.0} s; {samples} queries of each kind.", r.patients, r.seed_time.as_secs_f64());
    println!();
    println!("| query | SQLCipher p50 / p95 / p99 (ms) | plain SQLite p50 / p95 / p99 (ms) | p95 ratio |");
    println!("|---|---|---|---|");
    for q in &r.queries {
        println!(
            "| {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.2}× |",
            q.kind,
            ms(q.encrypted.p50),
            ms(q.encrypted.p95),
            ms(q.encrypted.p99),
            ms(q.plain.p50),
            ms(q.plain.p95),
            ms(q.plain.p99),
            q.ratio_p95()
        );
    }
    println!();
    println!("| registration commit | p50 / p95 / p99 (ms) | p99 ratio |");
    println!("|---|---|---|");
    let row = |name: &str, s: &dev::bench::Stats| {
        let ratio = ms(s.p99) / ms(r.commit.p99).max(f64::MIN_POSITIVE);
        println!("| {name} | {:.2} / {:.2} / {:.2} | {ratio:.2}× |", ms(s.p50), ms(s.p95), ms(s.p99));
    };
    row("as Galen commits (SQLite's checkpoint every 1,000 pages)", &r.commit);
    row("without a checkpoint inside a save", &r.without_checkpoints);
    Ok(())
}
