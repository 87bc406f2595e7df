//! The served document walked as JSON: every property the contract asks of it (credentials per
//! operation, closed request bodies, the rules of each field, precise response shapes) holds,
//! and every pattern it states accepts exactly what the validators accept.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};

use proptest::prelude::*;
use serde_json::Value;
use taskflow_core::auth::password::Password;
use taskflow_core::domain::{DisplayName, Email, Tag, Tags, TaskDescription, TaskTitle};
use taskflow_core::error::ErrorCode;
use utoipa::OpenApi as _;

use crate::routes::{DEFAULT_BASE_PATH, ROUTES, Routes, Template};

fn default_routes() -> Routes {
    Routes::new(DEFAULT_BASE_PATH, "", |_| true)
}

fn doc() -> &'static Value {
    static DOC: LazyLock<Value> = LazyLock::new(|| super::document(&default_routes(), false));
    &DOC
}

/// `value` with a `$ref` followed (one level is all the document uses).
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("a local schema reference");
            &doc["components"]["schemas"][name]
        }
        None => value,
    }
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "schema {name} is missing");
    schema
}

/// Every operation of the document: (path, method, operation).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            all.push((path.clone(), method.clone(), operation));
        }
    }
    all
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is undocumented");
    operation
}

/// The routes the server answers, as (public path, lower-case method).
fn routes() -> BTreeSet<(String, String)> {
    let routes = default_routes();
    routes
        .iter()
        .map(|route| {
            let template = Template {
                anchor: route.anchor,
                path: route.path,
            };
            let path = routes.routed_path(template);
            (path, route.method.as_str().to_lowercase())
        })
        .collect()
}

/// Under another base path and a host's prefix, the paths follow the base path, `servers`
/// names the prefix, and what names a path of the API (the `Location` of a new task, the
/// refresh cookie's `Path`) says both.
#[test]
fn the_document_follows_the_base_path_and_the_mount_prefix() {
    let doc = super::document(&Routes::new("/v2", "/tasks-app", |_| true), false);
    assert_eq!(doc["servers"], serde_json::json!([{ "url": "/tasks-app" }]));
    let paths: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(paths.contains("/v2/tasks/{id}"), "{paths:?}");
    assert!(paths.contains("/v2/openapi.json"), "{paths:?}");
    assert!(paths.contains("/health/live"), "{paths:?}");
    assert!(
        paths
            .iter()
            .all(|p| p.starts_with("/v2/") || !p.contains("/api/v1"))
    );
    let location = &operation(&doc, "/v2/tasks", "post")["responses"]["201"]["headers"]["Location"];
    assert_eq!(
        location["schema"]["pattern"],
        "^/tasks-app/v2/tasks/[0-9a-f]{24}$"
    );
    let refresh = &doc["components"]["securitySchemes"]["refreshCookie"]["description"];
    assert!(
        refresh
            .as_str()
            .unwrap_or_default()
            .contains("Path=/tasks-app/v2/auth`"),
        "{refresh}"
    );
    assert!(
        super::document(&default_routes(), false)
            .get("servers")
            .is_none()
    );
}

/// Under the host's identity, without TaskFlow's auth endpoints: no auth paths, and the task
/// operations name no TaskFlow credentials.
#[test]
fn under_host_identity_the_auth_paths_and_credentials_leave_the_document() {
    use crate::routes::Access;
    let routes = Routes::new(DEFAULT_BASE_PATH, "", |route| {
        route.access != Access::TaskFlowAuth
    });
    let doc = super::document(&routes, true);
    let paths = doc["paths"].as_object().expect("paths");
    assert!(
        paths.keys().all(|path| !path.contains("/auth/")),
        "{paths:?}"
    );
    assert!(
        operation(&doc, "/api/v1/tasks", "get")
            .get("security")
            .is_none()
    );
    assert_eq!(
        operation(&doc, "/health/live", "get")["security"],
        serde_json::json!([])
    );
    assert!(doc.get("security").is_none());
}

