//! The task endpoints under the host's identity, through the dispatch both adapters share:
//! the user is the host's, TaskFlow's auth endpoints are not routes, another user's task is a
//! missing one, the host's own refusal is answered as it is, and the per-user limit holds.

use std::net::SocketAddr;
use std::num::NonZeroU32;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response};
use serde_json::{Value, json};
use taskflow_core::auth::RateLimitConfig;
use taskflow_core::domain::UserId;
use taskflow_core::error::ErrorCode;
use taskflow_http::dispatch::{Head, answer};
use taskflow_http::identity::identity_fn;
use taskflow_http::{App, AppBuilder, Problem, Stores};

static X_USER: HeaderName = HeaderName::from_static("x-user");

/// An app whose host names its user in `X-User` and refuses the user `mallory` with its own
/// problem.
fn builder() -> AppBuilder {
    let identity = identity_fn(|request| {
        let user = request.header(&X_USER).map(str::to_owned);
        async move {
            match user.as_deref() {
                Some("mallory") => Err(Problem::new(ErrorCode::Unauthorized, "Not you.")),
                Some(name) => Ok(Some(UserId::derive("test-host", name))),
                None => Ok(None),
            }
        }
    });
    App::builder(Stores::memory())
        .ephemeral_secret()
        .host_identity(identity)
}

async fn send(
    app: &App,
    method: Method,
    path: &str,
    user: Option<&str>,
    body: Option<Value>,
) -> Response<Vec<u8>> {
    let mut headers = HeaderMap::new();
    if let Some(user) = user {
        headers.insert(
            X_USER.clone(),
            HeaderValue::from_str(user).expect("a header value"),
        );
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    if !body.is_empty() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let peer = SocketAddr::from(([127, 0, 0, 1], 4000));
    let head = Head::new(&method, path, query, headers, peer);
    answer(
        app,
        head,
        std::future::ready(Ok::<_, Problem>(body.into_bytes())),
    )
    .await
}

fn json_of(response: &Response<Vec<u8>>) -> Value {
    serde_json::from_slice(response.body()).expect("a JSON body")
}

#[tokio::test]
async fn tasks_belong_to_the_hosts_user_and_no_one_else() {
    let app = builder().build().unwrap();
    let created = send(
        &app,
        Method::POST,
        "/api/v1/tasks",
        Some("alice"),
        Some(json!({"title": "Hers"})),
    )
    .await;
    assert_eq!(created.status(), 201);
    let task = json_of(&created);
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{id}");
    assert_eq!(
        send(&app, Method::GET, &path, Some("alice"), None)
            .await
            .status(),
        200
    );
    let theirs = send(&app, Method::GET, &path, Some("bob"), None).await;
    assert_eq!(theirs.status(), 404, "another user's task is a missing one");
    assert_eq!(json_of(&theirs)["code"], "not_found");
    let bobs = json_of(&send(&app, Method::GET, "/api/v1/tasks", Some("bob"), None).await);
    assert_eq!(bobs["items"], json!([]));
    // Unsafe methods need no CSRF token from TaskFlow: protecting them is the host's.
    let deleted = send(&app, Method::DELETE, &path, Some("alice"), None).await;
    assert_eq!(deleted.status(), 204);
}

#[tokio::test]
async fn without_the_hosts_user_it_is_401_and_the_hosts_refusal_is_answered_as_it_is() {
    let app = builder().build().unwrap();
    let anonymous = send(&app, Method::GET, "/api/v1/tasks", None, None).await;
    assert_eq!(anonymous.status(), 401);
    assert_eq!(json_of(&anonymous)["code"], "unauthorized");
    let refused = send(&app, Method::GET, "/api/v1/tasks", Some("mallory"), None).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(json_of(&refused)["detail"], "Not you.");
}

#[tokio::test]
async fn taskflows_auth_endpoints_are_not_routes_unless_asked_for() {
    let app = builder().build().unwrap();
    let credentials = json!({"email": "a@example.com", "password": "correct horse battery"});
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/token",
    ] {
        let response = send(
            &app,
            Method::POST,
            path,
            Some("alice"),
            Some(credentials.clone()),
        )
        .await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(!taskflow_http::dispatch::is_route(&app, path), "{path}");
    }
    assert!(taskflow_http::dispatch::is_route(&app, "/api/v1/tasks"));
    let openapi = json_of(&send(&app, Method::GET, "/api/v1/openapi.json", None, None).await);
    assert!(openapi["paths"].get("/api/v1/auth/login").is_none());

    // Both: the host's users, and TaskFlow's own for requests the host does not identify.
    let app = builder().auth_endpoints(true).build().unwrap();
    let registered = send(
        &app,
        Method::POST,
        "/api/v1/auth/register",
        None,
        Some(credentials.clone()),
    )
    .await;
    assert_eq!(registered.status(), 201);
    let grant = json!({"grant_type": "password", "email": "a@example.com", "password": "correct horse battery"});
    let tokens = json_of(&send(&app, Method::POST, "/api/v1/auth/token", None, Some(grant)).await);
    let mut headers = HeaderMap::new();
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(&bearer).unwrap(),
    );
    let peer = SocketAddr::from(([127, 0, 0, 1], 4000));
    let head = Head::new(&Method::GET, "/api/v1/tasks", "", headers, peer);
    let own = answer(&app, head, std::future::ready(Ok::<_, Problem>(Vec::new()))).await;
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn the_per_user_limit_holds_for_the_hosts_users() {
    let limits = RateLimitConfig {
        api_per_minute: NonZeroU32::new(2).unwrap(),
        ..RateLimitConfig::default()
    };
    let app = builder().rate_limits(limits).build().unwrap();
    for _ in 0..2 {
        assert_eq!(
            send(&app, Method::GET, "/api/v1/tasks", Some("alice"), None)
                .await
                .status(),
            200
        );
    }
    let limited = send(&app, Method::GET, "/api/v1/tasks", Some("alice"), None).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    // Another user has a quota of its own.
    assert_eq!(
        send(&app, Method::GET, "/api/v1/tasks", Some("bob"), None)
            .await
            .status(),
        200
    );
}
