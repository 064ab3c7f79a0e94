//! A partner and clinics to pair with it, all in temporary folders.

use galen_core::clinic::Setup;
use galen_core::patients::{self, Demographics, NewPatient};
use galen_core::site;
use galen_core::staff::{self, NewStaff};
use galen_core::{sync, Clinic, RecoveryKey, Role, Session, Vault};
use galen_partner::key::DbKey;
use galen_partner::{store, tls};
use galen_proto::certs::{self, Issued, Leaf};
use galen_proto::envelope::OwnKey;
use galen_proto::pairing::PairingFile;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";

/// A partner's folder: its database (and the key it is encrypted with) and server certificate, not yet serving.
pub struct PartnerDir {
    pub _dir: TempDir,
    pub db: PathBuf,
    pub key: DbKey,
    pub server_cert: String,
    pub server_key: String,
}

pub fn new_partner() -> PartnerDir {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("partner.db");
    let issued = certs::issue(
        "Hospital Central — Galen partner CA",
        "Hospital Central",
        Leaf::Server { hosts: vec!["localhost".into(), "127.0.0.1".into()] },
        time::OffsetDateTime::now_utc(),
    )
    .expect("issue");
    let key = DbKey::random().expect("key");
    let conn = store::open_db(&db, &key).expect("db");
    store::init(&conn, "Hospital Central", &issued.ca_cert, &issued.ca_key).expect("init");
    PartnerDir { _dir: dir, db, key, server_cert: issued.leaf_cert, server_key: issued.leaf_key }
}

impl PartnerDir {
    /// A connection to its database.
    pub fn open(&self) -> rusqlite::Connection {
        store::open_db(&self.db, &self.key).expect("the partner's database opens with its key")
    }

    pub fn pairing_file(&self) -> String {
        let conn = self.open();
        serde_json::to_string(&store::pairing_file(&conn).expect("pairing file")).expect("json")
    }

    /// Pairs a clinic the way an operator does: its file and the number its people read out.
    pub fn pair(&self, clinic: &Clinic, admin: &Session) {
        let file = site::pairing_file(clinic, admin).expect("clinic pairing file");
        let conn = self.open();
        store::pair(&conn, &file, &file.safety_number).expect("partner pairs the clinic");
    }

    /// Serves on 127.0.0.1:0 in its own runtime until the returned guard drops.
    pub fn serve(&self, relay: bool) -> Serving {
        let partner = Arc::new(store::Partner::load(self.open(), relay).expect("load"));
        let clients = tls::ClientCas::new(partner.client_cas().as_bytes()).expect("the paired CAs");
        let config =
            tls::server_config(self.server_cert.as_bytes(), self.server_key.as_bytes(), &clients).expect("tls");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.spawn(tls::serve(listener, config, galen_partner::app(partner.clone())));
        Serving { addr, partner, _runtime: runtime }
    }
}

pub struct Serving {
    pub addr: SocketAddr,
    pub partner: Arc<store::Partner>,
    _runtime: tokio::runtime::Runtime,
}

pub struct ClinicDir {
    pub _dir: TempDir,
    pub clinic: Clinic,
    /// The recovery key setup printed.
    pub recovery: RecoveryKey,
    pub admin: Session,
    /// Registers, reads and edits patients, and signs documents.
    pub doctor: Session,
}

/// A new clinic with a site identity, its admin signed in.
pub fn new_clinic(name: &str) -> ClinicDir {
    new_clinic_with_clock(name, Arc::new(galen_core::clock::SystemClock))
}

/// The same, on a clock of the test's choosing (its site identity is made at that clock's time).
pub fn new_clinic_with_clock(name: &str, clock: Arc<dyn galen_core::clock::Clock>) -> ClinicDir {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a real Secret Service: run them via scripts/with-test-keyring (see README)"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let setup = Setup {
        site_name: name.into(),
        admin_username: "ana".into(),
        admin_display_name: "Ana Admin".into(),
        admin_password: PASSWORD.into(),
    };
    let created = Clinic::create(Vault::new(dir.path().join("clinic")), &setup).expect("clinic");
    let (clinic, recovery) = (created.clinic.with_clock(clock), created.recovery_key);
    let admin = clinic.login("ana", PASSWORD).expect("admin");
    site::init(&clinic, &admin).expect("site identity");
    let new = NewStaff {
        username: "rui".into(),
        display_name: "Dr Rui Costa".into(),
        role: Role::Doctor,
        licence_number: Some("CRM-12345".into()),
        password: PASSWORD.into(),
    };
    staff::add(&clinic, &admin, &new).expect("doctor");
    let doctor = clinic.login("rui", PASSWORD).expect("doctor signs in");
    ClinicDir { _dir: dir, clinic, recovery, admin, doctor }
}

