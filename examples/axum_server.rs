//! The TaskFlow API served by axum on the embedded store.
//!
//! Placeholder until the axum adapter lands (issue 5): it only proves the core works end to
//! end by creating and listing a task in memory.

use std::sync::Arc;

use taskflow::core::domain::{NewTask, TaskTitle, UserId};
use taskflow::core::query::{CursorCodec, CursorKey, TaskQuery};
use taskflow::core::service::TaskService;
use taskflow::core::{MemoryStore, SystemClock};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = MemoryStore::new();
    let tasks = TaskService::new(
        Arc::new(store),
        Arc::new(SystemClock),
        CursorCodec::new(CursorKey::random()),
    );
    let owner = UserId::generate();
    tasks
        .create_task(&owner, NewTask::titled(TaskTitle::parse("Try TaskFlow")?))
        .await?;
    let page = tasks.list_tasks(&owner, &TaskQuery::default()).await?;
    let titles: Vec<&str> = page.items.iter().map(|t| t.title.as_str()).collect();
    eprintln!(
        "TaskFlow core is working (tasks: {titles:?}); the HTTP server arrives with the axum adapter."
    );
    Ok(())
}
