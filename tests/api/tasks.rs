//! Creating tasks: the task shape, defaults, and every field rule at its boundaries.

use serde_json::{Value, json};

use crate::helpers::*;

const TASKS: &str = "/api/v1/tasks";

async fn setup() -> (TestApp, TestUser) {
    let app = TestApp::spawn().await;
    let user = app.register("tasks@example.com").await;
    (app, user)
}

/// `POST /api/v1/tasks` with `body`.
async fn create(app: &TestApp, user: &TestUser, body: &Value) -> reqwest::Response {
    app.post(TASKS, body, user.browser_headers()).await
}

#[tokio::test]
async fn create_answers_201_with_location_etag_and_the_default_task() {
    let (app, user) = setup().await;
    let response = create(&app, &user, &json!({"title": "Buy milk"})).await;
    assert_eq!(response.status(), 201);
    assert_eq!(header(&response, "etag"), Some("\"v1\""));
    assert_eq!(
        header(&response, "cache-control"),
        Some("private, no-cache")
    );
    let location = header(&response, "location").expect("location").to_owned();
    let task = json_body(response).await;
    assert_eq!(
        keys(&task),
        [
            "completed",
            "completed_at",
            "created_at",
            "description",
            "due_at",
            "id",
            "priority",
            "tags",
            "title",
            "updated_at",
            "version"
        ]
    );
    let id = task["id"].as_str().expect("id");
    assert_eq!(location, format!("/api/v1/tasks/{id}"));
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["description"], "");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["tags"], json!([]));
    assert_eq!(task["completed"], false);
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["due_at"], Value::Null);
    assert_eq!(task["version"], 1);
    assert!(is_timestamp(
        task["created_at"].as_str().expect("created_at")
    ));
    assert_eq!(task["updated_at"], task["created_at"]);
    let fetched = json_body(app.get(&location, user.browser_headers()).await).await;
    assert_eq!(fetched, task, "Location names the created task");
}

#[tokio::test]
async fn create_keeps_every_given_field_and_normalises_them() {
    let (app, user) = setup().await;
    let body = json!({
        "title": "  Plan the trip \t",
        "description": "  keep  this  ",
        "due_at": "2030-01-01T12:00:00+02:00",
        "priority": "high",
        "tags": ["travel", "q1_2030", "a-b"]
    });
    let task = user.create_task(&app, body).await;
    assert_eq!(task["title"], "Plan the trip", "title trimmed");
    assert_eq!(
        task["description"], "  keep  this  ",
        "description verbatim"
    );
    assert_eq!(task["due_at"], "2030-01-01T10:00:00.000Z", "due_at in UTC");
    assert_eq!(task["priority"], "high");
    assert_eq!(task["tags"], json!(["travel", "q1_2030", "a-b"]));
}

#[tokio::test]
async fn title_has_1_to_200_characters_after_trimming() {
    let (app, user) = setup().await;
    let accepted = [
        "a".repeat(200),
        "é".repeat(200),
        format!("  {}  ", "a".repeat(200)),
        "x".to_owned(),
    ];
    for title in accepted {
        let response = create(&app, &user, &json!({ "title": title })).await;
        assert_eq!(response.status(), 201, "{title:?}");
    }
    for title in [
        String::new(),
        "   \t\n".to_owned(),
        "a".repeat(201),
        "é".repeat(201),
    ] {
        let response = create(&app, &user, &json!({ "title": title })).await;
        assert_invalid_fields(response, &["title"]).await;
    }
}

#[tokio::test]
async fn description_has_at_most_10000_characters() {
    let (app, user) = setup().await;
    for description in [String::new(), "d".repeat(10_000), "ü".repeat(10_000)] {
        let body = json!({"title": "t", "description": description});
        assert_eq!(create(&app, &user, &body).await.status(), 201);
    }
    let body = json!({"title": "t", "description": "d".repeat(10_001)});
    assert_invalid_fields(create(&app, &user, &body).await, &["description"]).await;
}

#[tokio::test]
async fn priority_is_low_medium_or_high() {
    let (app, user) = setup().await;
    for priority in ["low", "medium", "high"] {
        let task = user
            .create_task(&app, json!({"title": "t", "priority": priority}))
            .await;
        assert_eq!(task["priority"], priority);
    }
    for priority in ["urgent", "HIGH", "", " low"] {
        let body = json!({"title": "t", "priority": priority});
        assert_invalid_fields(create(&app, &user, &body).await, &["priority"]).await;
    }
}

