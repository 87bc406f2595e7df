//! Operations and the headers of every response: health, router problems, request ids,
//! `nosniff`, HSTS, CORS.

use reqwest::header::HeaderMap;
use reqwest::{Method, Response};
use serde_json::json;

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

#[tokio::test]
async fn metrics_count_requests_by_route_template_status_and_auth_outcome() {
    let app = TestApp::spawn().await;
    let user = app.register("metrics@example.com").await;
    let task = user.create_task(&app, json!({"title": "counted"})).await;
    let id = task["id"].as_str().expect("id");
    assert_eq!(user.get_task(&app, id).await.status(), 200);
    let wrong = app
        .login_with("metrics@example.com", "wrong password", HeaderMap::new())
        .await;
    assert_eq!(wrong.status(), 401);
    let response = app.get("/metrics", HeaderMap::new()).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").is_some_and(|ct| ct.starts_with("text/plain")));
    let text = response.text().await.expect("body");
    for line in [
        r#"taskflow_http_requests_total{route="/api/v1/tasks/{id}",method="GET",status="200"} 1"#,
        r#"taskflow_http_requests_total{route="/api/v1/tasks",method="POST",status="201"} 1"#,
        r#"taskflow_auth_outcomes_total{action="register",outcome="success"} 1"#,
        r#"taskflow_auth_outcomes_total{action="login",outcome="rejected"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
    }
    assert!(text.contains("taskflow_http_request_duration_seconds_bucket{"));
    let pool_line = text
        .lines()
        .find(|l| l.starts_with("taskflow_storage_pool_connections{state=\"open\"}"));
    if std::env::var("TASKFLOW_TEST_STORE").as_deref() == Ok("mongo") {
        let open: u64 = pool_line
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("pool gauge on MongoDB");
        assert!(open >= 1, "{text}");
    } else {
        assert_eq!(pool_line, None, "the embedded store has no pool");
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
