//! Every list query shape of the contract is an index scan (`IXSCAN`, never `COLLSCAN`) on
//! the expected index, examining a bounded number of keys, with other users' tasks present.
//! A list of several phases (keyset ties, then the range; dated, then undated tasks) runs as
//! one `aggregate`; each phase is explained as the `find` of its own filter, sort and limit,
//! which is what the pipeline runs for it.
//!
//! Known gaps of the test server, SecantusDB 0.7 (asserted as such, reported on stderr, and
//! strict again on any other server):
//! - its `explain` planner only recognises "equality prefix + one range field" filters; a
//!   filter with further conditions (tag, priority, `q`, or a due window under a
//!   `created_at`/`updated_at` sort) is reported as `COLLSCAN`, although its executor then
//!   reads the `user_id` index prefix. These shapes are exempt there.
//! - it has no limit push-down: a query reads every key of its index range and sorts in
//!   memory, and `totalKeysExamined` is the number of matches, so "at most limit + 2 keys"
//!   is relaxed to "at most the owner's tasks" (other users' keys are never examined).

use mongodb::bson::{Bson, Document};
use taskflow_core::domain::{Priority, Tag, Task, UserId};
use taskflow_core::ports::TaskRepository;
use taskflow_core::query::{Direction, ListRequest, SearchText, Sort, SortKey, TaskFilter};
use taskflow_core::testkit::{TaskSpec, at, model};
use taskflow_mongo::MongoStore;

use crate::common;

const OWNER_TASKS: usize = 300;
const OTHER_USERS: usize = 2;
const OTHER_TASKS: usize = 100;
const LIMIT: usize = 20;
/// Keys mongod may examine beyond the page: the one that ends the range, and one more for
/// `due_at: null`, whose bounds are two point intervals (`undefined` and `null`).
const SLACK: usize = 2;

const TITLES: [&str; 4] = ["Write report", "Buy milk", "Call mom", "Report bug"];

