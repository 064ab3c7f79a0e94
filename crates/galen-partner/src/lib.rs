//! # galen-partner
//!
//! The server a Galen clinic pairs with: a hospital, a registry, a lab, or the office's own box that a second
//! laptop syncs through.
//!
//! - HTTPS on rustls where every connection must present a client certificate from a paired clinic's CA
//!   (`tls.rs`, `WebPkiClientVerifier`, never unauthenticated).
//! - Versioned routes under `/api/v1`; request bodies size-limited; JSON errors that never leak internals.
//! - Envelopes (`galen_proto::envelope`) are accepted only when signed by the OpenPGP key of the same site
//!   whose certificate made the connection; each refusal is logged with its own reason (`store.rs`).
//! - One SQLCipher file, encrypted under a key from a 0600 file or a systemd credential (`key.rs`), holds its
//!   identity, the paired sites (until unpaired) and what they sent, unique on (site, id, version); old nonces
//!   and refusals are forgotten. Files it writes are owner-only from their first byte (`files.rs`).
//! - Each site's newest audit anchor (`galen_proto::anchor`: the head of its audit log, signed by its site key) is
//!   kept, never lowered, and handed back at each sync (`POST /api/v1/audit-anchor`), so a clinic whose log was
//!   cut at its end learns it.
//! - Each paired site has a request budget (`rate.rs`); past it, HTTP 429.
//! - A running server follows `galen-partner pair` and `unpair` ([`follow_pairings`]): no restart.
//! - At most [`PARALLEL_BATCHES`] batches are opened or sealed at once; further requests wait their turn.
//! - Every answer is counted and timed for the operator (`metrics.rs`), served by [`metrics_app`] on a loopback
//!   port of its own.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use galen_partner::{app, key::DbKey, store, tls};
//! let key = DbKey::read(std::path::Path::new("/var/lib/galen-partner/partner.db.key"))?;
//! let conn = store::open_db(std::path::Path::new("/var/lib/galen-partner/partner.db"), &key)?;
//! let partner = std::sync::Arc::new(store::Partner::load(conn, false)?);
//! let clients = tls::ClientCas::new(partner.client_cas().as_bytes())?;
//! let tls = tls::server_config(b"server chain PEM", b"server key PEM", &clients)?;
//! let listener = std::net::TcpListener::bind("0.0.0.0:8443")?;
//! tls::serve(listener, tls, app(partner)).await?;
//! # Ok(()) }
//! ```

pub mod config;
pub mod files;
pub mod key;
pub mod metrics;
pub mod rate;
pub mod store;
pub mod tls;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Extension, MatchedPath, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use galen_proto::anchor::{Anchor, AnchorError, MAX_ANCHOR_BYTES};
use galen_proto::wire::{AnchorResponse, PullResponse, PushRequest, PushResponse, MAX_BATCH, MAX_BODY_BYTES};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The API version every route lives under.
pub const API: &str = "/api/v1";

/// The API's OpenAPI 3 description (`openapi.json` beside Cargo.toml), served at `/api/v1/openapi.json`. The
/// tests hold the server to it with schemathesis.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Batches opened or sealed at once. Each batch already runs on every core (`par_map`), so two keep the CPU busy;
/// more would only multiply threads and the memory of envelopes in flight.
pub const PARALLEL_BATCHES: usize = 2;

/// What the routes share: the partner, and the slots for batch work ([`PARALLEL_BATCHES`]).
#[derive(Clone)]
struct Shared {
    partner: Arc<store::Partner>,
    batches: Arc<Semaphore>,
}

/// The HTTP application, without TLS (tests drive it with `oneshot`; `tls::serve` puts it behind mTLS).
pub fn app(partner: Arc<store::Partner>) -> Router {
    // Pushes and pulls spend the calling site's request budget; health does not.
    let envelopes = get(pull).post(push).route_layer(axum::middleware::from_fn_with_state(partner.clone(), limit_rate));
    // An anchor is a few hundred bytes: its body is capped far below an envelope batch's.
    let anchor = post(keep_anchor)
        .layer(DefaultBodyLimit::max(MAX_ANCHOR_BYTES))
        .route_layer(axum::middleware::from_fn_with_state(partner.clone(), limit_rate));
    Router::new()
        .route(&format!("{API}/health"), get(health))
        .route(&format!("{API}/envelopes"), envelopes)
        .route(&format!("{API}/audit-anchor"), anchor)
        .route(&format!("{API}/openapi.json"), get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(partner.clone(), count))
        .with_state(Shared { partner, batches: Arc::new(Semaphore::new(PARALLEL_BATCHES)) })
}

/// The operator's side, plain HTTP for a loopback port (`metrics_listen`): `GET /metrics` in Prometheus text.
pub fn metrics_app(partner: Arc<store::Partner>) -> Router {
    async fn render(State(partner): State<Arc<store::Partner>>) -> Response {
        ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], partner.metrics().render()).into_response()
    }
    Router::new().route("/metrics", get(render)).fallback(not_found).with_state(partner)
}

