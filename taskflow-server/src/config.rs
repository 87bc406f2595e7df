//! The server configuration of the contract, read from the environment, `.env` and
//! `.env.<profile>` (the real environment wins over `.env.<profile>`, which wins over `.env`),
//! validated once at start-up with one clear message per problem.
//!
//! HTTPS: the production profile refuses to start unless the server terminates TLS itself
//! (`TASKFLOW_TLS_CERT` and `TASKFLOW_TLS_KEY`) or sits behind TLS-terminating proxies listed
//! in `TASKFLOW_TRUSTED_PROXIES`. Behind such a proxy, in production, a request the proxy
//! forwarded with `X-Forwarded-Proto: http` is redirected (308 to the `https://` URL, `GET`
//! and `HEAD`) or refused (403 `https_required`, other methods); `/health/*` is exempt. See
//! [`taskflow_http::layers`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretSlice, SecretString};
use taskflow_core::auth::session::SessionPolicy;
use taskflow_core::auth::session_cache::SessionCacheConfig;
use taskflow_core::auth::{KeySet, RateLimitConfig};
use taskflow_core::domain::ids::random_bytes;
use taskflow_core::{Clock, SystemClock};
use taskflow_http::client_ip::TrustedProxies;
use taskflow_http::csrf::AllowedOrigins;
use taskflow_http::layers::GuardSettings;
use taskflow_http::{App, AppBuilder, MetricsAccess, Stores};

use crate::serve::{Tls, Transport};

/// `development` or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Local work: random JWT secret allowed, plain-http cookies allowed.
    Development,
    /// Deployed: strict checks, HSTS.
    Production,
}

impl Profile {
    /// `development` or `production`, as `TASKFLOW_PROFILE` names it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

/// Why the configuration cannot be used; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    /// A configuration error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The typed configuration (secrets never appear in `Debug`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// `TASKFLOW_PROFILE`.
    pub profile: Profile,
    /// `TASKFLOW_BIND`.
    pub bind: SocketAddr,
    /// `TASKFLOW_MONGODB_URI`; `None` is the embedded in-memory store.
    pub mongodb_uri: Option<SecretString>,
    /// `TASKFLOW_MONGODB_DB`.
    pub mongodb_db: String,
    /// `TASKFLOW_JWT_SECRET` (at least 32 bytes); random per start in development when unset.
    pub jwt_secret: SecretSlice<u8>,
    /// `TASKFLOW_ALLOWED_ORIGINS`.
    pub allowed_origins: AllowedOrigins,
    /// `TASKFLOW_COOKIE_SECURE`.
    pub cookie_secure: bool,
    /// `TASKFLOW_ACCESS_TTL_SECS`.
    pub access_ttl: Duration,
    /// `TASKFLOW_REFRESH_TTL_SECS`.
    pub refresh_ttl: Duration,
    /// `TASKFLOW_REFRESH_REUSE_GRACE_SECS` (0..=60, default 10; 0 disables the grace window).
    pub refresh_reuse_grace: Duration,
    /// `TASKFLOW_SESSION_CACHE_MS` (0..=1000, default 1000): how long an instance may answer a
    /// session check from memory, so how late another instance's revocation may reach it;
    /// 0 checks storage on every request.
    pub session_cache: SessionCacheConfig,
    /// `TASKFLOW_AUTH_RATE_PER_MIN` / `TASKFLOW_API_RATE_PER_MIN` /
    /// `TASKFLOW_REFRESH_RATE_PER_MIN`.
    pub rate_limits: RateLimitConfig,
    /// `TASKFLOW_BODY_LIMIT_BYTES`.
    pub body_limit: usize,
    /// `TASKFLOW_TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
    /// `TASKFLOW_METRICS_TOKEN`: the bearer token a scraper must present for `/metrics`. In
    /// production `/metrics` answers 404 without it (and when it is unset); in development it
    /// is open unless this is set.
    pub metrics_token: Option<SecretString>,
    /// `TASKFLOW_SENTRY_DSN`: where 5xx answers and panics are reported (the `sentry`
    /// feature); `None` reports nothing.
    pub sentry_dsn: Option<SecretString>,
    /// The shared server's settings, each documented with its variable and default:
    /// `TASKFLOW_TLS_CERT` / `TASKFLOW_TLS_KEY`, `TASKFLOW_TLS_HANDSHAKE_TIMEOUT_SECS`,
    /// `TASKFLOW_HEADER_READ_TIMEOUT_SECS`, `TASKFLOW_BODY_READ_TIMEOUT_SECS`,
    /// `TASKFLOW_KEEP_ALIVE_TIMEOUT_SECS`, `TASKFLOW_MAX_REQUESTS_PER_CONNECTION`,
    /// `TASKFLOW_MAX_CONNECTIONS_PER_IP`, `TASKFLOW_DRAIN_TIMEOUT_SECS`.
    pub transport: Transport,
    /// The guard's settings, each documented with its variable and default:
    /// `TASKFLOW_MAX_CONCURRENT_REQUESTS`, `TASKFLOW_REQUEST_TIMEOUT_SECS`.
    pub guard: GuardSettings,
}

