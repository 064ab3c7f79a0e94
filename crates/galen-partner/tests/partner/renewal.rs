//! Certificates expire (a clinic's and a partner's last two years); both are renewed from the CA the other side
//! already trusts, so sync goes on without pairing again.

use crate::support::*;
use galen_core::clock::FakeClock;
use galen_core::{audit, site};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

fn client_certificate(c: &ClinicDir) -> String {
    site::identity(&c.clinic, &c.admin).expect("identity").expect("made").client_certificate
}

/// A clinic whose site identity was made 740 days ago: its client certificate expired ten days ago. Its next
/// sync renews it from the site CA, and the real partner (on the real clock) accepts the new one.
#[test]
fn an_expired_clinic_certificate_is_renewed_at_the_next_sync_and_the_partner_accepts_it() {
    let clock = FakeClock::new(OffsetDateTime::now_utc() - Duration::days(740));
    let mut mar = new_clinic_with_clock("Clínica Mar", Arc::new(clock.clone()));
    let partner = new_partner();
    partner.pair(&mar.clinic, &mar.admin);
    let serving = partner.serve(false);
    mar.pair_with(&partner, &format!("https://127.0.0.1:{}", serving.addr.port()));
    let old = client_certificate(&mar);

    clock.advance(Duration::days(740));
    let now = OffsetDateTime::now_utc();
    assert!(galen_proto::certs::expires_at(&old).expect("readable") < now, "the old certificate has expired");
    // Two years later the old sessions have long gone idle: the admin signs in again.
    mar.admin = mar.clinic.login("ana", PASSWORD).expect("admin");
    mar.doctor = mar.clinic.login("rui", PASSWORD).expect("doctor");
    mar.register("Hans", "Müller", true);
    let report = mar.sync();
    assert_eq!(report.pushed, 1, "{report:?}");

    let new = client_certificate(&mar);
    assert_ne!(new, old);
    let until = galen_proto::certs::expires_at(&new).expect("readable");
    assert!(until - now > Duration::days(700), "valid for two more years: {until}");
    let log = audit::list(&mar.clinic, &mar.admin, &audit::Query { limit: 20, ..Default::default() }).expect("log");
    assert!(log.iter().any(|e| e.action == "site.certificate_renewed"), "{log:?}");
    mar.sync();
    assert_eq!(client_certificate(&mar), new, "renewed once, not at every sync");
}

/// The operator renews the partner's server certificate with the binary; the clinic, paired before, syncs with
/// the server on the new certificate without pairing again.
#[test]
fn the_partner_renews_its_certificate_and_clinics_paired_before_keep_syncing() {
    let partner = BinaryPartner::init("Hospital Central");
    let clinic = new_clinic("Clínica Sol");
    partner.pair(&clinic);
    clinic.pair_with_binary(&partner);

    {
        let _server = partner.serve();
        clinic.register("Hans", "Müller", true);
        assert_eq!(clinic.sync().pushed, 1);
    }
    let old = std::fs::read_to_string(partner.path("server.pem")).expect("cert");
    let said = partner.run(&["renew-certificate"]);
    assert!(said.contains("valid until") && said.contains("systemctl restart galen-partner"), "{said}");
    let new = std::fs::read_to_string(partner.path("server.pem")).expect("cert");
    assert_ne!(new, old, "a new certificate");
    assert!(partner.run(&["--check"]).contains("ok:"), "the new key matches the new certificate");
    {
        let _server = partner.serve();
        clinic.register("Maria", "Silva", true);
        let report = clinic.sync();
        assert_eq!(report.pushed, 1, "the clinic trusts the renewed certificate through the CA it paired with");
    }
}
