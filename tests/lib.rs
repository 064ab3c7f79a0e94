//! # galen-e2e
//!
//! Cross-crate end-to-end tests. `e2e/` drives the built app binary in a real window under Xvfb, through
//! tauri-driver and WebKitWebDriver, and saves a screenshot of every screen to `target/e2e-screens/`.
//! Run them with the README's test command; by hand:
//!
//! ```text
//! xvfb-run -a scripts/with-test-keyring cargo test -p galen-e2e
//! ```
