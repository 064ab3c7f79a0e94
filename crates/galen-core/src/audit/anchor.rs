//! The audit log's anchor: its head (newest row number and hash), signed by the clinic's OpenPGP site key, kept
//! outside the database so that cutting the log's newest rows shows (`galen_proto::anchor`). A backup makes the
//! site key if the clinic has none yet (`site::ensure_key`); until then, the file's anchors are unsigned, and say
//! so. Once the clinic has a site key, an anchor file it did not sign is ignored.
//!
//! ```text
//! <data dir>/galen.audit-anchor   the newest known anchor, JSON; owner-only, written whole (like the key file)
//! ```
//!
//! It is written from the head at each natural checkpoint: sign-out, lock and idle lock, each verification,
//! backup and sync run, and the desktop app's exit. It is never lowered: while the file's anchor shows the log was
//! cut, it stays as it is (a restore, which records what it replaced, is the one way it goes back). Each backup
//! carries the anchor of what it holds, and each sync sends the anchor to the partner, which keeps the newest per
//! site and hands it back: an anchor that shows the log was cut takes the file's place, so removing the file does
//! not hide a cut the partner saw.

use super::table::{self, Break, Head};
use crate::error::Result;
use crate::keyfile::write_atomically;
use crate::store::Store;
use crate::vault::Vault;
use galen_proto::anchor::{Anchor, MAX_ANCHOR_BYTES};
use galen_proto::envelope::{OwnKey, PeerKey};
use rusqlite::Connection;
use std::io::Read;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The anchor of the log `conn` holds (database `db_id`) as it stands, signed with its site key if the clinic has
/// one; `None` for an empty log.
pub(crate) fn of_head(conn: &Connection, db_id: &str, now: OffsetDateTime) -> Result<Option<Anchor>> {
    let Some(head) = table::head(conn)? else { return Ok(None) };
    let anchor = Anchor::new(db_id, head.row, &head.hash, now);
    let Some(key) = site_key(conn)? else { return Ok(Some(anchor)) };
    match anchor.clone().signed_by(&key) {
        Ok(signed) => Ok(Some(signed)),
        Err(e) => {
            // An unsigned anchor still tells this computer where the log stood.
            tracing::warn!(error = %e, "the audit anchor could not be signed");
            Ok(Some(anchor))
        }
    }
}

/// The site key, if the clinic has made its site identity.
fn site_key(conn: &Connection) -> Result<Option<OwnKey>> {
    let Some((_, _, _, tsk)) = crate::site::table::public_parts(conn)? else { return Ok(None) };
    Ok(OwnKey::from_armored(&tsk).ok())
}

/// The site key's public half, to check anchors with.
pub(crate) fn site_peer(conn: &Connection) -> Result<Option<PeerKey>> {
    Ok(site_key(conn)?.and_then(|key| PeerKey::from_armored(&key.public_armored()).ok()))
}

/// The anchor file, read: `None` if there is none or it is not an anchor (a warning is logged).
pub(crate) fn load(vault: &Vault) -> Option<Anchor> {
    let path = vault.anchor_path();
    // Only a plain file is read (a FIFO or a device put in its place would block or never end).
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            tracing::warn!("the audit anchor file is not a plain file; it is ignored");
            return None;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(error = %e, "the audit anchor file cannot be read");
            return None;
        }
    }
    let mut text = Vec::new();
    match std::fs::File::open(&path).and_then(|f| f.take(MAX_ANCHOR_BYTES as u64 + 1).read_to_end(&mut text)) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(error = %e, "the audit anchor file cannot be read");
            return None;
        }
    }
    let anchor = serde_json::from_slice::<Anchor>(&text).ok().filter(|a| a.well_formed().is_ok());
    if anchor.is_none() {
        tracing::warn!("the audit anchor file is not an audit anchor; it is ignored");
    }
    anchor
}

/// Writes the anchor file whole (temporary file, fsync, rename), owner-only.
pub(crate) fn save(vault: &Vault, anchor: &Anchor) -> Result<()> {
    // Strings and a number always serialize.
    #[allow(clippy::expect_used)]
    let json = serde_json::to_vec_pretty(anchor).expect("an anchor serializes");
    write_atomically(&vault.anchor_path(), &json)
}

/// The anchor file's anchor if it is this log's (see [`current_in`]).
pub(crate) fn current(vault: &Vault, store: &Store) -> Result<Option<Anchor>> {
    current_in(vault, store.conn(), &store.db_id()?)
}

/// The anchor file's anchor if it is the log's in `conn` (database `db_id`): the same database and, once the
/// clinic has a site key, signed by it, unless it is an unsigned anchor made before the key was (so the key's
/// making never erases what an unsigned anchor showed). A forged, foreign or later unsigned one is ignored, with a
/// warning: the file sits outside the encrypted database, so it is read as untrusted.
pub(crate) fn current_in(vault: &Vault, conn: &Connection, db_id: &str) -> Result<Option<Anchor>> {
    let Some(anchor) = load(vault) else { return Ok(None) };
    if anchor.db_id != db_id {
        tracing::warn!("the audit anchor file belongs to another database; it is ignored");
        return Ok(None);
    }
    if let Some(key) = site_peer(conn)? {
        let keyed_at = crate::site::table::created_at(conn)?.and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok());
        let made_before_the_key = anchor.signature.is_none()
            && matches!((anchor.made_at(), keyed_at), (Some(made), Some(keyed)) if made <= keyed);
        if !made_before_the_key && anchor.check(&key).is_err() {
            tracing::warn!("the audit anchor file is not signed by this clinic's site key; it is ignored");
            return Ok(None);
        }
    }
    Ok(Some(anchor))
}

/// How the log falls short of `anchor`, if it does (see `table::check_anchor`).
pub(crate) fn check(conn: &Connection, anchor: &Anchor) -> Result<Option<Break>> {
    let head = Head { row: anchor.row, hash: anchor.hash.clone() };
    table::check_anchor(conn, &head, anchor.made_at())
}

/// Writes the log's head to the anchor file, unless the file's anchor shows the log was cut (then it stays, for
/// `audit verify` to report).
pub(crate) fn refresh(vault: &Vault, store: &Store, now: OffsetDateTime) -> Result<()> {
    if let Some(kept) = current(vault, store)? {
        if let Some(brk) = check(store.conn(), &kept)? {
            tracing::warn!(anchored = kept.row, problem = %brk, "the audit log does not reach its anchor");
            return Ok(());
        }
    }
    if let Some(anchor) = of_head(store.conn(), &store.db_id()?, now)? {
        save(vault, &anchor)?;
    }
    Ok(())
}

/// Takes the anchor the partner keeps for this clinic (already checked against the site key): if the log does
/// not reach it, it is kept in the file (unless the file's own anchor shows a cut further on); else the file is
/// refreshed from the head.
pub(crate) fn take_partner_copy(vault: &Vault, store: &Store, copy: &Anchor, now: OffsetDateTime) -> Result<()> {
    let Some(brk) = check(store.conn(), copy)? else { return refresh(vault, store, now) };
    tracing::warn!(anchored = copy.row, problem = %brk, "the partner's audit anchor shows the log was cut");
    if let Some(kept) = current(vault, store)? {
        if kept.row >= copy.row && check(store.conn(), &kept)?.is_some() {
            return Ok(());
        }
    }
    save(vault, copy)?;
    Ok(())
}
