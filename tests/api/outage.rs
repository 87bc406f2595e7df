//! Storage outages: every endpoint that needs storage answers 503 problem+json with
//! `Retry-After`, quickly and without leaking the cause; liveness stays 200, readiness 503.

use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::SystemClock;
use taskflow::core::testkit::DownStore;
use taskflow::http::Stores;

use crate::helpers::*;

async fn spawn_down() -> TestApp {
    TestApp::spawn_full(&[], Stores::single(DownStore), Arc::new(SystemClock), None).await
}

async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(header(&response, "retry-after"), Some("5"));
    let problem = assert_problem(response, 503, "storage_unavailable").await;
    assert!(!problem.to_string().contains("db-7"), "{problem}");
}

#[tokio::test]
async fn readiness_fails_while_liveness_holds() {
    let app = spawn_down().await;
    assert_eq!(
        app.get("/health/live", HeaderMap::new()).await.status(),
        200
    );
    assert_unavailable(app.get("/health/ready", HeaderMap::new()).await).await;
    // Metrics need no storage.
    let text = app.scrape(HeaderMap::new()).await;
    let series = r#"taskflow_storage_errors_total{kind="unavailable"} 1"#;
    assert!(text.lines().any(|l| l == series), "{series} in\n{text}");
}

#[tokio::test]
async fn auth_endpoints_answer_503_not_500() {
    let app = spawn_down().await;
    let body = json!({"email": "down@example.com", "password": TestUser::PASSWORD});
    assert_unavailable(
        app.post("/api/v1/auth/register", &body, HeaderMap::new())
            .await,
    )
    .await;
    assert_unavailable(
        app.post("/api/v1/auth/login", &body, HeaderMap::new())
            .await,
    )
    .await;
}

#[tokio::test]
async fn authenticated_endpoints_answer_503_when_the_session_check_cannot_run() {
    // A token the server itself signed: authentication reaches the session check and storage.
    let healthy = TestApp::spawn_with(&[("TASKFLOW_JWT_SECRET", SECRET)]).await;
    let user = healthy.register("down@example.com").await;
    let app = TestApp::spawn_full(
        &[("TASKFLOW_JWT_SECRET", SECRET)],
        Stores::single(DownStore),
        Arc::new(SystemClock),
        None,
    )
    .await;
    for path in ["/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/auth/me"] {
        assert_unavailable(app.get(path, bearer(user.access())).await).await;
    }
}

const SECRET: &str = "outage-test-key-0123456789abcdef0123456789";
