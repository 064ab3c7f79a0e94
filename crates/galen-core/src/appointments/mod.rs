//! `appointments`: the clinic's appointment book. Booking (once or every few weeks), moving, cancelling and
//! no-shows; check-in, the waiting room and the doctor's queue; the day and week views with free time; the
//! "to call tomorrow" list and its CSV for an SMS tool.
//!
//! Times are the clinic's wall clock (`YYYY-MM-DD`, `HH:MM`), so a visit every week at 09:00 stays at 09:00 across
//! a clock change; a time the clocks skip is refused. Check-in and visit times are moments (UTC). Appointments
//! are this clinic's own: sync does not share them. Every change is authorized and audited in one go; a clinical
//! reason is shown only to roles that may read clinical data.

pub mod hours;
pub mod model;
pub(crate) mod table;

pub use model::*;

use crate::audit::table::{self as audit, Actor, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors};
use crate::patients::model::Summary;
use crate::patients::table as patients;
use crate::permissions::{Action, Role};
use crate::session::Session;
use crate::staff::table as staff;
use crate::text;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::AmbiguousOffset;
use jiff::Span;
use std::collections::HashMap;
use table::{Row, Slot};

/// The lengths a visit may have, in minutes.
pub const MINUTES_RANGE: std::ops::RangeInclusive<u32> = 5..=480;
/// The longest reason for a visit or a cancellation.
pub const REASON_MAX: usize = 200;
/// The most visits one recurring booking makes.
pub const MAX_VISITS: u32 = 104;
/// How far ahead a booking may be made, in days.
const AHEAD_DAYS: i64 = 2 * 366;

/// `YYYY-MM-DDTHH:MM`, as `starts` and `ends` are stored.
fn stamp(dt: DateTime) -> String {
    format!("{}T{}", dt.date(), hours::hhmm(dt.time()))
}

fn parse_stamp(s: &str) -> Option<DateTime> {
    let (d, t) = s.split_once('T')?;
    Some(d.parse::<Date>().ok()?.to_datetime(hours::parse_time(t)?))
}

/// `YYYY-MM-DD` exactly.
fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    (s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-').then(|| s.parse().ok()).flatten()
}

/// Today's date in the clinic's time zone, `YYYY-MM-DD`: the day the front ends open the book on.
pub fn today(clinic: &Clinic) -> Result<String, Error> {
    Ok(hours::load(clinic)?.now(clinic).date().to_string())
}

/// Tomorrow's date in the clinic's time zone: whose reminders to send.
pub fn tomorrow(clinic: &Clinic) -> Result<String, Error> {
    let today = hours::load(clinic)?.now(clinic).date();
    Ok(today.tomorrow().unwrap_or(today).to_string())
}

/// The active doctors, by name: whom a visit can be booked with.
pub fn doctors(clinic: &Clinic, session: &Session) -> Result<Vec<Doctor>, Error> {
    // Those who keep the book, and admins who set each doctor's days.
    if clinic.permits(session, Action::AppointmentRead, None)?.is_none() {
        clinic.authorize(session, Action::SettingsManage, None)?;
    }
    let mut found: Vec<Doctor> = staff::all(clinic.store().conn())?
        .into_iter()
        .filter(|m| m.role == Role::Doctor && m.active)
        .map(|m| Doctor { id: m.id, username: m.username, display_name: m.display_name })
        .collect();
    found.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok(found)
}

/// A booking whose fields were checked: the visit's first start and end, the cleaned reason.
struct Checked {
    first: DateTime,
    minutes: i64,
    reason: String,
}

