//! Authentication and abuse controls, framework-agnostic: passwords, access tokens, refresh
//! sessions, CSRF, client IPs, rate limits and login throttling. The HTTP adapters only wire
//! these to requests and responses.

pub mod client_ip;
pub mod csrf;
// pub mod input;
pub mod rate_limit;
pub mod refresh;
pub mod session;
pub mod throttle;

pub use client_ip::{TrustedProxies, TrustedProxyError};
pub use csrf::{AllowedOrigins, CsrfError, CsrfGuard, CsrfTokens, OriginError, is_unsafe_method};
pub use rate_limit::{RateDecision, RateLimitConfig, RateLimited, RateLimits};
