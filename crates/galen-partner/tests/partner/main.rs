//! galen-partner's integration tests: the routes alone (`oneshot`), the TLS front door against plain curl, and
//! real clinics (SQLCipher files, the real keyring) syncing with the real server on 127.0.0.1 over mTLS.

mod anchor;
mod concurrent;
mod hardening;
mod hostile;
mod killed;
mod links;
mod load;
mod metrics;
mod mtls;
mod openapi;
mod received;
mod renewal;
mod routes;
mod support;
mod sync;
mod vouched;
