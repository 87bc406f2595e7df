//! CSRF: cookie-authenticated unsafe requests need the session's token in `X-CSRF-Token` and,
//! when they send `Origin`, an allowed one; safe methods and bearer requests need nothing.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::*;

/// A user with one task; the task's path.
async fn setup() -> (TestApp, TestUser, String) {
    let app = TestApp::spawn().await;
    let user = app.register("csrf@example.com").await;
    let task = user.create_task(&app, json!({"title": "guarded"})).await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("id"));
    (app, user, path)
}

/// POST, PATCH and DELETE with `headers`, each asserted 403 `csrf_failed`; then the task is
/// checked unchanged.
async fn assert_all_unsafe_refused(app: &TestApp, user: &TestUser, path: &str, headers: HeaderMap) {
    let forged = json!({"title": "forged"});
    let cases: [(Method, &str, Option<&Value>); 3] = [
        (Method::POST, "/api/v1/tasks", Some(&forged)),
        (Method::PATCH, path, Some(&forged)),
        (Method::DELETE, path, None),
    ];
    for (method, target, body) in cases {
        let response = app
            .request(method.clone(), target, body, headers.clone())
            .await;
        assert_eq!(response.status(), 403, "{method} {target}");
        assert_problem(response, 403, "csrf_failed").await;
    }
    let task = json_body(app.get(path, user.browser_headers()).await).await;
    assert_eq!(task["title"], "guarded");
    assert_eq!(task["version"], 1);
    let page = user.list(app, "").await;
    assert_eq!(
        page["items"].as_array().expect("items").len(),
        1,
        "nothing created"
    );
}

#[tokio::test]
async fn cookie_requests_without_the_csrf_header_are_403() {
    let (app, user, path) = setup().await;
    assert_all_unsafe_refused(&app, &user, &path, user.cookie_headers()).await;
}

#[tokio::test]
async fn a_csrf_header_that_differs_from_the_cookie_is_403() {
    let (app, user, path) = setup().await;
    let mut wrong = user.csrf().to_owned();
    let last = if wrong.ends_with('A') { "B" } else { "A" };
    wrong.replace_range(wrong.len() - 1.., last);
    let headers = with_headers(user.cookie_headers(), &[("x-csrf-token", &wrong)]);
    assert_all_unsafe_refused(&app, &user, &path, headers).await;
}

#[tokio::test]
async fn a_csrf_token_of_another_session_is_403() {
    let (app, user, path) = setup().await;
    let other_session = app.login("csrf@example.com").await;
    assert_ne!(other_session.csrf(), user.csrf());
    // Cookie and header agree, but on the other session's token.
    let mut mixed = user.clone();
    for (name, value) in &other_session.cookies {
        if name.ends_with("taskflow_csrf") {
            mixed.cookies.insert(name.clone(), value.clone());
        }
    }
    assert_all_unsafe_refused(&app, &user, &path, mixed.browser_headers()).await;
    // Header from the other session, cookie from this one.
    let headers = with_headers(
        user.cookie_headers(),
        &[("x-csrf-token", other_session.csrf())],
    );
    assert_all_unsafe_refused(&app, &user, &path, headers).await;
}

#[tokio::test]
async fn a_foreign_origin_is_403_even_with_a_valid_token() {
    let (app, user, path) = setup().await;
    for origin in ["https://evil.example.com", "null", "http://app.example.com"] {
        let headers = with_headers(user.browser_headers(), &[("origin", origin)]);
        assert_all_unsafe_refused(&app, &user, &path, headers).await;
    }
}

#[tokio::test]
async fn the_allowed_origin_with_a_valid_token_passes() {
    let (app, user, path) = setup().await;
    let headers = with_headers(user.browser_headers(), &[("origin", ALLOWED_ORIGIN)]);
    let created = app
        .request(
            Method::POST,
            "/api/v1/tasks",
            Some(&json!({"title": "ok"})),
            headers.clone(),
        )
        .await;
    assert_eq!(created.status(), 201);
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"title": "changed"})),
            headers.clone(),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let deleted = app.request(Method::DELETE, &path, None, headers).await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn safe_methods_need_no_csrf_token() {
    let (app, user, path) = setup().await;
    let foreign = with_headers(
        user.cookie_headers(),
        &[("origin", "https://evil.example.com")],
    );
    for target in [
        path.as_str(),
        "/api/v1/tasks",
        "/api/v1/tasks/stats",
        "/api/v1/auth/me",
    ] {
        let response = app.get(target, user.cookie_headers()).await;
        assert_eq!(response.status(), 200, "GET {target}");
        let response = app.get(target, foreign.clone()).await;
        assert_eq!(response.status(), 200, "GET {target} with a foreign Origin");
    }
}

#[tokio::test]
async fn bearer_requests_need_no_csrf_token() {
    let (app, _, path) = setup().await;
    let access = app.token_grant("csrf@example.com").await["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    let body = json!({"title": "api"});
    let created = app.post("/api/v1/tasks", &body, bearer(&access)).await;
    assert_eq!(created.status(), 201);
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"completed": true})),
            bearer(&access),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let deleted = app
        .request(Method::DELETE, &path, None, bearer(&access))
        .await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn refresh_logout_and_logout_all_by_cookie_need_the_csrf_header() {
    let (app, user, _) = setup().await;
    for path in [
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/logout-all",
    ] {
        let response = app.post_empty(path, user.cookie_headers()).await;
        assert_problem(response, 403, "csrf_failed").await;
        let foreign = with_headers(
            user.browser_headers(),
            &[("origin", "https://evil.example.com")],
        );
        let response = app.post_empty(path, foreign).await;
        assert_problem(response, 403, "csrf_failed").await;
    }
    let me = app.get("/api/v1/auth/me", user.browser_headers()).await;
    assert_eq!(
        me.status(),
        200,
        "the session survived every refused request"
    );
}
