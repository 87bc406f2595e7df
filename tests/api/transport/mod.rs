//! The shared connection server, through both adapters: TLS, slow and idle connections,
//! the per-connection request cap, slowly sent bodies, load shedding, request timeouts,
//! panics, graceful shutdown and HTTPS behind a proxy.
//!
//! Most of these speak to one server's own connections, so they run on one instance in every
//! topology ([`SingleInstance`](crate::helpers::SingleInstance) says why, test by test); the
//! TLS and shutdown tests serve their own listener (`serve_until`), one instance by
//! construction.

mod gate;
mod limits;
mod proxy;
mod shutdown;
mod slow_body;
mod tls;
