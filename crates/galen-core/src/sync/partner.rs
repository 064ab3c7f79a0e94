//! The partner this clinic pairs with: pairing (its file, its address, and the safety number confirmed out of
//! band), and where sync stands.

use super::table::{self, PartnerRow};
use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::Error;
use crate::permissions::Action;
use crate::session::Session;
use galen_proto::envelope::PeerKey;
use galen_proto::pairing::{fingerprint_of, PairingFile};

/// The partner this clinic is paired with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its name, from its pairing file.
    pub name: String,
    /// Its address (`https://host:port`).
    pub url: String,
    /// The safety number confirmed at pairing.
    pub safety_number: String,
    /// Its OpenPGP key's fingerprint.
    pub fingerprint: String,
    /// When it was paired.
    pub paired_at: String,
    /// When its CA certificate expires: after that, this clinic no longer trusts it.
    pub certificate_expires: Option<time::OffsetDateTime>,
}

impl From<PartnerRow> for Partner {
    fn from(p: PartnerRow) -> Partner {
        Partner {
            fingerprint: fingerprint_of(&p.openpgp_key).unwrap_or_default(),
            certificate_expires: galen_proto::certs::expires_at(&p.ca_cert),
            name: p.name,
            url: p.url,
            safety_number: p.safety_number,
            paired_at: p.paired_at,
        }
    }
}

/// Where sync stands, for the status screen and `galen sync status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The partner, once paired.
    pub partner: Option<Partner>,
    /// When a run last started.
    pub last_attempt: Option<String>,
    /// When a run last succeeded.
    pub last_success: Option<String>,
    /// Why the last run failed, if it did.
    pub last_error: Option<String>,
    /// Its code (`Error::code`: `partner_unreachable`, `partner_certificate`, `partner_busy`…), for a screen to word.
    pub last_error_code: Option<String>,
    /// Records queued and not yet accepted by the partner.
    pub pending: i64,
    /// Conflicts waiting for a person.
    pub open_conflicts: i64,
    /// Documents received from other sites.
    pub received_documents: i64,
}

fn read_pairing_file(text: &str) -> Result<PairingFile, Error> {
    PairingFile::read(text).map_err(|e| Error::invalid("pairing_file", e.to_string()))
}

/// Reads a partner's pairing file and shows who it is and its safety number, recomputed from its keys (admins).
pub fn preview(clinic: &Clinic, session: &Session, pairing_file: &str) -> Result<PairingFile, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    read_pairing_file(pairing_file)
}

/// Pairs with a partner (admins): its pairing file, its address, and the safety number the admin confirmed with
/// the partner's people out of band, which must equal the one computed from the file's keys.
pub fn pair(
    clinic: &Clinic,
    session: &Session,
    pairing_file: &str,
    url: &str,
    confirmed_number: &str,
) -> Result<Partner, Error> {
    let actor = clinic.authorize(session, Action::SyncManage, None)?;
    let conn = clinic.store().conn();
    if crate::site::table::public_parts(conn)?.is_none() {
        return Err(Error::invalid("site", "Create this clinic's site identity first."));
    }
    if table::partner(conn)?.is_some() {
        return Err(Error::invalid("pairing_file", "This clinic is already paired with a partner."));
    }
    let file = read_pairing_file(pairing_file)?;
    if !file.confirms(confirmed_number) {
        return Err(Error::invalid(
            "safety_number",
            "The safety number does not match this pairing file. Do not pair: the file may not be the partner's.",
        ));
    }
    let url = url.trim().trim_end_matches('/');
    let parsed = url.strip_prefix("https://").filter(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if parsed.is_none() {
        return Err(Error::invalid("url", "Give the partner's address as https://host:port (HTTPS only)."));
    }
    let key =
        PeerKey::from_armored(&file.openpgp_public_key).map_err(|e| Error::invalid("pairing_file", e.to_string()))?;
    let row = PartnerRow {
        name: file.site,
        url: url.to_owned(),
        ca_cert: file.ca_certificate,
        openpgp_key: file.openpgp_public_key,
        safety_number: file.safety_number,
        paired_at: clinic.now_rfc3339(),
    };
    clinic.store().write(|tx| {
        table::insert_partner(tx, &row)?;
        audit::record(tx, &row.paired_at, &actor, "sync.pair", ("partner", &key.fingerprint()), Outcome::Ok)
    })?;
    Ok(row.into())
}

/// Whether a partner is paired: the background task asks before each run (no session: it reveals nothing).
pub fn paired(clinic: &Clinic) -> Result<bool, Error> {
    Ok(table::partner(clinic.store().conn())?.is_some())
}

/// Where sync stands (admins).
pub fn status(clinic: &Clinic, session: &Session) -> Result<Status, Error> {
    clinic.authorize(session, Action::SyncManage, None)?;
    let conn = clinic.store().conn();
    let state = table::run_state(conn)?;
    Ok(Status {
        partner: table::partner(conn)?.map(Partner::from),
        last_attempt: state.last_attempt,
        last_success: state.last_success,
        last_error_code: state
            .last_error
            .as_ref()
            .and(crate::settings::table::get(conn, super::run::LAST_ERROR_CODE)?)
            .filter(|c| !c.is_empty()),
        last_error: state.last_error,
        pending: table::pending(conn)?,
        open_conflicts: table::open_conflict_count(conn)?,
        received_documents: table::received_count(conn)?,
    })
}
