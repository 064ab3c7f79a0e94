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
//! - **Pull**: envelopes from other sites, relayed by the partner, are opened and applied one transaction each,
//!   with the cursor moved in the same transaction. An edit that meets a local edit of the same patient is kept
//!   in `sync_conflicts`, beside the local one, for a person to resolve ([`resolve`]); nothing is dropped.
//!
//! Network I/O never holds the database: [`run`] takes the clinic through [`Db`] for each short step.

pub mod envelope;
pub mod wire;

pub use records::content_hash;

mod client;
mod records;

use crate::audit::{self, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldError, FieldErrors};
use crate::patients::shared::SharedPatient;
use crate::permissions::Action;
use crate::session::Session;
use crate::site;
use envelope::{OwnKey, PeerKey};
use rusqlite::OptionalExtension;

/// Reaches the open clinic for one short step. The CLI passes the clinic itself; the app passes its state, which
/// locks the clinic only for the step, so sync's network waits never freeze the window.
pub trait Db {
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error>;
}

impl Db for Clinic {
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error> {
        f(self)
    }
}

/// The partner this clinic is paired with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub name: String,
    pub url: String,
    pub safety_number: String,
    pub fingerprint: String,
    pub paired_at: String,
}

/// Where sync stands, for the status screen and `galen sync status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub partner: Option<Partner>,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    /// Records queued and not yet accepted by the partner.
    pub pending: i64,
    /// Conflicts waiting for a person.
    pub open_conflicts: i64,
    pub received_documents: i64,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub queued: usize,
    pub pushed: usize,
    /// Re-sent records the partner already had (stored nothing).
    pub duplicates: usize,
    /// Records the partner refused; they stay queued with the reason.
    pub refused: usize,
    pub pulled: usize,
    pub new_conflicts: usize,
    /// Pulled envelopes that were refused here (logged in the audit trail).
    pub rejected_here: usize,
}

/// Who started a run: a person allowed to (see [`permit`]), or the app's background task once a partner is paired.
#[derive(Debug, Clone)]
pub enum Trigger {
    Person(Permit),
    Background,
}

/// Proof that a person allowed to manage sync asked for a run; only [`permit`] makes one.
#[derive(Debug, Clone)]
pub struct Permit {
    _checked: (),
}

/// Checks that `session` may start a sync run (admins).
pub fn permit(clinic: &Clinic, session: &Session) -> Result<Permit, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    Ok(Permit { _checked: () })
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid(FieldErrors::one(FieldError::new(field, message)))
}

fn sync_error(reason: impl std::fmt::Display) -> Error {
    Error::Sync { reason: reason.to_string() }
}

/// Reads a partner's pairing file and shows who it is and its safety number, recomputed from its keys (admins).
pub fn preview(clinic: &Clinic, session: &Session, pairing_file: &str) -> Result<site::PairingFile, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    site::read_pairing_file(pairing_file)
}

/// Pairs with a partner (admins): its pairing file, its address, and the safety number the admin confirmed with
/// the partner's people out of band, which must equal the one computed from the file's keys.
pub fn pair(
    clinic: &Clinic,
    session: &Session,
    pairing_file: &str,
    url: &str,
    confirmed_number: &str,
) -> Result<Partner, Error> {
    let actor = clinic.authorize(session, Action::SyncManage, None)?;
    if site::identity(clinic, session)?.is_none() {
        return Err(invalid("site", "Create this clinic's site identity first (`galen site init`)."));
    }
    if partner_conn(clinic.store().conn())?.is_some() {
        return Err(invalid("pairing_file", "This clinic is already paired with a partner."));
    }
    let file = site::read_pairing_file(pairing_file)?;
    if !file.confirms(confirmed_number) {
        return Err(invalid(
            "safety_number",
            "The safety number does not match this pairing file. Do not pair: the file may not be the partner's.",
        ));
    }
    let url = url.trim().trim_end_matches('/');
    let parsed = url.strip_prefix("https://").filter(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if parsed.is_none() {
        return Err(invalid("url", "Give the partner's address as https://host:port (HTTPS only)."));
    }
    let key = PeerKey::from_armored(&file.openpgp_public_key).map_err(|e| invalid("pairing_file", e.to_string()))?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        tx.execute(
            "INSERT INTO sync_partner (id, name, url, ca_cert, openpgp_key, safety_number, paired_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            (&file.site, url, &file.ca_certificate, &file.openpgp_public_key, &file.safety_number, &now),
        )?;
        audit::record(tx, &now, &actor, "sync.pair", ("partner", &key.fingerprint()), Outcome::Ok)
    })?;
    partner_conn(clinic.store().conn())?.ok_or_else(|| Error::NotFound { what: "The new partner".into() })
}

