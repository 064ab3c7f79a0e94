//! Search as you type: by MRN, national ID, phone or date of birth (exact, ranked first), and by any part of
//! any name in any order, by prefix, accent- and case-insensitively (FTS5 with `remove_diacritics`).
//! An MRN whose check character fails finds nothing: never the wrong patient.

use super::model::Summary;
use super::{table, validate};
use crate::clinic::Clinic;
use crate::error::Error;
use crate::mrn;
use crate::permissions::Action;
use crate::session::Session;
use rusqlite::Connection;

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The patients found, exact identifier matches first.
    pub results: Vec<Summary>,
    /// Another page follows.
    pub more: bool,
    /// The query was an MRN whose check character failed: say so rather than show other patients.
    pub mrn_check_failed: bool,
}

/// The most results a page holds.
pub const MAX_PAGE: u32 = 100;

/// Searches the registry (any role that may search). Not audited per keystroke; opening a record is.
pub fn search(clinic: &Clinic, session: &Session, query: &str, page: u32, page_size: u32) -> Result<Page, Error> {
    clinic.authorize(session, Action::PatientSearch, None)?;
    run(clinic.store().conn(), query, page, page_size)
}

/// The search itself, on any connection with Galen's schema (the benchmark also runs it on a plain copy).
pub fn run(conn: &Connection, query: &str, page: u32, page_size: u32) -> Result<Page, Error> {
    let q = query.trim();
    let size = page_size.clamp(1, MAX_PAGE) as usize;
    let skip = page as usize * size;
    if q.is_empty() || q.chars().count() > 200 {
        return Ok(Page::default());
    }
    if mrn::looks_like_mrn(q) {
        let Ok(code) = mrn::parse(q) else { return Ok(Page { mrn_check_failed: true, ..Page::default() }) };
        let found = table::with_identifier(conn, "mrn", &mrn::normalize(&code))?;
        return Ok(Page { results: found, ..Page::default() });
    }

    let mut exact: Vec<Summary> = Vec::new();
    let national_id = validate::normalize_national_id(q);
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if national_id.len() >= 4 && q.chars().all(|c| c.is_ascii_alphanumeric() || " .-/".contains(c)) {
        exact.extend(table::with_national_id(conn, &national_id)?);
    }
    if digits.len() >= 7 && q.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c)) {
        for s in table::with_identifier(conn, "phone", &table::phone_key(q))? {
            push_unique(&mut exact, s);
        }
    }
    if let Some(date) = validate::parse_date(q) {
        for s in table::born_on(conn, &date.to_string(), 500)? {
            push_unique(&mut exact, s);
        }
    }

    // Exact identifier matches rank first, then name matches. FTS5 streams matches in rowid order, so with a
    // LIMIT it stops early however common the name; each page is then shown alphabetically.
    let exact_len = exact.len();
    let mut all = exact;
    let fts = fts_query(q);
    let wanted = skip + size + 1;
    if !fts.is_empty() && all.len() < wanted {
        for s in table::names_matching(conn, &fts, wanted)? {
            push_unique(&mut all, s);
        }
    }
    let more = all.len() > skip + size;
    let mut page: Vec<(usize, Summary)> = all.into_iter().enumerate().skip(skip).take(size).collect();
    // A stable sort: exact matches keep their place at the top; name matches go alphabetical.
    page.sort_by_cached_key(|(i, s)| match *i < exact_len {
        true => (false, String::new(), String::new()),
        false => (true, crate::text::fold(&s.family_name), crate::text::fold(&s.given_names)),
    });
    let results = page.into_iter().map(|(_, s)| s).collect();
    Ok(Page { results, more, mrn_check_failed: false })
}

fn push_unique(into: &mut Vec<Summary>, s: Summary) {
    if !into.iter().any(|x| x.id == s.id) {
        into.push(s);
    }
}

/// Each typed word becomes a quoted prefix term, all required: `ana alb` → `"ana"* "alb"*`. Quoting keeps
/// FTS5 syntax characters in the input from meaning anything.
fn fts_query(q: &str) -> String {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn typed_words_become_quoted_prefix_terms() {
        assert_eq!(fts_query("ana alb"), "\"ana\"* \"alb\"*");
        assert_eq!(fts_query("  O'Brien\"; DROP"), "\"O\"* \"Brien\"* \"DROP\"*");
        assert_eq!(fts_query("***"), "");
    }
}
