//! Spawning a server per test and typed request helpers, in the manner of zero-to-production's
//! `spawn_app`. What "a server" is (one instance, or several behind a balancer) is the
//! deployment module's business.

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
use crate::deployment::{self, Deployment, Instance, Topology};
pub use crate::deployment::{INSTANCES, SingleInstance};

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
        Ok("mongo") => mongo_stores(&fresh_database()).await,
        Ok("memory") | Err(_) => Stores::memory(),
        Ok(other) => panic!("TASKFLOW_TEST_STORE={other}: expected memory or mongo"),
    }
}

/// A database name no other test app uses.
fn fresh_database() -> String {
    format!(
        "taskflow_api_{}",
        taskflow::core::domain::TaskId::generate()
    )
}

/// A store on `database` of the server of `TASKFLOW_TEST_MONGODB_URI`, with its own
/// connection pool (as each instance of a deployment has).
async fn mongo_stores(database: &str) -> Stores {
    let uri = std::env::var("TASKFLOW_TEST_MONGODB_URI")
        .expect("TASKFLOW_TEST_STORE=mongo needs TASKFLOW_TEST_MONGODB_URI");
    let config = taskflow::mongo::MongoConfig::new(uri).with_database(database.to_owned());
    let store = taskflow::mongo::MongoStore::connect(config)
        .await
        .expect("MongoDB");
    Stores::single(store)
}

/// Two handles on one fresh store, as two instances of a deployment hold them: on MongoDB
/// (`TASKFLOW_TEST_STORE=mongo`) two clients of one fresh database, otherwise one embedded
/// store shared.
pub async fn shared_test_stores() -> (Stores, Stores) {
    if std::env::var("TASKFLOW_TEST_STORE").as_deref() != Ok("mongo") {
        let store = Stores::memory();
        return (store.clone(), store);
    }
    let database = fresh_database();
    (mongo_stores(&database).await, mongo_stores(&database).await)
}

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, or the balancer's `https://localhost:PORT`.
    pub address: String,
    /// A client without a cookie store: cookies are handled explicitly by [`TestUser`].
    pub client: reqwest::Client,
    /// The instances and their balancer, in the balanced topology.
    deployment: Option<Deployment>,
}

impl TestApp {
    /// A server with the default configuration (secure cookies, production-like defaults),
    /// in the topology of `TASKFLOW_TEST_TOPOLOGY`.
    pub async fn spawn() -> Self {
        Spawn::from_env().spawn().await
    }

    /// A server with extra `TASKFLOW_*` variables (for example a rate limit).
    pub async fn spawn_with(vars: &[(&str, &str)]) -> Self {
        Spawn::from_env().spawn_with(vars).await
    }

    /// A server like [`spawn_with`](Self::spawn_with) whose services read time from `clock`
    /// (tokens, sessions, login throttling, task timestamps), so tests move time without
    /// sleeping; the auth rate limits follow it too. The in-process limits (`refresh-ip`,
    /// `api-user`) keep the real monotonic clock.
    pub async fn spawn_with_clock(vars: &[(&str, &str)], clock: Arc<ManualClock>) -> Self {
        Spawn::from_env().spawn_with_clock(vars, clock).await
    }

    /// A server like [`spawn_with`](Self::spawn_with) verifying access tokens with `keys`
    /// (to test key rotation, which the environment cannot configure).
    pub async fn spawn_with_keys(vars: &[(&str, &str)], keys: KeySet) -> Self {
        Spawn::from_env().spawn_with_keys(vars, keys).await
    }

    /// A server over `stores` (a failing store, say), with every other part replaceable.
    pub async fn spawn_full(
        vars: &[(&str, &str)],
        stores: Stores,
        clock: Arc<dyn Clock>,
        keys: Option<KeySet>,
    ) -> Self {
        Spawn::from_env()
            .spawn_full(vars, stores, clock, keys)
            .await
    }

