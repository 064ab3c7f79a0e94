//! The appointment book on a real clinic file: booking, warnings that need confirming, recurring series across a
//! clock change, moving and cancelling one or all, the day's steps and the queue, who may do what, and the
//! audit rows each change leaves.

use crate::support::*;
use galen_core::appointments::{self, Booking, BookingWarning, DoctorDays, Hours, Repeat, Scope, Status, Weekday};
use galen_core::audit::{self, Query};
use galen_core::clock::FakeClock;
use galen_core::pdf::{self, Printout};
use galen_core::{Clinic, Error, Role, Session};
use std::sync::Arc;
use time::macros::datetime;

struct Book {
    _fx: Fixture,
    clinic: Clinic,
    admin: Session,
    clock: FakeClock,
    doctor: Session,
    doctor_id: i64,
    front: Session,
    patient: i64,
}

/// A clinic in Lisbon on Monday 12 October 2026 at 08:00 local, open Monday to Friday 08:00–18:00, with a doctor,
/// a receptionist and a patient.
fn book_clinic() -> Book {
    let (fx, clinic, _) = new_clinic();
    let clock = FakeClock::new(datetime!(2026-10-12 07:00 UTC));
    let clinic = clinic.with_clock(Arc::new(clock.clone()));
    let admin = clinic.login(ADMIN, PASSWORD).expect("admin signs in");
    let doctor = staff_session(&clinic, &admin, "drrui", Role::Doctor);
    let front = staff_session(&clinic, &admin, "rita", Role::Receptionist);
    let hours = Hours { time_zone: "Europe/Lisbon".into(), ..Hours::default() };
    appointments::hours::update(&clinic, &admin, &hours).expect("the admin sets the hours");
    let patient = register(&clinic, &front, &patient("Maria", "Costa")).expect("registered");
    let doctor_id = doctor.user_id();
    Book { _fx: fx, clinic, admin, clock, doctor, doctor_id, front, patient }
}

fn visit(b: &Book, date: &str, time: &str) -> Booking {
    Booking {
        patient_id: b.patient,
        doctor_id: b.doctor_id,
        date: date.into(),
        time: time.into(),
        minutes: 20,
        reason: "Blood pressure review".into(),
        reason_clinical: false,
    }
}

fn audit_actions(b: &Book) -> Vec<(String, String, String)> {
    let admin = b.clinic.login(ADMIN, PASSWORD).expect("admin signs in");
    let rows = audit::list(&b.clinic, &admin, &Query { limit: 1000, ..Query::default() }).expect("audit rows");
    rows.into_iter()
        .filter(|e| e.action.starts_with("appointment."))
        .map(|e| (e.action, e.entity_id, e.username))
        .rev()
        .collect()
}

#[test]
fn a_receptionist_books_and_a_double_booking_needs_confirming() {
    let b = book_clinic();
    let first = appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "09:00"), None, false)
        .expect("a free slot is booked at once");
    assert_eq!(first.len(), 1);
    let a = &first[0];
    assert_eq!(
        (a.date.as_str(), a.time.as_str(), a.end_time.as_str(), a.minutes),
        ("2026-10-13", "09:00", "09:20", 20)
    );
    assert_eq!((a.status, a.patient.family_name.as_str()), (Status::Booked, "Costa"));
    assert_eq!(a.doctor_name, "drrui (doctor)");

    let other = register(&b.clinic, &b.front, &patient("João", "Pires")).expect("registered");
    let overlapping = Booking { patient_id: other, time: "09:10".into(), ..visit(&b, "2026-10-13", "09:10") };
    let refused = appointments::book(&b.clinic, &b.front, &overlapping, None, false).expect_err("overlap");
    let Error::BookingNeedsConfirmation(warnings) = refused else { panic!("{refused:?}") };
    assert_eq!(
        warnings,
        [BookingWarning::Overlap {
            date: "2026-10-13".into(),
            time: "09:10".into(),
            patient: "Maria Costa".into(),
            from: "09:00".into(),
            to: "09:20".into(),
        }]
    );
    let day = appointments::calendar(&b.clinic, &b.front, "2026-10-13", 1, None).expect("day");
    assert_eq!(day[0].columns[0].appointments.len(), 1, "nothing was booked without confirmation");

    // Right after it ends is free; a Saturday, early morning and a doctor's day off each need confirming.
    appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "09:20"), None, false).expect("adjacent");
    let warned =
        |date: &str, time: &str| match appointments::book(&b.clinic, &b.front, &visit(&b, date, time), None, false) {
            Err(Error::BookingNeedsConfirmation(w)) => w,
            other => panic!("{date} {time}: {other:?}"),
        };
    assert!(matches!(warned("2026-10-17", "10:00")[..], [BookingWarning::ClinicClosed { .. }]));
    assert!(matches!(warned("2026-10-14", "07:30")[..], [BookingWarning::OutsideHours { .. }]));
    let hours = Hours {
        time_zone: "Europe/Lisbon".into(),
        doctors: vec![DoctorDays { doctor_id: b.doctor_id, days: vec![Weekday::Mon, Weekday::Tue] }],
        ..Hours::default()
    };
    appointments::hours::update(&b.clinic, &b.admin, &hours).expect("doctor's days set");
    assert!(matches!(warned("2026-10-14", "10:00")[..], [BookingWarning::DoctorAway { .. }]));

    let confirmed = appointments::book(&b.clinic, &b.front, &overlapping, None, true).expect("confirmed");
    let day = appointments::calendar(&b.clinic, &b.front, "2026-10-13", 1, None).expect("day");
    let column = &day[0].columns[0];
    assert_eq!(column.appointments.len(), 3);
    assert_eq!(column.free, [("08:00".to_owned(), "09:00".to_owned()), ("09:40".to_owned(), "18:00".to_owned())]);
    let actions = audit_actions(&b);
    let booked_id = confirmed[0].id.to_string();
    assert!(actions.contains(&("appointment.book".into(), booked_id, "rita".into())), "{actions:?}");
    assert!(actions.contains(&("appointment.double_book".into(), other.to_string(), "rita".into())), "{actions:?}");
    assert_eq!(actions.iter().filter(|a| a.0 == "appointment.book").count(), 3);
}

