//! The partner hardened (security review, finding 10): owner-only files from their first byte, per-site rate
//! limits, bounded retention of nonces and refusals, unpairing a clinic, and the database encrypted at rest.

use crate::support::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use galen_core::sync;
use galen_partner::{store, tls};
use rustls::pki_types::pem::PemObject;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use tower::ServiceExt;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// Every file in `dir` the traced process created (opened with O_CREAT), with the mode it asked for, read from
/// an strace log (`openat(AT_FDCWD, "/path", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 3`).
fn created_in(trace: &str, dir: &Path) -> Vec<(String, u32)> {
    let prefix = format!("{}/", dir.display());
    trace
        .lines()
        .filter(|line| line.contains("O_CREAT"))
        .filter_map(|line| {
            let (_, rest) = line.split_once('"')?;
            let (path, rest) = rest.split_once('"')?;
            let name = path.strip_prefix(&prefix)?;
            let args: Vec<&str> = rest.split(", ").collect();
            let flags = args.iter().position(|a| a.contains("O_CREAT"))?;
            let digits: String = args.get(flags + 1)?.chars().take_while(char::is_ascii_digit).collect();
            Some((name.to_owned(), u32::from_str_radix(&digits, 8).ok()?))
        })
        .collect()
}

/// `galen-partner init` under `umask 000` (the most permissive a service manager or a careless shell could
/// give), traced: every file it creates asks for 0600 in the very call that creates it, so no other account
/// could open it even for a moment, and each ends 0600. Only the certificate (public) may be readable.
#[test]
fn init_creates_the_database_and_key_files_owner_only_from_their_first_byte_even_under_umask_000() {
    let partner = BinaryPartner::configured();
    let trace = std::env::temp_dir().join(format!("galen-partner-init-{}.strace", std::process::id()));
    let status = Command::new("strace")
        .args(["-f", "-qq", "-s", "4096", "-e", "trace=open,openat,creat", "-o"])
        .arg(&trace)
        .args(["sh", "-c", "umask 000; exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_galen-partner"))
        .arg("--config")
        .arg(&partner.config)
        .args(["init", "--name", "Hospital Central", "--host", "127.0.0.1"])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("strace runs (apt-get install strace)");
    let log = std::fs::read_to_string(&trace).expect("trace");
    let _ = std::fs::remove_file(&trace);
    assert!(status.success(), "init succeeds");

    let created = created_in(&log, partner.dir.path());
    let names: Vec<&str> = created.iter().map(|(n, _)| n.as_str()).collect();
    for expected in ["partner.db", "partner.db-wal", "partner.db.key.new", "server.key.new"] {
        assert!(names.contains(&expected), "init creates {expected}: {created:?}");
    }
    for (name, asked) in &created {
        if !name.starts_with("server.pem") {
            assert_eq!(*asked, 0o600, "{name} must be owner-only from the call that creates it, not chmod'ed later");
        }
    }
    for name in ["partner.db", "partner.db.key", "server.key"] {
        assert_eq!(mode(&partner.path(name)), 0o600, "{name} ends owner-only");
    }
}

