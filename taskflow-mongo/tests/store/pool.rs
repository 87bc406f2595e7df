//! Pool use, counted from the driver's connection events, reaches the health port.

use taskflow_core::domain::UserId;
use taskflow_core::ports::{StorageHealth, TaskRepository};
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
