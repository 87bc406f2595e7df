//! Keyset pagination: walking the pages returns every task once, in order, even while tasks
//! come and go between pages; cursors only continue the query and user that made them.

use serde_json::{Value, json};

use crate::helpers::*;

const SORTS: [&str; 6] = [
    "created_at",
    "-created_at",
    "due_at",
    "-due_at",
    "updated_at",
    "-updated_at",
];

async fn user_with_tasks(app: &TestApp, email: &str, count: usize) -> (TestUser, Vec<String>) {
    let user = app.register(email).await;
    let mut ids = Vec::new();
    for i in 0..count {
        // Every third task undated, the others with deadlines that repeat (ties on the key).
        let due = (i % 3 != 0).then(|| format!("2030-01-0{}T00:00:00Z", 1 + i % 2));
        let task = user
            .create_task(
                app,
                json!({"title": format!("task {i}"), "due_at": due, "tags": ["p"]}),
            )
            .await;
        ids.push(task["id"].as_str().expect("id").to_owned());
    }
    (user, ids)
}

/// One page of `query`, as (ids, next cursor).
async fn page(app: &TestApp, user: &TestUser, query: &str) -> (Vec<String>, Option<String>) {
    let page = user.list(app, query).await;
    let next = page["next_cursor"].as_str().map(str::to_owned);
    (ids(&page["items"]), next)
}

#[tokio::test]
async fn walking_the_pages_returns_every_task_once_in_order_for_every_sort() {
    let app = TestApp::spawn().await;
    let (user, ids) = user_with_tasks(&app, "walk@example.com", 9).await;
    // Some completed tasks, dated and undated: pages then merge open and completed tasks.
    for id in [&ids[0], &ids[1], &ids[5]] {
        let done = user
            .patch_task(&app, id, &json!({"completed": true}), &[])
            .await;
        assert_eq!(done.status(), 200);
    }
    for sort in SORTS {
        for filter in ["", "&completed=false", "&completed=true", "&tag=p&q=TASK"] {
            let query = format!("sort={sort}{filter}");
            let whole = user.list_ids(&app, &format!("{query}&limit=100")).await;
            if filter.is_empty() {
                assert_eq!(whole.len(), ids.len());
            }
            for limit in [1, 2, 4, 9] {
                let walked = user.walk(&app, &query, limit).await;
                assert_eq!(walked, whole, "{query} limit={limit}");
            }
        }
    }
}

#[tokio::test]
async fn the_last_page_has_no_cursor_and_the_limit_may_change_between_pages() {
    let app = TestApp::spawn().await;
    let (user, _) = user_with_tasks(&app, "last@example.com", 5).await;
    let whole = user.list_ids(&app, "limit=100").await;
    let (first, next) = page(&app, &user, "limit=2").await;
    let next = next.expect("a second page");
    let (rest, after) = page(&app, &user, &format!("limit=3&cursor={next}")).await;
    assert_eq!(after, None, "exactly the remaining three: no further page");
    assert_eq!([first, rest].concat(), whole);
    let (exact, cursor) = page(&app, &user, "limit=5").await;
    assert_eq!(
        (exact.len(), cursor),
        (5, None),
        "a full last page has no cursor"
    );
}

/// Walks `sort` with limit 2; after the first page, runs `between` (which may create and
/// delete tasks); returns the ids received.
async fn walk_with_changes(
    app: &TestApp,
    user: &TestUser,
    sort: &str,
    between: impl AsyncFnOnce(&[String]),
) -> Vec<String> {
    let (mut seen, mut next) = page(app, user, &format!("sort={sort}&limit=2")).await;
    between(&seen).await;
    while let Some(cursor) = next {
        let (ids, cursor) = page(app, user, &format!("sort={sort}&limit=2&cursor={cursor}")).await;
        seen.extend(ids);
        next = cursor;
    }
    seen
}

fn assert_once_each(walked: &[String]) {
    let mut unique = walked.to_vec();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        walked.len(),
        "a task appeared twice: {walked:?}"
    );
}

