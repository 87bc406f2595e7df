//! Replacing run-dependent values by placeholders numbered by first appearance.

use std::collections::HashMap;

use serde_json::Value;

use super::transport::*;
use super::*;

/// How far apart two cookie lifetimes may be: a refresh's cookies live until the session's
/// absolute expiry, so their `Max-Age` counts down with the clock.
pub(crate) const MAX_AGE_SLACK_SECS: u64 = 5;

/// One exchange with the run-dependent values replaced.
#[derive(Debug)]
pub(crate) struct Normalised {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    /// The `Max-Age` of each `Set-Cookie`, in order (compared within the slack).
    pub(crate) max_ages: Vec<u64>,
}

impl PartialEq for Normalised {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.headers == other.headers
            && self.body == other.body
            && self.max_ages.len() == other.max_ages.len()
            && self
                .max_ages
                .iter()
                .zip(&other.max_ages)
                .all(|(a, b)| a.abs_diff(*b) <= MAX_AGE_SLACK_SECS)
    }
}

#[derive(Debug, PartialEq)]
pub(crate) enum Body {
    Empty,
    Json(Value),
    Text(Vec<String>),
}

/// Placeholders for opaque values, numbered by first appearance in one transcript.
#[derive(Default)]
pub(crate) struct Normaliser {
    pub(crate) seen: HashMap<String, String>,
    pub(crate) counts: HashMap<&'static str, usize>,
    pub(crate) max_ages: Vec<u64>,
}

impl Normaliser {
    pub(crate) fn new() -> Self {
        let mut this = Self::default();
        // What the client chose is compared as it is.
        for id in SANE_IDS {
            this.seen.insert(id.to_owned(), id.to_owned());
        }
        this
    }

    pub(crate) fn opaque(&mut self, kind: &'static str, value: &str) -> String {
        if let Some(placeholder) = self.seen.get(value) {
            return placeholder.clone();
        }
        let count = self.counts.entry(kind).or_default();
        *count += 1;
        let placeholder = format!("<{kind}#{count}>");
        self.seen.insert(value.to_owned(), placeholder.clone());
        placeholder
    }

    pub(crate) fn exchange(&mut self, exchange: &Exchange) -> Normalised {
        let label = exchange.label;
        let header_id = exchange.header("x-request-id").expect("x-request-id");
        if let Some(sent) = &exchange.request_id {
            let sane = SANE_IDS.contains(&sent.as_str());
            assert_eq!(header_id == sent, sane, "{label}: request id {header_id}");
        }
        let mut headers: Vec<(String, String)> = exchange
            .headers
            .iter()
            .filter(|(name, _)| name != "date")
            .map(|(name, value)| (name.clone(), self.header(exchange, name, value)))
            .collect();
        // Order within one name is meaningful (Set-Cookie); across names it is not.
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let body = if exchange.body.is_empty() {
            Body::Empty
        } else if label == "metrics" {
            Body::Text(metrics(&exchange.body))
        } else {
            let value = exchange.json();
            if let Some(id) = value.get("request_id") {
                assert_eq!(id.as_str(), Some(header_id), "{label}: ids differ");
            }
            Body::Json(self.json(None, &value))
        };
        Normalised {
            status: exchange.status,
            headers,
            body,
            max_ages: std::mem::take(&mut self.max_ages),
        }
    }

    pub(crate) fn header(&mut self, exchange: &Exchange, name: &str, value: &str) -> String {
        match name {
            "x-request-id" => self.opaque("request-id", value),
            "content-length" => {
                let length: usize = value.parse().expect("a length");
                if exchange.label.starts_with("head ") {
                    assert!(exchange.body.is_empty(), "HEAD has no body");
                } else {
                    assert_eq!(length, exchange.body.len(), "{}", exchange.label);
                }
                "<length>".to_owned()
            }
            "set-cookie" => {
                let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
                let (cookie, content) = pair.split_once('=').expect("name=value");
                let content = if content.is_empty() {
                    String::new()
                } else {
                    self.opaque("cookie", content)
                };
                let (attributes, max_age) = attributes
                    .rsplit_once("; Max-Age=")
                    .expect("cookies carry Max-Age last");
                self.max_ages
                    .push(max_age.parse().expect("Max-Age in seconds"));
                format!("{cookie}={content};{attributes}; Max-Age=<seconds>")
            }
            "location" => {
                let (path, id) = value.rsplit_once('/').expect("a task URL");
                format!("{path}/{}", self.opaque("id", id))
            }
            "etag" if is_version_etag(value) => value.to_owned(),
            "etag" => self.opaque("etag", value),
            "ratelimit" => {
                // `"policy";r=N;t=S`: under GCRA the quota replenishes continuously, so the
                // remaining count and the reset are clock readings; the policy is not.
                let mut parts = value.split(';');
                let policy = parts.next().expect("policy").to_owned();
                for part in parts {
                    let (key, number) = part.split_once('=').expect("key=value");
                    assert!(matches!(key, "r" | "t"), "{value}");
                    assert!(number.parse::<u64>().is_ok(), "{value}");
                }
                format!("{policy};r=<remaining>;t=<seconds>")
            }
            _ => value.to_owned(),
        }
    }

    pub(crate) fn json(&mut self, key: Option<&str>, value: &Value) -> Value {
        match (key, value) {
            (_, Value::Object(map)) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.json(Some(k), v)))
                    .collect(),
            ),
            (_, Value::Array(items)) => {
                Value::Array(items.iter().map(|v| self.json(None, v)).collect())
            }
            (Some(key), Value::String(text)) => Value::String(match key {
                "id" => self.opaque("id", text),
                "request_id" => self.opaque("request-id", text),
                "access_token" | "refresh_token" => self.opaque("token", text),
                "next_cursor" => self.opaque("cursor", text),
                // The CSRF cookie's value, so the same placeholder as the cookie's.
                "csrf_token" => self.opaque("cookie", text),
                "created_at" | "updated_at" | "completed_at" | "access_expires_at" => {
                    assert!(is_timestamp(text), "{key}: {text}");
                    "<timestamp>".to_owned()
                }
                _ => text.clone(),
            }),
            _ => value.clone(),
        }
    }
}

/// `"v12"`: a task version, the same in both runs.
pub(crate) fn is_version_etag(value: &str) -> bool {
    value
        .strip_prefix("\"v")
        .and_then(|v| v.strip_suffix('"'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `2026-11-26T10:00:00.000Z`, the wire format of instants.
pub(crate) fn is_timestamp(text: &str) -> bool {
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    text.len() == shape.len()
        && text.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            _ => c == s,
        })
}

/// The exposition as sorted lines (families are hash maps), latency samples reduced to their
/// labels: how long a request took is the one thing that may differ.
pub(crate) fn metrics(body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).expect("UTF-8 metrics");
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            let timing = line.starts_with("taskflow_http_request_duration_seconds_bucket")
                || line.starts_with("taskflow_http_request_duration_seconds_sum");
            match line.rsplit_once(' ') {
                Some((series, _)) if timing => format!("{series} <sample>"),
                _ => line.to_owned(),
            }
        })
        .collect();
    lines.sort();
    lines
}
