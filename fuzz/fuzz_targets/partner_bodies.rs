//! The partner API's JSON bodies: each request the partner reads (a push, an audit anchor) and each answer a
//! clinic reads (push results, a pull page, the anchor kept). The first byte picks the type.
#![no_main]
use galen_proto::anchor::Anchor;
use galen_proto::wire::{self, AnchorResponse, PullResponse, PushRequest, PushResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    match which % 5 {
        0 => {
            if let Ok(push) = serde_json::from_slice::<PushRequest>(body) {
                for e in &push.envelopes {
                    let _ = wire::decode_envelope(e);
                }
            }
        }
        1 => {
            if let Ok(anchor) = serde_json::from_slice::<Anchor>(body) {
                let _ = anchor.well_formed();
            }
        }
        2 => {
            let _ = serde_json::from_slice::<PushResponse>(body);
        }
        3 => {
            if let Ok(page) = serde_json::from_slice::<PullResponse>(body) {
                let _ = wire::fitting_in_a_body(&page.envelopes);
                for p in &page.envelopes {
                    let _ = wire::decode_envelope(&p.envelope);
                }
            }
        }
        _ => {
            let _ = serde_json::from_slice::<AnchorResponse>(body);
        }
    }
});
