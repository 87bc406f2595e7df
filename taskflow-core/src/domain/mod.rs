//! The domain model: validated value types, the task and user entities, and the raw input
//! shapes that adapters parse into them.

pub mod ids;
pub mod input;
pub mod task;
pub mod user;

pub use ids::{InvalidId, SessionId, TaskId, UserId};
pub use input::{BodyError, NewTaskInput, TaskPatchInput, from_json_object};
pub use task::{
    DescriptionError, NewTask, Priority, PriorityError, Tag, TagError, Tags, TagsError, Task,
    TaskDescription, TaskPatch, TaskTitle, TitleError,
};
pub use user::{DisplayName, DisplayNameError, Email, EmailError, PasswordHash, User};