/// Counts and times every answer by the route it matched (`unmatched` for none, so the labels stay few).
async fn count(State(partner): State<Arc<store::Partner>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    partner.metrics().request(&route, response.status().as_u16(), started.elapsed());
    response
}

/// How often a running server reads the paired sites again (`galen-partner pair` and `unpair` are other processes).
pub const RELOAD_SITES_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Follows pairings while the server runs: every [`RELOAD_SITES_EVERY`], the paired sites are read again and,
/// when they changed, the TLS layer trusts exactly their CAs from the next handshake on. A clinic paired is let in
/// and one unpaired is refused in the handshake, without a restart.
pub async fn follow_pairings(partner: Arc<store::Partner>, clients: tls::ClientCas) {
    let mut every = tokio::time::interval(RELOAD_SITES_EVERY);
    loop {
        every.tick().await;
        let reloaded = partner.reload();
        match reloaded.map(|changed| changed.then(|| clients.replace(partner.client_cas().as_bytes()))) {
            Ok(None) => {}
            Ok(Some(Ok(()))) => tracing::info!(sites = partner.sites().len(), "paired clinics changed: now trusted"),
            Ok(Some(Err(e))) => tracing::error!(error = %e, "a paired clinic's CA could not be read; the others stay"),
            Err(e) => tracing::error!(error = %e, "the paired clinics could not be read again"),
        }
    }
}

/// Runs CPU-bound batch work (opening or sealing envelopes) off the async threads once one of the
/// [`PARALLEL_BATCHES`] slots is free; a flood of requests waits here rather than opening everything at once.
async fn batch<T: Send + 'static>(batches: &Semaphore, work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    // The semaphore is never closed, so acquiring only waits.
    let _slot = batches.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(work).await.map_err(|e| e.to_string())
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

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This route does not take that method; see /api/v1/openapi.json.",
    )
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    // The cause goes to the service log; the caller learns only that it was the server's fault.
    tracing::error!(error = %e, "internal error");
    error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "The partner server failed; try again later.")
}

/// Spends one request of the calling site's budget before anything of the request is read (`rate.rs`); a caller
/// that is no paired site is left to the route, which refuses it.
async fn limit_rate(State(partner): State<Arc<store::Partner>>, request: Request, next: Next) -> Response {
    let site = request.extensions().get::<tls::Peer>().and_then(|peer| partner.site_for(&peer.certificate));
    if let Some(Err(wait)) = site.map(|site| partner.admit(&site)) {
        let seconds = wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0));
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            &format!("This clinic sent too many requests; try again in {seconds} s."),
        );
        response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        return response;
    }
    next.run(request).await
}

/// Why a caller is not a paired site.
#[derive(Debug, Clone, Copy)]
enum Stranger {
    NoCertificate,
    UnknownSite,
    /// Unpaired while the server runs (after a restart, TLS refuses it).
    Unpaired,
}

impl IntoResponse for Stranger {
    fn into_response(self) -> Response {
        match self {
            Stranger::NoCertificate => {
                error(StatusCode::UNAUTHORIZED, "no_client_certificate", "A client certificate is required.")
            }
            Stranger::UnknownSite => {
                error(StatusCode::FORBIDDEN, "unknown_site", "This certificate does not belong to a paired clinic.")
            }
            Stranger::Unpaired => error(
                StatusCode::FORBIDDEN,
                "unpaired",
                "This clinic is no longer paired with this partner; its operator can pair it again.",
            ),
        }
    }
}

/// The paired site behind the connection.
fn caller(partner: &store::Partner, peer: Option<Extension<tls::Peer>>) -> Result<store::Site, Stranger> {
    let Some(Extension(peer)) = peer else { return Err(Stranger::NoCertificate) };
    partner.site_for(&peer.certificate).ok_or(Stranger::UnknownSite)
}