/// Checks the form field by field: the patient, a doctor, the day (today or later, within two years), the time
/// (that exists on that day in the clinic's time zone), the length and the reason.
fn check(clinic: &Clinic, b: &Booking, hours: &Hours, errors: &mut FieldErrors) -> Result<Option<Checked>, Error> {
    let conn = clinic.store().conn();
    match patients::get(conn, b.patient_id)? {
        None => errors.push("patient_id", "Choose a patient."),
        Some((p, _)) if p.deceased => errors.push("patient_id", "This patient is recorded as deceased."),
        Some(_) => {}
    }
    if staff::by_id(conn, b.doctor_id)?.is_none_or(|m| m.role != Role::Doctor || !m.active) {
        errors.push("doctor_id", "Choose a doctor.");
    }
    let today = hours.now(clinic).date();
    let date = parse_date(&b.date);
    match date {
        None => errors.push("date", "Give the day as YYYY-MM-DD."),
        Some(d) if d < today => errors.push("date", "Choose today or a later day."),
        Some(d) if (d - today).get_days() as i64 > AHEAD_DAYS => errors.push("date", "Book at most two years ahead."),
        Some(_) => {}
    }
    let time = hours::parse_time(b.time.trim());
    if time.is_none() {
        errors.push("time", "Give the time as HH:MM, e.g. 09:30.");
    }
    if !MINUTES_RANGE.contains(&b.minutes) {
        let (lo, hi) = (MINUTES_RANGE.start(), MINUTES_RANGE.end());
        errors.push("minutes", format!("A visit lasts between {lo} and {hi} minutes."));
    }
    let reason = text::clean(&b.reason);
    errors.absorb(text::check_max("reason", &reason, REASON_MAX));
    let (Some(date), Some(time)) = (date, time) else { return Ok(None) };
    let first = date.to_datetime(time);
    if skipped(hours, first) {
        errors.push("time", format!("{date} {} does not exist: the clocks go forward then.", hours::hhmm(time)));
    }
    Ok(Some(Checked { first, minutes: b.minutes.into(), reason }))
}

/// The clocks skip this wall-clock time in the clinic's time zone.
fn skipped(hours: &Hours, at: DateTime) -> bool {
    matches!(hours.zone().to_ambiguous_timestamp(at).offset(), AmbiguousOffset::Gap { .. })
}

/// The days a recurring booking falls on, the first included; a day the clocks skip the time is a field error.
fn expand(first: Date, repeat: &Repeat, errors: &mut FieldErrors) -> Vec<Date> {
    if !(1..=52).contains(&repeat.every_weeks) {
        errors.push("every_weeks", "Repeat every 1 to 52 weeks.");
        return Vec::new();
    }
    let until = match (repeat.until.trim(), repeat.times) {
        ("", Some(n)) if (2..=MAX_VISITS).contains(&n) => None,
        ("", Some(_)) => {
            errors.push("times", format!("Repeat 2 to {MAX_VISITS} times."));
            return Vec::new();
        }
        (until, None) if !until.is_empty() => match parse_date(until) {
            Some(u) if u > first => Some(u),
            Some(_) => {
                errors.push("until", "The last day must be after the first visit.");
                return Vec::new();
            }
            None => {
                errors.push("until", "Give the last day as YYYY-MM-DD.");
                return Vec::new();
            }
        },
        _ => {
            errors.push("until", "Repeat until a day, or a number of times (one of the two).");
            return Vec::new();
        }
    };
    let mut days = Vec::new();
    for n in 0..MAX_VISITS {
        let Ok(day) = first.checked_add(Span::new().weeks(i64::from(n * repeat.every_weeks))) else { break };
        if until.is_some_and(|u| day > u) || repeat.times.is_some_and(|t| n >= t) {
            return days;
        }
        days.push(day);
    }
    if until.is_some() {
        errors.push("until", format!("That makes more than {MAX_VISITS} visits: choose an earlier last day."));
    }
    days
}

/// What needs confirming about the doctor seeing someone in `[starts, ends)`.
fn warnings_for(
    clinic: &Clinic,
    hours: &Hours,
    doctor_id: i64,
    starts: DateTime,
    ends: DateTime,
    except: &[i64],
) -> Result<Vec<BookingWarning>, Error> {
    let conn = clinic.store().conn();
    let date = starts.date().to_string();
    let time = hours::hhmm(starts.time());
    let day = Weekday::of(starts.date());
    let mut found = Vec::new();
    if !hours.days.contains(&day) {
        found.push(BookingWarning::ClinicClosed { date: date.clone() });
    } else if !hours.works(doctor_id, day) {
        found.push(BookingWarning::DoctorAway { date: date.clone() });
    }
    let (opens, closes) = hours.opening();
    if starts.time() < opens || ends.date() != starts.date() || ends.time() > closes {
        let (opens, closes) = (hours::hhmm(opens), hours::hhmm(closes));
        found.push(BookingWarning::OutsideHours { date: date.clone(), time: time.clone(), opens, closes });
    }
    let others = table::overlapping(conn, doctor_id, &stamp(starts), &stamp(ends), except)?;
    let names = summaries(clinic, &others)?;
    for other in others {
        found.push(BookingWarning::Overlap {
            date: date.clone(),
            time: time.clone(),
            patient: names.get(&other.patient_id).map(full_name).unwrap_or_default(),
            from: other.starts.get(11..).unwrap_or_default().to_owned(),
            to: other.ends.get(11..).unwrap_or_default().to_owned(),
        });
    }
    Ok(found)
}

