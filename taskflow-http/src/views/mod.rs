//! The JSON shapes of responses, built from domain values; never a password hash, an owner id
//! or any other internal field.

mod page_json;

use crate::input::schema as openapi;
use serde::Serialize;
use taskflow_core::Timestamp;
use taskflow_core::domain::{DisplayName, Tag, Task, TaskId, User};
use taskflow_core::query::{CursorToken, TaskPage};

pub(crate) use page_json::page_json;

/// `user` of the contract.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView<'a> {
    /// Id.
    #[schema(schema_with = openapi::id)]
    pub id: String,
    /// Normalised email.
    #[schema(schema_with = openapi::normalised_email)]
    pub email: &'a str,
    /// Display name or `null`.
    #[schema(schema_with = openapi::display_name, required = true)]
    pub name: Option<&'a str>,
    /// Creation instant.
    #[schema(schema_with = openapi::instant)]
    pub created_at: Timestamp,
}

impl<'a> From<&'a User> for UserView<'a> {
    fn from(user: &'a User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str(),
            name: user.name.as_ref().map(DisplayName::as_str),
            created_at: user.created_at,
        }
    }
}

/// `task` of the contract.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView<'a> {
    /// Id.
    #[schema(schema_with = openapi::id)]
    pub id: TaskId,
    /// Title (trimmed).
    #[schema(schema_with = openapi::title)]
    pub title: &'a str,
    /// Description.
    #[schema(schema_with = openapi::description)]
    pub description: &'a str,
    /// Done?
    pub completed: bool,
    /// When it was marked done: set when `completed` turns true, `null` while it is false.
    #[schema(schema_with = openapi::instant_or_null, required = true)]
    pub completed_at: Option<Timestamp>,
    /// Deadline, or `null`.
    #[schema(schema_with = openapi::instant_or_null, required = true)]
    pub due_at: Option<Timestamp>,
    /// Priority.
    #[schema(value_type = crate::input::schema::Priority)]
    pub priority: &'static str,
    /// Tags.
    #[schema(schema_with = openapi::tags)]
    pub tags: &'a [Tag],
    /// Creation instant.
    #[schema(schema_with = openapi::instant)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(schema_with = openapi::instant)]
    pub updated_at: Timestamp,
    /// Version (1, then +1 per change).
    #[schema(minimum = 1)]
    pub version: u64,
}

impl<'a> From<&'a Task> for TaskView<'a> {
    fn from(task: &'a Task) -> Self {
        Self {
            id: task.id,
            title: task.title.as_str(),
            description: task.description.as_str(),
            completed: task.completed,
            completed_at: task.completed_at,
            due_at: task.due_at,
            priority: task.priority.as_str(),
            tags: task.tags.as_slice(),
            created_at: task.created_at,
            updated_at: task.updated_at,
            version: task.version,
        }
    }
}

/// A page of tasks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskPageView<'a> {
    /// The tasks, at most `limit` of them.
    #[schema(max_items = 100)]
    pub items: Vec<TaskView<'a>>,
    /// The next page's cursor, or `null` on the last page.
    #[schema(schema_with = openapi::cursor_or_null, required = true)]
    pub next_cursor: Option<&'a str>,
}

impl<'a> From<&'a TaskPage> for TaskPageView<'a> {
    fn from(page: &'a TaskPage) -> Self {
        Self {
            items: page.items.iter().map(TaskView::from).collect(),
            next_cursor: page.next_cursor.as_ref().map(CursorToken::as_str),
        }
    }
}

/// `{user}` (me).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserEnvelope<'a> {
    /// The account.
    pub user: UserView<'a>,
}

/// Registration answer: the account, and the session's CSRF token (which the cookies carry
/// too, but a page on another origin than the API cannot read them).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterView<'a> {
    /// The account.
    pub user: UserView<'a>,
    /// The session's CSRF token, to send as `X-CSRF-Token` on unsafe cookie-authenticated
    /// requests.
    pub csrf_token: &'a str,
}

/// Login answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginView<'a> {
    /// The account.
    pub user: UserView<'a>,
    /// When the access token (cookie) expires.
    #[schema(schema_with = openapi::instant)]
    pub access_expires_at: Timestamp,
    /// The session's CSRF token, to send as `X-CSRF-Token` on unsafe cookie-authenticated
    /// requests.
    pub csrf_token: &'a str,
}

/// Refresh answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefreshView<'a> {
    /// When the new access token (cookie) expires.
    #[schema(schema_with = openapi::instant)]
    pub access_expires_at: Timestamp,
    /// The session's CSRF token (unchanged by a refresh: it is bound to the session).
    pub csrf_token: &'a str,
}

/// `GET /api/v1/auth/csrf` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CsrfView<'a> {
    /// The CSRF token of the session that authenticated the request.
    pub csrf_token: &'a str,
}

/// `/auth/token` answer (OAuth 2.0 style, for non-browser clients).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView<'a> {
    /// The access JWT.
    #[schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
    pub access_token: &'a str,
    /// The refresh token (opaque).
    #[schema(min_length = 1)]
    pub refresh_token: &'a str,
    /// Always `Bearer`.
    #[schema(schema_with = bearer_token_type)]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// `token_type`: the one value `Bearer`.
fn bearer_token_type() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["Bearer"]))
        .build()
}
// Documentation only: the answer is the core's `taskflow_core::query::TaskStats` as it
// serialises (the core knows no OpenAPI); a unit test compares the two.
/// Counts over one user's tasks.
#[derive(utoipa::ToSchema)]
#[schema(as = TaskStats)]
#[allow(dead_code)]
pub(crate) struct TaskStatsView {
    /// Every task.
    total: u64,
    /// Done tasks.
    completed: u64,
    /// Tasks not done.
    open: u64,
    /// Open tasks whose deadline has passed.
    overdue: u64,
}