async fn push(
    State(Shared { partner, batches }): State<Shared>,
    peer: Option<Extension<tls::Peer>>,
    body: Result<Json<PushRequest>, JsonRejection>,
) -> Response {
    // Outside tests, TLS has already refused anyone without a certificate; the body is checked first so a bad
    // request gets the same answer from anyone.
    let request = match body {
        Ok(Json(r)) => r,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(e.status(), "too_large", "The request is too large; send fewer envelopes at a time.")
        }
        Err(_) => return error(StatusCode::BAD_REQUEST, "malformed", "The body is not a push request."),
    };
    let site = match caller(&partner, peer) {
        Ok(site) => site,
        Err(stranger) => return stranger.into_response(),
    };
    if request.envelopes.len() > MAX_BATCH {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "too_many", "Send at most 500 envelopes at a time.");
    }
    let work = batch(&batches, move || partner.receive(&site, &request.envelopes));
    match work.await {
        Ok(Ok(results)) => Json(PushResponse { results }).into_response(),
        Ok(Err(store::StoreError::NotPaired)) => Stranger::Unpaired.into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

/// Keeps the calling site's audit anchor if it is signed by that site and newer than the kept one, and answers with
/// the one kept (`store::Partner::keep_anchor`).
async fn keep_anchor(
    State(Shared { partner, .. }): State<Shared>,
    peer: Option<Extension<tls::Peer>>,
    body: Result<Json<Anchor>, JsonRejection>,
) -> Response {
    let anchor = match body {
        Ok(Json(a)) => a,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(e.status(), "too_large", "An audit anchor is a few hundred bytes; this is not one.")
        }
        Err(_) => return error(StatusCode::BAD_REQUEST, "malformed", "The body is not an audit anchor."),
    };
    let site = match caller(&partner, peer) {
        Ok(site) => site,
        Err(stranger) => return stranger.into_response(),
    };
    // One signature check: quick enough for the async threads, like the rate limiter.
    match partner.keep_anchor(&site, &anchor) {
        Ok(Ok((stored, kept))) => Json(AnchorResponse { stored, kept }).into_response(),
        Ok(Err(e @ AnchorError::Malformed(_))) => error(StatusCode::BAD_REQUEST, e.code(), &e.to_string()),
        Ok(Err(e @ AnchorError::WrongSigner)) => error(StatusCode::FORBIDDEN, e.code(), &e.to_string()),
        Err(store::StoreError::NotPaired) => Stranger::Unpaired.into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

async fn pull(
    State(Shared { partner, batches }): State<Shared>,
    peer: Option<Extension<tls::Peer>>,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let site = match caller(&partner, peer) {
        Ok(site) => site,
        Err(stranger) => return stranger.into_response(),
    };
    let Ok(Query(q)) = query else {
        return error(StatusCode::BAD_REQUEST, "malformed", "Use ?after=SEQUENCE&limit=N.");
    };
    let limit = q.limit.unwrap_or(MAX_BATCH).clamp(1, MAX_BATCH);
    let work = batch(&batches, move || partner.pull(&site, q.after, limit));
    match work.await {
        Ok(Ok((envelopes, more))) => Json(PullResponse { envelopes, more }).into_response(),
        Ok(Err(store::StoreError::NotPaired)) => Stranger::Unpaired.into_response(),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// However many requests bring batches at once, no more than [`PARALLEL_BATCHES`] are worked on together; the
    /// others wait their turn and are all done.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_than_the_parallel_batches_are_worked_on_at_once() {
        let batches = Arc::new(Semaphore::new(PARALLEL_BATCHES));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let requests: Vec<_> = (0..4 * PARALLEL_BATCHES)
            .map(|_| {
                let (batches, running, most) = (batches.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    batch(&batches, move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for request in requests {
            request.await.expect("joined").expect("done");
        }
        assert_eq!(most.load(Ordering::SeqCst), PARALLEL_BATCHES, "the bound holds, and is reached under load");
    }

    /// The published description names exactly the routes the server has: each of its operations is routed (not
    /// 404, not 405), and a method it does not list is refused with a JSON 405.
    #[tokio::test]
    async fn the_openapi_description_names_every_route_and_method() {
        use tower::ServiceExt;
        let spec: serde_json::Value = serde_json::from_str(OPENAPI).expect("openapi.json is JSON");
        let dir = tempfile::tempdir().expect("tmp");
        let conn = store::open_db(&dir.path().join("partner.db"), &key::DbKey::random().expect("key")).expect("db");
        let server = galen_proto::certs::Leaf::Server { hosts: vec!["127.0.0.1".into()] };
        let issued = galen_proto::certs::issue("CA", "Partner", server, time::OffsetDateTime::now_utc()).expect("ca");
        store::init(&conn, "Partner", &issued.ca_cert, &issued.ca_key).expect("init");
        let partner = Arc::new(store::Partner::load(conn, false).expect("load"));
        let mut operations = Vec::new();
        for (path, methods) in spec["paths"].as_object().expect("paths") {
            for method in methods.as_object().expect("methods").keys() {
                operations.push(format!("{} {path}", method.to_uppercase()));
                let request = Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(path)
                    .body(axum::body::Body::empty())
                    .expect("request");
                let status = app(partner.clone()).oneshot(request).await.expect("answer").status();
                assert!(![404, 405].contains(&status.as_u16()), "{method} {path} is routed: {status}");
            }
        }
        operations.sort();
        let listed = ["GET /api/v1/envelopes", "GET /api/v1/health", "GET /api/v1/openapi.json"];
        let listed = [&listed[..], &["POST /api/v1/audit-anchor", "POST /api/v1/envelopes"]].concat();
        assert_eq!(operations, listed);
        let request = Request::builder().method("DELETE").uri("/api/v1/envelopes").body(axum::body::Body::empty());
        let answer = app(partner).oneshot(request.expect("request")).await.expect("answer");
        assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
        let body = axum::body::to_bytes(answer.into_body(), 4096).await.expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("a JSON error");
        assert_eq!(json["error"], "method_not_allowed");
    }
}