fn full_name(s: &Summary) -> String {
    format!("{} {}", s.given_names, s.family_name)
}

/// Books a visit, or a series of visits every few weeks. Anything that needs confirming (a double booking, a
/// closed day, a doctor away, outside hours) is returned as `BookingNeedsConfirmation` unless `confirmed`; a
/// confirmed double booking is audited as such.
pub fn book(
    clinic: &Clinic,
    session: &Session,
    b: &Booking,
    repeat: Option<&Repeat>,
    confirmed: bool,
) -> Result<Vec<Appointment>, Error> {
    let actor = clinic.authorize(session, Action::AppointmentBook, Some(b.patient_id))?;
    let hours = hours::load_conn(clinic.store().conn())?;
    let mut errors = FieldErrors::default();
    let checked = check(clinic, b, &hours, &mut errors)?;
    let days = match (&checked, repeat) {
        (Some(c), Some(r)) => expand(c.first.date(), r, &mut errors),
        (Some(c), None) => vec![c.first.date()],
        (None, _) => Vec::new(),
    };
    let Some(c) = checked else {
        errors.into_result()?;
        return Err(Error::Invalid(FieldErrors::default()));
    };
    let mut visits = Vec::new();
    for day in days {
        let starts = day.to_datetime(c.first.time());
        if skipped(&hours, starts) {
            errors.push("until", format!("On {day} the clocks go forward at {}: choose another time.", b.time));
        }
        visits.push((starts, end_of(starts, c.minutes)?));
    }
    errors.into_result()?;
    let mut warnings = Vec::new();
    for (starts, ends) in &visits {
        warnings.extend(warnings_for(clinic, &hours, b.doctor_id, *starts, *ends, &[])?);
    }
    if !warnings.is_empty() && !confirmed {
        return Err(Error::BookingNeedsConfirmation(warnings));
    }
    let double_booked = warnings.iter().any(|w| matches!(w, BookingWarning::Overlap { .. }));
    let now = clinic.now_rfc3339();
    let ids = clinic.store().write(|tx| {
        let series = match repeat {
            Some(r) => Some(table::insert_series(tx, r.every_weeks, &now)?),
            None => None,
        };
        let mut ids = Vec::new();
        for (starts, ends) in &visits {
            let (starts, ends) = (stamp(*starts), stamp(*ends));
            let slot = Slot {
                patient_id: b.patient_id,
                doctor_id: b.doctor_id,
                starts: &starts,
                ends: &ends,
                reason: &c.reason,
                reason_clinical: b.reason_clinical,
            };
            let id = table::insert(tx, &slot, series, &now)?;
            audit::record(tx, &now, &actor, "appointment.book", ("appointment", &id.to_string()), Outcome::Ok)?;
            ids.push(id);
        }
        if double_booked {
            let entity = ("patient", b.patient_id.to_string());
            audit::record(tx, &now, &actor, "appointment.double_book", (entity.0, &entity.1), Outcome::Ok)?;
        }
        Ok(ids)
    })?;
    tracing::info!(visits = ids.len(), double_booked, "appointment booked");
    ids.into_iter().map(|id| get(clinic, session, id)).collect()
}

fn end_of(starts: DateTime, minutes: i64) -> Result<DateTime, Error> {
    starts.checked_add(Span::new().minutes(minutes)).map_err(|_| Error::invalid("date", "Choose an earlier day."))
}