#[test]
fn bad_bookings_are_refused_field_by_field_and_nothing_is_written() {
    let b = book_clinic();
    let nurse = staff_session(&b.clinic, &b.admin, "nina", Role::Nurse);
    let cases: Vec<(Booking, &[&str])> = vec![
        (Booking { date: "13/10/2026".into(), ..visit(&b, "", "09:00") }, &["date"]),
        (visit(&b, "2026-10-11", "09:00"), &["date"]),
        (visit(&b, "2029-10-13", "09:00"), &["date"]),
        (visit(&b, "2026-10-13", "9:00"), &["time"]),
        (visit(&b, "2026-10-13", "24:00"), &["time"]),
        (Booking { minutes: 0, ..visit(&b, "2026-10-13", "09:00") }, &["minutes"]),
        (Booking { minutes: 100_000, ..visit(&b, "2026-10-13", "09:00") }, &["minutes"]),
        (Booking { doctor_id: nurse.user_id(), ..visit(&b, "2026-10-13", "09:00") }, &["doctor_id"]),
        (Booking { patient_id: 9_999, ..visit(&b, "2026-10-13", "09:00") }, &["patient_id"]),
        (Booking { reason: "x".repeat(201), ..visit(&b, "2026-10-13", "09:00") }, &["reason"]),
        (Booking { date: "\u{0}\u{202e}".into(), time: "ab:cd".into(), ..visit(&b, "", "") }, &["date", "time"]),
    ];
    for (booking, fields) in cases {
        match appointments::book(&b.clinic, &b.front, &booking, None, true) {
            Err(Error::Invalid(errors)) => {
                let got: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(got, fields, "{booking:?}");
            }
            other => panic!("{booking:?} was not refused by field: {other:?}"),
        }
    }
    let repeats = [
        (Repeat { every_weeks: 0, until: String::new(), times: Some(3) }, "every_weeks"),
        (Repeat { every_weeks: 1, until: String::new(), times: Some(500) }, "times"),
        (Repeat { every_weeks: 1, until: "2026-10-01".into(), times: None }, "until"),
        (Repeat { every_weeks: 1, until: "2026-12-01".into(), times: Some(3) }, "until"),
        (Repeat { every_weeks: 1, until: "2028-12-01".into(), times: None }, "until"),
    ];
    for (repeat, field) in repeats {
        match appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "09:00"), Some(&repeat), true) {
            Err(Error::Invalid(errors)) => assert_eq!(errors.0[0].field, field, "{repeat:?}"),
            other => panic!("{repeat:?}: {other:?}"),
        }
    }
    let week = appointments::calendar(&b.clinic, &b.front, "2026-10-12", 7, None).expect("week");
    assert!(week.iter().flat_map(|d| &d.columns).all(|c| c.appointments.is_empty()), "nothing was booked");
    assert!(audit_actions(&b).is_empty(), "nothing was audited as booked");
}

