//! The route table of the API, the one source that the adapters route on (axum registers a
//! route per template, warp matches on the table), the OpenAPI document takes its paths from,
//! and metrics, logs and `Allow` headers read: so no answer depends on which framework
//! matched the route.
//!
//! A route's path is a template relative to the app's base path (`/tasks/{id}` under
//! `/api/v1`), or, for the operations endpoints, a path of its own (`/health/live`,
//! `/health/ready`, `/metrics`); both are relative to where a host mounts TaskFlow (the path
//! an adapter sees once a host's `nest` or `warp::path` stripped its prefix).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use http::Method;

/// Where a route's path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// Under the app's base path (`/api/v1` by default).
    BasePath,
    /// At the root of where TaskFlow is mounted (the operations endpoints).
    Root,
}

/// Who may call a route, which decides whether it is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// Needs no user: health, metrics (with its own token) and the OpenAPI document.
    Public,
    /// TaskFlow's own authentication (register, login, tokens, sessions): mounted when
    /// TaskFlow authenticates users itself, not under a host's identity unless asked.
    TaskFlowAuth,
    /// Needs a user: TaskFlow's session, or the host's identity.
    User,
}

/// An endpoint of the API (see [`ROUTES`] for its method and path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /auth/register`.
    Register,
    /// `POST /auth/login`.
    Login,
    /// `POST /auth/token`.
    Token,
    /// `POST /auth/refresh`.
    Refresh,
    /// `GET /auth/csrf`.
    Csrf,
    /// `POST /auth/logout`.
    Logout,
    /// `POST /auth/logout-all`.
    LogoutAll,
    /// `GET /auth/me`.
    Me,
    /// `GET /tasks`.
    ListTasks,
    /// `POST /tasks`.
    CreateTask,
    /// `GET /tasks/stats`.
    TaskStats,
    /// `GET /tasks/{id}`.
    GetTask,
    /// `PATCH /tasks/{id}`.
    UpdateTask,
    /// `DELETE /tasks/{id}`.
    DeleteTask,
    /// `GET /openapi.json`.
    OpenApi,
    /// `GET /health/live` (at the root).
    Live,
    /// `GET /health/ready` (at the root).
    Ready,
    /// `GET /metrics` (at the root).
    Metrics,
}

/// One route: an endpoint, its method and its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// What answers it.
    pub endpoint: Endpoint,
    /// Its method (`HEAD` is answered wherever `GET` is).
    pub method: Method,
    /// Its path template, relative to its anchor; `{id}`, the only parameter, is a whole
    /// segment at the end.
    pub path: &'static str,
    /// Where the path starts.
    pub anchor: Anchor,
    /// Who may call it.
    pub access: Access,
}

macro_rules! route {
    ($endpoint:ident, $method:ident, $path:literal, $anchor:ident, $access:ident) => {
        Route {
            endpoint: Endpoint::$endpoint,
            method: Method::$method,
            path: $path,
            anchor: Anchor::$anchor,
            access: Access::$access,
        }
    };
}

/// Every route of the API. A literal template comes before a parameter one it overlaps
/// (`/tasks/stats` before `/tasks/{id}`), which is the order [`Routes::find`] tries them in.
pub const ROUTES: [Route; 18] = [
    route!(Register, POST, "/auth/register", BasePath, TaskFlowAuth),
    route!(Login, POST, "/auth/login", BasePath, TaskFlowAuth),
    route!(Token, POST, "/auth/token", BasePath, TaskFlowAuth),
    route!(Refresh, POST, "/auth/refresh", BasePath, TaskFlowAuth),
    route!(Csrf, GET, "/auth/csrf", BasePath, TaskFlowAuth),
    route!(Logout, POST, "/auth/logout", BasePath, TaskFlowAuth),
    route!(LogoutAll, POST, "/auth/logout-all", BasePath, TaskFlowAuth),
    route!(Me, GET, "/auth/me", BasePath, TaskFlowAuth),
    route!(ListTasks, GET, "/tasks", BasePath, User),
    route!(CreateTask, POST, "/tasks", BasePath, User),
    route!(TaskStats, GET, "/tasks/stats", BasePath, User),
    route!(GetTask, GET, "/tasks/{id}", BasePath, User),
    route!(UpdateTask, PATCH, "/tasks/{id}", BasePath, User),
    route!(DeleteTask, DELETE, "/tasks/{id}", BasePath, User),
    route!(OpenApi, GET, "/openapi.json", BasePath, Public),
    route!(Live, GET, "/health/live", Root, Public),
    route!(Ready, GET, "/health/ready", Root, Public),
    route!(Metrics, GET, "/metrics", Root, Public),
];

