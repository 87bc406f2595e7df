//! The API monitor: walks one user's whole journey through a running TaskFlow deployment
//! (ready, register, login, create, list, update, delete, logout, and checks that the session
//! is really gone) the way a browser does it (cookies and the CSRF header, api.md), prints one
//! table row per step (HTTP status, latency, ok or FAIL with a short reason) and exits
//! non-zero on the first failure, so that cron or any uptime checker can run it.
//!
//! ```sh
//! cargo run --release --example smoke -- --base-url https://api.example.com
//! TASKFLOW_SMOKE_URL=http://127.0.0.1:8080 target/release/examples/smoke
//! ```
//!
//! Exit codes: 0 every step passed, 1 a step failed, 2 usage error.

// This is a command-line tool: its table is its output.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};
use reqwest::{Client, Method, StatusCode, Url};
use serde_json::{Value, json};

const USAGE: &str = "usage: smoke [--base-url URL] [--timeout-secs N]

  --base-url URL     the deployment to check, http:// or https:// (or TASKFLOW_SMOKE_URL)
  --timeout-secs N   time limit of each step, in seconds (or TASKFLOW_SMOKE_TIMEOUT_SECS; default 10)

Exit codes: 0 every step passed, 1 a step failed, 2 usage error.";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the command line asks for.
#[derive(Debug)]
struct Options {
    base: Url,
    timeout: Duration,
}

fn parse_args(
    mut args: impl Iterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Options>, String> {
    let mut base = env("TASKFLOW_SMOKE_URL");
    let mut timeout = env("TASKFLOW_SMOKE_TIMEOUT_SECS");
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--base-url" => &mut base,
            "--timeout-secs" => &mut timeout,
            other => return Err(format!("unknown argument {other:?}")),
        };
        *slot = Some(args.next().ok_or_else(|| format!("{arg} needs a value"))?);
    }
    let base = base
        .filter(|b| !b.trim().is_empty())
        .ok_or("no base URL: pass --base-url or set TASKFLOW_SMOKE_URL")?;
    let base = Url::parse(base.trim()).map_err(|e| format!("base URL {base:?}: {e}"))?;
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
        return Err(format!(
            "base URL {base}: expected http://HOST or https://HOST"
        ));
    }
    let timeout = match timeout {
        None => DEFAULT_TIMEOUT,
        Some(secs) => match secs.trim().parse::<u64>() {
            Ok(n) if n > 0 => Duration::from_secs(n),
            _ => {
                return Err(format!(
                    "timeout {secs:?}: expected a positive number of seconds"
                ));
            }
        },
    };
    Ok(Some(Options { base, timeout }))
}

/// A cookie as the server set it: sent back on requests under its `Path`.
#[derive(Debug, Clone)]
struct Cookie {
    name: String,
    value: String,
    path: String,
}

/// One answer, its body read (JSON, or `Null` when empty or not JSON).
struct Reply {
    status: StatusCode,
    body: Value,
}

/// A browser-like client of one deployment: keeps the cookies, sends the CSRF header.
struct Browser {
    client: Client,
    base: String,
    jar: Vec<Cookie>,
    run_id: String,
    requests: u32,
}

impl Browser {
    fn new(options: &Options, run_id: String) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("taskflow-smoke/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let base = options.base.as_str().trim_end_matches('/').to_owned();
        Ok(Self {
            client,
            base,
            jar: Vec::new(),
            run_id,
            requests: 0,
        })
    }

