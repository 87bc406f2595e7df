//! `examples/embed_axum.rs`: TaskFlow with its own authentication nested under `/tasks-app` in
//! a host axum service.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::embed_axum::{PREFIX, host, taskflow_app};
use crate::{client, host_not_found, listen, problem};

/// The host on a random port: its base URL.
async fn spawn() -> String {
    let app = taskflow_app().expect("the app");
    let (listener, base) = listen().await;
    tokio::spawn(async move { axum::serve(listener, host(&app)).await });
    base
}

/// `name=value` of each cookie a response sets, and each `Set-Cookie` line.
fn cookies(response: &reqwest::Response) -> (HashMap<String, String>, Vec<String>) {
    let lines: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    let pairs = lines
        .iter()
        .filter_map(|line| line.split(';').next()?.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    (pairs, lines)
}

#[tokio::test]
async fn the_host_keeps_its_routes_and_its_fallback() {
    let base = spawn().await;
    let client = client();
    let home = client.get(format!("{base}/")).send().await.expect("home");
    assert_eq!(home.status(), 200);
    assert!(home.text().await.expect("text").contains("visit 1"));
    let about = client
        .get(format!("{base}/about"))
        .send()
        .await
        .expect("about");
    assert_eq!(
        about.text().await.expect("text"),
        "A host service that embeds TaskFlow.\n"
    );
    // Outside the prefix, and inside it where TaskFlow has no route: the host's 404.
    for path in [
        "/nope",
        "/api/v1/tasks",
        "/tasks-app/nope",
        "/tasks-app/api/v1/nope",
    ] {
        host_not_found(
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .expect(path),
        )
        .await;
    }
    // TaskFlow's own paths with another method: TaskFlow's 405, with its `Allow`.
    let put = client
        .put(format!("{base}{PREFIX}/api/v1/tasks"))
        .send()
        .await
        .expect("put");
    assert_eq!(put.headers()["allow"], "GET, POST");
    assert_eq!(problem(put, 405).await["code"], "method_not_allowed");
    // A CORS preflight on a TaskFlow path is TaskFlow's answer (not axum's 405 with `Allow`).
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}{PREFIX}/api/v1/tasks"),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), 204);
    assert!(preflight.headers().contains_key("x-request-id"));
    assert!(!preflight.headers().contains_key("allow"));
    let live = client
        .get(format!("{base}{PREFIX}/health/live"))
        .send()
        .await
        .expect("live");
    assert_eq!(live.status(), 200);
}

#[tokio::test]
async fn taskflow_answers_under_the_prefix_with_prefixed_cookie_paths_and_locations() {
    let base = spawn().await;
    let client = client();
    let api = format!("{base}{PREFIX}/api/v1");
    let registered = client
        .post(format!("{api}/auth/register"))
        .json(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201);
    let (jar, lines) = cookies(&registered);
    let refresh_line = lines
        .iter()
        .find(|line| line.starts_with("taskflow_refresh="))
        .expect("a refresh cookie");
    assert!(
        refresh_line.contains("; Path=/tasks-app/api/v1/auth;"),
        "{refresh_line}"
    );
    let cookie_header = |jar: &HashMap<String, String>| {
        jar.iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let csrf = jar["taskflow_csrf"].clone();
    let created = client
        .post(format!("{api}/tasks"))
        .header("cookie", cookie_header(&jar))
        .header("x-csrf-token", &csrf)
        .json(&json!({"title": "Nested"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let task: Value = created.json().await.expect("the task");
    assert_eq!(
        location,
        format!(
            "/tasks-app/api/v1/tasks/{}",
            task["id"].as_str().expect("id")
        )
    );
    let fetched = client
        .get(format!("{base}{location}"))
        .header("cookie", cookie_header(&jar))
        .send()
        .await
        .expect("get");
    assert_eq!(fetched.status(), 200);
    // The refresh works at the prefixed path, where the browser sends its cookie.
    let refreshed = client
        .post(format!("{api}/auth/refresh"))
        .header("cookie", cookie_header(&jar))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("refresh");
    assert_eq!(refreshed.status(), 200);
    let (rotated, _) = cookies(&refreshed);
    assert_ne!(rotated["taskflow_refresh"], jar["taskflow_refresh"]);
    // The document says where the API is.
    let document: Value = client
        .get(format!("{api}/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("JSON");
    assert_eq!(document["servers"], json!([{ "url": "/tasks-app" }]));
    assert!(document["paths"]["/api/v1/tasks/{id}"].is_object());
}
