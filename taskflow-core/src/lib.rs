#![doc = include_str!("../README.md")]

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
