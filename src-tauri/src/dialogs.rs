//! The native file dialogs, opened by the shell itself. A command that writes or reads a file takes its path
//! from the dialog the person answered in that same command, never from the web page: a compromised page can
//! neither write a backup or a PDF where it likes nor read a file it names. Each command checks the session
//! before it opens a dialog. The page has no dialog permission at all.

use std::path::PathBuf;
use tauri::Window;
use tauri_plugin_dialog::{DialogExt, FilePath};

/// What a dialog offers: its title (in the reader's language, from the page) and one file type.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub title: &'a str,
    pub filter: (&'static str, &'static [&'static str]),
}

/// Where the person chose to save `file_name`, or `None` if they cancelled.
pub async fn save_to(window: &Window, ask: Ask<'_>, file_name: &str) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog(window, &ask).set_file_name(file_name).save_file(move |p| {
        let _ = tx.send(p);
    });
    chosen(rx.await.ok().flatten())
}

/// The file the person chose to open, or `None` if they cancelled.
pub async fn open_from(window: &Window, ask: Ask<'_>) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog(window, &ask).pick_file(move |p| {
        let _ = tx.send(p);
    });
    chosen(rx.await.ok().flatten())
}

/// The folder the person chose, or `None` if they cancelled.
pub async fn folder_from(window: &Window, title: &str) -> Option<PathBuf> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    window.dialog().file().set_parent(window).set_title(title).pick_folder(move |p| {
        let _ = tx.send(p);
    });
    chosen(rx.await.ok().flatten())
}

fn dialog(window: &Window, ask: &Ask<'_>) -> tauri_plugin_dialog::FileDialogBuilder<tauri::Wry> {
    window.dialog().file().set_parent(window).set_title(ask.title).add_filter(ask.filter.0, ask.filter.1)
}

fn chosen(path: Option<FilePath>) -> Option<PathBuf> {
    path.and_then(|p| p.into_path().ok())
}
