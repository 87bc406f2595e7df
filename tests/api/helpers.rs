//! Spawning a server per test and typed request helpers, in the manner of zero-to-production's
//! `spawn_app`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use taskflow::core::auth::KeySet;
use taskflow::core::{Clock, ManualClock, SystemClock};
use taskflow::http::{App, Stores};
use taskflow::server::Config;

pub use crate::assertions::*;

/// A JWT secret for tests that forge tokens with the server's own key.
pub const JWT_SECRET: &str = "test-only-jwt-key-0123456789abcdef-xyz-q7";
/// The origin the test servers allow.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";

/// Which adapter serves the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// taskflow-axum.
    Axum,
    /// taskflow-warp.
    Warp,
}

impl Adapter {
    /// The adapter named by `TASKFLOW_TEST_ADAPTER` (`axum`, the default, or `warp`), so the
    /// whole suite runs against either.
    ///
    /// # Panics
    /// On any other value, so a typo cannot silently test the default adapter.
    pub fn from_env() -> Self {
        match std::env::var("TASKFLOW_TEST_ADAPTER").as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("" | "axum") => Self::Axum,
            Ok("warp") => Self::Warp,
            other => panic!("TASKFLOW_TEST_ADAPTER must be `axum` or `warp`, not {other:?}"),
        }
    }
}

/// The store the suite runs on: `TASKFLOW_TEST_STORE=mongo` for a fresh database on the
/// server of `TASKFLOW_TEST_MONGODB_URI` per test app, otherwise (default `memory`) a fresh
/// embedded store.
pub async fn test_stores() -> Stores {
    match std::env::var("TASKFLOW_TEST_STORE").as_deref() {
        Ok("mongo") => {
            let uri = std::env::var("TASKFLOW_TEST_MONGODB_URI")
                .expect("TASKFLOW_TEST_STORE=mongo needs TASKFLOW_TEST_MONGODB_URI");
            let database = format!(
                "taskflow_api_{}",
                taskflow::core::domain::TaskId::generate()
            );
            let config = taskflow::mongo::MongoConfig::new(uri).with_database(database);
            let store = taskflow::mongo::MongoStore::connect(config)
                .await
                .expect("MongoDB");
            Stores::single(store)
        }
        Ok("memory") | Err(_) => Stores::memory(),
        Ok(other) => panic!("TASKFLOW_TEST_STORE={other}: expected memory or mongo"),
    }
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client without a cookie store: cookies are handled explicitly by [`TestUser`].
    pub client: reqwest::Client,
}

