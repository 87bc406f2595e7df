//! Slowly sent bodies (issue 14): a request whose body trickles in must not keep its
//! concurrency permit past the body read deadline (`TASKFLOW_BODY_READ_TIMEOUT_SECS`); it is
//! answered 408 `request_timeout` and its connection closed, so other clients are served
//! again.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::gate::{closed_by_server, raw_response};
use super::limits::address_of;
use crate::helpers::*;

/// A login whose head says 60000 bytes of body follow, of which one is sent.
const TRICKLING_HEAD: &[u8] = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: slow\r\n\
    Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{";

/// The status line and problem (without its request id) of a raw response.
fn answer(head: &str, body: &[u8]) -> (String, serde_json::Value) {
    let status = head.lines().next().unwrap_or_default().to_owned();
    let problem = serde_json::from_slice(body).expect("a problem body");
    (status, without_request_id(problem))
}

#[tokio::test]
async fn trickling_bodies_time_out_and_free_their_slots() {
    // Raw connections to one instance, holding its concurrency permits (nginx would buffer
    // the bodies and time them out itself).
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[
            ("TASKFLOW_MAX_CONCURRENT_REQUESTS", "50"),
            ("TASKFLOW_BODY_READ_TIMEOUT_SECS", "2"),
        ])
        .await;
    let user = app.register("patient@example.com").await;

    // The attack: 60 connections, each a request head and one byte of a 60000-byte body.
    let (answers, mut answered) = mpsc::unbounded_channel();
    for _ in 0..60 {
        let mut stream = TcpStream::connect(address_of(&app)).await.expect("connect");
        stream.write_all(TRICKLING_HEAD).await.expect("write");
        let answers = answers.clone();
        tokio::spawn(async move {
            let (head, body) = raw_response(&mut stream).await;
            let closes = head.contains("connection: close");
            closed_by_server(&mut stream).await;
            let _ = answers.send((answer(&head, &body), closes));
        });
    }
    drop(answers);
    let next = async |answered: &mut mpsc::UnboundedReceiver<_>| {
        tokio::time::timeout(Duration::from_secs(15), answered.recv())
            .await
            .expect("every trickling request is answered")
            .expect("an answer")
    };
    // Ten over the limit are shed at once, so the other fifty hold every permit.
    for _ in 0..10 {
        let ((status, problem), _) = next(&mut answered).await;
        assert_eq!(status, "http/1.1 503 service unavailable");
        assert_eq!(problem["code"], "overloaded");
    }

    // Once their deadline passes, everyone else is served again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let stats = app.get("/api/v1/tasks/stats", user.browser_headers()).await;
        if stats.status() == 200 {
            break;
        }
        assert_eq!(stats.status(), 503, "shed while the slots are held");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the trickling bodies still hold every slot"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Each of the fifty got the timeout answer, and its connection was closed.
    for _ in 0..50 {
        let ((status, problem), closes) = next(&mut answered).await;
        assert_eq!(status, "http/1.1 408 request timeout");
        assert_eq!(
            problem,
            json!({
                "type": "urn:taskflow:problem:request_timeout",
                "title": "Request body too slow",
                "status": 408,
                "detail": "The request body must arrive within 2 seconds.",
                "code": "request_timeout",
            })
        );
        assert!(closes, "a 408 closes its connection");
    }
}

#[tokio::test]
async fn a_body_sent_in_pieces_within_the_deadline_is_read() {
    let app = TestApp::single(SingleInstance::Connection)
        .spawn_with(&[("TASKFLOW_BODY_READ_TIMEOUT_SECS", "5")])
        .await;
    app.register("pieces@example.com").await;
    let body = format!(
        r#"{{"email":"pieces@example.com","password":"{}"}}"#,
        TestUser::PASSWORD
    );
    let mut stream = TcpStream::connect(address_of(&app)).await.expect("connect");
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let (first, rest) = body.split_at(10);
    stream
        .write_all(first.as_bytes())
        .await
        .expect("first piece");
    stream.flush().await.expect("flush");
    tokio::task::yield_now().await;
    stream.write_all(rest.as_bytes()).await.expect("rest");
    let (head, _) = raw_response(&mut stream).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
}
