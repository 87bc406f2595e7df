//! Operations and the headers of every response: health, router problems, request ids,
//! `nosniff`, HSTS, CORS.

use reqwest::header::HeaderMap;
use reqwest::{Method, Response};
use serde_json::json;

use std::sync::Arc;
use std::time::Duration;

use taskflow::core::{Clock as _, ManualClock, SystemClock};

use crate::helpers::*;

fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

fn assert_common_headers(response: &Response, what: &str) {
    assert_eq!(
        header(response, "x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    let id = header(response, "x-request-id").unwrap_or_default();
    assert!(is_sane_request_id(id), "{what}: X-Request-Id {id:?}");
}

async fn preflight(app: &TestApp, origin: &str, method: &str, request_headers: &str) -> Response {
    let headers = headers(&[
        ("origin", origin),
        ("access-control-request-method", method),
        ("access-control-request-headers", request_headers),
    ]);
    app.request(Method::OPTIONS, "/api/v1/tasks", None, headers)
        .await
}

#[tokio::test]
async fn health_live_and_ready_answer_200_with_the_memory_store() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.get(path, HeaderMap::new()).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_common_headers(&response, path);
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    for path in [
        "/nope",
        "/api/v1/nothing",
        "/api/v2/tasks",
        "/api/v1/tasks/a/b",
    ] {
        let response = app.get(path, HeaderMap::new()).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_problem(response, 404, "route_not_found").await;
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_with_allow() {
    let app = TestApp::spawn().await;
    let cases = [
        (Method::DELETE, "/api/v1/tasks", "GET, POST"),
        (
            Method::PUT,
            "/api/v1/tasks/0123456789abcdef01234567",
            "GET, PATCH, DELETE",
        ),
        (Method::POST, "/api/v1/tasks/stats", "GET"),
        (Method::GET, "/api/v1/auth/login", "POST"),
        (Method::DELETE, "/api/v1/auth/me", "GET"),
        (Method::POST, "/health/live", "GET"),
    ];
    for (method, path, allow) in cases {
        let response = app
            .request(method.clone(), path, None, HeaderMap::new())
            .await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(header(&response, "allow"), Some(allow), "{method} {path}");
        assert_problem(response, 405, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn every_kind_of_response_carries_a_request_id_and_nosniff() {
    let app = TestApp::spawn().await;
    let user = app.register("headers@example.com").await;
    let task = user.create_task(&app, json!({"title": "t"})).await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("id"));
    let not_modified = with_headers(user.browser_headers(), &[("if-none-match", "\"v1\"")]);
    let responses = [
        ("200", app.get(&path, user.browser_headers()).await),
        ("304", app.get(&path, not_modified).await),
        ("401", app.get("/api/v1/auth/me", HeaderMap::new()).await),
        ("404 router", app.get("/nowhere", HeaderMap::new()).await),
        (
            "405",
            app.request(Method::PUT, "/api/v1/tasks", None, HeaderMap::new())
                .await,
        ),
        (
            "preflight",
            preflight(&app, ALLOWED_ORIGIN, "POST", "content-type").await,
        ),
        (
            "refused preflight",
            preflight(&app, "https://evil.example", "POST", "").await,
        ),
        (
            "204",
            user.delete_task(&app, task["id"].as_str().expect("id"))
                .await,
        ),
    ];
    for (what, response) in &responses {
        assert_common_headers(response, what);
    }
    assert_eq!(responses[1].1.status(), 304);
    assert_eq!(responses[7].1.status(), 204);
}

#[tokio::test]
async fn a_sane_client_request_id_is_echoed_everywhere() {
    let app = TestApp::spawn().await;
    let id = "client-42.trace_x:1";
    let sent = headers(&[("x-request-id", id)]);
    let live = app.get("/health/live", sent.clone()).await;
    assert_eq!(header(&live, "x-request-id"), Some(id));
    let problem = app.get("/api/v1/auth/me", sent.clone()).await;
    assert_eq!(header(&problem, "x-request-id"), Some(id));
    assert_eq!(
        assert_problem(problem, 401, "unauthorized").await["request_id"],
        id
    );
    let routed = app.get("/nowhere", sent.clone()).await;
    assert_eq!(
        assert_problem(routed, 404, "route_not_found").await["request_id"],
        id
    );
    let with_preflight = with_headers(
        sent,
        &[
            ("origin", ALLOWED_ORIGIN),
            ("access-control-request-method", "GET"),
        ],
    );
    let options = app
        .request(Method::OPTIONS, "/api/v1/tasks", None, with_preflight)
        .await;
    assert_eq!(header(&options, "x-request-id"), Some(id));
}

#[tokio::test]
async fn an_insane_request_id_is_replaced_by_a_generated_one() {
    let app = TestApp::spawn().await;
    let too_long = "x".repeat(65);
    for insane in ["<script>", "a b", "line\tbreak", "x;y", too_long.as_str()] {
        let response = app
            .get("/api/v1/auth/me", headers(&[("x-request-id", insane)]))
            .await;
        let echoed = header(&response, "x-request-id").expect("id").to_owned();
        assert_ne!(echoed, insane);
        assert!(is_sane_request_id(&echoed), "{echoed:?}");
        assert_eq!(
            assert_problem(response, 401, "unauthorized").await["request_id"],
            echoed
        );
    }
    let a = app.get("/health/live", HeaderMap::new()).await;
    let b = app.get("/health/live", HeaderMap::new()).await;
    assert_ne!(
        header(&a, "x-request-id"),
        header(&b, "x-request-id"),
        "generated ids are unique"
    );
}

#[tokio::test]
async fn hsts_is_sent_in_the_production_profile_only() {
    let production = TestApp::spawn_with(&[
        ("TASKFLOW_PROFILE", "production"),
        ("TASKFLOW_JWT_SECRET", JWT_SECRET),
        // Production needs HTTPS; a proxy that is not the test client terminates it.
        ("TASKFLOW_TRUSTED_PROXIES", "10.0.0.0/8"),
    ])
    .await;
    let response = production.get("/health/live", HeaderMap::new()).await;
    let hsts = header(&response, "strict-transport-security").expect("HSTS in production");
    assert!(hsts.starts_with("max-age="), "{hsts}");
    let problem = production.get("/nowhere", HeaderMap::new()).await;
    assert!(
        header(&problem, "strict-transport-security").is_some(),
        "on problems too"
    );
    let development = TestApp::spawn().await;
    let response = development.get("/health/live", HeaderMap::new()).await;
    assert_eq!(header(&response, "strict-transport-security"), None);
}

#[tokio::test]
async fn a_preflight_from_the_allowed_origin_is_granted_with_credentials() {
    let app = TestApp::spawn().await;
    let response = preflight(
        &app,
        ALLOWED_ORIGIN,
        "PATCH",
        "content-type, x-csrf-token, if-match",
    )
    .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(
        header(&response, "access-control-allow-credentials"),
        Some("true")
    );
    let methods = header(&response, "access-control-allow-methods").expect("methods");
    for method in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = header(&response, "access-control-allow-headers").expect("headers");
    for name in ["content-type", "x-csrf-token", "if-match", "authorization"] {
        assert!(allowed.to_ascii_lowercase().contains(name), "{allowed}");
    }
    let vary = header(&response, "vary").expect("vary");
    assert!(vary.contains("Origin"), "{vary}");
}

#[tokio::test]
async fn a_preflight_from_any_other_origin_is_not_granted() {
    let app = TestApp::spawn().await;
    let refused = [
        ("https://evil.example.com", "POST", "content-type"),
        ("null", "POST", "content-type"),
        ("http://app.example.com", "GET", ""),
        ("https://app.example.com.evil.com", "GET", ""),
        (ALLOWED_ORIGIN, "PUT", "content-type"),
        (ALLOWED_ORIGIN, "POST", "x-evil"),
    ];
    for (origin, method, request_headers) in refused {
        let response = preflight(&app, origin, method, request_headers).await;
        let what = format!("{origin} {method} [{request_headers}]");
        assert_eq!(response.status(), 204, "{what}");
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{what}"
        );
        assert_eq!(
            header(&response, "access-control-allow-credentials"),
            None,
            "{what}"
        );
        assert!(
            header(&response, "vary").is_some_and(|v| v.contains("Origin")),
            "{what}"
        );
    }
}

#[tokio::test]
async fn actual_responses_share_credentials_with_the_allowed_origin_only() {
    let app = TestApp::spawn().await;
    let allowed = headers(&[("origin", ALLOWED_ORIGIN)]);
    for path in ["/health/live", "/api/v1/auth/me", "/nowhere"] {
        let response = app.get(path, allowed.clone()).await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            Some(ALLOWED_ORIGIN),
            "{path}"
        );
        assert_eq!(
            header(&response, "access-control-allow-credentials"),
            Some("true"),
            "{path}"
        );
        let vary: Vec<&str> = response
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().expect("vary"))
            .collect();
        assert!(
            vary.iter().any(|v| v.contains("Origin")),
            "{path}: {vary:?}"
        );
    }
    for origin in ["https://evil.example.com", "null"] {
        let response = app
            .get("/health/live", headers(&[("origin", origin)]))
            .await;
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            None,
            "{origin}"
        );
        assert_eq!(
            header(&response, "access-control-allow-credentials"),
            None,
            "{origin}"
        );
        assert!(
            header(&response, "vary").is_some_and(|v| v.contains("Origin")),
            "{origin}"
        );
    }
    let none = app.get("/health/live", HeaderMap::new()).await;
    assert_eq!(header(&none, "access-control-allow-origin"), None);
}

/// The value of the series `series` (name and labels exactly as exposed), if exposed.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// The deployment's metrics (every instance's, summed, in the balanced topology).
async fn scrape(app: &TestApp) -> String {
    app.scrape(HeaderMap::new()).await
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_status_and_auth_event() {
    let app = TestApp::spawn().await;
    let user = app.register("metrics@example.com").await;
    let task = user.create_task(&app, json!({"title": "counted"})).await;
    let id = task["id"].as_str().expect("id");
    assert_eq!(user.get_task(&app, id).await.status(), 200);
    let wrong = app
        .login_with("metrics@example.com", "wrong password", HeaderMap::new())
        .await;
    assert_eq!(wrong.status(), 401);
    let text = scrape(&app).await;
    for line in [
        r#"taskflow_http_requests_total{route="/api/v1/tasks/{id}",method="GET",status="200"} 1"#,
        r#"taskflow_http_requests_total{route="/api/v1/tasks",method="POST",status="201"} 1"#,
        r#"taskflow_auth_events_total{event="register"} 1"#,
        r#"taskflow_auth_events_total{event="login_failure"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    assert!(text.contains("taskflow_http_request_duration_seconds_bucket{"));
    let open = metric(&text, r#"taskflow_storage_pool_connections{state="open"}"#);
    if std::env::var("TASKFLOW_TEST_STORE").as_deref() == Ok("mongo") {
        assert!(open.expect("pool gauge on MongoDB") >= 1.0, "{text}");
        let waits = metric(&text, "taskflow_storage_pool_wait_seconds_count");
        assert!(waits.expect("pool wait on MongoDB") >= 1.0, "{text}");
        for command in ["insert", "find"] {
            let series = format!(
                r#"taskflow_storage_command_duration_seconds_count{{command="{command}",outcome="succeeded"}}"#
            );
            assert!(
                metric(&text, &series).is_some_and(|n| n >= 1.0),
                "no {series} in\n{text}"
            );
        }
    } else {
        assert_eq!(open, None, "the embedded store has no pool");
        assert!(
            !text.contains("taskflow_storage_command_duration_seconds"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn metrics_count_every_kind_of_auth_event() {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with_clock(&[], clock.clone()).await;
    let mut user = app.register("events@example.com").await;
    let taken = json!({"email": "events@example.com", "password": TestUser::PASSWORD});
    let again = app
        .post("/api/v1/auth/register", &taken, HeaderMap::new())
        .await;
    assert_eq!(again.status(), 409);
    user.absorb(
        &app.login_with("events@example.com", TestUser::PASSWORD, HeaderMap::new())
            .await,
    );
    let grant = app.token_grant("events@example.com").await;
    let stolen = grant["refresh_token"].clone();
    let rotate =
        |token: &serde_json::Value| json!({"grant_type": "refresh_token", "refresh_token": token});
    let rotated = app
        .post("/api/v1/auth/token", &rotate(&stolen), HeaderMap::new())
        .await;
    assert_eq!(rotated.status(), 200);
    clock.advance(Duration::from_secs(11));
    let replay = app
        .post("/api/v1/auth/token", &rotate(&stolen), HeaderMap::new())
        .await;
    assert_eq!(replay.status(), 401);
    let refreshed = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(refreshed.status(), 200);
    user.absorb(&refreshed);
    let no_csrf = app
        .post_empty("/api/v1/auth/refresh", user.cookie_headers())
        .await;
    assert_eq!(no_csrf.status(), 403);
    let no_cookie = app
        .post_empty("/api/v1/auth/refresh", HeaderMap::new())
        .await;
    assert_eq!(no_cookie.status(), 401);
    assert_eq!(
        app.get("/api/v1/auth/me", HeaderMap::new()).await.status(),
        401
    );
    let logout = app
        .post_empty("/api/v1/auth/logout", user.browser_headers())
        .await;
    assert_eq!(logout.status(), 204);
    let other = app.login("events@example.com").await;
    let all = app
        .post_empty("/api/v1/auth/logout-all", other.browser_headers())
        .await;
    assert_eq!(all.status(), 204);
    app.register("throttled@example.com").await;
    for _ in 0..6 {
        let wrong = app
            .login_with("throttled@example.com", "wrong password", HeaderMap::new())
            .await;
        assert_eq!(wrong.status(), 401);
    }
    let throttled = app
        .login_with(
            "throttled@example.com",
            TestUser::PASSWORD,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(throttled.status(), 429);

    let text = scrape(&app).await;
    for (event, count) in [
        ("register", 2.0),
        ("register_email_taken", 1.0),
        ("login_success", 3.0),
        ("login_failure", 6.0),
        ("login_throttled", 1.0),
        ("refresh", 2.0),
        ("refresh_failure", 1.0),
        ("refresh_reuse_detected", 1.0),
        ("logout", 1.0),
        ("logout_all", 1.0),
        ("csrf_rejected", 1.0),
        ("access_rejected", 1.0),
    ] {
        let series = format!(r#"taskflow_auth_events_total{{event="{event}"}}"#);
        assert_eq!(metric(&text, &series), Some(count), "{series} in\n{text}");
    }
    let backoff = r#"taskflow_rate_limited_total{policy="login-failures"}"#;
    assert_eq!(metric(&text, backoff), Some(1.0), "{text}");
}

#[tokio::test]
async fn metrics_count_rate_limit_rejections_by_policy() {
    // The second login must meet the limit, whichever instance answers it.
    let app = TestApp::spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "1")]).await;
    for expected in [401, 429, 429] {
        let response = app
            .login_with("nobody@example.com", "wrong password", HeaderMap::new())
            .await;
        assert_eq!(response.status(), expected);
    }
    let text = scrape(&app).await;
    let series = r#"taskflow_rate_limited_total{policy="auth-ip"}"#;
    assert_eq!(metric(&text, series), Some(2.0), "{text}");
    assert_eq!(
        metric(
            &text,
            r#"taskflow_http_requests_total{route="/api/v1/auth/login",method="POST",status="429"}"#
        ),
        Some(2.0),
        "{text}"
    );
}

#[tokio::test]
async fn every_documented_metric_is_exposed() {
    let docs = include_str!("../../docs/metrics.md");
    // The third auth request must meet the limit (a rate-limit rejection to expose), whichever
    // instance answers it.
    let app = TestApp::spawn_with(&[("TASKFLOW_AUTH_RATE_PER_MIN", "2")]).await;
    app.register("documented@example.com").await;
    for expected in [401, 429] {
        let response = app
            .login_with("documented@example.com", "wrong password", HeaderMap::new())
            .await;
        assert_eq!(response.status(), expected);
    }
    let text = scrape(&app).await;
    let exposed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(!exposed.is_empty(), "{text}");
    for name in &exposed {
        assert!(
            docs.contains(&format!("`{name}")),
            "{name} is not documented"
        );
    }
    let mongo = std::env::var("TASKFLOW_TEST_STORE").as_deref() == Ok("mongo");
    for documented in docs.lines().filter_map(|l| l.strip_prefix("| `taskflow_")) {
        let name = format!(
            "taskflow_{}",
            documented.split('`').next().unwrap_or_default()
        );
        // Counted only once storage fails (tests/api/outage.rs checks it) or on MongoDB.
        let failures = name == "taskflow_storage_errors_total";
        let pooled = name.starts_with("taskflow_storage_pool") || name.contains("command_duration");
        if !failures && (mongo || !pooled) {
            let family = name.trim_end_matches("_total");
            assert!(
                exposed.contains(&family),
                "documented {name} is not exposed:\n{text}"
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_of_the_contract() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/v1/openapi.json", HeaderMap::new()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    let doc: serde_json::Value = response.json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/token", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/csrf", "get"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/auth/logout-all", "post"),
        ("/api/v1/auth/me", "get"),
        ("/api/v1/tasks", "get"),
        ("/api/v1/tasks", "post"),
        ("/api/v1/tasks/{id}", "get"),
        ("/api/v1/tasks/{id}", "patch"),
        ("/api/v1/tasks/{id}", "delete"),
        ("/api/v1/tasks/stats", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/api/v1/openapi.json", "get"),
    ];
    for (path, method) in routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    let task = &doc["components"]["schemas"]["TaskView"]["properties"];
    for field in [
        "id",
        "title",
        "description",
        "completed",
        "completed_at",
        "due_at",
        "priority",
        "tags",
        "created_at",
        "updated_at",
        "version",
    ] {
        assert!(task[field].is_object(), "task.{field} undocumented");
    }
}

/// The series of the request metrics (counter and histogram lines) in an exposition.
fn request_series(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with("taskflow_http_request"))
        .map(|l| l.rsplit_once(' ').map_or(l, |(series, _)| series))
        .collect()
}

#[tokio::test]
async fn made_up_methods_are_refused_alike_and_never_become_metric_labels() {
    // nginx itself refuses lower-case methods, methods with digits and a 100 KB request line
    // (400 and 414): what an instance does with them is only seen by talking to it.
    let app = TestApp::single(SingleInstance::AnsweredByTheBalancer)
        .spawn()
        .await;
    let long = "X".repeat(100_000);
    let send = |method: String, path: &'static str| {
        let method = Method::from_bytes(method.as_bytes()).expect("a token");
        app.request(method, path, None, HeaderMap::new())
    };
    // The first batch creates whatever series made-up methods create.
    for n in 0..10 {
        let refused = send(format!("MADEUP{n}"), "/api/v1/tasks").await;
        assert_eq!(header(&refused, "allow"), Some("GET, POST"));
        assert_problem(refused, 405, "method_not_allowed").await;
        let nowhere = send(format!("MADEUP{n}"), "/nowhere").await;
        assert_problem(nowhere, 404, "route_not_found").await;
    }
    // Methods are case-sensitive: `get` is not `GET`.
    assert_problem(
        send("get".into(), "/health/live").await,
        405,
        "method_not_allowed",
    )
    .await;
    scrape(&app).await;
    let before = scrape(&app).await;
    for n in 10..300 {
        let refused = send(format!("MADEUP{n}"), "/api/v1/tasks").await;
        assert_eq!(refused.status(), 405);
    }
    let huge = send(long.clone(), "/api/v1/tasks").await;
    assert_problem(huge, 405, "method_not_allowed").await;
    let after = scrape(&app).await;

    for text in [&before, &after] {
        assert!(!text.contains("MADEUP") && !text.contains("XXXX") && !text.contains("\"get\""));
    }
    assert_eq!(
        request_series(&before),
        request_series(&after),
        "made-up methods added series"
    );
    let other =
        r#"taskflow_http_requests_total{route="/api/v1/tasks",method="other",status="405"}"#;
    assert_eq!(metric(&after, other), Some(301.0), "{after}");
    let nowhere = r#"taskflow_http_requests_total{route="other",method="other",status="404"}"#;
    assert_eq!(metric(&after, nowhere), Some(10.0), "{after}");
}

/// A scraper's token for the production tests.
const METRICS_TOKEN: &str = "metrics-token-Vq8L2mX9pR4tN7wK3jH6cF1dS5gBzY0";

/// A production server behind a (test-unreachable) proxy, with `extra` variables.
async fn production(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("TASKFLOW_PROFILE", "production"),
        ("TASKFLOW_JWT_SECRET", JWT_SECRET),
        ("TASKFLOW_TRUSTED_PROXIES", "10.0.0.0/8"),
    ];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// Asserts `response` is exactly the 404 problem of an unknown route (request id aside).
async fn assert_unknown_route(app: &TestApp, response: Response, what: &str) {
    let unknown = app.get("/nowhere", HeaderMap::new()).await;
    assert_eq!(
        header(&response, "content-type"),
        header(&unknown, "content-type"),
        "{what}"
    );
    let expected = without_request_id(assert_problem(unknown, 404, "route_not_found").await);
    let problem = without_request_id(assert_problem(response, 404, "route_not_found").await);
    assert_eq!(problem, expected, "{what}");
}

#[tokio::test]
async fn metrics_in_production_answer_only_a_scraper_with_the_token() {
    let app = production(&[("TASKFLOW_METRICS_TOKEN", METRICS_TOKEN)]).await;
    let wrong = METRICS_TOKEN.replace('V', "W");
    let basic = format!("Basic {METRICS_TOKEN}");
    let refused = [
        ("no credentials", HeaderMap::new()),
        ("a wrong token", bearer(&wrong)),
        ("a prefix of the token", bearer(&METRICS_TOKEN[..20])),
        ("the token and more", bearer(&format!("{METRICS_TOKEN}x"))),
        ("another scheme", headers(&[("authorization", &basic)])),
    ];
    for (what, sent) in refused {
        let response = app.get("/metrics", sent).await;
        assert_unknown_route(&app, response, what).await;
    }
    let text = app.scrape(bearer(METRICS_TOKEN)).await;
    assert!(
        text.contains("# TYPE taskflow_http_requests counter"),
        "{text}"
    );
    // The refusals were counted like any unknown route's answer.
    let refusals = r#"taskflow_http_requests_total{route="/metrics",method="GET",status="404"}"#;
    assert_eq!(metric(&text, refusals), Some(5.0), "{text}");
}

#[tokio::test]
async fn metrics_in_production_without_a_token_are_served_to_nobody() {
    let app = production(&[]).await;
    for (what, sent) in [
        ("no credentials", HeaderMap::new()),
        ("a bearer", bearer("x")),
    ] {
        let response = app.get("/metrics", sent).await;
        assert_unknown_route(&app, response, what).await;
    }
}

#[tokio::test]
async fn metrics_in_development_need_the_token_once_it_is_set() {
    let app = TestApp::spawn_with(&[("TASKFLOW_METRICS_TOKEN", "dev-token")]).await;
    let response = app.get("/metrics", HeaderMap::new()).await;
    assert_unknown_route(&app, response, "no credentials").await;
    let scraped = app.get("/metrics", bearer("dev-token")).await;
    assert_eq!(scraped.status(), 200);
}
