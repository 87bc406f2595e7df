//! Indexes exist after `connect`, re-creating them is a no-op, and configuration errors are
//! reported without driver text.

use std::time::Duration;

use mongodb::bson::Document;
use taskflow_core::StorageError;
use taskflow_core::ports::StorageHealth;
use taskflow_mongo::{MongoConfig, MongoError, MongoStore};

use crate::common;

async fn indexes(store: &MongoStore, collection: &str) -> Vec<Document> {
    let mut cursor = store
        .database()
        .collection::<Document>(collection)
        .list_indexes()
        .await
        .expect("listIndexes");
    let mut out = Vec::new();
    while cursor.advance().await.expect("next") {
        let model = cursor.deserialize_current().expect("index");
        let mut doc = model.keys.clone();
        let options = model.options.expect("options");
        doc.insert("name", options.name.expect("name"));
        doc.insert("unique", options.unique.unwrap_or(false));
        if let Some(ttl) = options.expire_after {
            doc.insert("ttl", i64::try_from(ttl.as_secs()).expect("small"));
        }
        out.push(doc);
    }
    out
}

fn named<'a>(all: &'a [Document], name: &str) -> &'a Document {
    all.iter()
        .find(|d| d.get_str("name") == Ok(name))
        .unwrap_or_else(|| panic!("no index {name} in {all:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_are_created_once_and_idempotently() {
    let Some(store) = common::fresh_store(|c| c).await else {
        return;
    };
    store.ensure_indexes().await.expect("again");
    store.ping().await.expect("ping");
    let users = indexes(&store, "users").await;
    assert!(
        named(&users, "users_email_unique")
            .get_bool("unique")
            .expect("flag")
    );
    let tasks = indexes(&store, "tasks").await;
    for key in ["created", "updated", "due"] {
        let plain = named(&tasks, &format!("tasks_user_{key}"));
        let by_state = named(&tasks, &format!("tasks_user_completed_{key}"));
        let fields: Vec<&String> = plain.keys().collect();
        assert_eq!(fields[0], "user_id");
        assert_eq!(fields[2], "_id");
        let fields: Vec<&String> = by_state.keys().collect();
        assert_eq!(fields[..2], ["user_id", "completed"]);
        assert_eq!(fields[3], "_id");
    }
    for (collection, name, field) in [
        ("sessions", "sessions_expiry", "expires_at"),
        ("login_failures", "login_failures_expiry", "expires_at"),
        ("rate_limits", "rate_limits_expiry", "tat"),
    ] {
        let all = indexes(&store, collection).await;
        let ttl = named(&all, name);
        assert_eq!(ttl.get_i64("ttl"), Ok(0), "{collection}");
        assert_eq!(ttl.keys().next().map(String::as_str), Some(field), "{ttl}");
    }
    named(&indexes(&store, "sessions").await, "sessions_user_created");
    let collections = store
        .database()
        .list_collection_names()
        .await
        .expect("listCollections");
    assert!(
        !collections.iter().any(|c| c == "refresh_tokens"),
        "refresh tokens live in their sessions: {collections:?}"
    );
    common::drop_database(&store).await;
}

#[tokio::test]
async fn reads_from_secondaries_are_refused_and_primary_is_kept() {
    for preference in [
        "secondary",
        "secondaryPreferred",
        "primaryPreferred",
        "nearest",
    ] {
        // Refused while parsing, before any server is contacted.
        let uri = format!("mongodb://127.0.0.1:9/?readPreference={preference}");
        let err = MongoStore::connect(MongoConfig::new(uri))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, MongoError::ReadPreference),
            "{preference}: {err:?}"
        );
        assert!(err.to_string().contains("readPreference"), "{err}");
    }
    let Some(uri) = common::test_uri() else {
        return;
    };
    let explicit = if uri.contains('?') { "&" } else { "?" };
    let store = MongoStore::connect(
        MongoConfig::new(format!("{uri}{explicit}readPreference=primary"))
            .with_database(common::unique_database()),
    )
    .await
    .expect("primary is the one accepted");
    common::drop_database(&store).await;
}

#[tokio::test]
async fn invalid_uris_are_config_errors_without_driver_text() {
    for uri in ["", "http://localhost", "mongodb://u:hunter2@h:notaport/"] {
        let err = MongoStore::connect(MongoConfig::new(uri))
            .await
            .expect_err("invalid");
        assert!(matches!(err, MongoError::InvalidConfig(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "the MongoDB connection string or options are invalid"
        );
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_within_the_selection_timeout() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut config = MongoConfig::new(format!("mongodb://127.0.0.1:{port}/?directConnection=true"));
    config.server_selection_timeout = Duration::from_millis(300);
    let result = tokio::time::timeout(Duration::from_secs(20), MongoStore::connect(config))
        .await
        .expect("fails rather than hangs");
    let err = result.expect_err("nothing listens");
    assert!(
        matches!(err, MongoError::Storage(StorageError::Unavailable(_))),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "storage is unavailable");
}
