//! A browser-like HTTP client of one deployment: keeps the cookies the server sets (sending
//! each back under its `Path`, as a browser would, `Secure` or not, since the monitor also
//! checks plain-http servers) and sends the CSRF cookie back in `X-CSRF-Token` on unsafe
//! methods (api.md).

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};
use reqwest::{Client, Method, StatusCode, Url};
use serde_json::Value;

/// A cookie as the server set it: sent back on requests under its `Path`.
#[derive(Debug, Clone)]
pub(crate) struct Cookie {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) path: String,
}

/// One answer, its body read (JSON, or `Null` when empty or not JSON).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

/// One request and how long it took.
pub(crate) struct Exchange {
    pub(crate) elapsed: Duration,
    pub(crate) reply: Result<Reply, String>,
}

/// A browser-like client of one deployment: keeps the cookies, sends the CSRF header.
pub(crate) struct Browser {
    pub(crate) client: Client,
    pub(crate) base: String,
    pub(crate) jar: Vec<Cookie>,
    pub(crate) run_id: String,
    pub(crate) requests: u32,
}

impl Browser {
    /// A client of `base` whose every request (connection included) must finish within
    /// `timeout`; request ids are `{run_id}-{n}`.
    pub(crate) fn new(
        base: &Url,
        timeout: Duration,
        run_id: String,
    ) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("taskflow-smoke/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let base = base.as_str().trim_end_matches('/').to_owned();
        Ok(Self {
            client,
            base,
            jar: Vec::new(),
            run_id,
            requests: 0,
        })
    }

    /// Sends one request and times it (from the first byte sent to the last one read).
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Exchange {
        let started = Instant::now();
        let reply = self.request(method, path, body).await;
        Exchange {
            elapsed: started.elapsed(),
            reply,
        }
    }

    /// Sends one request; the error is a short reason for the table.
    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        self.requests += 1;
        let mut headers = HeaderMap::new();
        let request_id = format!("{}-{}", self.run_id, self.requests);
        headers.insert("x-request-id", header_value(&request_id)?);
        let cookies = self.cookie_header(path);
        if !cookies.is_empty() {
            headers.insert("cookie", header_value(&cookies)?);
        }
        let safe = matches!(method, Method::GET | Method::HEAD);
        if let (false, Some(csrf)) = (safe, self.cookie("taskflow_csrf")) {
            headers.insert("x-csrf-token", header_value(csrf)?);
        }
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .headers(headers);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(reason)?;
        let status = response.status();
        self.absorb(response.headers());
        let bytes = response.bytes().await.map_err(reason)?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply { status, body })
    }

    pub(crate) fn absorb(&mut self, headers: &HeaderMap) {
        for set in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let mut parts = set.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let mut path = "/".to_owned();
            let mut expired = value.is_empty();
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                if key.eq_ignore_ascii_case("path") {
                    val.clone_into(&mut path);
                } else if key.eq_ignore_ascii_case("max-age") && val == "0" {
                    expired = true;
                }
            }
            self.jar.retain(|c| c.name != name);
            if !expired {
                let (name, value) = (name.to_owned(), value.to_owned());
                self.jar.push(Cookie { name, value, path });
            }
        }
    }

    pub(crate) fn cookie(&self, suffix: &str) -> Option<&str> {
        self.jar
            .iter()
            .find(|c| c.name.ends_with(suffix))
            .map(|c| c.value.as_str())
    }

    pub(crate) fn cookie_header(&self, path: &str) -> String {
        let under = |prefix: &str| {
            let prefix = prefix.trim_end_matches('/');
            path == prefix || path.starts_with(&format!("{prefix}/"))
        };
        let pairs: Vec<String> = self
            .jar
            .iter()
            .filter(|c| under(&c.path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        pairs.join("; ")
    }
}

fn header_value(text: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(text).map_err(|_| "a header value is not visible ASCII".to_owned())
}

/// A short, URL-free reason for a transport error.
fn reason(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        error.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_follow_set_cookie_and_their_path() {
        let base = Url::parse("http://x").unwrap();
        let mut browser = Browser::new(&base, Duration::from_secs(1), "r".into()).unwrap();
        let mut headers = HeaderMap::new();
        for set in [
            "__Host-taskflow_access=a; HttpOnly; Secure; SameSite=Lax; Path=/",
            "__Secure-taskflow_refresh=r; HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth",
        ] {
            headers.append(SET_COOKIE, HeaderValue::from_static(set));
        }
        browser.absorb(&headers);
        assert_eq!(
            browser.cookie_header("/api/v1/tasks"),
            "__Host-taskflow_access=a"
        );
        assert_eq!(
            browser.cookie_header("/api/v1/auth/refresh"),
            "__Host-taskflow_access=a; __Secure-taskflow_refresh=r"
        );
        let mut cleared = HeaderMap::new();
        cleared.append(
            SET_COOKIE,
            HeaderValue::from_static("__Host-taskflow_access=; Path=/; Max-Age=0"),
        );
        browser.absorb(&cleared);
        assert_eq!(browser.cookie_header("/api/v1/tasks"), "");
    }
}
