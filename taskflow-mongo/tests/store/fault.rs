//! An outage: the test starts its own SecantusDB on file storage, writes, kills the server,
//! sees every call fail with `StorageError::Unavailable` (never hang), restarts it on the same
//! port and storage, and finds every acknowledged write (journaled) and working calls again.
//!
//! Needs `TASKFLOW_TEST_SECANTUSD` (the `secantusd-py` binary; scripts/test.sh sets it):
//! skipped without it, except under `CI=true`, where that is a failure.

use std::time::Duration;

use taskflow_core::StorageError;
use taskflow_core::domain::UserId;
use taskflow_core::ports::{StorageHealth, TaskRepository};
use taskflow_core::query::{ListRequest, Sort, TaskFilter};
use taskflow_core::testkit::TaskSpec;
use taskflow_mongo::testkit::{OwnedServer, server_binary};
use taskflow_mongo::{MongoConfig, MongoStore};

/// Far beyond the 1 s selection timeout: a call that takes this long hangs.
const HANG: Duration = Duration::from_secs(20);
/// Start-up polls; each failed attempt waits out one selection timeout (1 s).
const READY_ATTEMPTS: usize = 60;

async fn until_ready(store: &MongoStore) {
    for _ in 0..READY_ATTEMPTS {
        if store.ping().await.is_ok() {
            return;
        }
    }
    panic!("the restarted server did not answer");
}

/// Awaits `call`, failing the test if it takes longer than [`HANG`].
async fn within<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(HANG, call)
        .await
        .expect("the call failed or succeeded rather than hung")
}

fn assert_unavailable<T: std::fmt::Debug>(what: &str, result: Result<T, StorageError>) {
    match result {
        Err(err @ StorageError::Unavailable(_)) => {
            assert_eq!(err.to_string(), "storage is unavailable", "{what}");
        }
        other => panic!("{what}: expected Unavailable, got {other:?}"),
    }
}

#[allow(clippy::too_many_lines)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_unavailable_and_acknowledged_writes_survive_it() {
    let Some(binary) = server_binary("the outage test") else {
        return;
    };
    let mut server = OwnedServer::start(binary).expect("start secantusd-py");

    let mut config = MongoConfig::new(server.uri()).with_database("taskflow_fault");
    config.server_selection_timeout = Duration::from_secs(1);
    config.connect_timeout = Duration::from_secs(1);
    let mut store = None;
    for _ in 0..READY_ATTEMPTS {
        if let Ok(connected) = MongoStore::connect(config.clone()).await {
            store = Some(connected);
            break;
        }
    }
    let store = store.expect("the server started");

    let owner = UserId::generate();
    let mut written = Vec::new();
    for i in 0..25 {
        let task = TaskSpec {
            created: i,
            due: (i % 2 == 0).then_some(i),
            ..TaskSpec::default()
        }
        .build(owner);
        store.insert_task(&task).await.expect("insert");
        written.push(task);
    }
    let all = ListRequest {
        filter: TaskFilter::default(),
        sort: Sort::default(),
        after: None,
        limit: 100,
    };

    // SIGKILL: no graceful shutdown, no flush beyond what was acknowledged.
    server.kill();
    let probe = written[0].clone();
    let extra = TaskSpec::default().build(owner);
    assert_unavailable("ping", within(store.ping()).await);
    assert_unavailable("get", within(store.get_task(&owner, &probe.id)).await);
    assert_unavailable("list", within(store.list_tasks(&owner, &all)).await);
    assert_unavailable("insert", within(store.insert_task(&extra)).await);
    assert_unavailable(
        "stats",
        within(store.task_stats(&owner, probe.created_at)).await,
    );

    server.restart().expect("restart secantusd-py");
    until_ready(&store).await;
    let listed = store.list_tasks(&owner, &all).await.expect("list");
    let mut expected = written.clone();
    expected.sort_by(|a, b| {
        Sort::default().compare(
            &Sort::default().position_of(a),
            &Sort::default().position_of(b),
        )
    });
    assert_eq!(listed, expected, "every acknowledged write survived");
    for task in &written {
        assert_eq!(
            store.get_task(&owner, &task.id).await.expect("get"),
            Some(task.clone())
        );
    }
    store
        .insert_task(&extra)
        .await
        .expect("insert after restart");
    assert_eq!(
        store.get_task(&owner, &extra.id).await.expect("get"),
        Some(extra)
    );
    store.shutdown().await;
}
