//! Authentication and abuse controls, framework-agnostic: passwords, access tokens, refresh
//! sessions, CSRF, client IPs, rate limits and login throttling. The HTTP adapters only wire
//! these to requests and responses.

pub mod client_ip;
pub mod client_net;
pub mod csrf;
pub mod gcra;
pub mod input;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod refresh;
pub mod session;
pub mod session_cache;
pub mod throttle;

pub use client_ip::{TrustedProxies, TrustedProxyError};
pub use client_net::ClientNet;
pub use csrf::{AllowedOrigins, CsrfError, CsrfGuard, CsrfTokens, OriginError, is_unsafe_method};
pub use gcra::{Gcra, GcraUpdate, RateLimitKey};
pub use jwt::{
    AccessClaims, AccessTokenConfig, AccessTokens, IssuedAccessToken, JwtAlgorithm, JwtKey,
    KeyError, KeySet, TokenError,
};
pub use password::{
    Argon2Params, Password, PasswordConfigError, PasswordError, PasswordHashError, PasswordHasher,
    Verification,
};
pub use rate_limit::{AuthRateLimits, RateDecision, RateLimitConfig, RateLimited, RateLimits};
