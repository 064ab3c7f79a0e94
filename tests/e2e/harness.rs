//! Starting tauri-driver and the app, and the few actions the flows need: fill, click, wait, screenshot, axe.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("workspace root")
}

fn app_binary() -> PathBuf {
    std::env::var_os("GALEN_APP_BIN").map(PathBuf::from).unwrap_or_else(|| workspace().join("target/debug/galen-app"))
}

pub fn screens_dir() -> PathBuf {
    let dir = workspace().join("target/e2e-screens");
    std::fs::create_dir_all(&dir).expect("create target/e2e-screens");
    dir
}

/// tauri-driver (and through it, one app window) for one test.
pub struct Driver {
    process: Child,
    pub client: Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Driver {
    /// Starts the app on `data_dir` in a fresh window.
    pub async fn start(data_dir: &Path) -> Driver {
        assert!(std::env::var_os("DISPLAY").is_some(), "no DISPLAY: run the e2e tests under xvfb-run (see README)");
        let app = app_binary();
        assert!(app.exists(), "{} is missing: build it first (scripts/test does)", app.display());
        let (port, native) = (free_port(), free_port());
        let process = Command::new("tauri-driver")
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("GALEN_DATA_DIR", data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("tauri-driver runs (scripts/setup-deps installs it with cargo install)");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": app }));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::native().capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => panic!("could not reach tauri-driver at {url}: {e}"),
            }
        };
        Driver { process, client }
    }

    /// Calls one of the shell's commands through the IPC, as any script in the page could: "ok", or the error's
    /// code. What a compromised page could try must be refused by galen-core, not only hidden by the UI.
    pub async fn invoke(&self, command: &str, args: Value) -> String {
        let script = "const [command, args, done] = arguments; \
            window.__TAURI_INTERNALS__.invoke(command, args).then(() => done('ok'), (e) => done(e?.code ?? String(e)));";
        let answer = self.client.execute_async(script, vec![json!(command), args]).await.expect("invoke");
        answer.as_str().unwrap_or_else(|| panic!("{command}: {answer}")).to_owned()
    }

    pub async fn stop(mut self) {
        let _ = self.client.close().await;
        let _ = self.process.kill().await;
    }

    /// Quits the app as a desktop session does when it ends (SIGTERM to the app itself, started on `data_dir`),
    /// waits for it to exit, then stops the driver.
    pub async fn quit(self, data_dir: &Path) {
        let pid = app_pid(data_dir).expect("the app is running");
        let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.stop().await;
    }

    /// Waits up to 15 s for the first element matching `css`.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the button whose visible text is exactly `text`.
    pub async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space()='{text}']");
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text:?}: {e}"));
        el.click().await.unwrap_or_else(|e| panic!("click {text:?}: {e}"));
    }

    /// Waits until the page's visible text contains `needle`; returns that text.
    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.body_text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {needle:?}; the page shows:\n{text}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn body_text(&self) -> String {
        let v = self.client.execute("return document.body.innerText", vec![]).await.expect("read body");
        v.as_str().unwrap_or_default().to_owned()
    }

    pub async fn html(&self) -> String {
        let v = self.client.execute("return document.documentElement.outerHTML", vec![]).await.expect("read html");
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a PNG of the window as target/e2e-screens/NAME.png.
    pub async fn screenshot(&self, name: &str) {
        tokio::time::sleep(Duration::from_millis(300)).await; // let transitions settle
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(screens_dir().join(format!("{name}.png")), png).expect("save screenshot");
    }

    /// Runs axe-core on the current screen and fails on any serious or critical violation.
    pub async fn axe(&self, screen: &str) {
        let loaded = self.client.execute("return typeof window.axe", vec![]).await.expect("probe axe");
        if loaded.as_str() != Some("object") {
            let source_path = workspace().join("ui/node_modules/axe-core/axe.min.js");
            let source = std::fs::read_to_string(&source_path)
                .unwrap_or_else(|e| panic!("{} ({e}): run npm ci in ui/", source_path.display()));
            self.client.execute(&source, vec![]).await.expect("inject axe-core");
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
                    .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .expect("run axe");
        let serious: Vec<&Value> = result
            .as_array()
            .expect("violations list")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(serious.is_empty(), "axe found serious/critical problems on the {screen} screen: {serious:#?}");
    }
}

/// Runs the `galen` CLI built alongside the app (target/debug/galen); returns (success, stdout + stderr).
pub fn galen_cli(args: &[&str]) -> (bool, String) {
    let bin = workspace().join("target/debug/galen");
    let out = std::process::Command::new(&bin).args(args).output().unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The text of a PDF, by poppler's pdftotext.
pub fn pdf_text(pdf: &Path) -> String {
    let out = std::process::Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Driver {
    /// Clicks the Print button of the `PrintButtons` marked `testid`; on this machine (no CUPS, no PDF viewer)
    /// Galen answers with where it saved the PDF, which this returns.
    pub async fn print_without_printer(&self, testid: &str) -> PathBuf {
        self.print_without_printer_saying(testid, "No printer or PDF viewer was found").await
    }

    /// The same, with the screen in another language: `says` is the start of its "no printer" message.
    pub async fn print_without_printer_saying(&self, testid: &str, says: &str) -> PathBuf {
        self.click(&format!("[data-testid={testid}-print]")).await;
        saved_pdf_path(&self.wait_for_text(says, Duration::from_secs(20)).await)
    }

    /// The recovery sheet: Print finds no printer and writes nothing, so the person saves it where they choose
    /// (`to`), and is told to delete it after printing.
    pub async fn save_recovery_sheet(&self, testid: &str, to: &Path) {
        self.click(&format!("[data-testid={testid}-print]")).await;
        self.wait_for_text("No printer accepted the recovery sheet", Duration::from_secs(20)).await;
        self.click(&format!("[data-testid={testid}-save]")).await;
        answer_save_dialog("Save the PDF", to).await;
        self.wait_for_text("Print it, then delete the file", Duration::from_secs(20)).await;
    }
}

/// The app process running on `data_dir` (found by its GALEN_DATA_DIR, which tauri-driver passes down).
fn app_pid(data_dir: &Path) -> Option<u32> {
    let wanted = format!("GALEN_DATA_DIR={}", data_dir.display());
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let exe = std::fs::read_link(entry.path().join("exe")).ok()?;
        let environ = std::fs::read(entry.path().join("environ")).ok()?;
        let is_app = exe.file_name()? == "galen-app";
        (is_app && environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes())).then_some(pid)
    })
}

