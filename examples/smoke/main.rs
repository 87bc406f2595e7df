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

mod browser;
mod report;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use serde_json::json;

use crate::browser::Browser;
use crate::report::{expect, step};

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

const TASKS: &str = "/api/v1/tasks";

/// How long other instances of a deployment may still accept an ended session's access token:
/// the longest session-check cache (`TASKFLOW_SESSION_CACHE_MS`, at most 1 s), with a margin.
const REVOCATION_BOUND: Duration = Duration::from_millis(1500);

/// The journey; stops at the first failed step.
async fn journey(browser: &mut Browser, run_id: &str) -> Option<()> {
    let email = format!("{run_id}@smoke.example.com");
    let credentials = json!({"email": email, "password": format!("{run_id}-password")});
    let mut registration = credentials.clone();
    registration["name"] = json!("TaskFlow monitor");

    let sent = browser.send(Method::GET, "/health/ready", None).await;
    step("ready", sent, 200, |_| Ok(()))?;

    let sent = browser
        .send(Method::POST, "/api/v1/auth/register", Some(&registration))
        .await;
    step("register", sent, 201, |b| {
        expect(b["user"]["email"] == email, "another user came back")
    })?;

    // A fresh session, as a returning user gets.
    browser.jar.clear();
    let sent = browser
        .send(Method::POST, "/api/v1/auth/login", Some(&credentials))
        .await;
    let has_csrf =
        browser.cookie("taskflow_csrf").is_some() && browser.cookie("taskflow_access").is_some();
    step("login", sent, 200, |_| {
        expect(has_csrf, "no access or CSRF cookie set")
    })?;

    let new_task = json!({"title": "Monitor check", "tags": ["smoke"]});
    let sent = browser.send(Method::POST, TASKS, Some(&new_task)).await;
    let id = step("create task", sent, 201, |b| {
        b["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no task id".to_owned())
    })?;
    let path = format!("{TASKS}/{id}");

    let sent = browser.send(Method::GET, TASKS, None).await;
    step("list tasks", sent, 200, |b| {
        let listed = b["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["id"] == id.as_str()));
        expect(listed, "the new task is not listed")
    })?;

    let sent = browser
        .send(Method::PATCH, &path, Some(&json!({"completed": true})))
        .await;
    step("update task", sent, 200, |b| {
        expect(
            b["completed"] == true && b["version"] == 2,
            "the change was not applied",
        )
    })?;

    let sent = browser.send(Method::DELETE, &path, None).await;
    step("delete task", sent, 204, |_| Ok(()))?;

    let sent = browser.send(Method::GET, &path, None).await;
    step("deleted task is gone", sent, 404, |_| Ok(()))?;

    let session = browser.jar.clone();
    let sent = browser
        .send(Method::POST, "/api/v1/auth/logout", None)
        .await;
    let cleared = browser.jar.is_empty();
    step("logout", sent, 204, |_| {
        expect(cleared, "the session cookies were not cleared")
    })?;

    // The cookies of the ended session, as a stolen copy would present them. Behind a load
    // balancer the request may reach another instance, which may still hold the session check
    // for up to `REVOCATION_BOUND` (contract v1.1): until then an acceptance is asked again.
    browser.jar = session;
    let ended = Instant::now();
    let sent = loop {
        let sent = browser.send(Method::GET, "/api/v1/auth/me", None).await;
        let accepted = sent.reply.as_ref().is_ok_and(|reply| reply.status == 200);
        if !accepted || ended.elapsed() >= REVOCATION_BOUND {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    step("old access is refused", sent, 401, |_| Ok(()))?;

    let sent = browser
        .send(Method::POST, "/api/v1/auth/refresh", None)
        .await;
    step("old refresh is refused", sent, 401, |_| Ok(()))
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
    let mut browser = match Browser::new(&options.base, options.timeout, run_id.clone()) {
        Ok(browser) => browser,
        Err(e) => {
            eprintln!("smoke: cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    report::header(&options.base, &run_id);
    if journey(&mut browser, &run_id).await.is_some() {
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
}
