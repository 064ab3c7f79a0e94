//! Table `audit_log`: the tamper-evident audit trail. Each row's hash is SHA-256 over the row's canonical bytes plus
//! the previous row's hash, so editing, deleting, inserting or reordering rows breaks the chain at a row that
//! `verify` names. Rows hold ids, never clinical text.
//!
//! The chain proves the log was not altered by someone without the ability to recompute it; a person holding
//! the database key could cut its newest rows, or rewrite the whole tail consistently. Its head, anchored outside
//! the database (`anchor.rs`: a file beside it, every backup, the partner), shows that: [`check_anchor`] tells a
//! log that no longer reaches an anchor. A restore is the one recorded way a log goes back: its row
//! ([`record_restore`]) names the newest row it replaced and takes the number after it, so rows are never numbered
//! twice and anchors of the replaced log are told apart from the restored log's own.

use crate::error::{Error, Result as StoreResult};
use crate::permissions::Role;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The action of a restore's row, written in the restored database.
pub(crate) const RESTORE: &str = "backup.restore";

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
    append(conn, None, at, actor, action, entity, outcome)
}

/// Records, in a restored database, that a restore replaced the log whose newest row was `replaced` (`None` when
/// no head was known: no working database and no anchor file). The row takes the number after both the replaced
/// head and the restored log's last row, so the replaced log's numbers are never given to other rows.
pub(crate) fn record_restore(conn: &Connection, at: &str, actor: &Actor, replaced: Option<&Head>) -> Result<(), Error> {
    let last = head(conn)?.map_or(0, |h| h.row);
    let id = last.max(replaced.map_or(0, |h| h.row)).saturating_add(1);
    let entity_id = replaced.map(|h| format!("{}:{}", h.row, h.hash)).unwrap_or_default();
    append(conn, Some(id), at, actor, RESTORE, ("audit_log", &entity_id), Outcome::Ok)
}

fn append(
    conn: &Connection,
    id: Option<i64>,
    at: &str,
    actor: &Actor,
    action: &str,
    entity: (&str, &str),
    outcome: Outcome,
) -> Result<(), Error> {
    debug_assert!(super::actions::listed(action), "audit action {action:?} is not in audit::actions::ACTIONS");
    let prev_hash = head(conn)?.map_or_else(|| GENESIS.to_owned(), |h| h.hash);
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
        "INSERT INTO audit_log (id, at, user_id, username, role, action, entity_type, entity_id, outcome,
                                break_glass, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        rusqlite::params![
            id,
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

/// A row of the chain by its number and hash: the log's head, what an anchor names, what a restore replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Head {
    /// The row's number.
    pub row: i64,
    /// Its hash.
    pub hash: String,
}

/// The newest row, if the log has any.
pub(crate) fn head(conn: &Connection) -> StoreResult<Option<Head>> {
    Ok(conn
        .query_row("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", [], |r| {
            Ok(Head { row: r.get(0)?, hash: r.get(1)? })
        })
        .optional()?)
}

/// A restore the log records: its row, when, and the newest row of the log it replaced, if that was known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Restore {
    /// The restore's own row.
    pub row: i64,
    /// When it was restored.
    pub at: String,
    /// The newest row of the log it replaced; `None` if no head was known (a new computer, no anchor file).
    pub replaced: Option<Head>,
}

impl Restore {
    /// The restore `e` records, if it is a restore's row.
    fn of(e: &Entry) -> Option<Restore> {
        if e.action != RESTORE {
            return None;
        }
        // Restores recorded before anchors named nothing (`backup`, ``): what they replaced is unknown.
        let replaced = e.entity_id.split_once(':').and_then(|(row, hash)| {
            let row = row.parse().ok()?;
            (hash.len() == 64).then(|| Head { row, hash: hash.to_owned() })
        });
        Some(Restore { row: e.id, at: e.at.clone(), replaced })
    }
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
    /// The log ends before the row its anchor names: its newest rows were deleted.
    Truncated {
        /// The row the anchor names.
        anchored: i64,
        /// The log's last row.
        present: i64,
    },
    /// The row the anchor names holds another row: the log was cut back before it and written again.
    Rewritten {
        /// The anchored row.
        row: i64,
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
            Break::Truncated { anchored, present } => write!(
                f,
                "the log is shorter than its anchor: row {anchored} was anchored, but the log ends at row {present}"
            ),
            Break::Rewritten { row } => {
                write!(f, "row {row} is not the row that was anchored: the log was cut back and written again")
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
    /// The restores it records, oldest first.
    pub restores: Vec<Restore>,
    /// The anchor it was checked against (the newest known, from the anchor file), if there was one.
    pub anchor: Option<Anchored>,
}

/// The anchor a log was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Anchored {
    /// The row it names.
    pub row: i64,
    /// Whether the clinic's site key signed it (a clinic without a site identity writes unsigned anchors).
    pub signed: bool,
}

/// Walks the whole chain and names the first row that was edited, deleted, inserted or reordered.
pub(crate) fn verify_chain(conn: &Connection) -> StoreResult<Result<Verified, Break>> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY id"))?;
    let rows: Vec<Entry> = stmt.query_map([], read_entry)?.collect::<rusqlite::Result<_>>()?;
    let by_hash: std::collections::HashMap<&str, i64> = rows.iter().map(|e| (e.hash.as_str(), e.id)).collect();
    let mut prev: Option<&Entry> = None;
    let mut restores = Vec::new();
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
        let restore = Restore::of(e);
        // Rows are numbered without gaps; a restore's row alone follows the numbers of the rows it replaced.
        let skips_replaced = restore.as_ref().and_then(|r| r.replaced.as_ref()).is_some_and(|h| h.row == e.id - 1);
        if e.id != prev_id + 1 && !skips_replaced {
            return Ok(Err(Break::Deleted { from: prev_id + 1, to: e.id - 1 }));
        }
        restores.extend(restore);
        prev = Some(e);
    }
    let head = prev.map_or(GENESIS.to_owned(), |p| p.hash.clone());
    Ok(Ok(Verified { rows: rows.len() as u64, head, restores, anchor: None }))
}