/// Every variable the configuration reads (the example `.env` files list each one).
pub const VARIABLES: [&str; 29] = [
    "TASKFLOW_PROFILE",
    "TASKFLOW_BIND",
    "TASKFLOW_MONGODB_URI",
    "TASKFLOW_MONGODB_DB",
    "TASKFLOW_JWT_SECRET",
    "TASKFLOW_ALLOWED_ORIGINS",
    "TASKFLOW_COOKIE_SECURE",
    "TASKFLOW_ACCESS_TTL_SECS",
    "TASKFLOW_REFRESH_TTL_SECS",
    "TASKFLOW_REFRESH_REUSE_GRACE_SECS",
    "TASKFLOW_SESSION_CACHE_MS",
    "TASKFLOW_AUTH_RATE_PER_MIN",
    "TASKFLOW_API_RATE_PER_MIN",
    "TASKFLOW_REFRESH_RATE_PER_MIN",
    "TASKFLOW_BODY_LIMIT_BYTES",
    "TASKFLOW_TRUSTED_PROXIES",
    "TASKFLOW_TLS_CERT",
    "TASKFLOW_TLS_KEY",
    "TASKFLOW_TLS_HANDSHAKE_TIMEOUT_SECS",
    "TASKFLOW_HEADER_READ_TIMEOUT_SECS",
    "TASKFLOW_BODY_READ_TIMEOUT_SECS",
    "TASKFLOW_KEEP_ALIVE_TIMEOUT_SECS",
    "TASKFLOW_MAX_REQUESTS_PER_CONNECTION",
    "TASKFLOW_MAX_CONNECTIONS_PER_IP",
    "TASKFLOW_MAX_CONCURRENT_REQUESTS",
    "TASKFLOW_REQUEST_TIMEOUT_SECS",
    "TASKFLOW_DRAIN_TIMEOUT_SECS",
    "TASKFLOW_METRICS_TOKEN",
    "TASKFLOW_SENTRY_DSN",
];

impl Config {
    /// Reads the process environment and the `.env` files of the working directory.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let real: HashMap<String, String> = std::env::vars().collect();
        let base = read_env_file(".env");
        let profile_name = real
            .get("TASKFLOW_PROFILE")
            .or_else(|| base.get("TASKFLOW_PROFILE"))
            .cloned()
            .unwrap_or_else(|| "development".to_owned());
        let mut merged = base;
        merged.extend(read_env_file(&format!(".env.{profile_name}")));
        merged.extend(real);
        Self::from_map(&merged)
    }

    /// Builds the configuration from variables (for tests and embedding).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first bad variable.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let var = |name: &str| {
            vars.get(name)
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty())
        };
        let profile = match var("TASKFLOW_PROFILE").unwrap_or("development") {
            "development" => Profile::Development,
            "production" => Profile::Production,
            other => return Err(bad("TASKFLOW_PROFILE", other, "development or production")),
        };
        let production = profile == Profile::Production;
        let cookie_secure = parse(
            var("TASKFLOW_COOKIE_SECURE"),
            "TASKFLOW_COOKIE_SECURE",
            true,
        )?;
        if production && !cookie_secure {
            return Err(ConfigError(
                "TASKFLOW_COOKIE_SECURE=false is refused in production".into(),
            ));
        }
        let origins = var("TASKFLOW_ALLOWED_ORIGINS").unwrap_or("");
        let allowed_origins = AllowedOrigins::parse(origins)
            .map_err(|e| ConfigError(format!("TASKFLOW_ALLOWED_ORIGINS: {e}")))?;
        let jwt_secret = jwt_secret(var("TASKFLOW_JWT_SECRET"), production)?;
        let metrics_token = metrics_token(var("TASKFLOW_METRICS_TOKEN"), production)?;
        let sentry_dsn = sentry_dsn(var("TASKFLOW_SENTRY_DSN"))?;
        let rate = |name: &str, default: u32| -> Result<NonZeroU32, ConfigError> {
            let n: u32 = parse(var(name), name, default)?;
            NonZeroU32::new(n).ok_or_else(|| bad(name, "0", "a positive integer"))
        };
        let trusted_proxies = TrustedProxies::parse(var("TASKFLOW_TRUSTED_PROXIES").unwrap_or(""))
            .map_err(|e| ConfigError(format!("TASKFLOW_TRUSTED_PROXIES: {e}")))?;
        if production {
            production_rules(&allowed_origins, &trusted_proxies)?;
        }
        let (transport, guard) = transport(&var)?;
        if production && transport.tls.is_none() && trusted_proxies.is_empty() {
            return Err(ConfigError(
                "production needs HTTPS: set TASKFLOW_TLS_CERT and TASKFLOW_TLS_KEY, or list the \
                 TLS-terminating proxies in TASKFLOW_TRUSTED_PROXIES"
                    .into(),
            ));
        }
        Ok(Self {
            profile,
            bind: parse(
                var("TASKFLOW_BIND"),
                "TASKFLOW_BIND",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            mongodb_uri: var("TASKFLOW_MONGODB_URI").map(|u| SecretString::from(u.to_owned())),
            mongodb_db: var("TASKFLOW_MONGODB_DB").unwrap_or("taskflow").to_owned(),
            jwt_secret,
            allowed_origins,
            cookie_secure,
            access_ttl: Duration::from_secs(parse(
                var("TASKFLOW_ACCESS_TTL_SECS"),
                "TASKFLOW_ACCESS_TTL_SECS",
                900,
            )?),
            refresh_ttl: Duration::from_secs(parse(
                var("TASKFLOW_REFRESH_TTL_SECS"),
                "TASKFLOW_REFRESH_TTL_SECS",
                1_209_600,
            )?),
            refresh_reuse_grace: reuse_grace(var("TASKFLOW_REFRESH_REUSE_GRACE_SECS"))?,
            session_cache: session_cache(var("TASKFLOW_SESSION_CACHE_MS"))?,
            rate_limits: RateLimitConfig {
                auth_per_minute: rate("TASKFLOW_AUTH_RATE_PER_MIN", 10)?,
                api_per_minute: rate("TASKFLOW_API_RATE_PER_MIN", 600)?,
                refresh_per_minute: rate("TASKFLOW_REFRESH_RATE_PER_MIN", 600)?,
            },
            body_limit: parse(
                var("TASKFLOW_BODY_LIMIT_BYTES"),
                "TASKFLOW_BODY_LIMIT_BYTES",
                65_536,
            )?,
            trusted_proxies,
            metrics_token,
            sentry_dsn,
            transport,
            guard,
        })
    }
}

