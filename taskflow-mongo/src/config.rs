//! How the store connects: [`MongoConfig`].

use std::fmt;
use std::time::Duration;

use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use secrecy::SecretString;

/// How many members must acknowledge a write before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteAcknowledgement {
    /// `w: "majority"`: the write survives the loss of a minority of the replica set, so an
    /// acknowledged write is never rolled back by a failover (the default).
    #[default]
    Majority,
    /// `w: 1`: the primary alone; faster, but a failover can roll an acknowledged write back.
    Primary,
}

/// Connection settings of a [`MongoStore`](crate::MongoStore).
///
/// Every field set here overrides the same option in the URI. The URI is a secret (it may
/// carry credentials): it is kept in a [`SecretString`] and never printed, not even by `Debug`.
#[derive(Clone)]
pub struct MongoConfig {
    /// The connection string, `mongodb://…` or `mongodb+srv://…` (Atlas); may carry credentials
    /// and any driver option the fields below do not set.
    pub uri: SecretString,
    /// The database holding TaskFlow's collections (default `taskflow`).
    pub database: String,
    /// Most connections per server in the pool (`None`: the URI's `maxPoolSize`, else the
    /// driver's default of 10).
    pub max_pool_size: Option<u32>,
    /// Connections per server kept open even when idle (`None`: the URI's `minPoolSize`, else 0).
    pub min_pool_size: Option<u32>,
    /// How long an operation waits for a usable server before failing with
    /// [`StorageError::Unavailable`](taskflow_core::StorageError::Unavailable) (default 5 s,
    /// where the driver's own default is 30 s: a readiness probe or a request should not hang
    /// half a minute on an outage).
    pub server_selection_timeout: Duration,
    /// How long opening one connection may take (default 10 s).
    pub connect_timeout: Duration,
    /// The name the server logs and shows in `currentOp` for these connections (default
    /// `taskflow`).
    pub app_name: String,
    /// Write acknowledgement (default [`WriteAcknowledgement::Majority`]).
    pub write_acknowledgement: WriteAcknowledgement,
    /// Whether a write is acknowledged only once it is in the on-disk journal (`j: true`,
    /// default `true`). With `w: "majority"` a replica set journals anyway; this also makes a
    /// standalone server's acknowledged writes survive a crash.
    pub journal: bool,
    /// Also receives every command the driver sends and its outcome (command monitoring), for
    /// tracing or tests, after the store has timed it for its metrics; `None` (the default)
    /// leaves the events to the store alone.
    pub command_event_handler: Option<EventHandler<CommandEvent>>,
}

impl MongoConfig {
    /// The defaults for the server at `uri`. Retryable writes and reads stay on (the
    /// driver's default) unless the URI turns them off.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: SecretString::from(uri.into()),
            database: "taskflow".to_owned(),
            max_pool_size: None,
            min_pool_size: None,
            server_selection_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            app_name: "taskflow".to_owned(),
            write_acknowledgement: WriteAcknowledgement::Majority,
            journal: true,
            command_event_handler: None,
        }
    }

    /// The same settings with another database name.
    #[must_use]
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = database.into();
        self
    }
}

impl fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoConfig")
            .field("uri", &"[REDACTED]")
            .field("database", &self.database)
            .field("max_pool_size", &self.max_pool_size)
            .field("min_pool_size", &self.min_pool_size)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("app_name", &self.app_name)
            .field("write_acknowledgement", &self.write_acknowledgement)
            .field("journal", &self.journal)
            .field(
                "command_event_handler",
                &self.command_event_handler.as_ref().map(|_| "set"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_uri() {
        let config = MongoConfig::new("mongodb://admin:hunter2@db.example.com/");
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("db.example.com"), "{debug}");
        assert!(debug.contains("[REDACTED]"));
    }

    #[test]
    fn defaults() {
        let config = MongoConfig::new("mongodb://localhost/").with_database("other");
        assert_eq!(config.database, "other");
        assert_eq!(config.server_selection_timeout, Duration::from_secs(5));
        assert_eq!(config.app_name, "taskflow");
        assert_eq!(config.write_acknowledgement, WriteAcknowledgement::Majority);
        assert!(config.journal);
    }
}
