//! The one way a command reaches the clinic: open it from the data folder, and sign in (with `--user`, or
//! asked) with the app's own checks, dealing with a forced password change on the spot.

use crate::prompt::Input;
use anyhow::{bail, Result};
use galen_core::{Clinic, Sensitive, Session, Vault};

/// The data folder, the way secrets are asked for, and who `--user` says is signing in.
#[derive(Debug)]
pub struct Ctx {
    pub vault: Vault,
    pub input: Input,
    pub user: Option<String>,
}

impl Ctx {
    /// Opens the clinic with the key from the keyring.
    pub fn clinic(&self) -> Result<Clinic> {
        Ok(Clinic::open(self.vault.clone())?)
    }

    /// Opens the clinic and signs in.
    pub fn signed_in(&mut self) -> Result<(Clinic, Session)> {
        let clinic = self.clinic()?;
        let session = self.sign_in(&clinic)?.0;
        Ok((clinic, session))
    }

    /// Signs in to an open clinic; also hands back the password, for commands that need it again (key changes).
    pub fn sign_in(&mut self, clinic: &Clinic) -> Result<(Session, Sensitive<String>)> {
        let username = self.input.value_or("Username: ", self.user.clone())?;
        let password = self.input.secret("Password: ")?;
        let session = clinic.login(&username, password.expose())?;
        if session.info().must_change_password {
            println!("Your password was reset by an admin; choose a new one now.");
            let new = self.input.secret("New password: ")?;
            if new.expose() != self.input.secret("New password again: ")?.expose() {
                bail!("the two new passwords differ; your password was not changed");
            }
            clinic.change_own_password(&session, password.expose(), new.expose())?;
            return Ok((session, new));
        }
        Ok((session, password))
    }
}
