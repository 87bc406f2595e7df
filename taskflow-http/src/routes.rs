//! The route templates of the API, from a request path, and the endpoint a template and
//! method name: metric labels, `Allow` headers and routing must not depend on which framework
//! matched the route.

use http::Method;

/// The template of `path` (`/api/v1/tasks/{id}`), or `unmatched`.
pub fn template(path: &str) -> &'static str {
    match path {
        "/api/v1/auth/register" => "/api/v1/auth/register",
        "/api/v1/auth/login" => "/api/v1/auth/login",
        "/api/v1/auth/token" => "/api/v1/auth/token",
        "/api/v1/auth/refresh" => "/api/v1/auth/refresh",
        "/api/v1/auth/csrf" => "/api/v1/auth/csrf",
        "/api/v1/auth/logout" => "/api/v1/auth/logout",
        "/api/v1/auth/logout-all" => "/api/v1/auth/logout-all",
        "/api/v1/auth/me" => "/api/v1/auth/me",
        "/api/v1/tasks" => "/api/v1/tasks",
        "/api/v1/tasks/stats" => "/api/v1/tasks/stats",
        "/api/v1/openapi.json" => "/api/v1/openapi.json",
        "/health/live" => "/health/live",
        "/health/ready" => "/health/ready",
        "/metrics" => "/metrics",
        p if p
            .strip_prefix("/api/v1/tasks/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/')) =>
        {
            "/api/v1/tasks/{id}"
        }
        _ => "unmatched",
    }
}

/// The `{id}` segment of a `/api/v1/tasks/{id}` path, as sent: not percent-decoded, since
/// an id that is not one (not UTF-8, say) is simply a missing task (404).
pub fn task_id(path: &str) -> &str {
    path.strip_prefix("/api/v1/tasks/").unwrap_or(path)
}

/// An endpoint of the API, as a route template and a method name it (see [`endpoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /api/v1/auth/register`.
    Register,
    /// `POST /api/v1/auth/login`.
    Login,
    /// `POST /api/v1/auth/token`.
    Token,
    /// `POST /api/v1/auth/refresh`.
    Refresh,
    /// `GET /api/v1/auth/csrf`.
    Csrf,
    /// `POST /api/v1/auth/logout`.
    Logout,
    /// `POST /api/v1/auth/logout-all`.
    LogoutAll,
    /// `GET /api/v1/auth/me`.
    Me,
    /// `GET /api/v1/tasks`.
    ListTasks,
    /// `POST /api/v1/tasks`.
    CreateTask,
    /// `GET /api/v1/tasks/stats`.
    TaskStats,
    /// `GET /api/v1/tasks/{id}`.
    GetTask,
    /// `PATCH /api/v1/tasks/{id}`.
    UpdateTask,
    /// `DELETE /api/v1/tasks/{id}`.
    DeleteTask,
    /// `GET /health/live`.
    Live,
    /// `GET /health/ready`.
    Ready,
    /// `GET /api/v1/openapi.json`.
    OpenApi,
    /// `GET /metrics`.
    Metrics,
}

/// Why a request names no endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The path is no route (404).
    NotFound,
    /// The path is a route, but not for this method (405, with [`allowed_methods`]).
    MethodNotAllowed,
}

