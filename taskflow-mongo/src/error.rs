//! Driver errors translated into the core's vocabulary. Driver text never reaches a `Display`:
//! the driver error travels only as the `source` of a [`StorageError`], for logs.

use mongodb::error::{Error, ErrorKind, RETRYABLE_WRITE_ERROR, WriteFailure};
use taskflow_core::StorageError;
use taskflow_core::error::BoxError;

/// Why a [`MongoStore`](crate::MongoStore) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MongoError {
    /// The connection string or an option is invalid (or an SRV lookup failed).
    #[error("the MongoDB connection string or options are invalid")]
    InvalidConfig(#[source] BoxError),
    /// The connection string asks for reads from secondaries (a `readPreference` other than
    /// `primary`): a write acknowledged through one instance could then be missed by a read
    /// through another (or through the same one), so TaskFlow refuses it.
    #[error(
        "the MongoDB connection string sets a readPreference other than primary; TaskFlow reads \
         its own writes from the primary: remove the option"
    )]
    ReadPreference,
    /// The server could not be reached or refused to set up the collections.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Server error codes meaning "not now" rather than "never": the node is shutting down,
/// stepping down or unreachable from the server's side, or a write concern timed out.
const TRANSIENT_CODES: [i32; 14] = [
    6,     // HostUnreachable
    7,     // HostNotFound
    64,    // WriteConcernFailed (wtimeout)
    89,    // NetworkTimeout
    91,    // ShutdownInProgress
    134,   // ReadConcernMajorityNotAvailableYet
    189,   // PrimarySteppedDown
    262,   // ExceededTimeLimit
    9001,  // SocketException
    10107, // NotWritablePrimary
    11600, // InterruptedAtShutdown
    11602, // InterruptedDueToReplStateChange
    13435, // NotPrimaryNoSecondaryOk
    13436, // NotPrimaryOrSecondary
];

/// The duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Whether `err` says the store cannot be reached right now (retrying later may succeed).
fn is_unavailable(err: &Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Shutdown => true,
        ErrorKind::Command(command) => TRANSIENT_CODES.contains(&command.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
            TRANSIENT_CODES.contains(&concern.code)
        }
        _ => err.contains_label(RETRYABLE_WRITE_ERROR),
    }
}

/// The core's storage error for a driver error: `Unavailable` for network, server selection,
/// pool and shutdown failures, `Internal` for anything else.
pub(crate) fn storage_error(err: Error) -> StorageError {
    if is_unavailable(&err) {
        StorageError::Unavailable(Box::new(err))
    } else {
        StorageError::Internal(Box::new(err))
    }
}

/// The message of a duplicate-key error, if `err` is one (a write error from an insert or
/// update, or a command error from `findAndModify`).
pub(crate) fn duplicate_key_message(err: &Error) -> Option<&str> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write)) if write.code == DUPLICATE_KEY => {
            Some(&write.message)
        }
        ErrorKind::Command(command) if command.code == DUPLICATE_KEY => Some(&command.message),
        _ => None,
    }
}

/// A stored document that does not decode into a domain value (a bug or a foreign write).
/// Names the collection and field, never the value.
#[derive(Debug, thiserror::Error)]
#[error("a stored `{collection}` document has an invalid `{field}` field")]
pub(crate) struct CorruptDocument {
    pub(crate) collection: &'static str,
    pub(crate) field: &'static str,
}

impl From<CorruptDocument> for StorageError {
    fn from(err: CorruptDocument) -> Self {
        Self::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_and_selection_failures_are_unavailable() {
        let io = Error::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused by 10.1.2.3",
        ));
        let err = storage_error(io);
        assert!(matches!(err, StorageError::Unavailable(_)));
        assert_eq!(err.to_string(), "storage is unavailable");
        let custom = storage_error(Error::custom("something odd"));
        assert!(matches!(custom, StorageError::Internal(_)));
        assert_eq!(custom.to_string(), "storage failed");
    }

    #[test]
    fn invalid_config_hides_the_driver_text() {
        let err = MongoError::InvalidConfig(Box::new(Error::custom("mongodb://u:secret@h")));
        assert_eq!(
            err.to_string(),
            "the MongoDB connection string or options are invalid"
        );
    }
}
