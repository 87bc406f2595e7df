//! Per-request and per-connection limits: request timeout, load shedding, panics, slow
//! headers, idle connections and the request cap per connection.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use taskflow::core::SystemClock;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::gate::{Gate, Mode, closed_by_server, raw_get, raw_response};
use crate::helpers::*;

const STATS: &str = "/api/v1/tasks/stats";

async fn spawn_gated(vars: &[(&str, &str)], gate: &Arc<Gate>) -> TestApp {
    TestApp::spawn_full(vars, gate.stores(), Arc::new(SystemClock), None).await
}

/// A metric's value in the deployment's exposition.
async fn metric(app: &TestApp, name: &str) -> String {
    let text = app.scrape(HeaderMap::new()).await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .to_owned()
}

#[tokio::test]
async fn a_stuck_storage_call_ends_as_a_504_problem() {
    let gate = Gate::new(Mode::Wait);
    let app = spawn_gated(&[("TASKFLOW_REQUEST_TIMEOUT_SECS", "1")], &gate).await;
    let user = app.register("stuck@example.com").await;
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        app.get(STATS, user.browser_headers()),
    )
    .await
    .expect("an answer rather than a hang");
    assert_problem(response, 504, "timeout").await;
    assert_eq!(metric(&app, "taskflow_request_timeouts_total").await, "1");
    // The storage call that had started is not cancelled halfway: it ends once it can.
    gate.release();
    gate.passed(1).await;
}