/// Whether the log still reaches an anchor that named row `anchored` (made at `made_at`): `None` if that row is
/// still there with the anchored hash, or a recorded restore replaced it; else how the log falls short.
///
/// A restore whose replaced head is known explains the rows it skipped (after the restored log's last row, up to
/// that head). One that knew no head (a new computer) explains the rows after its restored log, for anchors made
/// before it.
pub(crate) fn check_anchor(
    conn: &Connection,
    anchored: &Head,
    made_at: Option<time::OffsetDateTime>,
) -> StoreResult<Option<Break>> {
    let present = head(conn)?.map_or(0, |h| h.row);
    let hash: Option<String> =
        conn.query_row("SELECT hash FROM audit_log WHERE id = ?1", [anchored.row], |r| r.get(0)).optional()?;
    if hash.as_deref() == Some(anchored.hash.as_str()) {
        return Ok(None);
    }
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE action = ?1 ORDER BY id"))?;
    let restores: Vec<Entry> = stmt.query_map([RESTORE], read_entry)?.collect::<rusqlite::Result<_>>()?;
    for restore in restores.iter().filter_map(Restore::of) {
        let restored_to: i64 =
            conn.query_row("SELECT coalesce(max(id), 0) FROM audit_log WHERE id < ?1", [restore.row], |r| r.get(0))?;
        let explains = match &restore.replaced {
            Some(replaced) => restored_to < anchored.row && anchored.row <= replaced.row,
            None => {
                let restored_at = time::OffsetDateTime::parse(&restore.at, &Rfc3339).ok();
                restored_to < anchored.row && matches!((made_at, restored_at), (Some(a), Some(r)) if a < r)
            }
        };
        if explains {
            return Ok(None);
        }
    }
    Ok(Some(if anchored.row > present {
        Break::Truncated { anchored: anchored.row, present }
    } else {
        Break::Rewritten { row: anchored.row }
    }))
}

/// Which rows to list: every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Rows with ids below this (for paging backwards); `None` starts from the newest.
    pub before_id: Option<i64>,
    /// At most this many (1 to 1,000).
    pub limit: u32,
    /// Only rows written under emergency access.
    pub only_break_glass: bool,
    /// Only rows about one patient's record, by MRN: the record, records merged into it, its documents (and
    /// those received from other sites) and its appointments.
    pub mrn: Option<String>,
    /// Only this account's rows (username).
    pub username: Option<String>,
    /// Only this action, or every action under it (`patient` takes `patient.view`, `patient.update`…).
    pub action: Option<String>,
    /// From this day (`YYYY-MM-DD`, UTC, as rows are stamped), inclusive.
    pub from: Option<String>,
    /// Up to this day (`YYYY-MM-DD`, UTC), inclusive.
    pub until: Option<String>,
}

/// The newest rows first, as `q` selects them; `about`, when given, keeps only rows about these entities
/// (`(entity_type, entity_id)`: what `q.mrn` resolved to).
pub(crate) fn page(conn: &Connection, q: &Query, about: Option<&[(&str, String)]>) -> StoreResult<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE id < ?1 AND (?2 = 0 OR break_glass = 1)
           AND (?4 IS NULL OR username = ?4)
           AND (?5 IS NULL OR action = ?5 OR substr(action, 1, length(?5) + 1) = ?5 || '.')
           AND (?6 IS NULL OR at >= ?6)
           AND (?7 IS NULL OR at < ?7)
           AND (?8 IS NULL OR (entity_type, entity_id) IN
                (SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each(?8)))
         ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(
            rusqlite::params![
                q.before_id.unwrap_or(i64::MAX),
                q.only_break_glass,
                q.limit.clamp(1, 1000),
                q.username,
                q.action,
                q.from,
                q.until,
                about.map(|keys| serde_json::to_string(keys).unwrap_or_else(|_| "[]".into()))
            ],
            read_entry,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The patients `user_id` opened most recently, newest first, each once: looked for among the log's newest
/// rows only, so the home screen's list costs the same however long the log grows.
pub(crate) fn recently_opened(conn: &Connection, user_id: i64, limit: usize) -> StoreResult<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT entity_id FROM audit_log
          WHERE id > (SELECT coalesce(max(id), 0) - 5000 FROM audit_log)
            AND user_id = ?1 AND action = 'patient.view' AND entity_type = 'patient'
          ORDER BY id DESC",
    )?;
    let mut ids = Vec::new();
    for id in stmt.query_map([user_id], |r| r.get::<_, String>(0))? {
        if let Ok(id) = id?.parse::<i64>() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.len() == limit {
            break;
        }
    }
    Ok(ids)
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

/// The newest check of the chain (`audit.verify`): who, when (RFC 3339), and whether it was intact. Looked for
/// among the newest 50,000 rows only, so a log never checked costs the home page the same however long it grows;
/// a check older than that counts as none.
pub(crate) fn last_check(conn: &Connection) -> StoreResult<Option<(String, String, bool)>> {
    Ok(conn
        .query_row(
            "SELECT username, at, outcome FROM audit_log
              WHERE id > (SELECT coalesce(max(id), 0) - 50000 FROM audit_log) AND action = 'audit.verify'
              ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)? == "ok")),
        )
        .optional()?)
}
