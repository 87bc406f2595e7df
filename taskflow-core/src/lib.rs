//! TaskFlow's domain, independent of any web framework and any database driver.
//!
//! - [`domain`]: validated values (`TaskTitle`, `Email`, `Tag`, ...) and the entities.
//! - [`query`]: filters, sort orders and sealed keyset cursors for listing tasks.
//! - [`ports`]: the storage traits every store implements.
//! - [`service`]: the use cases the HTTP adapters call.
//! - [`memory`]: the embedded in-memory store, a complete implementation of the ports.
//! - `testkit` (feature `testkit`): the conformance suite and property tests any store runs.
//!
//! Inputs are parsed at the edge into these types; services take only validated values.

pub mod auth;
pub mod clock;
pub mod domain;
pub mod error;
pub mod memory;
pub mod ports;
pub mod query;
pub mod service;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{ErrorCode, FieldError, StorageError, ValidationErrors};
pub use memory::MemoryStore;
