//! The appointment book's plain value types: what a form sends, what a screen shows.

use crate::patients::model::Summary;
use crate::value_list::value_list;

value_list! {
    /// Where an appointment stands in the day.
    pub enum Status {
        Booked = "booked",
        Arrived = "arrived",
        InProgress = "in_progress",
        Done = "done",
        Cancelled = "cancelled",
        NoShow = "no_show",
    }
}

impl Status {
    /// Still holds its time in the book (a cancelled or missed appointment frees it).
    pub fn holds_time(self) -> bool {
        !matches!(self, Status::Cancelled | Status::NoShow)
    }
}

value_list! {
    /// A day of the week, Monday first, as opening hours and working days store it.
    pub enum Weekday { Mon = "mon", Tue = "tue", Wed = "wed", Thu = "thu", Fri = "fri", Sat = "sat", Sun = "sun" }
}

impl Weekday {
    pub(crate) fn of(date: jiff::civil::Date) -> Self {
        Self::ALL[date.weekday().to_monday_zero_offset() as usize]
    }
}

value_list! {
    /// Which appointments of a recurring series a change or a cancellation applies to.
    #[derive(Default)]
    pub enum Scope {
        /// This one only.
        #[default]
        One = "one",
        /// This one and every later one of its series still booked (earlier ones have happened or were missed).
        All = "all",
    }
}

/// A visit as the booking form sends it. Dates are `YYYY-MM-DD` and times `HH:MM`, the clinic's wall clock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Booking {
    /// The patient's id.
    pub patient_id: i64,
    /// The doctor's staff id.
    pub doctor_id: i64,
    /// The day.
    pub date: String,
    /// The time it starts.
    pub time: String,
    /// How long, in minutes.
    pub minutes: u32,
    /// Why the patient comes.
    pub reason: String,
    /// The reason is clinical: only clinical roles read it.
    pub reason_clinical: bool,
}

/// A booking repeated every few weeks, until a date or for a number of visits (one of the two).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repeat {
    /// Every how many weeks.
    pub every_weeks: u32,
    /// The last day a visit may fall on, `YYYY-MM-DD`, or empty.
    pub until: String,
    /// How many visits in all, the first included, or `None`.
    pub times: Option<u32>,
}

/// One appointment, as the book shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    /// Its id.
    pub id: i64,
    /// The series it belongs to, when booked as recurring.
    pub series_id: Option<i64>,
    /// Who comes.
    pub patient: Summary,
    /// The doctor's staff id.
    pub doctor_id: i64,
    /// The doctor's name.
    pub doctor_name: String,
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Starts, `HH:MM`.
    pub time: String,
    /// Ends, `HH:MM`.
    pub end_time: String,
    /// How long, in minutes.
    pub minutes: u32,
    /// Why; `None` when it is clinical and the viewer's role may not read clinical data.
    pub reason: Option<String>,
    /// The reason is clinical.
    pub reason_clinical: bool,
    /// Where it stands.
    pub status: Status,
    /// Why it was cancelled.
    pub cancel_reason: String,
    /// When the patient checked in, RFC 3339 UTC.
    pub arrived_at: Option<String>,
    /// When the doctor started the visit.
    pub started_at: Option<String>,
    /// When the visit ended.
    pub finished_at: Option<String>,
}

/// Something about a booking that needs a person's confirmation before it is made. The front ends word it (the CLI
/// through `Display`, the app in the reader's language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum BookingWarning {
    /// The doctor already has a visit then.
    #[error("{date} at {time}: the doctor already sees {patient} from {from} to {to}")]
    Overlap {
        /// The day of the new booking.
        date: String,
        /// Its time.
        time: String,
        /// The patient already booked then.
        patient: String,
        /// When theirs starts.
        from: String,
        /// When it ends.
        to: String,
    },
    /// The clinic is closed that day.
    #[error("{date}: the clinic is closed that day")]
    ClinicClosed {
        /// The day.
        date: String,
    },
    /// The doctor does not work that day.
    #[error("{date}: the doctor does not work that day")]
    DoctorAway {
        /// The day.
        date: String,
    },
    /// It starts before the clinic opens or ends after it closes.
    #[error("{date} at {time}: outside opening hours ({opens}–{closes})")]
    OutsideHours {
        /// The day.
        date: String,
        /// The time.
        time: String,
        /// When the clinic opens.
        opens: String,
        /// When it closes.
        closes: String,
    },
}

/// The clinic's opening hours and each doctor's working days, from Settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    /// When the clinic opens, `HH:MM`.
    pub opens: String,
    /// When it closes, `HH:MM`.
    pub closes: String,
    /// The days it is open.
    pub days: Vec<Weekday>,
    /// The length of a slot in the book, and a new booking's default length, in minutes.
    pub slot_minutes: u32,
    /// Each doctor's working days; a doctor not listed works every day the clinic is open.
    pub doctors: Vec<DoctorDays>,
    /// The clinic's time zone (IANA, e.g. `Europe/Lisbon`), or empty for this computer's.
    pub time_zone: String,
}

/// The days one doctor works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorDays {
    /// The doctor's staff id.
    pub doctor_id: i64,
    /// Their days.
    pub days: Vec<Weekday>,
}

/// One doctor's column in a day of the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The doctor's staff id.
    pub doctor_id: i64,
    /// Their name.
    pub doctor_name: String,
    /// They work this day and the clinic is open.
    pub working: bool,
    /// Their appointments, by time (cancelled ones included, marked).
    pub appointments: Vec<Appointment>,
    /// Free times within opening hours, as `(HH:MM, HH:MM)` spans.
    pub free: Vec<(String, String)>,
}

/// One day of the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Its weekday.
    pub weekday: Weekday,
    /// One column per doctor shown.
    pub columns: Vec<Column>,
}

/// A patient in the waiting room or with the doctor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The appointment.
    pub appointment: Appointment,
    /// Minutes since they checked in (to now, or to when the visit started).
    pub waited_minutes: i64,
}

/// A doctor appointments can be booked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doctor {
    /// Their staff id.
    pub id: i64,
    /// Their username.
    pub username: String,
    /// Their name.
    pub display_name: String,
}

/// One doctor's day as the printed day list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySheet {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The doctor's staff id.
    pub doctor_id: i64,
    /// The doctor's name.
    pub doctor_name: String,
    /// The visits that still stand (cancelled ones left out), by time.
    pub visits: Vec<Appointment>,
    /// When it was printed, on the clinic's wall clock (`YYYY-MM-DD HH:MM`): a list goes stale as the day is booked.
    pub printed_at: String,
}

/// What an appointment card tells the patient: the visit, and the later visits of its series still booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The visit the card is for.
    pub visit: Appointment,
    /// The series' later visits still booked, by date (at most `CARD_NEXT`).
    pub next: Vec<Appointment>,
}

/// The most later visits a card lists.
pub const CARD_NEXT: usize = 8;
