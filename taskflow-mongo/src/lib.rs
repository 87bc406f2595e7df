#![doc = include_str!("../README.md")]

mod codec;
mod config;
mod error;
mod indexes;
mod pool;
mod query;
mod rate_limits;
mod sessions;
mod tasks;
#[cfg(feature = "testkit")]
pub mod testkit;
mod throttle;
mod timing;
mod users;

use std::sync::Arc;

use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::options::{
    Acknowledgment, ClientOptions, ReadPreference, SelectionCriteria, WriteConcern,
};
use mongodb::{Client, Collection, Database};
use secrecy::ExposeSecret;
use taskflow_core::StorageError;
use taskflow_core::domain::{Task, UserId};
use taskflow_core::ports::{StorageHealth, StorageTimings};
use taskflow_core::query::ListRequest;

pub use config::{MongoConfig, WriteAcknowledgement};
pub use error::MongoError;
pub use mongodb;
pub use taskflow_core as core;

use crate::codec::{LOGIN_FAILURES, RATE_LIMITS, SESSIONS, TASKS, USERS};
use crate::error::storage_error;

/// The MongoDB store; cheap to clone, clones share the driver's connection pool.
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    database: Database,
    users: Collection<Document>,
    tasks: Collection<Document>,
    sessions: Collection<Document>,
    failures: Collection<Document>,
    rate_limits: Collection<Document>,
    /// Pool counters and command latencies, when the store built its own client (and so its
    /// event handlers).
    monitors: Option<Monitors>,
}

/// What the store's own event handlers record.
#[derive(Debug, Clone)]
struct Monitors {
    pool: Arc<pool::PoolCounters>,
    commands: Arc<timing::CommandTimings>,
}

impl MongoStore {
    /// Parses the configuration, builds the client and creates the indexes (idempotently).
    ///
    /// # Errors
    /// [`MongoError::InvalidConfig`] for a malformed URI or option,
    /// [`MongoError::Storage`] when the server cannot be reached within the server selection
    /// timeout or refuses to create the indexes.
    pub async fn connect(config: MongoConfig) -> Result<Self, MongoError> {
        let mut options = ClientOptions::parse(config.uri.expose_secret())
            .await
            .map_err(|e| match storage_error(e) {
                // An SRV lookup that failed for lack of network is an outage, not bad input.
                unavailable @ StorageError::Unavailable(_) => MongoError::Storage(unavailable),
                StorageError::Internal(e) => MongoError::InvalidConfig(e),
            })?;
        // Read-your-writes across instances (a task written through one is read through
        // another at once) holds only on the primary: with `w: majority` writes, the primary,
        // and after a failover the new one, has every acknowledged write; a secondary may lag.
        let primary = SelectionCriteria::ReadPreference(ReadPreference::Primary);
        if options.selection_criteria.as_ref().is_some_and(|asked| {
            !matches!(
                asked,
                SelectionCriteria::ReadPreference(ReadPreference::Primary)
            )
        }) {
            return Err(MongoError::ReadPreference);
        }
        options.selection_criteria = Some(primary);
        options.app_name = Some(config.app_name);
        if config.max_pool_size.is_some() {
            options.max_pool_size = config.max_pool_size;
        }
        if config.min_pool_size.is_some() {
            options.min_pool_size = config.min_pool_size;
        }
        options.server_selection_timeout = Some(config.server_selection_timeout);
        options.connect_timeout = Some(config.connect_timeout);
        let w = match config.write_acknowledgement {
            WriteAcknowledgement::Majority => Acknowledgment::Majority,
            WriteAcknowledgement::Primary => Acknowledgment::Nodes(1),
        };
        options.write_concern = Some(WriteConcern::builder().w(w).journal(config.journal).build());
        let monitors = Monitors {
            pool: Arc::default(),
            commands: Arc::default(),
        };
        options.command_event_handler = Some(timing::CommandTimings::handler(
            monitors.commands.clone(),
            config.command_event_handler,
        ));
        options.cmap_event_handler = Some(pool::PoolCounters::handler(monitors.pool.clone()));
        let client =
            Client::with_options(options).map_err(|e| MongoError::InvalidConfig(Box::new(e)))?;
        let mut store = Self::with_client(client, &config.database);
        store.monitors = Some(monitors);
        store.ensure_indexes().await?;
        Ok(store)
    }