#[tokio::test]
async fn at_most_20_tags_each_1_to_32_of_a_z_0_9_underscore_dash() {
    let (app, user) = setup().await;
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    let task = user
        .create_task(&app, json!({"title": "t", "tags": twenty}))
        .await;
    assert_eq!(task["tags"].as_array().expect("tags").len(), 20);
    let longest = "a".repeat(32);
    let task = user
        .create_task(&app, json!({"title": "t", "tags": [longest]}))
        .await;
    assert_eq!(task["tags"][0].as_str().map(str::len), Some(32));

    let twenty_one: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let body = json!({"title": "t", "tags": twenty_one});
    assert_invalid_fields(create(&app, &user, &body).await, &["tags"]).await;
    for bad in [
        "a".repeat(33),
        String::new(),
        "Bad".into(),
        "a b".into(),
        "ü".into(),
        "a.b".into(),
    ] {
        let body = json!({"title": "t", "tags": ["ok", bad]});
        assert_invalid_fields(create(&app, &user, &body).await, &["tags[1]"]).await;
    }
}

#[tokio::test]
async fn a_repeated_tag_is_a_validation_error() {
    let (app, user) = setup().await;
    let body = json!({"title": "t", "tags": ["home", "work", "home"]});
    assert_invalid_fields(create(&app, &user, &body).await, &["tags"]).await;
}

#[tokio::test]
async fn due_at_is_rfc3339_or_null() {
    let (app, user) = setup().await;
    let task = user
        .create_task(&app, json!({"title": "t", "due_at": null}))
        .await;
    assert_eq!(task["due_at"], Value::Null);
    let task = user
        .create_task(
            &app,
            json!({"title": "t", "due_at": "2030-05-06T07:08:09.123Z"}),
        )
        .await;
    assert_eq!(task["due_at"], "2030-05-06T07:08:09.123Z");
    for bad in [
        "2030-01-01",
        "tomorrow",
        "2030-13-01T00:00:00Z",
        "",
        "1767225600",
    ] {
        let body = json!({"title": "t", "due_at": bad});
        assert_invalid_fields(create(&app, &user, &body).await, &["due_at"]).await;
    }
}

#[tokio::test]
async fn every_broken_rule_is_named_at_once() {
    let (app, user) = setup().await;
    let body = json!({
        "title": " ",
        "description": "d".repeat(10_001),
        "due_at": "soon",
        "priority": "urgent",
        "tags": ["Bad"]
    });
    let response = create(&app, &user, &body).await;
    assert_invalid_fields(
        response,
        &["title", "description", "due_at", "priority", "tags[0]"],
    )
    .await;
    assert_eq!(user.list_ids(&app, "").await.len(), 0, "nothing created");
}

#[tokio::test]
async fn server_owned_fields_are_rejected_as_unknown() {
    let (app, user) = setup().await;
    let owned = [
        ("id", json!("0123456789abcdef01234567")),
        ("version", json!(7)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("completed_at", json!("2020-01-01T00:00:00Z")),
        ("owner", json!("someone")),
        ("owner_id", json!("someone")),
        ("user_id", json!("someone")),
    ];
    for (field, value) in &owned {
        let mut body = json!({"title": "t"});
        body[field] = value.clone();
        let response = create(&app, &user, &body).await;
        assert_eq!(response.status(), 400, "create with {field}");
        assert_problem(response, 400, "invalid_body").await;
    }
    let task = user.create_task(&app, json!({"title": "t"})).await;
    let id = task["id"].as_str().expect("id");
    for (field, value) in &owned {
        let mut body = json!({});
        body[*field] = value.clone();
        let response = user.patch_task(&app, id, &body, &[]).await;
        assert_eq!(response.status(), 400, "patch with {field}");
        assert_problem(response, 400, "invalid_body").await;
    }
    let unchanged = json_body(user.get_task(&app, id).await).await;
    assert_eq!(unchanged, task);
    assert_eq!(user.list_ids(&app, "").await, [id], "no task created");
}

#[tokio::test]
async fn wrong_json_types_and_non_objects_are_400_invalid_body() {
    let (app, user) = setup().await;
    let bodies = [
        json!({"title": 1}),
        json!({"title": null}),
        json!({"title": "t", "tags": "home"}),
        json!({"title": "t", "tags": [1]}),
        json!({"title": "t", "priority": null}),
        json!({"title": "t", "description": null}),
        json!({"title": "t", "due_at": 5}),
        json!({"description": "no title"}),
        json!(["t"]),
        json!("t"),
    ];
    for body in &bodies {
        let response = create(&app, &user, body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_problem(response, 400, "invalid_body").await;
    }
    let malformed = app
        .post_raw(
            TASKS,
            "{\"title\": ",
            Some("application/json"),
            user.browser_headers(),
        )
        .await;
    assert_problem(malformed, 400, "invalid_body").await;
}

#[tokio::test]
async fn a_task_body_that_is_not_declared_json_is_415() {
    let (app, user) = setup().await;
    let response = app
        .post_raw(
            TASKS,
            r#"{"title": "t"}"#,
            Some("text/plain"),
            user.browser_headers(),
        )
        .await;
    assert_problem(response, 415, "unsupported_media_type").await;
}
