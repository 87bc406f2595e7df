//! Error tracking with Sentry (the `sentry` feature; on when `TASKFLOW_SENTRY_DSN` is set):
//! every 5xx answer is reported by [`ErrorTrackingLayer`], which the connection server puts in
//! front of the guard, with the request id, route, method and status as tags; panics by
//! Sentry's panic integration. Nothing of the request (headers, cookies, bodies, query) is
//! ever attached; a `before_send` hook scrubs request and user data anyway, in case an
//! integration adds some.

use std::borrow::Cow;
use std::str::FromStr;
use std::task::{Context, Poll};

use http::{Request, Response};
use secrecy::{ExposeSecret, SecretString};
use sentry::protocol::Event;
use sentry::types::Dsn;
use taskflow_http::App;
use taskflow_http::headers::X_REQUEST_ID;
use taskflow_http::metrics::method_label;
use tower_service::Service;

/// Keeps error tracking running; dropping it flushes pending events (hold it for the
/// server's lifetime).
pub type Guard = sentry::ClientInitGuard;

/// The DSN is not a Sentry DSN. The message never echoes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("TASKFLOW_SENTRY_DSN is not a valid Sentry DSN")]
pub struct InvalidDsn;

/// Parses the DSN without ever echoing it (it is a secret: it lets anyone post events).
///
/// # Errors
/// [`InvalidDsn`] when it is not a DSN.
pub fn parse_dsn(dsn: &str) -> Result<Dsn, InvalidDsn> {
    Dsn::from_str(dsn.trim()).map_err(|_| InvalidDsn)
}

/// Starts error tracking when there is a DSN (the configuration checked it), reporting as
/// `environment` (the profile: `development` or `production`); `None` (nothing reported)
/// otherwise.
pub fn init(dsn: Option<&SecretString>, environment: &'static str) -> Option<Guard> {
    let dsn = parse_dsn(dsn?.expose_secret()).ok()?;
    Some(sentry::init(options(Some(dsn), environment)))
}

/// The client options: release and environment, no personal data, scrubbed events; the
/// default integrations (the panic one among them) stay on.
pub(crate) fn options(dsn: Option<Dsn>, environment: &'static str) -> sentry::ClientOptions {
    let mut options = sentry::ClientOptions::default();
    options.dsn = dsn;
    options.release = sentry::release_name!();
    options.environment = Some(Cow::Borrowed(environment));
    options.send_default_pii = false;
    options.before_send = Some(std::sync::Arc::new(|event| Some(scrub(event))));
    options
}

/// Drops what could carry credentials or personal data before an event leaves the process.
fn scrub(mut event: Event<'static>) -> Event<'static> {
    event.request = None;
    event.user = None;
    event.breadcrumbs.values.clear();
    event.extra.clear();
    event
}

/// Reports every 5xx answer of the inner service (a no-op without an initialised client),
/// labelled with the route of `app`'s table.
#[derive(Debug, Clone)]
pub struct ErrorTrackingLayer {
    app: App,
}

impl ErrorTrackingLayer {
    /// Reports with the routes of `app`.
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

impl<S> tower_layer::Layer<S> for ErrorTrackingLayer {
    type Service = ErrorTracking<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ErrorTracking {
            inner,
            app: self.app.clone(),
        }
    }
}

/// The service of [`ErrorTrackingLayer`].
#[derive(Debug, Clone)]
pub struct ErrorTracking<S> {
    inner: S,
    app: App,
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for ErrorTracking<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqB>) -> Self::Future {
        let method = method_label(request.method());
        let route = self.app.routes().label_of(request.uri().path());
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            report(&response, method, route);
            Ok(response)
        })
    }
}

