//! CSRF: cookie-authenticated unsafe requests need the session's token in `X-CSRF-Token` and,
//! when they send `Origin`, an allowed one; safe methods and bearer requests need nothing. A
//! page on another origin than the API learns the token from the bodies of login, register,
//! refresh and `GET /api/v1/auth/csrf`, since it cannot read the cookie.

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

/// The headers of a page served from another origin than the API: the browser sends the
/// API's cookies (CORS with credentials) and the page's `Origin`, but the page cannot read the
/// CSRF cookie, so its `X-CSRF-Token` is whatever token it learnt from an answer's body.
fn cross_origin_page(jar: &TestUser, token: &str) -> HeaderMap {
    with_headers(
        jar.cookie_headers(),
        &[("origin", ALLOWED_ORIGIN), ("x-csrf-token", token)],
    )
}

/// Writes with `headers` (create, edit, delete), each asserted to succeed.
async fn assert_writes_pass(app: &TestApp, headers: &HeaderMap, what: &str) {
    let created = app
        .request(
            Method::POST,
            "/api/v1/tasks",
            Some(&json!({"title": what})),
            headers.clone(),
        )
        .await;
    assert_eq!(created.status(), 201, "create with the {what} token");
    let path = header(&created, "location").expect("location").to_owned();
    let patched = app
        .request(
            Method::PATCH,
            &path,
            Some(&json!({"completed": true})),
            headers.clone(),
        )
        .await;
    assert_eq!(patched.status(), 200, "edit with the {what} token");
    let deleted = app
        .request(Method::DELETE, &path, None, headers.clone())
        .await;
    assert_eq!(deleted.status(), 204, "delete with the {what} token");
}

#[tokio::test]
async fn a_page_on_another_origin_writes_with_the_token_from_the_bodies() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "page@example.com", "password": TestUser::PASSWORD});
    let page_origin = headers(&[("origin", ALLOWED_ORIGIN)]);
    let registered = app
        .post("/api/v1/auth/register", &body, page_origin.clone())
        .await;
    assert_eq!(registered.status(), 201);
    assert_eq!(
        header(&registered, "access-control-allow-credentials"),
        Some("true")
    );
    let mut jar = TestUser::from_response("page@example.com", &registered);
    let token = json_body(registered).await["csrf_token"]
        .as_str()
        .expect("register answers the token")
        .to_owned();
    assert_writes_pass(&app, &cross_origin_page(&jar, &token), "register").await;

    let logged_in = app
        .login_with("page@example.com", TestUser::PASSWORD, page_origin)
        .await;
    assert_eq!(logged_in.status(), 200);
    jar = TestUser::from_response("page@example.com", &logged_in);
    let token = json_body(logged_in).await["csrf_token"]
        .as_str()
        .expect("login answers the token")
        .to_owned();
    assert_writes_pass(&app, &cross_origin_page(&jar, &token), "login").await;

    let refreshed = app
        .post_empty("/api/v1/auth/refresh", cross_origin_page(&jar, &token))
        .await;
    assert_eq!(refreshed.status(), 200);
    jar.absorb(&refreshed);
    let token = json_body(refreshed).await["csrf_token"]
        .as_str()
        .expect("refresh answers the token")
        .to_owned();
    assert_writes_pass(&app, &cross_origin_page(&jar, &token), "refresh").await;

    // A reload: the page lost the token from memory; the cookies (and the session) remain.
    let reloaded = app
        .get(
            "/api/v1/auth/csrf",
            with_headers(jar.cookie_headers(), &[("origin", ALLOWED_ORIGIN)]),
        )
        .await;
    assert_eq!(reloaded.status(), 200);
    assert_eq!(
        header(&reloaded, "access-control-allow-origin"),
        Some(ALLOWED_ORIGIN)
    );
    assert_eq!(header(&reloaded, "cache-control"), Some("no-store"));
    let body = json_body(reloaded).await;
    assert_eq!(keys(&body), ["csrf_token"]);
    let token = body["csrf_token"].as_str().expect("token").to_owned();
    assert_writes_pass(&app, &cross_origin_page(&jar, &token), "csrf endpoint").await;

    let logout = app
        .post_empty("/api/v1/auth/logout", cross_origin_page(&jar, &token))
        .await;
    assert_eq!(logout.status(), 204);
}