fn partner_conn(conn: &rusqlite::Connection) -> Result<Option<Partner>, Error> {
    let row: Option<(String, String, String, String, String)> = conn
        .query_row("SELECT name, url, safety_number, openpgp_key, paired_at FROM sync_partner WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    Ok(row.map(|(name, url, safety_number, key, paired_at)| Partner {
        name,
        url,
        safety_number,
        fingerprint: crate::signing::fingerprint_of(&key).unwrap_or_default(),
        paired_at,
    }))
}

/// Whether a partner is paired: the background task asks before each run (no session: it reveals nothing).
pub fn paired(clinic: &Clinic) -> Result<bool, Error> {
    Ok(clinic.store().conn().query_row("SELECT count(*) > 0 FROM sync_partner", [], |r| r.get(0))?)
}

/// How often the app syncs by itself.
pub const BACKGROUND_EVERY: std::time::Duration = std::time::Duration::from_secs(120);
const BACKGROUND_LONGEST: std::time::Duration = std::time::Duration::from_secs(3600);

/// How long the app's background task waits before its next run: [`BACKGROUND_EVERY`], doubled for each failed
/// run in a row (counted in the database, so a restart does not hammer an unreachable partner), at most an hour.
pub fn background_wait(clinic: &Clinic) -> Result<std::time::Duration, Error> {
    let failures: u32 = clinic
        .store()
        .conn()
        .query_row("SELECT failures FROM sync_partner WHERE id = 1", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    Ok(BACKGROUND_EVERY.saturating_mul(1 << failures.min(6)).min(BACKGROUND_LONGEST))
}

/// Where sync stands (admins).
pub fn status(clinic: &Clinic, session: &Session) -> Result<Status, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    let conn = clinic.store().conn();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    type Times = (Option<String>, Option<String>, Option<String>);
    let state: Option<Times> = conn
        .query_row("SELECT last_attempt, last_success, last_error FROM sync_partner WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (last_attempt, last_success, last_error) = state.unwrap_or_default();
    Ok(Status {
        partner: partner_conn(conn)?,
        last_attempt,
        last_success,
        last_error,
        pending: count("SELECT count(*) FROM sync_outbox")?,
        open_conflicts: count("SELECT count(*) FROM sync_conflicts WHERE resolved_at IS NULL")?,
        received_documents: count("SELECT count(*) FROM received_documents")?,
    })
}

/// A patient edited at two sites: this clinic's version and the one that arrived, side by side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub id: i64,
    pub uuid: String,
    pub local: SharedPatient,
    pub incoming: SharedPatient,
    /// The OpenPGP fingerprint of the site the incoming version came from.
    pub incoming_origin: String,
    pub incoming_version: u32,
    pub found_at: String,
}

/// Open conflicts, oldest first (admins).
pub fn conflicts(clinic: &Clinic, session: &Session) -> Result<Vec<Conflict>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    records::open_conflicts(clinic.store().conn())
}

/// A signed document another site shared, with the doctor's signature checked again on every read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedDocument {
    pub document: crate::documents::SharedDocument,
    /// The OpenPGP fingerprint of the site it came from.
    pub origin: String,
    pub received_at: String,
    /// What the doctor signed, if the signature verifies with the key the document names; otherwise why not.
    pub contents: Result<crate::documents::Signed, String>,
}

/// Documents received from other sites, newest first (admins, who manage sync).
pub fn received_documents(clinic: &Clinic, session: &Session) -> Result<Vec<ReceivedDocument>, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    records::received_documents(clinic.store().conn(), None)
}

/// One patient's documents received from other sites, newest first, for the chart (whoever may read that
/// patient's documents).
pub fn received_for_patient(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
) -> Result<Vec<ReceivedDocument>, Error> {
    clinic.authorize(session, Action::DocumentRead, Some(patient_id))?;
    let uuids = crate::patients::uuids_in_chart(clinic.store().conn(), patient_id)?;
    records::received_documents(clinic.store().conn(), Some(&uuids))
}

/// Opens one received document of a patient, as `documents::get` opens a local one: checked and audited.
pub fn received_document(
    clinic: &Clinic,
    session: &Session,
    patient_id: i64,
    uuid: &str,
) -> Result<ReceivedDocument, Error> {
    let actor = clinic.authorize(session, Action::DocumentRead, Some(patient_id))?;
    let doc = received_for_patient(clinic, session, patient_id)?
        .into_iter()
        .find(|d| d.document.uuid == uuid)
        .ok_or_else(|| Error::NotFound { what: "The received document".into() })?;
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "document.view_received", ("document", uuid), Outcome::Ok))?;
    Ok(doc)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    KeepLocal,
    TakeIncoming,
}