impl ClinicDir {
    /// Pairs this clinic with the partner at `url`, confirming the number the partner's people read out.
    pub fn pair_with(&self, partner: &PartnerDir, url: &str) {
        self.pair_with_file(&partner.pairing_file(), url);
    }

    /// Pairs this clinic with whoever this pairing file is from, at `url`, confirming its number.
    pub fn pair_with_file(&self, file: &str, url: &str) {
        let number = PairingFile::read(file).expect("read").safety_number;
        sync::pair(&self.clinic, &self.admin, file, url, &number).expect("clinic pairs the partner");
    }

    pub fn register(&self, given: &str, family: &str, consent: bool) -> patients::Patient {
        let p = NewPatient {
            demographics: Demographics {
                given_names: given.into(),
                family_name: family.into(),
                date_of_birth: "1980-02-29".into(),
                consent_share: consent,
                ..Default::default()
            },
            clinical: None,
        };
        patients::register(&self.clinic, &self.doctor, &p, true).expect("register")
    }

    pub fn sync(&self) -> sync::Report {
        sync::run(&self.clinic, sync::Trigger::Person(sync::permit(&self.clinic, &self.admin).expect("admin")))
            .expect("sync runs")
    }

    pub fn status(&self) -> sync::Status {
        sync::status(&self.clinic, &self.admin).expect("status")
    }

    /// A plain connection to the clinic's database with its key, as someone holding the key would open it:
    /// it bypasses every rule of Galen.
    pub fn raw_connection(&self) -> rusqlite::Connection {
        let vault = self.clinic.vault();
        let dek = vault.key_file().expect("key file").unwrap_with_recovery(&self.recovery).expect("unwrap");
        let conn = rusqlite::Connection::open(vault.db_path()).expect("open raw");
        conn.pragma_update(None, "key", format!("x'{}'", data_encoding::HEXLOWER.encode(dek.expose()))).expect("key");
        conn
    }

    /// Pairs this clinic with a partner run by the real binary, as its admin would.
    pub fn pair_with_binary(&self, partner: &BinaryPartner) {
        self.pair_with_file(&partner.run(&["pairing-file"]), &partner.url());
    }
}

/// A partner run by the real `galen-partner` binary, as an operator runs it: a configuration file in a temporary
/// folder (paths relative to it), a free port on 127.0.0.1.
pub struct BinaryPartner {
    pub dir: TempDir,
    pub config: PathBuf,
    pub port: u16,
}

