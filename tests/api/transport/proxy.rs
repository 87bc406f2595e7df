//! HTTPS behind a TLS-terminating proxy, in production: plain-HTTP requests the proxy
//! forwarded are redirected (GET, HEAD) or refused (other methods); health probes are not.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::helpers::*;

/// A production server that trusts the test client (127.0.0.1) as its proxy: the client
/// plays the proxy, so it must be the instance's peer.
async fn behind_proxy(profile: &str) -> TestApp {
    TestApp::single(SingleInstance::PeerAddress)
        .spawn_with(&[
            ("TASKFLOW_PROFILE", profile),
            ("TASKFLOW_JWT_SECRET", JWT_SECRET),
            ("TASKFLOW_TRUSTED_PROXIES", "127.0.0.1"),
        ])
        .await
}

fn forwarded(proto: &str) -> HeaderMap {
    headers(&[
        ("x-forwarded-proto", proto),
        ("x-forwarded-for", "203.0.113.9"),
    ])
}

#[tokio::test]
async fn a_get_forwarded_over_http_is_redirected_to_https() {
    let app = behind_proxy("production").await;
    let path = "/api/v1/tasks?completed=false&limit=5";
    for method in [Method::GET, Method::HEAD] {
        let response = app
            .request(method.clone(), path, None, forwarded("http"))
            .await;
        assert_eq!(response.status(), 308, "{method}");
        let host = app.address.trim_start_matches("http://");
        assert_eq!(
            header(&response, "location"),
            Some(format!("https://{host}{path}").as_str()),
            "{method}"
        );
        assert!(header(&response, "x-request-id").is_some(), "{method}");
    }
}

#[tokio::test]
async fn an_unsafe_method_forwarded_over_http_is_refused() {
    let app = behind_proxy("production").await;
    let body = json!({"email": "proxy@example.com", "password": TestUser::PASSWORD});
    let response = app
        .post("/api/v1/auth/login", &body, forwarded("http"))
        .await;
    assert_eq!(header(&response, "location"), None);
    assert_problem(response, 403, "https_required").await;
}

#[tokio::test]
async fn health_probes_https_and_development_are_left_alone() {
    let app = behind_proxy("production").await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.get(path, forwarded("http")).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let https = app.get("/api/v1/auth/me", forwarded("https")).await;
    assert_problem(https, 401, "unauthorized").await;
    let development = behind_proxy("development").await;
    let plain = development.get("/api/v1/auth/me", forwarded("http")).await;
    assert_problem(plain, 401, "unauthorized").await;
}

#[tokio::test]
async fn an_untrusted_peer_cannot_trigger_the_rule() {
    // The test client must be the instance's (untrusted) peer; behind the balancer the peer
    // is the trusted balancer, which overwrites X-Forwarded-Proto anyway.
    let app = TestApp::single(SingleInstance::PeerAddress)
        .spawn_with(&[
            ("TASKFLOW_PROFILE", "production"),
            ("TASKFLOW_JWT_SECRET", JWT_SECRET),
            ("TASKFLOW_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .await;
    let response = app.get("/api/v1/auth/me", forwarded("http")).await;
    assert_problem(response, 401, "unauthorized").await;
}