impl TestApp {
    /// A server with the default configuration (secure cookies, production-like defaults).
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// A server with extra `TASKFLOW_*` variables (for example a rate limit).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        let config = Self::config(vars);
        let app = config.app(test_stores().await).expect("app");
        Self::serve(Adapter::from_env(), app).await
    }

    /// The test configuration: the defaults of [`spawn`](Self::spawn) overridden by `vars`.
    pub fn config(vars: &[(&str, &str)]) -> Config {
        let mut map: HashMap<String, String> = HashMap::from([
            ("TASKFLOW_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "TASKFLOW_ALLOWED_ORIGINS".to_owned(),
                ALLOWED_ORIGIN.to_owned(),
            ),
            // High enough that ordinary tests never meet it; rate-limit tests lower it.
            ("TASKFLOW_AUTH_RATE_PER_MIN".to_owned(), "1000".to_owned()),
        ]);
        for (k, v) in vars {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        Config::from_map(&map).expect("valid test configuration")
    }

    /// A server like [`spawn_with`](Self::spawn_with) whose services read time from `clock`
    /// (tokens, sessions, login throttling, task timestamps), so tests move time without
    /// sleeping. Rate limits keep the real monotonic clock.
    pub async fn spawn_with_clock(vars: &[(&str, &str)], clock: Arc<ManualClock>) -> Self {
        Self::assemble(vars, clock, None).await
    }

    /// A server like [`spawn_with`](Self::spawn_with) verifying access tokens with `keys`
    /// (to test key rotation, which the environment cannot configure).
    pub async fn spawn_with_keys(vars: &[(&str, &str)], keys: KeySet) -> Self {
        Self::assemble(vars, Arc::new(SystemClock), Some(keys)).await
    }

    /// The application as the example servers build it, with the clock and keys replaced.
    async fn assemble(vars: &[(&str, &str)], clock: Arc<dyn Clock>, keys: Option<KeySet>) -> Self {
        Self::spawn_full(vars, test_stores().await, clock, keys).await
    }

    /// A server over `stores` (a failing store, say), with every other part replaceable.
    pub async fn spawn_full(
        vars: &[(&str, &str)],
        stores: Stores,
        clock: Arc<dyn Clock>,
        keys: Option<KeySet>,
    ) -> Self {
        let config = Self::config(vars);
        let app = config.app_with(stores, clock, keys).expect("app");
        Self::serve(Adapter::from_env(), app).await
    }

    /// Serves `app` with `adapter` on a random local port.
    pub async fn serve(adapter: Adapter, app: App) -> Self {
        let (address, _) = serve_until(adapter, app, std::future::pending()).await;
        Self::at(address)
    }

    /// A client for the server at `address`.
    pub fn at(address: SocketAddr) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            address: format!("http://{address}"),
            client,
        }
    }

    /// `METHOD path` with optional JSON body and extra headers.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: HeaderMap,
    ) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .headers(headers);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, headers: HeaderMap) -> Response {
        self.request(Method::GET, path, None, headers).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value, headers: HeaderMap) -> Response {
        self.request(Method::POST, path, Some(body), headers).await
    }

    /// `POST path` without a body (refresh, logout, logout-all).
    pub async fn post_empty(&self, path: &str, headers: HeaderMap) -> Response {
        self.request(Method::POST, path, None, headers).await
    }

    /// `POST path` with a raw body and, if given, that `Content-Type`.
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        content_type: Option<&str>,
        headers: HeaderMap,
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .headers(headers)
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request sent")
    }

    /// `POST /api/v1/auth/login` with these credentials and extra headers.
    pub async fn login_with(&self, email: &str, password: &str, headers: HeaderMap) -> Response {
        let body = json!({"email": email, "password": password});
        self.post("/api/v1/auth/login", &body, headers).await
    }

    /// Logs `email` in with the test password (a new session) and returns its cookies.
    pub async fn login(&self, email: &str) -> TestUser {
        let response = self
            .login_with(email, TestUser::PASSWORD, HeaderMap::new())
            .await;
        assert_eq!(response.status(), 200, "login {email}");
        TestUser::from_response(email, &response)
    }

    /// The body of a password grant on `/api/v1/auth/token` for `email`.
    pub async fn token_grant(&self, email: &str) -> Value {
        let body =
            json!({"grant_type": "password", "email": email, "password": TestUser::PASSWORD});
        let response = self
            .post("/api/v1/auth/token", &body, HeaderMap::new())
            .await;
        assert_eq!(response.status(), 200, "token grant {email}");
        json_body(response).await
    }

    /// Registers a fresh user and returns it with its cookies.
    pub async fn register(&self, email: &str) -> TestUser {
        let body = json!({"email": email, "password": TestUser::PASSWORD, "name": "Test"});
        let response = self
            .request(
                Method::POST,
                "/api/v1/auth/register",
                Some(&body),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(response.status(), 201, "register {email}");
        TestUser::from_response(email, &response)
    }
}

/// Serves `app` with `adapter` on a random local port until `shutdown` resolves: the address,
/// and the server's task, which ends once the server has drained.
pub async fn serve_until(
    adapter: Adapter,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let task = tokio::spawn(serve_on(adapter, app, listener, shutdown));
    (address, task)
}

/// Runs `adapter`'s `serve` on `listener` until `shutdown` resolves and the server drained.
pub async fn serve_on(
    adapter: Adapter,
    app: App,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    match adapter {
        Adapter::Axum => {
            let service = taskflow::axum::service(app.clone());
            taskflow::server::serve(app, listener, service, shutdown).await;
        }
        Adapter::Warp => {
            let service = taskflow::warp::service(app.clone());
            taskflow::server::serve(app, listener, service, shutdown).await;
        }
    }
}

/// A logged-in user: its cookies as the browser would hold them.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Email.
    pub email: String,
    /// `name=value` of each cookie.
    pub cookies: HashMap<String, String>,
}

impl TestUser {
    /// The password every test user has.
    pub const PASSWORD: &'static str = "correct horse battery staple";

