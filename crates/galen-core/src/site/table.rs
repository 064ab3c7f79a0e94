//! Table `site_identity`: one row, this clinic's identity for sync. The secret parts (CA key, client key,
//! OpenPGP site key) live only here, inside the encrypted database.

use crate::error::{Error, Missing, Result as StoreResult};
use rusqlite::{Connection, OptionalExtension};

/// A new identity, PEM and armored.
#[derive(Debug)]
pub(crate) struct NewIdentity<'a> {
    pub name: &'a str,
    pub ca_cert: &'a str,
    pub ca_key: &'a str,
    pub client_cert: &'a str,
    pub client_key: &'a str,
    pub openpgp_key: &'a str,
}

pub(crate) fn insert(tx: &Connection, i: &NewIdentity<'_>, now: &str) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO site_identity (id, name, ca_cert, ca_key, client_cert, client_key, openpgp_key, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        rusqlite::params![i.name, i.ca_cert, i.ca_key, i.client_cert, i.client_key, i.openpgp_key, now],
    )?;
    Ok(())
}

/// The identity's public face as stored: name, CA certificate, client certificate and the OpenPGP key (the
/// caller derives the public parts).
pub(crate) fn public_parts(conn: &Connection) -> StoreResult<Option<(String, String, String, String)>> {
    Ok(conn
        .query_row("SELECT name, ca_cert, client_cert, openpgp_key FROM site_identity WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?)
}

/// When the identity (and its OpenPGP site key) was made, if it was.
pub(crate) fn created_at(conn: &Connection) -> StoreResult<Option<String>> {
    Ok(conn.query_row("SELECT created_at FROM site_identity WHERE id = 1", [], |r| r.get(0)).optional()?)
}

/// What renewing the client certificate needs: the CA certificate and key, and the current client certificate.
pub(crate) fn for_renewal(conn: &Connection) -> StoreResult<Option<(String, String, String)>> {
    Ok(conn
        .query_row("SELECT ca_cert, ca_key, client_cert FROM site_identity WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

pub(crate) fn replace_client_certificate(tx: &Connection, cert: &str, key: &str) -> StoreResult<()> {
    tx.execute("UPDATE site_identity SET client_cert = ?1, client_key = ?2 WHERE id = 1", (cert, key))?;
    Ok(())
}

/// The secret parts, for the sync client only. Secrets: never log them.
pub(crate) struct Secrets {
    pub client_cert: String,
    pub client_key: String,
    pub openpgp_key: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").finish_non_exhaustive()
    }
}

pub(crate) fn secrets(conn: &Connection) -> Result<Secrets, Error> {
    conn.query_row("SELECT client_cert, client_key, openpgp_key FROM site_identity WHERE id = 1", [], |r| {
        Ok(Secrets { client_cert: r.get(0)?, client_key: r.get(1)?, openpgp_key: r.get(2)? })
    })
    .optional()?
    .ok_or(Error::NotFound(Missing::SiteIdentity))
}