/// The endpoint of a route `template` (from [`template`]) and a method; `HEAD` is answered
/// like `GET`, as axum routes it.
///
/// # Errors
/// [`Miss`] when the pair names no endpoint: an unknown template or a method it does not allow.
pub fn endpoint(template: &str, method: &Method) -> Result<Endpoint, Miss> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let found = match (template, method.as_str()) {
        ("/api/v1/auth/register", "POST") => Endpoint::Register,
        ("/api/v1/auth/login", "POST") => Endpoint::Login,
        ("/api/v1/auth/token", "POST") => Endpoint::Token,
        ("/api/v1/auth/refresh", "POST") => Endpoint::Refresh,
        ("/api/v1/auth/csrf", "GET") => Endpoint::Csrf,
        ("/api/v1/auth/logout", "POST") => Endpoint::Logout,
        ("/api/v1/auth/logout-all", "POST") => Endpoint::LogoutAll,
        ("/api/v1/auth/me", "GET") => Endpoint::Me,
        ("/api/v1/tasks", "GET") => Endpoint::ListTasks,
        ("/api/v1/tasks", "POST") => Endpoint::CreateTask,
        ("/api/v1/tasks/stats", "GET") => Endpoint::TaskStats,
        ("/api/v1/tasks/{id}", "GET") => Endpoint::GetTask,
        ("/api/v1/tasks/{id}", "PATCH") => Endpoint::UpdateTask,
        ("/api/v1/tasks/{id}", "DELETE") => Endpoint::DeleteTask,
        ("/health/live", "GET") => Endpoint::Live,
        ("/health/ready", "GET") => Endpoint::Ready,
        ("/api/v1/openapi.json", "GET") => Endpoint::OpenApi,
        ("/metrics", "GET") => Endpoint::Metrics,
        ("unmatched", _) => return Err(Miss::NotFound),
        _ => return Err(Miss::MethodNotAllowed),
    };
    Ok(found)
}

/// The methods a route template allows (for `Allow` on 405).
pub fn allowed_methods(template: &str) -> &'static str {
    match template {
        "/api/v1/tasks" => "GET, POST",
        "/api/v1/tasks/{id}" => "GET, PATCH, DELETE",
        "/api/v1/tasks/stats"
        | "/api/v1/auth/me"
        | "/api/v1/auth/csrf"
        | "/api/v1/openapi.json"
        | "/health/live"
        | "/health/ready"
        | "/metrics" => "GET",
        _ => "POST",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(template("/api/v1/tasks/abc"), "/api/v1/tasks/{id}");
        assert_eq!(template("/api/v1/tasks/stats"), "/api/v1/tasks/stats");
        assert_eq!(template("/api/v1/tasks/a/b"), "unmatched");
        assert_eq!(template("/nope"), "unmatched");
        assert_eq!(allowed_methods("/api/v1/tasks/{id}"), "GET, PATCH, DELETE");
        assert_eq!(template("/api/v1/auth/csrf"), "/api/v1/auth/csrf");
        assert_eq!(allowed_methods("/api/v1/auth/csrf"), "GET");
        assert_eq!(task_id("/api/v1/tasks/%FF"), "%FF");
    }

    /// Every template's endpoints are reached by exactly the methods its `Allow` lists, and
    /// `HEAD` wherever `GET` is.
    #[test]
    fn endpoints_agree_with_allow() {
        let paths = [
            "/api/v1/auth/register",
            "/api/v1/auth/login",
            "/api/v1/auth/token",
            "/api/v1/auth/refresh",
            "/api/v1/auth/csrf",
            "/api/v1/auth/logout",
            "/api/v1/auth/logout-all",
            "/api/v1/auth/me",
            "/api/v1/tasks",
            "/api/v1/tasks/stats",
            "/api/v1/tasks/abc",
            "/health/live",
            "/health/ready",
            "/api/v1/openapi.json",
            "/metrics",
        ];
        let methods = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ];
        let mut endpoints = Vec::new();
        for path in paths {
            let route = template(path);
            assert_ne!(route, "unmatched", "{path}");
            let allowed: Vec<&str> = allowed_methods(route).split(", ").collect();
            for method in &methods {
                let by_allow = allowed.contains(&method.as_str())
                    || (method == Method::HEAD && allowed.contains(&"GET"));
                match endpoint(route, method) {
                    Ok(found) => {
                        assert!(by_allow, "{method} {path}");
                        if method != Method::HEAD {
                            endpoints.push(found);
                        }
                    }
                    Err(miss) => {
                        assert!(!by_allow, "{method} {path}");
                        assert_eq!(miss, Miss::MethodNotAllowed);
                    }
                }
            }
        }
        let distinct: std::collections::HashSet<_> = endpoints.iter().collect();
        assert_eq!(
            distinct.len(),
            endpoints.len(),
            "one route and method per endpoint"
        );
        assert_eq!(distinct.len(), 18);
        assert_eq!(endpoint("unmatched", &Method::GET), Err(Miss::NotFound));
    }
}
