//! Command monitoring: every command sent to the tasks and sessions collections carries
//! `user_id` equality in its filter (or, for inserts, in each document), so a sharded cluster
//! routes every one of them to a single shard; and a refresh costs the commands it should.

use std::sync::{Arc, Mutex};

use mongodb::bson::{Bson, Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use taskflow_core::auth::refresh::{RefreshTokenHash, RefreshTokenKeys};
use taskflow_core::auth::session::{Rotation, Session};
use taskflow_core::auth::throttle::ThrottlePolicy;
use taskflow_core::domain::{Email, Priority, SessionId, Tag, TaskPatch, TaskTitle, UserId};
use taskflow_core::ports::{LoginThrottleRepository, SessionRepository, TaskRepository};
use taskflow_core::query::{Direction, ListRequest, SearchText, Sort, SortKey, TaskFilter};
use taskflow_core::testkit::{TaskSpec, at};

use crate::common;

const SCOPED: [&str; 2] = ["tasks", "sessions"];

/// Commands that carry no query: administration (index creation at start-up, the test's
/// own database drop) and cursor continuations of an already checked `find`/`aggregate`.
const UNSCOPED_COMMANDS: [&str; 6] = [
    "createIndexes",
    "listIndexes",
    "drop",
    "dropDatabase",
    "getMore",
    "killCursors",
];

fn has_user_equality(filter: Option<&Document>) -> bool {
    filter.is_some_and(|f| matches!(f.get("user_id"), Some(Bson::ObjectId(_))))
}

fn documents<'a>(command: &'a Document, field: &str) -> Vec<Option<&'a Document>> {
    command.get_array(field).map_or_else(
        |_| vec![None],
        |items| items.iter().map(Bson::as_document).collect(),
    )
}

/// The `$match` a pipeline starts with, if it starts with one.
fn first_match(pipeline: Option<&Vec<Bson>>) -> Option<&Document> {
    pipeline?
        .first()
        .and_then(Bson::as_document)
        .and_then(|stage| stage.get_document("$match").ok())
}

/// Why `command` (named `name`) is not scoped to one user, if it is not.
fn violation(name: &str, command: &Document) -> Option<String> {
    let filters: Vec<Option<&Document>> = match name {
        "find" | "count" | "distinct" => vec![command.get_document("filter").ok()],
        "findAndModify" => vec![command.get_document("query").ok()],
        "update" => documents(command, "updates")
            .into_iter()
            .map(|u| u.and_then(|u| u.get_document("q").ok()))
            .collect(),
        "delete" => documents(command, "deletes")
            .into_iter()
            .map(|d| d.and_then(|d| d.get_document("q").ok()))
            .collect(),
        "insert" => documents(command, "documents"),
        "aggregate" => {
            let pipeline = command.get_array("pipeline").ok();
            let mut filters = vec![first_match(pipeline)];
            // Every pipeline a `$unionWith` adds reads a scoped collection of the same user.
            for stage in pipeline.into_iter().flatten().filter_map(Bson::as_document) {
                if let Ok(union) = stage.get_document("$unionWith") {
                    let scoped = union.get_str("coll").is_ok_and(|c| SCOPED.contains(&c));
                    let inner = first_match(union.get_array("pipeline").ok());
                    filters.push(inner.filter(|_| scoped));
                }
            }
            filters
        }
        _ if UNSCOPED_COMMANDS.contains(&name) => return None,
        other => return Some(format!("unexpected command {other}: {command}")),
    };
    if filters.iter().all(|f| has_user_equality(*f)) {
        None
    } else {
        Some(format!("{name} without user_id equality: {command}"))
    }
}

type Log = Arc<Mutex<Vec<(String, String, Document)>>>;

