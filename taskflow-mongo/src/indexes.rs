//! The indexes of every collection, created idempotently (same name, same keys: a no-op).
//!
//! Tasks have, for each sort key K of the list contract, `{user_id, K, _id}` (lists without a
//! `completed` filter) and `{user_id, completed, K, _id}` (lists with one): equality prefix,
//! then the range the keyset cursor puts on K, then the `_id` tie-break, so every list is one
//! bounded index range read in index order. Scanning an index backwards serves the other
//! direction, so one index per key serves both.

use std::time::Duration;

use mongodb::IndexModel;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;

use crate::codec::{LOGIN_FAILURES, RATE_LIMITS, SESSIONS, TASKS, USERS};

/// One index: its collection, name, keys and options.
pub(crate) struct IndexSpec {
    pub(crate) collection: &'static str,
    pub(crate) model: IndexModel,
}

fn index(collection: &'static str, name: &str, keys: Document) -> IndexSpec {
    index_with(collection, name, keys, IndexOptions::default())
}

fn index_with(
    collection: &'static str,
    name: &str,
    keys: Document,
    mut options: IndexOptions,
) -> IndexSpec {
    options.name = Some(name.to_owned());
    IndexSpec {
        collection,
        model: IndexModel::builder().keys(keys).options(options).build(),
    }
}

fn ttl(collection: &'static str, name: &str) -> IndexSpec {
    ttl_on(collection, name, "expires_at")
}

fn ttl_on(collection: &'static str, name: &str, field: &str) -> IndexSpec {
    let mut options = IndexOptions::default();
    // Expire exactly at the stored instant.
    options.expire_after = Some(Duration::ZERO);
    index_with(collection, name, doc! { field: 1 }, options)
}

/// Every index TaskFlow needs, grouped by collection.
pub(crate) fn all() -> Vec<IndexSpec> {
    let mut unique = IndexOptions::default();
    unique.unique = Some(true);
    vec![
        index_with(USERS, "users_email_unique", doc! { "email": 1 }, unique),
        index(
            TASKS,
            "tasks_user_created",
            doc! { "user_id": 1, "created_at": -1, "_id": -1 },
        ),
        index(
            TASKS,
            "tasks_user_completed_created",
            doc! { "user_id": 1, "completed": 1, "created_at": -1, "_id": -1 },
        ),
        index(
            TASKS,
            "tasks_user_updated",
            doc! { "user_id": 1, "updated_at": -1, "_id": -1 },
        ),
        index(
            TASKS,
            "tasks_user_completed_updated",
            doc! { "user_id": 1, "completed": 1, "updated_at": -1, "_id": -1 },
        ),
        index(
            TASKS,
            "tasks_user_due",
            doc! { "user_id": 1, "due_at": 1, "_id": 1 },
        ),
        index(
            TASKS,
            "tasks_user_completed_due",
            doc! { "user_id": 1, "completed": 1, "due_at": 1, "_id": 1 },
        ),
        index(
            SESSIONS,
            "sessions_user_created",
            doc! { "user_id": 1, "created_at": -1, "_id": -1 },
        ),
        // Also ends the refresh family each session carries: no collection of tokens to clean.
        ttl(SESSIONS, "sessions_expiry"),
        ttl(LOGIN_FAILURES, "login_failures_expiry"),
        // A key whose TAT has passed is a fresh key: its document can go.
        ttl_on(RATE_LIMITS, "rate_limits_expiry", "tat"),
    ]
}
