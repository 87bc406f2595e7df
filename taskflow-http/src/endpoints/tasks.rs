//! `/api/v1/tasks*`: create, list, get, update, delete, stats, for the authenticated caller.
//!
//! Task, list and stats responses are `private, no-cache` with a strong `ETag`, answered 304 on
//! a matching `If-None-Match`; updates honour `If-Match` (412 and no change on a mismatch).

use http::header::{HeaderValue, LOCATION};
use http::{Response, StatusCode};
use taskflow_core::domain::TaskId;
use taskflow_core::error::ErrorCode;
use taskflow_core::service::TaskError;

use super::Compressible;
use super::{Reply, body, empty, json, json_body, user, with_limit};
use crate::app::App;
use crate::context::RequestContext;
use crate::headers::{
    IfMatch, PRIVATE_NO_CACHE, body_etag, if_match, if_none_match, set_cache_control, set_etag,
    version_etag,
};
use crate::input::{NewTaskInput, TaskListParams, TaskPatchInput};
use crate::problem::Problem;
use crate::views::TaskView;

fn task_id(text: &str) -> Result<TaskId, Problem> {
    // A malformed id names no task: the same answer as a missing one.
    TaskId::parse(text).map_err(|_| Problem::from(TaskError::NotFound))
}

/// A cacheable response: `ETag`, `private, no-cache`, and 304 when the client has it.
fn cacheable(
    ctx: &RequestContext,
    mut response: Response<Vec<u8>>,
    etag: &str,
) -> Response<Vec<u8>> {
    if if_none_match(ctx.if_none_match(), etag) {
        response = empty(StatusCode::NOT_MODIFIED);
    }
    set_etag(response.headers_mut(), etag);
    set_cache_control(response.headers_mut(), PRIVATE_NO_CACHE);
    response
}

