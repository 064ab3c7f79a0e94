//! The fixed value lists (roles, units, routes of death, blood types…) as galen-core defines them, exported to
//! the UI through the generated bindings: each as a TypeScript type and as a constant listing its values, so no
//! screen retypes a list.

use galen_core::appointments::{Status, Weekday};
use galen_core::documents::{DoseUnit, DurationPeriod, FrequencyUnit, IntervalUnit, Manner, Place};
use galen_core::patients::{BloodType, PregnancyStatus, Severity, Sex};
use galen_core::settings::{Language, PaperSize};
use galen_core::Role;

/// Adds every value list to the bindings.
pub fn export(builder: tauri_specta::Builder<tauri::Wry>) -> tauri_specta::Builder<tauri::Wry> {
    builder
        .typ::<Role>()
        .constant("ROLES", Role::NAMES)
        .typ::<Sex>()
        .constant("SEXES", Sex::NAMES)
        .typ::<BloodType>()
        .constant("BLOOD_TYPES", BloodType::NAMES)
        .typ::<Severity>()
        .constant("SEVERITIES", Severity::NAMES)
        .typ::<PregnancyStatus>()
        .constant("PREGNANCY_STATUSES", PregnancyStatus::NAMES)
        .typ::<DoseUnit>()
        .constant("DOSE_UNITS", DoseUnit::NAMES)
        .typ::<FrequencyUnit>()
        .constant("FREQUENCY_UNITS", FrequencyUnit::NAMES)
        .typ::<DurationPeriod>()
        .constant("DURATION_PERIODS", DurationPeriod::NAMES)
        .typ::<Manner>()
        .constant("MANNERS", Manner::NAMES)
        .typ::<Place>()
        .constant("PLACES", Place::NAMES)
        .typ::<IntervalUnit>()
        .constant("INTERVAL_UNITS", IntervalUnit::NAMES)
        .typ::<PaperSize>()
        .constant("PAPER_SIZES", PaperSize::NAMES)
        .typ::<Language>()
        .constant("LANGUAGES", Language::NAMES)
        .typ::<Weekday>()
        .constant("WEEKDAYS", Weekday::NAMES)
        .typ::<Status>()
        .constant("APPOINTMENT_STATUSES", Status::NAMES)
}
