//! Application services: the use cases the inbound adapters call, one module per family.

pub mod auth;
pub mod limits;
pub mod tasks;

pub use auth::{AuthError, AuthService, AuthStores, IssuedSession, Principal};
pub use limits::AuthRateLimits;
pub use tasks::{TaskError, TaskService};