/// Every annotated operation is a route of the table, at the path and with the method the
/// table gives its endpoint, and every route of the table is annotated.
#[test]
fn annotations_agree_with_the_route_table() {
    let annotated = serde_json::to_value(super::ApiDoc::openapi()).expect("the document");
    let mut operations: BTreeSet<(String, String)> = BTreeSet::new();
    for (path, item) in annotated["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            operations.insert((path.clone(), method.clone()));
        }
    }
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.path.to_owned(), route.method.as_str().to_lowercase()))
        .collect();
    assert_eq!(operations, table);
}

#[test]
fn documents_exactly_the_routes_the_server_answers() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = operations(doc)
        .into_iter()
        .map(|(path, method, _)| (path, method))
        .collect();
    assert_eq!(documented, routes());
}

/// The security requirement alternatives of an operation, each as a sorted list of scheme names.
fn security(operation: &Value) -> Vec<Vec<String>> {
    let alternatives = operation["security"]
        .as_array()
        .expect("every operation states its own `security`");
    alternatives
        .iter()
        .map(|requirement| {
            requirement
                .as_object()
                .expect("a requirement object")
                .keys()
                .cloned()
                .collect()
        })
        .collect()
}

fn names(alternatives: &[&[&str]]) -> Vec<Vec<String>> {
    alternatives
        .iter()
        .map(|schemes| {
            let mut schemes: Vec<String> = schemes.iter().map(|s| (*s).to_owned()).collect();
            schemes.sort();
            schemes
        })
        .collect()
}

#[test]
fn every_operation_states_the_credentials_it_takes() {
    let doc = doc();
    let public = [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/token", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/api/v1/openapi.json", "get"),
    ];
    let cookie_unsafe: &[&str] = &["cookie", "csrfCookie", "csrfHeader"];
    let refresh: &[&str] = &["refreshCookie", "csrfCookie", "csrfHeader"];
    for (path, method, operation) in operations(doc) {
        let actual = security(operation);
        let expected = if public.contains(&(path.as_str(), method.as_str())) {
            Vec::new()
        } else if path == "/metrics" {
            // Open in development, the metrics token in production.
            names(&[&[], &["metricsToken"]])
        } else if path == "/api/v1/auth/refresh" {
            names(&[refresh])
        } else if path == "/api/v1/auth/csrf" {
            // The refresh cookie names the session when the access token has expired.
            names(&[&["bearer"], &["cookie"], &["refreshCookie"]])
        } else if path == "/api/v1/auth/logout" {
            names(&[&["bearer"], cookie_unsafe, refresh])
        } else if method == "get" {
            names(&[&["bearer"], &["cookie"]])
        } else {
            names(&[&["bearer"], cookie_unsafe])
        };
        assert_eq!(actual, expected, "{method} {path}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["name"], "__Host-taskflow_access");
    assert_eq!(
        schemes["refreshCookie"]["name"],
        "__Secure-taskflow_refresh"
    );
    assert_eq!(schemes["csrfCookie"]["name"], "__Host-taskflow_csrf");
    assert_eq!(schemes["csrfHeader"]["in"], "header");
    assert_eq!(schemes["csrfHeader"]["name"], "X-CSRF-Token");
}

/// The request body schema of an operation, resolved, with its alternatives when it has some.
fn body_schemas<'a>(doc: &'a Value, operation: &'a Value) -> Vec<&'a Value> {
    let body = resolve(
        doc,
        &operation["requestBody"]["content"]["application/json"]["schema"],
    );
    match body.get("oneOf").and_then(Value::as_array) {
        Some(alternatives) => alternatives.iter().map(|a| resolve(doc, a)).collect(),
        None => vec![body],
    }
}

#[test]
fn every_request_body_is_a_closed_object() {
    let doc = doc();
    let mut bodies = 0;
    for (path, method, operation) in operations(doc) {
        if operation.get("requestBody").is_none() {
            continue;
        }
        assert_eq!(
            operation["requestBody"]["required"], true,
            "{method} {path}"
        );
        for body in body_schemas(doc, operation) {
            bodies += 1;
            assert_eq!(body["type"], "object", "{method} {path}");
            assert_eq!(body["additionalProperties"], false, "{method} {path}");
            let properties = body["properties"].as_object().expect("properties");
            for required in body["required"].as_array().into_iter().flatten() {
                let name = required.as_str().expect("a name");
                assert!(properties.contains_key(name), "{method} {path}: {name}");
            }
        }
    }
    // register, login, the two token grants, create, update.
    assert_eq!(bodies, 6);
    let grants = schema(doc, "TokenGrantInput");
    assert_eq!(grants["discriminator"]["propertyName"], "grant_type");
    assert_eq!(
        schema(doc, "PasswordGrant")["properties"]["grant_type"]["enum"],
        serde_json::json!(["password"])
    );
    assert_eq!(
        schema(doc, "RefreshTokenGrant")["properties"]["grant_type"]["enum"],
        serde_json::json!(["refresh_token"])
    );
}

fn property<'a>(doc: &'a Value, schema_name: &str, field: &str) -> &'a Value {
    let value = &schema(doc, schema_name)["properties"][field];
    assert!(value.is_object(), "{schema_name}.{field} is undocumented");
    resolve(doc, value)
}

