//! One sync run: queue what changed, push the outbox, pull what other sites sent. Network I/O never holds the
//! database: the run reaches the clinic through [`Db`] for each short step.

use super::client::Transport;
use super::context::Context;
use super::inbox::{self, Received};
use super::{outbox, table};
use crate::audit::anchor;
use crate::clinic::Clinic;
use crate::error::{Error, SyncFailure};
use crate::permissions::Action;
use crate::session::Session;
use galen_proto::envelope::par_map;
use galen_proto::wire::PullResponse;

/// Reaches the open clinic for one short step. The CLI passes the clinic itself; the app passes its state, which
/// locks the clinic only for the step, so sync's network waits never freeze the window.
pub trait Db {
    /// Runs `f` with the clinic, holding it only for `f`.
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error>;
}

impl Db for Clinic {
    fn with<T>(&self, f: impl FnOnce(&Clinic) -> Result<T, Error>) -> Result<T, Error> {
        f(self)
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Records queued as changed.
    pub queued: usize,
    /// Records the partner stored.
    pub pushed: usize,
    /// Re-sent records the partner already had (stored nothing).
    pub duplicates: usize,
    /// Records the partner refused; they stay queued with the reason.
    pub refused: usize,
    /// Records received and applied.
    pub pulled: usize,
    /// New conflicts found.
    pub new_conflicts: usize,
    /// Pulled envelopes that were refused here (logged in the audit trail).
    pub rejected_here: usize,
}

/// Who started a run: a person allowed to (see [`permit`]), or the app's background task once a partner is paired.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// Someone who may manage sync asked for it.
    Person(Permit),
    /// The app's timer, for a clinic an admin paired.
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

/// Records per push request, and asked for per pull.
const BATCH: usize = 200;

/// The most pages one run pulls (200 records each): a partner that always has more cannot keep a run going, and
/// whatever is left comes at the next run.
pub const PULL_PAGES_PER_RUN: usize = 100;

/// One sync run: queue what changed, push the outbox, pull what other sites sent. A failure is recorded in the
/// status (last error, failures in a row) and returned; whatever was not acknowledged stays queued. A busy
/// partner is not a failure: its wait is recorded instead, for [`super::background_wait`].
/// A person's run was checked when its [`Permit`] was made; a background run does only what an admin set up by
/// pairing.
pub fn run(db: &impl Db, _trigger: Trigger) -> Result<Report, Error> {
    let ctx = db.with(|clinic| {
        crate::site::renew_if_due(clinic)?;
        let ctx = Context::load(clinic)?;
        let now = clinic.now_rfc3339();
        clinic.store().write(|tx| Ok(table::run_started(tx, &now)?))?;
        Ok(ctx)
    })?;
    let result = exchange(db, &ctx);
    match &result {
        Ok(r) => tracing::info!(
            queued = r.queued,
            pushed = r.pushed,
            duplicates = r.duplicates,
            refused = r.refused,
            pulled = r.pulled,
            new_conflicts = r.new_conflicts,
            rejected_here = r.rejected_here,
            "sync finished"
        ),
        Err(e) => tracing::warn!(code = e.code(), "sync failed"),
    }
    db.with(|clinic| {
        let now = clinic.now();
        clinic.store().write(|tx| {
            match &result {
                Ok(_) => table::run_succeeded(tx, &crate::clock::rfc3339(now))?,
                Err(e @ Error::Sync(SyncFailure::Busy { retry_after_secs })) => {
                    let wait = time::Duration::seconds(i64::try_from(*retry_after_secs).unwrap_or(i64::MAX));
                    let until = now.saturating_add(wait);
                    table::run_deferred(tx, &e.to_string(), &crate::clock::rfc3339(until))?
                }
                Err(e) => table::run_failed(tx, &e.to_string())?,
            };
            // The code beside the text, so a screen can say it in its reader's language.
            let code = result.as_ref().err().map_or("", Error::code);
            crate::settings::table::put(tx, LAST_ERROR_CODE, code)?;
            Ok(())
        })?;
        clinic.anchor_audit_log();
        Ok(())
    })?;
    result
}

/// The settings key holding the last run's error code (`Error::code`; empty after a success).
pub(crate) const LAST_ERROR_CODE: &str = "sync.last_error_code";

fn exchange(db: &impl Db, ctx: &Context) -> Result<Report, Error> {
    let mut report = Report { queued: db.with(|c| outbox::collect(c, &ctx.me.fingerprint()))?, ..Report::default() };
    let transport = Transport::new(ctx)?;
    let mut after = 0;
    loop {
        let batch = db.with(|c| Ok(table::outbox_after(c.store().conn(), after, BATCH)?))?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        let now = db.with(|c| Ok(c.now()))?;
        let sealed = par_map(&batch, |row| outbox::seal(ctx, row, now)).into_iter().collect::<Result<Vec<_>, _>>()?;
        let results = transport.push(&sealed)?;
        let (stored, duplicates, refused) = db.with(|c| outbox::acknowledge(c, &batch, &results))?;
        report.pushed += stored;
        report.duplicates += duplicates;
        report.refused += refused;
    }
    for pages in 1.. {
        let cursor = db.with(|c| Ok(table::cursor(c.store().conn())?))?;
        let page = transport.pull(cursor, BATCH)?;
        moves_past(cursor, &page)?;
        let now = db.with(|c| Ok(c.now()))?;
        let opened = par_map(&page.envelopes, |pulled| inbox::open_pulled(ctx, pulled, now));
        for outcome in db.with(|c| inbox::receive_page(c, &page.envelopes, opened))? {
            match outcome {
                Received::Applied => report.pulled += 1,
                Received::Conflict => report.new_conflicts += 1,
                Received::AlreadyHad => {}
                Received::Rejected => report.rejected_here += 1,
            }
        }
        if !page.more || page.envelopes.is_empty() {
            break;
        }
        if pages == PULL_PAGES_PER_RUN {
            tracing::info!(pages, "pulled the most pages a run pulls; the rest comes at the next run");
            break;
        }
    }
    db.with(inbox::forget_old_nonces)?;
    exchange_anchor(db, &transport)?;
    Ok(report)
}

/// Sends the audit log's anchor, last, so it names the run's newest row; the partner answers with the newest it
/// keeps for this clinic. That answer is the partner's word: it must be this database's and signed by this
/// clinic's site key, and if the log no longer reaches it, it takes the anchor file's place (`audit::anchor`).
fn exchange_anchor(db: &impl Db, transport: &Transport) -> Result<(), Error> {
    let sent = db.with(|c| Ok(anchor::of_head(c.store().conn(), &c.store().db_id()?, c.now())?))?;
    let Some(sent) = sent else { return Ok(()) };
    let Some(answer) = transport.anchor(&sent)? else { return Ok(()) };
    db.with(|c| {
        let bad = |why: &str| Error::Sync(SyncFailure::BadAnswer(format!("the audit anchor it keeps {why}")));
        if answer.kept.db_id != sent.db_id {
            return Err(bad("belongs to another database"));
        }
        let key = anchor::site_peer(c.store().conn())?.ok_or_else(|| bad("cannot be checked without a site key"))?;
        answer.kept.check(&key).map_err(|e| bad(&format!("is refused: {e}")))?;
        Ok(anchor::take_partner_copy(c.vault(), c.store(), &answer.kept, c.now())?)
    })
}

/// Checks that a pulled page moves past `cursor`: each sequence number after the one before it, and no more
/// envelopes than asked for. The partner is trusted with neither: one that sent a page again (a bug, or hostile)
/// would keep the run pulling it for ever, auditing each refusal again.
fn moves_past(cursor: i64, page: &PullResponse) -> Result<(), Error> {
    if page.envelopes.len() > BATCH {
        let sent = page.envelopes.len();
        return Err(Error::Sync(SyncFailure::BadAnswer(format!("{sent} envelopes in a page of at most {BATCH}"))));
    }
    let mut after = cursor;
    for pulled in &page.envelopes {
        if pulled.seq <= after {
            return Err(Error::Sync(SyncFailure::RepeatedPage { after, seq: pulled.seq }));
        }
        after = pulled.seq;
    }
    Ok(())
}