#[test]
fn a_weekly_series_stays_at_nine_across_the_clock_change_and_a_skipped_time_is_refused() {
    let b = book_clinic();
    let repeat = Repeat { every_weeks: 1, until: "2026-11-03".into(), times: None };
    let series = appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "09:00"), Some(&repeat), false)
        .expect("a weekly series");
    let when: Vec<(&str, &str)> = series.iter().map(|a| (a.date.as_str(), a.time.as_str())).collect();
    // Lisbon's clocks go back on Sunday 25 October: the 27th and 3 November are still at 09:00 on the wall.
    assert_eq!(
        when,
        [("2026-10-13", "09:00"), ("2026-10-20", "09:00"), ("2026-10-27", "09:00"), ("2026-11-03", "09:00")]
    );
    let series_id = series[0].series_id.expect("a series");
    assert!(series.iter().all(|a| a.series_id == Some(series_id)));

    // The night of 28 March 2027, Lisbon's clocks jump from 01:00 to 02:00: 01:30 does not exist.
    b.clock.advance(time::Duration::days(160));
    let front = b.clinic.login("rita", PASSWORD).expect("signs in again after the clock moved");
    let night = visit(&b, "2027-03-28", "01:30");
    match appointments::book(&b.clinic, &front, &night, None, true) {
        Err(Error::Invalid(e)) => {
            assert_eq!(e.0[0].field, "time");
            assert!(e.0[0].message.contains("clocks go forward"), "{}", e.0[0].message);
        }
        other => panic!("a skipped time was booked: {other:?}"),
    }
    // A series that would land on it names the day.
    let weekly = Repeat { every_weeks: 1, until: String::new(), times: Some(3) };
    match appointments::book(&b.clinic, &front, &visit(&b, "2027-03-21", "01:30"), Some(&weekly), true) {
        Err(Error::Invalid(e)) => assert!(e.0[0].message.contains("2027-03-28"), "{}", e.0[0].message),
        other => panic!("{other:?}"),
    }
}

#[test]
fn moving_and_cancelling_one_or_all_of_a_series() {
    let b = book_clinic();
    let repeat = Repeat { every_weeks: 2, until: String::new(), times: Some(4) };
    let series = appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "09:00"), Some(&repeat), false)
        .expect("series");
    let dates = |list: &[appointments::Appointment]| -> Vec<String> {
        list.iter().map(|a| format!("{} {} {}", a.date, a.time, a.status)).collect()
    };
    let all = |b: &Book| -> Vec<appointments::Appointment> {
        let s = appointments::upcoming_for(&b.clinic, &b.front, b.patient).expect("upcoming");
        s.into_iter().filter(|a| a.series_id.is_some()).collect()
    };
    // One: the second visit moves a day later, to 10:00; the others stay.
    let moved =
        appointments::change(&b.clinic, &b.front, series[1].id, &visit(&b, "2026-10-28", "10:00"), Scope::One, false)
            .expect("moved one");
    assert_eq!(dates(&moved), ["2026-10-28 10:00 booked"]);
    assert_eq!(
        dates(&all(&b)),
        ["2026-10-13 09:00 booked", "2026-10-28 10:00 booked", "2026-11-10 09:00 booked", "2026-11-24 09:00 booked"]
    );
    // All from the third: each moves to Thursday (two days later) at 11:30, 30 minutes.
    let change = Booking { minutes: 30, ..visit(&b, "2026-11-12", "11:30") };
    let moved = appointments::change(&b.clinic, &b.front, series[2].id, &change, Scope::All, false).expect("moved all");
    assert_eq!(dates(&moved), ["2026-11-12 11:30 booked", "2026-11-26 11:30 booked"]);
    assert!(moved.iter().all(|a| a.minutes == 30 && a.end_time == "12:00"));
    assert_eq!(dates(&all(&b))[..2], ["2026-10-13 09:00 booked", "2026-10-28 10:00 booked"]);

    // Cancel one needs a reason; then cancel all from the second.
    match appointments::cancel(&b.clinic, &b.front, series[0].id, "  ", Scope::One) {
        Err(Error::Invalid(e)) => assert_eq!(e.0[0].field, "cancel_reason"),
        other => panic!("{other:?}"),
    }
    appointments::cancel(&b.clinic, &b.front, series[0].id, "Patient travelling", Scope::One).expect("cancel one");
    appointments::cancel(&b.clinic, &b.front, series[1].id, "Moving away", Scope::All).expect("cancel all");
    let now = all(&b);
    assert!(now.iter().all(|a| a.status == Status::Cancelled), "{:?}", dates(&now));
    assert_eq!(now[0].cancel_reason, "Patient travelling");
    assert_eq!(now[3].cancel_reason, "Moving away");
    // A cancelled visit frees its time and cannot be changed again.
    let again =
        appointments::change(&b.clinic, &b.front, series[0].id, &visit(&b, "2026-10-13", "09:00"), Scope::One, false);
    assert!(matches!(again, Err(Error::Invalid(ref e)) if e.0[0].field == "status"), "{again:?}");
    let day = appointments::calendar(&b.clinic, &b.front, "2026-10-13", 1, None).expect("day");
    assert_eq!(day[0].columns[0].free, [("08:00".to_owned(), "18:00".to_owned())]);

    let actions = audit_actions(&b);
    let count = |what: &str| actions.iter().filter(|a| a.0 == what).count();
    assert_eq!((count("appointment.book"), count("appointment.change"), count("appointment.cancel")), (4, 3, 4));
}