/// The base path when none is configured.
pub const DEFAULT_BASE_PATH: &str = "/api/v1";

/// The metrics label (and log field) of a request that names no route.
pub const OTHER: &str = "other";

impl Endpoint {
    /// The route of this endpoint.
    pub fn route(self) -> &'static Route {
        // Every endpoint has exactly one route (a unit test checks it).
        ROUTES
            .iter()
            .find(|route| route.endpoint == self)
            .unwrap_or(&ROUTES[0])
    }
}

/// A path template of the table with its anchor: the routes that share one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Template {
    /// Where it starts.
    pub anchor: Anchor,
    /// The template (`/tasks/{id}`).
    pub path: &'static str,
}

impl Template {
    /// Whether this is a path of TaskFlow's authentication (`/auth/...` under the base path),
    /// whose every answer, errors included, is about credentials and never stored.
    pub fn is_auth(self) -> bool {
        self.anchor == Anchor::BasePath && self.path.starts_with("/auth/")
    }
}

/// Why a request names no endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The path is no route (404).
    NotFound,
    /// The path is a route, but not for this method (405, with [`Routes::allowed`]).
    MethodNotAllowed,
}

/// Why a base path cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// Not empty and not `/segment[/segment...]` of unreserved characters (no trailing slash,
    /// no empty segment, no `{`, `%`, `?` or `#`).
    #[error(
        "{0:?} is not a path prefix: expected empty or /segment[/segment...] of letters, \
         digits, `-`, `.`, `_` and `~`, without a trailing slash"
    )]
    Invalid(String),
}

/// Checks a base path or mount prefix: empty, or `/a/b` of unreserved characters.
///
/// # Errors
/// [`PathError::Invalid`] otherwise.
pub fn check_prefix(prefix: &str) -> Result<(), PathError> {
    let valid = prefix.is_empty()
        || prefix.strip_prefix('/').is_some_and(|rest| {
            rest.split('/').all(|segment| {
                !segment.is_empty()
                    && segment.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
                    })
            })
        });
    if valid {
        Ok(())
    } else {
        Err(PathError::Invalid(prefix.to_owned()))
    }
}

/// The route table of one app: its base path, the prefix a host mounts it under, and which
/// routes it serves.
#[derive(Debug, Clone)]
pub struct Routes {
    base: &'static str,
    mount: &'static str,
    mounted: Vec<&'static Route>,
    templates: Vec<Entry>,
}

/// What a template's requests need, made once per app.
#[derive(Debug, Clone)]
struct Entry {
    template: Template,
    label: &'static str,
    allowed: &'static str,
}

impl Routes {
    /// The table for `base` (already checked) under `mount`, serving the routes `mounted`
    /// says.
    pub(crate) fn new(base: &str, mount: &str, mounted: impl Fn(&Route) -> bool) -> Self {
        let mut routes = Self {
            base: intern(base),
            mount: intern(mount),
            mounted: ROUTES.iter().filter(|route| mounted(route)).collect(),
            templates: Vec::new(),
        };
        for route in routes.mounted.clone() {
            let template = Template {
                anchor: route.anchor,
                path: route.path,
            };
            if routes
                .templates
                .iter()
                .any(|entry| entry.template == template)
            {
                continue;
            }
            let methods: Vec<&str> = routes
                .iter()
                .filter(|other| other.anchor == template.anchor && other.path == template.path)
                .map(|other| other.method.as_str())
                .collect();
            let entry = Entry {
                template,
                label: intern(&routes.routed_path(template)),
                allowed: intern(&methods.join(", ")),
            };
            routes.templates.push(entry);
        }
        routes
    }

