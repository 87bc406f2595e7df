//! The OpenAPI 3.1 document of the API, generated from the endpoint annotations and the very
//! types that (de)serialise requests and responses, so it cannot drift from the code.
//!
//! It states every rule of the contract that JSON Schema can express (lengths, patterns,
//! enumerations, formats, item counts, uniqueness, `additionalProperties: false` on request
//! bodies; the bounds come from the domain types, see `crate::input::schema`), the
//! credentials each operation takes (`security: []` where none), and the response headers a
//! client can rely on. Its unit tests walk the served document and fail when it loses any of
//! these properties.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::App;
use crate::endpoints::{auth, ops, tasks};
use crate::routes::{Access, Anchor, Endpoint, Route, Routes, Template};

/// The security schemes. Cookie names are those of the secure (default, production) cookie
/// policy; with `TASKFLOW_COOKIE_SECURE=false` (development only) they lose their prefix.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "bearer",
            bearer(
                "`Authorization: Bearer <access token>` from `POST /api/v1/auth/token`; needs no CSRF token.",
            ),
        );
        let cookie = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                name,
                description,
            )))
        };
        components.add_security_scheme(
            "cookie",
            cookie(
                "__Host-taskflow_access",
                "The access cookie set at login, register and refresh (`taskflow_access` with `TASKFLOW_COOKIE_SECURE=false`). Unsafe methods also need the CSRF cookie and header.",
            ),
        );
        components.add_security_scheme(
            "refreshCookie",
            cookie(
                "__Secure-taskflow_refresh",
                "The refresh cookie (`Path=/api/v1/auth`; `taskflow_refresh` with `TASKFLOW_COOKIE_SECURE=false`), rotated on every use.",
            ),
        );
        components.add_security_scheme(
            "csrfCookie",
            cookie(
                "__Host-taskflow_csrf",
                "The CSRF cookie (`taskflow_csrf` with `TASKFLOW_COOKIE_SECURE=false`); readable by scripts.",
            ),
        );
        components.add_security_scheme(
            "csrfHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "Equal to the CSRF cookie, on every cookie-authenticated unsafe request; an `Origin` it sends must be allowed. Otherwise 403 `csrf_failed`.",
            ))),
        );
        components.add_security_scheme(
            "metricsToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <TASKFLOW_METRICS_TOKEN>`: required in production; development needs none.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The answers the shared server may give to any request (`crate::layers`): HTTPS
/// required behind a proxy, an unexpected failure, load shedding and the request timeout.
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
                "500",
                "`internal`: an unexpected failure (details are logged, never shown)",
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
    info(title = "TaskFlow API", version = "1.1.0", description = "Users, their tasks, login. See the HTTP contract for cookies, CSRF and rate limits."),
    paths(
        auth::register, auth::login, auth::token, auth::refresh, auth::csrf, auth::logout, auth::logout_all, auth::me,
        tasks::create, tasks::list, tasks::get, tasks::update, tasks::delete, tasks::stats,
        ops::live, ops::ready, ops::openapi, ops::metrics,
    ),
    security(("bearer" = []), ("cookie" = [])),
    modifiers(&Security, &ServerResponses),
)]
struct ApiDoc;

/// The document of `app` as JSON, rendered on first use.
pub fn json(app: &App) -> &[u8] {
    app.0.openapi.get_or_init(|| {
        let host_identity = app.0.identity.is_some();
        serde_json::to_vec(&document(app.routes(), host_identity)).unwrap_or_default()
    })
}

