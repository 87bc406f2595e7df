//! Rate limits (per client IP, per account, per user) and account throttling. No test waits
//! for a quota to refill: the throttling tests move a manual clock instead.
//!
//! The auth limits and the failed-login slowdown hold for the whole deployment (contract v1.1),
//! so their tests run balanced too; those where the test client poses as a trusted proxy, and
//! those of the per-user API limit (counted per instance by design), run on one instance.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Response;
use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::auth::refresh::{RefreshToken, RefreshTokenKeys};
use taskflow::core::domain::UserId;
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
    let app = TestApp::spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3")]).await;
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
    let app = TestApp::spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3")]).await;
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
    let app = TestApp::spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3")]).await;
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
    let app = TestApp::single(SingleInstance::PeerAddress)
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
    let app = TestApp::single(SingleInstance::PeerAddress)
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
    let app = TestApp::single(SingleInstance::PeerAddress)
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

#[tokio::test]
async fn a_concurrent_burst_of_wrong_passwords_gets_one_try_per_backoff_step() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[], clock.clone()).await;
    app.register("burst@example.com").await;
    for _ in 0..6 {
        let response = app
            .login_with("burst@example.com", "wrong password", HeaderMap::new())
            .await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
    // The sixth failure imposed a second. Once it is over, eight guesses at once: one is
    // tried, the others are told to wait for the next step (2 s).
    clock.advance(Duration::from_secs(1));
    let url = format!("{}/api/v1/auth/login", app.address);
    let body = json!({"email": "burst@example.com", "password": "wrong password"});
    let guesses: Vec<_> = (0..8)
        .map(|_| tokio::spawn(app.client.post(&url).json(&body).send()))
        .collect();
    let mut answers = Vec::new();
    for guess in guesses {
        let response = guess.await.expect("join").expect("request sent");
        let retry_after = header(&response, "retry-after").map(str::to_owned);
        answers.push((response.status().as_u16(), retry_after));
    }
    let tried = answers.iter().filter(|(status, _)| *status == 401).count();
    assert_eq!(tried, 1, "one guess per backoff step: {answers:?}");
    let refused = answers
        .iter()
        .filter(|answer| **answer == (429, Some("2".to_owned())))
        .count();
    assert_eq!(refused, 7, "{answers:?}");
    // The burst counted one failure: after 2 s the right password logs in, and resets.
    clock.advance(Duration::from_secs(2));
    app.login("burst@example.com").await;
    let response = app
        .login_with("burst@example.com", "wrong password", HeaderMap::new())
        .await;
    assert_problem(response, 401, "invalid_credentials").await;
}

#[tokio::test]
async fn ipv6_clients_are_counted_per_slash_64() {
    // The test client poses as the trusted proxy that reports the IPv6 addresses.
    let app = TestApp::single(SingleInstance::PeerAddress)
        .spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "3"), PROXY])
        .await;
    let one_network = [
        "2001:db8:1:2::1",
        "2001:db8:1:2::2",
        "2001:db8:1:2:ffff:ffff:ffff:fffe",
    ];
    for (i, address) in one_network.iter().enumerate() {
        let email = format!("spray{i}@example.com");
        let response = app.login_with(&email, "whatever-pass", from(address)).await;
        assert_eq!(response.status(), 401, "{address}");
    }
    // A fresh address of the same /64 (the client picks any of 2^64) is the same client.
    let rotated = app
        .login_with(
            "spray9@example.com",
            "whatever-pass",
            from("2001:db8:1:2:a1b2:c3d4:e5f6:7890"),
        )
        .await;
    assert_rate_limited(rotated, "auth-ip", 3, 20).await;
    let neighbour = app
        .login_with(
            "spray9@example.com",
            "whatever-pass",
            from("2001:db8:1:3::1"),
        )
        .await;
    assert_eq!(neighbour.status(), 401, "the next /64 is another client");
}

/// `user` presenting `refresh_token` in place of its own refresh cookie.
fn with_refresh_cookie(user: &TestUser, refresh_token: &str) -> TestUser {
    let mut forger = user.clone();
    let name = user
        .cookies
        .keys()
        .find(|name| name.ends_with("taskflow_refresh"))
        .expect("refresh cookie")
        .clone();
    forger.cookies.insert(name, refresh_token.to_owned());
    forger
}