fn types(value: &Value) -> Vec<&str> {
    match &value["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_field_states_its_rules() {
    let doc = doc();
    for owner in ["NewTaskInput", "TaskPatchInput", "TaskView"] {
        let tags = property(doc, owner, "tags");
        assert_eq!(tags["maxItems"], Tags::MAX, "{owner}.tags");
        assert_eq!(tags["uniqueItems"], true, "{owner}.tags");
        let tag = &tags["items"];
        assert_eq!(tag["minLength"], 1, "{owner}.tags[]");
        assert_eq!(tag["maxLength"], Tag::MAX_CHARS, "{owner}.tags[]");
        assert_eq!(tag["pattern"], "^[a-z0-9_-]+$", "{owner}.tags[]");

        let title = property(doc, owner, "title");
        assert_eq!(title["minLength"], 1);
        assert_eq!(title["maxLength"], TaskTitle::MAX_CHARS);
        assert!(title["pattern"].is_string(), "{owner}.title: not blank");
        let description = property(doc, owner, "description");
        assert_eq!(description["maxLength"], TaskDescription::MAX_CHARS);
        assert_eq!(
            types(description),
            ["string"],
            "{owner}.description: no null"
        );

        let due_at = property(doc, owner, "due_at");
        assert_eq!(due_at["format"], "date-time");
        assert_eq!(types(due_at), ["string", "null"], "{owner}.due_at");
        let priority = property(doc, owner, "priority");
        assert_eq!(
            priority["enum"],
            serde_json::json!(["low", "medium", "high"])
        );
    }
    assert_eq!(
        schema(doc, "NewTaskInput")["required"],
        serde_json::json!(["title"])
    );
    assert!(schema(doc, "TaskPatchInput").get("required").is_none());
    assert_eq!(
        types(property(doc, "TaskPatchInput", "completed")),
        ["boolean"]
    );
    for owner in ["RegisterInput", "LoginInput", "PasswordGrant", "UserView"] {
        let email = property(doc, owner, "email");
        assert_eq!(email["format"], "email", "{owner}.email");
        assert_eq!(email["maxLength"], Email::MAX_LEN, "{owner}.email");
        assert!(email["pattern"].is_string(), "{owner}.email: dotted domain");
    }
    let password = property(doc, "RegisterInput", "password");
    assert_eq!(password["minLength"], Password::MIN_CHARS);
    assert_eq!(password["maxLength"], Password::MAX_CHARS);
    // A login password is not held to the registration rules: a wrong one is simply 401.
    let login = property(doc, "LoginInput", "password");
    assert!(login.get("minLength").is_none() && login.get("maxLength").is_none());
    for owner in ["RegisterInput", "UserView"] {
        let name = property(doc, owner, "name");
        assert_eq!(types(name), ["string", "null"], "{owner}.name");
        assert_eq!(name["maxLength"], DisplayName::MAX_CHARS, "{owner}.name");
        assert!(name["pattern"].is_string(), "{owner}.name");
    }
}

fn parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("parameter {name} is undocumented"))
}

