//! The application: every service and policy an HTTP adapter needs, assembled once by
//! [`AppBuilder`] and shared (cheaply cloned) by all requests.

mod builder;
mod secret;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretSlice, SecretString};
use taskflow_core::Clock;
use taskflow_core::auth::refresh::RefreshTokenKeys;
use taskflow_core::auth::session::SessionPolicy;
use taskflow_core::auth::session_cache::SessionCacheConfig;
use taskflow_core::auth::{
    AccessTokenConfig, AccessTokens, CsrfTokens, KeySet, PasswordHasher, RateLimitConfig,
    RateLimits,
};
use taskflow_core::ports::StorageHealth;
pub use taskflow_core::ports::Stores;
use taskflow_core::query::{CursorCodec, CursorKey};
use taskflow_core::service::{AuthRateLimits, AuthService, AuthStores, TaskService};

pub use builder::{AppBuilder, BuildError};
pub use secret::{MIN_SECRET_BYTES, WeakSecret, check_secret};

use crate::client_ip::TrustedProxies;
use crate::context::RequestContext;
use crate::cookies::CookiePolicy;
use crate::csrf::{AllowedOrigins, CsrfGuard};

/// Keys and token policies.
pub(crate) struct Security {
    /// JWT signing and verification keys.
    pub(crate) jwt_keys: KeySet,
    /// Issuer, audience and lifetime of access tokens.
    pub(crate) access: AccessTokenConfig,
    /// Refresh session lifetimes and reuse grace.
    pub(crate) sessions: SessionPolicy,
    /// How long and how many session checks this instance answers from memory.
    pub(crate) session_cache: SessionCacheConfig,
    /// The password hasher.
    pub(crate) hasher: PasswordHasher,
    /// The deployment secret cursor, CSRF and refresh-token keys are derived from
    /// (domain-separated).
    pub(crate) secret: SecretSlice<u8>,
}

/// HTTP-level settings, set with [`AppBuilder`] and read with [`App::settings`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Cookies with `Secure` and name prefixes.
    pub cookie_secure: bool,
    /// Send `Strict-Transport-Security` (production).
    pub hsts: bool,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// CORS and CSRF origins.
    pub allowed_origins: AllowedOrigins,
    /// Rate-limit quotas.
    pub rate_limits: RateLimitConfig,
    /// Load shedding, the request timeout and the HTTPS rule of the guard
    /// ([`layers`](crate::layers)).
    pub guard: GuardSettings,
    /// Who may read `GET /metrics`.
    pub metrics: MetricsAccess,
    /// Values for whoever serves the app ([`AppBuilder::extension`]).
    pub extensions: http::Extensions,
}

/// How the guard of [`layers`](crate::layers) treats requests. The defaults are those of [`GuardSettings::default`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GuardSettings {
    /// `TASKFLOW_MAX_CONCURRENT_REQUESTS`: requests handled at once; more are answered 503
    /// `overloaded` with `Retry-After: 1` at once, never queued (`/health/live` is exempt).
    /// Default 1024.
    pub max_concurrent_requests: usize,
    /// `TASKFLOW_REQUEST_TIMEOUT_SECS`: longest time a handler may take (body read
    /// included) before the request is answered 504 `timeout`. Default 30 s.
    pub request_timeout: Duration,
    /// The production profile: requests a trusted proxy forwarded over plain HTTP are
    /// redirected or refused (see [`HttpsRuleLayer`](crate::layers::HttpsRuleLayer)). Default off.
    pub require_forwarded_https: bool,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 1024,
            request_timeout: Duration::from_secs(30),
            require_forwarded_https: false,
        }
    }
}

