//! An envelope opened by the partner (from a paired clinic) and by a clinic (from its partner).
#![no_main]
use galen_proto::envelope::{open, OwnKey, PeerKey};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const CLINIC: &str = include_str!("../keys/clinic.tsk.asc");
const PARTNER: &str = include_str!("../keys/partner.tsk.asc");

struct Keys {
    clinic: OwnKey,
    partner: OwnKey,
    clinic_peer: Vec<PeerKey>,
    partner_peer: Vec<PeerKey>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let clinic = OwnKey::from_armored(CLINIC).expect("clinic test key");
        let partner = OwnKey::from_armored(PARTNER).expect("partner test key");
        let clinic_peer = vec![PeerKey::from_armored(&clinic.public_armored()).expect("clinic peer")];
        let partner_peer = vec![PeerKey::from_armored(&partner.public_armored()).expect("partner peer")];
        Keys { clinic, partner, clinic_peer, partner_peer }
    })
}

fuzz_target!(|data: &[u8]| {
    let k = keys();
    let now = time::OffsetDateTime::now_utc();
    let _ = open(&k.partner, &k.clinic_peer, data, now);
    let _ = open(&k.clinic, &k.partner_peer, data, now);
});
