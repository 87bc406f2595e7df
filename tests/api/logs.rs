//! Logs and traces: every request runs in one `http.request` span carrying its request id,
//! route template, status, latency and user (so the events of its storage calls do too), and
//! no credential (email, password, token, CSRF token, cookie) ever reaches the output.

use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};
use taskflow::core::StorageError;
use taskflow::core::ports::StorageHealth;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::helpers::*;

/// What the subscriber wrote, both formats the servers use (JSON lines and human text).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().expect("buffer").clone()).expect("utf-8 logs")
    }

    /// The JSON lines written so far.
    fn json_lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }
}

/// Captures every event and span of this test's thread (the test runtime is single-threaded,
/// so the spawned server runs here too) at every level, until the guard drops.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    // With a single scoped subscriber alive, tracing works out a new callsite's interest from
    // the registering thread's own subscriber, so a callsite first hit by a parallel test
    // would stay disabled for this one too. A global subscriber keeps two in the reckoning.
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        let _ =
            tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    });
    let captured = Captured::default();
    let (json, human) = (captured.clone(), captured.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(move || json.clone()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || human.clone()),
        )
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    (captured, tracing::subscriber::set_default(subscriber))
}

/// The `http.request` span an event line was emitted in.
fn request_span(line: &Value) -> Option<&Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|span| span["name"] == "http.request")
}

/// The `request` log line of the request `id`.
fn request_line(lines: &[Value], id: &str) -> Value {
    lines
        .iter()
        .find(|l| l["fields"]["message"] == "request" && l["fields"]["request_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no request line for {id} in {lines:#?}"))
}

#[tokio::test]
async fn each_request_line_is_emitted_in_its_span_with_template_status_and_user() {
    let app = TestApp::spawn().await;
    let user = app.register("spans@example.com").await;
    let task = user.create_task(&app, json!({"title": "traced"})).await;
    let task_id = task["id"].as_str().expect("id");
    let me = json_body(app.get("/api/v1/auth/me", user.browser_headers()).await).await;
    let user_id = me["user"]["id"].as_str().expect("user id");

    let (captured, guard) = capture();
    let id = "req-span-1";
    let sent = with_headers(user.browser_headers(), &[("x-request-id", id)]);
    let path = format!("/api/v1/tasks/{task_id}");
    assert_eq!(app.get(&path, sent).await.status(), 200);
    let anonymous = app
        .get(
            "/api/v1/auth/me",
            headers(&[("x-request-id", "req-span-2")]),
        )
        .await;
    assert_eq!(anonymous.status(), 401);
    let login = app
        .login_with(
            "spans@example.com",
            TestUser::PASSWORD,
            headers(&[("x-request-id", "req-span-3")]),
        )
        .await;
    assert_eq!(login.status(), 200);
    drop(guard);

    let lines = captured.json_lines();
    let line = request_line(&lines, id);
    let span = request_span(&line).expect("the request line is in the request's span");
    assert_eq!(span["request_id"], id);
    assert_eq!(
        span["route"], "/api/v1/tasks/{id}",
        "the template, not the path"
    );
    assert_eq!(span["method"], "GET");
    assert_eq!(span["status"], 200);
    assert_eq!(span["user_id"], user_id);
    assert!(span["latency_ms"].as_f64().is_some(), "{span}");
    assert!(!span.to_string().contains(task_id), "{span}");
    let line = request_line(&lines, "req-span-2");
    let span = request_span(&line).expect("span");
    assert_eq!(span["status"], 401);
    assert!(
        span.get("user_id").is_none(),
        "no user before authentication: {span}"
    );
    let line = request_line(&lines, "req-span-3");
    let span = request_span(&line).expect("span");
    assert_eq!(
        span["user_id"], user_id,
        "a login names its user once it succeeds"
    );
}

/// Readiness that logs each probe, standing for any storage call that emits events.
struct LoggedHealth(Arc<dyn StorageHealth>);

#[async_trait]
impl StorageHealth for LoggedHealth {
    async fn ping(&self) -> Result<(), StorageError> {
        tracing::info!("storage ping");
        self.0.ping().await
    }
}

#[tokio::test]
async fn storage_events_belong_to_the_request_that_caused_them() {
    let mut stores = test_stores().await;
    stores.health = Arc::new(LoggedHealth(stores.health.clone()));
    let app = TestApp::spawn_full(&[], stores, Arc::new(taskflow::core::SystemClock), None).await;
    let (captured, guard) = capture();
    let ready = app
        .get("/health/ready", headers(&[("x-request-id", "req-ping-1")]))
        .await;
    assert_eq!(ready.status(), 200);
    drop(guard);
    let lines = captured.json_lines();
    let ping = lines
        .iter()
        .find(|l| l["fields"]["message"] == "storage ping")
        .unwrap_or_else(|| panic!("no storage event in {lines:#?}"));
    let span = request_span(ping).expect("the storage event is in the request's span");
    assert_eq!(span["request_id"], "req-ping-1");
    assert_eq!(span["route"], "/health/ready");
}

