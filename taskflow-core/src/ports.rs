//! The storage ports: what the domain needs from a store, whatever the store is.
//!
//! Implementations translate their own failures inside themselves: a taken email becomes
//! [`InsertUserError::EmailTaken`], an unreachable server [`StorageError::Unavailable`], and
//! no driver message ever crosses this boundary. Every task operation is scoped by its owner,
//! so no call can reach another user's task; "not yours" and "not there" look the same.
//! The conformance suite in `testkit` states these contracts as executable checks.

use async_trait::async_trait;

use crate::clock::Timestamp;
use crate::domain::{Email, PasswordHash, Task, TaskId, User, UserId};
use crate::error::StorageError;
use crate::query::{ListRequest, TaskStats};

/// Why a user could not be inserted.
#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    /// Another account already has this (normalised) email.
    #[error("the email is already registered")]
    EmailTaken,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Stores user accounts.
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new account.
    ///
    /// # Errors
    /// [`InsertUserError::EmailTaken`] when the email is in use (atomically: two concurrent
    /// inserts of one email never both succeed), [`InsertUserError::Storage`] otherwise.
    async fn insert_user(&self, user: &User) -> Result<(), InsertUserError>;

    /// The account with this id, if any.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn find_user_by_id(&self, id: &UserId) -> Result<Option<User>, StorageError>;

    /// The account with this normalised email, if any.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>, StorageError>;

    /// Replaces an account's password hash (after a rehash with stronger parameters or a
    /// password change); returns whether the account exists.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn set_password_hash(
        &self,
        id: &UserId,
        hash: &PasswordHash,
    ) -> Result<bool, StorageError>;
}

/// Stores tasks, always scoped by their owner.
#[async_trait]
pub trait TaskRepository: Send + Sync + 'static {
    /// Stores a new task (its id is fresh; inserting an existing id is a storage error).
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn insert_task(&self, task: &Task) -> Result<(), StorageError>;

    /// The task `id` of `owner`; `None` when it does not exist or belongs to someone else.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn get_task(&self, owner: &UserId, id: &TaskId) -> Result<Option<Task>, StorageError>;

    /// Replaces the stored task with `task` (same owner and id) only if the stored version is
    /// still `expected_version`: a compare-and-swap. Returns whether it replaced; `false` when
    /// the task is gone, is not the owner's, or has another version.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn replace_task(&self, task: &Task, expected_version: u64) -> Result<bool, StorageError>;

    /// Deletes the task `id` of `owner`; returns whether there was one.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn delete_task(&self, owner: &UserId, id: &TaskId) -> Result<bool, StorageError>;

    /// At most `request.limit` tasks of `owner` matching `request.filter`, in `request.sort`
    /// order (see [`crate::query::Sort::compare`]), strictly after `request.after`.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn list_tasks(
        &self,
        owner: &UserId,
        request: &ListRequest,
    ) -> Result<Vec<Task>, StorageError>;

    /// Counts over the tasks of `owner`; overdue means open with `due_at < now`.
    ///
    /// # Errors
    /// [`StorageError`] when the store fails.
    async fn task_stats(&self, owner: &UserId, now: Timestamp) -> Result<TaskStats, StorageError>;
}

/// Answers whether the store can serve requests right now (for readiness probes).
#[async_trait]
pub trait StorageHealth: Send + Sync + 'static {
    /// Succeeds when the store answers.
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when it does not.
    async fn ping(&self) -> Result<(), StorageError>;
}