/// A crash can leave the temporary file a key is written through; whatever its mode, the key written next is
/// owner-only (a file opened without create_new keeps the mode it had).
#[test]
fn a_leftover_temporary_file_never_lends_its_loose_mode_to_a_renewed_key() {
    let partner = BinaryPartner::init("Hospital Central");
    let leftover = partner.path("server.key.new");
    std::fs::write(&leftover, "half a key from a crash").expect("write");
    std::fs::set_permissions(&leftover, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    partner.run(&["renew-certificate"]);
    assert_eq!(mode(&partner.path("server.key")), 0o600, "the renewed key is owner-only, whatever was left behind");
    assert!(!leftover.exists(), "the temporary file became the key");
}

/// Pairs a site made by hand and returns what its connections present: its client certificate, as TLS would
/// hand it to the routes.
fn paired_site(conn: &rusqlite::Connection, name: &str) -> tls::Peer {
    let site = HandMade::site(name);
    store::pair(conn, &site.pairing, &site.pairing.safety_number).expect("pair");
    let der = rustls::pki_types::CertificateDer::from_pem_slice(site.issued.leaf_cert.as_bytes()).expect("der");
    tls::Peer { certificate_sha256: name.into(), certificate: Arc::from(der.as_ref()) }
}

/// A request from `peer`, as the TLS layer passes it on.
fn from(peer: &tls::Peer, request: axum::http::request::Builder, body: &'static str) -> Request<Body> {
    let mut request = request.header("content-type", "application/json").body(Body::from(body)).expect("request");
    request.extensions_mut().insert(peer.clone());
    request
}

fn pull(peer: &tls::Peer) -> Request<Body> {
    from(peer, Request::get("/api/v1/envelopes?after=0"), "")
}

fn push(peer: &tls::Peer) -> Request<Body> {
    from(peer, Request::post("/api/v1/envelopes"), r#"{"envelopes": []}"#)
}

/// A paired clinic that floods the API (a bug, or a stolen certificate) is told to slow down with a JSON 429 once
/// its budget is spent, pushes and pulls alike; the other clinics are served as before.
#[tokio::test]
async fn a_site_that_floods_the_api_gets_429_with_a_json_error_while_other_sites_are_served() {
    let dir = new_partner();
    let conn = dir.open();
    let sol = paired_site(&conn, "Clínica Sol");
    let mar = paired_site(&conn, "Clínica Mar");
    let partner = Arc::new(store::Partner::load(conn, true).expect("load"));
    let app = galen_partner::app(partner);

    let mut served = 0;
    let refused = loop {
        let response = app.clone().oneshot(pull(&sol)).await.expect("response");
        if response.status() != StatusCode::OK || served == 1000 {
            break response;
        }
        served += 1;
    };
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "a flood is cut short ({served} pulls served)");
    let burst = galen_partner::rate::RateLimit::DEFAULT.burst as usize;
    assert!(served >= burst, "a clinic's whole burst is served before any refusal ({served} of {burst})");
    let wait: u64 = refused
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After says when to come back");
    assert!(wait >= 1, "{wait}");
    let body = axum::body::to_bytes(refused.into_body(), 64 * 1024).await.expect("body");
    let body: serde_json::Value = serde_json::from_slice(&body).expect("the refusal is JSON like every error");
    assert_eq!(body["error"], "rate_limited", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("too many")), "{body}");

    let response = app.clone().oneshot(push(&sol)).await.expect("response");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "pushes draw on the same budget as pulls");
    for request in [pull(&mar), push(&mar)] {
        let response = app.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "another clinic's budget is its own");
    }
}

/// Plants nonces and refusals `ages` old in the partner's database, each named by its age.
fn plant(partner: &BinaryPartner, ages: &[(&str, time::Duration)]) {
    let conn = partner.db();
    let now = time::OffsetDateTime::now_utc();
    for (name, age) in ages {
        let at = galen_proto::rfc3339(now - *age);
        conn.execute("INSERT INTO nonces (nonce, seen_at) VALUES (?1, ?2)", (name, &at)).expect("nonce");
        conn.execute("INSERT INTO rejections (at, reason, detail) VALUES (?1, 'stale', ?2)", (&at, name))
            .expect("rejection");
    }
}

/// The planted nonces and refusals still in the database.
fn planted(partner: &BinaryPartner) -> (Vec<String>, Vec<String>) {
    let conn = partner.db();
    let names = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("sql");
        stmt.query_map([], |r| r.get(0)).expect("query").collect::<rusqlite::Result<_>>().expect("rows")
    };
    (
        names("SELECT nonce FROM nonces WHERE nonce LIKE 'planted%' ORDER BY nonce"),
        names("SELECT detail FROM rejections WHERE detail LIKE 'planted%' ORDER BY detail"),
    )
}

