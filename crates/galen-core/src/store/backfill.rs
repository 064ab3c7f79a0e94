//! The data step of migration 8, frozen with its SQL: patients registered before version 8 get an MRN and a
//! search entry. It reads and writes the tables as they were at version 8 and calls only ground-floor helpers
//! (`mrn`, `text`), so later changes to the patients module can never change what an old database goes through.

use crate::error::Result;
use crate::{mrn, text};
use rusqlite::{Connection, OptionalExtension};

pub(super) fn mrns_and_search_v8(conn: &Connection) -> Result<()> {
    let prefix = prefix(conn)?;
    let ids: Vec<(i64, String, String)> = conn
        .prepare("SELECT id, given_names, family_name FROM patients WHERE mrn IS NULL ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, given, family) in ids {
        let last: Option<String> = conn
            .query_row(
                "SELECT mrn FROM patients WHERE mrn > ?1 AND mrn < ?2 ORDER BY mrn DESC LIMIT 1",
                (format!("{prefix}-"), format!("{prefix}-~")),
                |r| r.get(0),
            )
            .optional()?;
        let sequence: u64 =
            last.and_then(|m| m.get(prefix.len() + 1..m.len() - 1).and_then(|s| s.parse().ok())).unwrap_or(0);
        let code = mrn::format(&prefix, sequence + 1);
        conn.execute("UPDATE patients SET mrn = ?2 WHERE id = ?1", (id, &code))?;
        conn.execute(
            "INSERT OR IGNORE INTO patient_identifiers (kind, value, patient_id) VALUES ('mrn', ?1, ?2)",
            (mrn::normalize(&code), id),
        )?;
        conn.execute("INSERT INTO patient_search (rowid, names) VALUES (?1, ?2)", (id, format!("{given} {family}")))?;
    }
    Ok(())
}

/// The MRN prefix as version 8 chose it: the setting, else up to three letters of the clinic's name.
fn prefix(conn: &Connection) -> Result<String> {
    let setting = |key: &str| -> Result<Option<String>> {
        Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    };
    if let Some(p) = setting("mrn.prefix")?.filter(|p| !p.is_empty()) {
        return Ok(p);
    }
    let site = setting("site.name")?.unwrap_or_default();
    let letters: String = text::fold(&site).chars().filter(char::is_ascii_alphabetic).take(3).collect();
    Ok(if letters.len() >= 2 { letters.to_uppercase() } else { "GAL".into() })
}
