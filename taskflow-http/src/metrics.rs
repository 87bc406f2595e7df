//! Prometheus metrics, recorded in one place ([`crate::endpoints::finish`]) so both adapters
//! export the same names and labels: HTTP requests and latency by route template, method and
//! status; auth events; rate-limit rejections by policy; storage errors by kind; and, read
//! from the store at scrape time, its pool and command latencies, and from the auth service,
//! its session-check cache's hits and misses. Every metric is described
//! in `docs/metrics.md`.
//!
//! Every label value comes from a fixed set, as `&'static str`: nothing a client sends
//! becomes a label (each new value would be a new series, kept for the life of the process),
//! and recording a request allocates nothing. The route is a template or `other`, the
//! method one of the standard methods or `other` ([`method_label`]), the status the server's
//! own answer; events, policies and kinds are the server's names.

mod auth_event;
mod session_cache;
mod storage;

pub use auth_event::AuthEvent;

use std::time::Duration;

use http::Method;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use taskflow_core::error::ErrorCode;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    policy: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// The label (and log field) of a request method: the method itself when it is one of the
/// standard methods (RFC 9110 and `PATCH`), `other` for anything else. Methods are
/// case-sensitive, so `get` is `other` too.
pub fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

/// The application's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    auth_events: Family<EventLabels, Counter>,
    rate_limited: Family<PolicyLabels, Counter>,
    storage_errors: Family<KindLabels, Counter>,
    load_shed: Counter,
    timeouts: Counter,
    connections_refused: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("taskflow");
        let requests = Family::<HttpLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let auth_events = Family::<EventLabels, Counter>::default();
        let rate_limited = Family::<PolicyLabels, Counter>::default();
        let storage_errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template and method",
            latency.clone(),
        );
        registry.register(
            "auth_events",
            "Authentication events (register, login_success, login_failure, refresh_reuse_detected, ...)",
            auth_events.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests rejected by a rate-limit policy",
            rate_limited.clone(),
        );
        registry.register(
            "storage_errors",
            "Failed requests by kind: storage unavailable, or internal (storage or a panic)",
            storage_errors.clone(),
        );
        let load_shed = Counter::default();
        registry.register(
            "load_shed",
            "Requests answered 503 at once because the concurrency limit was reached",
            load_shed.clone(),
        );
        let timeouts = Counter::default();
        registry.register(
            "request_timeouts",
            "Requests abandoned and answered 504 after the request timeout",
            timeouts.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "connections_refused",
            "Connections closed at once because their client address had TASKFLOW_MAX_CONNECTIONS_PER_IP open",
            connections_refused.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            auth_events,
            rate_limited,
            storage_errors,
            load_shed,
            timeouts,
            connections_refused,
        }
    }
}

impl Metrics {
    /// Records one finished request: `route` is its template (or `other`), `method` is
    /// labelled by [`method_label`].
    pub fn observe(&self, route: &'static str, method: &Method, status: u16, elapsed: Duration) {
        let method = method_label(method);
        self.requests
            .get_or_create(&HttpLabels {
                route,
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route, method })
            .observe(elapsed.as_secs_f64());
    }

    /// Records a request that failed in storage (`unavailable`) or internally (`internal`),
    /// by its problem code: a load-shed 503 is not a storage failure.
    pub fn failure(&self, code: ErrorCode) {
        let kind = match code {
            ErrorCode::StorageUnavailable => "unavailable",
            ErrorCode::Internal => "internal",
            _ => return,
        };
        self.storage_errors
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    /// Records a rate-limit rejection.
    pub fn rate_limited(&self, policy: &'static str) {
        self.rate_limited
            .get_or_create(&PolicyLabels { policy })
            .inc();
    }

    /// Records an authentication event.
    pub fn auth_event(&self, event: AuthEvent) {
        self.auth_events
            .get_or_create(&EventLabels {
                event: event.as_str(),
            })
            .inc();
    }

    /// Exports the pool and command metrics of `health`, read from it at every scrape.
    pub fn attach_storage(
        &mut self,
        health: std::sync::Arc<dyn taskflow_core::ports::StorageHealth>,
    ) {
        self.registry
            .register_collector(Box::new(storage::StorageCollector::new(health)));
    }

    /// Exports the session-check cache's hits, misses and evictions of `auth`, read from it
    /// at every scrape.
    pub fn attach_session_cache(&mut self, auth: taskflow_core::service::AuthService) {
        self.registry
            .register_collector(Box::new(session_cache::SessionCacheCollector::new(auth)));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Metrics {
    /// Records a request shed by the concurrency limit.
    pub fn load_shed(&self) {
        self.load_shed.inc();
    }

    /// Records a request abandoned after the request timeout.
    pub fn request_timed_out(&self) {
        self.timeouts.inc();
    }

    /// Records a connection refused by the cap of connections per client address.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_are_labels() {
        for method in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
        ] {
            let parsed = Method::from_bytes(method.as_bytes()).unwrap();
            assert_eq!(method_label(&parsed), method);
        }
        for made_up in ["get", "BREW", "PROPFIND", &"X".repeat(10_000)] {
            let parsed = Method::from_bytes(made_up.as_bytes()).unwrap();
            assert_eq!(method_label(&parsed), "other", "{made_up:.20}");
        }
    }

    #[test]
    fn made_up_methods_share_one_series() {
        let metrics = Metrics::default();
        for n in 0..100 {
            let method = Method::from_bytes(format!("M{n}").as_bytes()).unwrap();
            metrics.observe("other", &method, 404, Duration::from_millis(1));
        }
        let text = metrics.render();
        let series = text
            .lines()
            .filter(|l| l.starts_with("taskflow_http_requests_total{"))
            .collect::<Vec<_>>();
        assert_eq!(
            series,
            [r#"taskflow_http_requests_total{route="other",method="other",status="404"} 100"#]
        );
    }
}
