//! What needs an admin's attention, for their home page: sync that stopped working or left conflicts, when the
//! audit trail was last checked and what the check found, accounts locked out of signing in, and certificates
//! near their end. Backups have their own warnings (`backup::warnings`). Each part is cheap, because the home
//! page asks each time it opens: nothing here walks the audit chain.

use crate::audit::table::{self as audit};
use crate::clinic::Clinic;
use crate::error::Error;
use crate::permissions::Action;
use crate::session::Session;
use crate::value_list::value_list;
use crate::{site, staff, sync, throttle};

/// Certificates closer to their end than this are named. The client certificate renews itself on a sync in its
/// last 60 days, so one this close means sync has not run for weeks.
pub const CERTIFICATE_WARNING_DAYS: i64 = 30;

/// What an admin's home page shows beside the backup warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    /// Sync with the partner, when the clinic is paired.
    pub sync: Option<SyncHealth>,
    /// The audit trail's last check, if it was ever checked.
    pub audit_check: Option<AuditCheck>,
    /// Accounts that cannot sign in now after too many wrong passwords.
    pub locked_out: Vec<LockedOut>,
    /// Certificates that expire within `CERTIFICATE_WARNING_DAYS` (or have expired).
    pub certificates: Vec<Expiring>,
}

/// How sync stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncHealth {
    /// When a run last succeeded (RFC 3339).
    pub last_success: Option<String>,
    /// Why the last run failed, if it did.
    pub last_error: Option<String>,
    /// Its code, for a screen to word.
    pub last_error_code: Option<String>,
    /// Conflicts waiting for a person.
    pub open_conflicts: i64,
}

/// The newest check of the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    /// When (RFC 3339).
    pub at: String,
    /// Who checked.
    pub by: String,
    /// The chain was intact then.
    pub intact: bool,
}

/// An account locked out of signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedOut {
    /// The username.
    pub username: String,
    /// Their name.
    pub display_name: String,
    /// Seconds until they may try again.
    pub seconds: u64,
}

value_list! {
    /// A certificate the clinic depends on.
    pub enum Certificate {
        /// The site CA, which partners trust.
        SiteCa = "site_ca",
        /// The client certificate this clinic shows the partner.
        Client = "client",
        /// The partner's CA, which this clinic trusts.
        Partner = "partner",
    }
}

/// A certificate near its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiring {
    /// Which one.
    pub certificate: Certificate,
    /// The day it expires (`YYYY-MM-DD`, UTC).
    pub expires: String,
    /// Days left (negative once expired).
    pub days_left: i64,
}

/// What needs attention (admins).
pub fn attention(clinic: &Clinic, session: &Session) -> Result<Attention, Error> {
    clinic.authorize(session, Action::StaffManage, None)?;
    let conn = clinic.store().conn();
    let now = clinic.now();
    let status = sync::status(clinic, session)?;
    let mut ends = Vec::new();
    if let Some(me) = site::identity(clinic, session)? {
        ends.push((Certificate::SiteCa, me.ca_expires()));
        ends.push((Certificate::Client, me.certificate_expires()));
    }
    if let Some(partner) = &status.partner {
        ends.push((Certificate::Partner, partner.certificate_expires));
    }
    let certificates = ends
        .into_iter()
        .filter_map(|(certificate, at)| {
            let at = at?;
            let days_left = (at - now).whole_days();
            (days_left < CERTIFICATE_WARNING_DAYS).then(|| Expiring {
                certificate,
                expires: at.date().to_string(),
                days_left,
            })
        })
        .collect();
    let mut locked_out = Vec::new();
    for member in staff::table::all(conn)?.into_iter().filter(|m| m.active) {
        if let Some(seconds) = throttle::locked_for(conn, &member.username, now)? {
            locked_out.push(LockedOut { username: member.username, display_name: member.display_name, seconds });
        }
    }
    let audit_check = audit::last_check(conn)?.map(|(by, at, intact)| AuditCheck { at, by, intact });
    Ok(Attention {
        sync: status.partner.is_some().then_some(SyncHealth {
            last_success: status.last_success,
            last_error: status.last_error,
            last_error_code: status.last_error_code,
            open_conflicts: status.open_conflicts,
        }),
        audit_check,
        locked_out,
        certificates,
    })
}
