//! # galen-core
//!
//! The headless heart of Galen, an offline-first clinic app: every rule, all storage and all crypto. The
//! desktop app, the `galen` CLI and the partner server are thin layers over this crate.
//!
//! A clinic's data lives in one SQLCipher database whose random 256-bit key sits in the OS keyring, with two
//! fallbacks wrapped in a key file beside it: the admin's password (argon2id) and a printed recovery key.
//!
//! ```no_run
//! use galen_core::{patients, vault::Vault};
//!
//! # fn main() -> Result<(), galen_core::StoreError> {
//! let vault = Vault::new("/tmp/demo-clinic");
//! let setup = vault.init("admin", "a long unlock passphrase")?;
//! println!("Write down the recovery key: {}", setup.recovery_key.display_secret().expose());
//!
//! // Later, on the same OS account, the keyring opens it without a password:
//! let store = vault.open()?;
//! println!("{} patients", patients::count(&store)?);
//! # Ok(()) }
//! ```

pub mod backup;
pub(crate) mod clock;
pub mod crypto;
pub mod error;
pub mod keyfile;
pub mod keyring;
pub mod patients;
pub mod recovery;
pub mod sensitive;
pub mod settings;
pub mod store;
pub mod vault;

pub use error::StoreError;
pub use recovery::RecoveryKey;
pub use sensitive::Sensitive;
pub use store::Store;
pub use vault::Vault;