    /// Sends one request; the error is a short reason for the table.
    async fn send(
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

    fn absorb(&mut self, headers: &HeaderMap) {
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

    fn cookie(&self, suffix: &str) -> Option<&str> {
        self.jar
            .iter()
            .find(|c| c.name.ends_with(suffix))
            .map(|c| c.value.as_str())
    }

    fn cookie_header(&self, path: &str) -> String {
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

/// The table, printed row by row so a hung step still shows what went before.
#[derive(Default)]
struct Report {
    failed: bool,
}

impl Report {
    fn header(base: &Url, run_id: &str) {
        println!("TaskFlow API monitor: {base} (request ids {run_id}-N)");
        println!("{:<24} {:>6} {:>9}  result", "step", "status", "ms");
    }

    /// Records a step that expects `expected` and then `check` of the body; the value of
    /// `check` on success, `None` (the run stops) on failure.
    fn step<T>(
        &mut self,
        name: &str,
        started: Instant,
        reply: Result<Reply, String>,
        expected: u16,
        check: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        let millis = started.elapsed().as_millis();
        let status = reply
            .as_ref()
            .map_or_else(|_| "-".to_owned(), |r| r.status.as_u16().to_string());
        let outcome = reply.and_then(|r| {
            if r.status.as_u16() == expected {
                check(&r.body)
            } else {
                let code = r.body["code"]
                    .as_str()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                Err(format!(
                    "expected {expected}, got {}{code}",
                    r.status.as_u16()
                ))
            }
        });
        let result = match &outcome {
            Ok(_) => "ok".to_owned(),
            Err(why) => format!("FAIL: {why}"),
        };
        println!("{name:<24} {status:>6} {millis:>9}  {result}");
        self.failed |= outcome.is_err();
        outcome.ok()
    }
}

fn expect(condition: bool, why: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(why.to_owned())
    }
}

const TASKS: &str = "/api/v1/tasks";

/// The journey; stops at the first failed step.
async fn journey(browser: &mut Browser, report: &mut Report, run_id: &str) -> Option<()> {
    let email = format!("{run_id}@smoke.example.com");
    let credentials = json!({"email": email, "password": format!("{run_id}-password")});
    let mut registration = credentials.clone();
    registration["name"] = json!("TaskFlow monitor");

    let t = Instant::now();
    let reply = browser.send(Method::GET, "/health/ready", None).await;
    report.step("ready", t, reply, 200, |_| Ok(()))?;

    let t = Instant::now();
    let reply = browser
        .send(Method::POST, "/api/v1/auth/register", Some(&registration))
        .await;
    report.step("register", t, reply, 201, |b| {
        expect(b["user"]["email"] == email, "another user came back")
    })?;

    // A fresh session, as a returning user gets.
    browser.jar.clear();
    let t = Instant::now();
    let reply = browser
        .send(Method::POST, "/api/v1/auth/login", Some(&credentials))
        .await;
    let has_csrf =
        browser.cookie("taskflow_csrf").is_some() && browser.cookie("taskflow_access").is_some();
    report.step("login", t, reply, 200, |_| {
        expect(has_csrf, "no access or CSRF cookie set")
    })?;

    let t = Instant::now();
    let new_task = json!({"title": "Monitor check", "tags": ["smoke"]});
    let reply = browser.send(Method::POST, TASKS, Some(&new_task)).await;
    let id = report.step("create task", t, reply, 201, |b| {
        b["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no task id".to_owned())
    })?;
    let path = format!("{TASKS}/{id}");

    let t = Instant::now();
    let reply = browser.send(Method::GET, TASKS, None).await;
    report.step("list tasks", t, reply, 200, |b| {
        let listed = b["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["id"] == id.as_str()));
        expect(listed, "the new task is not listed")
    })?;

    let t = Instant::now();
    let reply = browser
        .send(Method::PATCH, &path, Some(&json!({"completed": true})))
        .await;
    report.step("update task", t, reply, 200, |b| {
        expect(
            b["completed"] == true && b["version"] == 2,
            "the change was not applied",
        )
    })?;

    let t = Instant::now();
    let reply = browser.send(Method::DELETE, &path, None).await;
    report.step("delete task", t, reply, 204, |_| Ok(()))?;

    let t = Instant::now();
    let reply = browser.send(Method::GET, &path, None).await;
    report.step("deleted task is gone", t, reply, 404, |_| Ok(()))?;

    let session = browser.jar.clone();
    let t = Instant::now();
    let reply = browser
        .send(Method::POST, "/api/v1/auth/logout", None)
        .await;
    let cleared = browser.jar.is_empty();
    report.step("logout", t, reply, 204, |_| {
        expect(cleared, "the session cookies were not cleared")
    })?;

    // The cookies of the ended session, as a stolen copy would present them.
    browser.jar = session;
    let t = Instant::now();
    let reply = browser.send(Method::GET, "/api/v1/auth/me", None).await;
    report.step("old access is refused", t, reply, 401, |_| Ok(()))?;

    let t = Instant::now();
    let reply = browser
        .send(Method::POST, "/api/v1/auth/refresh", None)
        .await;
    report.step("old refresh is refused", t, reply, 401, |_| Ok(()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1), |name| std::env::var(name).ok()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("smoke: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let run_id = format!("smoke-{}", taskflow::core::domain::SessionId::generate());
    let mut browser = match Browser::new(&options, run_id.clone()) {
        Ok(browser) => browser,
        Err(e) => {
            eprintln!("smoke: cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    Report::header(&options.base, &run_id);
    let mut report = Report::default();
    let finished = journey(&mut browser, &mut report, &run_id).await.is_some();
    if finished && !report.failed {
        println!("all steps passed");
        ExitCode::SUCCESS
    } else {
        println!("FAILED");
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Option<Options>, String> {
        let args = args.iter().map(|a| (*a).to_owned());
        parse_args(args, |name| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        let options = parse(
            &["--base-url", "https://api.example.com/"],
            &[("TASKFLOW_SMOKE_URL", "http://other")],
        )
        .unwrap()
        .unwrap();
        assert_eq!(options.base.as_str(), "https://api.example.com/");
        assert_eq!(options.timeout, DEFAULT_TIMEOUT);
        let options = parse(
            &[],
            &[
                ("TASKFLOW_SMOKE_URL", "http://127.0.0.1:8080"),
                ("TASKFLOW_SMOKE_TIMEOUT_SECS", "3"),
            ],
        )
        .unwrap()
        .unwrap();
        assert_eq!(options.base.port(), Some(8080));
        assert_eq!(options.timeout, Duration::from_secs(3));
    }

    #[test]
    fn usage_errors_are_refused() {
        for (args, env) in [
            (&[][..], &[][..]),
            (&["--base-url"][..], &[][..]),
            (&["--base-url", "ftp://example.com"][..], &[][..]),
            (&["--base-url", "not a url"][..], &[][..]),
            (
                &["--frobnicate"][..],
                &[("TASKFLOW_SMOKE_URL", "http://x")][..],
            ),
            (
                &["--timeout-secs", "0"][..],
                &[("TASKFLOW_SMOKE_URL", "http://x")][..],
            ),
        ] {
            assert!(parse(args, env).is_err(), "{args:?} {env:?}");
        }
        assert!(parse(&["--help"], &[]).unwrap().is_none());
    }

    #[test]
    fn cookies_follow_set_cookie_and_their_path() {
        let options = parse(&["--base-url", "http://x"], &[]).unwrap().unwrap();
        let mut browser = Browser::new(&options, "r".into()).unwrap();
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
