//! The `galen` binary as a user runs it: real process, real SQLCipher file, real Secret Service.
//! Run through `scripts/with-test-keyring`, as the test command does.

mod cli;
mod commands;
mod faults;
mod logs;
mod support;