#[test]
fn the_checker_catches_unscoped_commands() {
    let user = Bson::ObjectId(mongodb::bson::oid::ObjectId::new());
    let ok = doc! { "find": "tasks", "filter": { "_id": 1, "user_id": user.clone() } };
    assert_eq!(violation("find", &ok), None);
    let union = doc! { "aggregate": "tasks", "pipeline": [
        { "$match": { "user_id": user.clone() } },
        { "$unionWith": { "coll": "tasks", "pipeline": [{ "$match": { "user_id": user.clone() } }] } },
    ] };
    assert_eq!(violation("aggregate", &union), None);
    for (name, bad) in [
        ("find", doc! { "find": "tasks", "filter": { "_id": 1 } }),
        (
            "find",
            doc! { "find": "tasks", "filter": { "user_id": { "$ne": user.clone() } } },
        ),
        (
            "update",
            doc! { "update": "sessions", "updates": [{ "q": { "user_id": user.clone() } }, { "q": {} }] },
        ),
        (
            "delete",
            doc! { "delete": "sessions", "deletes": [{ "q": { "session_id": 1 } }] },
        ),
        (
            "findAndModify",
            doc! { "findAndModify": "sessions", "query": { "_id": 1 } },
        ),
        (
            "aggregate",
            doc! { "aggregate": "tasks", "pipeline": [{ "$group": { "_id": 1 } }] },
        ),
        (
            "aggregate",
            doc! { "aggregate": "tasks", "pipeline": [
                { "$match": { "user_id": user.clone() } },
                { "$unionWith": { "coll": "tasks", "pipeline": [{ "$match": { "_id": 1 } }] } },
            ] },
        ),
        (
            "aggregate",
            doc! { "aggregate": "tasks", "pipeline": [
                { "$match": { "user_id": user.clone() } },
                { "$unionWith": { "coll": "users", "pipeline": [{ "$match": { "user_id": user.clone() } }] } },
            ] },
        ),
        (
            "insert",
            doc! { "insert": "tasks", "documents": [{ "_id": 1 }] },
        ),
        ("bulkWrite", doc! { "bulkWrite": 1 }),
    ] {
        assert!(violation(name, &bad).is_some(), "{bad}");
    }
}

fn session(user: UserId, created: i64) -> Session {
    Session {
        id: SessionId::generate(),
        user_id: user,
        created_at: at(created),
        last_used_at: at(created),
        expires_at: at(created + 3600),
        idle_expires_at: at(created + 600),
        user_agent: Some("test".into()),
        ip: None,
        revoked_at: None,
    }
}

fn hash(session: &Session) -> RefreshTokenHash {
    RefreshTokenKeys::random()
        .mint(&session.user_id, &session.id, 0)
        .1
}

fn rotation(session: &Session, presented: RefreshTokenHash, generation: u64, now: i64) -> Rotation {
    let keys = RefreshTokenKeys::random();
    let (successor, successor_hash) = keys.mint(&session.user_id, &session.id, generation + 1);
    Rotation {
        user_id: session.user_id,
        session_id: session.id,
        presented,
        generation,
        successor: successor_hash,
        sealed_successor: keys.seal(&successor, &presented),
        now: at(now),
        idle_expires_at: at(now + 600),
    }
}