/// The shared server's and the guard's settings (defaults: [`Transport::default`],
/// [`GuardSettings::default`]).
fn transport<'a>(
    var: &impl Fn(&str) -> Option<&'a str>,
) -> Result<(Transport, GuardSettings), ConfigError> {
    let defaults = Transport::default();
    let guard = GuardSettings::default();
    let secs = |name: &str, default: Duration| -> Result<Duration, ConfigError> {
        let n: u64 = parse(var(name), name, default.as_secs())?;
        if n == 0 {
            return Err(bad(name, "0", "a positive number of seconds"));
        }
        Ok(Duration::from_secs(n))
    };
    let max_connections_per_ip: usize = parse(
        var("TASKFLOW_MAX_CONNECTIONS_PER_IP"),
        "TASKFLOW_MAX_CONNECTIONS_PER_IP",
        defaults.max_connections_per_ip,
    )?;
    if max_connections_per_ip == 0 {
        return Err(bad(
            "TASKFLOW_MAX_CONNECTIONS_PER_IP",
            "0",
            "a positive integer",
        ));
    }
    let max_concurrent_requests: usize = parse(
        var("TASKFLOW_MAX_CONCURRENT_REQUESTS"),
        "TASKFLOW_MAX_CONCURRENT_REQUESTS",
        guard.max_concurrent_requests,
    )?;
    if max_concurrent_requests == 0 {
        return Err(bad(
            "TASKFLOW_MAX_CONCURRENT_REQUESTS",
            "0",
            "a positive integer",
        ));
    }
    let tls = match (var("TASKFLOW_TLS_CERT"), var("TASKFLOW_TLS_KEY")) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(
            Tls::from_pem_files(Path::new(cert), Path::new(key))
                .map_err(|e| ConfigError(format!("TASKFLOW_TLS_CERT/TASKFLOW_TLS_KEY: {e}")))?,
        ),
        _ => {
            return Err(ConfigError(
                "TASKFLOW_TLS_CERT and TASKFLOW_TLS_KEY must be set together".into(),
            ));
        }
    };
    let mut guard = guard;
    guard.max_concurrent_requests = max_concurrent_requests;
    guard.request_timeout = secs("TASKFLOW_REQUEST_TIMEOUT_SECS", guard.request_timeout)?;
    let transport = Transport {
        tls,
        tls_handshake_timeout: secs(
            "TASKFLOW_TLS_HANDSHAKE_TIMEOUT_SECS",
            defaults.tls_handshake_timeout,
        )?,
        header_read_timeout: secs(
            "TASKFLOW_HEADER_READ_TIMEOUT_SECS",
            defaults.header_read_timeout,
        )?,
        body_read_timeout: secs(
            "TASKFLOW_BODY_READ_TIMEOUT_SECS",
            defaults.body_read_timeout,
        )?,
        keep_alive_timeout: secs(
            "TASKFLOW_KEEP_ALIVE_TIMEOUT_SECS",
            defaults.keep_alive_timeout,
        )?,
        max_requests_per_connection: parse(
            var("TASKFLOW_MAX_REQUESTS_PER_CONNECTION"),
            "TASKFLOW_MAX_REQUESTS_PER_CONNECTION",
            defaults.max_requests_per_connection,
        )?,
        max_connections_per_ip,
        drain_timeout: secs("TASKFLOW_DRAIN_TIMEOUT_SECS", defaults.drain_timeout)?,
    };
    Ok((transport, guard))
}