#[tokio::test]
async fn forged_refresh_tokens_naming_a_victim_do_not_spend_the_victims_quota() {
    let app = TestApp::spawn_with(&[("TASKFLOW_API_RATE_PER_MIN", "3")]).await;
    let body = json!({"email": "victim@example.com", "password": TestUser::PASSWORD});
    let register = app
        .post("/api/v1/auth/register", &body, HeaderMap::new())
        .await;
    assert_eq!(register.status(), 201);
    let victim = TestUser::from_response("victim@example.com", &register);
    let victim_id: UserId = json_body(register).await["user"]["id"]
        .as_str()
        .expect("user id")
        .parse()
        .expect("a user id");
    // A logged-in attacker writes refresh tokens naming the victim in its own session, whose
    // CSRF token it holds; the token layout is public, only its secret part and the server's
    // tag key are not (its own keys stand in for the guess).
    let attacker = app.register("attacker@example.com").await;
    let session = RefreshToken::parse(attacker.refresh_token())
        .expect("a refresh token")
        .session_id;
    let guessed_keys = RefreshTokenKeys::random();
    let mut forged_answers = Vec::new();
    for generation in 0..6 {
        let (forged, _) = guessed_keys.mint(&victim_id, &session, generation);
        let presenter = with_refresh_cookie(&attacker, forged.expose());
        let response = app
            .post_empty("/api/v1/auth/refresh", presenter.browser_headers())
            .await;
        forged_answers.push(response.status().as_u16());
    }
    let tasks = app.get("/api/v1/tasks", victim.browser_headers()).await;
    assert_eq!(tasks.status(), 200, "the victim is not rate-limited");
    assert_eq!(
        header(&tasks, "ratelimit"),
        Some("\"api-user\";r=2;t=20"),
        "the victim's first request of the minute"
    );
    assert_eq!(forged_answers, [401; 6]);
}

#[tokio::test]
async fn a_refresh_is_charged_to_its_user_once_verified_and_never_loses_its_rotation() {
    let app = TestApp::single(SingleInstance::PerInstanceLimit)
        .spawn_with(&[("TASKFLOW_API_RATE_PER_MIN", "2")])
        .await;
    let mut user = app.register("rotating@example.com").await;
    let tasks = app.get("/api/v1/tasks", user.browser_headers()).await;
    assert_eq!(tasks.status(), 200);
    let refreshed = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(refreshed.status(), 200);
    assert_eq!(
        header(&refreshed, "ratelimit-policy"),
        Some("\"api-user\";q=2;w=60")
    );
    user.absorb(&refreshed);
    let tasks = app.get("/api/v1/tasks", user.browser_headers()).await;
    assert_rate_limited(tasks, "api-user", 2, 30).await;
    // Over its quota, a refresh still answers its rotated token: the presented one is spent
    // by then, and refusing would leave the client with a dead token.
    let before = user.refresh_token().to_owned();
    let refreshed = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(refreshed.status(), 200);
    let state = header(&refreshed, "ratelimit").expect("RateLimit");
    assert!(state.starts_with("\"api-user\";r=0;"), "{state}");
    user.absorb(&refreshed);
    assert_ne!(user.refresh_token(), before, "rotated");
    let again = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(again.status(), 200, "the rotated token is the live one");
}

#[tokio::test]
async fn refresh_is_limited_per_client_ip_before_its_token_is_read() {
    // The test client poses as the trusted proxy that reports the attacker's address.
    let app = TestApp::single(SingleInstance::PeerAddress)
        .spawn_with(&[("TASKFLOW_REFRESH_RATE_PER_MIN", "2"), PROXY])
        .await;
    let user = app.register("refresher@example.com").await;
    let attacker = "198.51.100.7";
    for _ in 0..2 {
        let response = app.post_empty("/api/v1/auth/refresh", from(attacker)).await;
        assert_problem(response, 401, "unauthorized").await;
    }
    let third = app.post_empty("/api/v1/auth/refresh", from(attacker)).await;
    assert_rate_limited(third, "refresh-ip", 2, 30).await;
    let elsewhere = with_headers(
        user.browser_headers(),
        &[("x-forwarded-for", "203.0.113.1")],
    );
    let own = app.post_empty("/api/v1/auth/refresh", elsewhere).await;
    assert_eq!(own.status(), 200, "another client is not limited");
    assert_eq!(
        header(&own, "ratelimit-policy"),
        Some("\"refresh-ip\";q=2;w=60")
    );
}
