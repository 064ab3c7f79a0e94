//! The packaging, checked without building a package (installers/check-packages does the slow real thing):
//! the bundle configuration declares what the issue asks, its files exist, and the release command names a
//! missing prerequisite instead of failing obscurely.

use crate::harness::workspace;
use serde_json::Value;

fn config() -> Value {
    let path = workspace().join("src-tauri/tauri.conf.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("tauri.conf.json")).expect("valid JSON")
}

#[test]
fn the_bundle_declares_its_dependencies_icons_licence_and_desktop_entry() {
    let c = config();
    let bundle = &c["bundle"];
    let targets: Vec<&str> = bundle["targets"].as_array().expect("targets").iter().filter_map(Value::as_str).collect();
    for t in ["deb", "rpm", "appimage", "nsis", "msi", "dmg"] {
        assert!(targets.contains(&t), "{t} is configured");
    }
    let depends: Vec<&str> =
        bundle["linux"]["deb"]["depends"].as_array().expect("deb depends").iter().filter_map(Value::as_str).collect();
    for d in ["libssl3", "libdbus-1-3"] {
        assert!(depends.contains(&d), "the .deb depends on {d}");
    }
    assert!(depends.iter().any(|d| d.contains("gnome-keyring")), "a Secret Service provider: {depends:?}");
    assert_eq!(bundle["license"], "AGPL-3.0-or-later");
    let src_tauri = workspace().join("src-tauri");
    for icon in bundle["icon"].as_array().expect("icons") {
        let path = src_tauri.join(icon.as_str().expect("path"));
        assert!(path.is_file(), "{} exists (made from assets/icons/galen.svg)", path.display());
    }
    for kind in ["deb", "rpm"] {
        let template = src_tauri.join(bundle["linux"][kind]["desktopTemplate"].as_str().expect("template"));
        let text = std::fs::read_to_string(&template).expect("desktop template");
        assert!(text.contains("Categories=Office;MedicalSoftware;") && text.contains("Exec={{exec}}"), "{text}");
        let files = bundle["linux"][kind]["files"].as_object().expect("files");
        assert!(files.contains_key("/usr/bin/galen"), "the {kind} ships the CLI on PATH");
        for (_, source) in files.iter().filter(|(dest, _)| dest.starts_with("/usr/share/doc")) {
            assert!(src_tauri.join(source.as_str().expect("path")).is_file(), "{source} exists");
        }
    }
    let cargo = std::fs::read_to_string(workspace().join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        cargo.contains(&format!("version = {}", c["version"])),
        "tauri.conf.json and Cargo.toml agree on the version"
    );
}

#[test]
fn the_release_command_names_a_missing_prerequisite() {
    let empty = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new("/bin/bash")
        .arg(workspace().join("installers/dist"))
        .env("PATH", empty.path())
        .output()
        .expect("bash runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: cargo is missing: install Rust with rustup"), "{stderr}");
}