    /// Spawns on one instance whatever the topology, for a test that cannot hold behind a
    /// balancer by its nature (`because` says which).
    pub fn single(because: SingleInstance) -> Spawn {
        let _ = because;
        Spawn {
            topology: Topology::Single,
        }
    }

    /// Spawns in the balanced topology, for the tests of several instances; `None` (the test
    /// skips, with a note) unless the run is in that topology (`TASKFLOW_TEST_TOPOLOGY=balanced`,
    /// as scripts/test.sh's balanced step runs it).
    pub fn balanced(test: &str) -> Option<Spawn> {
        let topology = Topology::from_env();
        if topology != Topology::Balanced {
            eprintln!("skipping {test}: it runs with TASKFLOW_TEST_TOPOLOGY=balanced");
            return None;
        }
        Some(Spawn { topology })
    }

    /// The test configuration: the defaults of [`spawn`](Self::spawn) overridden by `vars`.
    pub fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_map(&Self::config_vars(vars)).expect("valid test configuration")
    }

    /// The variables of [`config`](Self::config).
    fn config_vars(vars: &[(&str, &str)]) -> HashMap<String, String> {
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
        map
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
            deployment: None,
        }
    }

    /// A client of the deployment behind `balancer` (whose instances the caller runs).
    pub fn through(balancer: &deployment::Balancer) -> Self {
        Self {
            address: balancer.url(),
            client: balancer.client(),
            deployment: None,
        }
    }

    /// The deployment's instances, each as a client talking to it directly (bypassing the
    /// balancer), in the balancer's order.
    ///
    /// # Panics
    /// Unless this app is balanced.
    pub fn instances(&self) -> Vec<TestApp> {
        self.deployment()
            .instances()
            .iter()
            .map(|i| Self::at(i.address))
            .collect()
    }

    /// The adapter of each instance, in the balancer's order.
    ///
    /// # Panics
    /// Unless this app is balanced.
    pub fn adapters(&self) -> Vec<Adapter> {
        self.deployment()
            .instances()
            .iter()
            .map(|i: &Instance| i.adapter)
            .collect()
    }

    fn deployment(&self) -> &Deployment {
        self.deployment
            .as_ref()
            .expect("a balanced app (TestApp::balanced)")
    }

    /// The upstream of every request the balancer logged (see
    /// [`Balancer::upstreams_logged`](deployment::Balancer::upstreams_logged)).
    ///
    /// # Panics
    /// Unless this app is balanced.
    pub fn upstreams_logged(&self) -> Vec<String> {
        self.deployment().balancer().upstreams_logged()
    }

    /// `GET /metrics` with `headers`, asserted 200 in the text format, as the deployment's
    /// operator reads it: from the one instance; in the balanced topology from every instance
    /// directly (as Prometheus scrapes each target), summed series by series (as
    /// `sum without (instance)` would).
    pub async fn scrape(&self, headers: HeaderMap) -> String {
        let targets = match &self.deployment {
            None => vec![self.client.get(format!("{}/metrics", self.address))],
            Some(deployment) => deployment
                .instances()
                .iter()
                .map(|i| self.client.get(format!("http://{}/metrics", i.address)))
                .collect(),
        };
        let mut texts = Vec::new();
        for target in targets {
            let response = target
                .headers(headers.clone())
                .send()
                .await
                .expect("scraped");
            assert_eq!(response.status(), 200, "GET /metrics");
            assert!(
                header(&response, "content-type").is_some_and(|ct| ct.starts_with("text/plain"))
            );
            texts.push(response.text().await.expect("body"));
        }
        match self.deployment {
            None => texts.pop().expect("one exposition"),
            Some(_) => deployment::sum_expositions(&texts),
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

/// How a test's server is spawned: in the topology of `TASKFLOW_TEST_TOPOLOGY`
/// ([`from_env`](Self::from_env), what `TestApp::spawn*` use), or in one the test declares
/// ([`TestApp::single`], [`TestApp::balanced`]).
#[derive(Debug, Clone, Copy)]
pub struct Spawn {
    topology: Topology,
}

impl Spawn {
    /// The topology of `TASKFLOW_TEST_TOPOLOGY`.
    pub fn from_env() -> Self {
        Self {
            topology: Topology::from_env(),
        }
    }

    /// See [`TestApp::spawn`].
    pub async fn spawn(self) -> TestApp {
        self.spawn_with(&[]).await
    }

    /// See [`TestApp::spawn_with`].
    pub async fn spawn_with(self, vars: &[(&str, &str)]) -> TestApp {
        self.assemble(vars, Arc::new(SystemClock), None).await
    }

    /// See [`TestApp::spawn_with_clock`]. Balanced, the instances share the clock.
    pub async fn spawn_with_clock(self, vars: &[(&str, &str)], clock: Arc<ManualClock>) -> TestApp {
        self.assemble(vars, clock, None).await
    }

    /// See [`TestApp::spawn_with_keys`]. Balanced, every instance has the keys.
    pub async fn spawn_with_keys(self, vars: &[(&str, &str)], keys: KeySet) -> TestApp {
        self.assemble(vars, Arc::new(SystemClock), Some(keys)).await
    }

    /// The application as the example servers build it, with the clock and keys replaced,
    /// over the suite's store; balanced, each instance with its own connection pool to one
    /// shared database.
    async fn assemble(
        self,
        vars: &[(&str, &str)],
        clock: Arc<dyn Clock>,
        keys: Option<KeySet>,
    ) -> TestApp {
        match self.topology {
            Topology::Single => {
                self.spawn_full(vars, test_stores().await, clock, keys)
                    .await
            }
            Topology::Balanced => {
                let database = fresh_database();
                let mut stores = Vec::new();
                for _ in 0..INSTANCES {
                    stores.push(mongo_stores(&database).await);
                }
                Self::balance(vars, stores, clock, keys).await
            }
        }
    }

    /// See [`TestApp::spawn_full`]. Balanced, the instances share `stores` (one connection
    /// pool), as they would share the database behind it.
    pub async fn spawn_full(
        self,
        vars: &[(&str, &str)],
        stores: Stores,
        clock: Arc<dyn Clock>,
        keys: Option<KeySet>,
    ) -> TestApp {
        match self.topology {
            Topology::Single => {
                let config = TestApp::config(vars);
                let app = config.app_with(stores, clock, keys).expect("app");
                TestApp::serve(Adapter::from_env(), app).await
            }
            Topology::Balanced => {
                let stores = vec![stores; INSTANCES];
                Self::balance(vars, stores, clock, keys).await
            }
        }
    }

    /// One instance per store, all of the same configuration (one parse, so one deployment
    /// secret even where the development profile makes it up), trusting the balancer; nginx
    /// in front of them.
    async fn balance(
        vars: &[(&str, &str)],
        stores: Vec<Stores>,
        clock: Arc<dyn Clock>,
        keys: Option<KeySet>,
    ) -> TestApp {
        let mut map = TestApp::config_vars(vars);
        deployment::trusting_the_balancer(&mut map);
        // The suite's tests expect a revocation to stop a token at once, which holds on every
        // instance only when none caches session checks; the instance tests set the contract's
        // bound themselves and check that it holds.
        map.entry("TASKFLOW_SESSION_CACHE_MS".to_owned())
            .or_insert_with(|| "0".to_owned());
        let config = Config::from_map(&map).expect("valid test configuration");
        let apps = stores
            .into_iter()
            .map(|stores| {
                config
                    .app_with(stores, clock.clone(), keys.clone())
                    .expect("app")
            })
            .collect();
        let deployment = Deployment::start(apps).await;
        TestApp {
            address: deployment.balancer().url(),
            client: deployment.balancer().client(),
            deployment: Some(deployment),
        }
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