/// Changes a booked visit (its day, time, doctor, length or reason), or with `Scope::All` this visit and every
/// later one of its series still booked: each moves by as many days as this one and takes the new time.
pub fn change(
    clinic: &Clinic,
    session: &Session,
    id: i64,
    b: &Booking,
    scope: Scope,
    confirmed: bool,
) -> Result<Vec<Appointment>, Error> {
    let conn = clinic.store().conn();
    let (row, actor) = row_for(clinic, session, id, Action::AppointmentBook)?;
    require_status(&row, &[Status::Booked], "changed")?;
    let hours = hours::load_conn(conn)?;
    let b = Booking { patient_id: row.patient_id, ..b.clone() };
    let mut errors = FieldErrors::default();
    let Some(c) = check(clinic, &b, &hours, &mut errors)? else {
        errors.into_result()?;
        return Err(Error::Invalid(FieldErrors::default()));
    };
    let targets = in_scope(conn, &row, scope)?;
    let was = parse_stamp(&row.starts).map(|s| s.date()).unwrap_or(c.first.date());
    let shift = c.first.date() - was;
    let except: Vec<i64> = targets.iter().map(|t| t.id).collect();
    let mut moves = Vec::new();
    let mut warnings = Vec::new();
    for target in &targets {
        let day = parse_stamp(&target.starts).map(|s| s.date()).unwrap_or(was);
        let day = day.checked_add(shift).map_err(|_| Error::invalid("date", "Choose an earlier day."))?;
        let starts = day.to_datetime(c.first.time());
        if skipped(&hours, starts) {
            errors.push("time", format!("On {day} the clocks go forward at {}: choose another time.", b.time));
        }
        let ends = end_of(starts, c.minutes)?;
        warnings.extend(warnings_for(clinic, &hours, b.doctor_id, starts, ends, &except)?);
        moves.push((target.id, stamp(starts), stamp(ends)));
    }
    errors.into_result()?;
    if !warnings.is_empty() && !confirmed {
        return Err(Error::BookingNeedsConfirmation(warnings));
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        for (id, starts, ends) in &moves {
            let slot = Slot {
                patient_id: row.patient_id,
                doctor_id: b.doctor_id,
                starts,
                ends,
                reason: &c.reason,
                reason_clinical: b.reason_clinical,
            };
            table::update(tx, *id, &slot, &now)?;
            audit::record(tx, &now, &actor, "appointment.change", ("appointment", &id.to_string()), Outcome::Ok)?;
        }
        Ok(())
    })?;
    moves.iter().map(|(id, _, _)| get(clinic, session, *id)).collect()
}

/// This appointment, or with `Scope::All` it and every later one of its series still booked.
fn in_scope(conn: &rusqlite::Connection, row: &Row, scope: Scope) -> Result<Vec<Row>, Error> {
    Ok(match (scope, row.series_id) {
        (Scope::All, Some(series)) => {
            let mut rows = table::booked_in_series_from(conn, series, &row.starts)?;
            if !rows.iter().any(|r| r.id == row.id) {
                rows.insert(0, row.clone());
            }
            rows
        }
        _ => vec![row.clone()],
    })
}

fn require_status(row: &Row, allowed: &[Status], doing: &str) -> Result<(), Error> {
    if allowed.contains(&row.status) {
        return Ok(());
    }
    Err(Error::invalid("status", format!("This appointment is {}: it cannot be {doing}.", describe(row.status))))
}

fn describe(status: Status) -> &'static str {
    match status {
        Status::Booked => "booked",
        Status::Arrived => "checked in",
        Status::InProgress => "in progress",
        Status::Done => "done",
        Status::Cancelled => "cancelled",
        Status::NoShow => "marked as a no-show",
    }
}

/// Cancels a visit not yet started (with `Scope::All`, also every later one of its series), with a reason.
pub fn cancel(clinic: &Clinic, session: &Session, id: i64, reason: &str, scope: Scope) -> Result<(), Error> {
    let conn = clinic.store().conn();
    let (row, actor) = row_for(clinic, session, id, Action::AppointmentBook)?;
    require_status(&row, &[Status::Booked, Status::Arrived], "cancelled")?;
    let reason = text::clean(reason);
    text::check_required("cancel_reason", &reason, REASON_MAX).map_err(Error::Invalid)?;
    let targets = in_scope(conn, &row, scope)?;
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        for t in &targets {
            table::set_status(tx, t.id, Status::Cancelled, &reason, &now)?;
            audit::record(tx, &now, &actor, "appointment.cancel", ("appointment", &t.id.to_string()), Outcome::Ok)?;
        }
        Ok(())
    })
}