#[tokio::test]
async fn tasks_created_and_deleted_between_pages_neither_repeat_nor_hide_others() {
    for sort in SORTS {
        let app = TestApp::spawn().await;
        let (user, _) = user_with_tasks(&app, "moving@example.com", 7).await;
        let before = user.list_ids(&app, &format!("sort={sort}&limit=100")).await;
        let (mut deleted, mut added) = (Vec::new(), Vec::new());
        let walked = walk_with_changes(&app, &user, sort, async |first: &[String]| {
            // Delete one task already seen and one not yet seen; add a dated and an undated one.
            for id in [&first[0], &before[4]] {
                assert_eq!(user.delete_task(&app, id).await.status(), 204);
                deleted.push(id.clone());
            }
            for due in [Some("2030-01-01T12:00:00Z"), None] {
                let task = user
                    .create_task(&app, json!({"title": "new", "due_at": due, "tags": ["p"]}))
                    .await;
                added.push(task["id"].as_str().expect("id").to_owned());
            }
        })
        .await;
        assert_once_each(&walked);
        for id in &before {
            let expected = id != &before[4];
            assert_eq!(walked.contains(id), expected, "sort={sort}: {id}");
        }
        let after = user.list_ids(&app, &format!("sort={sort}&limit=100")).await;
        let walked_now: Vec<&String> = walked.iter().filter(|id| after.contains(id)).collect();
        let order: Vec<&String> = after.iter().filter(|id| walked.contains(id)).collect();
        assert_eq!(
            walked_now, order,
            "sort={sort}: pages in the order of the sort"
        );
        assert!(
            !walked[2..].contains(&deleted[1]),
            "sort={sort}: deleted task listed"
        );
        assert_eq!(added.len(), 2);
    }
}

async fn cursor_of(app: &TestApp, user: &TestUser, query: &str) -> String {
    let (_, next) = page(app, user, &format!("{query}&limit=1")).await;
    next.expect("a next page")
}

async fn assert_invalid_cursor(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/tasks?{query}"), user.browser_headers())
        .await;
    assert_eq!(response.status(), 400, "?{query}");
    assert_problem(response, 400, "invalid_cursor").await
}

#[tokio::test]
async fn a_cursor_only_continues_the_query_that_made_it() {
    let app = TestApp::spawn().await;
    let (user, _) = user_with_tasks(&app, "cursor@example.com", 4).await;
    let cursor = cursor_of(&app, &user, "sort=due_at&tag=p").await;
    let ok = user
        .list(&app, &format!("sort=due_at&tag=p&limit=1&cursor={cursor}"))
        .await;
    assert_eq!(ok["items"].as_array().expect("items").len(), 1);
    for other in [
        "sort=-due_at&tag=p",
        "sort=created_at&tag=p",
        "sort=due_at",
        "sort=due_at&tag=q",
        "sort=due_at&tag=p&completed=false",
        "sort=due_at&tag=p&priority=medium",
        "sort=due_at&tag=p&q=task",
        "sort=due_at&tag=p&due_before=2031-01-01T00:00:00Z",
        "sort=due_at&tag=p&due_after=2000-01-01T00:00:00Z",
    ] {
        assert_invalid_cursor(&app, &user, &format!("{other}&cursor={cursor}")).await;
    }
}

#[tokio::test]
async fn a_cursor_of_another_user_is_invalid() {
    let app = TestApp::spawn().await;
    let (alice, _) = user_with_tasks(&app, "alice-cursor@example.com", 3).await;
    let (bob, _) = user_with_tasks(&app, "bob-cursor@example.com", 3).await;
    let cursor = cursor_of(&app, &alice, "sort=created_at").await;
    assert_invalid_cursor(&app, &bob, &format!("sort=created_at&cursor={cursor}")).await;
}

#[tokio::test]
async fn a_cursor_altered_in_any_character_is_invalid() {
    let app = TestApp::spawn().await;
    let (user, _) = user_with_tasks(&app, "tamper@example.com", 3).await;
    let cursor = cursor_of(&app, &user, "sort=created_at").await;
    for i in 0..cursor.len() {
        let mut altered: Vec<char> = cursor.chars().collect();
        altered[i] = if altered[i] == 'A' { 'B' } else { 'A' };
        let altered: String = altered.into_iter().collect();
        assert_invalid_cursor(&app, &user, &format!("sort=created_at&cursor={altered}")).await;
    }
    for garbage in ["x", "", "AAAA", "%FF%FE", &"A".repeat(500)] {
        assert_invalid_cursor(&app, &user, &format!("sort=created_at&cursor={garbage}")).await;
    }
    let shorter = &cursor[..cursor.len() - 1];
    assert_invalid_cursor(&app, &user, &format!("sort=created_at&cursor={shorter}")).await;
}
