//! Compression: large pages of tasks are sent gzip- or brotli-coded when the client accepts
//! it, with a weak `ETag` that still revalidates; small answers and single tasks are not.

use std::io::Read as _;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::*;

/// A user with enough tasks that a page of 20 is well above the 1 KiB threshold.
async fn long_list() -> (TestApp, TestUser) {
    let app = TestApp::spawn().await;
    let user = app.register("zip@example.com").await;
    for n in 0..25 {
        let body = json!({"title": format!("task {n}"), "description": "d".repeat(120)});
        user.create_task(&app, body).await;
    }
    (app, user)
}

fn accepting(user: &TestUser, coding: &str) -> HeaderMap {
    with_headers(user.browser_headers(), &[("accept-encoding", coding)])
}

fn must(response: &reqwest::Response, name: &str) -> String {
    header(response, name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_owned()
}

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out),
        "br" => brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out),
        other => panic!("unexpected coding {other}"),
    }
    .expect("decodes");
    out
}

#[tokio::test]
async fn a_large_page_is_compressed_as_asked_and_decodes_to_the_same_json() {
    let (app, user) = long_list().await;
    let plain = app
        .get("/api/v1/tasks?limit=20", user.browser_headers())
        .await;
    assert!(plain.headers().get("content-encoding").is_none());
    let strong = must(&plain, "etag");
    let identity: Value = json_body(plain).await;
    for coding in ["gzip", "br"] {
        let response = app
            .get("/api/v1/tasks?limit=20", accepting(&user, coding))
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(must(&response, "content-encoding"), coding);
        let vary: Vec<_> = response.headers().get_all("vary").iter().collect();
        assert!(
            vary.iter()
                .any(|v| v.as_bytes().eq_ignore_ascii_case(b"accept-encoding")),
            "{vary:?}"
        );
        assert_eq!(must(&response, "etag"), format!("W/{strong}"));
        let bytes = response.bytes().await.expect("body");
        let decoded: Value = serde_json::from_slice(&decode(coding, &bytes)).expect("json");
        assert_eq!(decoded, identity, "{coding}");
        let raw = serde_json::to_vec(&identity).expect("json").len();
        assert!(
            bytes.len() * 2 < raw,
            "{coding}: {} of {raw} bytes",
            bytes.len()
        );
    }
}

#[tokio::test]
async fn the_weak_tag_of_a_compressed_page_still_revalidates() {
    let (app, user) = long_list().await;
    let first = app
        .get("/api/v1/tasks?limit=20", accepting(&user, "gzip"))
        .await;
    let weak = must(&first, "etag");
    let headers = with_headers(accepting(&user, "gzip"), &[("if-none-match", &weak)]);
    let again = app.get("/api/v1/tasks?limit=20", headers).await;
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn small_pages_and_single_tasks_are_sent_as_they_are() {
    let (app, user) = long_list().await;
    let small = app
        .get("/api/v1/tasks?limit=1", accepting(&user, "gzip"))
        .await;
    assert_eq!(small.status(), 200);
    assert!(small.headers().get("content-encoding").is_none());
    let page = user.list(&app, "limit=1").await;
    let id = page["items"][0]["id"].as_str().expect("id").to_owned();
    let long = json!({"description": "x".repeat(1900)});
    let patched = user.patch_task(&app, &id, &long, &[]).await;
    assert_eq!(patched.status(), 200);
    let task = app
        .get(&format!("/api/v1/tasks/{id}"), accepting(&user, "gzip, br"))
        .await;
    assert_eq!(task.status(), 200);
    assert!(task.headers().get("content-encoding").is_none());
    assert!(
        must(&task, "etag").starts_with('"'),
        "a version tag stays strong"
    );
}