/// Every credential a session handed out (cookie values, body tokens).
fn credentials_of(user: &TestUser) -> Vec<String> {
    user.cookies.values().cloned().collect()
}

#[tokio::test]
async fn credentials_never_reach_the_logs() {
    const EMAIL: &str = "secret-logs@example.com";
    let app = TestApp::spawn().await;
    let (captured, guard) = capture();
    let id = |n: u32| format!("req-secret-{n}");
    let sent = |n: u32| headers(&[("x-request-id", &id(n))]);
    let mut secrets = vec![EMAIL.to_owned(), TestUser::PASSWORD.to_owned()];

    let body = json!({"email": EMAIL, "password": TestUser::PASSWORD});
    let registered = app.post("/api/v1/auth/register", &body, sent(1)).await;
    assert_eq!(registered.status(), 201);
    let mut user = TestUser::from_response(EMAIL, &registered);
    secrets.extend(credentials_of(&user));
    let login = app.login_with(EMAIL, TestUser::PASSWORD, sent(2)).await;
    assert_eq!(login.status(), 200);
    user.absorb(&login);
    secrets.extend(credentials_of(&user));
    let wrong = app.login_with(EMAIL, "a wrong password!", sent(3)).await;
    assert_eq!(wrong.status(), 401);
    secrets.push("a wrong password!".to_owned());

    let refresh_headers = with_headers(user.browser_headers(), &[("x-request-id", &id(4))]);
    let refreshed = app
        .post_empty("/api/v1/auth/refresh", refresh_headers)
        .await;
    assert_eq!(refreshed.status(), 200);
    user.absorb(&refreshed);
    secrets.extend(credentials_of(&user));

    let grant = json!({"grant_type": "password", "email": EMAIL, "password": TestUser::PASSWORD});
    let tokens = json_body(app.post("/api/v1/auth/token", &grant, sent(5)).await).await;
    for field in ["access_token", "refresh_token"] {
        secrets.push(tokens[field].as_str().expect(field).to_owned());
    }
    let rotate = json!({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]});
    let rotated = json_body(app.post("/api/v1/auth/token", &rotate, sent(6)).await).await;
    secrets.push(
        rotated["refresh_token"]
            .as_str()
            .expect("rotated")
            .to_owned(),
    );
    let with_bearer = with_headers(
        bearer(rotated["access_token"].as_str().expect("access")),
        &[("x-request-id", &id(7))],
    );
    assert_eq!(app.get("/api/v1/auth/me", with_bearer).await.status(), 200);
    secrets.push(rotated["access_token"].as_str().expect("access").to_owned());

    let logout_headers = with_headers(user.browser_headers(), &[("x-request-id", &id(8))]);
    let logout = app
        .request(Method::POST, "/api/v1/auth/logout", None, logout_headers)
        .await;
    assert_eq!(logout.status(), 204);
    drop(guard);

    let text = captured.text();
    for n in 1..=8 {
        assert!(text.contains(&id(n)), "request {n} was logged:\n{text}");
    }
    assert!(secrets.len() >= 10, "{secrets:?}");
    for secret in &secrets {
        assert!(
            secret.len() >= 8,
            "a credential worth looking for: {secret:?}"
        );
        assert!(
            !text.contains(secret.as_str()),
            "{secret} in the logs:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_made_up_method_is_logged_as_other() {
    let app = TestApp::spawn().await;
    let (captured, guard) = capture();
    let method = Method::from_bytes(b"MADEUPMETHOD").expect("a token");
    let sent = headers(&[("x-request-id", "req-method-1")]);
    let refused = app.request(method, "/api/v1/tasks", None, sent).await;
    assert_eq!(refused.status(), 405);
    let known = app
        .get("/health/live", headers(&[("x-request-id", "req-method-2")]))
        .await;
    assert_eq!(known.status(), 200);
    drop(guard);
    let lines = captured.json_lines();
    let span = |id: &str| {
        request_span(&request_line(&lines, id))
            .cloned()
            .expect("span")
    };
    assert_eq!(span("req-method-1")["method"], "other");
    assert_eq!(span("req-method-2")["method"], "GET");
    let text = captured.text();
    assert!(!text.contains("MADEUPMETHOD"), "{text}");
}
