//! What a request costs the database: on a warm instance over MongoDB, each endpoint of the
//! daily path issues at most its budget of storage commands (one, two for a PATCH: the read
//! and the compare-and-swap), counted from the server's own
//! `taskflow_storage_command_duration_seconds_count` before and after one request. A second
//! round trip for the session check, a list split into several `find`s, or a cursor that needs
//! a `getMore` or `killCursors` each fail it.
//!
//! Always on MongoDB (its own database on `TASKFLOW_TEST_MONGODB_URI`, whatever
//! `TASKFLOW_TEST_STORE` says): skipped without the URI, except under `CI=true`, where that is
//! a failure. The server's clock is a manual one, so "warm" stays warm (the session check's
//! cache expires on that clock, not while a noisy machine is slow).

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use taskflow::core::{Clock as _, ManualClock, SystemClock};
use taskflow::http::Stores;
use taskflow::mongo::{MongoConfig, MongoStore};
use taskflow_mongo::testkit::required_env;

use crate::helpers::*;

/// Every storage command the server has issued so far, by `command/outcome`.
async fn commands(app: &TestApp) -> BTreeMap<String, u64> {
    let response = app.get("/metrics", HeaderMap::new()).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("metrics");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("taskflow_storage_command_duration_seconds_count{")
        else {
            continue;
        };
        let (labels, value) = rest.rsplit_once("} ").expect("a series and its value");
        let label = |name: &str| {
            labels
                .split(',')
                .find_map(|l| l.strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.strip_suffix('"'))
                .expect("label")
                .to_owned()
        };
        let count: f64 = value.parse().expect("a count");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        out.insert(
            format!("{}/{}", label("command"), label("outcome")),
            count as u64,
        );
    }
    assert!(!out.is_empty(), "no storage command counted:\n{text}");
    out
}

/// The commands issued between two readings, as `find: 1, update: 1`.
fn issued(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> (u64, String) {
    let mut total = 0;
    let mut parts = Vec::new();
    for (command, n) in after {
        let delta = n - before.get(command).copied().unwrap_or(0);
        if delta > 0 {
            total += delta;
            parts.push(format!("{command}: {delta}"));
        }
    }
    (total, parts.join(", "))
}

/// One request of the daily path and how many storage commands it may cost.
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    status: u16,
    budget: u64,
}

impl Case {
    fn new(name: &'static str, method: Method, path: String, status: u16, budget: u64) -> Self {
        Self {
            name,
            method,
            path,
            body: None,
            status,
            budget,
        }
    }

    fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// A server over its own MongoDB database, with a user holding 25 tasks (more than a page;
/// every other one with a deadline, so that a due_at page holds both kinds); `None` (skip)
/// without the URI.
async fn seeded() -> Option<(TestApp, TestUser, Vec<String>)> {
    let uri = required_env(
        "TASKFLOW_TEST_MONGODB_URI",
        "the storage cost test",
        "scripts/test.sh starts SecantusDB and sets it",
    )?;
    let database = format!(
        "taskflow_cost_{}",
        taskflow::core::domain::TaskId::generate()
    );
    let store = MongoStore::connect(MongoConfig::new(uri).with_database(database))
        .await
        .expect("MongoDB");
    // A clock that stands still: the session check, cached on the first request, stays
    // cached however slow the machine (its TTL runs on this clock).
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::single(SingleInstance::PerInstanceCache)
        .spawn_full(&[], Stores::single(store), clock, None)
        .await;
    let user = app.register("cost@example.com").await;
    let mut ids = Vec::new();
    for n in 0..25 {
        let mut body = json!({"title": format!("task {n}")});
        if n % 2 == 0 {
            body["due_at"] = json!(format!("2030-01-{:02}T00:00:00Z", n + 1));
        }
        let task = user.create_task(&app, body).await;
        ids.push(task["id"].as_str().expect("id").to_owned());
    }
    Some((app, user, ids))
}

/// The daily path: each request with its budget.
async fn cases(app: &TestApp, user: &TestUser, ids: &[String]) -> Vec<Case> {
    let next = |page: Value| {
        page["next_cursor"]
            .as_str()
            .expect("a next page")
            .to_owned()
    };
    let cursor = next(user.list(app, "").await);
    let due_cursor = next(user.list(app, "sort=due_at&limit=15").await);
    let task = |id: &str| format!("/api/v1/tasks/{id}");
    let list =
        |name, query: String| Case::new(name, Method::GET, format!("/api/v1/tasks{query}"), 200, 1);
    vec![
        Case::new(
            "GET /auth/me",
            Method::GET,
            "/api/v1/auth/me".into(),
            200,
            1,
        ),
        Case::new("GET /tasks/{id}", Method::GET, task(&ids[3]), 200, 1),
        list("GET /tasks (20 of 25)", String::new()),
        list("GET /tasks (page 2)", format!("?cursor={cursor}")),
        list("GET /tasks?completed=false", "?completed=false".into()),
        list(
            "GET /tasks?sort=due_at (dated, then undated)",
            "?sort=due_at".into(),
        ),
        list(
            "GET /tasks?sort=due_at (page 2)",
            format!("?sort=due_at&limit=15&cursor={due_cursor}"),
        ),
        list(
            "GET /tasks?sort=-due_at (dated, then undated)",
            "?sort=-due_at".into(),
        ),
        Case::new(
            "GET /tasks/stats",
            Method::GET,
            "/api/v1/tasks/stats".into(),
            200,
            1,
        ),
        Case::new("POST /tasks", Method::POST, "/api/v1/tasks".into(), 201, 1)
            .with_body(json!({"title": "one more", "tags": ["a"]})),
        Case::new("PATCH /tasks/{id}", Method::PATCH, task(&ids[4]), 200, 2)
            .with_body(json!({"completed": true})),
        Case::new("DELETE /tasks/{id}", Method::DELETE, task(&ids[5]), 204, 1),
    ]
}

#[tokio::test]
async fn each_request_of_the_daily_path_costs_its_budget_of_storage_commands() {
    let Some((app, user, ids)) = seeded().await else {
        return;
    };
    let cases = cases(&app, &user, &ids).await;
    // Warm: this instance has checked this session.
    let me = app.get("/api/v1/auth/me", user.browser_headers()).await;
    assert_eq!(me.status(), 200);
    let mut report = Vec::new();
    let mut over = Vec::new();
    for case in cases {
        let before = commands(&app).await;
        let response = app
            .request(
                case.method.clone(),
                &case.path,
                case.body.as_ref(),
                user.browser_headers(),
            )
            .await;
        assert_eq!(response.status(), case.status, "{}", case.name);
        let (total, detail) = issued(&before, &commands(&app).await);
        assert!(total >= 1, "{}: no storage command seen", case.name);
        let line = format!("{}: {total} ({detail})", case.name);
        if total > case.budget {
            over.push(format!("{line}, budget {}", case.budget));
        }
        report.push(line);
    }
    eprintln!("storage commands per request:\n  {}", report.join("\n  "));
    assert!(
        over.is_empty(),
        "over budget:\n  {}\nall:\n  {}",
        over.join("\n  "),
        report.join("\n  ")
    );
}
