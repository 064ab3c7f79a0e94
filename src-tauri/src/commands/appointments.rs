//! The appointment book and the front desk's day: the day and week views, booking and changing (warnings come
//! back as `booking_needs_confirmation` for the screen to confirm), the day's steps, the queue, the calls to make
//! and their CSV (saved through the shell's dialog), the opening hours, and the recent patients the search page
//! shows before anything is typed.

use crate::dialogs::{self, Ask};
use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::PatientSummaryDto;
use galen_core::appointments::{self, Booking, DoctorDays, Hours, Repeat, Scope, Status, Weekday};
use galen_core::{patients, Action};
use serde::{Deserialize, Serialize};
use tauri::{State, Window};

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentDto {
    pub id: i64,
    pub series_id: Option<i64>,
    pub patient: PatientSummaryDto,
    pub doctor_id: i64,
    pub doctor_name: String,
    pub date: String,
    pub time: String,
    pub end_time: String,
    pub minutes: u32,
    /// Absent when the reason is clinical and the role may not read it.
    pub reason: Option<String>,
    pub reason_clinical: bool,
    pub status: Status,
    pub cancel_reason: String,
    pub arrived_at: Option<String>,
    pub started_at: Option<String>,
}

impl From<appointments::Appointment> for AppointmentDto {
    fn from(a: appointments::Appointment) -> Self {
        Self {
            id: a.id,
            series_id: a.series_id,
            patient: a.patient.into(),
            doctor_id: a.doctor_id,
            doctor_name: a.doctor_name,
            date: a.date,
            time: a.time,
            end_time: a.end_time,
            minutes: a.minutes,
            reason: a.reason,
            reason_clinical: a.reason_clinical,
            status: a.status,
            cancel_reason: a.cancel_reason,
            arrived_at: a.arrived_at,
            started_at: a.started_at,
        }
    }
}

