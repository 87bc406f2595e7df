//! The route templates of the API, from a request path: metric labels and `Allow` headers
//! must not depend on which framework matched the route.

/// The template of `path` (`/api/v1/tasks/{id}`), or `unmatched`.
pub fn template(path: &str) -> &'static str {
    match path {
        "/api/v1/auth/register" => "/api/v1/auth/register",
        "/api/v1/auth/login" => "/api/v1/auth/login",
        "/api/v1/auth/token" => "/api/v1/auth/token",
        "/api/v1/auth/refresh" => "/api/v1/auth/refresh",
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

/// The methods a route template allows (for `Allow` on 405).
pub fn allowed_methods(template: &str) -> &'static str {
    match template {
        "/api/v1/tasks" => "GET, POST",
        "/api/v1/tasks/{id}" => "GET, PATCH, DELETE",
        "/api/v1/tasks/stats"
        | "/api/v1/auth/me"
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
        assert_eq!(task_id("/api/v1/tasks/%FF"), "%FF");
    }
}
