//! Pool use, checkout wait and command latency, counted from the driver's connection and
//! command events, reach the health port.

use taskflow_core::domain::UserId;
use taskflow_core::ports::{CommandOutcome, StorageHealth, TaskRepository};
use taskflow_core::query::ListRequest;

use crate::common::{drop_database, fresh_store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_use_is_counted_from_connection_events() {
    let Some(store) = fresh_store(|c| c).await else {
        return;
    };
    let before = store
        .pool_stats()
        .expect("a connected store counts its pool");
    let request = ListRequest {
        filter: taskflow_core::query::TaskFilter::default(),
        sort: taskflow_core::query::Sort::default(),
        after: None,
        limit: 5,
    };
    let owner = UserId::generate();
    let lists: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let request = request.clone();
            tokio::spawn(async move { store.list_tasks(&owner, &request).await })
        })
        .collect();
    for list in lists {
        list.await.expect("join").expect("list");
    }
    let after = store.pool_stats().expect("counted");
    assert!(after.open >= 1, "{after:?}");
    assert!(after.open >= before.open, "{before:?} -> {after:?}");
    // Check-in events may trail the operation's completion; a lent connection is still open.
    assert!(after.checked_out <= after.open, "{after:?}");
    assert_eq!(after.checkout_failures, 0);
    store.ping().await.expect("ping");
    drop_database(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_wait_and_command_latency_are_timed_from_driver_events() {
    // The application's own command monitor still sees every command the store times.
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = seen.clone();
    let handler = mongodb::event::EventHandler::callback(
        move |event: mongodb::event::command::CommandEvent| {
            if matches!(event, mongodb::event::command::CommandEvent::Succeeded(_)) {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        },
    );
    let Some(store) = fresh_store(|mut c| {
        c.command_event_handler = Some(handler);
        c
    })
    .await
    else {
        return;
    };
    let owner = UserId::generate();
    let request = ListRequest {
        filter: taskflow_core::query::TaskFilter::default(),
        sort: taskflow_core::query::Sort::default(),
        after: None,
        limit: 5,
    };
    store.list_tasks(&owner, &request).await.expect("list");
    let unknown = store
        .database()
        .run_command(mongodb::bson::doc! { "noSuchCommandForTaskflow": 1 })
        .await;
    assert!(unknown.is_err(), "the server refuses an unknown command");

    // Read before the snapshot: the store times an event before handing it on, so every
    // event the application saw is in the snapshot.
    let forwarded = seen.load(std::sync::atomic::Ordering::Relaxed);
    let timings = store.timings().expect("a connected store times its work");
    assert!(timings.pool_wait.count() >= 1, "{:?}", timings.pool_wait);
    assert_eq!(
        timings.pool_wait.counts.len(),
        timings.pool_wait.bounds.len() + 1
    );
    let count = |name: &str, outcome: CommandOutcome| {
        timings
            .commands
            .iter()
            .find(|c| c.command == name && c.outcome == outcome)
            .map_or(0, |c| c.latency.count())
    };
    assert!(count("find", CommandOutcome::Succeeded) >= 1, "{timings:?}");
    assert!(
        count("createIndexes", CommandOutcome::Succeeded) >= 1,
        "{timings:?}"
    );
    assert_eq!(
        count("noSuchCommandForTaskflow", CommandOutcome::Failed),
        1,
        "{timings:?}"
    );
    let succeeded: u64 = timings
        .commands
        .iter()
        .filter(|c| c.outcome == CommandOutcome::Succeeded)
        .map(|c| c.latency.count())
        .sum();
    assert!(forwarded >= 2, "the application's monitor saw {forwarded}");
    assert!(
        succeeded >= forwarded,
        "{succeeded} timed, {forwarded} forwarded"
    );
    drop_database(&store).await;
}
