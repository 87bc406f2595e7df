//! The domain model: validated value types and the task and user entities, with the validated
//! inputs the services take ([`NewTask`], [`TaskPatch`]); the wire format they are read from is
//! the HTTP layer's.

pub mod ids;
pub mod task;
pub mod user;

pub use ids::{InvalidId, SessionId, TaskId, UserId};
pub use task::{
    DescriptionError, NewTask, Priority, PriorityError, Tag, TagError, Tags, TagsError, Task,
    TaskDescription, TaskPatch, TaskTitle, TitleError,
};
pub use user::{DisplayName, DisplayNameError, Email, EmailError, PasswordHash, User};
