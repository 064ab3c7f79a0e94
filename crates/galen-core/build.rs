//! Collects every table's migrations, `src/<module>/migrations/NNNN_<what>.sql`, into the one list the runner
//! reads (`store/migrate.rs`): the SQL sits beside the module that owns the table, and the runner knows only
//! the files, never the modules.

use std::path::{Path, PathBuf};

fn main() {
    let src = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("src");
    println!("cargo:rerun-if-changed=src");
    let mut found = Vec::new();
    collect(&src, &mut found);
    found.sort();
    let mut list = String::from("&[\n");
    for (version, path) in found {
        list += &format!("    Migration {{ version: {version}, sql: include_str!({:?}) }},\n", path.to_string_lossy());
    }
    list += "]\n";
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migrations.rs");
    std::fs::write(out, list).expect("write the migration list");
}

/// Every `migrations/NNNN_*.sql` below `dir`, with its version.
fn collect(dir: &Path, found: &mut Vec<(u32, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, found);
        } else if path.extension().is_some_and(|e| e == "sql")
            && path.parent().and_then(Path::file_name).is_some_and(|p| p == "migrations")
        {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let version = name.split('_').next().and_then(|v| v.parse().ok());
            let version = version.unwrap_or_else(|| panic!("{name}: a migration's file name starts with its version"));
            found.push((version, path));
        }
    }
}