fn spec(i: usize) -> TaskSpec {
    let n = i64::try_from(i).expect("small");
    let tags: [&[&'static str]; 4] = [&[], &["work"], &["home"], &["work", "home"]];
    TaskSpec {
        title: TITLES[i % TITLES.len()],
        created: n / 3,
        updated_after: (n * 7) % 11,
        due: (!i.is_multiple_of(5)).then_some((n * 13) % 97 - 40),
        completed: i.is_multiple_of(3),
        priority: Priority::ALL[i % 3],
        tags: tags[i % tags.len()].to_vec(),
    }
}

async fn seed(store: &MongoStore, owner: UserId) -> Vec<Task> {
    let mut mine = Vec::with_capacity(OWNER_TASKS);
    for i in 0..OWNER_TASKS {
        let task = spec(i).build(owner);
        store.insert_task(&task).await.expect("insert");
        mine.push(task);
    }
    for _ in 0..OTHER_USERS {
        let other = UserId::generate();
        for i in 0..OTHER_TASKS {
            store
                .insert_task(&spec(i).build(other))
                .await
                .expect("insert");
        }
    }
    mine
}

pub(crate) async fn is_secantus(store: &MongoStore) -> bool {
    let info = store
        .database()
        .client()
        .database("admin")
        .run_command(mongodb::bson::doc! { "buildInfo": 1 })
        .await
        .expect("buildInfo");
    info.contains_key("secantusVersion")
}

struct Shape {
    name: String,
    request: ListRequest,
    /// Conditions beyond the index's equality prefix and key range.
    residual: bool,
    /// The index every phase must read, where the shape determines it.
    index: Option<String>,
}

fn key_name(key: SortKey) -> &'static str {
    match key {
        SortKey::CreatedAt => "created",
        SortKey::UpdatedAt => "updated",
        SortKey::DueAt => "due",
    }
}

fn sorts() -> Vec<Sort> {
    let mut out = Vec::new();
    for key in [SortKey::CreatedAt, SortKey::UpdatedAt, SortKey::DueAt] {
        for direction in [Direction::Asc, Direction::Desc] {
            out.push(Sort { key, direction });
        }
    }
    out
}

/// Cursors into the model's order: none, one a few pages in, and (for `due_at`) one among
/// the tasks without a deadline.
fn cursors(tasks: &[Task], filter: &TaskFilter, sort: Sort) -> Vec<(&'static str, Option<Task>)> {
    let ordered = model::matching(tasks, filter, sort);
    let mut out = vec![("first page", None)];
    if let Some(task) = ordered.get(40.min(ordered.len() / 2)) {
        out.push(("cursor", Some(task.clone())));
    }
    if sort.key == SortKey::DueAt
        && let Some(task) = ordered.iter().filter(|t| t.due_at.is_none()).nth(3)
    {
        out.push(("undated cursor", Some(task.clone())));
    }
    out
}

fn shapes(tasks: &[Task]) -> Vec<Shape> {
    let plain = [
        ("all", TaskFilter::default()),
        (
            "open",
            TaskFilter {
                completed: Some(false),
                ..TaskFilter::default()
            },
        ),
        (
            "done",
            TaskFilter {
                completed: Some(true),
                ..TaskFilter::default()
            },
        ),
    ];
    let residual = [
        (
            "tag",
            TaskFilter {
                tag: Some(Tag::parse("work").expect("valid")),
                ..TaskFilter::default()
            },
        ),
        (
            "priority",
            TaskFilter {
                priority: Some(Priority::High),
                ..TaskFilter::default()
            },
        ),
        (
            "q",
            TaskFilter {
                q: Some(SearchText::parse("report").expect("valid")),
                ..TaskFilter::default()
            },
        ),
        (
            "open+tag+q",
            TaskFilter {
                completed: Some(false),
                tag: Some(Tag::parse("home").expect("valid")),
                q: Some(SearchText::parse("RE").expect("valid")),
                ..TaskFilter::default()
            },
        ),
        (
            "due window",
            TaskFilter {
                due_after: Some(at(-20)),
                due_before: Some(at(30)),
                ..TaskFilter::default()
            },
        ),
    ];
    let mut out = Vec::new();
    for sort in sorts() {
        for (label, filter) in plain.iter().chain(residual.iter()) {
            let is_plain = plain.iter().any(|(l, _)| l == label);
            // A due window is a range on the key itself under a due_at sort.
            let due_window_on_key = *label == "due window" && sort.key == SortKey::DueAt;
            let index = (is_plain || due_window_on_key).then(|| {
                let completed = if filter.completed.is_some() {
                    "completed_"
                } else {
                    ""
                };
                format!("tasks_user_{completed}{}", key_name(sort.key))
            });
            for (at_label, cursor) in cursors(tasks, filter, sort) {
                out.push(Shape {
                    name: format!("{label} / {sort:?} / {at_label}"),
                    request: ListRequest {
                        filter: filter.clone(),
                        sort,
                        after: cursor.map(|t| sort.position_of(&t)),
                        limit: LIMIT,
                    },
                    residual: index.is_none(),
                    index: index.clone(),
                });
            }
        }
    }
    out
}

/// Every `stage` and `indexName` anywhere in a plan tree (classic or slot-based explain).
fn walk(value: &Bson, stages: &mut Vec<String>, indexes: &mut Vec<String>) {
    match value {
        Bson::Document(doc) => {
            if let Ok(stage) = doc.get_str("stage") {
                stages.push(stage.to_owned());
            }
            if let Ok(index) = doc.get_str("indexName") {
                indexes.push(index.to_owned());
            }
            for (_, v) in doc {
                walk(v, stages, indexes);
            }
        }
        Bson::Array(items) => {
            for v in items {
                walk(v, stages, indexes);
            }
        }
        _ => {}
    }
}

fn keys_examined(explain: &Document) -> usize {
    let stats = explain
        .get_document("executionStats")
        .expect("executionStats");
    let n = match stats.get("totalKeysExamined") {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(n)) => format!("{n:.0}").parse().expect("integral"),
        other => panic!("totalKeysExamined is {other:?}"),
    };
    usize::try_from(n).expect("non-negative")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_shape_is_a_bounded_index_scan() {
    let Some(store) = common::fresh_store(|c| c).await else {
        return;
    };
    let secantus = is_secantus(&store).await;
    let owner = UserId::generate();
    let tasks = seed(&store, owner).await;
    let mut gaps = Vec::new();
    let shapes = shapes(&tasks);
    assert!(shapes.len() > 100, "{} shapes", shapes.len());
    for shape in &shapes {
        let name = &shape.name;
        let got = store
            .list_tasks(&owner, &shape.request)
            .await
            .expect("list");
        let want = model::page(&tasks, &shape.request);
        assert_eq!(got, want, "{name}");
        let explains = store
            .explain_list_tasks(&owner, &shape.request)
            .await
            .expect("explain");
        assert!(!explains.is_empty(), "{name}: no query");
        for explain in &explains {
            let plan = explain
                .get_document("queryPlanner")
                .and_then(|p| p.get_document("winningPlan"))
                .expect("queryPlanner.winningPlan");
            let (mut stages, mut indexes) = (Vec::new(), Vec::new());
            walk(&Bson::Document(plan.clone()), &mut stages, &mut indexes);
            let scanned = stages.iter().any(|s| s == "IXSCAN");
            let collscan = stages.iter().any(|s| s == "COLLSCAN");
            if secantus && shape.residual && (collscan || !scanned) {
                gaps.push(name.clone());
                continue;
            }
            assert!(
                scanned && !collscan,
                "{name}: not an index scan: {stages:?}\n{explain}"
            );
            if let Some(index) = &shape.index {
                assert!(
                    indexes.iter().all(|i| i == index) && !indexes.is_empty(),
                    "{name}: read {indexes:?}, expected {index}"
                );
            } else {
                assert!(
                    indexes.iter().all(|i| i.starts_with("tasks_user_")),
                    "{name}: read {indexes:?}"
                );
            }
            let keys = keys_examined(explain);
            assert!(
                keys <= OWNER_TASKS,
                "{name}: examined {keys} keys, more than the owner has"
            );
            if !shape.residual && !secantus {
                assert!(
                    keys <= LIMIT + SLACK,
                    "{name}: examined {keys} keys for a page of {LIMIT}"
                );
            }
        }
    }
    if !gaps.is_empty() {
        eprintln!(
            "SecantusDB explain reports COLLSCAN for {} query phases of the {} residual-filter \
             shapes (its explain planner ignores the user_id index prefix it executes with); \
             first: {}",
            gaps.len(),
            shapes.iter().filter(|s| s.residual).count(),
            gaps[0]
        );
    }
    if secantus {
        eprintln!(
            "SecantusDB has no limit push-down: keys examined are bounded by the owner's \
             {OWNER_TASKS} tasks, not by the page size"
        );
    }
    common::drop_database(&store).await;
}
