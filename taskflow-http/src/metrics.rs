//! Prometheus metrics, recorded in one place ([`crate::endpoints::finish`]) so both adapters
//! export the same names and labels: HTTP requests and latency by route template, method and
//! status; auth outcomes; rate-limit rejections by policy; storage errors by kind.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    action: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    policy: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
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
    auth: Family<OutcomeLabels, Counter>,
    rate_limited: Family<PolicyLabels, Counter>,
    storage_errors: Family<KindLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    load_shed: Counter,
    timeouts: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
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
        let auth = Family::<OutcomeLabels, Counter>::default();
        let rate_limited = Family::<PolicyLabels, Counter>::default();
        let storage_errors = Family::<KindLabels, Counter>::default();
        let pool = Family::<PoolLabels, Gauge>::default();
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
            "auth_outcomes",
            "Authentication outcomes by action",
            auth.clone(),
        );
        registry.register(
            "rate_limited",
            "Requests rejected by a rate-limit policy",
            rate_limited.clone(),
        );
        registry.register(
            "storage_errors",
            "Storage failures by kind (unavailable, internal)",
            storage_errors.clone(),
        );
        registry.register(
            "storage_pool_connections",
            "Storage connection pool: open and checked_out connections, checkout_failures since start",
            pool.clone(),
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
        Self {
            registry,
            requests,
            latency,
            auth,
            rate_limited,
            storage_errors,
            pool,
            load_shed,
            timeouts,
        }
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, route: &'static str, method: &str, status: u16, elapsed: Duration) {
        let method = method.to_owned();
        self.requests
            .get_or_create(&HttpLabels {
                route,
                method: method.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route, method })
            .observe(elapsed.as_secs_f64());
        if let Some((action, outcome)) = auth_outcome(route, status) {
            self.auth
                .get_or_create(&OutcomeLabels { action, outcome })
                .inc();
        }
        match status {
            503 => self
                .storage_errors
                .get_or_create(&KindLabels {
                    kind: "unavailable",
                })
                .inc(),
            500 => self
                .storage_errors
                .get_or_create(&KindLabels { kind: "internal" })
                .inc(),
            _ => 0,
        };
    }

    /// Records a rate-limit rejection.
    pub fn rate_limited(&self, policy: &'static str) {
        self.rate_limited
            .get_or_create(&PolicyLabels { policy })
            .inc();
    }

    /// The Prometheus text exposition, with the pool gauges read from `pool` now.
    pub fn render(&self, pool: Option<taskflow_core::ports::PoolStats>) -> String {
        if let Some(stats) = pool {
            for (state, value) in [
                ("open", stats.open),
                ("checked_out", stats.checked_out),
                ("checkout_failures", stats.checkout_failures),
            ] {
                self.pool
                    .get_or_create(&PoolLabels { state })
                    .set(i64::try_from(value).unwrap_or(i64::MAX));
            }
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The auth outcome a response stands for, if it answers an auth action.
fn auth_outcome(route: &'static str, status: u16) -> Option<(&'static str, &'static str)> {
    let action = route.strip_prefix("/api/v1/auth/")?;
    let action = match action {
        "register" => "register",
        "login" => "login",
        "token" => "token",
        "refresh" => "refresh",
        "logout" => "logout",
        "logout-all" => "logout_all",
        _ => return None,
    };
    let outcome = match status {
        200..=299 => "success",
        401 => "rejected",
        403 => "csrf_failed",
        409 => "conflict",
        429 => "throttled",
        400 | 413 | 415 | 422 => "invalid",
        _ => "error",
    };
    Some((action, outcome))
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
}
