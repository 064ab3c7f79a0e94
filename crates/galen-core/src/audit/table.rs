//! Table `audit_log`: the tamper-evident audit trail. Each row's hash is SHA-256 over the row's canonical bytes plus
//! the previous row's hash, so editing, deleting, inserting or reordering rows breaks the chain at a row that
//! `verify` names. Rows hold ids, never clinical text.
//!
//! The chain proves the log was not altered by someone without the ability to recompute it; a person holding
//! the database key could rewrite the whole tail consistently. An outside anchor (the partner server, a printed
//! head hash) closes that gap later.

use crate::error::{Error, Result as StoreResult};
use crate::permissions::Role;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who did something: a signed-in user, or the system itself (setup, a restore from the recovery key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The account, if a person acted.
    pub user_id: Option<i64>,
    /// The account's username, or `(system)`, `(sync)`, `(unknown)`.
    pub username: String,
    /// Their role at the time.
    pub role: Option<Role>,
    /// Acting under emergency access.
    pub break_glass: bool,
}

impl Actor {
    /// Galen itself (setup, a restore from the recovery key).
    pub fn system() -> Self {
        Self { user_id: None, username: "(system)".into(), role: None, break_glass: false }
    }

    /// What sync does by itself (a background run, renewing the client certificate, records it received).
    pub fn sync() -> Self {
        Self { username: "(sync)".into(), ..Self::system() }
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// Tried and failed (a wrong password, a broken chain).
    Failed,
    /// Refused by the permission table.
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
        }
    }
}

/// One row as stored. Do not change the fields or their order in `canonical`: they are hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The row number, in order of writing.
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The acting account, if a person.
    pub user_id: Option<i64>,
    /// Who: a username or `(system)`.
    pub username: String,
    /// Their role then, empty for the system.
    pub role: String,
    /// What was done, e.g. `document.sign`.
    pub action: String,
    /// The kind of thing acted on, e.g. `patient`.
    pub entity_type: String,
    /// Its id (never a name).
    pub entity_id: String,
    /// `ok`, `failed` or `denied`.
    pub outcome: String,
    /// Under emergency access.
    pub break_glass: bool,
    /// The previous row's hash (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over this row and `prev_hash`.
    pub hash: String,
}

impl Entry {
    /// The bytes that are hashed: a JSON array in fixed order, then the previous row's hash.
    fn chained_hash(&self) -> String {
        let fields = (
            &self.at,
            self.user_id,
            &self.username,
            &self.role,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            &self.outcome,
            self.break_glass,
        );
        // A tuple of strings, integers and booleans always serializes.
        #[allow(clippy::expect_used)]
        let mut bytes = serde_json::to_vec(&fields).expect("audit row serializes");
        bytes.extend_from_slice(self.prev_hash.as_bytes());
        data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes))
    }
}

/// Appends one row, chained to the last. Call it inside the transaction of the action it records.
pub(crate) fn record(
    conn: &Connection,
    at: &str,
    actor: &Actor,
    action: &str,
    entity: (&str, &str),
    outcome: Outcome,
) -> Result<(), Error> {
    let prev_hash: String = conn
        .query_row("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS.to_owned());
    let mut e = Entry {
        id: 0,
        at: at.to_owned(),
        user_id: actor.user_id,
        username: actor.username.clone(),
        role: actor.role.map(Role::as_str).unwrap_or_default().to_owned(),
        action: action.to_owned(),
        entity_type: entity.0.to_owned(),
        entity_id: entity.1.to_owned(),
        outcome: outcome.as_str().to_owned(),
        break_glass: actor.break_glass,
        prev_hash,
        hash: String::new(),
    };
    e.hash = e.chained_hash();
    conn.execute(
        "INSERT INTO audit_log (at, user_id, username, role, action, entity_type, entity_id, outcome, break_glass,
                                prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        rusqlite::params![
            e.at,
            e.user_id,
            e.username,
            e.role,
            e.action,
            e.entity_type,
            e.entity_id,
            e.outcome,
            e.break_glass,
            e.prev_hash,
            e.hash
        ],
    )?;
    Ok(())
}

fn read_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at: r.get(1)?,
        user_id: r.get(2)?,
        username: r.get(3)?,
        role: r.get(4)?,
        action: r.get(5)?,
        entity_type: r.get(6)?,
        entity_id: r.get(7)?,
        outcome: r.get(8)?,
        break_glass: r.get(9)?,
        prev_hash: r.get(10)?,
        hash: r.get(11)?,
    })
}

const SELECT: &str = "SELECT id, at, user_id, username, role, action, entity_type, entity_id, outcome, break_glass,
                             prev_hash, hash FROM audit_log";