/// Marks a booked visit whose time has come as missed.
pub fn no_show(clinic: &Clinic, session: &Session, id: i64) -> Result<Appointment, Error> {
    transition(clinic, session, id, Status::NoShow)
}

/// The patient has arrived (the day of the visit): they join the waiting room.
pub fn check_in(clinic: &Clinic, session: &Session, id: i64) -> Result<Appointment, Error> {
    transition(clinic, session, id, Status::Arrived)
}

/// The doctor starts the visit (the day of it; a patient not checked in is taken as arrived now).
pub fn start(clinic: &Clinic, session: &Session, id: i64) -> Result<Appointment, Error> {
    transition(clinic, session, id, Status::InProgress)
}

/// The doctor ends the visit.
pub fn finish(clinic: &Clinic, session: &Session, id: i64) -> Result<Appointment, Error> {
    transition(clinic, session, id, Status::Done)
}

/// The appointment an action is taken on, once the role may take it at all: a caller who may not is refused
/// before the lookup, so the answer never tells whether an appointment exists.
fn row_for(clinic: &Clinic, session: &Session, id: i64, action: Action) -> Result<(Row, Actor), Error> {
    clinic.authorize(session, action, None)?;
    let row = table::require(clinic.store().conn(), id)?;
    let actor = clinic.authorize(session, action, Some(row.patient_id))?;
    Ok((row, actor))
}

/// Moves an appointment along its day: booked → arrived → in progress → done, or booked → no-show. Each step
/// checks who may take it, from which status, and on which day.
fn transition(clinic: &Clinic, session: &Session, id: i64, to: Status) -> Result<Appointment, Error> {
    let conn = clinic.store().conn();
    let (action, from, doing, code): (_, &[Status], _, _) = match to {
        Status::Arrived => (Action::AppointmentBook, &[Status::Booked], "checked in", "appointment.check_in"),
        Status::NoShow => (Action::AppointmentBook, &[Status::Booked], "marked as a no-show", "appointment.no_show"),
        Status::InProgress => (Action::VisitManage, &[Status::Booked, Status::Arrived], "started", "appointment.start"),
        Status::Done => (Action::VisitManage, &[Status::InProgress], "finished", "appointment.finish"),
        Status::Booked | Status::Cancelled => return Err(Error::invalid("status", "Not a step of the day.")),
    };
    let (row, actor) = row_for(clinic, session, id, action)?;
    require_status(&row, from, doing)?;
    let now_local = hours::load_conn(conn)?.now(clinic);
    let starts = parse_stamp(&row.starts).unwrap_or(now_local);
    match to {
        Status::Arrived | Status::InProgress if starts.date() != now_local.date() => {
            return Err(Error::invalid("status", format!("This appointment is on {}, not today.", starts.date())));
        }
        Status::NoShow if starts > now_local => {
            return Err(Error::invalid("status", "Mark a no-show once the appointment's time has passed."));
        }
        _ => {}
    }
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        if to == Status::InProgress && row.arrived_at.is_none() {
            table::set_status(tx, id, Status::Arrived, "", &now)?;
        }
        table::set_status(tx, id, to, "", &now)?;
        audit::record(tx, &now, &actor, code, ("appointment", &id.to_string()), Outcome::Ok)
    })?;
    get(clinic, session, id)
}

/// One appointment.
pub fn get(clinic: &Clinic, session: &Session, id: i64) -> Result<Appointment, Error> {
    clinic.authorize(session, Action::AppointmentRead, None)?;
    let row = table::require(clinic.store().conn(), id)?;
    Ok(present(clinic, session, vec![row])?.remove(0))
}

