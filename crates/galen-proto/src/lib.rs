//! # galen-proto
//!
//! What a Galen clinic and its partner server both speak, and nothing else: a partner links this crate, never
//! the clinic's storage, printing or keyring.
//!
//! - [`anchor`]: the head of a clinic's audit chain, signed by its site key, as the clinic and its partner keep it.
//! - [`envelope`]: one record in transit, signed by the sender's OpenPGP site key and encrypted to the receiver's,
//!   and every reason one is refused.
//! - [`wire`]: the partner API's JSON bodies (`/api/v1/envelopes`, `/api/v1/audit-anchor`).
//! - [`pairing`]: pairing files and the safety number people compare out of band.
//! - [`certs`]: the CA and certificates behind mutually authenticated HTTPS.
//!
//! ```
//! use galen_proto::envelope::{self, Kind, Meta, OwnKey, PeerKey, Plaintext};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let site = OwnKey::from_armored(&OwnKey::generate("Clínica Sol (Galen site)")?)?;
//! let partner = OwnKey::from_armored(&OwnKey::generate("Hospital (Galen partner)")?)?;
//! let now = time::OffsetDateTime::now_utc();
//! let plaintext = Plaintext {
//!     meta: Meta {
//!         format: envelope::FORMAT.into(),
//!         id: uuid::Uuid::now_v7().to_string(),
//!         version: 1,
//!         created_at: galen_proto::rfc3339(now),
//!         nonce: envelope::new_nonce(),
//!         sender: site.fingerprint(),
//!         recipient: partner.fingerprint(),
//!         origin: site.fingerprint(),
//!         kind: Kind::Patient,
//!     },
//!     payload: serde_json::json!({ "given_names": "Ana" }),
//! };
//! let sealed = envelope::seal(&site, &PeerKey::from_armored(&partner.public_armored())?, &plaintext)?;
//! let opened = envelope::open(&partner, &[PeerKey::from_armored(&site.public_armored())?], &sealed, now)?;
//! assert_eq!(opened.plaintext, plaintext);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod anchor;
pub mod certs;
pub mod envelope;
pub mod pairing;
pub mod wire;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// RFC 3339 in UTC to the millisecond, e.g. `2026-11-21T09:42:43.242Z`: how both sides write times.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).unwrap_or(t);
    // Any UTC timestamp in range formats as RFC 3339.
    t.format(&Rfc3339).unwrap_or_default()
}
