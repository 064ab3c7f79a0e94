//! The app as people use it: a real window under Xvfb, driven over WebDriver (tauri-driver in front of
//! WebKitWebDriver), against a real SQLCipher file and a real Secret Service.

mod app_flow;
mod harness;
mod installed;
mod installers;
