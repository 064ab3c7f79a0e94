//! The HTTP application alone, with `oneshot` (no sockets, no TLS).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use galen_partner::store;
use std::sync::Arc;
use tower::ServiceExt;

async fn call(request: Request<Body>) -> (StatusCode, String) {
    let dir = crate::support::new_partner();
    let partner = Arc::new(store::Partner::load(dir.open(), true).expect("load"));
    let response = galen_partner::app(partner).oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(path: &str) -> (StatusCode, String) {
    call(Request::get(path).body(Body::empty()).expect("request")).await
}

fn post(body: impl Into<Body>) -> Request<Body> {
    Request::post("/api/v1/envelopes").header("content-type", "application/json").body(body.into()).expect("request")
}

#[tokio::test]
async fn health_is_versioned_and_unknown_routes_get_a_plain_json_404() {
    let (status, body) = get("/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"status\":\"ok\"") && body.contains("\"api\":\"v1\""), "{body}");
    for path in ["/health", "/api/v2/health", "/../../etc/passwd"] {
        let (status, body) = get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("\"error\":\"not_found\"") && !body.to_lowercase().contains("axum"), "{body}");
    }
}

#[tokio::test]
async fn envelopes_need_a_paired_client_and_bad_bodies_get_json_errors_without_internals() {
    // Outside TLS there is no client certificate at all.
    let (status, body) = get("/api/v1/envelopes?after=0").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("no_client_certificate"), "{body}");
    let (status, body) = call(post(r#"{"envelopes": []}"#)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // A body over the limit is refused unread; garbage is refused; neither answer names a library.
    let huge = format!(r#"{{"envelopes": ["{}"]}}"#, "A".repeat(galen_proto::wire::MAX_BODY_BYTES + 1));
    let (status, body) = call(post(huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("\"error\":\"too_large\""), "{body}");
    for garbage in ["not json", r#"{"envelopes": 7}"#, r#"{"envelopes": [], "extra": 1}"#] {
        let (status, body) = call(post(garbage)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{garbage}: {body}");
        assert!(!body.to_lowercase().contains("serde") && !body.contains("line"), "{body}");
    }
}
