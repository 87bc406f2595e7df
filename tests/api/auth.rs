//! Registration and login: shapes, email rules, body rules, cookies and cache policy.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use taskflow::core::Timestamp;

use crate::helpers::*;
use crate::tokens;

const REGISTER: &str = "/api/v1/auth/register";

fn registration(email: &str) -> Value {
    json!({"email": email, "password": TestUser::PASSWORD, "name": "Ada"})
}

#[tokio::test]
async fn register_answers_201_with_exactly_the_public_user_fields() {
    let app = TestApp::spawn().await;
    let response = app
        .post(REGISTER, &registration("ada@example.com"), HeaderMap::new())
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    let text = response.text().await.expect("body");
    assert!(!text.contains("argon2") && !text.contains(TestUser::PASSWORD));
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(keys(&body), ["csrf_token", "user"]);
    let user = &body["user"];
    assert_eq!(keys(user), ["created_at", "email", "id", "name"]);
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada");
    let id = user["id"].as_str().expect("id");
    assert!(!id.is_empty());
    assert!(is_timestamp(
        user["created_at"].as_str().expect("created_at")
    ));
}

#[tokio::test]
async fn register_without_a_name_gives_a_null_name() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "noname@example.com", "password": TestUser::PASSWORD});
    let response = app.post(REGISTER, &body, HeaderMap::new()).await;
    assert_eq!(response.status(), 201);
    assert_eq!(json_body(response).await["user"]["name"], Value::Null);
}

#[tokio::test]
async fn emails_are_trimmed_and_lower_cased() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            REGISTER,
            &registration("  Ada@Example.COM "),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), 201);
    let registered = json_body(response).await;
    assert_eq!(registered["user"]["email"], "ada@example.com");
    let login = app
        .login_with("ADA@example.com ", TestUser::PASSWORD, HeaderMap::new())
        .await;
    assert_eq!(login.status(), 200);
    assert_eq!(json_body(login).await["user"], registered["user"]);
}

#[tokio::test]
async fn registering_a_taken_email_is_409_email_taken() {
    let app = TestApp::spawn().await;
    app.register("taken@example.com").await;
    let again = app
        .post(
            REGISTER,
            &registration("Taken@Example.com"),
            HeaderMap::new(),
        )
        .await;
    assert!(set_cookies(&again).is_empty());
    assert_problem(again, 409, "email_taken").await;
}

#[tokio::test]
async fn register_names_every_invalid_field() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "not-an-email", "password": "short", "name": "   "});
    let response = app.post(REGISTER, &body, HeaderMap::new()).await;
    let problem = assert_invalid_fields(response, &["email", "password", "name"]).await;
    assert!(
        !problem.to_string().contains("short"),
        "echoes the password"
    );
}

#[tokio::test]
async fn passwords_must_have_8_to_128_characters() {
    let app = TestApp::spawn().await;
    for (i, (length, status)) in [(7, 422), (8, 201), (128, 201), (129, 422)]
        .into_iter()
        .enumerate()
    {
        let body = json!({"email": format!("p{i}@example.com"), "password": "p".repeat(length)});
        let response = app.post(REGISTER, &body, HeaderMap::new()).await;
        assert_eq!(response.status(), status, "password of {length}");
        if status == 422 {
            assert_invalid_fields(response, &["password"]).await;
        }
    }
}

