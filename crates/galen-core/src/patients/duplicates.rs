//! Likely duplicates: a similar name (accent- and case-insensitive, tolerant of a typo or a swapped pair of
//! letters, in either name order) with the same date of birth, or the same phone number.

use super::model::{Candidate, Demographics, Reason};
use super::table;
use crate::error::Error;
use crate::text::fold;
use rusqlite::Connection;

/// How alike two names must be (Damerau–Levenshtein, normalised) to count as "similar".
const SIMILAR: f64 = 0.8;

fn similar(a: &str, b: &str) -> bool {
    strsim::normalized_damerau_levenshtein(a, b) >= SIMILAR
}

pub(crate) fn find(
    conn: &Connection,
    d: &Demographics,
    dob: &str,
    except: Option<i64>,
) -> Result<Vec<Candidate>, Error> {
    let mut out: Vec<Candidate> = Vec::new();
    let full = fold(&format!("{} {}", d.given_names, d.family_name));
    let reversed = fold(&format!("{} {}", d.family_name, d.given_names));
    if !dob.is_empty() {
        for s in table::born_on(conn, dob, u32::MAX)? {
            let theirs = fold(&format!("{} {}", s.given_names, s.family_name));
            if Some(s.id) != except && (similar(&full, &theirs) || similar(&reversed, &theirs)) {
                out.push(Candidate { patient: s, reason: Reason::SimilarNameSameBirthDate });
            }
        }
    }
    for phone in &d.phones {
        for s in table::with_identifier(conn, "phone", &table::phone_key(phone))? {
            if Some(s.id) != except && !out.iter().any(|c| c.patient.id == s.id) {
                out.push(Candidate { patient: s, reason: Reason::SamePhone });
            }
        }
    }
    Ok(out)
}
