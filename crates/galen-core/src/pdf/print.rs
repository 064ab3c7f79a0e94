//! The system print path: CUPS's `lp` where there is a default printer, else the desktop's PDF viewer (whose
//! print dialog the user then uses), else a plain message saying where the PDF was saved. A copy written for the
//! viewer lives in the printouts folder only until the session locks or ends (`Vault::remove_printouts`).

use super::Pdf;
use crate::clinic::Clinic;
use crate::error::Error;
use crate::files::write_private;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// How a printout left Galen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Queued with CUPS, handed over on `lp`'s standard input (no file written).
    Printer {
        /// `lp`'s own answer, e.g. "request id is Office-12 (1 file(s))".
        answer: String,
    },
    /// Opened in the system's PDF viewer, to print from there.
    Viewer {
        /// The viewer that was started.
        program: String,
        /// The copy it opened, removed at lock, sign-out and close.
        path: PathBuf,
        /// Why the printer did not take it, in lp's words, when there is a printer (so the person knows why the
        /// viewer opened instead).
        printer_refused: Option<String>,
    },
    /// Nothing to print with: the PDF waits for the user to open it, until lock, sign-out or close.
    Saved {
        /// What to do, and where the PDF is.
        message: String,
        /// Where it is.
        path: PathBuf,
    },
    /// The recovery sheet, which no printer accepted: it is written nowhere the person did not choose.
    NotPrinted {
        /// Why, and what to do instead.
        message: String,
    },
}

/// The programs the print path may use, found on PATH. Separate so a test can choose them.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// `lp`, if installed.
    pub lp: Option<PathBuf>,
    /// `lpstat`, if installed.
    pub lpstat: Option<PathBuf>,
    /// The desktop's opener (`xdg-open`, `open`), if installed.
    pub viewer: Option<PathBuf>,
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}

impl Tools {
    /// The programs found on `PATH`.
    pub fn from_path() -> Self {
        let viewer = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
        Tools { lp: on_path("lp"), lpstat: on_path("lpstat"), viewer: on_path(viewer) }
    }
}

/// Sends a rendered PDF down the print path and audits it as `pdf.print.<what>`: to CUPS on `lp`'s standard input;
/// failing that, a copy in the printouts folder for the PDF viewer (never the recovery sheet, see
/// [`Pdf::holds_a_key`](super::Pdf)).
pub fn print(clinic: &Clinic, pdf: &Pdf, tools: &Tools) -> Result<Route, Error> {
    let route = match to_printer(&pdf.bytes, tools) {
        Ok(answer) => Route::Printer { answer },
        Err(refused) if pdf.holds_a_key => Route::NotPrinted {
            message: format!(
                "{refused}No printer accepted the recovery sheet, and Galen writes it nowhere you did not choose: save \
                 it as a PDF where you choose, print that file, then delete it (with the key file it opens the data)."
            ),
        },
        Err(refused) => leave_for_viewer(clinic, pdf, tools, &refused)?,
    };
    let how = match &route {
        Route::Printer { .. } => "printer",
        Route::Viewer { .. } => "viewer",
        Route::Saved { .. } => "saved",
        Route::NotPrinted { .. } => "not_printed",
    };
    if !matches!(route, Route::NotPrinted { .. }) {
        pdf.record(clinic, "print")?;
    }
    tracing::info!(route = how, "printout sent");
    Ok(route)
}

fn default_printer(tools: &Tools) -> Option<String> {
    let out = Command::new(tools.lpstat.as_ref()?).arg("-d").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "system default destination: Office"
    let name = text.split_once(':')?.1.trim();
    (out.status.success() && !name.is_empty()).then(|| name.to_owned())
}

/// Queues `bytes` with CUPS through `lp`'s standard input, so no copy is written; `lp` reads it all before it
/// answers. On failure, why, as the first sentence of the message to show ("" when there is no printer).
fn to_printer(bytes: &[u8], tools: &Tools) -> Result<String, String> {
    let (Some(lp), Some(_)) = (&tools.lp, default_printer(tools)) else { return Err(String::new()) };
    let run = || -> std::io::Result<std::process::Output> {
        let mut child = Command::new(lp)
            .args(["-t", "Galen"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // A write error (lp gave up early) shows in its exit status and stderr below.
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(bytes);
        }
        child.wait_with_output()
    };
    match run() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        Ok(out) => Err(format!("The printer refused the job ({}). ", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => Err(format!("lp could not be started ({e}). ")),
    }
}

/// Writes a copy to the printouts folder and opens it in the viewer, or says where it is when there is none.
fn leave_for_viewer(clinic: &Clinic, pdf: &Pdf, tools: &Tools, refused: &str) -> Result<Route, Error> {
    let dir = clinic.vault().printouts_dir();
    crate::vault::create_private_dir(&dir)?;
    let path = dir.join(&pdf.file_name);
    write_private(&path, &pdf.bytes)?;
    if let Some(viewer) = &tools.viewer {
        if Command::new(viewer).arg(&path).spawn().is_ok() {
            let printer_refused = Some(refused.trim()).filter(|r| !r.is_empty()).map(str::to_owned);
            return Ok(Route::Viewer { program: viewer.display().to_string(), path, printer_refused });
        }
    }
    let message = format!(
        "{refused}No printer or PDF viewer was found (Galen prints with CUPS's lp, or opens the PDF with xdg-open). \
         The PDF is saved at {}; open it and print it from there. It is deleted when you lock or sign out.",
        path.display()
    );
    Ok(Route::Saved { message, path })
}
