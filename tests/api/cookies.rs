//! The session cookies (names, attributes, the insecure development variant) and the
//! `no-store` policy of every auth response.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::*;

const REGISTER: &str = "/api/v1/auth/register";

fn registration(email: &str) -> Value {
    json!({"email": email, "password": TestUser::PASSWORD, "name": "Ada"})
}

#[tokio::test]
async fn session_cookies_carry_exactly_the_contract_attributes() {
    let app = TestApp::spawn().await;
    app.register("cookies@example.com").await;
    let response = app
        .login_with("cookies@example.com", TestUser::PASSWORD, HeaderMap::new())
        .await;
    let cookies = parsed_cookies(&response);
    let mut names: Vec<&str> = cookies.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "__Host-taskflow_access",
            "__Host-taskflow_csrf",
            "__Secure-taskflow_refresh"
        ]
    );
    let expected = [
        (
            "__Host-taskflow_access",
            vec![
                "HttpOnly",
                "Secure",
                "SameSite=Lax",
                "Path=/",
                "Max-Age=900",
            ],
        ),
        (
            "__Secure-taskflow_refresh",
            vec![
                "HttpOnly",
                "Secure",
                "SameSite=Strict",
                "Path=/api/v1/auth",
                "Max-Age=1209600",
            ],
        ),
        (
            "__Host-taskflow_csrf",
            vec!["Secure", "SameSite=Lax", "Path=/", "Max-Age=1209600"],
        ),
    ];
    for (name, attributes) in expected {
        let cookie = &cookies[name];
        assert_eq!(cookie.attributes, attrs(&attributes), "{name}");
        assert!(cookie.value.len() >= 32, "{name} has a value");
    }
}

#[tokio::test]
async fn register_sets_the_same_three_cookies() {
    let app = TestApp::spawn().await;
    let response = app
        .post(
            REGISTER,
            &registration("reg-cookies@example.com"),
            HeaderMap::new(),
        )
        .await;
    let cookies = parsed_cookies(&response);
    assert_eq!(cookies.len(), 3);
    assert_eq!(
        cookies["__Host-taskflow_access"].attribute("SameSite"),
        Some("Lax")
    );
    assert_eq!(
        cookies["__Secure-taskflow_refresh"].attribute("Path"),
        Some("/api/v1/auth")
    );
    assert!(
        !cookies["__Host-taskflow_csrf"]
            .attributes
            .contains(&"HttpOnly".to_owned())
    );
}

#[tokio::test]
async fn insecure_cookie_setting_drops_the_prefixes_and_secure() {
    let app = TestApp::spawn_with(&[("TASKFLOW_COOKIE_SECURE", "false")]).await;
    let user = app.register("plain@example.com").await;
    let response = app
        .login_with("plain@example.com", TestUser::PASSWORD, HeaderMap::new())
        .await;
    let cookies = parsed_cookies(&response);
    let mut names: Vec<&str> = cookies.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["taskflow_access", "taskflow_csrf", "taskflow_refresh"]
    );
    let expected = [
        (
            "taskflow_access",
            vec!["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=900"],
        ),
        (
            "taskflow_refresh",
            vec![
                "HttpOnly",
                "SameSite=Strict",
                "Path=/api/v1/auth",
                "Max-Age=1209600",
            ],
        ),
        (
            "taskflow_csrf",
            vec!["SameSite=Lax", "Path=/", "Max-Age=1209600"],
        ),
    ];
    for (name, attributes) in expected {
        assert_eq!(cookies[name].attributes, attrs(&attributes), "{name}");
    }
    let me = app.get("/api/v1/auth/me", user.browser_headers()).await;
    assert_eq!(me.status(), 200, "the unprefixed cookies authenticate");
}

#[tokio::test]
async fn auth_responses_are_never_stored() {
    let app = TestApp::spawn().await;
    let register = app
        .post(
            REGISTER,
            &registration("store@example.com"),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(
        header(&register, "cache-control"),
        Some("no-store"),
        "register"
    );
    let login = app
        .login_with("store@example.com", TestUser::PASSWORD, HeaderMap::new())
        .await;
    assert_eq!(header(&login, "cache-control"), Some("no-store"), "login");
    let user = TestUser::from_response("store@example.com", &login);
    let grant = json!({"grant_type": "password", "email": "store@example.com", "password": TestUser::PASSWORD});
    let token = app
        .post("/api/v1/auth/token", &grant, HeaderMap::new())
        .await;
    assert_eq!(header(&token, "cache-control"), Some("no-store"), "token");
    let refresh = app
        .post_empty("/api/v1/auth/refresh", user.browser_headers())
        .await;
    assert_eq!(refresh.status(), 200);
    assert_eq!(
        header(&refresh, "cache-control"),
        Some("no-store"),
        "refresh"
    );
    let mut user = user;
    user.absorb(&refresh);
    let csrf = app.get("/api/v1/auth/csrf", user.cookie_headers()).await;
    assert_eq!(csrf.status(), 200);
    assert_eq!(header(&csrf, "cache-control"), Some("no-store"), "csrf");
    let anonymous = app.get("/api/v1/auth/csrf", HeaderMap::new()).await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        header(&anonymous, "cache-control"),
        Some("no-store"),
        "csrf refused"
    );
    let logout_all = app
        .post_empty("/api/v1/auth/logout-all", user.browser_headers())
        .await;
    assert_eq!(logout_all.status(), 204);
    assert_eq!(
        header(&logout_all, "cache-control"),
        Some("no-store"),
        "logout-all"
    );
    let again = app.login("store@example.com").await;
    let logout = app
        .post_empty("/api/v1/auth/logout", again.browser_headers())
        .await;
    assert_eq!(logout.status(), 204);
    assert_eq!(header(&logout, "cache-control"), Some("no-store"), "logout");
}