fn dtos(list: Vec<appointments::Appointment>) -> Vec<AppointmentDto> {
    list.into_iter().map(Into::into).collect()
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct FreeDto {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ColumnDto {
    pub doctor_id: i64,
    pub doctor_name: String,
    pub working: bool,
    pub appointments: Vec<AppointmentDto>,
    pub free: Vec<FreeDto>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DayDto {
    pub date: String,
    pub weekday: Weekday,
    pub columns: Vec<ColumnDto>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DoctorDto {
    pub id: i64,
    pub display_name: String,
}

/// The booking form.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BookingForm {
    pub patient_id: i64,
    pub doctor_id: i64,
    pub date: String,
    pub time: String,
    pub minutes: u32,
    pub reason: String,
    pub reason_clinical: bool,
}

impl From<BookingForm> for Booking {
    fn from(f: BookingForm) -> Self {
        Booking {
            patient_id: f.patient_id,
            doctor_id: f.doctor_id,
            date: f.date,
            time: f.time,
            minutes: f.minutes,
            reason: f.reason,
            reason_clinical: f.reason_clinical,
        }
    }
}

/// Repeat every `everyWeeks` weeks, until a day or a number of times.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RepeatForm {
    pub every_weeks: u32,
    pub until: String,
    pub times: Option<u32>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct WaitingDto {
    pub appointment: AppointmentDto,
    pub waited_minutes: i64,
}

/// Today and tomorrow in the clinic's time zone, and the book's slot length.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct BookDaysDto {
    pub today: String,
    pub tomorrow: String,
    pub slot_minutes: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DoctorDaysDto {
    pub doctor_id: i64,
    pub days: Vec<Weekday>,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HoursDto {
    pub opens: String,
    pub closes: String,
    pub days: Vec<Weekday>,
    pub slot_minutes: u32,
    pub doctors: Vec<DoctorDaysDto>,
    pub time_zone: String,
}

impl From<Hours> for HoursDto {
    fn from(h: Hours) -> Self {
        Self {
            opens: h.opens,
            closes: h.closes,
            days: h.days,
            slot_minutes: h.slot_minutes,
            doctors: h.doctors.into_iter().map(|d| DoctorDaysDto { doctor_id: d.doctor_id, days: d.days }).collect(),
            time_zone: h.time_zone,
        }
    }
}

impl From<HoursDto> for Hours {
    fn from(h: HoursDto) -> Self {
        Self {
            opens: h.opens,
            closes: h.closes,
            days: h.days,
            slot_minutes: h.slot_minutes,
            doctors: h.doctors.into_iter().map(|d| DoctorDays { doctor_id: d.doctor_id, days: d.days }).collect(),
            time_zone: h.time_zone,
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct RecentDto {
    pub opened: Vec<PatientSummaryDto>,
    pub registered: Vec<PatientSummaryDto>,
}

#[tauri::command]
#[specta::specta]
pub async fn appt_days(state: State<'_, AppState>) -> Result<BookDaysDto, ApiError> {
    state.with_session(|c, _| {
        let slot_minutes = appointments::hours::load(c)?.slot_minutes;
        Ok(BookDaysDto { today: appointments::today(c)?, tomorrow: appointments::tomorrow(c)?, slot_minutes })
    })
}

#[tauri::command]
#[specta::specta]
pub async fn appt_doctors(state: State<'_, AppState>) -> Result<Vec<DoctorDto>, ApiError> {
    state.with_session(|c, s| {
        let list = appointments::doctors(c, s)?;
        Ok(list.into_iter().map(|d| DoctorDto { id: d.id, display_name: d.display_name }).collect())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn appt_calendar(
    state: State<'_, AppState>,
    from: String,
    days: u32,
    doctor: Option<i64>,
) -> Result<Vec<DayDto>, ApiError> {
    state.with_session(|c, s| {
        let days = appointments::calendar(c, s, &from, days, doctor)?;
        Ok(days
            .into_iter()
            .map(|d| DayDto {
                date: d.date,
                weekday: d.weekday,
                columns: d
                    .columns
                    .into_iter()
                    .map(|col| ColumnDto {
                        doctor_id: col.doctor_id,
                        doctor_name: col.doctor_name,
                        working: col.working,
                        appointments: dtos(col.appointments),
                        free: col.free.into_iter().map(|(from, to)| FreeDto { from, to }).collect(),
                    })
                    .collect(),
            })
            .collect())
    })
}

/// Books a visit or a series; what needs confirming comes back as `booking_needs_confirmation` with its warnings.
#[tauri::command]
#[specta::specta]
pub async fn appt_book(
    state: State<'_, AppState>,
    form: BookingForm,
    repeat: Option<RepeatForm>,
    confirmed: bool,
) -> Result<Vec<AppointmentDto>, ApiError> {
    let repeat = repeat.map(|r| Repeat { every_weeks: r.every_weeks, until: r.until, times: r.times });
    state.with_session(|c, s| Ok(dtos(appointments::book(c, s, &form.into(), repeat.as_ref(), confirmed)?)))
}

#[tauri::command]
#[specta::specta]
pub async fn appt_change(
    state: State<'_, AppState>,
    id: i64,
    form: BookingForm,
    scope: Scope,
    confirmed: bool,
) -> Result<Vec<AppointmentDto>, ApiError> {
    state.with_session(|c, s| Ok(dtos(appointments::change(c, s, id, &form.into(), scope, confirmed)?)))
}

#[tauri::command]
#[specta::specta]
pub async fn appt_cancel(state: State<'_, AppState>, id: i64, reason: String, scope: Scope) -> Result<(), ApiError> {
    state.with_session(|c, s| appointments::cancel(c, s, id, &reason, scope))
}

/// Moves a visit along its day: `arrived` (check-in), `in_progress` (start), `done` (finish) or `no_show`.
#[tauri::command]
#[specta::specta]
pub async fn appt_mark(state: State<'_, AppState>, id: i64, to: Status) -> Result<AppointmentDto, ApiError> {
    state.with_session(|c, s| {
        let a = match to {
            Status::Arrived => appointments::check_in(c, s, id)?,
            Status::InProgress => appointments::start(c, s, id)?,
            Status::Done => appointments::finish(c, s, id)?,
            Status::NoShow => appointments::no_show(c, s, id)?,
            Status::Booked | Status::Cancelled => {
                return Err(galen_core::Error::invalid("status", "Not a step of the day."));
            }
        };
        Ok(a.into())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn appt_queue(state: State<'_, AppState>, doctor: Option<i64>) -> Result<Vec<WaitingDto>, ApiError> {
    state.with_session(|c, s| {
        let queue = appointments::queue(c, s, doctor)?;
        Ok(queue
            .into_iter()
            .map(|w| WaitingDto { appointment: w.appointment.into(), waited_minutes: w.waited_minutes })
            .collect())
    })
}

#[tauri::command]
#[specta::specta]
pub async fn appt_for_patient(state: State<'_, AppState>, patient_id: i64) -> Result<Vec<AppointmentDto>, ApiError> {
    state.with_session(|c, s| Ok(dtos(appointments::upcoming_for(c, s, patient_id)?)))
}

#[tauri::command]
#[specta::specta]
pub async fn appt_to_call(state: State<'_, AppState>, date: String) -> Result<Vec<AppointmentDto>, ApiError> {
    state.with_session(|c, s| Ok(dtos(appointments::to_call(c, s, &date)?)))
}

/// Asks where to save the reminders for `date` (the dialog titled `title`) and writes them as CSV there; whether
/// it saved (the permission is checked before the dialog opens).
#[tauri::command]
#[specta::specta]
pub async fn appt_reminders_save(
    window: Window,
    state: State<'_, AppState>,
    title: String,
    date: String,
) -> Result<bool, ApiError> {
    state.with_session(|c, s| c.authorize(s, Action::AppointmentBook, None).map(drop))?;
    let file_name = format!("reminders-{date}.csv");
    let Some(path) = dialogs::save_to(&window, Ask { title: &title, filter: ("CSV", &["csv"]) }, &file_name).await
    else {
        return Ok(false);
    };
    state.with_session(|c, s| appointments::save_reminders(c, s, &date, &path))?;
    Ok(true)
}

#[tauri::command]
#[specta::specta]
pub async fn appt_hours(state: State<'_, AppState>) -> Result<HoursDto, ApiError> {
    state.with_session(|c, _| Ok(appointments::hours::load(c)?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn appt_hours_save(state: State<'_, AppState>, hours: HoursDto) -> Result<HoursDto, ApiError> {
    state.with_session(|c, s| Ok(appointments::hours::update(c, s, &hours.into())?.into()))
}

#[tauri::command]
#[specta::specta]
pub async fn patient_recent(state: State<'_, AppState>) -> Result<RecentDto, ApiError> {
    state.with_session(|c, s| {
        let recent = patients::recent(c, s, 8)?;
        Ok(RecentDto {
            opened: recent.opened.into_iter().map(Into::into).collect(),
            registered: recent.registered.into_iter().map(Into::into).collect(),
        })
    })
}
