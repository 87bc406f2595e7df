//! Reading, changing and deleting tasks: ETags and revalidation, PATCH semantics, `If-Match`,
//! and the stats.

use serde_json::{Value, json};

use crate::helpers::*;

async fn setup() -> (TestApp, TestUser, Value) {
    let app = TestApp::spawn().await;
    let user = app.register("life@example.com").await;
    let task = user
        .create_task(
            &app,
            json!({"title": "Write report", "tags": ["work"], "due_at": "2030-01-01T00:00:00Z"}),
        )
        .await;
    (app, user, task)
}

fn id(task: &Value) -> &str {
    task["id"].as_str().expect("id")
}

#[tokio::test]
async fn get_answers_the_task_with_its_version_etag() {
    let (app, user, task) = setup().await;
    let response = user.get_task(&app, id(&task)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "etag"), Some("\"v1\""));
    assert_eq!(
        header(&response, "cache-control"),
        Some("private, no-cache")
    );
    assert_eq!(json_body(response).await, task);
}

#[tokio::test]
async fn a_matching_if_none_match_answers_304_without_a_body() {
    let (app, user, task) = setup().await;
    let path = format!("/api/v1/tasks/{}", id(&task));
    for tag in ["\"v1\"", "W/\"v1\"", "\"v0\", \"v1\"", "*"] {
        let headers = with_headers(user.browser_headers(), &[("if-none-match", tag)]);
        let response = app.get(&path, headers).await;
        assert_eq!(response.status(), 304, "If-None-Match: {tag}");
        assert_eq!(header(&response, "etag"), Some("\"v1\""));
        assert_eq!(
            header(&response, "cache-control"),
            Some("private, no-cache")
        );
        assert!(response.bytes().await.expect("body").is_empty());
    }
    let stale = with_headers(user.browser_headers(), &[("if-none-match", "\"v2\"")]);
    assert_eq!(app.get(&path, stale).await.status(), 200);
}

#[tokio::test]
async fn a_change_invalidates_the_previous_etag() {
    let (app, user, task) = setup().await;
    let patched = user
        .patch_task(&app, id(&task), &json!({"title": "Final report"}), &[])
        .await;
    assert_eq!(header(&patched, "etag"), Some("\"v2\""));
    let path = format!("/api/v1/tasks/{}", id(&task));
    let old = with_headers(user.browser_headers(), &[("if-none-match", "\"v1\"")]);
    let response = app.get(&path, old).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "etag"), Some("\"v2\""));
}

#[tokio::test]
async fn lists_and_stats_revalidate_with_their_etag() {
    let (app, user, _) = setup().await;
    for path in ["/api/v1/tasks", "/api/v1/tasks/stats"] {
        let first = app.get(path, user.browser_headers()).await;
        assert_eq!(
            header(&first, "cache-control"),
            Some("private, no-cache"),
            "{path}"
        );
        let etag = header(&first, "etag").expect("etag").to_owned();
        let same = with_headers(user.browser_headers(), &[("if-none-match", &etag)]);
        let response = app.get(path, same).await;
        assert_eq!(response.status(), 304, "{path}");
        assert_eq!(header(&response, "etag"), Some(etag.as_str()));
    }
    let before = header(
        &app.get("/api/v1/tasks/stats", user.browser_headers()).await,
        "etag",
    )
    .expect("etag")
    .to_owned();
    user.create_task(&app, json!({"title": "another"})).await;
    let stale = with_headers(user.browser_headers(), &[("if-none-match", &before)]);
    let response = app.get("/api/v1/tasks/stats", stale).await;
    assert_eq!(response.status(), 200, "the stats changed");
    assert_ne!(header(&response, "etag"), Some(before.as_str()));
}

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_adds_one_to_the_version() {
    let (app, user, task) = setup().await;
    let response = user
        .patch_task(
            &app,
            id(&task),
            &json!({"title": "  Final report ", "priority": "high"}),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "cache-control"),
        Some("private, no-cache")
    );
    let patched = json_body(response).await;
    assert_eq!(patched["title"], "Final report");
    assert_eq!(patched["priority"], "high");
    assert_eq!(patched["version"], 2);
    for same in [
        "id",
        "description",
        "tags",
        "due_at",
        "created_at",
        "completed",
    ] {
        assert_eq!(patched[same], task[same], "{same} unchanged");
    }
    let (created, updated) = (task["created_at"].as_str(), patched["updated_at"].as_str());
    assert!(updated.expect("updated_at") >= created.expect("created_at"));
    assert_eq!(
        json_body(user.get_task(&app, id(&task)).await).await,
        patched
    );
}

#[tokio::test]
async fn completing_sets_completed_at_and_reopening_clears_it() {
    let (app, user, task) = setup().await;
    let done = json_body(
        user.patch_task(&app, id(&task), &json!({"completed": true}), &[])
            .await,
    )
    .await;
    assert_eq!(done["completed"], true);
    assert!(is_timestamp(
        done["completed_at"].as_str().expect("completed_at set")
    ));
    assert_eq!(done["version"], 2);
    let again = json_body(
        user.patch_task(&app, id(&task), &json!({"completed": true}), &[])
            .await,
    )
    .await;
    assert_eq!(again, done, "completing a completed task changes nothing");
    let reopened = json_body(
        user.patch_task(&app, id(&task), &json!({"completed": false}), &[])
            .await,
    )
    .await;
    assert_eq!(reopened["completed"], false);
    assert_eq!(reopened["completed_at"], Value::Null);
    assert_eq!(reopened["version"], 3);
}