impl BinaryPartner {
    /// A configuration only: nothing is made yet.
    pub fn configured() -> BinaryPartner {
        let dir = tempfile::tempdir().expect("tmp");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let config = dir.path().join("partner.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\ncertificate = \"server.pem\"\nprivate_key = \"server.key\"\n\
                 database = \"partner.db\"\nrelay = true\n"
            ),
        )
        .expect("config");
        BinaryPartner { dir, config, port }
    }

    /// A configuration and `galen-partner init`.
    pub fn init(name: &str) -> BinaryPartner {
        let partner = BinaryPartner::configured();
        partner.run(&["init", "--name", name, "--host", "127.0.0.1"]);
        partner
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A connection to its database, with the key `init` made.
    pub fn db(&self) -> rusqlite::Connection {
        let key = DbKey::read(&self.path("partner.db.key")).expect("the key init made");
        store::open_db(&self.path("partner.db"), &key).expect("the partner's database opens with its key")
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The binary with this partner's configuration, to add arguments to.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_galen-partner"));
        command.arg("--config").arg(&self.config);
        command
    }

    /// Runs the binary with these arguments; its stdout and stderr.
    pub fn output(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("galen-partner runs")
    }

    /// Runs the binary, which must succeed; what it said (stdout, then stderr).
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.output(args);
        let text = said(&out);
        assert!(out.status.success(), "galen-partner {args:?} must succeed: {text}");
        text
    }

    /// Runs the binary, which must fail; what it said.
    pub fn refuses(&self, args: &[&str]) -> String {
        let out = self.output(args);
        let text = said(&out);
        assert!(!out.status.success(), "galen-partner {args:?} must fail: {text}");
        text
    }

    /// Pairs a clinic the way the operator does: the clinic's file and the number its people read out.
    pub fn pair(&self, clinic: &ClinicDir) {
        self.pair_file(&site::pairing_file(&clinic.clinic, &clinic.admin).expect("clinic pairing file"));
    }

    /// Pairs whoever this pairing file is from, the number confirmed.
    pub fn pair_file(&self, file: &PairingFile) {
        let path = self.path(&format!("{}.galen-pairing", file.site.replace(' ', "-")));
        std::fs::write(&path, serde_json::to_string(file).expect("json")).expect("write");
        self.run(&["pair", &path.display().to_string(), "--safety-number", &file.safety_number]);
    }

    /// `galen-partner serve` in the background, until the returned guard drops.
    pub fn serve(&self) -> Server {
        Server::start(&self.config)
    }
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `galen-partner serve` in the background until dropped (its output kept open, so it never writes to a closed
/// pipe).
pub struct Server {
    child: Child,
    _output: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start(config: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_galen-partner"))
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("read");
        assert!(line.contains("listening on"), "the server starts: {line}");
        Server { child, _output: out }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A clinic or a partner made by hand, as a hostile one would be: a CA and the certificate it issued (a client
/// certificate for a clinic, a server certificate for 127.0.0.1 for a partner), an OpenPGP key (also armored with
/// its secret parts, for gpg), and its pairing file.
pub struct HandMade {
    pub issued: Issued,
    pub secret_key: String,
    pub key: OwnKey,
    pub pairing: PairingFile,
}

impl HandMade {
    /// A clinic's identity.
    pub fn site(name: &str) -> HandMade {
        HandMade::new(name, Leaf::Client)
    }

    /// A partner's identity, serving on 127.0.0.1.
    pub fn partner(name: &str) -> HandMade {
        HandMade::new(name, Leaf::Server { hosts: vec!["127.0.0.1".into()] })
    }

    /// A partner's identity issued at `at`: from three years ago, its server certificate has expired (its CA has
    /// not).
    pub fn partner_issued_at(name: &str, at: time::OffsetDateTime) -> HandMade {
        HandMade::issued_at(name, Leaf::Server { hosts: vec!["127.0.0.1".into()] }, at)
    }

    fn new(name: &str, leaf: Leaf) -> HandMade {
        HandMade::issued_at(name, leaf, time::OffsetDateTime::now_utc())
    }

    fn issued_at(name: &str, leaf: Leaf, now: time::OffsetDateTime) -> HandMade {
        let issued = certs::issue(&format!("{name} CA"), name, leaf, now).expect("issue");
        let secret_key = OwnKey::generate(name).expect("key");
        let key = OwnKey::from_armored(&secret_key).expect("read");
        let pairing = PairingFile::new(name, &issued.ca_cert, &key.public_armored()).expect("pairing file");
        HandMade { issued, secret_key, key, pairing }
    }
}

/// Seals an envelope the way `envelope::seal` does (signed by `signer_secret_key`, encrypted to
/// `recipient_public_key`), but with stock GnuPG, which compresses with `algorithm` (zip, zlib or bzip2). The
/// sealed text is `blank` spaces, then `plaintext` as JSON: JSON allows the leading whitespace, so it is still a
/// well-formed envelope, and a long run of spaces compresses to almost nothing.
pub fn gpg_seal(
    signer_secret_key: &str,
    recipient_public_key: &str,
    algorithm: &str,
    blank: u64,
    plaintext: &galen_proto::envelope::Plaintext,
) -> Vec<u8> {
    let home = tempfile::tempdir().expect("tmp");
    let gpg = || {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", home.path()).args(["--batch", "--quiet", "--yes"]);
        command
    };
    for key in [signer_secret_key, recipient_public_key] {
        let mut import = gpg().arg("--import").stdin(Stdio::piped()).stderr(Stdio::null()).spawn().expect("gpg runs");
        import.stdin.take().expect("stdin").write_all(key.as_bytes()).expect("key to gpg");
        assert!(import.wait().expect("gpg").success(), "gpg imports the key");
    }
    let fingerprint = |armored: &str| galen_proto::pairing::fingerprint_of(armored).expect("fingerprint");
    let mut seal = gpg()
        .args(["--trust-model", "always", "--compress-algo", algorithm, "--compress-level", "9"])
        .args(["--sign", "--local-user", &fingerprint(signer_secret_key)])
        .args(["--encrypt", "--recipient", &fingerprint(recipient_public_key), "--output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gpg runs");
    let mut input = seal.stdin.take().expect("stdin");
    let json = serde_json::to_vec(plaintext).expect("json");
    let feeder = std::thread::spawn(move || {
        let spaces = vec![b' '; 1 << 20];
        let mut left = blank;
        while left > 0 {
            let n = left.min(spaces.len() as u64) as usize;
            input.write_all(&spaces[..n]).expect("spaces to gpg");
            left -= n as u64;
        }
        input.write_all(&json).expect("json to gpg");
    });
    let mut sealed = Vec::new();
    seal.stdout.take().expect("stdout").read_to_end(&mut sealed).expect("gpg's output");
    feeder.join().expect("fed gpg");
    let out = seal.wait_with_output().expect("gpg");
    assert!(out.status.success(), "gpg seals: {}", String::from_utf8_lossy(&out.stderr));
    sealed
}

/// A field of a process's /proc/PID/status, in bytes (`VmRSS`: resident now; `VmHWM`: the peak).
pub fn memory(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:"))).expect("the field");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB");
    kib * 1024
}

pub const MIB: u64 = 1024 * 1024;

/// `default` in the everyday run, `long` with `GALEN_LONG=1` (README, "Long runs").
pub fn long_or(default: usize, long: usize) -> usize {
    if std::env::var_os("GALEN_LONG").is_some_and(|v| v == "1") {
        long
    } else {
        default
    }
}

/// How the proxy treats each new connection, in turn.
#[derive(Debug, Clone, Copy)]
pub enum Cut {
    /// Close both sides after this many bytes of the request: the partner never sees it whole.
    MidRequest(usize),
    /// Pass the request, then close before the answer: the partner stored it, the clinic does not know.
    BeforeAnswer,
    Pass,
}

/// A TCP proxy to `upstream` that cuts connections by `plan`, cycling; returns its address and a connection count.
pub fn cutting_proxy(upstream: SocketAddr, plan: Vec<Cut>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let cut = plan[n % plan.len()];
            let Ok(server) = TcpStream::connect(upstream) else { continue };
            relay(client, server, cut);
        }
    });
    (addr, connections)
}

fn relay(client: TcpStream, server: TcpStream, cut: Cut) {
    let sent = Arc::new(AtomicUsize::new(0));
    let (mut c_in, mut s_out) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
    let up = sent.clone();
    let (c2, s2) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = c_in.read(&mut buf) {
            if n == 0 {
                break;
            }
            let total = up.fetch_add(n, Ordering::SeqCst) + n;
            if let Cut::MidRequest(limit) = cut {
                if total > limit {
                    let _ = c2.shutdown(Shutdown::Both);
                    let _ = s2.shutdown(Shutdown::Both);
                    return;
                }
            }
            if s_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = s_out.shutdown(Shutdown::Write);
    });
    let (mut s_in, mut c_out) = (server, client);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = s_in.read(&mut buf) {
            if n == 0 {
                break;
            }
            // The handshake goes through; once a request body has gone up, whatever the partner sends is swallowed,
            // and a moment later (time for it to store the batch and answer) the clinic's side is closed.
            if matches!(cut, Cut::BeforeAnswer) && sent.load(Ordering::SeqCst) > 20_000 {
                let _ = s_in.set_read_timeout(Some(std::time::Duration::from_millis(1500)));
                while matches!(s_in.read(&mut buf), Ok(n) if n > 0) {}
                let _ = c_out.shutdown(Shutdown::Both);
                let _ = s_in.shutdown(Shutdown::Both);
                return;
            }
            if c_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = c_out.shutdown(Shutdown::Write);
    });
}

/// Writes `text` to `dir/name`; its path.
pub fn write_file(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

/// `curl` with `site`'s client certificate, trusting `partner`'s CA: what it received.
pub fn curl(site: &HandMade, partner: &PairingFile, args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "900"])
        .args(["--cacert", &write_file(dir.path(), "ca.pem", partner.ca_certificate.as_bytes())])
        .args(["--cert", &write_file(dir.path(), "site.pem", site.issued.leaf_cert.as_bytes())])
        .args(["--key", &write_file(dir.path(), "site.key", site.issued.leaf_key.as_bytes())])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
