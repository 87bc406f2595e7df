//! Authentication and abuse controls, framework-agnostic: passwords, access tokens, refresh
//! sessions, CSRF tokens, rate limits (keyed by client networks) and login throttling. The
//! HTTP layer reads requests (cookies, headers, the client's address behind proxies, origins)
//! and calls these.

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

pub use client_net::ClientNet;
pub use csrf::{CsrfError, CsrfTokens};
pub use gcra::{Gcra, GcraUpdate, RateLimitKey};
pub use input::{Credentials, Registration};
pub use jwt::{
    AccessClaims, AccessTokenConfig, AccessTokens, IssuedAccessToken, JwtAlgorithm, JwtKey,
    KeyError, KeySet, TokenError,
};
pub use password::{
    Argon2Params, Password, PasswordConfigError, PasswordError, PasswordHashError, PasswordHasher,
    Verification,
};
pub use rate_limit::{RateDecision, RateLimitConfig, RateLimited, RateLimits};
