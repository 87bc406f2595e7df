//! The query, path and header parameters of the task endpoints, for the OpenAPI document only:
//! parsing is [`TaskListParams`](super::TaskListParams) and the endpoints' own, which refuse
//! anything else.

use utoipa::IntoParams;

/// Query parameters of `GET /api/v1/tasks` (documentation only: parsing is
/// [`TaskListParams`](super::TaskListParams), which rejects anything else with 400).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ListParams {
    /// Only done (`true`) or open (`false`) tasks.
    completed: Option<bool>,
    /// Only tasks with this tag.
    #[param(schema_with = super::schema::tag)]
    tag: Option<String>,
    /// Only tasks of this priority.
    #[param(inline)]
    priority: Option<super::schema::Priority>,
    /// Only tasks due strictly before this instant (RFC 3339). Tasks without a deadline never
    /// match. With `due_after`, the half-open interval `[due_after, due_before)`; an empty or
    /// reversed interval matches nothing.
    #[param(format = DateTime)]
    due_before: Option<String>,
    /// Only tasks due at or after this instant (RFC 3339). Tasks without a deadline never match.
    #[param(format = DateTime)]
    due_after: Option<String>,
    /// Case-insensitive substring of the title (not trimmed).
    #[param(schema_with = super::schema::search_text)]
    q: Option<String>,
    /// Order: `created_at`, `due_at` or `updated_at`, `-` for descending (default `-created_at`).
    /// Tasks without a deadline sort after all dated tasks in both directions; ties break on id.
    #[param(inline)]
    sort: Option<SortParam>,
    /// Page size, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u8>,
    /// `next_cursor` of the previous page, with the same filter and sort. Opaque: a cursor from
    /// another query or user, or an altered one, is 400 `invalid_cursor`; so is an empty one.
    #[param(schema_with = super::schema::cursor)]
    cursor: Option<String>,
}

/// The `{id}` of `/api/v1/tasks/{id}` (documentation only). A text that is not an id names no
/// task: 404, as for another user's task.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub(crate) struct TaskPath {
    /// Task id.
    #[param(schema_with = super::schema::id)]
    id: String,
}

/// The conditional request headers of a task read (documentation only).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct ReadConditions {
    /// ETags the client holds: a match answers 304 without a body.
    #[param(rename = "If-None-Match", nullable = false)]
    if_none_match: Option<String>,
}

/// The conditional request header of a task update (documentation only).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(crate) struct WriteConditions {
    /// The `ETag` the change is based on (or `*`): when it does not name the current version,
    /// 412 `precondition_failed` and nothing changes.
    #[param(rename = "If-Match", nullable = false)]
    if_match: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum SortParam {
    #[schema(rename = "created_at")]
    CreatedAt,
    #[schema(rename = "-created_at")]
    CreatedAtDesc,
    #[schema(rename = "due_at")]
    DueAt,
    #[schema(rename = "-due_at")]
    DueAtDesc,
    #[schema(rename = "updated_at")]
    UpdatedAt,
    #[schema(rename = "-updated_at")]
    UpdatedAtDesc,
}