/// Resolves a conflict (admins). Either way the chosen version is shared again as a newer version, so every
/// site converges on it.
pub fn resolve(clinic: &Clinic, session: &Session, id: i64, resolution: Resolution) -> Result<(), Error> {
    let actor = clinic.authorize(session, Action::SyncManage, None)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| records::resolve(tx, id, resolution, &now, &actor))
}

/// What a run needs from the database, read once at its start.
struct Context {
    me: OwnKey,
    partner: PeerKey,
    url: String,
    partner_ca: String,
    client_cert: String,
    client_key: String,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("url", &self.url).finish_non_exhaustive()
    }
}

fn context(clinic: &Clinic) -> Result<Context, Error> {
    let conn = clinic.store().conn();
    let partner: Option<(String, String, String)> = conn
        .query_row("SELECT url, ca_cert, openpgp_key FROM sync_partner WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (url, partner_ca, key) =
        partner.ok_or_else(|| Error::NotFound { what: "A partner (pair with one first)".into() })?;
    let secrets = site::secrets(conn)?;
    Ok(Context {
        me: OwnKey::from_armored(&secrets.openpgp_key).map_err(sync_error)?,
        partner: PeerKey::from_armored(&key).map_err(sync_error)?,
        url,
        partner_ca,
        client_cert: secrets.client_cert,
        client_key: secrets.client_key,
    })
}

/// Records per push request.
const BATCH: usize = 200;

/// One sync run: queue what changed, push the outbox, pull what other sites sent. A failure is recorded in the
/// status (last error, failures in a row) and returned; whatever was not acknowledged stays queued.
/// A person's run was checked when its [`Permit`] was made; a background run does only what an admin set up by
/// pairing.
pub fn run(db: &impl Db, _trigger: Trigger) -> Result<Report, Error> {
    let ctx = db.with(|clinic| {
        site::renew_if_due(clinic)?;
        let ctx = context(clinic)?;
        let now = clinic.now_rfc3339();
        clinic.store().write(|tx| {
            tx.execute("UPDATE sync_partner SET last_attempt = ?1 WHERE id = 1", [&now])?;
            Ok(())
        })?;
        Ok(ctx)
    })?;
    let result = exchange(db, &ctx);
    db.with(|clinic| {
        let now = clinic.now_rfc3339();
        clinic.store().write(|tx| {
            match &result {
                Ok(_) => tx.execute(
                    "UPDATE sync_partner SET last_success = ?1, last_error = NULL, failures = 0 WHERE id = 1",
                    [&now],
                )?,
                Err(e) => tx.execute(
                    "UPDATE sync_partner SET last_error = ?1, failures = failures + 1 WHERE id = 1",
                    [e.to_string()],
                )?,
            };
            Ok(())
        })
    })?;
    result
}

fn exchange(db: &impl Db, ctx: &Context) -> Result<Report, Error> {
    let mut report = Report { queued: db.with(|c| records::collect(c, &ctx.me.fingerprint()))?, ..Report::default() };
    let transport = client::Transport::new(ctx)?;
    let mut after = 0;
    loop {
        let batch = db.with(|c| records::outbox_batch(c.store().conn(), after, BATCH))?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        let now = db.with(|c| Ok(c.now()))?;
        let sealed = par_map(&batch, |row| records::seal(ctx, row, now)).into_iter().collect::<Result<Vec<_>, _>>()?;
        let results = transport.push(&sealed)?;
        let counts = db.with(|c| records::acknowledge(c, &batch, &results))?;
        report.pushed += counts.0;
        report.duplicates += counts.1;
        report.refused += counts.2;
    }
    loop {
        let cursor = db.with(|c| records::cursor(c.store().conn()))?;
        let page = transport.pull(cursor, BATCH)?;
        let now = db.with(|c| Ok(c.now()))?;
        let opened = par_map(&page.envelopes, |pulled| records::open_pulled(ctx, pulled, now));
        for outcome in db.with(|c| records::receive_page(c, &page.envelopes, opened))? {
            match outcome {
                records::Received::Applied => report.pulled += 1,
                records::Received::Conflict => report.new_conflicts += 1,
                records::Received::AlreadyHad => {}
                records::Received::Rejected => report.rejected_here += 1,
            }
        }
        if !page.more || page.envelopes.is_empty() {
            break;
        }
    }
    db.with(records::forget_old_nonces)?;
    Ok(report)
}

/// `f` over `items` on every core, results in order: sealing and opening envelopes is CPU-bound, and both the
/// clinic and the partner do a batch at a time.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let f = &f;
        let parts: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// The actor recorded for a background run.
pub(crate) fn system_actor() -> Actor {
    Actor { username: "(sync)".into(), ..Actor::system() }
}
