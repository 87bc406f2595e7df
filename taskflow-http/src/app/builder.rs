//! [`AppBuilder`]: how an [`App`] is made, by an embedder or from the server's configuration.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretSlice};
use taskflow_core::auth::session::SessionPolicy;
use taskflow_core::auth::session_cache::SessionCacheConfig;
use taskflow_core::auth::{
    AccessTokenConfig, Argon2Params, JwtKey, KeyError, KeySet, PasswordConfigError, PasswordHasher,
    RateLimitConfig,
};
use taskflow_core::ports::Stores;
use taskflow_core::{Clock, SystemClock};

use super::{App, GuardSettings, MetricsAccess, Settings, WeakSecret, check_secret};
use crate::client_ip::TrustedProxies;
use crate::csrf::AllowedOrigins;
use crate::identity::Identity;
use crate::routes::{Access, DEFAULT_BASE_PATH, PathError, Routes, check_prefix};

/// Why an [`App`] cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No deployment secret was given.
    #[error(
        "no deployment secret: call AppBuilder::secret (or AppBuilder::ephemeral_secret where \
         sessions may end on restart and nothing is shared between instances)"
    )]
    MissingSecret,
    /// The deployment secret could be guessed.
    #[error("the deployment secret {0}")]
    WeakSecret(#[from] WeakSecret),
    /// The secret cannot key HS256 (a JWT key set was not given).
    #[error("the deployment secret cannot be used as an HS256 key: {0}")]
    JwtKey(#[from] KeyError),
    /// The default password hasher could not be set up.
    #[error("invalid password hashing parameters: {0}")]
    PasswordHasher(#[from] PasswordConfigError),
    /// The base path or the mount prefix is not a path prefix.
    #[error("base path or mount prefix: {0}")]
    Path(#[from] PathError),
}

/// Where the deployment secret comes from.
enum Secret {
    Unset,
    Given(SecretSlice<u8>),
}

/// Builds an [`App`] over storage: [`App::builder`], the setters, then [`build`](Self::build).
/// Only the deployment secret is required; everything else has the contract's defaults.
#[must_use = "an AppBuilder does nothing until built"]
pub struct AppBuilder {
    stores: Stores,
    secret: Secret,
    jwt_keys: Option<KeySet>,
    access: AccessTokenConfig,
    sessions: SessionPolicy,
    session_cache: SessionCacheConfig,
    hasher: Option<PasswordHasher>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    base_path: String,
    mount_prefix: String,
    identity: Option<Arc<dyn Identity>>,
    auth_endpoints: Option<bool>,
}

impl std::fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppBuilder {
    pub(super) fn new(stores: Stores) -> Self {
        Self {
            stores,
            secret: Secret::Unset,
            jwt_keys: None,
            access: AccessTokenConfig::default(),
            sessions: SessionPolicy::default(),
            session_cache: SessionCacheConfig::default(),
            hasher: None,
            clock: Arc::new(SystemClock),
            settings: Settings::default(),
            base_path: DEFAULT_BASE_PATH.to_owned(),
            mount_prefix: String::new(),
            identity: None,
            auth_endpoints: None,
        }
    }

    /// Who makes each request is the host's to say: the task endpoints work for the user
    /// `identity` names, and TaskFlow's own auth endpoints are not mounted (see
    /// [`identity`](crate::identity) for what else changes, CSRF among it).
    pub fn host_identity(mut self, identity: impl Identity) -> Self {
        self.identity = Some(Arc::new(identity));
        self
    }

    /// Whether TaskFlow's own auth endpoints (`/auth/...`: register, login, tokens, sessions)
    /// are mounted. Default: yes, unless [`host_identity`](Self::host_identity) is set.
    pub fn auth_endpoints(mut self, mounted: bool) -> Self {
        self.auth_endpoints = Some(mounted);
        self
    }

    /// The path the API's routes are under (default `/api/v1`), relative to where the router
    /// is mounted: `/segment[/segment...]`, or empty for none. The operations endpoints
    /// (`/health/live`, `/health/ready`, `/metrics`) are not under it.
    pub fn base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// The prefix a host mounts TaskFlow's router under (axum's `nest("/tasks-app", ...)`, warp's
    /// `warp::path("tasks-app").and(routes)`), default none. The adapters route on the path
    /// the host leaves them, so routing ignores it; what clients are told follows it: the
    /// refresh cookie's `Path` (`/tasks-app/api/v1/auth`), `Location` headers
    /// (`/tasks-app/api/v1/tasks/{id}`) and the OpenAPI document's `servers`.
    pub fn mount_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.mount_prefix = prefix.into();
        self
    }

    /// The deployment secret: at least 32 bytes that cannot be guessed from their shape (see
    /// [`check_secret`]). Cursors, CSRF tokens and refresh tokens are keyed from it
    /// (domain-separated), and, unless [`jwt_keys`](Self::jwt_keys) says otherwise, access
    /// tokens are signed with it (HS256). Every instance of a deployment needs the same one.
    pub fn secret(mut self, secret: impl Into<SecretSlice<u8>>) -> Self {
        self.secret = Secret::Given(secret.into());
        self
    }

    /// A random deployment secret from the operating system's CSPRNG, new at every start: every
    /// session ends on restart and no other instance can verify this one's tokens. For tests,
    /// examples and single-instance development.
    pub fn ephemeral_secret(self) -> Self {
        let random = taskflow_core::domain::ids::random_bytes::<32>().to_vec();
        self.secret(random)
    }

    /// The keys access tokens are signed and verified with, instead of HS256 over the
    /// deployment secret (key rotation, asymmetric keys).
    pub fn jwt_keys(mut self, keys: KeySet) -> Self {
        self.jwt_keys = Some(keys);
        self
    }

    /// Issuer, audience and lifetime of access tokens (default: `taskflow`, `taskflow-api`,
    /// 15 minutes).
    pub fn access_tokens(mut self, access: AccessTokenConfig) -> Self {
        self.access = access;
        self
    }

    /// The lifetime of access tokens (default 15 minutes).
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access.ttl = ttl;
        self
    }

    /// Session lifetimes and the refresh-token reuse grace window.
    pub fn session_policy(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// How long, and for how many sessions, this instance may answer a session check from
    /// memory (default: 1 s, the contract's bound on how late another instance may see a
    /// revocation; [`SessionCacheConfig::disabled`] checks storage on every request).
    pub fn session_cache(mut self, cache: SessionCacheConfig) -> Self {
        self.session_cache = cache;
        self
    }

    /// The password hasher (default: argon2id with the default parameters, on one thread
    /// fewer than the machine has).
    pub fn password_hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// The clock the services read (default: the system clock); tests move a
    /// [`ManualClock`](taskflow_core::ManualClock) instead of sleeping.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Cookies with `Secure` and the `__Host-`/`__Secure-` prefixes (default), or without
    /// (plain-http development only).
    pub fn cookie_secure(mut self, secure: bool) -> Self {
        self.settings.cookie_secure = secure;
        self
    }

    /// Send `Strict-Transport-Security` on every response (production).
    pub fn hsts(mut self, hsts: bool) -> Self {
        self.settings.hsts = hsts;
        self
    }

    /// The largest request body accepted, in bytes (default 64 KiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// The proxies whose `X-Forwarded-For` is believed (default none).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.settings.trusted_proxies = proxies;
        self
    }

    /// The browser origins allowed by CORS and the CSRF check (default none).
    pub fn allowed_origins(mut self, origins: AllowedOrigins) -> Self {
        self.settings.allowed_origins = origins;
        self
    }

    /// The rate-limit quotas.
    pub fn rate_limits(mut self, limits: RateLimitConfig) -> Self {
        self.settings.rate_limits = limits;
        self
    }

    /// Who may read `GET /metrics` (default: anyone).
    pub fn metrics_access(mut self, access: MetricsAccess) -> Self {
        self.settings.metrics = access;
        self
    }

    /// Load shedding, the request timeout and the HTTPS rule of
    /// [`layers::guard`](crate::layers::guard).
    pub fn guard(mut self, guard: GuardSettings) -> Self {
        self.settings.guard = guard;
        self
    }

    /// Attaches a value for whoever serves the app to find with [`App::extension`] (the
    /// connection settings of `taskflow-server`, say).
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.settings.extensions.insert(value);
        self
    }

    /// Assembles the services and policies.
    ///
    /// # Errors
    /// [`BuildError`] when the secret is missing or weak, or the keys or the password hasher
    /// cannot be set up.
    pub fn build(self) -> Result<App, BuildError> {
        let Secret::Given(secret) = self.secret else {
            return Err(BuildError::MissingSecret);
        };
        check_prefix(&self.base_path)?;
        check_prefix(&self.mount_prefix)?;
        let auth_endpoints = self.auth_endpoints.unwrap_or(self.identity.is_none());
        let routes = Routes::new(&self.base_path, &self.mount_prefix, |route| {
            auth_endpoints || route.access != Access::TaskFlowAuth
        });
        check_secret(secret.expose_secret())?;
        let jwt_keys = if let Some(keys) = self.jwt_keys {
            keys
        } else {
            let key = JwtKey::hs256("primary", secret.expose_secret())?;
            KeySet::new(key, Vec::new())?
        };
        let hasher = match self.hasher {
            Some(hasher) => hasher,
            None => PasswordHasher::new(
                Argon2Params::default(),
                PasswordHasher::default_concurrency(),
            )?,
        };
        let security = super::Security {
            jwt_keys,
            access: self.access,
            sessions: self.sessions,
            session_cache: self.session_cache,
            hasher,
            secret,
        };
        Ok(App::new(
            self.stores,
            security,
            self.settings,
            self.clock,
            routes,
            self.identity,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_required_and_held_to_the_strength_rules() {
        let missing = App::builder(Stores::memory()).build();
        assert!(matches!(missing, Err(BuildError::MissingSecret)));
        for weak in [
            &b"short"[..],
            b"changeme-changeme-changeme-changeme",
            &[b'x'; 40],
        ] {
            let built = App::builder(Stores::memory()).secret(weak.to_vec()).build();
            assert!(matches!(built, Err(BuildError::WeakSecret(_))), "{weak:?}");
        }
        let strong = b"Zq2vN4xR7pL1mW9tY3bH6cF0dS5gJeQk8".to_vec();
        assert!(
            App::builder(Stores::memory())
                .secret(strong)
                .build()
                .is_ok()
        );
        assert!(
            App::builder(Stores::memory())
                .ephemeral_secret()
                .build()
                .is_ok()
        );
    }

    #[test]
    fn base_paths_and_mount_prefixes_are_checked_and_followed() {
        let build = |base: &str, mount: &str| {
            App::builder(Stores::memory())
                .ephemeral_secret()
                .base_path(base)
                .mount_prefix(mount)
                .build()
        };
        for (base, mount) in [("/v2/", ""), ("v2", ""), ("/v2", "/x/"), ("/a b", "")] {
            assert!(
                matches!(build(base, mount), Err(BuildError::Path(_))),
                "{base} {mount}"
            );
        }
        let app = build("/v2", "/tasks-app").unwrap();
        assert_eq!(app.routes().base_path(), "/v2");
        assert_eq!(app.routes().public_base(), "/tasks-app/v2");
        let refresh = app
            .0
            .cookies
            .set(crate::cookies::CookieKind::Refresh, "r", 1);
        assert!(refresh.contains("; Path=/tasks-app/v2/auth;"), "{refresh}");
        let default = build(DEFAULT_BASE_PATH, "").unwrap();
        let refresh = default
            .0
            .cookies
            .set(crate::cookies::CookieKind::Refresh, "r", 1);
        assert!(refresh.contains("; Path=/api/v1/auth;"), "{refresh}");
    }

    #[test]
    fn settings_and_extensions_reach_the_app() {
        #[derive(Debug, Clone, PartialEq)]
        struct Marker(u8);
        let app = App::builder(Stores::memory())
            .ephemeral_secret()
            .body_limit(1234)
            .cookie_secure(false)
            .extension(Marker(7))
            .build()
            .unwrap();
        assert_eq!(app.settings().body_limit, 1234);
        assert!(!app.settings().cookie_secure);
        assert_eq!(app.extension::<Marker>(), Some(&Marker(7)));
        assert_eq!(app.extension::<u64>(), None);
    }
}
