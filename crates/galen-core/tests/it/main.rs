//! galen-core's integration tests, on real parts: a real SQLCipher file on disk and the real Secret Service
//! (gnome-keyring on a private D-Bus). Run them through `scripts/with-test-keyring`, as the test command does.

mod anchor;
mod appointments;
mod architecture;
mod attention;
mod audit;
mod backup;
mod crash;
mod documents;
mod faults;
mod fhir;
mod fuzz_seeds;
mod keys;
mod keytrust;
mod passwords;
mod patients;
mod permissions;
mod printing;
mod printouts;
mod qr;
mod revocation;
mod schedules;
mod sessions;
mod settings;
mod site;
mod store;
mod support;
mod throttle;
mod upgrades;
mod voids;
mod writers;