/// Rows as the viewer may see them: with the patient, the doctor's name, and the reason unless it is clinical and
/// the viewer's role may not read clinical data.
fn present(clinic: &Clinic, session: &Session, rows: Vec<Row>) -> Result<Vec<Appointment>, Error> {
    let clinical = clinic.permits(session, Action::PatientReadClinical, None)?.is_some();
    let names = summaries(clinic, &rows)?;
    let doctors: HashMap<i64, String> =
        staff::all(clinic.store().conn())?.into_iter().map(|m| (m.id, m.display_name)).collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let (starts, ends) = (parse_stamp(&r.starts), parse_stamp(&r.ends));
            let minutes = match (starts, ends) {
                (Some(s), Some(e)) => s.duration_until(e).as_secs() / 60,
                _ => 0,
            };
            Appointment {
                id: r.id,
                series_id: r.series_id,
                patient: names.get(&r.patient_id).cloned().unwrap_or_else(|| unknown_patient(r.patient_id)),
                doctor_id: r.doctor_id,
                doctor_name: doctors.get(&r.doctor_id).cloned().unwrap_or_default(),
                date: r.starts.get(..10).unwrap_or_default().to_owned(),
                time: r.starts.get(11..).unwrap_or_default().to_owned(),
                end_time: r.ends.get(11..).unwrap_or_default().to_owned(),
                minutes: u32::try_from(minutes).unwrap_or(0),
                reason: (!r.reason_clinical || clinical).then_some(r.reason),
                reason_clinical: r.reason_clinical,
                status: r.status,
                cancel_reason: r.cancel_reason,
                arrived_at: r.arrived_at,
                started_at: r.started_at,
                finished_at: r.finished_at,
            }
        })
        .collect())
}

fn unknown_patient(id: i64) -> Summary {
    Summary {
        id,
        mrn: String::new(),
        given_names: String::new(),
        family_name: String::new(),
        date_of_birth: String::new(),
        dob_estimated: false,
        sex: Default::default(),
        phones: Vec::new(),
        deceased: false,
    }
}

fn summaries(clinic: &Clinic, rows: &[Row]) -> Result<HashMap<i64, Summary>, Error> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r.patient_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(patients::summaries(clinic.store().conn(), &ids)?.into_iter().map(|s| (s.id, s)).collect())
}

/// The book from `from` (`YYYY-MM-DD`) for `days` days (1 to 7): per day, a column per active doctor (or only
/// `doctor`), each with its appointments and its free time within opening hours.
pub fn calendar(
    clinic: &Clinic,
    session: &Session,
    from: &str,
    days: u32,
    doctor: Option<i64>,
) -> Result<Vec<Day>, Error> {
    clinic.authorize(session, Action::AppointmentRead, None)?;
    let first = parse_date(from).ok_or_else(|| Error::invalid("date", "Give the day as YYYY-MM-DD."))?;
    if !(1..=7).contains(&days) {
        return Err(Error::invalid("days", "Show 1 to 7 days."));
    }
    let conn = clinic.store().conn();
    let hours = hours::load_conn(conn)?;
    let last = first.checked_add(Span::new().days(i64::from(days))).map_err(|_| Error::invalid("date", "Too late."))?;
    let rows = table::between(conn, &format!("{first}T00:00"), &format!("{last}T00:00"))?;
    let appointments = present(clinic, session, rows)?;
    let doctors: Vec<staff::StaffMember> = staff::all(conn)?
        .into_iter()
        .filter(|m| m.role == Role::Doctor && (m.active || appointments.iter().any(|a| a.doctor_id == m.id)))
        .filter(|m| doctor.is_none_or(|d| d == m.id))
        .collect();
    let (opens, closes) = hours.opening();
    let mut out = Vec::new();
    for n in 0..days {
        let Ok(date) = first.checked_add(Span::new().days(i64::from(n))) else { break };
        let day = date.to_string();
        let weekday = Weekday::of(date);
        let columns = doctors
            .iter()
            .map(|m| {
                let booked: Vec<Appointment> =
                    appointments.iter().filter(|a| a.date == day && a.doctor_id == m.id).cloned().collect();
                let working = hours.works(m.id, weekday);
                let free = if working { free_spans(opens, closes, &booked) } else { Vec::new() };
                Column { doctor_id: m.id, doctor_name: m.display_name.clone(), working, appointments: booked, free }
            })
            .collect();
        out.push(Day { date: day, weekday, columns });
    }
    Ok(out)
}

