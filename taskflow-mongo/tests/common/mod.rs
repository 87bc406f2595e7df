//! Shared test setup: a fresh, uniquely named database per test on the server named by
//! `TASKFLOW_TEST_MONGODB_URI`, dropped afterwards.
//!
//! Without that variable the tests skip (with a note on stderr), except under `CI=true`,
//! where a missing server is a failure: CI must never pass by skipping the MongoDB tests.

#![allow(dead_code)] // each test binary uses its own part of this module

use mongodb::bson::oid::ObjectId;
use taskflow_core::testkit::Repositories;
use taskflow_mongo::{MongoConfig, MongoStore};

/// The environment variable naming the test server.
pub(crate) const URI_VAR: &str = "TASKFLOW_TEST_MONGODB_URI";

/// The test server's URI; `None` (skip) only outside CI.
///
/// # Panics
/// Under `CI=true` when the variable is unset.
pub(crate) fn test_uri() -> Option<String> {
    taskflow_mongo::testkit::required_env(
        URI_VAR,
        "the MongoDB tests",
        "scripts/test.sh starts a test server and sets it",
    )
}

/// A unique database name for one test.
pub(crate) fn unique_database() -> String {
    format!("taskflow_test_{}", ObjectId::new().to_hex())
}

/// A connected store (indexes created) on a fresh database, with `configure` applied to the
/// default test configuration; `None` to skip.
pub(crate) async fn fresh_store(
    configure: impl FnOnce(MongoConfig) -> MongoConfig,
) -> Option<MongoStore> {
    let uri = test_uri()?;
    let config = configure(MongoConfig::new(uri).with_database(unique_database()));
    Some(
        MongoStore::connect(config)
            .await
            .expect("connect to the test MongoDB server"),
    )
}

/// Drops the store's database (the end of every test).
pub(crate) async fn drop_database(store: &MongoStore) {
    store
        .database()
        .drop()
        .await
        .expect("drop the test database");
}

/// Fresh repositories on their own database, dropped when the test is over.
pub(crate) async fn mongo_repositories() -> Option<Repositories> {
    let store = fresh_store(|c| c).await?;
    let teardown = store.clone();
    Some(Repositories::new(store).with_teardown(async move { drop_database(&teardown).await }))
}
