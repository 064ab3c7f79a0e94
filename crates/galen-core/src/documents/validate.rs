//! Field rules for each kind of document, each with its own message. Text is trimmed and NFC-normalised.

use super::model::*;
use crate::error::FieldErrors;
use crate::patients::validate::parse_date;
use crate::text::{self, clean};
use time::{Date, PrimitiveDateTime};

fn required(e: &mut FieldErrors, field: &str, value: &mut String, max: usize) {
    *value = clean(value);
    e.absorb(text::check_required(field, value, max));
}

fn optional(e: &mut FieldErrors, field: &str, value: &mut String, max: usize) {
    *value = clean(value);
    e.absorb(text::check_max(field, value, max));
}

fn date(e: &mut FieldErrors, field: &str, value: &mut String) -> Option<Date> {
    *value = value.trim().to_owned();
    let d = parse_date(value);
    if d.is_none() {
        e.push(field, "Enter the date as YYYY-MM-DD.");
    }
    d
}

fn one_of(e: &mut FieldErrors, field: &str, value: &mut String, allowed: &[&str]) {
    *value = value.trim().to_owned();
    if !allowed.contains(&value.as_str()) {
        e.push(field, format!("Choose one of: {}.", allowed.join(", ")));
    }
}

/// Cleans and checks `body` for a patient born `patient_dob` (empty if unknown), on `today`.
pub fn body(body: &mut Body, today: Date, patient_dob: &str, dob_estimated: bool) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::default();
    match body {
        Body::Prescription(p) => prescription(&mut e, p, today),
        Body::Birth(b) => {
            required(&mut e, "mother_name", &mut b.mother_name, 200);
            optional(&mut e, "father_name", &mut b.father_name, 200);
            if let Some(d) = date(&mut e, "date_of_birth", &mut b.date_of_birth) {
                if dob_estimated || d.to_string() != patient_dob {
                    e.push(
                        "date_of_birth",
                        "This must be the patient's recorded date of birth; correct the patient's record first.",
                    );
                }
            }
            required(&mut e, "country", &mut b.country, 60);
            optional(&mut e, "subdivision", &mut b.subdivision, 60);
            optional(&mut e, "institution", &mut b.institution, 120);
            optional(&mut e, "observations", &mut b.observations, 1000);
            if let Some(c) = date(&mut e, "certified_on", &mut b.certified_on) {
                if c > today {
                    e.push("certified_on", "The certification date is in the future.");
                }
            }
        }
        Body::Death(d) => {
            d.died_at = d.died_at.trim().to_owned();
            let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
            match PrimitiveDateTime::parse(&d.died_at, &format) {
                Err(_) => e.push("died_at", "Enter the date and time as YYYY-MM-DDTHH:MM."),
                Ok(t) if t.date() > today => e.push("died_at", "The time of death is in the future."),
                Ok(t) if parse_date(patient_dob).is_some_and(|dob| t.date() < dob) => {
                    e.push("died_at", "The time of death is before the patient's date of birth.")
                }
                Ok(_) => {}
            }
            required(&mut e, "immediate_cause", &mut d.immediate_cause, 200);
            if d.underlying_conditions.len() > 10 {
                e.push("underlying_conditions", "Record at most 10 underlying conditions.");
            }
            for (i, c) in d.underlying_conditions.iter_mut().enumerate() {
                required(&mut e, &format!("underlying_conditions.{i}.condition"), &mut c.condition, 200);
                one_of(&mut e, &format!("underlying_conditions.{i}.unit"), &mut c.unit, IntervalUnit::NAMES);
            }
            one_of(&mut e, "manner", &mut d.manner, Manner::NAMES);
            one_of(&mut e, "place", &mut d.place, Place::NAMES);
            optional(&mut e, "place_details", &mut d.place_details, 200);
            required(&mut e, "country", &mut d.country, 60);
            optional(&mut e, "subdivision", &mut d.subdivision, 60);
            optional(&mut e, "institution", &mut d.institution, 120);
            optional(&mut e, "observations", &mut d.observations, 1000);
        }
        Body::SickLeave(s) => {
            let from = date(&mut e, "unfit_from", &mut s.unfit_from);
            let to = date(&mut e, "unfit_to", &mut s.unfit_to);
            if let (Some(f), Some(t)) = (from, to) {
                if t < f {
                    e.push("unfit_to", "The end is before the start.");
                } else if (t - f).whole_days() > 365 {
                    e.push("unfit_to", "A certificate covers at most 365 days; write another for longer.");
                }
            }
            optional(&mut e, "restrictions", &mut s.restrictions, 500);
            optional(&mut e, "diagnosis", &mut s.diagnosis, 200);
            if !s.diagnosis.is_empty() && !s.diagnosis_consent {
                e.push(
                    "diagnosis",
                    "The diagnosis is printed only with the patient's consent: record it, or leave this empty.",
                );
            }
        }
        Body::Void(v) => required(&mut e, "reason", &mut v.reason, 500),
    }
    if e.0.is_empty() {
        Ok(())
    } else {
        Err(e)
    }
}