/// The parts of `[opens, closes)` no appointment that holds its time covers.
fn free_spans(opens: Time, closes: Time, booked: &[Appointment]) -> Vec<(String, String)> {
    let mut busy: Vec<(Time, Time)> = booked
        .iter()
        .filter(|a| a.status.holds_time())
        .filter_map(|a| Some((hours::parse_time(&a.time)?, hours::parse_time(&a.end_time)?)))
        .collect();
    busy.sort();
    let mut free = Vec::new();
    let mut at = opens;
    for (s, e) in busy {
        if s > at && at < closes {
            free.push((hours::hhmm(at), hours::hhmm(s.min(closes))));
        }
        // An appointment that ends after midnight (its end time is earlier than its start) fills the day.
        at = at.max(if e < s { closes } else { e });
    }
    if at < closes {
        free.push((hours::hhmm(at), hours::hhmm(closes)));
    }
    free
}

/// Today's waiting room and visits in progress, by arrival: everyone's, or one doctor's queue.
pub fn queue(clinic: &Clinic, session: &Session, doctor: Option<i64>) -> Result<Vec<Waiting>, Error> {
    let today = today(clinic)?;
    let days = calendar(clinic, session, &today, 1, doctor)?;
    let now = clinic.now();
    let mut waiting: Vec<Waiting> = days
        .into_iter()
        .flat_map(|d| d.columns)
        .flat_map(|c| c.appointments)
        .filter(|a| matches!(a.status, Status::Arrived | Status::InProgress))
        .map(|a| {
            let at = |s: &Option<String>| s.as_deref().and_then(crate::clock::parse_rfc3339);
            let until = if a.status == Status::InProgress { at(&a.started_at).unwrap_or(now) } else { now };
            let waited_minutes = at(&a.arrived_at).map_or(0, |arrived| (until - arrived).whole_minutes().max(0));
            Waiting { appointment: a, waited_minutes }
        })
        .collect();
    waiting.sort_by(|a, b| a.appointment.arrived_at.cmp(&b.appointment.arrived_at));
    Ok(waiting)
}

/// A patient's visits from today on (cancelled ones included), for their chart.
pub fn upcoming_for(clinic: &Clinic, session: &Session, patient_id: i64) -> Result<Vec<Appointment>, Error> {
    clinic.authorize(session, Action::AppointmentRead, Some(patient_id))?;
    let today = today(clinic)?;
    let rows = table::of_patient_from(clinic.store().conn(), patient_id, &format!("{today}T00:00"))?;
    present(clinic, session, rows)
}

/// One doctor's visits on `date` for the printed day list (cancelled ones left out). The reason shows as
/// `present` allows: a receptionist's copy leaves out clinical reasons.
pub fn day_sheet(clinic: &Clinic, session: &Session, date: &str, doctor_id: i64) -> Result<DaySheet, Error> {
    let column = calendar(clinic, session, date, 1, Some(doctor_id))?
        .into_iter()
        .flat_map(|d| d.columns)
        .next()
        .ok_or_else(|| Error::invalid("doctor", "Choose a doctor of this clinic."))?;
    let now = hours::load(clinic)?.now(clinic);
    Ok(DaySheet {
        date: date.trim().to_owned(),
        doctor_id,
        doctor_name: column.doctor_name,
        visits: column.appointments.into_iter().filter(|a| a.status != Status::Cancelled).collect(),
        printed_at: stamp(now).replace('T', " "),
    })
}

/// An appointment card: the visit and, for a series, its later visits still booked.
pub fn card(clinic: &Clinic, session: &Session, id: i64) -> Result<Card, Error> {
    let visit = get(clinic, session, id)?;
    if visit.status == Status::Cancelled {
        return Err(Error::invalid("appointment", "This appointment was cancelled: there is no card to print."));
    }
    let next = match visit.series_id {
        Some(series) => upcoming_for(clinic, session, visit.patient.id)?
            .into_iter()
            .filter(|a| a.series_id == Some(series) && a.status == Status::Booked)
            .filter(|a| (&a.date, &a.time) > (&visit.date, &visit.time))
            .take(CARD_NEXT)
            .collect(),
        None => Vec::new(),
    };
    Ok(Card { visit, next })
}

