//! Tasks in memory: one independently locked [`UserTasks`] per owner, so users never contend
//! with each other and a task can only be reached through its owner.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;

use super::task_index::UserTasks;
use super::{MemoryStore, read, write};
use crate::clock::Timestamp;
use crate::domain::{Task, TaskId, UserId};
use crate::error::StorageError;
use crate::ports::TaskRepository;
use crate::query::{ListRequest, TaskStats};

#[derive(Debug, Default)]
pub(super) struct Tasks {
    by_owner: RwLock<HashMap<UserId, Arc<RwLock<UserTasks>>>>,
}

impl Tasks {
    fn existing(&self, owner: &UserId) -> Option<Arc<RwLock<UserTasks>>> {
        read(&self.by_owner).get(owner).cloned()
    }

    fn get_or_create(&self, owner: &UserId) -> Arc<RwLock<UserTasks>> {
        if let Some(tasks) = self.existing(owner) {
            return tasks;
        }
        write(&self.by_owner).entry(*owner).or_default().clone()
    }
}

#[async_trait]
impl TaskRepository for MemoryStore {
    async fn insert_task(&self, task: &Task) -> Result<(), StorageError> {
        let tasks = self.tasks.get_or_create(&task.owner);
        let mut tasks = write(&tasks);
        if tasks.contains(&task.id) {
            return Err(StorageError::internal("duplicate task id"));
        }
        tasks.put(task.clone());
        Ok(())
    }

    async fn get_task(&self, owner: &UserId, id: &TaskId) -> Result<Option<Task>, StorageError> {
        Ok(self
            .tasks
            .existing(owner)
            .and_then(|tasks| read(&tasks).get(id).cloned()))
    }

    async fn replace_task(&self, task: &Task, expected_version: u64) -> Result<bool, StorageError> {
        let Some(tasks) = self.tasks.existing(&task.owner) else {
            return Ok(false);
        };
        let mut tasks = write(&tasks);
        if tasks
            .get(&task.id)
            .is_none_or(|current| current.version != expected_version)
        {
            return Ok(false);
        }
        tasks.put(task.clone());
        Ok(true)
    }

    async fn delete_task(&self, owner: &UserId, id: &TaskId) -> Result<bool, StorageError> {
        Ok(self
            .tasks
            .existing(owner)
            .is_some_and(|tasks| write(&tasks).remove(id).is_some()))
    }

    async fn list_tasks(
        &self,
        owner: &UserId,
        request: &ListRequest,
    ) -> Result<Vec<Task>, StorageError> {
        Ok(self
            .tasks
            .existing(owner)
            .map(|tasks| read(&tasks).page(request))
            .unwrap_or_default())
    }

    async fn task_stats(&self, owner: &UserId, now: Timestamp) -> Result<TaskStats, StorageError> {
        Ok(self
            .tasks
            .existing(owner)
            .map(|tasks| read(&tasks).stats(now))
            .unwrap_or_default())
    }
}
