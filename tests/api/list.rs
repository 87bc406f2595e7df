//! Listing: filters, sort orders, page sizes and query-parameter errors. Pagination and
//! cursors are in `pagination.rs`.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::helpers::*;

/// Five tasks with distinct completion, tags, priorities and deadlines, by letter.
async fn dataset() -> (TestApp, TestUser, HashMap<&'static str, String>) {
    let app = TestApp::spawn().await;
    let user = app.register("list@example.com").await;
    let specs = [
        (
            "A",
            json!({"title": "Buy MILK", "tags": ["home"], "priority": "high", "due_at": "2030-01-01T00:00:00Z"}),
            true,
        ),
        (
            "B",
            json!({"title": "milkshake recipe", "tags": ["home", "food"], "priority": "low", "due_at": "2030-01-02T00:00:00Z"}),
            false,
        ),
        (
            "C",
            json!({"title": "Call Bob", "tags": ["work"], "due_at": "2030-01-03T00:00:00Z"}),
            false,
        ),
        ("D", json!({"title": "Plan"}), false),
        (
            "E",
            json!({"title": "Send invoice", "tags": ["work"], "priority": "high"}),
            true,
        ),
    ];
    let mut ids = HashMap::new();
    for (name, body, completed) in specs {
        let task = user.create_task(&app, body).await;
        let id = task["id"].as_str().expect("id").to_owned();
        if completed {
            let done = user
                .patch_task(&app, &id, &json!({"completed": true}), &[])
                .await;
            assert_eq!(done.status(), 200);
        }
        ids.insert(name, id);
    }
    (app, user, ids)
}

/// The letters of the tasks `query` lists, sorted.
async fn letters(
    app: &TestApp,
    user: &TestUser,
    ids: &HashMap<&'static str, String>,
    query: &str,
) -> String {
    let listed = user.list_ids(app, &format!("{query}&limit=100")).await;
    let mut names: Vec<&str> = listed
        .iter()
        .map(|id| *ids.iter().find(|(_, v)| *v == id).expect("known id").0)
        .collect();
    names.sort_unstable();
    names.concat()
}

#[tokio::test]
async fn each_filter_selects_exactly_the_matching_tasks() {
    let (app, user, ids) = dataset().await;
    let cases = [
        ("", "ABCDE"),
        ("completed=true", "AE"),
        ("completed=false", "BCD"),
        ("tag=home", "AB"),
        ("tag=work", "CE"),
        ("tag=nothing", ""),
        ("priority=high", "AE"),
        ("priority=medium", "CD"),
        ("priority=low", "B"),
        ("q=milk", "AB"),
        ("q=MiLk", "AB"),
        ("q=bob", "C"),
        ("q=plan%20x", ""),
        ("tag=home&completed=false", "B"),
        ("priority=high&q=invoice", "E"),
    ];
    for (query, expected) in cases {
        assert_eq!(
            letters(&app, &user, &ids, query).await,
            expected,
            "?{query}"
        );
    }
}