#[test]
fn the_day_check_in_queue_start_and_finish() {
    let b = book_clinic();
    let today =
        appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-12", "09:00"), None, false).expect("today")[0].id;
    let tomorrow = appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "09:00"), None, false)
        .expect("tomorrow")[0]
        .id;
    assert_eq!(appointments::today(&b.clinic).expect("today"), "2026-10-12");

    // Tomorrow's patient cannot check in today, nor be marked missing before their time.
    let early = appointments::check_in(&b.clinic, &b.front, tomorrow).expect_err("not today");
    assert!(matches!(early, Error::Invalid(ref e) if e.0[0].message.contains("not today")), "{early:?}");
    let missing = appointments::no_show(&b.clinic, &b.front, tomorrow).expect_err("future");
    assert!(matches!(missing, Error::Invalid(_)), "{missing:?}");

    b.clock.advance(time::Duration::minutes(100)); // 08:40 local
    let front = b.clinic.login("rita", PASSWORD).expect("rita");
    let arrived = appointments::check_in(&b.clinic, &front, today).expect("checked in");
    assert_eq!(arrived.status, Status::Arrived);
    assert!(appointments::check_in(&b.clinic, &front, today).is_err(), "checked in twice");
    // A receptionist may not start a visit.
    assert!(matches!(appointments::start(&b.clinic, &front, today), Err(Error::Denied { .. })));

    b.clock.advance(time::Duration::minutes(25));
    let doctor = b.clinic.login("drrui", PASSWORD).expect("doctor");
    let queue = appointments::queue(&b.clinic, &doctor, Some(b.doctor_id)).expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!((queue[0].appointment.id, queue[0].waited_minutes), (today, 25));
    appointments::start(&b.clinic, &doctor, today).expect("started");
    b.clock.advance(time::Duration::minutes(15));
    let doctor = b.clinic.login("drrui", PASSWORD).expect("doctor");
    let queue = appointments::queue(&b.clinic, &doctor, None).expect("queue");
    assert_eq!(
        (queue[0].appointment.status, queue[0].waited_minutes),
        (Status::InProgress, 25),
        "waited until started"
    );
    let done = appointments::finish(&b.clinic, &doctor, today).expect("finished");
    assert_eq!(done.status, Status::Done);
    assert!(done.arrived_at.is_some() && done.started_at.is_some() && done.finished_at.is_some());
    assert!(appointments::queue(&b.clinic, &doctor, None).expect("queue").is_empty());
    let front = b.clinic.login("rita", PASSWORD).expect("rita");
    let late = appointments::cancel(&b.clinic, &front, today, "too late", Scope::One);
    assert!(matches!(late, Err(Error::Invalid(ref e)) if e.0[0].field == "status"), "a finished visit stays: {late:?}");

    // The next day, yesterday's unchecked patient becomes a no-show once their time has passed.
    b.clock.advance(time::Duration::hours(26));
    let front = b.clinic.login("rita", PASSWORD).expect("rita");
    assert_eq!(appointments::no_show(&b.clinic, &front, tomorrow).expect("missed").status, Status::NoShow);
    let actions: Vec<String> = audit_actions(&b).into_iter().map(|a| a.0).collect();
    assert_eq!(
        actions,
        [
            "appointment.book",
            "appointment.book",
            "appointment.check_in",
            "appointment.start",
            "appointment.finish",
            "appointment.no_show"
        ]
    );
}