    /// The base path the API's templates are under, relative to the mount (`/api/v1`).
    pub fn base_path(&self) -> &'static str {
        self.base
    }

    /// The prefix under which a host mounts TaskFlow (empty when it does not).
    pub fn mount_prefix(&self) -> &'static str {
        self.mount
    }

    /// The routes served, in table order.
    pub fn iter(&self) -> impl Iterator<Item = &'static Route> + '_ {
        self.mounted.iter().copied()
    }

    /// The templates served, each once, in table order.
    pub fn templates(&self) -> impl Iterator<Item = Template> + '_ {
        self.templates.iter().map(|entry| entry.template)
    }

    fn entry(&self, template: Template) -> Option<&Entry> {
        self.templates
            .iter()
            .find(|entry| entry.template == template)
    }

    /// The path an adapter routes `template` on (`/api/v1/tasks/{id}`, `/health/live`).
    pub fn routed_path(&self, template: Template) -> String {
        match template.anchor {
            Anchor::BasePath => format!("{}{}", self.base, template.path),
            Anchor::Root => template.path.to_owned(),
        }
    }

    /// The path clients see for `template`: the mount prefix, then the routed path.
    pub fn public_path(&self, template: Template) -> String {
        format!("{}{}", self.mount, self.routed_path(template))
    }

    /// The path clients see for the base path (`/tasks-app/api/v1`): cookie paths and
    /// `Location` headers start with it.
    pub fn public_base(&self) -> String {
        format!("{}{}", self.mount, self.base)
    }

    /// The template `path` (as the adapter sees it, after any mount prefix) matches, and the
    /// `{id}` segment when the template has one (as sent: not percent-decoded, since an id that
    /// is not one is simply a missing task).
    pub fn find<'p>(&self, path: &'p str) -> Option<(Template, Option<&'p str>)> {
        let relative = path.strip_prefix(self.base);
        for route in self.iter() {
            let candidate = match route.anchor {
                Anchor::BasePath => relative,
                Anchor::Root => Some(path),
            };
            let Some(candidate) = candidate else { continue };
            let template = Template {
                anchor: route.anchor,
                path: route.path,
            };
            match route.path.split_once("{id}") {
                None if candidate == route.path => return Some((template, None)),
                Some((before, "")) => {
                    let id = candidate.strip_prefix(before);
                    if let Some(id) = id.filter(|id| !id.is_empty() && !id.contains('/')) {
                        return Some((template, Some(id)));
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The route of `template` for `method`; `HEAD` is answered like `GET`.
    ///
    /// # Errors
    /// [`Miss::MethodNotAllowed`] when the template has no route for the method.
    pub fn route(&self, template: Template, method: &Method) -> Result<&'static Route, Miss> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.iter()
            .find(|route| {
                route.anchor == template.anchor
                    && route.path == template.path
                    && route.method == method
            })
            .ok_or(Miss::MethodNotAllowed)
    }

    /// The route `path` and `method` name, with the `{id}` segment.
    ///
    /// # Errors
    /// [`Miss`]: no such path, or not with this method.
    pub fn resolve<'p>(
        &self,
        path: &'p str,
        method: &Method,
    ) -> Result<(&'static Route, Option<&'p str>), Miss> {
        let (template, id) = self.find(path).ok_or(Miss::NotFound)?;
        Ok((self.route(template, method)?, id))
    }

    /// The methods `template` allows, for `Allow` on a 405 (`GET, PATCH, DELETE`).
    pub fn allowed(&self, template: Template) -> &'static str {
        self.entry(template).map_or("", |entry| entry.allowed)
    }

    /// The metrics label (and log field) of a request for `path`: see [`label`](Self::label).
    pub fn label_of(&self, path: &str) -> &'static str {
        self.label(self.find(path).map(|(template, _)| template))
    }

    /// The metrics label (and log field) of `template`: its routed path
    /// (`/api/v1/tasks/{id}`); [`OTHER`] without one.
    pub fn label(&self, template: Option<Template>) -> &'static str {
        template
            .and_then(|template| self.entry(template))
            .map_or(OTHER, |entry| entry.label)
    }
}