/// Reports a 5xx answer (a no-op without an initialised client, and for other statuses).
fn report<B>(response: &Response<B>, method: &'static str, route: &'static str) {
    let status = response.status().as_u16();
    if status < 500 {
        return;
    }
    let request_id = response
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    sentry::with_scope(
        |scope| {
            scope.set_tag("request_id", request_id);
            scope.set_tag("route", route);
            scope.set_tag("method", method);
            scope.set_tag("status", status);
        },
        || {
            sentry::capture_message(
                &format!("HTTP {status} on {method} {route}"),
                sentry::Level::Error,
            )
        },
    );
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::Arc;

    use taskflow_core::testkit::DownStore;
    use taskflow_http::Stores;
    use taskflow_http::endpoints::{self, auth};
    use tower_layer::Layer as _;

    use super::*;
    use crate::config::Config;

    const EMAIL: &str = "tracked@example.com";
    const PASSWORD: &str = "correct horse battery";

    fn app(stores: Stores) -> App {
        let config = Config::from_map(&HashMap::new()).unwrap();
        config.app(stores).unwrap()
    }

    /// The register and login endpoints as a service, as an adapter would run them.
    #[derive(Clone)]
    struct Endpoints(App);

    impl Service<Request<String>> for Endpoints {
        type Response = Response<Vec<u8>>;
        type Error = Infallible;
        type Future =
            std::pin::Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<String>) -> Self::Future {
            let app = self.0.clone();
            Box::pin(async move {
                let peer = SocketAddr::from(([127, 0, 0, 1], 4000));
                let path = request.uri().path().to_owned();
                let ctx = app.request_context(request.method(), &path, request.headers(), peer);
                let body = request.into_body();
                let work = async {
                    match path.as_str() {
                        "/api/v1/auth/register" => {
                            auth::register(&app, &ctx, body.as_bytes()).await
                        }
                        _ => auth::login(&app, &ctx, body.as_bytes()).await,
                    }
                };
                Ok(endpoints::run(&app, &ctx, work).await)
            })
        }
    }

    /// `POST path` with the credentials through the error tracking layer; the status answered.
    fn post(app: &App, path: &str, request_id: &str) -> u16 {
        let body = serde_json::json!({"email": EMAIL, "password": PASSWORD}).to_string();
        let request = Request::post(path)
            .header("content-type", "application/json")
            .header("x-request-id", request_id)
            .body(body)
            .unwrap();
        let mut service = ErrorTrackingLayer::new(app.clone()).layer(Endpoints(app.clone()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let response = runtime.block_on(service.call(request)).unwrap();
        response.status().as_u16()
    }

    fn captured(work: impl FnOnce()) -> Vec<Event<'static>> {
        sentry::test::with_captured_events_options(work, options(None, "production"))
    }

    #[test]
    fn a_5xx_is_reported_once_with_its_request_id_and_no_secret() {
        let mut stores = Stores::memory();
        stores.users = Arc::new(DownStore);
        let app = app(stores);
        let events = captured(|| {
            assert_eq!(post(&app, "/api/v1/auth/register", "req-tracked-1"), 503);
        });
        assert_eq!(events.len(), 1, "{events:?}");
        let event = &events[0];
        let tags = &event.tags;
        assert_eq!(tags["request_id"], "req-tracked-1");
        assert_eq!(tags["route"], "/api/v1/auth/register");
        assert_eq!(tags["method"], "POST");
        assert_eq!(tags["status"], "503");
        assert_eq!(event.environment.as_deref(), Some("production"));
        let text = serde_json::to_string(event).unwrap();
        for secret in [EMAIL, PASSWORD, "hunter2", "db-7"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn a_4xx_is_not_reported() {
        let app = app(Stores::memory());
        let events = captured(|| {
            assert_eq!(post(&app, "/api/v1/auth/login", "req-tracked-2"), 401);
        });
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn panics_are_reported_by_the_default_integrations() {
        let options = sentry::apply_defaults(options(None, "development"));
        assert!(
            options.integrations.iter().any(|i| i.name() == "panic"),
            "the panic integration is on"
        );
        assert!(!options.send_default_pii);
        assert!(options.before_send.is_some());
    }

    #[test]
    fn scrubbing_removes_request_and_user_data() {
        let mut event = Event {
            request: Some(sentry::protocol::Request {
                cookies: Some("taskflow_refresh=secret-token".into()),
                ..Default::default()
            }),
            user: Some(sentry::User {
                email: Some("who@example.com".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.extra.insert("password".into(), "hunter2".into());
        let scrubbed = scrub(event);
        let text = serde_json::to_string(&scrubbed).expect("json");
        for secret in ["secret-token", "who@example.com", "hunter2"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[test]
    fn a_bad_dsn_is_refused_without_echoing_it() {
        let err = parse_dsn("not a dsn with hunter2").expect_err("refused");
        assert!(err.to_string().contains("TASKFLOW_SENTRY_DSN"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(parse_dsn("https://public@o1.ingest.example.com/42").is_ok());
    }
}