fn denied<T>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Denied { .. }))
}

#[test]
fn who_may_see_book_and_run_the_day_and_who_reads_a_clinical_reason() {
    let b = book_clinic();
    let nurse = staff_session(&b.clinic, &b.admin, "nina", Role::Nurse);
    let private =
        Booking { reason: "Follow-up of HIV test".into(), reason_clinical: true, ..visit(&b, "2026-10-13", "10:00") };
    // The receptionist may book a clinical reason but not read it back.
    let booked = appointments::book(&b.clinic, &b.front, &private, None, false).expect("booked")[0].clone();
    assert_eq!((booked.reason.as_deref(), booked.reason_clinical), (None, true));
    let reason_seen_by = |s: &Session| appointments::get(&b.clinic, s, booked.id).expect("get").reason;
    assert_eq!(reason_seen_by(&nurse).as_deref(), Some("Follow-up of HIV test"));
    assert_eq!(reason_seen_by(&b.doctor).as_deref(), Some("Follow-up of HIV test"));
    let csv = appointments::reminders_csv(&b.clinic, &b.front, "2026-10-13").expect("csv");
    assert!(!csv.contains("HIV"), "a reminder never carries the reason: {csv}");

    // The nurse sees the book but does not book; the admin does neither.
    assert!(appointments::calendar(&b.clinic, &nurse, "2026-10-13", 1, None).is_ok());
    assert!(denied(appointments::book(&b.clinic, &nurse, &visit(&b, "2026-10-14", "10:00"), None, false)));
    assert!(denied(appointments::cancel(&b.clinic, &nurse, booked.id, "no reason", Scope::One)));
    assert!(denied(appointments::calendar(&b.clinic, &b.admin, "2026-10-13", 1, None)));
    assert!(denied(appointments::book(&b.clinic, &b.admin, &visit(&b, "2026-10-14", "10:00"), None, false)));
    // A role that may not is refused before the lookup: whether an appointment exists is not its business.
    assert!(denied(appointments::cancel(&b.clinic, &b.admin, 999_999, "probing", Scope::One)));
    assert!(denied(appointments::check_in(&b.clinic, &nurse, 999_999)));
    assert!(denied(appointments::start(&b.clinic, &b.front, 999_999)));
    assert!(matches!(appointments::check_in(&b.clinic, &b.front, 999_999), Err(Error::NotFound(_))));
    // Only an admin sets the hours.
    assert!(denied(appointments::hours::update(&b.clinic, &b.front, &Hours::default())));
    match appointments::hours::update(
        &b.clinic,
        &b.admin,
        &Hours {
            opens: "18:00".into(),
            closes: "08:00".into(),
            days: vec![],
            slot_minutes: 1,
            time_zone: "Mars/Olympus".into(),
            doctors: vec![DoctorDays { doctor_id: nurse.user_id(), days: vec![] }],
        },
    ) {
        Err(Error::Invalid(e)) => {
            let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(fields, ["closes", "days", "slot_minutes", "doctors", "time_zone"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reminders_for_tomorrow_list_each_booked_visit_with_a_phone_as_csv() {
    let b = book_clinic();
    let mut p = patient("=cmd|' /C calc'!A0", "Silva, Jr.");
    p.demographics.phones = vec!["+351 912 345 678".into()];
    let other = register(&b.clinic, &b.front, &p).expect("registered");
    appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "11:00"), None, false).expect("booked");
    let second = Booking { patient_id: other, ..visit(&b, "2026-10-13", "09:30") };
    appointments::book(&b.clinic, &b.front, &second, None, false).expect("booked");
    let cancelled =
        appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "15:00"), None, false).expect("b")[0].id;
    appointments::cancel(&b.clinic, &b.front, cancelled, "Rebooked", Scope::One).expect("cancel");

    let calls = appointments::to_call(&b.clinic, &b.front, "2026-10-13").expect("to call");
    assert_eq!(calls.iter().map(|a| a.time.as_str()).collect::<Vec<_>>(), ["09:30", "11:00"]);
    let csv = appointments::reminders_csv(&b.clinic, &b.front, "2026-10-13").expect("csv");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines,
        [
            "date,time,doctor,patient,phone",
            "2026-10-13,09:30,drrui (doctor),\"'=cmd|' /C calc'!A0 Silva, Jr.\",'+351 912 345 678",
            "2026-10-13,11:00,drrui (doctor),Maria Costa,",
        ]
    );
    assert!(audit_actions(&b).iter().any(|a| a.0 == "appointment.reminders_export" && a.1 == "2026-10-13"));
}