    /// Reads the `Set-Cookie` headers of a login-like response.
    pub fn from_response(email: &str, response: &Response) -> Self {
        let mut user = Self {
            email: email.to_owned(),
            cookies: HashMap::new(),
        };
        user.absorb(response);
        user
    }

    /// Applies the `Set-Cookie` headers of `response` (a `Max-Age=0` deletes).
    pub fn absorb(&mut self, response: &Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().expect("ascii cookie");
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The value of the cookie whose name ends with `suffix` (`taskflow_csrf`, ...).
    pub fn cookie(&self, suffix: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n.ends_with(suffix))
            .map(|(_, v)| v.as_str())
    }

    /// The CSRF cookie's value.
    pub fn csrf(&self) -> &str {
        self.cookie("taskflow_csrf").expect("csrf cookie")
    }

    /// The access cookie's value (the JWT).
    pub fn access(&self) -> &str {
        self.cookie("taskflow_access").expect("access cookie")
    }

    /// The refresh cookie's value.
    pub fn refresh_token(&self) -> &str {
        self.cookie("taskflow_refresh").expect("refresh cookie")
    }

    /// Only the `Cookie` header: a cookie-authenticated request without `X-CSRF-Token`.
    pub fn cookie_headers(&self) -> HeaderMap {
        let mut headers = self.browser_headers();
        headers.remove("x-csrf-token");
        headers
    }

    /// Creates a task (asserting 201) and returns it.
    pub async fn create_task(&self, app: &TestApp, body: Value) -> Value {
        let response = app
            .post("/api/v1/tasks", &body, self.browser_headers())
            .await;
        assert_eq!(response.status(), 201, "create {body}");
        json_body(response).await
    }

    /// Creates one task per title, in order, and returns them.
    pub async fn create_titled(&self, app: &TestApp, titles: &[&str]) -> Vec<Value> {
        let mut tasks = Vec::new();
        for title in titles {
            tasks.push(self.create_task(app, json!({"title": title})).await);
        }
        tasks
    }

    /// `GET /api/v1/tasks/{id}`.
    pub async fn get_task(&self, app: &TestApp, id: &str) -> Response {
        app.get(&format!("/api/v1/tasks/{id}"), self.browser_headers())
            .await
    }

    /// `PATCH /api/v1/tasks/{id}` with extra headers.
    pub async fn patch_task(
        &self,
        app: &TestApp,
        id: &str,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> Response {
        let headers = with_headers(self.browser_headers(), extra);
        let path = format!("/api/v1/tasks/{id}");
        app.request(Method::PATCH, &path, Some(body), headers).await
    }

    /// `DELETE /api/v1/tasks/{id}`.
    pub async fn delete_task(&self, app: &TestApp, id: &str) -> Response {
        let path = format!("/api/v1/tasks/{id}");
        app.request(Method::DELETE, &path, None, self.browser_headers())
            .await
    }

    /// `GET /api/v1/tasks?query`, asserting 200; the page.
    pub async fn list(&self, app: &TestApp, query: &str) -> Value {
        let response = app
            .get(&format!("/api/v1/tasks?{query}"), self.browser_headers())
            .await;
        assert_eq!(response.status(), 200, "list ?{query}");
        json_body(response).await
    }

    /// The ids of one page of `GET /api/v1/tasks?query`.
    pub async fn list_ids(&self, app: &TestApp, query: &str) -> Vec<String> {
        ids(&self.list(app, query).await["items"])
    }

    /// Walks every page of `query` with `limit`, returning the ids in the order received.
    pub async fn walk(&self, app: &TestApp, query: &str, limit: u32) -> Vec<String> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("{query}&limit={limit}&cursor={c}"),
                None => format!("{query}&limit={limit}"),
            };
            let page = self.list(app, &q).await;
            all.extend(ids(&page["items"]));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    /// `Cookie` and `X-CSRF-Token` headers, as a browser SPA sends them.
    pub fn browser_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let cookie = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        headers.insert(
            "cookie",
            HeaderValue::from_str(&cookie).expect("cookie header"),
        );
        if let Some(csrf) = self.cookie("taskflow_csrf") {
            headers.insert(
                "x-csrf-token",
                HeaderValue::from_str(csrf).expect("csrf header"),
            );
        }
        headers
    }
}
