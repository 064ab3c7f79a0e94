//! `galen appt …`: the appointment book for scripts and tests: book, list, move, cancel, the day's steps
//! (check-in, start, finish, no-show), the queue, reminders and the opening hours. galen-core checks every field
//! and permission; a booking that needs confirming prints why and asks for `--confirm`.

use crate::session::Ctx;
use anyhow::{bail, Context, Result};
use galen_core::appointments::{self, Appointment, Booking, DoctorDays, Hours, Repeat, Scope, Weekday};
use galen_core::{patients, Clinic, Error, Session};
use std::path::PathBuf;

/// When and with whom, shared by `appt add` and `appt move`.
#[derive(Debug, clap::Args)]
pub struct When {
    /// The doctor's username.
    #[arg(long)]
    pub doctor: Option<String>,
    /// The day, YYYY-MM-DD.
    #[arg(long)]
    pub date: Option<String>,
    /// The time, HH:MM (24-hour).
    #[arg(long)]
    pub time: Option<String>,
    /// How long, in minutes (default: the book's slot length).
    #[arg(long)]
    pub minutes: Option<u32>,
    /// Why the patient comes.
    #[arg(long)]
    pub reason: Option<String>,
    /// The reason is clinical: only doctors and nurses read it.
    #[arg(long)]
    pub clinical: bool,
    /// Book even though the doctor is busy then, away, or the clinic closed (the double booking is logged).
    #[arg(long)]
    pub confirm: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ApptCommand {
    /// Book a patient (by MRN) with a doctor, once or every few weeks.
    Add {
        /// The patient's MRN.
        mrn: String,
        #[command(flatten)]
        when: When,
        /// Repeat every N weeks (with --until or --times).
        #[arg(long)]
        every_weeks: Option<u32>,
        /// The last day of the series, YYYY-MM-DD.
        #[arg(long, requires = "every_weeks")]
        until: Option<String>,
        /// How many visits in all.
        #[arg(long, requires = "every_weeks")]
        times: Option<u32>,
    },
    /// The book for a day (default today) or several, per doctor, with free time.
    List {
        /// The first day, YYYY-MM-DD (default today).
        #[arg(long)]
        date: Option<String>,
        /// How many days, 1 to 7.
        #[arg(long, default_value_t = 1)]
        days: u32,
        /// Only this doctor (username).
        #[arg(long)]
        doctor: Option<String>,
    },
    /// Change a booked visit; what is not given stays.
    Move {
        /// The appointment's number.
        id: i64,
        #[command(flatten)]
        when: When,
        /// Also every later visit of its series (each moves by as many days).
        #[arg(long)]
        all: bool,
    },
    /// Cancel a visit, with a reason.
    Cancel {
        /// The appointment's number.
        id: i64,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Also every later visit of its series.
        #[arg(long)]
        all: bool,
    },
    /// The patient has arrived.
    Checkin {
        /// The appointment's number.
        id: i64,
    },
    /// The doctor starts the visit.
    Start {
        /// The appointment's number.
        id: i64,
    },
    /// The doctor ends the visit.
    Finish {
        /// The appointment's number.
        id: i64,
    },
    /// The patient did not come.
    NoShow {
        /// The appointment's number.
        id: i64,
    },
    /// Who is waiting, and for how long.
    Queue {
        /// Only this doctor's queue (username).
        #[arg(long)]
        doctor: Option<String>,
    },
    /// Whom to call with a reminder (default: tomorrow), or with --csv write them for an SMS tool.
    Reminders {
        /// The day, YYYY-MM-DD (default tomorrow).
        #[arg(long)]
        date: Option<String>,
        /// Write the reminders as CSV to this file.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Show the opening hours, or change them (admins).
    Hours {
        /// Opens, HH:MM.
        #[arg(long)]
        opens: Option<String>,
        /// Closes, HH:MM.
        #[arg(long)]
        closes: Option<String>,
        /// The days the clinic is open, e.g. mon,tue,wed,thu,fri.
        #[arg(long)]
        days: Option<String>,
        /// The book's slot length in minutes.
        #[arg(long)]
        slot: Option<u32>,
        /// The clinic's time zone (e.g. Europe/Lisbon); empty for this computer's.
        #[arg(long)]
        time_zone: Option<String>,
        /// One doctor's working days: USERNAME=mon,wed (repeat for more; USERNAME= for every open day).
        #[arg(long)]
        doctor_days: Vec<String>,
    },
}

pub fn run(ctx: &mut Ctx, command: ApptCommand) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let (clinic, session) = (&clinic, &session);
    match command {
        ApptCommand::Add { mrn, when, every_weeks, until, times } => {
            let patient = patients::find_by_mrn(clinic, session, &mrn)?;
            let Some(doctor) = &when.doctor else { bail!("--doctor: give the doctor's username") };
            let hours = appointments::hours::load(clinic)?;
            let booking = Booking {
                patient_id: patient.id,
                doctor_id: doctor_id(clinic, session, doctor)?,
                date: when.date.clone().unwrap_or_default(),
                time: when.time.clone().unwrap_or_default(),
                minutes: when.minutes.unwrap_or(hours.slot_minutes),
                reason: when.reason.clone().unwrap_or_default(),
                reason_clinical: when.clinical,
            };
            let repeat = every_weeks.map(|every_weeks| Repeat { every_weeks, until: until.unwrap_or_default(), times });
            let booked = confirmable(appointments::book(clinic, session, &booking, repeat.as_ref(), when.confirm))?;
            for a in &booked {
                println!("Booked #{}: {}", a.id, line(a));
            }
        }
        ApptCommand::List { date, days, doctor } => {
            let date = match date {
                Some(d) => d,
                None => appointments::today(clinic)?,
            };
            let doctor = doctor.map(|d| doctor_id(clinic, session, &d)).transpose()?;
            for day in appointments::calendar(clinic, session, &date, days, doctor)? {
                println!("{} ({})", day.date, day.weekday);
                for column in &day.columns {
                    let away = if column.working { "" } else { " (not working)" };
                    println!("  {}{away}", column.doctor_name);
                    for a in &column.appointments {
                        println!("    #{:<5} {}", a.id, line(a));
                    }
                    for (from, to) in &column.free {
                        println!("    free   {from}–{to}");
                    }
                }
            }
        }
        ApptCommand::Move { id, when, all } => {
            let a = appointments::get(clinic, session, id)?;
            let doctor_id = match &when.doctor {
                Some(d) => doctor_id(clinic, session, d)?,
                None => a.doctor_id,
            };
            let reason = match (&when.reason, &a.reason) {
                (Some(r), _) | (None, Some(r)) => r.clone(),
                (None, None) => bail!("this visit's reason is clinical and hidden from your role; give --reason"),
            };
            let booking = Booking {
                patient_id: a.patient.id,
                doctor_id,
                date: when.date.unwrap_or(a.date),
                time: when.time.unwrap_or(a.time),
                minutes: when.minutes.unwrap_or(a.minutes),
                reason,
                reason_clinical: when.clinical || a.reason_clinical,
            };
            let scope = if all { Scope::All } else { Scope::One };
            for a in confirmable(appointments::change(clinic, session, id, &booking, scope, when.confirm))? {
                println!("Moved #{}: {}", a.id, line(&a));
            }
        }
        ApptCommand::Cancel { id, reason, all } => {
            appointments::cancel(clinic, session, id, &reason, if all { Scope::All } else { Scope::One })?;
            println!("Cancelled #{id}{}.", if all { " and the later visits of its series" } else { "" });
        }
        ApptCommand::Checkin { id } => println!("Checked in: {}", line(&appointments::check_in(clinic, session, id)?)),
        ApptCommand::Start { id } => println!("Started: {}", line(&appointments::start(clinic, session, id)?)),
        ApptCommand::Finish { id } => println!("Finished: {}", line(&appointments::finish(clinic, session, id)?)),
        ApptCommand::NoShow { id } => println!("No-show: {}", line(&appointments::no_show(clinic, session, id)?)),
        ApptCommand::Queue { doctor } => {
            let doctor = doctor.map(|d| doctor_id(clinic, session, &d)).transpose()?;
            let queue = appointments::queue(clinic, session, doctor)?;
            if queue.is_empty() {
                println!("Nobody is waiting.");
            }
            for w in queue {
                let state = match w.appointment.status {
                    appointments::Status::InProgress => "with the doctor",
                    _ => "waiting",
                };
                println!("#{:<5} {state} {} min  {}", w.appointment.id, w.waited_minutes, line(&w.appointment));
            }
        }
        ApptCommand::Reminders { date, csv } => {
            let date = match date {
                Some(d) => d,
                None => appointments::tomorrow(clinic)?,
            };
            match csv {
                Some(path) => {
                    appointments::save_reminders(clinic, session, &date, &path)?;
                    println!("Reminders for {date} written to {}.", path.display());
                }
                None => {
                    let calls = appointments::to_call(clinic, session, &date)?;
                    if calls.is_empty() {
                        println!("Nobody to call for {date}.");
                    }
                    for a in calls {
                        let phone = a.patient.phones.first().map_or("(no phone)", String::as_str);
                        println!(
                            "{} {:<20} {} {} ({})",
                            a.time, phone, a.patient.given_names, a.patient.family_name, a.doctor_name
                        );
                    }
                }
            }
        }
        ApptCommand::Hours { opens, closes, days, slot, time_zone, doctor_days } => {
            let mut hours = appointments::hours::load(clinic)?;
            let changing = opens.is_some()
                || closes.is_some()
                || days.is_some()
                || slot.is_some()
                || time_zone.is_some()
                || !doctor_days.is_empty();
            if changing {
                hours.opens = opens.unwrap_or(hours.opens);
                hours.closes = closes.unwrap_or(hours.closes);
                if let Some(days) = days {
                    hours.days = weekdays(&days)?;
                }
                hours.slot_minutes = slot.unwrap_or(hours.slot_minutes);
                hours.time_zone = time_zone.unwrap_or(hours.time_zone);
                for spec in doctor_days {
                    let Some((user, days)) = spec.split_once('=') else {
                        bail!("--doctor-days: give USERNAME=mon,tue (or USERNAME= for every open day)")
                    };
                    let doctor_id = doctor_id(clinic, session, user)?;
                    hours.doctors.retain(|d| d.doctor_id != doctor_id);
                    if !days.is_empty() {
                        hours.doctors.push(DoctorDays { doctor_id, days: weekdays(days)? });
                    }
                }
                hours = appointments::hours::update(clinic, session, &hours)?;
                println!("Saved.");
            }
            show_hours(clinic, session, &hours)?;
        }
    }
    Ok(())
}

/// A booking that needs confirming, said plainly, with the flag that confirms it.
fn confirmable(result: Result<Vec<Appointment>, Error>) -> Result<Vec<Appointment>> {
    match result {
        Err(Error::BookingNeedsConfirmation(warnings)) => {
            eprintln!("Nothing was booked yet:");
            for w in &warnings {
                eprintln!("  {w}");
            }
            bail!("if this is what you want, run the same command again with --confirm (a double booking is logged)")
        }
        other => Ok(other?),
    }
}

fn line(a: &Appointment) -> String {
    let reason = match &a.reason {
        Some(r) if !r.is_empty() => format!(" — {r}"),
        Some(_) => String::new(),
        None => " — (clinical reason)".into(),
    };
    let cancelled = if a.cancel_reason.is_empty() { String::new() } else { format!(" ({})", a.cancel_reason) };
    format!(
        "{} {}–{} {:<11} {} {} ({}) with {}{reason}{cancelled}",
        a.date,
        a.time,
        a.end_time,
        a.status.as_str(),
        a.patient.given_names,
        a.patient.family_name,
        a.patient.mrn,
        a.doctor_name
    )
}

pub(crate) fn doctor_id(clinic: &Clinic, session: &Session, username: &str) -> Result<i64> {
    let wanted = username.trim().to_lowercase();
    let doctors = appointments::doctors(clinic, session)?;
    match doctors.iter().find(|d| d.username == wanted) {
        Some(d) => Ok(d.id),
        None => {
            let names: Vec<&str> = doctors.iter().map(|d| d.username.as_str()).collect();
            bail!("--doctor: {username:?} is not an active doctor's username (doctors: {})", names.join(", "))
        }
    }
}

fn weekdays(list: &str) -> Result<Vec<Weekday>> {
    list.split(',')
        .map(|d| Weekday::parse(d.trim().to_lowercase().as_str()))
        .collect::<Option<Vec<_>>>()
        .context("days: use mon, tue, wed, thu, fri, sat, sun, separated by commas")
}

fn show_hours(clinic: &Clinic, session: &Session, hours: &Hours) -> Result<()> {
    let days = |d: &[Weekday]| d.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(",");
    println!("Opens:      {}", hours.opens);
    println!("Closes:     {}", hours.closes);
    println!("Open days:  {}", days(&hours.days));
    println!("Slot:       {} minutes", hours.slot_minutes);
    println!("Time zone:  {}", if hours.time_zone.is_empty() { "this computer's" } else { &hours.time_zone });
    for doctor in appointments::doctors(clinic, session)? {
        let own = hours.doctors.iter().find(|d| d.doctor_id == doctor.id);
        println!("{:<24} {}", doctor.display_name, own.map_or("every open day".into(), |d| days(&d.days)));
    }
    Ok(())
}
