//! The HTTP application alone, with `oneshot` (no sockets, no TLS).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, String) {
    let response =
        galen_partner::app().oneshot(Request::get(path).body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024).await.expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
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
