//! Tasks: every command is scoped by `user_id`, and every operation is one command (an update
//! is two: the service's read, then the compare-and-swap); lists are keyset range scans in one
//! `find` or `aggregate` (see [`crate::query`]).

use async_trait::async_trait;
use mongodb::bson::{Bson, Document, doc};
use taskflow_core::domain::{Task, TaskId, UserId};
use taskflow_core::ports::TaskRepository;
use taskflow_core::query::{ListRequest, TaskStats};
use taskflow_core::{StorageError, Timestamp};

use crate::MongoStore;
use crate::codec::{TASKS, date, oid, task_from_document, task_to_document};
use crate::error::{CorruptDocument, storage_error};
use crate::query::{list_plan, union_pipeline};

fn task_key(owner: &UserId, id: &TaskId) -> Document {
    doc! { "_id": oid(id.to_bytes()), "user_id": oid(owner.to_bytes()) }
}

fn count(doc: &Document, field: &'static str) -> Result<u64, CorruptDocument> {
    let n = match doc.get(field) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        _ => -1,
    };
    u64::try_from(n).map_err(|_| CorruptDocument {
        collection: TASKS,
        field,
    })
}

#[async_trait]
impl TaskRepository for MongoStore {
    async fn insert_task(&self, task: &Task) -> Result<(), StorageError> {
        self.tasks
            .insert_one(task_to_document(task)?)
            .await
            .map(drop)
            .map_err(storage_error)
    }

    async fn get_task(&self, owner: &UserId, id: &TaskId) -> Result<Option<Task>, StorageError> {
        let found = self
            .tasks
            .find_one(task_key(owner, id))
            .await
            .map_err(storage_error)?;
        Ok(found.as_ref().map(task_from_document).transpose()?)
    }

    async fn replace_task(&self, task: &Task, expected_version: u64) -> Result<bool, StorageError> {
        let Ok(expected) = i64::try_from(expected_version) else {
            // No stored version is this large.
            return Ok(false);
        };
        let mut filter = task_key(&task.owner, &task.id);
        filter.insert("version", expected);
        // `$set` of the fields a change may touch rather than a replacement: the same one
        // `update` command, but the oplog (replication, and what `w: majority` waits for)
        // records only the fields whose value changed (mongod 5.0+), where a replacement
        // logs the whole document, description included, for every toggle of `completed`.
        // Every field but the key the filter already pins: exactly a replacement's result.
        let mut fields = task_to_document(task)?;
        fields.remove("_id");
        fields.remove("user_id");
        let result = self
            .tasks
            .update_one(filter, doc! { "$set": fields })
            .await
            .map_err(storage_error)?;
        Ok(result.matched_count == 1)
    }

    async fn delete_task(&self, owner: &UserId, id: &TaskId) -> Result<bool, StorageError> {
        let result = self
            .tasks
            .delete_one(task_key(owner, id))
            .await
            .map_err(storage_error)?;
        Ok(result.deleted_count == 1)
    }

    async fn list_tasks(
        &self,
        owner: &UserId,
        request: &ListRequest,
    ) -> Result<Vec<Task>, StorageError> {
        // A page is at most 101 tasks of at most ~45 KB each: one batch always holds it, so
        // the cursor is closed with the first answer (no getMore, no killCursors).
        let limit = i64::try_from(request.limit).unwrap_or(i64::MAX);
        let plan = list_plan(owner, request);
        let mut cursor = match plan.as_slice() {
            [] => return Ok(Vec::new()),
            [only] => {
                self.tasks
                    .find(only.filter.clone())
                    .sort(only.sort.clone())
                    // Negative: `singleBatch`, the server closes the cursor at once.
                    .limit(-limit)
                    .await
            }
            phases => {
                self.tasks
                    .aggregate(union_pipeline(phases, limit))
                    // One more than the page: the first batch ends the cursor.
                    .batch_size(u32::try_from(request.limit.saturating_add(1)).unwrap_or(u32::MAX))
                    .await
            }
        }
        .map_err(storage_error)?;
        let mut out = Vec::with_capacity(request.limit.min(101));
        while cursor.advance().await.map_err(storage_error)? {
            let doc = cursor.deserialize_current().map_err(storage_error)?;
            out.push(task_from_document(&doc)?);
        }
        Ok(out)
    }

    async fn task_stats(&self, owner: &UserId, now: Timestamp) -> Result<TaskStats, StorageError> {
        let pipeline = [
            doc! { "$match": { "user_id": oid(owner.to_bytes()) } },
            doc! { "$group": {
                "_id": Bson::Null,
                "total": { "$sum": 1 },
                "completed": { "$sum": { "$cond": [{ "$eq": ["$completed", true] }, 1, 0] } },
                "overdue": { "$sum": { "$cond": [
                    { "$and": [
                        { "$ne": ["$completed", true] },
                        { "$eq": [{ "$type": "$due_at" }, "date"] },
                        { "$lt": ["$due_at", date(now)] },
                    ] },
                    1,
                    0,
                ] } },
            } },
        ];
        let mut cursor = self
            .tasks
            .aggregate(pipeline)
            .await
            .map_err(storage_error)?;
        if !cursor.advance().await.map_err(storage_error)? {
            return Ok(TaskStats::default());
        }
        let doc = cursor.deserialize_current().map_err(storage_error)?;
        let total = count(&doc, "total")?;
        let completed = count(&doc, "completed")?;
        Ok(TaskStats {
            total,
            completed,
            open: total.saturating_sub(completed),
            overdue: count(&doc, "overdue")?,
        })
    }
}