#[allow(clippy::too_many_lines)] // one walk through every scoped operation
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scoped_command_names_the_user() {
    let log: Log = Arc::default();
    let sink = log.clone();
    let handler = EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event {
            sink.lock()
                .expect("lock")
                .push((started.command_name, started.db, started.command));
        }
    });
    let Some(store) = common::fresh_store(|mut c| {
        c.command_event_handler = Some(handler);
        c
    })
    .await
    else {
        return;
    };
    let database = store.database().name().to_owned();
    let user = UserId::generate();

    // Tasks: every operation, every list shape.
    let task = TaskSpec {
        due: Some(5),
        tags: vec!["work"],
        ..TaskSpec::default()
    }
    .build(user);
    store.insert_task(&task).await.expect("insert");
    for i in 0..5 {
        let spec = TaskSpec {
            created: i,
            due: (i % 2 == 0).then_some(i),
            ..TaskSpec::default()
        };
        store.insert_task(&spec.build(user)).await.expect("insert");
    }
    store.get_task(&user, &task.id).await.expect("get");
    let patch = TaskPatch {
        title: Some(TaskTitle::parse("renamed").expect("valid")),
        ..TaskPatch::default()
    };
    let next = task.patched(&patch, at(9)).expect("a change");
    assert!(store.replace_task(&next, 1).await.expect("replace"));
    let filters = [
        TaskFilter::default(),
        TaskFilter {
            completed: Some(false),
            tag: Some(Tag::parse("work").expect("valid")),
            priority: Some(Priority::Medium),
            q: Some(SearchText::parse("ren").expect("valid")),
            due_after: Some(at(0)),
            due_before: Some(at(10)),
        },
    ];
    for filter in filters {
        for key in [SortKey::CreatedAt, SortKey::UpdatedAt, SortKey::DueAt] {
            for direction in [Direction::Asc, Direction::Desc] {
                let sort = Sort { key, direction };
                let mut request = ListRequest {
                    filter: filter.clone(),
                    sort,
                    after: None,
                    limit: 2,
                };
                // Walk every page, so that every phase (ties, range, undated) runs; each
                // page is one command, whatever its phases.
                loop {
                    let sent = log.lock().expect("lock").len();
                    let page = store.list_tasks(&user, &request).await.expect("list");
                    let commands: Vec<String> = log.lock().expect("lock")[sent..]
                        .iter()
                        .map(|(name, _, _)| name.clone())
                        .collect();
                    let one = matches!(commands.as_slice(), [c] if c == "find" || c == "aggregate");
                    assert!(one, "{sort:?} {filter:?}: a page cost {commands:?}");
                    let Some(last) = page.last() else { break };
                    request.after = Some(sort.position_of(last));
                }
            }
        }
    }
    store.task_stats(&user, at(3)).await.expect("stats");
    assert!(store.delete_task(&user, &task.id).await.expect("delete"));

    // Sessions and their refresh families.
    let (first, second) = (session(user, 0), session(user, 1));
    let first_token = hash(&first);
    store
        .create_session(&first, &first_token)
        .await
        .expect("create");
    store
        .create_session(&second, &hash(&second))
        .await
        .expect("create");
    store.get_session(&user, &first.id).await.expect("get");
    store
        .get_session_validity(&user, &first.id)
        .await
        .expect("get validity");
    let live = rotation(&first, first_token, 0, 2);
    assert!(
        store
            .rotate_refresh_token(&live)
            .await
            .expect("rotate")
            .is_some()
    );
    let replay = rotation(&first, first_token, 0, 3);
    assert!(
        store
            .rotate_refresh_token(&replay)
            .await
            .expect("rotate")
            .is_none()
    );
    store
        .get_refresh_family(&user, &first.id)
        .await
        .expect("family");
    store.list_sessions(&user).await.expect("list");
    assert!(
        store
            .revoke_session(&user, &first.id, at(5))
            .await
            .expect("revoke")
    );
    let after = rotation(&first, live.successor, 1, 6);
    assert!(
        store
            .rotate_refresh_token(&after)
            .await
            .expect("rotate")
            .is_none()
    );
    assert_eq!(
        store.revoke_all_sessions(&user, at(7)).await.expect("all"),
        1
    );

    // The throttle is keyed by email (no user yet at login): exercised, not scoped.
    let email = Email::parse("monitor@example.com").expect("valid");
    store
        .reserve_login_attempt(&email, at(1), &ThrottlePolicy::default())
        .await
        .expect("reserve");
    store.login_failures(&email).await.expect("get");
    store.clear_login_failures(&email).await.expect("clear");

    let events = std::mem::take(&mut *log.lock().expect("lock"));
    let mut seen = std::collections::BTreeSet::new();
    let mut violations = Vec::new();
    for (name, db, command) in &events {
        let collection = command.get_str(name.as_str()).unwrap_or_default();
        if *db != database || !SCOPED.contains(&collection) {
            continue;
        }
        seen.insert(format!("{collection}.{name}"));
        if let Some(problem) = violation(name, command) {
            violations.push(problem);
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    for expected in [
        "tasks.insert",
        "tasks.find",
        "tasks.update",
        "tasks.delete",
        "tasks.aggregate",
        "sessions.insert",
        "sessions.find",
        "sessions.update",
        "sessions.findAndModify",
    ] {
        assert!(seen.contains(expected), "no {expected} was sent: {seen:?}");
    }
    common::drop_database(&store).await;
}
