//! The auth limits hold for a whole deployment (issue 17): three instances over one store (one
//! MongoDB database with `TASKFLOW_TEST_STORE=mongo`, each instance with its own client and
//! pool as separate processes have; otherwise one embedded store shared in process), the
//! client going round-robin over their addresses itself, as a balancer without stickiness
//! would send it. Before, each instance counted its own quota: three instances, three quotas.
//!
//! The instances share a manual clock, standing still unless a test moves it, so a quota of 5
//! admits exactly 5 however long the requests take (GCRA adds one every 12 s of that clock).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::testkit::DownStore;
use taskflow::core::{Clock, ManualClock, SystemClock};
use taskflow::http::Stores;

use crate::helpers::*;

const INSTANCES: usize = 3;
const QUOTA: (&str, &str) = ("TASKFLOW_AUTH_RATE_PER_MIN", "5");
const PROXY: (&str, &str) = ("TASKFLOW_TRUSTED_PROXIES", "127.0.0.1");

/// The stores of `n` instances of one deployment (see the module docs).
async fn deployment_stores(n: usize) -> Vec<Stores> {
    match std::env::var("TASKFLOW_TEST_STORE").as_deref() {
        Ok("mongo") => {
            let uri = std::env::var("TASKFLOW_TEST_MONGODB_URI")
                .expect("TASKFLOW_TEST_STORE=mongo needs TASKFLOW_TEST_MONGODB_URI");
            let database = format!(
                "taskflow_api_{}",
                taskflow::core::domain::TaskId::generate()
            );
            let mut stores = Vec::new();
            for _ in 0..n {
                let config =
                    taskflow::mongo::MongoConfig::new(uri.clone()).with_database(database.clone());
                let store = taskflow::mongo::MongoStore::connect(config)
                    .await
                    .expect("MongoDB");
                stores.push(Stores::single(store));
            }
            stores
        }
        _ => vec![Stores::memory(); n],
    }
}

/// `INSTANCES` servers of one deployment with `vars`, on `clock`.
async fn deployment(vars: &[(&str, &str)], clock: &Arc<ManualClock>) -> Vec<TestApp> {
    let config = TestApp::config(vars);
    let mut instances = Vec::new();
    for stores in deployment_stores(INSTANCES).await {
        let clock: Arc<dyn Clock> = clock.clone();
        let app = config.app_with(stores, clock, None).expect("app");
        instances.push(TestApp::serve(Adapter::from_env(), app).await);
    }
    instances
}

/// Status, `RateLimit-Policy` and `Retry-After` of an answer.
fn summary(response: &reqwest::Response) -> (u16, Option<String>, Option<String>) {
    let owned = |name| header(response, name).map(str::to_owned);
    (
        response.status().as_u16(),
        owned("ratelimit-policy"),
        owned("retry-after"),
    )
}

/// What a rejection by `policy` (quota 5, so one back every 12 s) looks like.
fn rejected(policy: &str) -> (u16, Option<String>, Option<String>) {
    (
        429,
        Some(format!("\"{policy}\";q=5;w=60")),
        Some("12".to_owned()),
    )
}

#[tokio::test]
async fn one_client_registering_through_three_instances_gets_one_quota() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let instances = deployment(&[QUOTA], &clock).await;
    let mut answers = Vec::new();
    for i in 0..15 {
        let body = json!({"email": format!("spam{i}@example.com"), "password": TestUser::PASSWORD});
        let response = instances[i % INSTANCES]
            .post("/api/v1/auth/register", &body, HeaderMap::new())
            .await;
        answers.push(summary(&response));
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses[..5], [201; 5], "{answers:?}");
    for answer in &answers[5..] {
        assert_eq!(*answer, rejected("auth-ip"), "{answers:?}");
    }
    // GCRA: one more every 12 s, through whichever instance it arrives.
    clock.advance(Duration::from_secs(12));
    let body = json!({"email": "late@example.com", "password": TestUser::PASSWORD});
    let late = instances[2]
        .post("/api/v1/auth/register", &body, HeaderMap::new())
        .await;
    assert_eq!(late.status(), 201);
    let body = json!({"email": "later@example.com", "password": TestUser::PASSWORD});
    let later = instances[0]
        .post("/api/v1/auth/register", &body, HeaderMap::new())
        .await;
    assert_eq!(summary(&later), rejected("auth-ip"));
    assert_problem(later, 429, "rate_limited").await;
}