fn prescription(e: &mut FieldErrors, p: &mut Prescription, today: Date) {
    let issued = date(e, "issued_on", &mut p.issued_on);
    if issued.is_some_and(|d| d > today) {
        e.push("issued_on", "The prescription date is in the future.");
    }
    optional(e, "pharmacy", &mut p.pharmacy, 200);
    optional(e, "notes", &mut p.notes, 1000);
    if p.lines.len() > 20 {
        e.push("lines", "A prescription holds at most 20 medicines.");
    }
    for (i, l) in p.lines.iter_mut().enumerate() {
        let f = |name: &str| format!("lines.{i}.{name}");
        required(e, &f("medicament"), &mut l.medicament, 200);
        optional(e, &f("indication"), &mut l.indication, 200);
        l.dose = l.dose.trim().replace(',', ".");
        if !l.dose.parse::<f64>().is_ok_and(|d| d > 0.0 && d < 1e6) || l.dose.contains(['e', 'E']) {
            e.push(&f("dose"), "Enter the dose as a number, e.g. 500 or 2.5.");
        }
        one_of(e, &f("dose_unit"), &mut l.dose_unit, DoseUnit::NAMES);
        required(e, &f("route"), &mut l.route, 40);
        optional(e, &f("form"), &mut l.form, 40);
        if !(1..=10_000).contains(&l.quantity) {
            e.push(&f("quantity"), "Enter a quantity from 1 to 10,000.");
        }
        if !l.prn {
            if !(1..=1000).contains(&l.frequency) {
                e.push(&f("frequency"), "Enter how often (e.g. every 8 hours), or tick 'as needed'.");
            }
            one_of(e, &f("frequency_unit"), &mut l.frequency_unit, FrequencyUnit::NAMES);
        }
        if !(1..=3650).contains(&l.duration) {
            e.push(&f("duration"), "Enter a duration from 1 to 3650.");
        }
        one_of(e, &f("duration_period"), &mut l.duration_period, DurationPeriod::NAMES);
        if l.refills > 12 {
            e.push(&f("refills"), "At most 12 refills.");
        }
        if let (Some(valid), Some(issued)) = (date(e, &f("valid_until"), &mut l.valid_until), issued) {
            if valid < issued || (valid - issued).whole_days() > 366 {
                e.push(&f("valid_until"), "Valid until must be within a year after the prescription date.");
            }
        }
        optional(e, &f("comment"), &mut l.comment, 200);
    }
}

/// What only a document about to be signed must have (a draft may still be incomplete).
pub fn ready_to_sign(body: &Body) -> Result<(), FieldErrors> {
    match body {
        Body::Prescription(p) if p.lines.is_empty() => {
            Err(FieldErrors::one(crate::error::FieldError::new("lines", "Add at least one medicine before signing.")))
        }
        _ => Ok(()),
    }
}
