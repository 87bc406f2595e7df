//! Spawning a server per test and typed request helpers, in the manner of zero-to-production's
//! `spawn_app`.

use std::collections::HashMap;
use std::net::SocketAddr;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use taskflow::http::config::Config;
use taskflow::http::{App, Stores};

/// Which adapter serves the API.
#[derive(Debug, Clone, Copy)]
pub enum Adapter {
    /// taskflow-axum.
    Axum,
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
        let mut map: HashMap<String, String> = HashMap::from([
            ("TASKFLOW_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "TASKFLOW_ALLOWED_ORIGINS".to_owned(),
                "https://app.example.com".to_owned(),
            ),
            // High enough that ordinary tests never meet it; rate-limit tests lower it.
            ("TASKFLOW_AUTH_RATE_PER_MIN".to_owned(), "1000".to_owned()),
        ]);
        for (k, v) in vars {
            map.insert((*k).to_owned(), (*v).to_owned());
        }
        let config = Config::from_map(&map).expect("valid test configuration");
        let app = App::from_config(&config, Stores::memory()).expect("app");
        Self::serve(Adapter::Axum, app).await
    }

    async fn serve(adapter: Adapter, app: App) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address: SocketAddr = listener.local_addr().expect("address");
        match adapter {
            Adapter::Axum => {
                let service =
                    taskflow::axum::router(app).into_make_service_with_connect_info::<SocketAddr>();
                tokio::spawn(async move { axum::serve(listener, service).await });
            }
        }
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