    /// A store over an existing client and database, without creating indexes (call
    /// [`ensure_indexes`](Self::ensure_indexes) once, or use [`connect`](Self::connect)).
    pub fn with_client(client: Client, database: &str) -> Self {
        let database = client.database(database);
        Self {
            users: database.collection(USERS),
            tasks: database.collection(TASKS),
            sessions: database.collection(SESSIONS),
            failures: database.collection(LOGIN_FAILURES),
            rate_limits: database.collection(RATE_LIMITS),
            database,
            client,
            monitors: None,
        }
    }

    /// Creates every index TaskFlow needs; indexes that already exist are left alone.
    ///
    /// # Errors
    /// [`StorageError`] when the server cannot be reached or refuses an index (an index of
    /// the same name with other keys or options, for instance).
    pub async fn ensure_indexes(&self) -> Result<(), StorageError> {
        let all = indexes::all();
        let mut collections: Vec<&'static str> = all.iter().map(|i| i.collection).collect();
        collections.dedup();
        for collection in collections {
            let models: Vec<_> = all
                .iter()
                .filter(|i| i.collection == collection)
                .map(|i| i.model.clone())
                .collect();
            self.database
                .collection::<Document>(collection)
                .create_indexes(models)
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }

    /// Stores many new tasks in one round trip per batch of the driver (for imports and
    /// seeding); like [`insert_task`](taskflow_core::ports::TaskRepository::insert_task) for
    /// each, in order, stopping at the first failure (earlier tasks stay stored).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails or a task id is already taken.
    pub async fn insert_tasks(&self, tasks: &[Task]) -> Result<(), StorageError> {
        if tasks.is_empty() {
            return Ok(());
        }
        let documents = tasks
            .iter()
            .map(codec::task_to_document)
            .collect::<Result<Vec<_>, _>>()?;
        self.tasks
            .insert_many(documents)
            .await
            .map(drop)
            .map_err(storage_error)
    }

    /// The database handle, for administration and tests (dropping a test database, running
    /// `explain`).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The `explain` (verbosity `executionStats`) of every phase of the one command that
    /// [`list_tasks`](taskflow_core::ports::TaskRepository::list_tasks) runs for this request,
    /// in order, each as the `find` of the same filter, sort and limit (a list of several
    /// phases runs them as `$match`, `$sort`, `$limit` inside one `aggregate`, whose own
    /// explain not every server details for `$unionWith`): how each is served (index scan or
    /// not) and what it examines.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    pub async fn explain_list_tasks(
        &self,
        owner: &UserId,
        request: &ListRequest,
    ) -> Result<Vec<Document>, StorageError> {
        let limit = i64::try_from(request.limit).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        for spec in query::list_plan(owner, request) {
            let command = doc! {
                "explain": {
                    "find": TASKS,
                    "filter": spec.filter,
                    "sort": spec.sort,
                    "limit": limit,
                },
                "verbosity": "executionStats",
            };
            out.push(
                self.database
                    .run_command(command)
                    .await
                    .map_err(storage_error)?,
            );
        }
        Ok(out)
    }

    /// Closes the connection pool and stops the driver's background tasks. Every clone of this
    /// store fails afterwards.
    pub async fn shutdown(&self) {
        self.client.clone().shutdown().await;
    }
}

#[async_trait]
impl StorageHealth for MongoStore {
    async fn ping(&self) -> Result<(), StorageError> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map(drop)
            .map_err(storage_error)
    }

    fn pool_stats(&self) -> Option<taskflow_core::ports::PoolStats> {
        self.monitors.as_ref().map(|m| m.pool.snapshot())
    }

    fn timings(&self) -> Option<StorageTimings> {
        self.monitors.as_ref().map(|m| StorageTimings {
            pool_wait: m.pool.wait(),
            commands: m.commands.snapshot(),
        })
    }

    async fn close(&self) {
        self.shutdown().await;
    }
}
