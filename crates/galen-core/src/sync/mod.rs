//! `sync`: offline-first sharing with one partner server.
//!
//! - **Pairing** ([`pair`]): an admin imports the partner's pairing file and confirms its safety number, read out
//!   of band. From then on the partner's CA is the only root trusted for its HTTPS, and its OpenPGP key the only
//!   key envelopes are encrypted to or accepted from.
//! - **What is shared**: patients whose record says they consented, and those patients' signed documents.
//!   [`run`] first queues, in `sync_outbox`, every such record that changed since it was last shared (by content
//!   hash, per record version in `sync_records`), so an edit made offline is queued at the next run.
//! - **Push**: each queued record is sealed into an envelope ([`envelope`]) and sent in batches. A record leaves
//!   the outbox only when the partner says it is stored (or already was); a dropped connection leaves it queued,
//!   and the re-send is stored once, because the partner is unique on (site, id, version).
//! - **Pull**: envelopes from other sites, relayed by the partner, are opened on every core and applied a page per
//!   transaction, with the cursor moved in the same transaction. An edit that meets a local edit of the same patient is kept
//!   in `sync_conflicts`, beside the local one, for a person to resolve ([`resolve`]); nothing is dropped.
//!
//! Network I/O never holds the database: [`run`] takes the clinic through [`Db`] for each short step.

//! One room per job: `table.rs` (every sync table), `context.rs` (what a run needs), `run.rs` (a run),
//! `schedule.rs` (when the app runs one by itself), `outbox.rs` (push), `inbox.rs` (pull and apply), `client.rs`
//! (HTTPS), `partner.rs` (pairing, status), `conflicts.rs`, `received.rs`. Envelopes and the wire format are `galen_proto`'s.

mod client;
mod conflicts;
mod context;
mod inbox;
mod outbox;
mod partner;
mod received;
mod run;
mod schedule;
pub(crate) mod table;

pub use conflicts::{conflicts, patient_conflicts, resolve, Conflict, Resolution};
pub use partner::{pair, paired, preview, status, Partner, Status};
pub use received::{
    received_document, received_documents, received_for_patient, recently_received, ReceivedDocument, RECENTLY_RECEIVED,
};
pub use run::{permit, run, Db, Permit, Report, Trigger, PULL_PAGES_PER_RUN};
pub use schedule::{background_wait, BACKGROUND_EVERY};
