//! The shared connection server, through both adapters: TLS, slow and idle connections,
//! the per-connection request cap, slowly sent bodies, load shedding, request timeouts,
//! panics, graceful shutdown and HTTPS behind a proxy.

mod gate;
mod limits;
mod proxy;
mod shutdown;
mod slow_body;
mod tls;
