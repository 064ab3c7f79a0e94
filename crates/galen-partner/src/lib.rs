//! # galen-partner
//!
//! The server a Galen clinic pairs with: a hospital, a registry, a lab, or the office's own box that a second
//! laptop syncs through. This crate holds its front door so far: HTTPS on rustls where every connection must
//! present a client certificate from a trusted CA (`tls.rs`, `WebPkiClientVerifier`, never unauthenticated),
//! versioned routes under `/api/v1`, and JSON errors that never leak internals. Pairing, signed and encrypted
//! envelopes, storage and the clinic's sync client build on it (see issue 8 and ARCHITECTURE.md).

pub mod config;
pub mod tls;

use axum::extract::Extension;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// The API version every route lives under.
pub const API: &str = "/api/v1";

/// The HTTP application, without TLS (tests drive it with `oneshot`; `tls::serve` puts it behind mTLS).
pub fn app() -> Router {
    Router::new().route(&format!("{API}/health"), get(health)).fallback(not_found)
}

/// Who is calling: the SHA-256 of the client certificate the TLS layer verified, or none outside TLS.
async fn health(peer: Option<Extension<tls::Peer>>) -> Json<serde_json::Value> {
    let client = peer.map(|Extension(p)| p.certificate_sha256);
    Json(json!({ "status": "ok", "api": "v1", "client_certificate_sha256": client }))
}

/// A JSON error with a stable code and a message meant for people; nothing from inside the server.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": code, "message": message }))).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not_found", "There is no such route; the API lives under /api/v1.")
}
