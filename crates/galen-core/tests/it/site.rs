//! The site identity a partner will know this clinic by, cross-checked with stock openssl and gpg.

use crate::support::*;
use galen_core::{site, Error, Role};
use std::process::Command;

#[test]
fn an_admin_creates_the_site_identity_once_and_its_parts_check_out_with_openssl_and_gpg() {
    let (fx, clinic, admin) = new_clinic();
    let desk = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    assert!(matches!(site::init(&clinic, &desk), Err(Error::Denied { .. })));
    assert!(site::identity(&clinic, &admin).expect("read").is_none());

    let me = site::init(&clinic, &admin).expect("init");
    assert_eq!(me.name, "Clínica Sol");
    assert!(matches!(site::init(&clinic, &admin), Err(Error::Invalid(_))), "never replaced once made");
    assert_eq!(site::identity(&clinic, &admin).expect("read"), Some(me.clone()));

    // openssl: the client certificate is issued by the site CA and is for client authentication.
    let dir = fx.dir.path();
    std::fs::write(dir.join("ca.pem"), &me.ca_certificate).expect("write");
    std::fs::write(dir.join("client.pem"), &me.client_certificate).expect("write");
    let verify = Command::new("openssl")
        .args(["verify", "-purpose", "sslclient", "-CAfile"])
        .arg(dir.join("ca.pem"))
        .arg(dir.join("client.pem"))
        .output()
        .expect("openssl runs");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));

    // gpg: the pairing file's public key imports, with a signing and an encryption subkey, no secret.
    let file = site::pairing_file(&clinic, &admin).expect("pairing file");
    assert!(!file.openpgp_public_key.contains("PRIVATE KEY"), "public parts only");
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    std::fs::write(dir.join("site.asc"), &file.openpgp_public_key).expect("write");
    let gpg = |args: &[&str]| {
        Command::new("gpg").env("GNUPGHOME", &home).arg("--batch").args(args).output().expect("gpg runs")
    };
    assert!(gpg(&["--import", dir.join("site.asc").to_str().expect("utf8")]).status.success());
    let listing = String::from_utf8_lossy(&gpg(&["--with-colons", "--list-keys"]).stdout).into_owned();
    assert!(listing.contains(&me.openpgp_fingerprint), "{listing}");
    let usages: Vec<&str> =
        listing.lines().filter(|l| l.starts_with("sub:")).map(|l| l.split(':').nth(11).unwrap_or("")).collect();
    assert!(usages.iter().any(|u| u.contains('s')) && usages.iter().any(|u| u.contains('e')), "{usages:?}");

    // The reader recomputes the safety number from the keys; a forged number in the file changes nothing.
    let mut forged = file.clone();
    forged.safety_number = "00000 00000 00000 00000".into();
    let read = site::PairingFile::read(&serde_json::to_string(&forged).expect("json")).expect("reads");
    assert_eq!(read.safety_number, me.safety_number);
    assert_eq!(me.safety_number.len(), 23, "four groups of five digits: {}", me.safety_number);
    // Swapping in another certificate (a man in the middle's) gives another number: that is what people compare.
    let mut swapped = file.clone();
    swapped.ca_certificate = me.client_certificate.clone();
    let read = site::PairingFile::read(&serde_json::to_string(&swapped).expect("json")).expect("reads");
    assert_ne!(read.safety_number, me.safety_number);
    for text in ["{\"format\": \"galen-pairing-9\"}", "not json"] {
        let refused = site::PairingFile::read(text).expect_err("not a pairing file");
        assert!(matches!(refused, site::PairingError::NotAPairingFile), "{text}: {refused:?}");
    }
}