#[tokio::test]
async fn the_csrf_endpoint_answers_the_token_of_the_callers_session() {
    let (app, user, _) = setup().await;
    let other = app.login("csrf@example.com").await;
    for jar in [&user, &other] {
        let response = app.get("/api/v1/auth/csrf", jar.cookie_headers()).await;
        assert_eq!(response.status(), 200);
        assert_eq!(json_body(response).await["csrf_token"], jar.csrf());
    }
    // A bearer caller gets its own session's token (it needs none, and it holds the session).
    let grant = app.token_grant("csrf@example.com").await;
    let access = grant["access_token"].as_str().expect("access");
    let response = app.get("/api/v1/auth/csrf", bearer(access)).await;
    assert_eq!(response.status(), 200);
    let token = json_body(response).await["csrf_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_ne!(token, user.csrf());
    assert_ne!(token, other.csrf());
    assert_eq!(token.len(), user.csrf().len());
}

#[tokio::test]
async fn the_csrf_endpoint_refuses_anonymous_callers_and_foreign_origins() {
    let (app, user, _) = setup().await;
    let anonymous = app.get("/api/v1/auth/csrf", HeaderMap::new()).await;
    assert_problem(anonymous, 401, "unauthorized").await;
    let mut stale = user.clone();
    stale
        .cookies
        .retain(|name, _| !name.ends_with("taskflow_access"));
    let mut forged = stale.clone();
    let refresh = forged
        .cookies
        .values_mut()
        .find(|value| value.len() > 100)
        .expect("the refresh cookie");
    // Another token of the same layout, its last (tag) character changed.
    let last = if refresh.ends_with('A') { "B" } else { "A" };
    refresh.replace_range(refresh.len() - 1.., last);
    let made_up = app.get("/api/v1/auth/csrf", forged.cookie_headers()).await;
    assert_problem(made_up, 401, "unauthorized").await;
    for origin in ["https://evil.example.com", "null", "http://app.example.com"] {
        let foreign = with_headers(user.cookie_headers(), &[("origin", origin)]);
        let response = app.get("/api/v1/auth/csrf", foreign).await;
        assert_eq!(header(&response, "access-control-allow-origin"), None);
        let problem = assert_problem(response, 403, "csrf_failed").await;
        assert!(
            !problem.to_string().contains(user.csrf()),
            "{origin}: no token in the refusal"
        );
    }
    let logged_out = app
        .post_empty("/api/v1/auth/logout", user.browser_headers())
        .await;
    assert_eq!(logged_out.status(), 204);
    let revoked = app.get("/api/v1/auth/csrf", user.cookie_headers()).await;
    assert_problem(revoked, 401, "unauthorized").await;
    let revoked = app.get("/api/v1/auth/csrf", stale.cookie_headers()).await;
    assert_problem(revoked, 401, "unauthorized").await;
}

/// A page reloaded after its access token expired, on another origin than the API, has only
/// its refresh cookie (sent to the auth paths) and no CSRF token: the endpoint names the
/// refresh cookie's session, so the page can send the refresh it needs.
#[tokio::test]
async fn the_csrf_endpoint_answers_a_caller_left_with_its_refresh_cookie() {
    let (app, user, _) = setup().await;
    // The browser still holds (and sends) the refresh and CSRF cookies; the access cookie
    // expired with its token; the page cannot read the CSRF cookie.
    let mut reloaded = user.clone();
    reloaded
        .cookies
        .retain(|name, _| !name.ends_with("taskflow_access"));
    let headers = with_headers(reloaded.cookie_headers(), &[("origin", ALLOWED_ORIGIN)]);
    let answer = app.get("/api/v1/auth/csrf", headers).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "cache-control"), Some("no-store"));
    let token = json_body(answer).await["csrf_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_eq!(token, user.csrf(), "the session's own token");
    // With it, the refresh (an unsafe request) passes the CSRF check.
    let refresh = with_headers(
        reloaded.cookie_headers(),
        &[("origin", ALLOWED_ORIGIN), ("x-csrf-token", token.as_str())],
    );
    let refreshed = app.post_empty("/api/v1/auth/refresh", refresh).await;
    assert_eq!(refreshed.status(), 200);
}
