//! Authentication and abuse controls, framework-agnostic: passwords, access tokens, refresh
//! sessions, CSRF, client IPs, rate limits and login throttling. The HTTP adapters only wire
//! these to requests and responses.

pub mod refresh;
pub mod session;
pub mod throttle;
// pub mod input;
