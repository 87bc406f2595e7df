//! The embedded in-memory store: a complete implementation of every storage port, safe under
//! concurrency and indexed like the MongoDB collections, for single-instance deployments,
//! development, and applications that embed TaskFlow in their own tests.
//!
//! Data lives as long as the [`MemoryStore`] (clones share it) and is lost on restart.

mod rate_limits;
mod sessions;
mod task_index;
mod tasks;
mod users;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use crate::error::StorageError;
use crate::ports::{StorageHealth, Stores};

/// The in-memory store; cheap to clone, clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    users: Arc<RwLock<users::Users>>,
    tasks: Arc<tasks::Tasks>,
    sessions: Arc<RwLock<sessions::Sessions>>,
    failures: Arc<RwLock<sessions::Failures>>,
    rate_limits: Arc<RwLock<rate_limits::RateLimitState>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Stores {
    /// A fresh embedded in-memory store behind every port. (Defined with the store rather
    /// than the ports, so the ports know no implementation of theirs.)
    pub fn memory() -> Self {
        Self::single(MemoryStore::new())
    }
}

#[async_trait]
impl StorageHealth for MemoryStore {
    async fn ping(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

// A panic while holding a lock cannot leave these maps half-updated in a way that matters more
// than refusing all further service would, so poisoned locks are recovered rather than
// propagated as panics.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
