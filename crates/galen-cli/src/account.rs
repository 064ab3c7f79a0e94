//! `galen login` and `galen passwd`: who you are, and your own password.

use crate::session::Ctx;
use anyhow::{bail, Result};

pub fn login(ctx: &mut Ctx) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let info = session.info();
    println!("Signed in as {} ({}), role {}.", info.display_name, info.username, info.role);
    clinic.logout(session)?;
    Ok(())
}

pub fn passwd(ctx: &mut Ctx) -> Result<()> {
    let (clinic, session) = ctx.signed_in()?;
    let current = ctx.input.secret("Current password: ")?;
    let new = ctx.input.secret("New password: ")?;
    if new.expose() != ctx.input.secret("New password again: ")?.expose() {
        bail!("the two new passwords differ; nothing was changed");
    }
    clinic.change_own_password(&session, current.expose(), new.expose())?;
    println!("Password changed.");
    Ok(())
}
