//! How the paper words a document's values, shared by the printed page (`pdf::layout`) and the listing of a
//! verified QR (`qr::report`), so the person at the counter reads the same words on both.

use super::model::RxLine;

/// A stored choice such as `pending_investigation` as printed: "Pending investigation".
pub fn words(s: &str) -> String {
    let spaced = s.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// One prescription line as a pharmacist reads it, e.g. "Amoxicillin 500 mg capsule — 500 mg by mouth every
/// 8 hours for 7 days — Qty 21 — Refills 0".
pub fn rx_line(l: &RxLine) -> String {
    let when = if l.prn {
        "as needed".to_owned()
    } else {
        let unit =
            if l.frequency == 1 { l.frequency_unit.trim_end_matches('s').to_owned() } else { l.frequency_unit.clone() };
        if l.frequency == 1 {
            format!("every {unit}")
        } else {
            format!("every {} {unit}", l.frequency)
        }
    };
    let duration = if l.duration > 0 { format!(" for {} {}", l.duration, l.duration_period) } else { String::new() };
    format!(
        "{} — {} {} {} {when}{duration} — Qty {} — Refills {}",
        l.medicament, l.dose, l.dose_unit, l.route, l.quantity, l.refills
    )
}

/// The secondary line under a prescription line: indication, form, substitution, validity, comment.
pub fn rx_details(l: &RxLine) -> String {
    let mut parts = Vec::new();
    if !l.indication.is_empty() {
        parts.push(format!("For: {}", l.indication));
    }
    if !l.form.is_empty() {
        parts.push(format!("Form: {}", l.form));
    }
    parts.push(if l.allow_substitution { "Generic substitution allowed" } else { "Do not substitute" }.to_owned());
    if !l.valid_until.is_empty() {
        parts.push(format!("Valid until {}", l.valid_until));
    }
    if !l.comment.is_empty() {
        parts.push(l.comment.clone());
    }
    parts.join(" · ")
}

/// "2026-11-21T10:00:00.000Z" → "2026-11-21 10:00 UTC"; anything else as it is.
pub fn timestamp(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(d), Some(t)) if rfc3339.ends_with('Z') => format!("{d} {t} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// A document kind as the paper's title names it.
pub fn title(kind: &str) -> &'static str {
    match kind {
        "prescription" => "Prescription",
        "birth" => "Birth certificate",
        "death" => "Death certificate",
        "sick_leave" => "Sick-leave certificate",
        "void" => "Void notice",
        _ => "Document",
    }
}
