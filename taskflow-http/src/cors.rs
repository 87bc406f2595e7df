//! CORS, written once for both adapters: only configured origins are ever reflected (never
//! `*`, never `null`), credentials are allowed for them alone, every response varies on
//! `Origin`, and preflights are answered per the Fetch standard (a refused preflight is a
//! response without CORS headers, which the browser then blocks).

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, HeaderValue, ORIGIN, VARY,
};
use http::{HeaderMap, Method, Response, StatusCode};

use crate::app::App;

const ALLOWED_METHODS: &str = "GET, POST, PATCH, DELETE";
const ALLOWED_HEADERS: [&str; 6] = [
    "content-type",
    "authorization",
    "if-match",
    "if-none-match",
    "x-csrf-token",
    "x-request-id",
];
const EXPOSED_HEADERS: &str =
    "etag, location, retry-after, x-request-id, ratelimit, ratelimit-policy";

fn allowed_origin<'a>(app: &App, headers: &'a HeaderMap) -> Option<&'a HeaderValue> {
    let origin = headers.get(ORIGIN)?;
    let text = origin.to_str().ok()?;
    app.0
        .settings
        .allowed_origins
        .is_allowed(text)
        .then_some(origin)
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight: 204, with the grant only when origin, method and headers are
/// all allowed.
pub fn preflight(app: &App, headers: &HeaderMap) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let method_ok = headers
        .get(ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|m| m.to_str().ok())
        .is_some_and(|m| ALLOWED_METHODS.split(", ").any(|a| a == m) || m == "HEAD");
    let headers_ok = headers
        .get_all(ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .all(|h| ALLOWED_HEADERS.iter().any(|a| a.eq_ignore_ascii_case(h)));
    let out = response.headers_mut();
    out.insert(
        VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
    if let (Some(origin), true, true) = (allowed_origin(app, headers), method_ok, headers_ok) {
        out.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        out.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        out.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        out.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "content-type, authorization, if-match, if-none-match, x-csrf-token, x-request-id",
            ),
        );
        out.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

/// Adds the CORS headers of an actual (non-preflight) response.
pub fn decorate(app: &App, request: &HeaderMap, response: &mut HeaderMap) {
    response.append(VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed_origin(app, request) {
        response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        response.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        response.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
}