/// The one `&'static str` of `text`: labels and cookie paths are made once per distinct value
/// (a handful per process: the base paths its apps use) and shared by every request, so
/// recording a request allocates nothing.
pub(crate) fn intern(text: &str) -> &'static str {
    static INTERNED: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = INTERNED
        .get_or_init(Mutex::default)
        .lock()
        // A set of leaked strings, consistent after any panic.
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = set.get(text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes::new(DEFAULT_BASE_PATH, "", |_| true)
    }

    #[test]
    fn paths_find_their_templates() {
        let routes = routes();
        let label = |path: &str| routes.label(routes.find(path).map(|(t, _)| t));
        assert_eq!(label("/api/v1/tasks/abc"), "/api/v1/tasks/{id}");
        assert_eq!(label("/api/v1/tasks/stats"), "/api/v1/tasks/stats");
        assert_eq!(label("/api/v1/tasks/a/b"), OTHER);
        assert_eq!(label("/api/v1/tasks/"), OTHER);
        assert_eq!(label("/api/v1/tasks"), "/api/v1/tasks");
        assert_eq!(label("/nope"), OTHER);
        assert_eq!(label("/health/live"), "/health/live");
        assert_eq!(label("/api/v1/health/live"), OTHER);
        assert_eq!(label("/api/v1/auth/csrf"), "/api/v1/auth/csrf");
        assert_eq!(routes.find("/api/v1/tasks/%FF").unwrap().1, Some("%FF"));
        let tasks = routes.find("/api/v1/tasks/x").unwrap().0;
        assert_eq!(routes.allowed(tasks), "GET, PATCH, DELETE");
        let csrf = routes.find("/api/v1/auth/csrf").unwrap().0;
        assert_eq!(routes.allowed(csrf), "GET");
    }

    #[test]
    fn templates_have_at_most_one_parameter_at_the_end() {
        for route in &ROUTES {
            assert!(route.path.starts_with('/'), "{route:?}");
            let params = route.path.matches('{').count();
            assert!(params <= 1, "{route:?}");
            if params == 1 {
                assert!(route.path.ends_with("/{id}"), "{route:?}");
            }
        }
    }

    /// Every template's endpoints are reached by exactly the methods its `Allow` lists, and
    /// `HEAD` wherever `GET` is; one route per endpoint.
    #[test]
    fn endpoints_agree_with_allow() {
        let routes = routes();
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
        for template in routes.templates() {
            let allowed: Vec<&str> = routes.allowed(template).split(", ").collect();
            for method in &methods {
                let by_allow = allowed.contains(&method.as_str())
                    || (method == Method::HEAD && allowed.contains(&"GET"));
                match routes.route(template, method) {
                    Ok(found) => {
                        assert!(by_allow, "{method} {template:?}");
                        if method != Method::HEAD {
                            endpoints.push(found.endpoint);
                        }
                    }
                    Err(miss) => {
                        assert!(!by_allow, "{method} {template:?}");
                        assert_eq!(miss, Miss::MethodNotAllowed);
                    }
                }
            }
        }
        let distinct: HashSet<_> = endpoints.iter().collect();
        assert_eq!(distinct.len(), endpoints.len(), "one route per endpoint");
        assert_eq!(distinct.len(), ROUTES.len());
        for route in &ROUTES {
            assert_eq!(route.endpoint.route(), route);
        }
        assert_eq!(
            routes.resolve("/nowhere", &Method::GET).map(|(r, _)| r),
            Err(Miss::NotFound)
        );
    }

    #[test]
    fn base_paths_and_mount_prefixes() {
        for good in ["", "/api/v1", "/tasks-app/api/v1", "/a.b_c~d"] {
            assert_eq!(check_prefix(good), Ok(()), "{good}");
        }
        for bad in [
            "/", "api", "/api/", "//api", "/a b", "/{id}", "/a%20", "/a?b", "/a#b",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
        let routes = Routes::new("/v2", "/tasks-app", |_| true);
        let (template, id) = routes.find("/v2/tasks/abc").unwrap();
        assert_eq!(id, Some("abc"));
        assert_eq!(routes.public_path(template), "/tasks-app/v2/tasks/{id}");
        assert_eq!(routes.public_base(), "/tasks-app/v2");
        assert!(routes.find("/api/v1/tasks").is_none());
        let live = routes.find("/health/live").unwrap().0;
        assert_eq!(routes.public_path(live), "/tasks-app/health/live");
        assert_eq!(routes.label(Some(template)), "/v2/tasks/{id}");
        let root = Routes::new("", "", |_| true);
        assert_eq!(root.label(root.find("/tasks").map(|(t, _)| t)), "/tasks");
    }

    #[test]
    fn unmounted_routes_are_not_found() {
        let routes = Routes::new(DEFAULT_BASE_PATH, "", |route| {
            route.access != Access::TaskFlowAuth
        });
        assert!(routes.find("/api/v1/auth/login").is_none());
        assert!(routes.find("/api/v1/tasks").is_some());
        assert_eq!(routes.templates().count(), 7);
    }

    #[test]
    fn interning_shares_one_string_per_value() {
        let a = intern(&String::from("/x/y"));
        let b = intern("/x/y");
        assert!(std::ptr::eq(a, b));
    }
}
