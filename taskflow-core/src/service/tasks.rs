//! Task use cases: what the HTTP adapters call. Input arrives validated; this layer owns ids,
//! timestamps, versions, optimistic concurrency and cursors, so adapters stay thin.

use std::sync::Arc;

use crate::clock::Clock;
use crate::domain::{NewTask, Task, TaskId, TaskPatch, UserId};
use crate::error::{ErrorCode, StorageError};
use crate::ports::TaskRepository;
use crate::query::{CursorCodec, ListRequest, TaskPage, TaskQuery, TaskStats};

/// How often an unconditional update re-reads and retries after losing a race to another
/// writer before giving up with [`TaskError::Conflict`].
const MAX_UPDATE_ATTEMPTS: usize = 8;

/// Why a task operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// No such task for this user (whether it exists for someone else is not said).
    #[error("task not found")]
    NotFound,
    /// The caller's expected version is not the current one.
    #[error("the task has changed since the given version")]
    PreconditionFailed,
    /// The update kept losing races to concurrent writers.
    #[error("the task is being changed concurrently; retry")]
    Conflict,
    /// The cursor does not belong to this query and user, or was altered.
    #[error("the cursor is invalid for this query")]
    InvalidCursor,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl TaskError {
    /// The stable code of this failure.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::PreconditionFailed => ErrorCode::PreconditionFailed,
            Self::Conflict => ErrorCode::Conflict,
            Self::InvalidCursor => ErrorCode::InvalidCursor,
            Self::Storage(e) => e.code(),
        }
    }
}

/// The task use cases, over any [`TaskRepository`].
#[derive(Clone)]
pub struct TaskService {
    repo: Arc<dyn TaskRepository>,
    clock: Arc<dyn Clock>,
    cursors: CursorCodec,
}

impl std::fmt::Debug for TaskService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskService")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl TaskService {
    /// A service storing in `repo`, reading time from `clock`, sealing cursors with `cursors`.
    pub fn new(repo: Arc<dyn TaskRepository>, clock: Arc<dyn Clock>, cursors: CursorCodec) -> Self {
        Self {
            repo,
            clock,
            cursors,
        }
    }

    /// Creates a task for `owner`.
    ///
    /// # Errors
    /// [`TaskError::Storage`] when the store fails.
    pub async fn create_task(&self, owner: &UserId, new: NewTask) -> Result<Task, TaskError> {
        let task = Task::new(TaskId::generate(), *owner, new, self.clock.now());
        self.repo.insert_task(&task).await?;
        Ok(task)
    }

    /// The task `id` of `owner`.
    ///
    /// # Errors
    /// [`TaskError::NotFound`] when `owner` has no such task; [`TaskError::Storage`].
    pub async fn get_task(&self, owner: &UserId, id: &TaskId) -> Result<Task, TaskError> {
        self.repo
            .get_task(owner, id)
            .await?
            .ok_or(TaskError::NotFound)
    }

    /// Applies `patch` to the task `id` of `owner`. With `expected_version` (from `If-Match`)
    /// the change happens only if the task is still at that version; without it, concurrent
    /// writers are serialised by compare-and-swap and retried. A patch that changes nothing
    /// returns the task as it is, at the same version.
    ///
    /// # Errors
    /// [`TaskError::NotFound`], [`TaskError::PreconditionFailed`], [`TaskError::Conflict`]
    /// after repeated lost races, [`TaskError::Storage`].
    pub async fn update_task(
        &self,
        owner: &UserId,
        id: &TaskId,
        patch: &TaskPatch,
        expected_version: Option<u64>,
    ) -> Result<Task, TaskError> {
        for _ in 0..MAX_UPDATE_ATTEMPTS {
            let current = self.get_task(owner, id).await?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(TaskError::PreconditionFailed);
            }
            let Some(next) = current.patched(patch, self.clock.now()) else {
                return Ok(current);
            };
            if self.repo.replace_task(&next, current.version).await? {
                return Ok(next);
            }
            // Lost a race (or the task vanished); the next read tells which.
        }
        Err(TaskError::Conflict)
    }

    /// Deletes the task `id` of `owner`.
    ///
    /// # Errors
    /// [`TaskError::NotFound`] when `owner` has no such task; [`TaskError::Storage`].
    pub async fn delete_task(&self, owner: &UserId, id: &TaskId) -> Result<(), TaskError> {
        if self.repo.delete_task(owner, id).await? {
            Ok(())
        } else {
            Err(TaskError::NotFound)
        }
    }

    /// One page of `owner`'s tasks. The page after this one is asked for with
    /// `next_cursor` and the same filter and sort (the limit may change between pages).
    ///
    /// # Errors
    /// [`TaskError::InvalidCursor`] for a cursor of another query or user, or an altered one;
    /// [`TaskError::Storage`].
    pub async fn list_tasks(
        &self,
        owner: &UserId,
        query: &TaskQuery,
    ) -> Result<TaskPage, TaskError> {
        let after = match &query.cursor {
            Some(token) => Some(
                self.cursors
                    .decode(owner, &query.filter, &query.sort, token)
                    .map_err(|_| TaskError::InvalidCursor)?,
            ),
            None => None,
        };
        let limit = query.limit.get();
        let request = ListRequest {
            filter: query.filter.clone(),
            sort: query.sort,
            after,
            // One more than asked tells whether another page exists without a second query.
            limit: limit + 1,
        };
        let mut items = self.repo.list_tasks(owner, &request).await?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| {
                let position = query.sort.position_of(last);
                self.cursors
                    .encode(owner, &query.filter, &query.sort, &position)
            })
        } else {
            None
        };
        Ok(TaskPage { items, next_cursor })
    }

    /// Totals over `owner`'s tasks, overdue relative to now.
    ///
    /// # Errors
    /// [`TaskError::Storage`] when the store fails.
    pub async fn task_stats(&self, owner: &UserId) -> Result<TaskStats, TaskError> {
        Ok(self.repo.task_stats(owner, self.clock.now()).await?)
    }
}
