//! Tenant isolation: no request can read, change or learn of another user's task.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::*;

/// An id that is well-formed and names no task.
const MISSING: &str = "0123456789abcdef01234567";

struct Tenants {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    task: Value,
}

async fn setup() -> Tenants {
    let app = TestApp::spawn().await;
    let alice = app.register("alice@example.com").await;
    let bob = app.register("bob@example.com").await;
    let task = alice
        .create_task(&app, json!({"title": "Alice's secret plan", "tags": ["secret"], "due_at": "2020-01-01T00:00:00Z"}))
        .await;
    Tenants {
        app,
        alice,
        bob,
        task,
    }
}

/// Asserts two answers are the same 404 apart from their request ids.
async fn assert_same_404(foreign: Response, missing: Response, what: &str) {
    assert_eq!(foreign.status(), 404, "{what}: foreign");
    assert_eq!(missing.status(), 404, "{what}: missing");
    let foreign = assert_problem(foreign, 404, "not_found").await;
    let missing = assert_problem(missing, 404, "not_found").await;
    assert_eq!(
        without_request_id(foreign),
        without_request_id(missing),
        "{what}"
    );
}

#[tokio::test]
async fn another_users_task_answers_exactly_like_a_missing_one() {
    let t = setup().await;
    let theirs = t.task["id"].as_str().expect("id");
    let (app, bob) = (&t.app, &t.bob);
    assert_same_404(
        bob.get_task(app, theirs).await,
        bob.get_task(app, MISSING).await,
        "GET",
    )
    .await;
    let body = json!({"title": "hijacked", "completed": true});
    assert_same_404(
        bob.patch_task(app, theirs, &body, &[]).await,
        bob.patch_task(app, MISSING, &body, &[]).await,
        "PATCH",
    )
    .await;
    let pinned = [("if-match", "\"v1\"")];
    assert_same_404(
        bob.patch_task(app, theirs, &body, &pinned).await,
        bob.patch_task(app, MISSING, &body, &pinned).await,
        "PATCH with If-Match",
    )
    .await;
    let weak = [("if-match", "W/\"v1\"")];
    assert_same_404(
        bob.patch_task(app, theirs, &body, &weak).await,
        bob.patch_task(app, MISSING, &body, &weak).await,
        "PATCH with a weak If-Match",
    )
    .await;
    assert_same_404(
        bob.delete_task(app, theirs).await,
        bob.delete_task(app, MISSING).await,
        "DELETE",
    )
    .await;
    let still = json_body(t.alice.get_task(app, theirs).await).await;
    assert_eq!(still, t.task, "Alice's task is untouched");
}

#[tokio::test]
async fn a_malformed_task_id_answers_like_a_missing_one() {
    let t = setup().await;
    let (app, bob) = (&t.app, &t.bob);
    let upper = t.task["id"].as_str().expect("id").to_uppercase();
    for malformed in ["nope", "0123456789abcdef0123456", upper.as_str(), "%20"] {
        assert_same_404(
            bob.get_task(app, malformed).await,
            bob.get_task(app, MISSING).await,
            malformed,
        )
        .await;
        let body = json!({"title": "x"});
        assert_same_404(
            bob.patch_task(app, malformed, &body, &[]).await,
            bob.patch_task(app, MISSING, &body, &[]).await,
            malformed,
        )
        .await;
        assert_same_404(
            bob.delete_task(app, malformed).await,
            bob.delete_task(app, MISSING).await,
            malformed,
        )
        .await;
    }
}

#[tokio::test]
async fn another_users_tasks_never_appear_in_lists_or_stats() {
    let t = setup().await;
    let (app, bob) = (&t.app, &t.bob);
    let own = bob.create_task(app, json!({"title": "Bob's plan"})).await;
    let own_id = own["id"].as_str().expect("id").to_owned();
    for query in [
        "",
        "tag=secret",
        "q=secret",
        "q=plan",
        "completed=false",
        "due_before=2021-01-01T00:00:00Z",
        "sort=due_at",
        "sort=-updated_at&limit=100",
    ] {
        let ids = bob.list_ids(app, query).await;
        let expected: Vec<String> = match query {
            "" | "q=plan" | "completed=false" | "sort=due_at" | "sort=-updated_at&limit=100" => {
                vec![own_id.clone()]
            }
            _ => Vec::new(),
        };
        assert_eq!(ids, expected, "?{query}");
    }
    let stats = json_body(app.get("/api/v1/tasks/stats", bob.browser_headers()).await).await;
    assert_eq!(
        stats,
        json!({"total": 1, "completed": 0, "open": 1, "overdue": 0})
    );
    let alice_stats = json_body(
        app.get("/api/v1/tasks/stats", t.alice.browser_headers())
            .await,
    )
    .await;
    assert_eq!(
        alice_stats,
        json!({"total": 1, "completed": 0, "open": 1, "overdue": 1})
    );
}

#[tokio::test]
async fn a_task_id_that_is_not_utf8_answers_like_a_missing_one() {
    let t = setup().await;
    let (app, bob) = (&t.app, &t.bob);
    for malformed in ["%FF", "%C3%28"] {
        assert_same_404(
            bob.get_task(app, malformed).await,
            bob.get_task(app, MISSING).await,
            malformed,
        )
        .await;
        let body = json!({"title": "x"});
        assert_same_404(
            bob.patch_task(app, malformed, &body, &[]).await,
            bob.patch_task(app, MISSING, &body, &[]).await,
            malformed,
        )
        .await;
        assert_same_404(
            bob.delete_task(app, malformed).await,
            bob.delete_task(app, MISSING).await,
            malformed,
        )
        .await;
    }
}
