//! Opening hours, each doctor's working days and the clinic's time zone: the appointment book's part of
//! Settings, kept in the settings table. Anyone who sees the book reads them; admins change them.

use super::model::{DoctorDays, Hours, Weekday};
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::{Error, FieldErrors};
use crate::permissions::{Action, Role};
use crate::session::Session;
use crate::settings::table as settings;
use crate::staff::table as staff;
use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use rusqlite::Connection;

const OPENS: &str = "book.opens";
const CLOSES: &str = "book.closes";
const DAYS: &str = "book.days";
const SLOT_MINUTES: &str = "book.slot_minutes";
const DOCTOR_DAYS: &str = "book.doctor_days";
const TIME_ZONE: &str = "book.time_zone";

/// The slot lengths offered, in minutes.
pub const SLOT_MINUTES_RANGE: std::ops::RangeInclusive<u32> = 5..=120;

impl Default for Hours {
    fn default() -> Self {
        use Weekday::*;
        Hours {
            opens: "08:00".into(),
            closes: "18:00".into(),
            days: vec![Mon, Tue, Wed, Thu, Fri],
            slot_minutes: 15,
            doctors: Vec::new(),
            time_zone: String::new(),
        }
    }
}

impl Hours {
    /// Whether the doctor works on `day`: the clinic is open and the doctor's own days (if set) include it.
    pub fn works(&self, doctor_id: i64, day: Weekday) -> bool {
        self.days.contains(&day)
            && self.doctors.iter().find(|d| d.doctor_id == doctor_id).is_none_or(|d| d.days.contains(&day))
    }

    /// The clinic's time zone: the setting, else this computer's.
    pub fn zone(&self) -> TimeZone {
        match self.time_zone.as_str() {
            "" => TimeZone::system(),
            name => TimeZone::get(name).unwrap_or_else(|_| TimeZone::system()),
        }
    }

    pub(crate) fn opening(&self) -> (Time, Time) {
        let parse = |s: &str, default| parse_time(s).unwrap_or(default);
        (parse(&self.opens, Time::constant(8, 0, 0, 0)), parse(&self.closes, Time::constant(18, 0, 0, 0)))
    }

    /// The wall-clock time now, in the clinic's time zone.
    pub(crate) fn now(&self, clinic: &Clinic) -> DateTime {
        let now = jiff::Timestamp::from_second(clinic.now().unix_timestamp()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        now.to_zoned(self.zone()).datetime()
    }
}

/// `HH:MM`, 24-hour, exactly.
pub(crate) fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    let digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

/// A time as `HH:MM`.
pub(crate) fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn days_text(days: &[Weekday]) -> String {
    days.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(",")
}

fn days_parse(s: &str) -> Vec<Weekday> {
    Weekday::ALL.iter().copied().filter(|d| s.split(',').any(|p| p == d.as_str())).collect()
}

/// The hours as stored, with defaults for what was never set.
pub(crate) fn load_conn(conn: &Connection) -> Result<Hours, Error> {
    let d = Hours::default();
    let get = |key| settings::get(conn, key);
    let doctors: Vec<(i64, String)> = get(DOCTOR_DAYS)?.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
    Ok(Hours {
        opens: get(OPENS)?.filter(|t| parse_time(t).is_some()).unwrap_or(d.opens),
        closes: get(CLOSES)?.filter(|t| parse_time(t).is_some()).unwrap_or(d.closes),
        days: get(DAYS)?.map(|s| days_parse(&s)).unwrap_or(d.days),
        slot_minutes: get(SLOT_MINUTES)?
            .and_then(|s| s.parse().ok())
            .filter(|m| SLOT_MINUTES_RANGE.contains(m))
            .unwrap_or(d.slot_minutes),
        doctors: doctors
            .into_iter()
            .map(|(doctor_id, days)| DoctorDays { doctor_id, days: days_parse(&days) })
            .collect(),
        time_zone: get(TIME_ZONE)?.unwrap_or_default(),
    })
}

/// The book's hours. Not secret (a clinic's hours are on its door): read without a session, like the letterhead.
pub fn load(clinic: &Clinic) -> Result<Hours, Error> {
    load_conn(clinic.store().conn())
}

/// Replaces the hours (admins), every field checked first; each changed key is audited.
pub fn update(clinic: &Clinic, session: &Session, new: &Hours) -> Result<Hours, Error> {
    let actor = clinic.authorize(session, Action::SettingsManage, None)?;
    let conn = clinic.store().conn();
    let mut errors = FieldErrors::default();
    let opens = parse_time(new.opens.trim());
    let closes = parse_time(new.closes.trim());
    if opens.is_none() {
        errors.push("opens", "Give a time as HH:MM, e.g. 08:30.");
    }
    if closes.is_none() {
        errors.push("closes", "Give a time as HH:MM, e.g. 18:00.");
    }
    if let (Some(o), Some(c)) = (opens, closes) {
        if c <= o {
            errors.push("closes", "Closing must be later than opening.");
        }
    }
    if new.days.is_empty() {
        errors.push("days", "Choose at least one day the clinic is open.");
    }
    if !SLOT_MINUTES_RANGE.contains(&new.slot_minutes) {
        let (lo, hi) = (SLOT_MINUTES_RANGE.start(), SLOT_MINUTES_RANGE.end());
        errors.push("slot_minutes", format!("Choose between {lo} and {hi} minutes."));
    }
    for d in &new.doctors {
        let doctor = staff::by_id(conn, d.doctor_id)?;
        if doctor.is_none_or(|m| m.role != Role::Doctor) {
            errors.push("doctors", format!("Account {} is not a doctor's.", d.doctor_id));
        }
    }
    let zone = new.time_zone.trim();
    if !zone.is_empty() && TimeZone::get(zone).is_err() {
        errors.push("time_zone", "Unknown time zone: give a name such as Europe/Lisbon, or leave it empty.");
    }
    errors.into_result()?;
    let doctors: Vec<(i64, String)> = new.doctors.iter().map(|d| (d.doctor_id, days_text(&d.days))).collect();
    let doctors = serde_json::to_string(&doctors).unwrap_or_else(|_| "[]".into());
    let (opens, closes) = (opens.map(hhmm).unwrap_or_default(), closes.map(hhmm).unwrap_or_default());
    let now = clinic.now_rfc3339();
    clinic.store().write(|tx| {
        for (key, value) in [
            (OPENS, opens.as_str()),
            (CLOSES, &closes),
            (DAYS, &days_text(&new.days)),
            (SLOT_MINUTES, &new.slot_minutes.to_string()),
            (DOCTOR_DAYS, &doctors),
            (TIME_ZONE, zone),
        ] {
            if settings::get(tx, key)?.as_deref() != Some(value) {
                settings::put(tx, key, value)?;
                audit::record(tx, &now, &actor, "settings.update", ("setting", key), Outcome::Ok)?;
            }
        }
        Ok(())
    })?;
    load_conn(conn)
}