/// Nonces only matter while an envelope carrying them could still be fresh (twice the envelope window), and
/// refusals are kept 90 days (`keep_rejections_days`) for the operator to look into: older ones are forgotten
/// when the server starts and at each push, so a partner's database does not grow for ever.
#[test]
fn old_nonces_and_refusals_are_forgotten_at_startup_and_at_each_push() {
    let partner = BinaryPartner::init("Hospital Central");
    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    clinic.pair_with_binary(&partner);
    let minutes = time::Duration::minutes;
    let days = time::Duration::days;
    plant(&partner, &[("planted 1: 30 minutes", minutes(30)), ("planted 2: 5 minutes", minutes(5))]);
    plant(&partner, &[("planted 3: 91 days", days(91)), ("planted 4: 89 days", days(89))]);

    let _server = partner.serve();
    let (nonces, refusals) = planted(&partner);
    assert_eq!(nonces, ["planted 2: 5 minutes"], "at startup, only a nonce that could still be replayed stays");
    assert_eq!(
        refusals,
        ["planted 1: 30 minutes", "planted 2: 5 minutes", "planted 4: 89 days"],
        "at startup, refusals of the last 90 days stay"
    );

    plant(&partner, &[("planted 5: 21 minutes", minutes(21)), ("planted 6: 100 days", days(100))]);
    clinic.register("Hans", "Müller", true);
    assert_eq!(clinic.sync().pushed, 1);
    let (nonces, refusals) = planted(&partner);
    assert_eq!(nonces, ["planted 2: 5 minutes"], "a push forgets nonces past twice the window");
    assert!(!refusals.iter().any(|r| r.contains("100 days")), "a push forgets refusals past 90 days: {refusals:?}");
    assert!(refusals.iter().any(|r| r.contains("21 minutes")), "recent refusals are kept: {refusals:?}");
}

/// How many records the partner holds from the clinic called `name`.
fn records_from(partner: &BinaryPartner, name: &str) -> i64 {
    let conn = partner.db();
    let sql = "SELECT count(*) FROM records r JOIN sites s ON s.id = r.site_id WHERE s.name = ?1";
    conn.query_row(sql, [name], |r| r.get(0)).expect("count")
}

