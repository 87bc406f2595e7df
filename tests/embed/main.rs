//! The embedding examples' host services over HTTP: the host's own routes and fallback stay
//! the host's, TaskFlow answers under the prefix (cookie paths, `Location` and the OpenAPI
//! document saying so), 404 and 405 are answered by whoever owns the path, the host's identity
//! names the user, and the guard layers work in an embedded router.
//!
//! The hosts are the examples' own code (`examples/embed_axum.rs`, `examples/embed_warp.rs`),
//! run in process on a random port.

#[path = "../../examples/embed_axum.rs"]
#[allow(dead_code)]
mod embed_axum;
#[path = "../../examples/embed_warp.rs"]
#[allow(dead_code)]
mod embed_warp;

mod axum_host;
mod guard;
mod warp_host;

use std::net::SocketAddr;

use reqwest::Response;
use serde_json::Value;

/// A listener on a random local port and its `http://` base URL.
async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address: SocketAddr = listener.local_addr().expect("address");
    (listener, format!("http://{address}"))
}

/// A client that follows no redirect and keeps no cookie (tests hold them).
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The problem+json body of `response`, after checking that it is one, with `status`.
async fn problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().expect("ascii");
    assert_eq!(content_type, "application/problem+json");
    response.json().await.expect("a JSON problem")
}

/// A host's own plain-text 404 (not a TaskFlow problem).
async fn host_not_found(response: Response) {
    assert_eq!(response.status(), 404);
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    assert!(!content_type.contains("problem"), "{content_type}");
    let text = response.text().await.expect("a body");
    assert_eq!(text, "The host has no such page.\n");
}
