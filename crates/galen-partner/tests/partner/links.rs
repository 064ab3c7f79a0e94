//! What the partner server links: the protocol, never the clinic's storage, printing, keyring or window.

/// `cargo tree` of a package's normal (non-dev) dependencies, one crate name per line.
pub fn dependencies(package: &str, features: &[&str]) -> Vec<String> {
    let mut cmd = std::process::Command::new(env!("CARGO"));
    cmd.args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect()
}

#[test]
fn the_partner_links_the_protocol_but_no_clinic_storage_printing_keyring_or_window() {
    let deps = dependencies("galen-partner", &[]);
    assert!(deps.iter().any(|d| d == "galen-proto"), "the partner speaks galen-proto: {deps:?}");
    for banned in ["galen-core", "printpdf", "lopdf", "keyring", "dbus", "libdbus-sys", "webkit2gtk", "tauri"] {
        assert!(!deps.iter().any(|d| d == banned), "the partner must not link {banned}");
    }
}

/// Envelopes are never compressed and a compressed one is refused unopened (`envelope::Rejection::Compressed`),
/// so sequoia's `compression` feature is off: neither side of sync even links a decompressor a bomb could drive.
#[test]
fn the_partner_and_the_protocol_link_no_decompressor() {
    for package in ["galen-partner", "galen-proto"] {
        let deps = dependencies(package, &[]);
        for banned in ["bzip2", "libbz2-rs-sys", "bzip2-sys", "flate2", "miniz_oxide"] {
            assert!(!deps.iter().any(|d| d == banned), "{package} must not link {banned}");
        }
    }
}

#[test]
fn the_release_cli_does_not_link_the_partner_server() {
    let release = dependencies("galen-cli", &[]);
    for banned in ["galen-partner", "axum", "axum-server"] {
        assert!(!release.iter().any(|d| d == banned), "the release galen must not link {banned}");
    }
    let dev = dependencies("galen-cli", &["dev"]);
    assert!(dev.iter().any(|d| d == "galen-partner"), "`galen bench sync` (the dev feature) runs a real partner");
}
