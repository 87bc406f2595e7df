//! The OpenAPI 3.1 document of the API, generated from the endpoint annotations and the very
//! types that (de)serialise requests and responses, so it cannot drift from the code.

use std::sync::OnceLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

use crate::endpoints::{auth, ops, tasks};

/// Query parameters of `GET /api/v1/tasks` (documentation only: parsing is
/// `taskflow_core::query::TaskListParams`, which rejects anything else).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ListParams {
    /// Only done (`true`) or open (`false`) tasks.
    completed: Option<bool>,
    /// Only tasks with this tag.
    #[param(pattern = "^[a-z0-9_-]{1,32}$")]
    tag: Option<String>,
    /// Only tasks of this priority.
    #[param(inline)]
    priority: Option<taskflow_core::domain::Priority>,
    /// Only tasks due strictly before this instant (RFC 3339).
    #[param(format = DateTime)]
    due_before: Option<String>,
    /// Only tasks due at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    due_after: Option<String>,
    /// Case-insensitive substring of the title.
    #[param(min_length = 1, max_length = 200)]
    q: Option<String>,
    /// Order: `created_at`, `due_at` or `updated_at`, `-` for descending (default `-created_at`).
    #[param(inline)]
    sort: Option<SortParam>,
    /// Page size, 1..=100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u8>,
    /// `next_cursor` of the previous page (same filter and sort).
    cursor: Option<String>,
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

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("__Host-taskflow_access"))),
        );
    }
}

/// The answers the shared server's guard may give to any request (`crate::serve::guard`):
/// load shedding, the request timeout, and HTTPS required behind a proxy.
struct ServerResponses;

impl Modify for ServerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build();
            ResponseBuilder::new()
                .description(description)
                .content(crate::problem::PROBLEM_JSON, content)
                .build()
        };
        let answers = [
            (
                "403",
                "`https_required`: forwarded over plain HTTP (production, behind a proxy; other methods than GET and HEAD)",
            ),
            (
                "503",
                "`overloaded`: the server is at its concurrency limit; `Retry-After: 1`",
            ),
            (
                "504",
                "`timeout`: the request took longer than the request timeout",
            ),
        ];
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in answers {
                    let exempt = match status {
                        "403" => path.starts_with("/health/"),
                        "503" => path == "/health/live",
                        _ => false,
                    };
                    if exempt {
                        continue;
                    }
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(description).into());
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "TaskFlow API", version = "1.0.0", description = "Users, their tasks, login. See the HTTP contract for cookies, CSRF and rate limits."),
    paths(
        auth::register, auth::login, auth::token, auth::refresh, auth::csrf, auth::logout, auth::logout_all, auth::me,
        tasks::create, tasks::list, tasks::get, tasks::update, tasks::delete, tasks::stats,
        ops::live, ops::ready, ops::openapi,
    ),
    security(("bearer" = []), ("cookie" = [])),
    modifiers(&Security, &ServerResponses),
)]
struct ApiDoc;

/// The document as JSON, built once.
pub fn json() -> &'static [u8] {
    static DOCUMENT: OnceLock<Vec<u8>> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .map(String::into_bytes)
            .unwrap_or_default()
    })
}