#[tokio::test]
async fn due_after_and_due_before_are_the_half_open_interval_and_skip_undated_tasks() {
    let (app, user, ids) = dataset().await;
    let cases = [
        ("due_before=2030-01-02T00:00:00Z", "A"),
        ("due_before=2030-01-02T00:00:00.001Z", "AB"),
        ("due_after=2030-01-02T00:00:00Z", "BC"),
        ("due_after=2030-01-02T00:00:00.001Z", "C"),
        (
            "due_after=2030-01-01T00:00:00Z&due_before=2030-01-03T00:00:00Z",
            "AB",
        ),
        ("due_after=2000-01-01T00:00:00Z", "ABC"),
        ("due_before=2999-01-01T00:00:00Z", "ABC"),
        ("due_after=2030-01-02T01:00:00%2B01:00", "BC"),
        // An empty or reversed interval is a valid query that matches nothing.
        (
            "due_after=2030-01-02T00:00:00Z&due_before=2030-01-02T00:00:00Z",
            "",
        ),
        (
            "due_after=2030-01-03T00:00:00Z&due_before=2030-01-01T00:00:00Z",
            "",
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(
            letters(&app, &user, &ids, query).await,
            expected,
            "?{query}"
        );
    }
}

/// The expected order of `tasks` under `sort`: by the key then the id, both in the sort's
/// direction, tasks without the key after all others in both directions.
fn expected_order(tasks: &[Value], sort: &str) -> Vec<String> {
    let (descending, key) = match sort.strip_prefix('-') {
        Some(key) => (true, key),
        None => (false, sort),
    };
    let mut keyed: Vec<(Option<&str>, &str)> = tasks
        .iter()
        .map(|t| (t[key].as_str(), t["id"].as_str().expect("id")))
        .collect();
    keyed.sort_by(|a, b| match (a.0, b.0) {
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ if descending => b.cmp(a),
        _ => a.cmp(b),
    });
    keyed.into_iter().map(|(_, id)| id.to_owned()).collect()
}

#[tokio::test]
async fn every_sort_orders_by_its_key_then_id_with_undated_tasks_last() {
    let app = TestApp::spawn().await;
    let user = app.register("sort@example.com").await;
    let dues = [
        Some("2030-03-01T00:00:00Z"),
        None,
        Some("2030-01-01T00:00:00Z"),
        Some("2030-03-01T00:00:00Z"),
        None,
        Some("2030-02-01T00:00:00Z"),
    ];
    let mut created = Vec::new();
    for (i, due) in dues.into_iter().enumerate() {
        let body = json!({"title": format!("task {i}"), "due_at": due});
        created.push(user.create_task(&app, body).await);
    }
    // Complete the two oldest (one dated, one undated): updated_at then orders differently
    // from created_at, and every order merges open and completed tasks.
    for task in &created[..2] {
        let id = task["id"].as_str().expect("id");
        let r = user
            .patch_task(&app, id, &json!({"completed": true}), &[])
            .await;
        assert_eq!(r.status(), 200);
    }
    let tasks = user.list(&app, "limit=100").await["items"]
        .as_array()
        .expect("items")
        .clone();
    for sort in [
        "created_at",
        "-created_at",
        "due_at",
        "-due_at",
        "updated_at",
        "-updated_at",
    ] {
        let listed = user.list_ids(&app, &format!("sort={sort}")).await;
        assert_eq!(listed, expected_order(&tasks, sort), "sort={sort}");
        if sort.ends_with("due_at") {
            let undated: Vec<&String> = listed[4..].iter().collect();
            for id in undated {
                let task = tasks.iter().find(|t| t["id"] == id.as_str()).expect("task");
                assert_eq!(task["due_at"], Value::Null, "sort={sort}: undated last");
            }
        }
    }
    let default = user.list_ids(&app, "").await;
    assert_eq!(
        default,
        expected_order(&tasks, "-created_at"),
        "default -created_at"
    );
    let ids: Vec<&str> = created
        .iter()
        .map(|t| t["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        user.list_ids(&app, "sort=due_at").await[0],
        ids[2],
        "earliest deadline"
    );
    assert_eq!(
        user.list_ids(&app, "sort=-due_at").await[0],
        ids[3].max(ids[0])
    );
}

#[tokio::test]
async fn the_limit_is_1_to_100_and_20_by_default() {
    let app = TestApp::spawn().await;
    let user = app.register("limit@example.com").await;
    let titles: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    user.create_titled(&app, &titles).await;
    let page = user.list(&app, "").await;
    assert_eq!(page["items"].as_array().expect("items").len(), 20);
    assert!(page["next_cursor"].is_string());
    assert_eq!(user.list_ids(&app, "limit=1").await.len(), 1);
    let all = user.list(&app, "limit=100").await;
    assert_eq!(all["items"].as_array().expect("items").len(), 21);
    assert_eq!(all["next_cursor"], Value::Null);
    for bad in ["0", "101", "-1", "ten", "1.5", ""] {
        let response = app
            .get(
                &format!("/api/v1/tasks?limit={bad}"),
                user.browser_headers(),
            )
            .await;
        let problem = assert_problem(response, 400, "invalid_query").await;
        assert_eq!(error_fields(&problem), ["limit"], "limit={bad}");
    }
}

#[tokio::test]
async fn bad_values_are_400_invalid_query_naming_each_parameter() {
    let app = TestApp::spawn().await;
    let user = app.register("badq@example.com").await;
    let single = [
        ("completed=yes", "completed"),
        ("completed=TRUE", "completed"),
        ("tag=Not%20A%20Tag", "tag"),
        ("priority=urgent", "priority"),
        ("due_before=tomorrow", "due_before"),
        ("due_after=2030-01-01", "due_after"),
        ("q=", "q"),
        ("sort=title", "sort"),
        ("sort=%2Bdue_at", "sort"),
    ];
    for (query, field) in single {
        let response = app
            .get(&format!("/api/v1/tasks?{query}"), user.browser_headers())
            .await;
        let problem = assert_problem(response, 400, "invalid_query").await;
        assert_eq!(error_fields(&problem), [field], "?{query}");
    }
    let all = "completed=1&tag=A&priority=x&due_before=x&due_after=y&sort=x&limit=0";
    let response = app
        .get(&format!("/api/v1/tasks?{all}"), user.browser_headers())
        .await;
    let problem = assert_problem(response, 400, "invalid_query").await;
    assert_eq!(
        error_fields(&problem),
        [
            "completed",
            "tag",
            "priority",
            "due_before",
            "due_after",
            "sort",
            "limit"
        ]
    );
}

#[tokio::test]
async fn unknown_or_repeated_parameters_are_400_invalid_query() {
    let app = TestApp::spawn().await;
    let user = app.register("unknownq@example.com").await;
    for query in [
        "page=2",
        "offset=10",
        "Sort=due_at",
        "tag=a&tag=b",
        "limit=5&limit=6",
    ] {
        let response = app
            .get(&format!("/api/v1/tasks?{query}"), user.browser_headers())
            .await;
        assert_eq!(response.status(), 400, "?{query}");
        assert_problem(response, 400, "invalid_query").await;
    }
}