/// `POST /api/v1/tasks`: 201 with the task, `Location` and `ETag`.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    post,
    path = "/tasks",
    tag = "tasks",
    security(("bearer" = []), ("cookie" = [], "csrfCookie" = [], "csrfHeader" = [])),
    request_body = crate::input::NewTaskInput,
    responses((status = 201, description = "Created", body = crate::views::TaskView<'static>), (status = 400, description = "Malformed body", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 413, description = "Body too large", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 415, description = "Not JSON", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 422, description = "Validation failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "CSRF check failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn create(app: &App, ctx: &RequestContext, bytes: &[u8]) -> Reply {
    let caller = user(app, ctx).await?;
    let input: NewTaskInput = body(ctx, bytes)?;
    let new = input
        .validate()
        .map_err(|e| Problem::fields(ErrorCode::ValidationFailed, e))?;
    let task = app.0.tasks.create_task(&caller.user_id, new).await?;
    let mut response = json(StatusCode::CREATED, &TaskView::from(&task));
    let routes = app.routes();
    let location = format!(
        "{}{}/tasks/{}",
        routes.mount_prefix(),
        routes.base_path(),
        task.id
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    set_etag(response.headers_mut(), &version_etag(task.version));
    set_cache_control(response.headers_mut(), PRIVATE_NO_CACHE);
    Ok(with_limit(response, &caller.limit))
}

/// `GET /api/v1/tasks?…`: one page.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    get,
    path = "/tasks",
    tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(crate::input::params::ListParams, crate::input::params::ReadConditions),
    responses((status = 200, description = "One page", body = crate::views::TaskPageView<'static>), (status = 304, description = "Not modified"), (status = 400, description = "Invalid query or cursor", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn list(app: &App, ctx: &RequestContext, query: &str) -> Reply {
    let caller = user(app, ctx).await?;
    let params: TaskListParams = serde_urlencoded::from_str(query)
        .map_err(|e| Problem::new(ErrorCode::InvalidQuery, e.to_string()))?;
    let query = params
        .parse()
        .map_err(|e| Problem::fields(ErrorCode::InvalidQuery, e))?;
    let page = app.0.tasks.list_tasks(&caller.user_id, &query).await?;
    let response = json_body(StatusCode::OK, crate::views::page_json(&page));
    let etag = body_etag(response.body());
    let mut response = with_limit(cacheable(ctx, response, &etag), &caller.limit);
    response.extensions_mut().insert(Compressible);
    Ok(response)
}

/// `GET /api/v1/tasks/{id}`.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    get,
    path = "/tasks/{id}",
    tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(crate::input::params::TaskPath, crate::input::params::ReadConditions),
    responses((status = 200, description = "The task", body = crate::views::TaskView<'static>), (status = 304, description = "Not modified"), (status = 404, description = "No such task", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn get(app: &App, ctx: &RequestContext, id: &str) -> Reply {
    let caller = user(app, ctx).await?;
    let task = app.0.tasks.get_task(&caller.user_id, &task_id(id)?).await?;
    let response = json(StatusCode::OK, &TaskView::from(&task));
    Ok(with_limit(
        cacheable(ctx, response, &version_etag(task.version)),
        &caller.limit,
    ))
}

/// `PATCH /api/v1/tasks/{id}`.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    patch,
    path = "/tasks/{id}",
    tag = "tasks",
    security(("bearer" = []), ("cookie" = [], "csrfCookie" = [], "csrfHeader" = [])),
    request_body = crate::input::TaskPatchInput,
    params(crate::input::params::TaskPath, crate::input::params::WriteConditions),
    responses((status = 200, description = "Updated", body = crate::views::TaskView<'static>), (status = 400, description = "Malformed body", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 413, description = "Body too large", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 415, description = "Not JSON", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 422, description = "Validation failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 404, description = "No such task", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 412, description = "If-Match does not match", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "CSRF check failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn update(app: &App, ctx: &RequestContext, id: &str, bytes: &[u8]) -> Reply {
    let caller = user(app, ctx).await?;
    let owner = caller.user_id;
    let id = task_id(id)?;
    let input: TaskPatchInput = body(ctx, bytes)?;
    let patch = input
        .validate()
        .map_err(|e| Problem::fields(ErrorCode::ValidationFailed, e))?;
    let expected = match if_match(ctx.if_match()) {
        IfMatch::Absent | IfMatch::Any => None,
        IfMatch::Version(v) => Some(v),
        IfMatch::Never => {
            // Existence first: a missing task is 404 whatever the condition says.
            app.0.tasks.get_task(&owner, &id).await?;
            return Err(TaskError::PreconditionFailed.into());
        }
    };
    let task = app
        .0
        .tasks
        .update_task(&owner, &id, &patch, expected)
        .await?;
    let mut response = json(StatusCode::OK, &TaskView::from(&task));
    set_etag(response.headers_mut(), &version_etag(task.version));
    set_cache_control(response.headers_mut(), PRIVATE_NO_CACHE);
    Ok(with_limit(response, &caller.limit))
}

/// `DELETE /api/v1/tasks/{id}`: 204.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    delete,
    path = "/tasks/{id}",
    tag = "tasks",
    security(("bearer" = []), ("cookie" = [], "csrfCookie" = [], "csrfHeader" = [])),
    params(crate::input::params::TaskPath),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such task", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 403, description = "CSRF check failed", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn delete(app: &App, ctx: &RequestContext, id: &str) -> Reply {
    let caller = user(app, ctx).await?;
    app.0
        .tasks
        .delete_task(&caller.user_id, &task_id(id)?)
        .await?;
    Ok(with_limit(empty(StatusCode::NO_CONTENT), &caller.limit))
}

/// `GET /api/v1/tasks/stats`: `{total, completed, open, overdue}`.
///
/// # Errors
/// The [`Problem`] to answer instead.
#[utoipa::path(
    get,
    path = "/tasks/stats",
    tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(crate::input::params::ReadConditions),
    responses((status = 200, description = "Counts", body = crate::views::TaskStatsView), (status = 304, description = "Not modified"), (status = 401, description = "Missing or invalid credentials", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 429, description = "Rate limited", body = crate::problem::Body<'static>, content_type = "application/problem+json"), (status = 503, description = "Storage unavailable", body = crate::problem::Body<'static>, content_type = "application/problem+json"))
)]
pub async fn stats(app: &App, ctx: &RequestContext) -> Reply {
    let caller = user(app, ctx).await?;
    let stats = app.0.tasks.task_stats(&caller.user_id).await?;
    let response = json(StatusCode::OK, &stats);
    let etag = body_etag(response.body());
    Ok(with_limit(cacheable(ctx, response, &etag), &caller.limit))
}
