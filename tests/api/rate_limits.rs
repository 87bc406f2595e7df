//! Rate limits (per client IP, per account, per user) and account throttling. No test waits
//! for a quota to refill: the throttling test moves a manual clock instead.
//!
//! The quota tests run on one instance in every topology: the per-user API limit is counted
//! per instance by design, and the auth limits are per instance until the change that makes
//! them hold for the deployment (contract v1.1); then those run balanced. The failed-login
//! slowdown is kept in storage and runs balanced already.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::{Clock, ManualClock, SystemClock};

use crate::helpers::*;

const PROXY: (&str, &str) = ("TASKFLOW_TRUSTED_PROXIES", "127.0.0.1");

/// Headers of a request forwarded by the trusted proxy for `client`.
fn from(client: &str) -> HeaderMap {
    headers(&[("x-forwarded-for", client)])
}

/// Asserts a 429 `rate_limited` of `policy` with `quota`, waiting at most `max_wait` seconds.
async fn assert_rate_limited(response: Response, policy: &str, quota: u32, max_wait: u64) {
    assert_eq!(response.status(), 429, "{policy}");
    let retry_after: u64 = header(&response, "retry-after")
        .expect("Retry-After")
        .parse()
        .expect("integer seconds");
    assert!(
        (1..=max_wait).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_eq!(
        header(&response, "ratelimit-policy"),
        Some(format!("\"{policy}\";q={quota};w=60").as_str())
    );
    let state = header(&response, "ratelimit")
        .expect("RateLimit")
        .to_owned();
    let prefix = format!("\"{policy}\";r=0;t=");
    let reset: u64 = state
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("RateLimit: {state}"))
        .parse()
        .expect("t seconds");
    assert!(reset >= retry_after, "RateLimit: {state}");
    assert_problem(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn the_fourth_login_from_one_ip_is_429() {
    let app = TestApp::single(SingleInstance::AuthLimitsPerInstance)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3")])
        .await;
    for i in 0..3 {
        let email = format!("someone{i}@example.com");
        let response = app
            .login_with(&email, "whatever-pass", HeaderMap::new())
            .await;
        assert_eq!(response.status(), 401, "attempt {i}");
    }
    let fourth = app
        .login_with("someone3@example.com", "whatever-pass", HeaderMap::new())
        .await;
    assert_rate_limited(fourth, "auth-ip", 3, 20).await;
}

#[tokio::test]
async fn register_login_and_token_share_the_ip_quota() {
    let app = TestApp::single(SingleInstance::AuthLimitsPerInstance)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3")])
        .await;
    app.register("shared@example.com").await;
    app.login("shared@example.com").await;
    app.token_grant("shared@example.com").await;
    let body = json!({"email": "fresh@example.com", "password": TestUser::PASSWORD});
    let register = app
        .post("/api/v1/auth/register", &body, HeaderMap::new())
        .await;
    assert_rate_limited(register, "auth-ip", 3, 20).await;
}

#[tokio::test]
async fn a_forwarded_for_header_from_an_untrusted_peer_does_not_escape_the_ip_limit() {
    let app = TestApp::single(SingleInstance::AuthLimitsPerInstance)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3")])
        .await;
    for i in 0..3 {
        let email = format!("spoof{i}@example.com");
        let response = app
            .login_with(&email, "whatever-pass", from(&format!("198.51.100.{i}")))
            .await;
        assert_eq!(response.status(), 401);
    }
    let response = app
        .login_with("spoof9@example.com", "whatever-pass", from("198.51.100.9"))
        .await;
    assert_rate_limited(response, "auth-ip", 3, 20).await;
}

#[tokio::test]
async fn one_account_is_limited_whatever_the_client_ip() {
    let app = TestApp::single(SingleInstance::AuthLimitsPerInstance)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3"), PROXY])
        .await;
    let body = json!({"email": "target@example.com", "password": TestUser::PASSWORD});
    let register = app
        .post("/api/v1/auth/register", &body, from("203.0.113.1"))
        .await;
    assert_eq!(register.status(), 201);
    for ip in ["203.0.113.2", "203.0.113.3"] {
        let response = app
            .login_with("target@example.com", TestUser::PASSWORD, from(ip))
            .await;
        assert_eq!(response.status(), 200, "{ip}");
    }
    let fourth = app
        .login_with(
            "target@example.com",
            TestUser::PASSWORD,
            from("203.0.113.4"),
        )
        .await;
    assert_rate_limited(fourth, "auth-account", 3, 20).await;
    let other = json!({"email": "other@example.com", "password": TestUser::PASSWORD});
    let response = app
        .post("/api/v1/auth/register", &other, from("203.0.113.5"))
        .await;
    assert_eq!(response.status(), 201, "another account is not limited");
}

#[tokio::test]
async fn an_unknown_email_is_limited_exactly_like_a_known_one() {
    let app = TestApp::single(SingleInstance::AuthLimitsPerInstance)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3"), PROXY])
        .await;
    for i in 0..3 {
        let response = app
            .login_with(
                "ghost@example.com",
                "whatever-pass",
                from(&format!("203.0.113.{i}")),
            )
            .await;
        assert_eq!(response.status(), 401);
    }
    let fourth = app
        .login_with("ghost@example.com", "whatever-pass", from("203.0.113.9"))
        .await;
    assert_rate_limited(fourth, "auth-account", 3, 20).await;
}

#[tokio::test]
async fn admitted_requests_report_their_quota() {
    let app = TestApp::single(SingleInstance::AuthLimitsPerInstance)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "10"), PROXY])
        .await;
    let body = json!({"email": "quota@example.com", "password": TestUser::PASSWORD});
    let register = app
        .post("/api/v1/auth/register", &body, from("203.0.113.1"))
        .await;
    assert_eq!(
        header(&register, "ratelimit-policy"),
        Some("\"auth-ip\";q=10;w=60")
    );
    assert_eq!(header(&register, "ratelimit"), Some("\"auth-ip\";r=9;t=6"));
    let user = TestUser::from_response("quota@example.com", &register);
    // Second request of the account, first of this IP: the account is the tighter limit.
    let login = app
        .login_with("quota@example.com", TestUser::PASSWORD, from("203.0.113.2"))
        .await;
    assert_eq!(
        header(&login, "ratelimit-policy"),
        Some("\"auth-account\";q=10;w=60")
    );
    assert_eq!(
        header(&login, "ratelimit"),
        Some("\"auth-account\";r=8;t=12")
    );
    let tasks = app.get("/api/v1/tasks", user.browser_headers()).await;
    assert_eq!(
        header(&tasks, "ratelimit-policy"),
        Some("\"api-user\";q=600;w=60")
    );
    assert_eq!(header(&tasks, "ratelimit"), Some("\"api-user\";r=599;t=1"));
}