#[tokio::test]
async fn over_the_concurrency_limit_requests_are_shed_at_once() {
    let gate = Gate::new(Mode::Wait);
    // The limit is per instance: behind a balancer the next request goes to another one.
    let app = TestApp::single(SingleInstance::PerInstanceLimit)
        .spawn_full(
            &[("TASKFLOW_MAX_CONCURRENT_REQUESTS", "1")],
            gate.stores(),
            Arc::new(SystemClock),
            None,
        )
        .await;
    let user = app.register("busy@example.com").await;
    let parked = {
        let (app, headers) = (TestApp::at(address_of(&app)), user.browser_headers());
        tokio::spawn(async move { app.get(STATS, headers).await.status() })
    };
    gate.parked(1).await;
    let shed = app.get(STATS, user.browser_headers()).await;
    assert_eq!(header(&shed, "retry-after"), Some("1"));
    assert_problem(shed, 503, "overloaded").await;
    let live = app.get("/health/live", HeaderMap::new()).await;
    assert_eq!(live.status(), 200, "liveness is exempt");
    let ready = app.get("/health/ready", HeaderMap::new()).await;
    assert_problem(ready, 503, "overloaded").await;
    gate.release();
    assert_eq!(parked.await.expect("parked request"), 200);
    let after = app.get(STATS, user.browser_headers()).await;
    assert_eq!(after.status(), 200);
    assert_eq!(metric(&app, "taskflow_load_shed_total").await, "2");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_problem_and_the_server_goes_on() {
    let gate = Gate::new(Mode::Panic);
    let app = spawn_gated(&[], &gate).await;
    let user = app.register("panic@example.com").await;
    let response = app.get(STATS, user.browser_headers()).await;
    let problem = assert_problem(response, 500, "internal").await;
    assert!(!problem.to_string().contains("blew up"), "{problem}");
    let me = app.get("/api/v1/auth/me", user.browser_headers()).await;
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn a_slow_request_head_is_cut_off_while_others_are_served() {
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[("TASKFLOW_HEADER_READ_TIMEOUT_SECS", "1")])
        .await;
    let mut slow = TcpStream::connect(address_of(&app)).await.expect("connect");
    slow.write_all(b"GET /health/live HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        .await
        .expect("write");
    let mut silent = TcpStream::connect(address_of(&app)).await.expect("connect");
    let served = app.get("/health/live", HeaderMap::new()).await;
    assert_eq!(served.status(), 200);
    closed_by_server(&mut slow).await;
    closed_by_server(&mut silent).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_keep_alive_timeout() {
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[("TASKFLOW_KEEP_ALIVE_TIMEOUT_SECS", "1")])
        .await;
    let mut stream = TcpStream::connect(address_of(&app)).await.expect("connect");
    raw_get(&mut stream, "/health/live").await;
    let (head, _) = raw_response(&mut stream).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    closed_by_server(&mut stream).await;
}

#[tokio::test]
async fn the_nth_response_of_a_connection_closes_it() {
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[("TASKFLOW_MAX_REQUESTS_PER_CONNECTION", "3")])
        .await;
    let mut stream = TcpStream::connect(address_of(&app)).await.expect("connect");
    for n in 1..=3 {
        raw_get(&mut stream, "/health/live").await;
        let (head, body) = raw_response(&mut stream).await;
        assert!(head.starts_with("http/1.1 200"), "{n}: {head}");
        assert_eq!(body, br#"{"status":"ok"}"#);
        assert_eq!(head.contains("connection: close"), n == 3, "{n}: {head}");
    }
    closed_by_server(&mut stream).await;
}

/// The `host:port` a test app listens on.
pub(super) fn address_of(app: &TestApp) -> std::net::SocketAddr {
    app.address
        .trim_start_matches("http://")
        .parse()
        .expect("address")
}

#[tokio::test]
async fn the_openapi_document_lists_the_guards_answers() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app
        .get("/api/v1/openapi.json", HeaderMap::new())
        .await
        .json()
        .await
        .expect("json");
    let responses = &doc["paths"]["/api/v1/tasks"]["post"]["responses"];
    for status in ["403", "503", "504"] {
        let schema = &responses[status]["content"]["application/problem+json"]["schema"];
        assert_eq!(schema["$ref"], "#/components/schemas/Problem", "{status}");
    }
    let live = &doc["paths"]["/health/live"]["get"]["responses"];
    assert!(live["503"].is_null() && live["403"].is_null(), "{live}");
}

#[tokio::test]
async fn connections_over_the_cap_per_address_are_closed_at_once() {
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[("TASKFLOW_MAX_CONNECTIONS_PER_IP", "3")])
        .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(address_of(&app)).await.expect("connect");
        raw_get(&mut stream, "/health/live").await;
        let (head, _) = raw_response(&mut stream).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        open.push(stream);
    }
    let mut fourth = TcpStream::connect(address_of(&app)).await.expect("connect");
    // Whether the request is written before the server closes is a race; no answer comes.
    let _ = fourth
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), fourth.read_to_end(&mut answer))
        .await
        .expect("the server closes the fourth connection");
    assert!(read.is_err() || answer.is_empty(), "answered: {answer:?}");
    // The three still serve; once one closes, its address may connect again.
    raw_get(&mut open[0], "/health/live").await;
    assert!(
        raw_response(&mut open[0])
            .await
            .0
            .starts_with("http/1.1 200")
    );
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut again = loop {
        let mut again = TcpStream::connect(address_of(&app)).await.expect("connect");
        raw_get(&mut again, "/metrics").await;
        let mut first = [0u8; 12];
        if again.read_exact(&mut first).await.is_ok() {
            assert_eq!(&first, b"HTTP/1.1 200");
            break again;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed connection's slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The rest of that answer, then the metrics again on the same connection.
    raw_response(&mut again).await;
    raw_get(&mut again, "/metrics").await;
    let (_, body) = raw_response(&mut again).await;
    let text = String::from_utf8(body).expect("metrics");
    let refused = text
        .lines()
        .find_map(|l| l.strip_prefix("taskflow_connections_refused_total "))
        .expect("the refusal counter");
    assert!(refused.parse::<u32>().expect("a count") >= 1, "{text}");
}

#[tokio::test]
async fn a_trusted_proxy_is_not_capped() {
    // The test client is the trusted proxy, holding connections to the instance itself.
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[
            ("TASKFLOW_MAX_CONNECTIONS_PER_IP", "1"),
            ("TASKFLOW_TRUSTED_PROXIES", "127.0.0.1"),
        ])
        .await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(address_of(&app)).await.expect("connect");
        raw_get(&mut stream, "/health/live").await;
        let (head, _) = raw_response(&mut stream).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        streams.push(stream);
    }
}