#[test]
fn the_day_list_and_the_appointment_card_print_what_each_role_may_see() {
    let b = book_clinic();
    let mut clinical = visit(&b, "2026-10-13", "11:00");
    clinical.reason = "Suspected melanoma".into();
    clinical.reason_clinical = true;
    appointments::book(&b.clinic, &b.front, &clinical, None, false).expect("booked");
    let other = register(&b.clinic, &b.front, &patient("João", "Pires")).expect("registered");
    let weekly = Repeat { every_weeks: 1, until: String::new(), times: Some(3) };
    let series = appointments::book(
        &b.clinic,
        &b.front,
        &Booking { patient_id: other, ..visit(&b, "2026-10-13", "09:30") },
        Some(&weekly),
        false,
    )
    .expect("a weekly series");
    let gone = appointments::book(&b.clinic, &b.front, &visit(&b, "2026-10-13", "15:00"), None, false).expect("b");
    appointments::cancel(&b.clinic, &b.front, gone[0].id, "Rebooked", Scope::One).expect("cancel");

    let dir = tempfile::tempdir().expect("tmp");
    let day = Printout::DayList { date: "2026-10-13".into(), doctor_id: b.doctor_id };
    let print = |session: &Session, what: &Printout, name: &str| {
        let rendered = pdf::render(&b.clinic, session, what).expect("renders");
        crate::printing::text_of(&crate::printing::keep(&b.clinic, &rendered, dir.path(), name))
    };
    let front = print(&b.front, &day, "front.pdf");
    for expected in
        ["Day list", "drrui (doctor)", "Tuesday 13 October 2026", "2 visits", "09:30", "João Pires", "11:00"]
    {
        assert!(front.contains(expected), "{expected:?} on the day list: {front}");
    }
    assert!(front.find("09:30") < front.find("11:00"), "by time: {front}");
    assert!(front.contains("(clinical)") && !front.contains("melanoma"), "a receptionist's copy hides it: {front}");
    assert!(!front.contains("15:00"), "a cancelled visit is not on the list: {front}");
    let doctor = print(&b.doctor, &day, "doctor.pdf");
    assert!(doctor.contains("Suspected melanoma"), "the doctor's copy has the clinical reason: {doctor}");

    let card = print(&b.front, &Printout::AppointmentCard(series[0].id), "card.pdf");
    for expected in [
        "Appointment card",
        "Tuesday 13 October 2026",
        "09:30",
        "(20 minutes)",
        "drrui (doctor)",
        "Your next visits",
        "Tue 20 Oct 2026",
        "Tue 27 Oct 2026",
    ] {
        assert!(card.contains(expected), "{expected:?} on the card: {card}");
    }
    assert!(!card.contains("Blood pressure"), "a card leaves the clinic: never the reason: {card}");

    // Only the book's readers print them; a cancelled visit has no card; a day list needs a doctor.
    let (nobody, admin) = (Printout::AppointmentCard(gone[0].id), &b.admin);
    assert!(matches!(pdf::render(&b.clinic, &b.front, &nobody), Err(Error::Invalid(_))));
    assert!(matches!(pdf::render(&b.clinic, admin, &day), Err(Error::Denied { .. })));
    let not_a_doctor = Printout::DayList { date: "2026-10-13".into(), doctor_id: b.front.user_id() };
    assert!(matches!(pdf::render(&b.clinic, &b.front, &not_a_doctor), Err(Error::Invalid(_))));
    let bad_day = Printout::DayList { date: "13/10/2026".into(), doctor_id: b.doctor_id };
    assert!(matches!(pdf::render(&b.clinic, &b.front, &bad_day), Err(Error::Invalid(_))));

    let admin = b.clinic.login(ADMIN, PASSWORD).expect("admin signs in");
    let rows = audit::list(&b.clinic, &admin, &Query { limit: 1000, ..Query::default() }).expect("audit rows");
    let saved: Vec<(&str, &str)> = rows
        .iter()
        .filter(|e| e.action.starts_with("pdf.save."))
        .map(|e| (e.action.as_str(), e.entity_id.as_str()))
        .collect();
    let day_key = format!("{}@2026-10-13", b.doctor_id);
    let card_key = series[0].id.to_string();
    assert!(saved.contains(&("pdf.save.day_list", day_key.as_str())), "{saved:?}");
    assert!(saved.contains(&("pdf.save.appointment_card", card_key.as_str())), "{saved:?}");
}