#[tokio::test]
async fn a_patch_that_changes_nothing_keeps_the_version() {
    let (app, user, task) = setup().await;
    for body in [
        json!({}),
        json!({"title": "Write report", "tags": ["work"]}),
    ] {
        let response = user.patch_task(&app, id(&task), &body, &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "etag"), Some("\"v1\""), "{body}");
        assert_eq!(json_body(response).await, task, "{body}");
    }
}

#[tokio::test]
async fn due_at_null_clears_the_deadline_and_absence_keeps_it() {
    let (app, user, task) = setup().await;
    let kept = user
        .patch_task(&app, id(&task), &json!({"description": "d"}), &[])
        .await;
    assert_eq!(json_body(kept).await["due_at"], "2030-01-01T00:00:00.000Z");
    let cleared = user
        .patch_task(&app, id(&task), &json!({"due_at": null}), &[])
        .await;
    let cleared = json_body(cleared).await;
    assert_eq!(cleared["due_at"], Value::Null);
    assert_eq!(cleared["version"], 3);
}

#[tokio::test]
async fn patch_applies_the_field_rules_and_changes_nothing_on_failure() {
    let (app, user, task) = setup().await;
    let tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let body = json!({"title": "", "tags": tags, "priority": "urgent"});
    let response = user.patch_task(&app, id(&task), &body, &[]).await;
    assert_invalid_fields(response, &["title", "priority", "tags"]).await;
    let types = user
        .patch_task(&app, id(&task), &json!({"completed": "yes"}), &[])
        .await;
    assert_problem(types, 400, "invalid_body").await;
    assert_eq!(json_body(user.get_task(&app, id(&task)).await).await, task);
}

#[tokio::test]
async fn an_if_match_that_does_not_match_is_412_and_changes_nothing() {
    let (app, user, task) = setup().await;
    for tag in ["\"v2\"", "W/\"v1\"", "\"abc\"", "\"v0\", \"v7\""] {
        let response = user
            .patch_task(
                &app,
                id(&task),
                &json!({"title": "lost update"}),
                &[("if-match", tag)],
            )
            .await;
        assert_eq!(response.status(), 412, "If-Match: {tag}");
        assert_problem(response, 412, "precondition_failed").await;
    }
    let current = json_body(user.get_task(&app, id(&task)).await).await;
    assert_eq!(current, task, "no change");
}

#[tokio::test]
async fn a_matching_if_match_applies_the_change_once() {
    let (app, user, task) = setup().await;
    let first = user
        .patch_task(
            &app,
            id(&task),
            &json!({"title": "mine"}),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "etag"), Some("\"v2\""));
    let second = user
        .patch_task(
            &app,
            id(&task),
            &json!({"title": "theirs"}),
            &[("if-match", "\"v1\"")],
        )
        .await;
    assert_problem(second, 412, "precondition_failed").await;
    let any = user
        .patch_task(
            &app,
            id(&task),
            &json!({"priority": "low"}),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(any.status(), 200);
    let current = json_body(any).await;
    assert_eq!(
        (current["title"].as_str(), current["version"].as_u64()),
        (Some("mine"), Some(3))
    );
}

#[tokio::test]
async fn delete_answers_204_and_the_task_is_gone() {
    let (app, user, task) = setup().await;
    let response = user.delete_task(&app, id(&task)).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.expect("body").is_empty());
    assert_problem(user.get_task(&app, id(&task)).await, 404, "not_found").await;
    assert_problem(user.delete_task(&app, id(&task)).await, 404, "not_found").await;
    let patch = user
        .patch_task(&app, id(&task), &json!({"title": "x"}), &[])
        .await;
    assert_problem(patch, 404, "not_found").await;
    assert!(user.list_ids(&app, "").await.is_empty());
}

#[tokio::test]
async fn stats_count_total_completed_open_and_overdue() {
    let app = TestApp::spawn().await;
    let user = app.register("stats@example.com").await;
    let empty = json_body(app.get("/api/v1/tasks/stats", user.browser_headers()).await).await;
    assert_eq!(
        empty,
        json!({"total": 0, "completed": 0, "open": 0, "overdue": 0})
    );
    let past = "2020-01-01T00:00:00Z";
    let overdue = user
        .create_task(&app, json!({"title": "late", "due_at": past}))
        .await;
    user.create_task(&app, json!({"title": "late too", "due_at": past}))
        .await;
    let done_late = user
        .create_task(&app, json!({"title": "done", "due_at": past}))
        .await;
    user.create_task(
        &app,
        json!({"title": "future", "due_at": "2999-01-01T00:00:00Z"}),
    )
    .await;
    let undated_done = user.create_task(&app, json!({"title": "undated"})).await;
    for task in [&done_late, &undated_done] {
        let r = user
            .patch_task(&app, id(task), &json!({"completed": true}), &[])
            .await;
        assert_eq!(r.status(), 200);
    }
    let response = app.get("/api/v1/tasks/stats", user.browser_headers()).await;
    assert_eq!(response.status(), 200);
    let stats = json_body(response).await;
    assert_eq!(
        stats,
        json!({"total": 5, "completed": 2, "open": 3, "overdue": 2})
    );
    user.patch_task(&app, id(&overdue), &json!({"due_at": null}), &[])
        .await;
    let stats = json_body(app.get("/api/v1/tasks/stats", user.browser_headers()).await).await;
    assert_eq!(stats["overdue"], 1, "an undated task is never overdue");
}
