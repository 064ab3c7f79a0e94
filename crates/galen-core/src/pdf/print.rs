//! The system print path: CUPS's `lp` where there is a default printer, else the desktop's PDF viewer (whose
//! print dialog the user then uses), else a plain message saying where the PDF was saved.

use super::{write_private, Pdf};
use crate::clinic::Clinic;
use crate::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a printout left Galen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Queued with CUPS.
    Printer {
        /// `lp`'s own answer, e.g. "request id is Office-12 (1 file(s))".
        answer: String,
    },
    /// Opened in the system's PDF viewer, to print from there.
    Viewer {
        /// The viewer that was started.
        program: String,
    },
    /// Nothing to print with.
    Saved {
        /// What to do, and where the PDF is.
        message: String,
    },
}

/// Where a printout went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// Where the PDF was written (removed again once CUPS has its own copy).
    pub path: PathBuf,
    /// How it left Galen.
    pub route: Route,
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

/// Sends a rendered PDF down the print path and audits it as `pdf.print.<what>`.
pub fn print(clinic: &Clinic, pdf: &Pdf, tools: &Tools) -> Result<Printed, Error> {
    let dir = clinic.vault().printouts_dir();
    crate::vault::create_private_dir(&dir)?;
    clinic.vault().sweep_printouts();
    let path = dir.join(&pdf.file_name);
    write_private(&path, &pdf.bytes)?;
    let route = send(&path, tools);
    if let Route::Printer { .. } = route {
        // CUPS copied the job into its spool; do not leave patient data lying around.
        let _ = std::fs::remove_file(&path);
    }
    pdf.record(clinic, "print")?;
    let how = match &route {
        Route::Printer { .. } => "printer",
        Route::Viewer { .. } => "viewer",
        Route::Saved { .. } => "saved",
    };
    tracing::info!(route = how, "printout sent");
    Ok(Printed { path, route })
}

fn default_printer(tools: &Tools) -> Option<String> {
    let out = Command::new(tools.lpstat.as_ref()?).arg("-d").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "system default destination: Office"
    let name = text.split_once(':')?.1.trim();
    (out.status.success() && !name.is_empty()).then(|| name.to_owned())
}

fn send(path: &Path, tools: &Tools) -> Route {
    let mut refused = String::new();
    if let (Some(lp), Some(_)) = (&tools.lp, default_printer(tools)) {
        match Command::new(lp).arg("--").arg(path).output() {
            Ok(out) if out.status.success() => {
                return Route::Printer { answer: String::from_utf8_lossy(&out.stdout).trim().to_owned() };
            }
            Ok(out) => {
                refused = format!("The printer refused the job ({}). ", String::from_utf8_lossy(&out.stderr).trim())
            }
            Err(e) => refused = format!("lp could not be started ({e}). "),
        }
    }
    if let Some(viewer) = &tools.viewer {
        if Command::new(viewer).arg(path).spawn().is_ok() {
            return Route::Viewer { program: viewer.display().to_string() };
        }
    }
    Route::Saved {
        message: format!(
            "{refused}No printer or PDF viewer was found (Galen prints with CUPS's lp, or opens the PDF with \
             xdg-open). The PDF is saved at {}; open it and print it from there.",
            path.display()
        ),
    }
}
