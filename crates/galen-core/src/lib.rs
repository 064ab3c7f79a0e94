//! # galen-core
//!
//! The headless heart of Galen, an offline-first clinic app: every rule, all storage and all crypto. The
//! desktop app, the `galen` CLI and the partner server are thin layers over this crate.
//!
//! A clinic's data lives in one SQLCipher database whose random 256-bit key sits in the OS keyring, with two
//! fallbacks wrapped in a key file beside it: the admin's password (argon2id) and a printed recovery key.
//!
//! Every operation goes through a signed-in [`Session`] and one permission table (`permissions.rs`), and is
//! recorded in a hash-chained audit trail.
//!
//! ```no_run
//! use galen_core::clinic::{Clinic, Setup};
//! use galen_core::{patients, Vault};
//!
//! # fn main() -> Result<(), galen_core::Error> {
//! let setup = Setup {
//!     site_name: "Clínica Sol".into(),
//!     admin_username: "ana".into(),
//!     admin_display_name: "Ana Admin".into(),
//!     admin_password: "a long unlock passphrase".into(),
//! };
//! let created = Clinic::create(Vault::new("/tmp/demo-clinic"), &setup)?;
//! println!("Write down the recovery key: {}", created.recovery_key.display_secret().expose());
//!
//! // Later, on the same OS account, the keyring opens it without a password:
//! let clinic = Clinic::open(Vault::new("/tmp/demo-clinic"))?;
//! let session = clinic.login("ana", "a long unlock passphrase")?;
//! println!("{} patients; signed in as {}", patients::count(clinic.store())?, session.role());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod appointments;
pub mod attention;
pub mod audit;
pub mod backup;
pub mod breakglass;
pub mod clinic;
pub mod clock;
mod crypto;
#[cfg(feature = "dev")]
pub mod dev;
pub mod documents;
pub mod error;
pub mod fhir;
mod files;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod keyfile;
mod keyring;
pub mod logging;
pub mod mrn;
mod password;
pub mod patients;
pub mod pdf;
pub mod permissions;
mod recovery;
mod sensitive;
pub mod session;
pub mod settings;
mod signing;
pub mod site;
pub mod staff;
mod store;
pub mod sync;
mod text;
mod throttle;
mod value_list;
pub mod vault;

pub use clinic::Clinic;
pub use error::{Error, FieldError, FieldErrors, StoreError};
pub use permissions::{Action, Role};
pub use recovery::RecoveryKey;
pub use sensitive::Sensitive;
pub use session::Session;
pub use store::{Store, LATEST_SCHEMA};
pub use vault::Vault;