#[tokio::test]
async fn one_account_logging_in_through_three_instances_from_many_ips_gets_one_quota() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let instances = deployment(&[QUOTA, PROXY], &clock).await;
    let email = "target@example.com";
    let body = json!({"email": email, "password": TestUser::PASSWORD});
    let register = instances[0]
        .post(
            "/api/v1/auth/register",
            &body,
            headers(&[("x-forwarded-for", "203.0.113.1")]),
        )
        .await;
    assert_eq!(register.status(), 201, "the account's first request");
    let mut answers = Vec::new();
    for i in 0..12 {
        let from = headers(&[("x-forwarded-for", &format!("198.51.100.{i}"))]);
        let app = &instances[i % INSTANCES];
        // Login and the token grant count alike.
        let response = if i % 2 == 0 {
            app.login_with(email, TestUser::PASSWORD, from).await
        } else {
            let grant =
                json!({"grant_type": "password", "email": email, "password": TestUser::PASSWORD});
            app.post("/api/v1/auth/token", &grant, from).await
        };
        answers.push(summary(&response));
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses[..4], [200; 4], "{answers:?}");
    for answer in &answers[4..] {
        assert_eq!(*answer, rejected("auth-account"), "{answers:?}");
    }
}

#[tokio::test]
async fn an_ipv6_client_rotating_addresses_of_its_slash_64_over_instances_gets_one_quota() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let instances = deployment(&[QUOTA, PROXY], &clock).await;
    let mut answers = Vec::new();
    for i in 0..9 {
        let from = headers(&[(
            "x-forwarded-for",
            &format!("2001:db8:7:7:{i:x}::{:x}", i * 7 + 1),
        )]);
        let email = format!("guess{i}@example.com");
        let response = instances[i % INSTANCES]
            .login_with(&email, "wrong password", from)
            .await;
        answers.push(summary(&response));
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses[..5], [401; 5], "{answers:?}");
    for answer in &answers[5..] {
        assert_eq!(*answer, rejected("auth-ip"), "{answers:?}");
    }
    let neighbour = headers(&[("x-forwarded-for", "2001:db8:7:8::1")]);
    let response = instances[1]
        .login_with("guess9@example.com", "wrong password", neighbour)
        .await;
    assert_eq!(response.status(), 401, "the next /64 is another client");
}

#[tokio::test]
async fn auth_requests_are_refused_with_503_when_the_limits_cannot_be_counted() {
    let mut stores = Stores::memory();
    stores.rate_limits = Arc::new(DownStore);
    let users = stores.users.clone();
    let app = TestApp::spawn_full(&[], stores, Arc::new(SystemClock), None).await;
    let email = "uncounted@example.com";
    let body = json!({"email": email, "password": TestUser::PASSWORD});
    let grant = json!({"grant_type": "password", "email": email, "password": TestUser::PASSWORD});
    for (path, body) in [
        ("/api/v1/auth/register", &body),
        ("/api/v1/auth/login", &body),
        ("/api/v1/auth/token", &grant),
    ] {
        let response = app.post(path, body, HeaderMap::new()).await;
        assert_eq!(header(&response, "retry-after"), Some("5"), "{path}");
        let problem = assert_problem(response, 503, "storage_unavailable").await;
        assert!(!problem.to_string().contains("db-7"), "{problem}");
    }
    let parsed = taskflow::core::domain::Email::parse(email).expect("valid");
    let user = users.find_user_by_email(&parsed).await.expect("find");
    assert!(user.is_none(), "nothing was registered uncounted");
}