/// Who may read `GET /metrics`; anyone else gets the 404 of an unknown route, so the
/// endpoint is not even seen to exist.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum MetricsAccess {
    /// Anyone (development without `TASKFLOW_METRICS_TOKEN`, and the default when embedding).
    #[default]
    Open,
    /// Only a scraper sending `Authorization: Bearer <token>` (`TASKFLOW_METRICS_TOKEN`).
    Bearer(SecretString),
    /// Nobody (production without `TASKFLOW_METRICS_TOKEN`).
    Hidden,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cookie_secure: true,
            hsts: false,
            body_limit: 64 * 1024,
            trusted_proxies: TrustedProxies::none(),
            allowed_origins: AllowedOrigins::default(),
            rate_limits: RateLimitConfig::default(),
            guard: GuardSettings::default(),
            metrics: MetricsAccess::default(),
            extensions: http::Extensions::new(),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) tasks: TaskService,
    pub(crate) auth: AuthService,
    /// The in-process limits (`refresh-ip`, `api-user`).
    pub(crate) limits: RateLimits,
    /// The auth limits (`auth-ip`, `auth-account`), in storage: deployment-wide.
    pub(crate) auth_limits: AuthRateLimits,
    pub(crate) csrf: CsrfGuard,
    pub(crate) cookies: CookiePolicy,
    pub(crate) settings: Settings,
    pub(crate) health: Arc<dyn StorageHealth>,
    pub(crate) access_ttl_secs: u64,
    pub(crate) metrics: crate::metrics::Metrics,
    pub(crate) routes: crate::routes::Routes,
    /// The host's identity, when the host authenticates users.
    pub(crate) identity: Option<Arc<dyn crate::identity::Identity>>,
    /// The OpenAPI document, rendered on first use.
    pub(crate) openapi: std::sync::OnceLock<Vec<u8>>,
}

/// The assembled application.
#[derive(Clone)]
pub struct App(pub(crate) Arc<Inner>);

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

impl App {
    /// A builder of an app over `stores` (see [`AppBuilder`]).
    pub fn builder(stores: Stores) -> AppBuilder {
        AppBuilder::new(stores)
    }

    /// Assembles the services over `stores`.
    pub(crate) fn new(
        stores: Stores,
        security: Security,
        settings: Settings,
        clock: Arc<dyn Clock>,
        routes: crate::routes::Routes,
        identity: Option<Arc<dyn crate::identity::Identity>>,
    ) -> Self {
        let secret = security.secret.expose_secret();
        let cursors = CursorCodec::new(CursorKey::derive(secret));
        let tasks = TaskService::new(stores.tasks.clone(), clock.clone(), cursors);
        let auth_limits = AuthRateLimits::new(
            settings.rate_limits,
            stores.rate_limits.clone(),
            clock.clone(),
        );
        let access_ttl_secs = security.access.ttl.as_secs();
        let tokens = AccessTokens::new(security.jwt_keys, security.access);
        let auth_stores = AuthStores {
            users: stores.users.clone(),
            sessions: stores.sessions.clone(),
            throttle: stores.throttle.clone(),
        };
        let auth = AuthService::new(
            auth_stores,
            security.hasher,
            tokens,
            CsrfTokens::new(secret),
            RefreshTokenKeys::derive(secret),
            clock,
        )
        .with_session_policy(security.sessions)
        .with_session_cache(security.session_cache);
        let csrf = CsrfGuard::new(CsrfTokens::new(secret), settings.allowed_origins.clone());
        let mut metrics = crate::metrics::Metrics::default();
        metrics.attach_storage(stores.health.clone());
        metrics.attach_session_cache(auth.clone());
        Self(Arc::new(Inner {
            tasks,
            auth,
            limits: RateLimits::new(settings.rate_limits),
            auth_limits,
            csrf,
            cookies: CookiePolicy::new(settings.cookie_secure).with_refresh_path(
                crate::routes::intern(&format!("{}/auth", routes.public_base())),
            ),
            health: stores.health,
            access_ttl_secs,
            settings,
            metrics,
            routes,
            identity,
            openapi: std::sync::OnceLock::new(),
        }))
    }

    /// The HTTP settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// What the endpoints know of a request for `path` (as the adapter sees it, after any
    /// mount prefix) received from `peer`: its route, request id, client address (behind the
    /// trusted proxies) and tracing span.
    pub fn request_context(
        &self,
        method: &http::Method,
        path: &str,
        headers: &http::HeaderMap,
        peer: std::net::SocketAddr,
    ) -> RequestContext {
        let template = self.routes().find(path).map(|(template, _)| template);
        let proxies = &self.settings().trusted_proxies;
        RequestContext::read(
            self.routes(),
            proxies,
            method,
            template,
            headers.clone(),
            peer,
        )
    }

    /// A value attached with [`AppBuilder::extension`].
    pub fn extension<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.settings.extensions.get::<T>()
    }

    /// The route table: the base path, the mount prefix and the routes served.
    pub fn routes(&self) -> &crate::routes::Routes {
        &self.0.routes
    }

    /// The metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
    }

    /// The task service (for embedding beside the HTTP API).
    pub fn tasks(&self) -> &TaskService {
        &self.0.tasks
    }

    /// The auth service.
    pub fn auth(&self) -> &AuthService {
        &self.0.auth
    }

    /// Releases the storage connections (at shutdown, after the last request).
    pub async fn close(&self) {
        self.0.health.close().await;
    }
}