#[test]
fn every_list_parameter_states_its_rules() {
    let doc = doc();
    let list = operation(doc, "/api/v1/tasks", "get");
    let names: Vec<&str> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(
        names,
        [
            "completed",
            "tag",
            "priority",
            "due_before",
            "due_after",
            "q",
            "sort",
            "limit",
            "cursor"
        ]
    );
    let schema_of = |name: &str| &parameter(list, name)["schema"];
    assert_eq!(schema_of("completed")["type"], "boolean");
    assert_eq!(schema_of("tag")["pattern"], "^[a-z0-9_-]+$");
    assert_eq!(schema_of("tag")["maxLength"], Tag::MAX_CHARS);
    assert_eq!(
        schema_of("priority")["enum"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(schema_of("due_before")["format"], "date-time");
    assert_eq!(schema_of("due_after")["format"], "date-time");
    assert_eq!(schema_of("q")["minLength"], 1);
    assert_eq!(schema_of("q")["maxLength"], 200);
    assert_eq!(schema_of("sort")["enum"].as_array().map(Vec::len), Some(6));
    assert_eq!(schema_of("limit")["minimum"], 1);
    assert_eq!(schema_of("limit")["maximum"], 100);
    // An empty cursor is refused (400 `invalid_cursor`), and the document says so.
    assert_eq!(schema_of("cursor")["minLength"], 1);
    assert_eq!(
        schema_of("cursor")["maxLength"],
        taskflow_core::query::CursorToken::MAX_LEN
    );
    for (path, method, operation) in operations(doc) {
        if path == "/api/v1/tasks/{id}" {
            let id = parameter(operation, "id");
            assert_eq!(id["in"], "path", "{method} {path}");
            assert_eq!(id["schema"]["pattern"], "^[0-9a-f]{24}$", "{method} {path}");
        }
    }
    assert_eq!(
        parameter(operation(doc, "/api/v1/tasks/{id}", "patch"), "If-Match")["in"],
        "header"
    );
}

/// The response object schemas: every property is always sent, so every one is required, and a
/// field that can be `null` says so with a type array (OpenAPI 3.1), never `nullable`.
#[test]
fn response_shapes_are_exact() {
    let doc = doc();
    let views = [
        "UserView",
        "UserEnvelope",
        "LoginView",
        "RefreshView",
        "TokenView",
        "TaskView",
        "TaskPageView",
        "TaskStats",
        "FieldError",
    ];
    for name in views {
        let view = schema(doc, name);
        let properties: BTreeSet<&str> = view["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let required: BTreeSet<&str> = view["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, properties, "{name}: every field is always sent");
    }
    for (name, field) in [
        ("UserView", "name"),
        ("TaskView", "completed_at"),
        ("TaskView", "due_at"),
        ("TaskPageView", "next_cursor"),
    ] {
        assert_eq!(
            types(property(doc, name, field))[1],
            "null",
            "{name}.{field}"
        );
    }
    assert!(
        !doc.to_string().contains("\"nullable\""),
        "3.0's `nullable` has no meaning in 3.1"
    );
    assert_eq!(property(doc, "TaskView", "id")["pattern"], "^[0-9a-f]{24}$");
    assert_eq!(property(doc, "TaskView", "version")["minimum"], 1);
    assert_eq!(
        property(doc, "TaskView", "created_at")["format"],
        "date-time"
    );
    assert_eq!(
        property(doc, "TokenView", "token_type")["enum"],
        serde_json::json!(["Bearer"])
    );
    assert_eq!(property(doc, "TaskPageView", "items")["maxItems"], 100);

    let problem = schema(doc, "Problem");
    let codes: Vec<&str> = problem["properties"]["code"]["enum"]
        .as_array()
        .expect("an enumeration of codes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let expected: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, expected);
    assert_eq!(problem["properties"]["status"]["minimum"], 400);
    assert_eq!(problem["properties"]["status"]["maximum"], 599);
    assert_eq!(types(&problem["properties"]["errors"]), ["array"]);
}

#[test]
fn every_response_is_described_with_its_headers() {
    let doc = doc();
    for (path, method, operation) in operations(doc) {
        let responses = operation["responses"].as_object().expect("responses");
        for status in ["500", "504"] {
            assert!(responses.contains_key(status), "{method} {path}: {status}");
        }
        for (status, response) in responses {
            let headers = &response["headers"];
            assert_eq!(
                headers["X-Request-Id"]["required"], true,
                "{method} {path} {status}"
            );
            let code: u16 = status.parse().expect("a status");
            if code >= 400 {
                let content = response["content"].as_object().expect("a problem body");
                let keys: Vec<&String> = content.keys().collect();
                assert_eq!(
                    keys,
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem"
                );
            } else if code == 200 || code == 201 {
                assert!(
                    response["content"].is_object(),
                    "{method} {path} {status}: a body schema"
                );
            }
            if path.starts_with("/api/v1/auth/") {
                assert_eq!(headers["Cache-Control"]["schema"]["enum"][0], "no-store");
            }
            if matches!(code, 429 | 503) {
                assert_eq!(headers["Retry-After"]["required"], true, "{method} {path}");
            }
            if path.starts_with("/api/v1/tasks") && matches!(code, 200 | 201 | 304) {
                assert_eq!(
                    headers["ETag"]["required"], true,
                    "{method} {path} {status}"
                );
            }
        }
    }
    let created = &operation(doc, "/api/v1/tasks", "post")["responses"]["201"]["headers"];
    assert_eq!(created["Location"]["required"], true);
}

// ---- The patterns the document states, against the validators they describe. ----

/// A pattern read as ECMA-262 and Rust's `regex` read it alike (explicit classes, `\uXXXX`).
fn pattern(value: &Value) -> regex::Regex {
    static COMPILED: LazyLock<Mutex<HashMap<String, regex::Regex>>> = LazyLock::new(Mutex::default);
    let source = value["pattern"].as_str().expect("a pattern");
    let mut compiled = COMPILED.lock().expect("not poisoned");
    compiled
        .entry(source.to_owned())
        .or_insert_with(|| regex::Regex::new(source).expect("the pattern compiles"))
        .clone()
}

/// Whether a string schema of the document admits `text` (`minLength`/`maxLength` count
/// characters, the pattern searches anywhere unless anchored).
fn admits(schema: &Value, text: &str) -> bool {
    let chars = text.chars().count() as u64;
    schema["minLength"].as_u64().is_none_or(|min| chars >= min)
        && schema["maxLength"].as_u64().is_none_or(|max| chars <= max)
        && schema
            .get("pattern")
            .is_none_or(|_| pattern(schema).is_match(text))
}

/// Texts near the edges of the rules: white space of every kind (and what trimming keeps),
/// controls, and letters.
fn text() -> impl Strategy<Value = String> {
    let interesting = prop_oneof![
        Just(' '),
        Just('\t'),
        Just('\n'),
        Just('\u{b}'),
        Just('\u{85}'),
        Just('\u{a0}'),
        Just('\u{1680}'),
        Just('\u{2007}'),
        Just('\u{200b}'),
        Just('\u{2028}'),
        Just('\u{3000}'),
        Just('\u{feff}'),
        Just('\u{1c}'),
        Just('\0'),
        Just('\u{7f}'),
        Just('\u{9f}'),
        Just('a'),
        Just('-'),
        Just('_'),
        Just('Z'),
        Just('9'),
        any::<char>(),
    ];
    prop_oneof![
        proptest::collection::vec(interesting, 0..6).prop_map(|c| c.into_iter().collect()),
        "[a-z0-9_ -]{0,40}",
        ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every title the document admits is accepted; a canonical one (nothing to trim) that is
    /// accepted is admitted.
    #[test]
    fn title_schema_agrees_with_the_validator(text in text()) {
        let doc = doc();
        let schema = property(doc, "NewTaskInput", "title");
        let accepted = TaskTitle::parse(&text).is_ok();
        if admits(schema, &text) {
            prop_assert!(accepted, "admitted but refused: {text:?}");
        } else if text.trim() == text {
            prop_assert!(!accepted, "accepted but not admitted: {text:?}");
        }
    }

    /// The same for display names (`null` aside).
    #[test]
    fn name_schema_agrees_with_the_validator(text in text()) {
        let doc = doc();
        let schema = property(doc, "RegisterInput", "name");
        let accepted = DisplayName::parse(&text).is_ok();
        if admits(schema, &text) {
            prop_assert!(accepted, "admitted but refused: {text:?}");
        } else if text.trim() == text {
            prop_assert!(!accepted, "accepted but not admitted: {text:?}");
        }
    }

    /// Tags have no trimming: the schema and the validator agree on every text.
    #[test]
    fn tag_schema_agrees_with_the_validator(text in text()) {
        let doc = doc();
        let schema = &property(doc, "NewTaskInput", "tags")["items"];
        prop_assert_eq!(admits(schema, &text), Tag::parse(&text).is_ok(), "{:?}", text);
    }
}

#[test]
fn email_schema_admits_what_the_server_accepts() {
    let doc = doc();
    let schema = property(doc, "RegisterInput", "email");
    for good in [
        "a@example.com",
        "Ada.Lovelace+x@Sub.Example.ORG",
        "!#$%&'*+-/=?^_`{|}~@a.io",
    ] {
        assert!(admits(schema, good), "{good}");
        assert!(Email::parse(good).is_ok(), "{good}");
    }
    // A bare host is a valid RFC 5321 address, but never one the server accepts.
    for bare in ["a@localhost", "a@b"] {
        assert!(!admits(schema, bare), "{bare}");
        assert!(Email::parse(bare).is_err(), "{bare}");
    }
    let label = |n: usize| "b".repeat(n);
    let long = format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        label(61),
        label(61),
        label(61)
    );
    assert_eq!(long.len(), Email::MAX_LEN);
    assert!(admits(schema, &long) && Email::parse(&long).is_ok());
    let longer = format!(
        "{}@{}.{}.{}.com",
        "a".repeat(64),
        label(62),
        label(61),
        label(61)
    );
    assert!(!admits(schema, &longer) && Email::parse(&longer).is_err());
}

/// The schemas written beside the core's types (the core knows no OpenAPI) say what those
/// types serialise: every priority, and the counts of the stats.
#[test]
fn the_documented_shapes_of_core_types_are_theirs() {
    use taskflow_core::domain::Priority;
    let doc = doc();
    let documented: BTreeSet<String> = schema(doc, "Priority")["enum"]
        .as_array()
        .expect("an enumeration")
        .iter()
        .map(|value| value.as_str().expect("a string").to_owned())
        .collect();
    let served: BTreeSet<String> = [Priority::Low, Priority::Medium, Priority::High]
        .iter()
        .map(|p| {
            serde_json::to_value(p)
                .expect("JSON")
                .as_str()
                .expect("a string")
                .to_owned()
        })
        .collect();
    assert_eq!(documented, served);
    for text in &documented {
        assert!(Priority::parse(text).is_ok(), "{text}");
    }
    let stats = serde_json::to_value(taskflow_core::query::TaskStats::default()).expect("JSON");
    let served: BTreeSet<&String> = stats.as_object().expect("an object").keys().collect();
    let documented: BTreeSet<&String> = schema(doc, "TaskStats")["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    assert_eq!(documented, served);
}
