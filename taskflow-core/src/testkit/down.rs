//! A store whose server is gone, for outage tests of anything built on the ports: every call
//! of every port fails as unavailable.

use async_trait::async_trait;

use crate::StorageError;
use crate::auth::gcra::{GcraUpdate, RateLimitKey};
use crate::auth::refresh::RefreshTokenHash;
use crate::auth::session::{RefreshFamily, Rotation, Session};
use crate::auth::throttle::{FailureState, LoginAttempt, ThrottlePolicy};
use crate::clock::Timestamp;
use crate::domain::{Email, PasswordHash, SessionId, Task, TaskId, User, UserId};
use crate::ports::{
    InsertUserError, LoginThrottleRepository, RateLimitRepository, SessionRepository,
    StorageHealth, TaskRepository, UserRepository,
};
use crate::query::{ListRequest, TaskStats};

/// A store whose server is gone: every call fails as unreachable, with a cause that must
/// never reach a client.
#[derive(Debug, Clone, Copy, Default)]
pub struct DownStore;

/// The cause every call fails with: a host and credentials that must never be reported.
pub const DOWN_CAUSE: &str =
    "connection refused by db-7.internal:27017 (user=admin password=hunter2)";

fn down() -> StorageError {
    StorageError::Unavailable(DOWN_CAUSE.into())
}

#[async_trait]
impl UserRepository for DownStore {
    async fn insert_user(&self, _: &User) -> Result<(), InsertUserError> {
        Err(down().into())
    }
    async fn find_user_by_id(&self, _: &UserId) -> Result<Option<User>, StorageError> {
        Err(down())
    }
    async fn find_user_by_email(&self, _: &Email) -> Result<Option<User>, StorageError> {
        Err(down())
    }
    async fn set_password_hash(&self, _: &UserId, _: &PasswordHash) -> Result<bool, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl TaskRepository for DownStore {
    async fn insert_task(&self, _: &Task) -> Result<(), StorageError> {
        Err(down())
    }
    async fn get_task(&self, _: &UserId, _: &TaskId) -> Result<Option<Task>, StorageError> {
        Err(down())
    }
    async fn replace_task(&self, _: &Task, _: u64) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn delete_task(&self, _: &UserId, _: &TaskId) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn list_tasks(&self, _: &UserId, _: &ListRequest) -> Result<Vec<Task>, StorageError> {
        Err(down())
    }
    async fn task_stats(&self, _: &UserId, _: Timestamp) -> Result<TaskStats, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl SessionRepository for DownStore {
    async fn create_session(&self, _: &Session, _: &RefreshTokenHash) -> Result<(), StorageError> {
        Err(down())
    }
    async fn get_session(
        &self,
        _: &UserId,
        _: &SessionId,
    ) -> Result<Option<Session>, StorageError> {
        Err(down())
    }
    async fn rotate_refresh_token(&self, _: &Rotation) -> Result<Option<Session>, StorageError> {
        Err(down())
    }
    async fn get_refresh_family(
        &self,
        _: &UserId,
        _: &SessionId,
    ) -> Result<Option<(Session, Option<RefreshFamily>)>, StorageError> {
        Err(down())
    }
    async fn revoke_session(
        &self,
        _: &UserId,
        _: &SessionId,
        _: Timestamp,
    ) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn revoke_all_sessions(&self, _: &UserId, _: Timestamp) -> Result<u64, StorageError> {
        Err(down())
    }
    async fn list_sessions(&self, _: &UserId) -> Result<Vec<Session>, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl LoginThrottleRepository for DownStore {
    async fn login_failures(&self, _: &Email) -> Result<Option<FailureState>, StorageError> {
        Err(down())
    }
    async fn reserve_login_attempt(
        &self,
        _: &Email,
        _: Timestamp,
        _: &ThrottlePolicy,
    ) -> Result<LoginAttempt, StorageError> {
        Err(down())
    }
    async fn clear_login_failures(&self, _: &Email) -> Result<(), StorageError> {
        Err(down())
    }
}

#[async_trait]
impl RateLimitRepository for DownStore {
    async fn apply_rate_limit(
        &self,
        _: &RateLimitKey,
        _: &GcraUpdate,
    ) -> Result<Option<Timestamp>, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl StorageHealth for DownStore {
    async fn ping(&self) -> Result<(), StorageError> {
        Err(down())
    }
}