/// The files in `dir` (none when it does not exist).
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map(|e| e.flatten().map(|e| e.path()).collect()).unwrap_or_default()
}

/// The path in "… The PDF is saved at PATH; open it …", the print path's answer when there is no printer.
/// The absolute path of the PDF a "no printer" message names, in any language.
fn saved_pdf_path(message: &str) -> PathBuf {
    let start = message.find(" /").map(|i| i + 1).unwrap_or_else(|| panic!("no path in {message:?}"));
    let end = message[start..].find(".pdf").map(|i| start + i + 4).unwrap_or_else(|| panic!("no PDF in {message:?}"));
    PathBuf::from(&message[start..end])
}

/// Answers the native GTK save dialog titled `title` as a user would: types `path` into its name field and
/// presses Enter (xdotool on the test's X display).
pub async fn answer_save_dialog(title: &str, path: &Path) {
    answer_file_dialog(title, path, "ctrl+a").await;
}

/// Answers the native GTK open dialog titled `title`: opens its location field (Ctrl+L), types `path`, Enter.
pub async fn answer_open_dialog(title: &str, path: &Path) {
    answer_file_dialog(title, path, "ctrl+l").await;
}

async fn answer_file_dialog(title: &str, path: &Path, focus_key: &str) {
    let xdotool = |args: &[&str]| {
        let out = std::process::Command::new("xdotool")
            .args(args)
            .output()
            .expect("xdotool runs (scripts/setup-deps installs it)");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let visible = || xdotool(&["search", "--onlyvisible", "--name", title]).lines().last().map(str::to_owned);
    // The first GTK file dialog of a session can take long to map on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(60);
    for _attempt in 0..3 {
        let window = loop {
            match visible() {
                Some(id) if !id.is_empty() => break id,
                _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(300)).await,
                _ => {
                    let shot = screens_dir().join("file-dialog-missing.png");
                    let _ = std::process::Command::new("import").args(["-window", "root"]).arg(&shot).output();
                    panic!("the file dialog {title:?} did not appear (screen: {})", shot.display())
                }
            }
        };
        // Keys typed before GTK has focused its own field would land in the app window: wait, focus, check.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        xdotool(&["windowfocus", "--sync", &window]);
        if xdotool(&["getwindowfocus"]) != window {
            continue;
        }
        xdotool(&["key", "--clearmodifiers", focus_key]);
        xdotool(&["type", "--delay", "20", &path.display().to_string()]);
        // The open dialog's first Enter may only accept the location's completion; press again while it is open.
        for _ in 0..3 {
            xdotool(&["key", "Return"]);
            tokio::time::sleep(Duration::from_millis(700)).await;
            if visible().is_none_or(|id| id.is_empty()) {
                return;
            }
        }
    }
    panic!("the file dialog {title:?} did not take {}", path.display());
}

/// The clinic's database in `data_dir`, opened beside the app with the key the keyring holds: for a test to set
/// what no screen sets, or to damage it.
pub fn raw_database(data_dir: &Path) -> rusqlite::Connection {
    let vault = galen_core::Vault::new(data_dir);
    let db_id = vault.key_file().expect("key file").db_id;
    let key = vault.keyring().load(&db_id).expect("the keyring holds the key");
    let conn = rusqlite::Connection::open(vault.db_path()).expect("open the database");
    conn.pragma_update(None, "key", format!("x'{}'", data_encoding::HEXLOWER.encode(key.expose()))).expect("key");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    conn
}

/// Stores the idle lock's timeout in seconds, below the one minute the settings form allows, so the idle test
/// waits seconds rather than a minute. A session takes it when it signs in.
pub fn set_idle_seconds(data_dir: &Path, secs: u32) {
    raw_database(data_dir)
        .execute(
            "INSERT INTO settings (key, value) VALUES ('session.idle_timeout_secs', ?1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [secs.to_string()],
        )
        .expect("store the idle timeout");
}

/// Deletes this clinic's keyring entry, and only it (other tests share the keyring), with the stock Secret
/// Service client.
pub fn wipe_keyring_entry(data_dir: &Path) {
    let db_id = galen_core::Vault::new(data_dir).key_file().expect("key file").db_id;
    let user = format!("database-key:{db_id}");
    let status = std::process::Command::new("secret-tool")
        .args(["clear", "service", "galen", "username", &user])
        .status()
        .expect("secret-tool runs");
    assert!(status.success(), "secret-tool cleared the entry");
    let gone = galen_core::Vault::new(data_dir).keyring().load(&db_id);
    assert!(matches!(gone, Err(galen_core::StoreError::KeyMissing { .. })), "the entry is gone: {gone:?}");
}