/// The visits still booked on `date`, by time: whom to call with a reminder.
pub fn to_call(clinic: &Clinic, session: &Session, date: &str) -> Result<Vec<Appointment>, Error> {
    let day = calendar(clinic, session, date, 1, None)?;
    let mut booked: Vec<Appointment> = day
        .into_iter()
        .flat_map(|d| d.columns)
        .flat_map(|c| c.appointments)
        .filter(|a| a.status == Status::Booked)
        .collect();
    booked.sort_by(|a, b| (&a.time, &a.doctor_name).cmp(&(&b.time, &b.doctor_name)));
    Ok(booked)
}

/// The reminders for `date` as CSV for an SMS tool (date, time, doctor, patient, phone; never the reason), one
/// row per visit still booked. Exporting names and phones is audited.
pub fn reminders_csv(clinic: &Clinic, session: &Session, date: &str) -> Result<String, Error> {
    let actor = clinic.authorize(session, Action::AppointmentBook, None)?;
    let visits = to_call(clinic, session, date)?;
    let mut csv = String::from("date,time,doctor,patient,phone\r\n");
    for a in &visits {
        let phone = a.patient.phones.first().cloned().unwrap_or_default();
        let cells = [a.date.clone(), a.time.clone(), a.doctor_name.clone(), full_name(&a.patient), phone];
        csv += &cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
        csv += "\r\n";
    }
    let now = clinic.now_rfc3339();
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "appointment.reminders_export", ("date", date), Outcome::Ok))?;
    Ok(csv)
}

/// Writes the reminders for `date` to `path` (owner-only: names and phones; a file cut off by a full disk is
/// removed, not left looking whole).
pub fn save_reminders(clinic: &Clinic, session: &Session, date: &str, path: &std::path::Path) -> Result<(), Error> {
    let csv = reminders_csv(clinic, session, date)?;
    crate::files::write_private(path, csv.as_bytes())
}

/// One CSV cell, quoted when needed; a cell a spreadsheet would run as a formula is made plain text.
fn csv_cell(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("Ana"), "Ana");
        assert_eq!(csv_cell("Silva, Ana"), "\"Silva, Ana\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+351 912"), "'+351 912");
    }

    #[test]
    fn free_time_is_what_no_kept_appointment_covers() {
        let t = |h, m| Time::constant(h, m, 0, 0);
        let visit = |from: &str, to: &str, status| Appointment {
            id: 1,
            series_id: None,
            patient: unknown_patient(1),
            doctor_id: 1,
            doctor_name: String::new(),
            date: "2026-12-01".into(),
            time: from.into(),
            end_time: to.into(),
            minutes: 0,
            reason: None,
            reason_clinical: false,
            status,
            cancel_reason: String::new(),
            arrived_at: None,
            started_at: None,
            finished_at: None,
        };
        let booked = [
            visit("09:00", "09:30", Status::Booked),
            visit("09:15", "09:45", Status::Booked),
            visit("10:00", "11:00", Status::Cancelled),
            visit("17:30", "18:30", Status::Done),
        ];
        let free = free_spans(t(8, 0), t(18, 0), &booked);
        let expected = [("08:00", "09:00"), ("09:45", "17:30")];
        assert_eq!(free, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    }

    #[test]
    fn weekly_visits_keep_their_wall_clock_time_across_a_clock_change() {
        let first: Date = "2026-10-13".parse().expect("date");
        let mut errors = FieldErrors::default();
        let days = expand(first, &Repeat { every_weeks: 1, until: String::new(), times: Some(4) }, &mut errors);
        assert!(errors.0.is_empty(), "{errors}");
        let lisbon = jiff::tz::TimeZone::posix("WET0WEST,M3.5.0/1,M10.5.0").expect("posix zone");
        let nine = Time::constant(9, 0, 0, 0);
        let utc_hours: Vec<i8> = days
            .iter()
            .map(|d| lisbon.to_ambiguous_timestamp(d.to_datetime(nine)).compatible().expect("exists"))
            .map(|ts| ts.to_zoned(jiff::tz::TimeZone::UTC).hour())
            .collect();
        // 13, 20 October: summer time (UTC+1); 27 October and 3 November: winter time (UTC+0). Each at 09:00 local.
        assert_eq!(
            days.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2026-10-13", "2026-10-20", "2026-10-27", "2026-11-03"]
        );
        assert_eq!(utc_hours, [8, 8, 9, 9]);
    }
}
