//! Tauri commands, one module per domain; each is a few lines into galen-core.

pub mod admin;
pub mod appointments;
pub mod backups;
pub mod clinic;
pub mod documents;
pub mod keys;
pub mod patients;
pub mod printing;
pub mod records;
pub mod session;
pub mod sync;
pub mod verify;