/// Retries `attempt` for up to ten seconds (the running server reads the paired sites every two): its first
/// `Some`.
fn within_seconds<T>(mut attempt: impl FnMut() -> Option<T>) -> T {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(done) = attempt() {
            return done;
        }
        assert!(std::time::Instant::now() < until, "not within ten seconds");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// A sync its admin starts, as `Sync now` does.
fn sync_now(clinic: &ClinicDir) -> Result<sync::Report, galen_core::Error> {
    sync::run(&clinic.clinic, sync::Trigger::Person(sync::permit(&clinic.clinic, &clinic.admin).expect("admin")))
}

/// The operator pairs and unpairs clinics while the server runs, and never restarts it: a clinic paired now syncs
/// within seconds; one unpaired by the name `galen-partner sites` shows is refused at once (403 `unpaired`) and,
/// within seconds, in the TLS handshake. The other clinic syncs on, and what the unpaired one sent before stays
/// stored (no longer passed on to others). Paired again, it is let back in.
#[test]
fn clinics_are_paired_and_unpaired_while_the_server_runs_without_a_restart() {
    let partner = BinaryPartner::init("Hospital Central");
    let (sol, mar) = (new_clinic("Clínica Sol"), new_clinic("Clínica Mar"));
    partner.pair(&sol);
    sol.pair_with_binary(&partner);
    let _server = partner.serve();
    sol.register("Hans", "Müller", true);
    assert_eq!(sol.sync().pushed, 1);

    // Mar pairs while the server runs: trusted within seconds.
    partner.pair(&mar);
    mar.pair_with_binary(&partner);
    mar.register("Rosa", "Lopes", true);
    let report = within_seconds(|| sync_now(&mar).ok());
    assert_eq!((report.pushed, report.pulled), (1, 1), "Mar's first sync, with no restart: {report:?}");

    let said = partner.run(&["unpair", "Clínica Sol"]);
    assert!(said.contains("Unpaired Clínica Sol") && said.contains("no restart needed"), "{said}");
    let sites = partner.run(&["sites"]);
    let line = |name: &str| sites.lines().find(|l| l.contains(name)).unwrap_or_default().to_owned();
    assert!(line("Clínica Sol").contains("unpaired"), "sites shows the unpairing: {sites}");
    assert!(!line("Clínica Mar").contains("unpaired"), "{sites}");

    // At once by its pairing (if the server has not yet read the sites again), then in the handshake.
    sol.register("Maria", "Silva", true);
    let refused = within_seconds(|| {
        let refused = sync_now(&sol).expect_err("an unpaired clinic is refused");
        let message = refused.to_string();
        if refused.code() == "partner_unreachable" {
            return Some(message);
        }
        assert!(message.contains("403") && message.contains("no longer paired"), "the clinic is told why: {message}");
        None
    });
    assert!(refused.contains("could not be reached"), "refused in the TLS handshake: {refused}");
    let status = sol.status();
    assert_eq!(status.last_error_code.as_deref(), Some("partner_unreachable"), "its code, for screens to word");
    mar.register("Ana", "Sousa", true);
    let report = mar.sync();
    assert_eq!((report.pushed, report.pulled), (1, 0), "Mar syncs on; Sol's records are no longer passed on");
    assert_eq!(records_from(&partner, "Clínica Sol"), 1, "what Sol sent before stays stored");
    assert!(partner.refuses(&["unpair", "Clínica Nenhuma"]).contains("no paired clinic"), "an unknown name is refused");

    // Unpaired by mistake: pairing it again from its file (and number) undoes it, again without a restart.
    partner.pair(&sol);
    let report = within_seconds(|| sync_now(&sol).ok());
    assert_eq!(report.pushed, 1, "paired again, Sol sends what was refused meanwhile");
    assert_eq!((sol.status().last_error, sol.status().last_error_code), (None, None), "a success clears both");
}

/// Every file of the database (the main file and SQLite's -wal, -shm, -journal), whole.
fn database_bytes(partner: &BinaryPartner) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(partner.dir.path()).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("partner.db") && !name.ends_with(".key") {
            bytes.extend(std::fs::read(entry.path()).expect("read"));
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// After `init` the database is SQLCipher pages under a key in a file of its own (32 random bytes, owner-only):
/// SQLite without the key cannot read it, and neither a paired clinic's name nor a patient it sent appears in
/// its bytes, while the server serves with the key. A wrong or missing key is refused, naming the key file.
#[test]
fn the_database_is_encrypted_at_rest_under_the_key_file_init_makes() {
    let partner = BinaryPartner::init("Hospital Central");
    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    clinic.pair_with_binary(&partner);
    {
        let _server = partner.serve();
        clinic.register("Hans", "Müller", true);
        assert_eq!(clinic.sync().pushed, 1, "the server serves with its key");
        let bytes = database_bytes(&partner);
        for clear in ["Clínica Sol", "Müller", "BEGIN PGP PRIVATE KEY", "SQLite format 3"] {
            assert!(!contains(&bytes, clear), "{clear:?} must not be readable in the database or its WAL");
        }
    }
    let db = partner.path("partner.db");
    let plain = rusqlite::Connection::open(&db).expect("opens lazily");
    let refused = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
    let refused = refused.expect_err("SQLite without the key cannot read it").to_string();
    assert!(refused.contains("not a database"), "{refused}");

    let key = partner.path("partner.db.key");
    assert_eq!(std::fs::read(&key).expect("init made the key file").len(), 32, "32 random bytes");
    assert_eq!(mode(&key), 0o600, "the key file is the service account's alone");
    assert!(partner.run(&["sites"]).contains("Clínica Sol"), "the right key opens it");

    let right = std::fs::read(&key).expect("key");
    let wrong: Vec<u8> = right.iter().map(|b| b ^ 0x5a).collect();
    std::fs::write(&key, wrong).expect("write");
    let said = partner.refuses(&["sites"]);
    assert!(said.contains("partner.db.key") && said.contains("not this database's key"), "names the key: {said}");
    for key in [&right, &std::fs::read(&key).expect("key")] {
        let hex = data_encoding::HEXLOWER.encode(key);
        assert!(!said.to_lowercase().contains(&hex[..16]), "no key material in an error: {said}");
    }
    std::fs::remove_file(&key).expect("remove");
    let said = partner.refuses(&["--check"]);
    assert!(said.contains("partner.db.key") && said.contains("No such file"), "names the missing key: {said}");
}

/// The key may instead be a systemd credential (`database_key_credential`), which systemd decrypts into the
/// service's private `$CREDENTIALS_DIRECTORY`: init then makes no key file, and without that folder every
/// command says what is missing.
#[test]
fn the_database_key_can_be_a_systemd_credential_instead_of_a_file() {
    let partner = BinaryPartner::configured();
    let config = std::fs::read_to_string(&partner.config).expect("config");
    std::fs::write(&partner.config, config + "database_key_credential = \"galen-partner-db-key\"\n").expect("write");
    let credentials = partner.path("credentials");
    std::fs::create_dir(&credentials).expect("mkdir");
    // What `systemd-creds` would hand over: here the hexadecimal form, as `openssl rand -hex 32` writes it.
    std::fs::write(credentials.join("galen-partner-db-key"), format!("{}\n", "5a".repeat(32))).expect("key");

    let said = partner.refuses(&["init", "--name", "Hospital Central", "--host", "127.0.0.1"]);
    assert!(said.contains("CREDENTIALS_DIRECTORY") && said.contains("galen-partner-db-key"), "{said}");
    let run = |args: &[&str]| {
        let out = partner.command().args(args).env("CREDENTIALS_DIRECTORY", &credentials).output().expect("runs");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["init", "--name", "Hospital Central", "--host", "127.0.0.1"]);
    assert!(!partner.path("partner.db.key").exists(), "no key file is written when the key is a credential");
    assert!(run(&["pairing-file"]).contains("Hospital Central"), "the credential opens the database");
    let plain = rusqlite::Connection::open(partner.path("partner.db")).expect("opens lazily");
    assert!(plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_err(), "encrypted");
}

/// Turns the partner's database back into what an earlier galen-partner left: the same tables and rows in a
/// plaintext SQLite file (in WAL mode, as it ran), and no key file.
fn as_before_encryption(partner: &BinaryPartner) {
    let plain = partner.path("plain.db");
    let conn = partner.db();
    // The partner's connection creates no files; an empty file is an empty database.
    std::fs::File::create(&plain).expect("create");
    conn.execute("ATTACH DATABASE ?1 AS plaintext KEY ''", [plain.display().to_string()]).expect("attach");
    conn.query_row("SELECT sqlcipher_export('plaintext')", [], |_| Ok(())).expect("export");
    conn.execute_batch("DETACH DATABASE plaintext").expect("detach");
    drop(conn);
    let old = rusqlite::Connection::open(&plain).expect("plaintext");
    old.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).expect("wal");
    drop(old);
    std::fs::rename(&plain, partner.path("partner.db")).expect("rename");
    std::fs::remove_file(partner.path("partner.db.key")).expect("no key before");
}

/// A partner set up before its database was encrypted: every command refuses the plaintext database and names
/// the one command to run; `galen-partner encrypt-database` refuses while anything holds the database open (a
/// server still running), then encrypts it in place under a new key file. Everything is still there, nothing is
/// left in clear, and the server serves on.
#[test]
fn a_plaintext_database_from_before_is_refused_until_encrypt_database_encrypts_it_in_place() {
    let partner = BinaryPartner::init("Hospital Central");
    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    clinic.pair_with_binary(&partner);
    {
        let _server = partner.serve();
        clinic.register("Hans", "Müller", true);
        assert_eq!(clinic.sync().pushed, 1);
    }
    as_before_encryption(&partner);
    assert!(contains(&database_bytes(&partner), "Müller"), "the planted database is plaintext, as before");

    for args in [&["sites"][..], &["--check"]] {
        let said = partner.refuses(args);
        assert!(
            said.contains("unencrypted") && said.contains("galen-partner encrypt-database"),
            "{args:?} names the one command that encrypts it: {said}"
        );
    }
    let server_still_running = rusqlite::Connection::open(partner.path("partner.db")).expect("open");
    let _: i64 = server_still_running.query_row("SELECT count(*) FROM records", [], |r| r.get(0)).expect("read");
    let said = partner.refuses(&["encrypt-database"]);
    assert!(said.contains("in use") && said.contains("nothing was changed"), "{said}");
    assert!(contains(&database_bytes(&partner), "Müller"), "refused means untouched");
    drop(server_still_running);

    let said = partner.run(&["encrypt-database"]);
    assert!(said.contains("Encrypted") && said.contains("partner.db.key"), "{said}");
    assert_eq!(mode(&partner.path("partner.db.key")), 0o600);
    assert_eq!(mode(&partner.path("partner.db")), 0o600);
    let bytes = database_bytes(&partner);
    for clear in ["Clínica Sol", "Müller", "SQLite format 3"] {
        assert!(!contains(&bytes, clear), "{clear:?} is no longer readable");
    }
    let names: Vec<String> = std::fs::read_dir(partner.dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("partner.db"))
        .collect();
    assert!(
        names.iter().all(|n| n == "partner.db" || n == "partner.db.key"),
        "no temporary copy, and no WAL of the plaintext database, is left behind: {names:?}"
    );
    assert!(partner.run(&["encrypt-database"]).contains("already encrypted"), "running it twice does nothing");

    let _server = partner.serve();
    clinic.register("Maria", "Silva", true);
    assert_eq!(clinic.sync().pushed, 1, "the server serves from the encrypted database");
    assert_eq!(records_from(&partner, "Clínica Sol"), 2, "what was stored before is all there");
}
