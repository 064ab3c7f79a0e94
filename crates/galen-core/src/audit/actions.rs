//! Every action the audit trail records, and how each reads in English (on paper and in the CLI). The app's
//! catalogs name each in the reader's language (`audit.action.<code>`; a test checks every code has a text in
//! every catalog). `table::append` refuses, in debug builds, an action not listed, so a new one cannot go unnamed.

/// `(code, English)`, by area.
pub const ACTIONS: &[(&str, &str)] = &[
    ("access.denied", "Was refused access"),
    ("appointment.book", "Booked an appointment"),
    ("appointment.cancel", "Cancelled an appointment"),
    ("appointment.change", "Moved or changed an appointment"),
    ("appointment.check_in", "Checked a patient in"),
    ("appointment.double_book", "Confirmed a double booking"),
    ("appointment.finish", "Finished a visit"),
    ("appointment.no_show", "Marked a no-show"),
    ("appointment.reminders_export", "Exported reminder calls"),
    ("appointment.start", "Started a visit"),
    ("audit.verify", "Checked the audit trail"),
    ("backup.create", "Made a backup"),
    ("backup.drill", "Ran a restore drill"),
    ("backup.prune", "Removed an old backup"),
    ("backup.restore", "Restored a backup"),
    ("backup.schedule", "Scheduled backups"),
    ("backup.unschedule", "Turned scheduled backups off"),
    ("breakglass.invoke", "Used emergency access"),
    ("clinic.create", "Set up the clinic"),
    ("dev.seed", "Filled in demonstration data"),
    ("document.create", "Wrote a draft"),
    ("document.export", "Exported a document"),
    ("document.sign", "Signed a document"),
    ("document.update", "Edited a draft"),
    ("document.view", "Opened a document"),
    ("document.view_received", "Opened a document from another site"),
    ("document.warnings_acknowledged", "Signed despite prescribing warnings"),
    ("key.rotate", "Replaced the database key"),
    ("login.fail", "Failed to sign in"),
    ("login.lockout", "Was locked out after wrong passwords"),
    ("login.ok", "Signed in"),
    ("logout", "Signed out"),
    ("password.wrong", "Typed a wrong password"),
    ("patient.consent_given", "Recorded consent to share"),
    ("patient.consent_withdrawn", "Recorded consent withdrawn"),
    ("patient.create", "Registered a patient"),
    ("patient.duplicate_override", "Registered despite a likely duplicate"),
    ("patient.merge", "Merged two records"),
    ("patient.update", "Edited a patient's details"),
    ("patient.update_clinical", "Edited clinical information"),
    ("patient.view", "Opened a patient's record"),
    ("pdf.print.appointment_card", "Printed an appointment card"),
    ("pdf.print.day_list", "Printed a day list"),
    ("pdf.print.document", "Printed a document"),
    ("pdf.print.patient_card", "Printed an ID card"),
    ("pdf.print.access_report", "Printed an access report"),
    ("pdf.print.recovery_sheet", "Printed the recovery sheet"),
    ("pdf.save.appointment_card", "Saved an appointment card"),
    ("pdf.save.day_list", "Saved a day list"),
    ("pdf.save.document", "Saved a document as PDF"),
    ("pdf.save.patient_card", "Saved an ID card"),
    ("pdf.save.access_report", "Saved an access report"),
    ("pdf.save.recovery_sheet", "Saved the recovery sheet"),
    ("session.autolock", "Was locked after being idle"),
    ("session.lock", "Locked the screen"),
    ("session.unlock", "Unlocked the screen"),
    ("settings.update", "Changed settings"),
    ("signing_key.create", "Made a signing key"),
    ("signing_key.revoke", "Revoked a signing key"),
    ("site.certificate_renewed", "Renewed the sync certificate"),
    ("site.init", "Made the site identity"),
    ("staff.create", "Added an account"),
    ("staff.disable", "Disabled an account"),
    ("staff.enable", "Enabled an account"),
    ("staff.password_change", "Changed their password"),
    ("staff.password_reset", "Reset a password"),
    ("staff.throttle_clear", "Lifted a sign-in lockout"),
    ("sync.conflict", "Sync found a conflict"),
    ("sync.conflict.keep_local", "Kept this clinic's version"),
    ("sync.conflict.take_incoming", "Took the other site's version"),
    ("sync.pair", "Paired with a partner"),
    ("sync.rejected", "Sync refused what arrived"),
];

/// How `code` reads in English; the code itself for one this version does not know (an older or newer log).
pub fn describe(code: &str) -> &str {
    ACTIONS.iter().find(|(c, _)| *c == code).map_or(code, |(_, english)| english)
}

/// Whether `code` is a listed action.
pub(crate) fn listed(code: &str) -> bool {
    ACTIONS.iter().any(|(c, _)| *c == code)
}
