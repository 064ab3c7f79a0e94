//! Where printouts go on disk (security review, item 1): the recovery sheet is never written anywhere the person did
//! not choose, and other printouts left for a PDF viewer go at lock, sign-out and close. The print tools are
//! stand-in scripts that record what Galen handed them, because no CUPS printer runs here.

use crate::documents::{doctor, rx, DOC_PW};
use crate::support::*;
use galen_core::pdf::{self, print, Printout};
use galen_core::{documents, Clinic, Session};
use std::path::{Path, PathBuf};

/// Stand-ins for `lpstat`, `lp` and the desktop's opener that record their arguments and standard input in `log`.
fn tools(log: &Path, printer: bool, viewer: bool) -> print::Tools {
    use std::os::unix::fs::PermissionsExt;
    let script = |name: &str, body: &str| -> PathBuf {
        let path = log.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write tool");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    };
    let l = log.display();
    print::Tools {
        lp: printer.then(|| {
            script(
                "lp",
                &format!("printf '%s\\n' \"$@\" > {l}/lp.args\ncat > {l}/lp.stdin\necho 'request id is Office-7 (1 file(s))'"),
            )
        }),
        lpstat: printer.then(|| script("lpstat", "echo 'system default destination: Office'")),
        viewer: viewer.then(|| script("viewer", &format!("printf '%s\\n' \"$@\" > {l}/viewer.args"))),
    }
}

fn printouts(fx: &Fixture) -> Vec<PathBuf> {
    match std::fs::read_dir(fx.vault.printouts_dir()) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn the_recovery_sheet_reaches_the_printer_on_standard_input_and_no_file_is_written() {
    let (fx, clinic, _admin) = new_clinic();
    let log = tempfile::tempdir().expect("tmp");
    let sheet = pdf::recovery_sheet(&clinic, &fx.recovery).expect("sheet");
    let printed = print::print(&clinic, &sheet, &tools(log.path(), true, true)).expect("print");
    assert!(matches!(&printed, print::Route::Printer { answer } if answer.contains("Office-7")), "{printed:?}");
    let args = std::fs::read_to_string(log.path().join("lp.args")).expect("lp ran");
    assert!(!args.contains(".pdf") && !args.contains('/'), "lp is given no file to read: {args:?}");
    assert_eq!(std::fs::read(log.path().join("lp.stdin")).expect("stdin"), sheet.bytes, "the sheet went on stdin");
    assert!(printouts(&fx).is_empty(), "nothing left in the data folder: {:?}", printouts(&fx));
}

#[test]
fn without_a_printer_the_recovery_sheet_is_not_written_and_no_viewer_opens() {
    let (fx, clinic, _admin) = new_clinic();
    let log = tempfile::tempdir().expect("tmp");
    let sheet = pdf::recovery_sheet(&clinic, &fx.recovery).expect("sheet");
    for viewer in [true, false] {
        let printed = print::print(&clinic, &sheet, &tools(log.path(), false, viewer)).expect("answers");
        let print::Route::NotPrinted { message } = &printed else { panic!("not printed: {printed:?}") };
        assert!(message.contains("save it as a PDF where you choose"), "says what to do instead: {message}");
        assert!(!log.path().join("viewer.args").exists(), "no viewer is handed the sheet");
        assert!(printouts(&fx).is_empty(), "the sheet is written nowhere: {:?}", printouts(&fx));
    }
}

/// What the viewer was asked to open; it runs in the background, so wait for it.
fn viewer_argument(log: &Path) -> String {
    let started = std::time::Instant::now();
    loop {
        match std::fs::read_to_string(log.join("viewer.args")) {
            Ok(args) if args.ends_with('\n') => return args.trim().to_owned(),
            _ if started.elapsed() > std::time::Duration::from_secs(10) => panic!("the viewer never ran"),
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
}

/// A signed prescription sent to the viewer, and the copy the viewer was given.
fn print_to_viewer(clinic: &Clinic, doc: &Session, log: &Path) -> PathBuf {
    let pid = register(clinic, doc, &patient("Ana", "Albuquerque")).expect("register");
    let draft = documents::create_draft(clinic, doc, pid, rx(clinic)).expect("draft");
    let signed = documents::sign(clinic, doc, draft.id, DOC_PW, true).expect("sign");
    let rendered = pdf::render(clinic, doc, &Printout::Document(signed.id)).expect("render");
    let _ = std::fs::remove_file(log.join("viewer.args"));
    print::print(clinic, &rendered, &tools(log, false, true)).expect("print");
    let copy = PathBuf::from(viewer_argument(log));
    assert!(copy.is_file(), "the viewer's copy is there while it is needed: {copy:?}");
    copy
}

#[test]
fn printouts_left_for_the_viewer_go_at_lock_sign_out_and_idle_lock() {
    let (_fx, clinic, admin, clock) = new_clinic_with_clock();
    let log = tempfile::tempdir().expect("tmp");
    let doc = doctor(&clinic, &admin);

    let copy = print_to_viewer(&clinic, &doc, log.path());
    clinic.lock(&doc).expect("lock");
    assert!(!copy.exists(), "locking removes the viewer's copy");
    clinic.unlock(&doc, DOC_PW).expect("unlock");

    let copy = print_to_viewer(&clinic, &doc, log.path());
    clock.advance(time::Duration::hours(2));
    assert!(clinic.check_idle(&doc).expect("idle"), "locked when idle");
    assert!(!copy.exists(), "the idle lock removes it too");

    let doc = clinic.login("rui", DOC_PW).expect("sign in again");
    let copy = print_to_viewer(&clinic, &doc, log.path());
    clinic.logout(doc).expect("sign out");
    assert!(!copy.exists(), "signing out removes it");
}

/// What a crash left behind (no lock, no sign-out, no close) goes when the clinic is next opened.
#[test]
fn opening_the_clinic_removes_printouts_a_crash_left() {
    let (fx, clinic, _admin) = new_clinic();
    let spool = fx.vault.printouts_dir();
    std::fs::create_dir_all(&spool).expect("spool");
    std::fs::write(spool.join("prescription-left.pdf"), "%PDF").expect("write");
    drop(clinic);
    let _reopened = Clinic::open(fx.vault.clone()).expect("reopen");
    assert!(printouts(&fx).is_empty(), "{:?}", printouts(&fx));
}

#[test]
fn a_signed_prescription_goes_to_the_printer_on_standard_input_and_is_audited() {
    let (fx, clinic, admin) = new_clinic();
    let log = tempfile::tempdir().expect("tmp");
    let doc = doctor(&clinic, &admin);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let draft = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    let signed = documents::sign(&clinic, &doc, draft.id, DOC_PW, true).expect("sign");
    let rendered = pdf::render(&clinic, &doc, &Printout::Document(signed.id)).expect("render");
    let printed = print::print(&clinic, &rendered, &tools(log.path(), true, true)).expect("print");
    assert!(matches!(&printed, print::Route::Printer { answer } if answer.contains("Office-7")), "{printed:?}");
    assert_eq!(std::fs::read(log.path().join("lp.stdin")).expect("stdin"), rendered.bytes, "the PDF went on stdin");
    let args = std::fs::read_to_string(log.path().join("lp.args")).expect("lp ran");
    assert_eq!(args, "-t\nGalen\n", "lp is given a title and no file to read");
    assert!(!log.path().join("viewer.args").exists(), "no viewer opened");
    assert!(printouts(&fx).is_empty(), "no copy in the data folder: {:?}", printouts(&fx));
    let audit = galen_core::audit::list(&clinic, &admin, &galen_core::audit::Query { limit: 5, ..Default::default() });
    let printed_rows = audit.expect("audit").into_iter().filter(|e| e.action == "pdf.print.document").count();
    assert_eq!(printed_rows, 1, "the print is in the audit trail");
}

#[test]
fn a_printer_that_refuses_the_job_hands_the_document_to_the_viewer_with_the_reason() {
    let (_fx, clinic, admin) = new_clinic();
    let log = tempfile::tempdir().expect("tmp");
    let doc = doctor(&clinic, &admin);
    let mut refusing = tools(log.path(), true, true);
    let lp = log.path().join("lp-refusing");
    std::fs::write(&lp, "#!/bin/sh\ncat >/dev/null\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n")
        .expect("write");
    std::fs::set_permissions(&lp, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    refusing.lp = Some(lp);
    let pid = register(&clinic, &doc, &patient("Ana", "Albuquerque")).expect("register");
    let draft = documents::create_draft(&clinic, &doc, pid, rx(&clinic)).expect("draft");
    let signed = documents::sign(&clinic, &doc, draft.id, DOC_PW, true).expect("sign");
    let rendered = pdf::render(&clinic, &doc, &Printout::Document(signed.id)).expect("render");
    let printed = print::print(&clinic, &rendered, &refusing).expect("print");
    let print::Route::Viewer { path, printer_refused, .. } = &printed else { panic!("to the viewer: {printed:?}") };
    assert_eq!(
        printer_refused.as_deref(),
        Some("The printer refused the job (lp: The printer or class does not exist.)."),
        "the person learns why the viewer opened"
    );
    assert_eq!(viewer_argument(log.path()), path.display().to_string(), "the viewer got the copy");
    assert_eq!(std::fs::read(path).expect("copy"), rendered.bytes);
    clinic.logout(doc).expect("sign out");
    assert!(!path.exists(), "the viewer's copy goes at sign-out");
}

/// The app's background work (a scheduled backup) opens a second connection beside the person's: it leaves the
/// printout they may be viewing alone, where opening the clinic afresh (after a crash) clears them.
#[test]
fn a_connection_opened_beside_the_app_leaves_printouts_being_viewed() {
    let (fx, clinic, admin) = new_clinic();
    let doc = doctor(&clinic, &admin);
    let log = tempfile::tempdir().expect("tmp");
    let viewed = print_to_viewer(&clinic, &doc, log.path());
    assert!(viewed.exists());
    let beside = galen_core::Clinic::open_beside(fx.vault.clone()).expect("a second connection");
    assert!(viewed.exists(), "the printout being viewed is still there");
    drop(beside);
    let _afresh = galen_core::Clinic::open(fx.vault.clone()).expect("open afresh");
    assert!(!viewed.exists(), "opening afresh clears what a crash left behind");
}
