//! Likely duplicates: a similar name (accent- and case-insensitive, tolerant of a typo or a swapped pair of
//! letters, in either name order) with the same date of birth, or the same phone number.

use super::model::{Demographics, Summary};
use super::{phone_key, search};
use crate::error::Error;
use crate::text::fold;
use rusqlite::Connection;

/// A patient who might be the one being registered, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub patient: Summary,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    SimilarNameSameBirthDate,
    SamePhone,
}

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
        let mut stmt =
            conn.prepare(&format!("{} WHERE date_of_birth = ?1 AND merged_into IS NULL", search::SUMMARY))?;
        for s in stmt.query_map([dob], search::read_summary)? {
            let s = s?;
            let theirs = fold(&format!("{} {}", s.given_names, s.family_name));
            if Some(s.id) != except && (similar(&full, &theirs) || similar(&reversed, &theirs)) {
                out.push(Candidate { patient: s, reason: Reason::SimilarNameSameBirthDate });
            }
        }
    }
    for phone in &d.phones {
        let mut stmt = conn.prepare(&format!(
            "{} WHERE id IN (SELECT patient_id FROM patient_identifiers WHERE kind = 'phone' AND value = ?1)
               AND merged_into IS NULL",
            search::SUMMARY
        ))?;
        for s in stmt.query_map([phone_key(phone)], search::read_summary)? {
            let s = s?;
            if Some(s.id) != except && !out.iter().any(|c| c.patient.id == s.id) {
                out.push(Candidate { patient: s, reason: Reason::SamePhone });
            }
        }
    }
    Ok(out)
}
