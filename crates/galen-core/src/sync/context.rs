//! What a sync run needs from the database, read once at its start: this site's keys and certificate, and the
//! partner's address, CA and key.

use super::table;
use crate::clinic::Clinic;
use crate::error::{Error, Missing, SyncFailure};
use galen_proto::envelope::{OwnKey, PeerKey};

pub(super) struct Context {
    pub me: OwnKey,
    pub partner: PeerKey,
    pub url: String,
    pub partner_ca: String,
    pub client_cert: String,
    pub client_key: String,
}

impl std::fmt::Debug for Context {
    // The client key and the site key are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").field("url", &self.url).finish_non_exhaustive()
    }
}

pub(super) fn keys(e: impl std::fmt::Display) -> Error {
    Error::Sync(SyncFailure::Keys(e.to_string()))
}

impl Context {
    pub(super) fn load(clinic: &Clinic) -> Result<Context, Error> {
        let conn = clinic.store().conn();
        let partner = table::partner(conn)?.ok_or(Error::NotFound(Missing::Partner))?;
        let secrets = crate::site::table::secrets(conn)?;
        Ok(Context {
            me: OwnKey::from_armored(&secrets.openpgp_key).map_err(keys)?,
            partner: PeerKey::from_armored(&partner.openpgp_key).map_err(keys)?,
            url: partner.url,
            partner_ca: partner.ca_cert,
            client_cert: secrets.client_cert,
            client_key: secrets.client_key,
        })
    }
}
