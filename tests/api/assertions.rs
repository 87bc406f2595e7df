//! Header utilities and the assertions every module shares (problem+json above all).

use std::collections::HashMap;

use reqwest::Response;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// `headers` plus each `(name, value)`.
pub fn with_headers(mut headers: HeaderMap, extra: &[(&str, &str)]) -> HeaderMap {
    for (name, value) in extra {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    headers
}

/// Headers from `(name, value)` pairs.
pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    with_headers(HeaderMap::new(), pairs)
}

/// `Authorization: Bearer token`.
pub fn bearer(token: &str) -> HeaderMap {
    headers(&[("authorization", &format!("Bearer {token}"))])
}

/// A header of `response` as text.
pub fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header"))
}

/// Every `Set-Cookie` value of `response`.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii cookie").to_owned())
        .collect()
}

/// The JSON body of `response`.
pub async fn json_body(response: Response) -> Value {
    response.json().await.expect("json body")
}

/// The `id`s of a JSON array of tasks.
pub fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The sorted keys of a JSON object.
pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// Asserts `response` is an RFC 9457 problem with `status` and `code`, carrying the request's
/// id and `nosniff`, and leaking nothing internal; returns its body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "status of a {code} problem");
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    let request_id = header(&response, "x-request-id")
        .expect("x-request-id")
        .to_owned();
    let text = response.text().await.expect("body");
    for leak in [
        "panicked",
        "backtrace",
        ".rs:",
        "stack",
        "$argon2",
        "thread '",
    ] {
        assert!(!text.contains(leak), "problem leaks {leak:?}: {text}");
    }
    let body: Value = serde_json::from_str(&text).expect("problem json");
    assert_eq!(
        body["type"],
        format!("urn:taskflow:problem:{code}"),
        "{body}"
    );
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(body["detail"].is_string(), "{body}");
    assert_eq!(body["request_id"], request_id.as_str(), "{body}");
    body
}

/// Asserts a 422 `validation_failed` naming exactly `fields` (in order); returns the body.
pub async fn assert_invalid_fields(response: Response, fields: &[&str]) -> Value {
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(error_fields(&body), fields, "{body}");
    body
}

/// The `field` of each entry of a problem's `errors`.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            e["field"].as_str().expect("field")
        })
        .collect()
}

/// A problem body without its `request_id`, to compare two answers.
pub fn without_request_id(mut problem: Value) -> Value {
    problem
        .as_object_mut()
        .expect("object")
        .remove("request_id");
    problem
}

/// Whether `text` is RFC 3339 UTC with exactly three fractional digits.
pub fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() == 24
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..23)
        && b[23] == b'Z'
        && taskflow::core::Timestamp::parse_rfc3339(text).is_ok()
}

/// One `Set-Cookie` value, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value.
    pub value: String,
    /// The attributes as written (`HttpOnly`, `Path=/`, ...), sorted.
    pub attributes: Vec<String>,
}

impl SetCookie {
    /// The value of attribute `name` (`Max-Age`, `Path`, ...), if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find_map(|a| {
            a.split_once('=')
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }
}

/// The `Set-Cookie` headers of `response`, split, by name.
pub fn parsed_cookies(response: &Response) -> HashMap<String, SetCookie> {
    set_cookies(response)
        .iter()
        .map(|text| {
            let mut pieces = text.split(';').map(str::trim);
            let (name, value) = pieces
                .next()
                .and_then(|p| p.split_once('='))
                .expect("name=value");
            let mut attributes: Vec<String> = pieces.map(str::to_owned).collect();
            attributes.sort();
            let cookie = SetCookie {
                name: name.to_owned(),
                value: value.to_owned(),
                attributes,
            };
            (name.to_owned(), cookie)
        })
        .collect()
}

/// Sorted attribute list from literals.
pub fn attrs(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    list.sort();
    list
}
