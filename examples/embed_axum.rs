//! TaskFlow embedded in a host axum service: the host has its own state, its own routes (`/`,
//! `/about`) and its own fallback, and nests TaskFlow, with TaskFlow's own authentication
//! (register, login, cookies or bearer tokens), under `/tasks-app`, behind TaskFlow's guard
//! layers. The API is then at `/tasks-app/api/v1/...`, its refresh cookie is sent only to
//! `/tasks-app/api/v1/auth`, and a new task's `Location` is `/tasks-app/api/v1/tasks/{id}`.
//!
//! `cargo run --example embed_axum` (listens on 127.0.0.1:3000, or `EMBED_BIND`), then:
//!
//! ```text
//! curl localhost:3000/about
//! curl -i localhost:3000/tasks-app/api/v1/auth/register -H 'content-type: application/json' \
//!     -d '{"email": "ada@example.com", "password": "correct horse battery"}'
//! ```
//!
//! The host state, routes and TaskFlow app are built by functions that `tests/embed` shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use taskflow::http::{App, BuildError, Stores, layers};

/// Where the host mounts TaskFlow.
pub(crate) const PREFIX: &str = "/tasks-app";

/// The host's own state: TaskFlow's router works with any.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostState {
    /// Requests to the host's home page.
    pub(crate) visits: Arc<AtomicU64>,
}

/// The TaskFlow app the host mounts: the in-memory store, told where it is mounted so its
/// cookie paths, `Location` headers and OpenAPI document say so.
///
/// # Errors
/// [`BuildError`] (none with these settings).
pub(crate) fn taskflow_app() -> Result<App, BuildError> {
    App::builder(Stores::memory())
        // One process, nothing to share: a deployment sets the same secret on every instance.
        .ephemeral_secret()
        .mount_prefix(PREFIX)
        // Plain http on localhost; leave the default (secure cookies) behind HTTPS.
        .cookie_secure(false)
        .build()
}

/// The host's router: its routes, TaskFlow under [`PREFIX`] with the guard (load shedding,
/// request timeout, panics as 500, handlers run to completion, compression), its fallback.
pub(crate) fn host(app: &App) -> Router {
    let tasks = taskflow::axum::router(app.clone()).layer(layers::guard(app));
    Router::new()
        .route("/", get(home))
        .route("/about", get(about))
        .nest(PREFIX, tasks)
        .fallback(not_found)
        .with_state(HostState::default())
}

async fn home(State(state): State<HostState>) -> String {
    let visits = state.visits.fetch_add(1, Ordering::Relaxed) + 1;
    format!("The host's home page (visit {visits}). The task API is under {PREFIX}/api/v1.\n")
}

async fn about() -> &'static str {
    "A host service that embeds TaskFlow.\n"
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "The host has no such page.\n")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("EMBED_BIND").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let app = taskflow_app()?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    eprintln!("embed_axum: listening on http://{}", listener.local_addr()?);
    // The peer address reaches TaskFlow (rate limits per client address) as `ConnectInfo`.
    let service = host(&app).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    app.close().await;
    Ok(())
}
