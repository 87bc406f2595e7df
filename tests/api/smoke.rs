//! The shortest path through the API: register, create, list.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn register_create_and_list() {
    let app = TestApp::spawn().await;
    let user = app.register("smoke@example.com").await;
    let body = json!({"title": "Buy milk", "tags": ["home"]});
    let created = app
        .request(
            Method::POST,
            "/api/v1/tasks",
            Some(&body),
            user.browser_headers(),
        )
        .await;
    assert_eq!(created.status(), 201);
    let task: Value = created.json().await.expect("json");
    let list = app
        .request(Method::GET, "/api/v1/tasks", None, user.browser_headers())
        .await;
    assert_eq!(list.status(), 200);
    let page: Value = list.json().await.expect("json");
    assert_eq!(page["items"][0]["id"], task["id"]);
    assert_eq!(page["next_cursor"], Value::Null);
}