/// The document of the routes `routes` serves: the annotated operations under their paths
/// (base path and template, or their own root path), with their response headers; when a host
/// mounts TaskFlow under a prefix, `servers` names it. With `host_identity` and without
/// TaskFlow's own auth endpoints, the task operations state no TaskFlow credentials: the host
/// authenticates them, as its own documentation says.
pub fn document(routes: &Routes, host_identity: bool) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let annotated = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .map(std::mem::take)
        .unwrap_or_default();
    // Sorted by path, each path's methods in the order utoipa wrote them: a change to the API
    // reads as a small diff of the document.
    let mut paths: BTreeMap<String, serde_json::Map<String, Value>> = BTreeMap::new();
    let host_only = host_identity && !routes.iter().any(|r| r.access == Access::TaskFlowAuth);
    if host_only {
        if let Some(doc) = doc.as_object_mut() {
            doc.remove("security");
        }
        if let Some(Value::String(description)) = doc.pointer_mut("/info/description") {
            description.push_str(
                " The task endpoints are authenticated by the application that serves them.",
            );
        }
    }
    for (path, item) in annotated {
        let Value::Object(item) = item else { continue };
        for (method, mut operation) in item {
            let route = routes.iter().find(|route| {
                route.path == path && route.method.as_str().eq_ignore_ascii_case(&method)
            });
            let Some(route) = route else { continue };
            add_response_headers(routes, route, &mut operation);
            if let Some(operation) = operation
                .as_object_mut()
                .filter(|_| host_only && route.access == Access::User)
            {
                operation.remove("security");
            }
            let template = Template {
                anchor: route.anchor,
                path: route.path,
            };
            paths
                .entry(routes.routed_path(template))
                .or_default()
                .insert(method, operation);
        }
    }
    doc["paths"] = paths
        .into_iter()
        .map(|(path, item)| (path, Value::Object(item)))
        .collect();
    // Where a host mounts TaskFlow: the paths are relative to it, as the routes are.
    if !routes.mount_prefix().is_empty() {
        doc["servers"] = json!([{ "url": routes.mount_prefix() }]);
    }
    follow_base_path(routes, &mut doc);
    doc
}

/// The descriptions that name a path of the API, with the app's base path and mount prefix
/// (the annotations are written for the defaults).
fn follow_base_path(routes: &Routes, doc: &mut Value) {
    let public_base = routes.public_base();
    if public_base == crate::routes::DEFAULT_BASE_PATH {
        return;
    }
    let Some(schemes) = doc
        .pointer_mut("/components/securitySchemes")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for scheme in schemes.values_mut() {
        if let Some(Value::String(description)) = scheme.get_mut("description") {
            *description = description.replace(
                &format!("{}/", crate::routes::DEFAULT_BASE_PATH),
                &format!("{public_base}/"),
            );
        }
    }
}

/// One response header: every header documented here is sent on every response it is
/// documented for, hence `required`.
fn header(description: &str, schema: &Value) -> Value {
    json!({ "description": description, "required": true, "schema": schema })
}

/// A regular expression matching `text` literally (a base path: letters, digits, `-._~/`).
fn literal(text: &str) -> String {
    text.replace('.', "\\.")
}

/// Adds the response headers clients rely on to the operation of `route`: `X-Request-Id` on
/// every response, the cache policy, `ETag` and `Location` where the contract sets them,
/// `Retry-After` on 429 and 503. (utoipa's header objects have no `required`, so this works
/// on the JSON.)
fn add_response_headers(routes: &Routes, route: &Route, operation: &mut Value) {
    let template = Template {
        anchor: route.anchor,
        path: route.path,
    };
    let request_id = header(
        "The request's id: the client's `X-Request-Id` when it is 1..=64 of `[A-Za-z0-9._:-]`, a generated one otherwise.",
        &json!({ "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$" }),
    );
    let no_store = header(
        "Credentials are never stored.",
        &json!({ "type": "string", "enum": [crate::headers::NO_STORE] }),
    );
    let private = header(
        "Cacheable by the client only, revalidated with `If-None-Match`.",
        &json!({ "type": "string", "enum": [crate::headers::PRIVATE_NO_CACHE] }),
    );
    let etag = header(
        "Entity tag of this representation: strong, except for a compressed page of tasks (`W/`, compared weakly by `If-None-Match`).",
        &json!({ "type": "string", "pattern": "^(W/)?\"[A-Za-z0-9_-]+\"$" }),
    );
    let location = header(
        "The new task's URL.",
        &json!({ "type": "string", "pattern": format!("^{}/tasks/[0-9a-f]{{24}}$", literal(&routes.public_base())) }),
    );
    let retry_after = header(
        "Seconds to wait before trying again.",
        &json!({ "type": "string", "pattern": "^[0-9]+$" }),
    );
    let tasks = route.anchor == Anchor::BasePath && route.path.starts_with("/tasks");
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let mut headers = vec![("X-Request-Id", &request_id)];
        if template.is_auth() {
            headers.push(("Cache-Control", &no_store));
        }
        if tasks && matches!(status.as_str(), "200" | "201" | "304") {
            headers.push(("Cache-Control", &private));
            headers.push(("ETag", &etag));
        }
        if route.endpoint == Endpoint::CreateTask && status == "201" {
            headers.push(("Location", &location));
        }
        if matches!(status.as_str(), "429" | "503") {
            headers.push(("Retry-After", &retry_after));
        }
        let Some(response) = response.as_object_mut() else {
            continue;
        };
        let map = response
            .entry("headers")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(map) = map {
            for (name, value) in headers {
                map.insert(name.to_owned(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests;