#[tokio::test]
async fn the_sixth_authenticated_request_in_a_minute_is_429() {
    let app = TestApp::single(SingleInstance::PerInstanceLimit)
        .spawn_with(&[("TASKFLOW_API_RATE_PER_MIN", "5")])
        .await;
    let user = app.register("busy@example.com").await;
    let idle = app.register("idle@example.com").await;
    let task = user.create_task(&app, json!({"title": "one"})).await;
    let id = task["id"].as_str().expect("id");
    assert_eq!(user.get_task(&app, id).await.status(), 200);
    assert_eq!(
        app.get("/api/v1/tasks", user.browser_headers())
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/tasks/stats", user.browser_headers())
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/auth/me", user.browser_headers())
            .await
            .status(),
        200
    );
    let sixth = app.get("/api/v1/tasks", user.browser_headers()).await;
    assert_rate_limited(sixth, "api-user", 5, 12).await;
    let create = app
        .post(
            "/api/v1/tasks",
            &json!({"title": "two"}),
            user.browser_headers(),
        )
        .await;
    assert_eq!(create.status(), 429, "writes are limited too");
    let other = app.get("/api/v1/tasks", idle.browser_headers()).await;
    assert_eq!(other.status(), 200, "the quota is per user");
}

#[tokio::test]
async fn repeated_failed_logins_slow_the_account_down_for_every_ip_but_not_for_good() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[PROXY], clock.clone()).await;
    let body = json!({"email": "victim@example.com", "password": TestUser::PASSWORD});
    let register = app
        .post("/api/v1/auth/register", &body, from("203.0.113.1"))
        .await;
    assert_eq!(register.status(), 201);
    for i in 0..6 {
        let response = app
            .login_with(
                "victim@example.com",
                "wrong password",
                from(&format!("198.51.100.{i}")),
            )
            .await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
    for ip in ["198.51.100.50", "192.0.2.77"] {
        let response = app
            .login_with("victim@example.com", TestUser::PASSWORD, from(ip))
            .await;
        assert_eq!(response.status(), 429, "right password from {ip}");
        assert_eq!(
            header(&response, "retry-after"),
            Some("1"),
            "one second after six failures"
        );
        assert_eq!(
            header(&response, "ratelimit-policy"),
            Some("\"login-failures\";q=5;w=3600")
        );
        assert_eq!(
            header(&response, "ratelimit"),
            Some("\"login-failures\";r=0;t=1")
        );
        assert_problem(response, 429, "rate_limited").await;
    }
    let grant = json!({"grant_type": "password", "email": "victim@example.com", "password": TestUser::PASSWORD});
    let token = app
        .post("/api/v1/auth/token", &grant, from("192.0.2.78"))
        .await;
    assert_problem(token, 429, "rate_limited").await;
    clock.advance(Duration::from_secs(2));
    let response = app
        .login_with("victim@example.com", TestUser::PASSWORD, from("192.0.2.79"))
        .await;
    assert_eq!(
        response.status(),
        200,
        "the account is slowed down, not locked"
    );
}
