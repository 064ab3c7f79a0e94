//! The audit trail as admins read it: the newest rows first, and a check of the whole hash chain against its
//! newest anchor. What is recorded, and how rows are chained, is `table.rs`; the anchor kept outside the
//! database, `anchor.rs`.

pub mod actions;
pub(crate) mod anchor;
pub(crate) mod table;

pub use actions::{describe, ACTIONS};
pub use table::{Actor, Anchored, Break, Entry, Head, Outcome, Query, Restore, Verified};

use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors};
use crate::permissions::Action;
use crate::session::Session;

/// Verifies the chain, and that it still reaches its newest anchor (admins only); records that it was checked,
/// and anchors the log (making the site key, if the log is intact and the clinic has none, as a backup does).
pub fn verify(clinic: &Clinic, session: &Session) -> Result<Result<Verified, Break>, Error> {
    let actor = clinic.authorize(session, Action::AuditRead, None)?;
    let conn = clinic.store().conn();
    let mut result = table::verify_chain(conn)?;
    if let Ok(verified) = &mut result {
        if let Some(kept) = anchor::current(clinic.vault(), clinic.store())? {
            match anchor::check(conn, &kept)? {
                Some(brk) => result = Err(brk),
                None => verified.anchor = Some(Anchored { row: kept.row, signed: kept.signature.is_some() }),
            }
        }
    }
    let outcome = if result.is_ok() { Outcome::Ok } else { Outcome::Failed };
    clinic
        .store()
        .write(|tx| table::record(tx, &clinic.now_rfc3339(), &actor, "audit.verify", ("audit_log", ""), outcome))?;
    // The anchor of an intact log is signed by the site key, made now if the clinic has none yet. Unsigned
    // anchors made before it still count (`anchor::current_in`), so this never erases what they show.
    if result.is_ok() {
        if let Err(e) = crate::site::ensure_key(clinic, &actor) {
            tracing::warn!(code = e.code(), "the site key could not be made; the audit anchor stays unsigned");
        }
    }
    clinic.anchor_audit_log();
    Ok(result)
}

/// The newest rows first, as `q` filters them (admins only). A bad filter is a field error.
pub fn list(clinic: &Clinic, session: &Session, q: &Query) -> Result<Vec<Entry>, Error> {
    clinic.authorize(session, Action::AuditRead, None)?;
    let conn = clinic.store().conn();
    let (q, patient) = checked(conn, q)?;
    let about = patient.map(|id| about_patient_record(conn, id)).transpose()?;
    Ok(table::page(conn, &q, about.as_deref())?)
}

/// What the log names when it writes about a patient's record, each room asked for its own rows: the chart's
/// records (merged ones too) by id and uuid, their documents by id and uuid, documents other sites sent about
/// them, and their appointments.
fn about_patient_record(conn: &rusqlite::Connection, chart: i64) -> Result<Vec<(&'static str, String)>, Error> {
    let records = crate::patients::table::records_in_chart(conn, chart)?;
    let ids: Vec<i64> = records.iter().map(|r| r.0).collect();
    let uuids: Vec<String> = records.iter().map(|r| r.1.clone()).collect();
    let mut about: Vec<(&'static str, String)> = Vec::new();
    for (id, uuid) in records {
        about.extend([("patient", id.to_string()), ("patient", uuid)]);
    }
    for (id, uuid) in crate::documents::table::of_patients(conn, &ids)? {
        about.extend([("document", id.to_string()), ("document", uuid)]);
    }
    about.extend(crate::sync::table::received_uuids_of(conn, &uuids)?.into_iter().map(|u| ("document", u)));
    about.extend(
        crate::appointments::table::ids_of_patients(conn, &ids)?.into_iter().map(|id| ("appointment", id.to_string())),
    );
    Ok(about)
}

/// The most rows an access report carries: the newest, when a record was opened more often than that.
pub const ACCESS_REPORT_ROWS: usize = 10_000;

/// Every row about one patient's record (as `Query::mrn` selects them), oldest first, for the report a patient
/// may ask for: at most the newest `ACCESS_REPORT_ROWS`, and whether older ones were left out (admins only).
pub fn about_patient(clinic: &Clinic, session: &Session, mrn: &str) -> Result<(Vec<Entry>, bool), Error> {
    clinic.authorize(session, Action::AuditRead, None)?;
    let conn = clinic.store().conn();
    let (_, chart) = checked(conn, &Query { mrn: Some(mrn.to_owned()), ..Query::default() })?;
    let chart = chart.ok_or_else(|| Error::invalid("mrn", "Give the patient's record number."))?;
    access_report(conn, chart)
}

/// The rows of a chart's access report, unchecked: for `about_patient` and for the record a patient takes away
/// (`fhir`), whose own permission covers it.
pub(crate) fn access_report(conn: &rusqlite::Connection, chart: i64) -> Result<(Vec<Entry>, bool), Error> {
    let about = about_patient_record(conn, chart)?;
    let mut q = Query { limit: 1000, ..Query::default() };
    let mut rows: Vec<Entry> = Vec::new();
    // Pages until the log has no more, or one row past the most kept (so `cut` knows older ones were left out).
    loop {
        let page = table::page(conn, &q, Some(&about))?;
        let last = page.len() < q.limit as usize;
        rows.extend(page);
        if last || rows.len() > ACCESS_REPORT_ROWS {
            break;
        }
        q.before_id = rows.last().map(|e| e.id);
    }
    let cut = rows.len() > ACCESS_REPORT_ROWS;
    rows.truncate(ACCESS_REPORT_ROWS);
    rows.reverse();
    Ok((rows, cut))
}

/// `q` made exact: blank filters dropped, the MRN resolved to the chart it leads to (following merges), and the
/// days turned into bounds on the rows' stamps (`until` takes its whole day).
fn checked(conn: &rusqlite::Connection, q: &Query) -> Result<(Query, Option<i64>), Error> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut errors = FieldErrors::default();
    let mut day = |field: &str, v: &Option<String>| {
        let v = given(v)?;
        let parsed = (v.len() == 10).then(|| time::Date::parse(&v, DAY).ok()).flatten();
        if parsed.is_none() {
            errors.push(field, "Give the day as YYYY-MM-DD.");
        }
        parsed
    };
    let (from, until) = (day("from", &q.from), day("until", &q.until));
    if let (Some(f), Some(u)) = (from, until) {
        if u < f {
            errors.push("until", "The last day comes before the first.");
        }
    }
    let patient = match given(&q.mrn) {
        None => None,
        Some(typed) => match crate::mrn::parse(&typed) {
            Err(m) => {
                errors.push("mrn", m);
                None
            }
            Ok(code) => {
                let found = crate::patients::table::by_mrn(conn, &crate::mrn::normalize(&code))?;
                if found.is_none() {
                    errors.push("mrn", "No patient has this record number.");
                }
                found
            }
        },
    };
    errors.into_result()?;
    let exact = Query {
        username: given(&q.username).map(|u| crate::staff::table::normalize_username(&u)),
        action: given(&q.action),
        from: from.map(|d| d.to_string()),
        until: until.and_then(|d| d.next_day()).map(|d| d.to_string()),
        ..q.clone()
    };
    Ok((exact, patient))
}

/// `YYYY-MM-DD`.
const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");