/// The refresh-token reuse grace window: long enough for a double submit, too short to be a
/// thief's window.
fn reuse_grace(value: Option<&str>) -> Result<Duration, ConfigError> {
    const NAME: &str = "TASKFLOW_REFRESH_REUSE_GRACE_SECS";
    let secs: u64 = parse(value, NAME, 10)?;
    if secs > 60 {
        return Err(bad(NAME, &secs.to_string(), "0..=60 seconds"));
    }
    Ok(Duration::from_secs(secs))
}

/// How long a session check may be cached per instance: at most one second (the contract's
/// bound on how late a revocation may reach another instance).
fn session_cache(value: Option<&str>) -> Result<SessionCacheConfig, ConfigError> {
    const NAME: &str = "TASKFLOW_SESSION_CACHE_MS";
    let millis: u64 = parse(value, NAME, 1000)?;
    SessionCacheConfig::new(Duration::from_millis(millis))
        .map_err(|_| bad(NAME, &millis.to_string(), "0..=1000 milliseconds"))
}

fn read_env_file(path: &str) -> HashMap<String, String> {
    dotenvy::from_filename_iter(path)
        .map(|iter| iter.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

fn bad(name: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError(format!("{name}={value:?} is invalid: expected {expected}"))
}

fn parse<T: std::str::FromStr>(
    value: Option<&str>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    value.map_or(Ok(default), |v| {
        v.trim()
            .parse()
            .map_err(|_| bad(name, v, std::any::type_name::<T>()))
    })
}

/// Checks that the secret in `name` cannot be guessed from its shape (see
/// [`check_secret`](taskflow_http::app::check_secret)). The message names the variable and
/// never echoes the value.
fn check_secret(name: &str, secret: &str) -> Result<(), ConfigError> {
    taskflow_http::app::check_secret(secret.as_bytes())
        .map_err(|why| ConfigError(format!("{name} {why}")))
}

/// The signing secret: checked (in every profile: a secret the configuration accepts is never
/// guessable), required in production, random per start in development when unset.
fn jwt_secret(value: Option<&str>, production: bool) -> Result<SecretSlice<u8>, ConfigError> {
    match value {
        Some(secret) => {
            check_secret("TASKFLOW_JWT_SECRET", secret)?;
            Ok(SecretSlice::from(secret.as_bytes().to_vec()))
        }
        None if production => Err(ConfigError(
            "TASKFLOW_JWT_SECRET is required in production".into(),
        )),
        // 32 bytes straight from the operating system's CSPRNG. Never from the id generator:
        // its ids are shown to clients and predictable from one another (see
        // `taskflow_core::domain::ids`).
        None => Ok(SecretSlice::from(random_bytes::<32>().to_vec())),
    }
}

/// `TASKFLOW_METRICS_TOKEN`: held to the JWT secret's rules in production, where it is all
/// that guards `/metrics`; any non-empty token in development.
fn metrics_token(
    value: Option<&str>,
    production: bool,
) -> Result<Option<SecretString>, ConfigError> {
    value
        .map(|token| {
            let token = token.trim();
            if production {
                check_secret("TASKFLOW_METRICS_TOKEN", token)?;
            }
            Ok(SecretString::from(token.to_owned()))
        })
        .transpose()
}

/// The production rules for the origins and the proxies, each naming its variable.
fn production_rules(origins: &AllowedOrigins, proxies: &TrustedProxies) -> Result<(), ConfigError> {
    if let Some(plain) = origins.iter().find(|o| o.starts_with("http://")) {
        return Err(ConfigError(format!(
            "TASKFLOW_ALLOWED_ORIGINS: the plain-http origin {plain} is refused in production \
             (anyone on the network can rewrite such a page and call the API with the user's \
             cookies); use https://"
        )));
    }
    if proxies.covers_every_address() {
        return Err(ConfigError(
            "TASKFLOW_TRUSTED_PROXIES trusts every address (0.0.0.0/0, ::/0 or ranges adding \
             up to one) and is refused in production: every client's X-Forwarded-For and \
             X-Forwarded-Proto would be believed; list only the proxies' own addresses"
                .into(),
        ));
    }
    Ok(())
}

/// The error-tracking DSN, checked here so that a typo stops the start rather than silently
/// reporting nothing; never echoed.
fn sentry_dsn(value: Option<&str>) -> Result<Option<SecretString>, ConfigError> {
    value
        .map(|dsn| {
            check_sentry_dsn(dsn)?;
            Ok(SecretString::from(dsn.trim().to_owned()))
        })
        .transpose()
}

#[cfg(feature = "sentry")]
fn check_sentry_dsn(dsn: &str) -> Result<(), ConfigError> {
    crate::error_tracking::parse_dsn(dsn)
        .map(drop)
        .map_err(|e| ConfigError(e.to_string()))
}

#[cfg(not(feature = "sentry"))]
fn check_sentry_dsn(_: &str) -> Result<(), ConfigError> {
    Err(ConfigError(
        "TASKFLOW_SENTRY_DSN is set but this build lacks the `sentry` feature \
         (build with `--features taskflow/sentry`)"
            .into(),
    ))
}

impl Config {
    /// The application this configuration describes, over `stores`, as a builder (for the
    /// clock or keys of a test, say): every setting of the environment mapped onto
    /// [`AppBuilder`], and the production profile's HSTS, HTTPS rule and `/metrics` guard.
    pub fn app_builder(&self, stores: Stores) -> AppBuilder {
        let production = self.profile == Profile::Production;
        let mut sessions = SessionPolicy::default();
        sessions.absolute_ttl = self.refresh_ttl;
        sessions.reuse_grace = self.refresh_reuse_grace;
        let mut guard = self.guard.clone();
        guard.require_forwarded_https = production;
        let metrics = match (&self.metrics_token, production) {
            (Some(token), _) => MetricsAccess::Bearer(token.clone()),
            (None, true) => MetricsAccess::Hidden,
            (None, false) => MetricsAccess::Open,
        };
        App::builder(stores)
            .secret(self.jwt_secret.clone())
            .access_ttl(self.access_ttl)
            .session_policy(sessions)
            .session_cache(self.session_cache)
            .cookie_secure(self.cookie_secure)
            .hsts(production)
            .body_limit(self.body_limit)
            .trusted_proxies(self.trusted_proxies.clone())
            .allowed_origins(self.allowed_origins.clone())
            .rate_limits(self.rate_limits)
            .metrics_access(metrics)
            .guard(guard)
            .extension(self.transport.clone())
    }

    /// The application this configuration describes, over `stores`.
    ///
    /// # Errors
    /// [`ConfigError`] when the application cannot be built (its keys, say).
    pub fn app(&self, stores: Stores) -> Result<App, ConfigError> {
        self.app_with(stores, Arc::new(SystemClock), None)
    }

    /// Like [`app`](Self::app) with the clock and, optionally, the JWT key set replaced (for
    /// tests that move time, and deployments rotating keys).
    ///
    /// # Errors
    /// [`ConfigError`] when the application cannot be built (its keys, say).
    pub fn app_with(
        &self,
        stores: Stores,
        clock: Arc<dyn Clock>,
        jwt_keys: Option<KeySet>,
    ) -> Result<App, ConfigError> {
        let mut builder = self.app_builder(stores).clock(clock);
        if let Some(keys) = jwt_keys {
            builder = builder.jwt_keys(keys);
        }
        builder.build().map_err(|e| ConfigError(e.to_string()))
    }

    /// The JWT secret bytes (for building keys only).
    pub fn jwt_secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const STRONG: &str = "0123456789abcdef0123456789abcdef-strong";

    #[test]
    fn defaults_in_development() {
        let config = Config::from_map(&HashMap::new()).unwrap();
        assert_eq!(config.profile, Profile::Development);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert!(config.cookie_secure);
        assert_eq!(config.access_ttl, Duration::from_secs(900));
        assert_eq!(config.body_limit, 65_536);
        assert_eq!(config.jwt_secret_bytes().len(), 32);
        assert!(config.mongodb_uri.is_none());
    }

    #[test]
    fn production_refuses_weak_settings() {
        let prod = |extra: &[(&str, &str)]| {
            let mut all = vec![("TASKFLOW_PROFILE", "production")];
            all.extend_from_slice(extra);
            Config::from_map(&vars(&all))
        };
        assert!(
            prod(&[])
                .unwrap_err()
                .to_string()
                .contains("TASKFLOW_JWT_SECRET is required")
        );
        assert!(prod(&[("TASKFLOW_JWT_SECRET", "short")]).is_err());
        assert!(prod(&[("TASKFLOW_JWT_SECRET", "changeme-changeme-changeme-changeme")]).is_err());
        let insecure = prod(&[
            ("TASKFLOW_JWT_SECRET", STRONG),
            ("TASKFLOW_COOKIE_SECURE", "false"),
        ]);
        assert!(
            insecure
                .unwrap_err()
                .to_string()
                .contains("TASKFLOW_COOKIE_SECURE")
        );
        let wildcard = prod(&[
            ("TASKFLOW_JWT_SECRET", STRONG),
            ("TASKFLOW_ALLOWED_ORIGINS", "*"),
        ]);
        assert!(
            wildcard
                .unwrap_err()
                .to_string()
                .contains("TASKFLOW_ALLOWED_ORIGINS")
        );
        let plain = prod(&[("TASKFLOW_JWT_SECRET", STRONG)])
            .unwrap_err()
            .to_string();
        assert!(
            plain.contains("TASKFLOW_TLS_CERT") && plain.contains("TASKFLOW_TRUSTED_PROXIES"),
            "{plain}"
        );
        let behind_proxy = prod(&[
            ("TASKFLOW_JWT_SECRET", STRONG),
            ("TASKFLOW_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .unwrap();
        assert!(behind_proxy.transport.tls.is_none());
    }

    #[test]
    fn transport_defaults_and_overrides() {
        let config = Config::from_map(&HashMap::new()).unwrap();
        let (defaults, guard) = (config.transport, config.guard);
        assert_eq!(defaults.header_read_timeout, Duration::from_secs(10));
        assert_eq!(defaults.body_read_timeout, Duration::from_secs(10));
        assert_eq!(defaults.max_connections_per_ip, 256);
        assert_eq!(defaults.keep_alive_timeout, Duration::from_secs(75));
        assert_eq!(defaults.max_requests_per_connection.get(), 1000);
        assert_eq!(guard.max_concurrent_requests, 1024);
        assert_eq!(guard.request_timeout, Duration::from_secs(30));
        assert_eq!(defaults.drain_timeout, Duration::from_secs(30));
        assert!(defaults.tls.is_none());
        let set = Config::from_map(&vars(&[
            ("TASKFLOW_REQUEST_TIMEOUT_SECS", "5"),
            ("TASKFLOW_MAX_CONCURRENT_REQUESTS", "8"),
            ("TASKFLOW_MAX_REQUESTS_PER_CONNECTION", "2"),
            ("TASKFLOW_BODY_READ_TIMEOUT_SECS", "3"),
            ("TASKFLOW_MAX_CONNECTIONS_PER_IP", "16"),
        ]))
        .unwrap();
        assert_eq!(set.guard.request_timeout, Duration::from_secs(5));
        assert_eq!(set.guard.max_concurrent_requests, 8);
        let set = set.transport;
        assert_eq!(set.max_requests_per_connection.get(), 2);
        assert_eq!(set.body_read_timeout, Duration::from_secs(3));
        assert_eq!(set.max_connections_per_ip, 16);
        for name in [
            "TASKFLOW_BODY_READ_TIMEOUT_SECS",
            "TASKFLOW_MAX_CONNECTIONS_PER_IP",
            "TASKFLOW_REQUEST_TIMEOUT_SECS",
            "TASKFLOW_MAX_CONCURRENT_REQUESTS",
            "TASKFLOW_MAX_REQUESTS_PER_CONNECTION",
            "TASKFLOW_DRAIN_TIMEOUT_SECS",
        ] {
            let err = Config::from_map(&vars(&[(name, "0")])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    /// A DSN whose key must stay secret (only the `sentry` build accepts one).
    const DSN: &str = "https://dsnkey4242@o1.ingest.example.com/42";

    /// A metrics token that must stay secret.
    const METRICS_TOKEN: &str = "scrape-token-Vq8L2mX9pR4tN7wK3jH6cF1dS5gBzY0";

    fn with_secrets() -> Config {
        let mut all = vec![
            ("TASKFLOW_JWT_SECRET", STRONG),
            ("TASKFLOW_MONGODB_URI", "mongodb://user:hunter2@db/"),
            ("TASKFLOW_METRICS_TOKEN", METRICS_TOKEN),
        ];
        if cfg!(feature = "sentry") {
            all.push(("TASKFLOW_SENTRY_DSN", DSN));
        }
        Config::from_map(&vars(&all)).unwrap()
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let config = with_secrets();
        assert!(config.mongodb_uri.is_some() && config.metrics_token.is_some());
        assert_eq!(config.sentry_dsn.is_some(), cfg!(feature = "sentry"));
        let app = config.app(Stores::memory()).unwrap();
        for debug in [
            format!("{config:?}"),
            format!("{config:#?}"),
            format!("{app:?}"),
        ] {
            for secret in [
                "strong",
                "0123456789abcdef",
                "hunter2",
                "dsnkey4242",
                "Vq8L2mX9pR4tN7wK3jH6cF1dS5gBzY0",
            ] {
                assert!(!debug.contains(secret), "{secret} in {debug}");
            }
        }
    }

    /// The production profile behind a proxy, with `extra`.
    fn production(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut all = vec![
            ("TASKFLOW_PROFILE", "production"),
            ("TASKFLOW_JWT_SECRET", STRONG),
            ("TASKFLOW_TRUSTED_PROXIES", "10.0.0.0/8"),
        ];
        all.extend_from_slice(extra);
        Config::from_map(&vars(&all))
    }

    /// The one-line message of a refused configuration, asserted to name `variable`.
    fn refusal(result: Result<Config, ConfigError>, variable: &str) -> String {
        let message = result.expect_err("refused").to_string();
        assert!(message.contains(variable), "{message}");
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn production_refuses_proxies_that_cover_every_address() {
        assert!(production(&[]).is_ok());
        for all in [
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/8,::/0",
            "0.0.0.0/1, 128.0.0.0/1",
        ] {
            refusal(
                production(&[("TASKFLOW_TRUSTED_PROXIES", all)]),
                "TASKFLOW_TRUSTED_PROXIES",
            );
        }
        // Development may trust anything (a local proxy experiment, say).
        let development = vars(&[("TASKFLOW_TRUSTED_PROXIES", "0.0.0.0/0")]);
        assert!(Config::from_map(&development).is_ok());
    }

    #[test]
    fn production_refuses_plain_http_origins() {
        let mixed = "https://app.example.com, http://app.example.com";
        let message = refusal(
            production(&[("TASKFLOW_ALLOWED_ORIGINS", mixed)]),
            "TASKFLOW_ALLOWED_ORIGINS",
        );
        assert!(message.contains("http://app.example.com"), "{message}");
        refusal(
            production(&[("TASKFLOW_ALLOWED_ORIGINS", "HTTP://localhost:5173")]),
            "TASKFLOW_ALLOWED_ORIGINS",
        );
        let https = "https://app.example.com,https://admin.example.com:8443";
        assert!(production(&[("TASKFLOW_ALLOWED_ORIGINS", https)]).is_ok());
        let development = vars(&[("TASKFLOW_ALLOWED_ORIGINS", "http://localhost:5173")]);
        assert!(Config::from_map(&development).is_ok());
    }

    /// Secrets of 32 bytes or more that are guessable from their shape.
    const GUESSABLE: [&str; 6] = [
        "hunter2hunter2hunter2hunter2hunter2",
        "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhunter2",
        "h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2h2",
        "0123456789abcdef0123456789abcdef",
        "abcabcabcabcabcabcabcabcabcabcabc",
        "hunter2 hunter2 hunter2 hunter2 hunter2 hun",
    ];

    #[test]
    fn guessable_jwt_secrets_are_refused_in_every_profile() {
        for secret in GUESSABLE
            .into_iter()
            .chain(["x".repeat(32).as_str(), &"ab".repeat(40)])
        {
            let secret = secret.to_owned();
            let message = refusal(
                production(&[("TASKFLOW_JWT_SECRET", &secret)]),
                "TASKFLOW_JWT_SECRET",
            );
            assert!(!message.contains(&secret), "{message}");
            let development = vars(&[("TASKFLOW_JWT_SECRET", &secret)]);
            refusal(Config::from_map(&development), "TASKFLOW_JWT_SECRET");
        }
        // Random secrets of every usual encoding pass.
        for random in [
            STRONG,
            "Zq2vN4xR7pL1mW9tY3bH6cF0dS5gJeQk8",
            "3f9a1c7e5b2d8046af13c9e7b5d20864",
            "kP3+vX9/qL2mW8tY4bH7cF1dS6gJ0eRz5nA2uI8oE3w=",
        ] {
            assert!(
                production(&[("TASKFLOW_JWT_SECRET", random)]).is_ok(),
                "{random}"
            );
        }
    }

    #[test]
    fn the_metrics_token_is_held_to_the_secret_rules_in_production() {
        let config = production(&[("TASKFLOW_METRICS_TOKEN", METRICS_TOKEN)]).unwrap();
        assert!(config.metrics_token.is_some());
        for weak in ["short-token", GUESSABLE[0], GUESSABLE[3]] {
            let message = refusal(
                production(&[("TASKFLOW_METRICS_TOKEN", weak)]),
                "TASKFLOW_METRICS_TOKEN",
            );
            assert!(!message.contains(weak), "{message}");
        }
        // In development the token is optional, so any non-empty one will do.
        let development = Config::from_map(&vars(&[("TASKFLOW_METRICS_TOKEN", "dev")])).unwrap();
        assert!(development.metrics_token.is_some());
        assert!(
            production(&[("TASKFLOW_METRICS_TOKEN", "")])
                .unwrap()
                .metrics_token
                .is_none()
        );
    }

    #[test]
    fn metrics_are_open_hidden_or_guarded_by_profile_and_token() {
        let access = |config: Config| {
            let app = config.app(Stores::memory()).unwrap();
            app.settings().metrics.clone()
        };
        assert!(matches!(
            access(Config::from_map(&HashMap::new()).unwrap()),
            MetricsAccess::Open
        ));
        assert!(matches!(
            access(production(&[]).unwrap()),
            MetricsAccess::Hidden
        ));
        let guarded = production(&[("TASKFLOW_METRICS_TOKEN", METRICS_TOKEN)]).unwrap();
        assert!(matches!(access(guarded), MetricsAccess::Bearer(_)));
        let development = vars(&[("TASKFLOW_METRICS_TOKEN", "dev")]);
        let guarded = Config::from_map(&development).unwrap();
        assert!(matches!(access(guarded), MetricsAccess::Bearer(_)));
    }

    #[test]
    fn refused_secrets_are_never_echoed() {
        let cases = [
            ("TASKFLOW_JWT_SECRET", "short-hunter2"),
            ("TASKFLOW_JWT_SECRET", "changeme-hunter2-changeme-hunter2-x"),
            ("TASKFLOW_SENTRY_DSN", "not-a-dsn-hunter2"),
        ];
        for (name, value) in cases {
            let err = Config::from_map(&vars(&[(name, value)])).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(name), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn a_sentry_dsn_needs_the_sentry_feature() {
        let result = Config::from_map(&vars(&[("TASKFLOW_SENTRY_DSN", DSN)]));
        if cfg!(feature = "sentry") {
            assert!(result.unwrap().sentry_dsn.is_some());
        } else {
            let message = result.unwrap_err().to_string();
            assert!(message.contains("`sentry` feature"), "{message}");
            assert!(!message.contains("dsnkey4242"), "{message}");
        }
        let empty = Config::from_map(&vars(&[("TASKFLOW_SENTRY_DSN", "")])).unwrap();
        assert!(empty.sentry_dsn.is_none());
    }

    const DEVELOPMENT_EXAMPLE: &str = include_str!("../../.env.example");
    const PRODUCTION_EXAMPLE: &str = include_str!("../../.env.production.example");

    fn example(text: &str) -> HashMap<String, String> {
        dotenvy::from_read_iter(text.as_bytes())
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn the_readme_documents_every_variable() {
        let readme = include_str!("../../README.md");
        for name in VARIABLES {
            assert!(
                readme.contains(&format!("`{name}`")),
                "{name} missing from README.md"
            );
        }
    }

    #[test]
    fn the_example_env_files_are_valid_and_complete() {
        let development = example(DEVELOPMENT_EXAMPLE);
        assert!(Config::from_map(&development).is_ok());
        let mut production = example(PRODUCTION_EXAMPLE);
        for name in [
            "TASKFLOW_PROFILE",
            "TASKFLOW_BIND",
            "TASKFLOW_ALLOWED_ORIGINS",
            "TASKFLOW_BODY_LIMIT_BYTES",
            "TASKFLOW_SENTRY_DSN",
        ] {
            assert!(
                development.contains_key(name) && production.contains_key(name),
                "{name}"
            );
        }
        // Every variable is documented in both, set or commented out.
        for name in VARIABLES {
            let listed = |text: &str| {
                text.lines().any(|line| {
                    line.trim_start_matches(['#', ' '])
                        .starts_with(&format!("{name}="))
                })
            };
            assert!(
                listed(DEVELOPMENT_EXAMPLE) && listed(PRODUCTION_EXAMPLE),
                "{name} missing from an example .env"
            );
        }
        // The production example is refused until a real secret is filled in.
        assert!(Config::from_map(&production).is_err());
        production.insert(
            "TASKFLOW_JWT_SECRET".into(),
            "Zq2vN4xR7pL1mW9tY3bH6cF0dS5gJeQk8".into(),
        );
        let config = Config::from_map(&production).unwrap();
        assert_eq!(config.profile, Profile::Production);
    }

    #[test]
    fn the_refresh_reuse_grace_defaults_to_10_s_and_stays_within_60() {
        let grace = |value: &str| {
            Config::from_map(&vars(&[("TASKFLOW_REFRESH_REUSE_GRACE_SECS", value)]))
                .map(|c| c.refresh_reuse_grace)
        };
        let default = Config::from_map(&HashMap::new()).unwrap();
        assert_eq!(default.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(grace("0").unwrap(), Duration::ZERO);
        assert_eq!(grace("60").unwrap(), Duration::from_secs(60));
        for refused in ["61", "-1", "ten", "3600"] {
            let err = grace(refused).unwrap_err().to_string();
            assert!(err.contains("TASKFLOW_REFRESH_REUSE_GRACE_SECS"), "{err}");
        }
    }

    #[test]
    fn the_session_cache_defaults_to_1000_ms_and_stays_within_it() {
        let cache = |value: &str| {
            Config::from_map(&vars(&[("TASKFLOW_SESSION_CACHE_MS", value)]))
                .map(|c| c.session_cache.ttl())
        };
        let default = Config::from_map(&HashMap::new()).unwrap();
        assert_eq!(default.session_cache.ttl(), Duration::from_secs(1));
        assert_eq!(cache("0").unwrap(), Duration::ZERO);
        assert_eq!(cache("250").unwrap(), Duration::from_millis(250));
        assert_eq!(cache("1000").unwrap(), Duration::from_secs(1));
        for refused in ["1001", "60000", "-1", "1s", "0.5"] {
            let err = cache(refused).unwrap_err().to_string();
            assert!(err.contains("TASKFLOW_SESSION_CACHE_MS"), "{err}");
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = Config::from_map(&vars(&[("TASKFLOW_BODY_LIMIT_BYTES", "lots")])).unwrap_err();
        assert!(
            err.to_string().contains("TASKFLOW_BODY_LIMIT_BYTES"),
            "{err}"
        );
        let err = Config::from_map(&vars(&[("TASKFLOW_API_RATE_PER_MIN", "0")])).unwrap_err();
        assert!(
            err.to_string().contains("TASKFLOW_API_RATE_PER_MIN"),
            "{err}"
        );
    }
}