/// Where the chain first breaks, and how. The front ends word it (the CLI through `Display`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Break {
    /// The row's content no longer matches its own hash.
    Edited {
        /// The edited row.
        row: i64,
    },
    /// Rows `from..=to` are missing before the next surviving row.
    Deleted {
        /// The first missing row.
        from: i64,
        /// The last missing row.
        to: i64,
    },
    /// A row that the chain never linked was put in.
    Inserted {
        /// The row put in.
        row: i64,
    },
    /// The row is intact but in the wrong place.
    Reordered {
        /// The moved row.
        row: i64,
        /// The row it belongs after.
        #[serde(rename = "belongsAfter")]
        belongs_after: i64,
    },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Edited { row } => write!(f, "row {row} was edited: its contents no longer match its hash"),
            Break::Deleted { from, to } if from == to => write!(f, "row {from} was deleted"),
            Break::Deleted { from, to } => write!(f, "rows {from} to {to} were deleted"),
            Break::Inserted { row } => write!(f, "row {row} was inserted: the chain never included it"),
            Break::Reordered { row, belongs_after } => {
                write!(f, "row {row} was moved: it belongs after row {belongs_after}")
            }
        }
    }
}

/// The chain checked end to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// How many rows it holds.
    pub rows: u64,
    /// The newest row's hash.
    pub head: String,
}

/// Walks the whole chain and names the first row that was edited, deleted, inserted or reordered.
pub(crate) fn verify_chain(conn: &Connection) -> StoreResult<Result<Verified, Break>> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY id"))?;
    let rows: Vec<Entry> = stmt.query_map([], read_entry)?.collect::<rusqlite::Result<_>>()?;
    let by_hash: std::collections::HashMap<&str, i64> = rows.iter().map(|e| (e.hash.as_str(), e.id)).collect();
    let mut prev: Option<&Entry> = None;
    for (i, e) in rows.iter().enumerate() {
        let expected_prev = prev.map_or(GENESIS, |p| p.hash.as_str());
        let prev_id = prev.map_or(0, |p| p.id);
        if e.prev_hash != expected_prev {
            // The link is broken; work out why from what the row does link to.
            let linked = by_hash.get(e.prev_hash.as_str()).copied();
            let before_prev = i.checked_sub(2).map(|j| rows[j].id);
            let brk = if e.id != prev_id + 1 && e.chained_hash() == e.hash {
                Break::Deleted { from: prev_id + 1, to: e.id - 1 }
            } else if linked.is_some() && linked == before_prev {
                // This row links past its predecessor, so the predecessor was slipped in.
                Break::Inserted { row: prev_id }
            } else if let Some(after) = linked {
                Break::Reordered { row: e.id, belongs_after: after }
            } else if e.prev_hash == GENESIS && e.chained_hash() == e.hash && prev.is_some() {
                Break::Reordered { row: e.id, belongs_after: 0 }
            } else if e.chained_hash() != e.hash {
                Break::Edited { row: e.id }
            } else {
                Break::Inserted { row: e.id }
            };
            return Ok(Err(brk));
        }
        if e.chained_hash() != e.hash {
            return Ok(Err(Break::Edited { row: e.id }));
        }
        prev = Some(e);
    }
    Ok(Ok(Verified { rows: rows.len() as u64, head: prev.map_or(GENESIS.to_owned(), |p| p.hash.clone()) }))
}

/// Which rows to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Rows with ids below this (for paging backwards); `None` starts from the newest.
    pub before_id: Option<i64>,
    /// At most this many (1 to 1,000).
    pub limit: u32,
    /// Only rows written under emergency access.
    pub only_break_glass: bool,
}

/// The newest rows first, as `q` selects them.
pub(crate) fn page(conn: &Connection, q: &Query) -> StoreResult<Vec<Entry>> {
    let mut stmt =
        conn.prepare(&format!("{SELECT} WHERE id < ?1 AND (?2 = 0 OR break_glass = 1) ORDER BY id DESC LIMIT ?3"))?;
    let rows = stmt
        .query_map(
            rusqlite::params![q.before_id.unwrap_or(i64::MAX), q.only_break_glass, q.limit.clamp(1, 1000)],
            read_entry,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Who did `action` to `entity` last, and when (RFC 3339), e.g. which admin last reset a password.
pub(crate) fn last(conn: &Connection, action: &str, entity: (&str, &str)) -> StoreResult<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT username, at FROM audit_log WHERE action = ?1 AND entity_type = ?2 AND entity_id = ?3
             ORDER BY id DESC LIMIT 1",
            (action, entity.0, entity.1),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}
