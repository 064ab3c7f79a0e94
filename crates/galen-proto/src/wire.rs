//! The partner API's request and response bodies (JSON), shared by the partner server and the clinic's client.
//! Envelopes travel as base64 of the binary OpenPGP message.

use crate::anchor::Anchor;
use serde::{Deserialize, Serialize};

/// The most envelopes in one push or pull.
pub const MAX_BATCH: usize = 500;
/// The largest body either side reads: a push request at the partner (enough for a batch of ordinary records), any
/// answer at the clinic. A push answer is a few KB, and the partner packs each pull page to fit
/// ([`fitting_in_a_body`]); so a larger answer is not a partner's, and the clinic stops reading it.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// `POST /api/v1/envelopes`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// Sealed envelopes, base64, at most [`MAX_BATCH`].
    pub envelopes: Vec<String>,
}

/// What became of each pushed envelope, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One result per envelope sent, in order.
    pub results: Vec<PushResult>,
}

/// What the partner did with one pushed envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// Stored now.
    Stored,
    /// This (site, id, version) was already stored with the same contents: a re-send, stored nothing.
    Duplicate,
    /// Refused; `reason` is a [`crate::envelope::Rejection`] code.
    Rejected,
}

/// The partner's answer for one pushed envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    /// Stored, duplicate or rejected.
    pub status: PushStatus,
    /// Why it was rejected: a `Rejection` code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/v1/envelopes?after=SEQ&limit=N`: records from other sites, sealed for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Sealed for the caller, in sequence order.
    pub envelopes: Vec<Pulled>,
    /// More are waiting after the last one here.
    pub more: bool,
}

/// One pulled envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pulled {
    /// The partner's sequence number: the caller's cursor moves past it once it is applied.
    pub seq: i64,
    /// Sealed for the caller, base64.
    pub envelope: String,
}

/// `POST /api/v1/audit-anchor` takes the clinic's newest [`Anchor`] (at most
/// [`crate::anchor::MAX_ANCHOR_BYTES`]) and answers with the one the partner keeps for the site: the one sent if
/// it supersedes the kept one, else the kept one, which the clinic checks against its own log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorResponse {
    /// Whether the anchor sent is now the one kept.
    pub stored: bool,
    /// The anchor the partner keeps for this site.
    pub kept: Anchor,
}

/// How many of `envelopes`, from the first, fit in one [`PullResponse`] of at most [`MAX_BODY_BYTES`]; the partner
/// sends the rest in the next page. A single envelope (at most `MAX_ENVELOPE_BYTES`, base64) always fits.
pub fn fitting_in_a_body(envelopes: &[Pulled]) -> usize {
    // The page's own JSON around its entries, and a comma between them.
    let mut size = r#"{"envelopes":[],"more":false}"#.len();
    envelopes
        .iter()
        .take_while(|pulled| {
            let entry = serde_json::to_vec(pulled).map_or(usize::MAX, |json| json.len());
            size = size.saturating_add(entry).saturating_add(1);
            size <= MAX_BODY_BYTES
        })
        .count()
}

/// An envelope as it travels in a JSON body: base64 of the binary OpenPGP message.
pub fn encode_envelope(bytes: &[u8]) -> String {
    data_encoding::BASE64.encode(bytes)
}

/// The binary OpenPGP message inside a body's envelope string, if it is base64.
pub fn decode_envelope(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE64.decode(text.as_bytes()).ok()
}