#[tokio::test]
async fn bodies_that_are_not_the_expected_object_are_400_invalid_body() {
    let app = TestApp::spawn().await;
    let cases = [
        ("malformed JSON", r#"{"email": "a@example.com","#),
        ("array", r#"["a@example.com", "correct horse"]"#),
        ("null", "null"),
        ("missing password", r#"{"email": "a@example.com"}"#),
        (
            "wrong type",
            r#"{"email": 42, "password": "correct horse"}"#,
        ),
        (
            "unknown field",
            r#"{"email": "a@example.com", "password": "correct horse", "role": "admin"}"#,
        ),
        ("empty", ""),
    ];
    for (what, body) in cases {
        let response = app
            .post_raw(REGISTER, body, Some("application/json"), HeaderMap::new())
            .await;
        assert_eq!(response.status(), 400, "{what}");
        assert_problem(response, 400, "invalid_body").await;
    }
    let login = app
        .post_raw(
            "/api/v1/auth/login",
            "[1]",
            Some("application/json"),
            HeaderMap::new(),
        )
        .await;
    assert_problem(login, 400, "invalid_body").await;
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_415() {
    let app = TestApp::spawn().await;
    let body = registration("ct@example.com").to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = app
            .post_raw(REGISTER, body.clone(), content_type, HeaderMap::new())
            .await;
        assert_problem(response, 415, "unsupported_media_type").await;
    }
    let with_charset = app
        .post_raw(
            REGISTER,
            body,
            Some("application/json; charset=utf-8"),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(with_charset.status(), 201);
}

/// A valid registration body padded with JSON whitespace to exactly `size` bytes.
fn padded_registration(email: &str, size: usize) -> String {
    let mut body = registration(email).to_string();
    assert!(body.len() <= size);
    body.insert_str(1, &" ".repeat(size - body.len()));
    body
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_413() {
    let app = TestApp::spawn_with(&[("TASKFLOW_BODY_LIMIT_BYTES", "1024")]).await;
    let json = Some("application/json");
    let over = padded_registration("big@example.com", 1025);
    let response = app.post_raw(REGISTER, over, json, HeaderMap::new()).await;
    assert_problem(response, 413, "payload_too_large").await;
    let at_limit = padded_registration("big@example.com", 1024);
    let response = app
        .post_raw(REGISTER, at_limit, json, HeaderMap::new())
        .await;
    assert_eq!(response.status(), 201, "a body of exactly the limit");
}

#[tokio::test]
async fn login_answers_200_with_the_user_and_the_access_expiry() {
    let app = TestApp::spawn().await;
    let registered = app
        .post(
            REGISTER,
            &registration("login@example.com"),
            HeaderMap::new(),
        )
        .await;
    let registered = json_body(registered).await;
    let response = app
        .login_with("login@example.com", TestUser::PASSWORD, HeaderMap::new())
        .await;
    assert_eq!(response.status(), 200);
    let user = TestUser::from_response("login@example.com", &response);
    let body = json_body(response).await;
    assert_eq!(keys(&body), ["access_expires_at", "csrf_token", "user"]);
    assert_eq!(body["user"], registered["user"]);
    assert_eq!(body["csrf_token"], user.csrf(), "the cookie's token");
    assert_ne!(
        body["csrf_token"], registered["csrf_token"],
        "a new session, a new token"
    );
    let expires = body["access_expires_at"].as_str().expect("expiry");
    assert!(is_timestamp(expires), "{expires}");
    let (_, claims) = tokens::decode(user.access());
    let expires = Timestamp::parse_rfc3339(expires).expect("timestamp");
    assert_eq!(Some(expires.unix_millis() / 1000), claims["exp"].as_i64());
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        900
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_identically() {
    let app = TestApp::spawn().await;
    app.register("known@example.com").await;
    let wrong_password = app
        .login_with("known@example.com", "not the password", HeaderMap::new())
        .await;
    assert!(set_cookies(&wrong_password).is_empty());
    let wrong_password = assert_problem(wrong_password, 401, "invalid_credentials").await;
    let unknown = app
        .login_with("unknown@example.com", "not the password", HeaderMap::new())
        .await;
    assert!(set_cookies(&unknown).is_empty());
    let unknown = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(
        without_request_id(wrong_password),
        without_request_id(unknown)
    );
}

#[tokio::test]
async fn me_answers_the_account_of_the_session() {
    let app = TestApp::spawn().await;
    let response = app
        .post(REGISTER, &registration("me@example.com"), HeaderMap::new())
        .await;
    let user = TestUser::from_response("me@example.com", &response);
    let registered = json_body(response).await;
    assert_eq!(registered["csrf_token"], user.csrf(), "the cookie's token");
    let me = app.get("/api/v1/auth/me", user.browser_headers()).await;
    assert_eq!(me.status(), 200);
    assert_eq!(header(&me, "cache-control"), Some("no-store"));
    assert_eq!(json_body(me).await["user"], registered["user"]);
}

#[tokio::test]
async fn missing_credentials_are_401_unauthorized() {
    let app = TestApp::spawn().await;
    let me = app.get("/api/v1/auth/me", HeaderMap::new()).await;
    assert_problem(me, 401, "unauthorized").await;
    let tasks = app.get("/api/v1/tasks", HeaderMap::new()).await;
    assert_problem(tasks, 401, "unauthorized").await;
    let create = app
        .post("/api/v1/tasks", &json!({"title": "x"}), HeaderMap::new())
        .await;
    assert_problem(create, 401, "unauthorized").await;
    let basic = app
        .get(
            "/api/v1/auth/me",
            headers(&[("authorization", "Basic YTpi")]),
        )
        .await;
    assert_problem(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn auth_errors_are_never_stored_and_401s_name_the_scheme() {
    let app = TestApp::spawn().await;
    app.register("nostore@example.com").await;
    let wrong = app
        .login_with("nostore@example.com", "wrong password", HeaderMap::new())
        .await;
    assert_eq!(header(&wrong, "cache-control"), Some("no-store"));
    assert_eq!(
        header(&wrong, "www-authenticate"),
        Some("Bearer realm=\"taskflow\"")
    );
    assert_problem(wrong, 401, "invalid_credentials").await;
    let taken = app
        .post(
            REGISTER,
            &registration("nostore@example.com"),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(header(&taken, "cache-control"), Some("no-store"));
    assert_problem(taken, 409, "email_taken").await;
    let anonymous = app.get("/api/v1/tasks", HeaderMap::new()).await;
    assert_eq!(
        header(&anonymous, "www-authenticate"),
        Some("Bearer realm=\"taskflow\"")
    );
    assert_problem(anonymous, 401, "unauthorized").await;
}
