//! Time, behind a trait so that rules that depend on it (throttling, idle lock) are testable without sleeping.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub(crate) fn now_rfc3339() -> String {
    rfc3339(OffsetDateTime::now_utc())
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    // Any UTC timestamp in range formats as RFC 3339.
    t.format(&Rfc3339).unwrap_or_default()
}
